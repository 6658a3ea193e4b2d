import { describe, expect, it } from 'vitest';
import { bgNbdLogLikelihood, bgNbdLogLikelihoodHessian, fitBgNbd } from './bgnbd.js';
import { fitGammaGamma, prepareGammaGamma } from './gammaGamma.js';
import { Rng, simulateBgNbdGammaGamma } from './simulate.js';
import { fitMaximumLikelihood } from './model.js';
import { compressRf, indexRf } from './summary.js';

describe('Rng', () => {
  it('is deterministic and has the right gamma / beta moments', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    expect([a.uniform(), a.uniform()]).toEqual([b.uniform(), b.uniform()]);
    const rng = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const g = rng.gamma(0.3, 2);
      s += g;
      s2 += g * g;
    }
    // Gamma(0.3, rate 2): mean 0.15, variance 0.075; 200k draws → SE of the mean ≈ 6e-4.
    expect(Math.abs(s / n - 0.15)).toBeLessThan(3e-3);
    expect(Math.abs(s2 / n - (s / n) ** 2 - 0.075)).toBeLessThan(5e-3);
  });
});

describe('simulateBgNbdGammaGamma → fit recovers the generating parameters', () => {
  const truth = { r: 0.243, alpha: 30.898, a: 0.793, b: 2.426, p: 6.25, q: 3.74, v: 15.44 };
  const sim = simulateBgNbdGammaGamma({
    customers: 200_000,
    seed: 42,
    acquisitionDays: 365,
    calibrationDay: 546,
    ...truth,
  });
  it('BG/NBD within 4 standard errors', () => {
    const fit = fitBgNbd(compressRf(sim.frequency, sim.recency, sim.T));
    // Day rounding and same-day merging add a small bias on top of sampling error; 4 SE covers both.
    for (const k of ['r', 'alpha', 'a', 'b'] as const)
      expect(Math.abs(fit.params[k] - truth[k])).toBeLessThan(4 * fit.standardErrors![k]);
  });
  it('Gamma-Gamma within 4 standard errors', () => {
    const fit = fitGammaGamma(prepareGammaGamma(sim.frequency, sim.monetaryValue));
    for (const k of ['p', 'q', 'v'] as const)
      expect(Math.abs(fit.params[k] - truth[k])).toBeLessThan(4 * fit.standardErrors![k]);
  });
});

describe('fast fitting paths agree with the reference paths on 300,000 simulated customers', () => {
  const sim = simulateBgNbdGammaGamma({
    customers: 300_000,
    seed: 7,
    acquisitionDays: 365,
    calibrationDay: 546,
    r: 0.243,
    alpha: 30.898,
    a: 0.793,
    b: 2.426,
    p: 6.25,
    q: 3.74,
    v: 15.44,
  });
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

  it('BG/NBD: analytic Hessian matches differences of the analytic gradient', () => {
    const idx = indexRf(compressRf(sim.frequency, sim.recency, sim.T));
    const P = [0.3, 25, 0.7, 2.1];
    const ev = bgNbdLogLikelihoodHessian(P, idx);
    const g = new Float64Array(4);
    expect(ev.ll).toBeCloseTo(bgNbdLogLikelihood(P, idx, g), 6);
    for (let i = 0; i < 4; i++) expect(rel(ev.grad[i]!, g[i]!)).toBeLessThan(1e-10);
    for (let j = 0; j < 4; j++) {
      const h = 1e-5 * P[j]!;
      const up = [...P];
      const dn = [...P];
      up[j]! += h;
      dn[j]! -= h;
      const gu = new Float64Array(4);
      const gd = new Float64Array(4);
      bgNbdLogLikelihood(up, idx, gu);
      bgNbdLogLikelihood(dn, idx, gd);
      for (let i = 0; i < 4; i++) {
        const fd = (gu[i]! - gd[i]!) / (2 * h);
        expect(Math.abs(fd - ev.hess[i * 4 + j]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('BG/NBD: warm-started Newton = cold Newton = L-BFGS optimum (≥ 5 significant digits)', () => {
    const data = compressRf(sim.frequency, sim.recency, sim.T);
    const idx = indexRf(data);
    expect(idx.rows).toBeGreaterThan(100_000); // large enough for the warm start
    const warm = fitBgNbd(data);
    const cold = fitBgNbd(data, { warmStart: false });
    const lbfgs = fitMaximumLikelihood({
      names: ['r', 'alpha', 'a', 'b'] as const,
      start: [1, 100, 1, 1],
      totalWeight: idx.totalWeight,
      logLikelihood: (p, grad) => bgNbdLogLikelihood(p, idx, grad),
      analyticGradient: true,
    });
    expect(warm.converged && cold.converged && lbfgs.converged).toBe(true);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      // L-BFGS stops at ‖∇‖∞ ≤ 1e-9 per customer, ~1e-6 relative in the parameters; Newton goes further.
      expect(rel(warm.params[k], lbfgs.params[k])).toBeLessThan(5e-6);
      expect(rel(warm.params[k], cold.params[k])).toBeLessThan(1e-8);
      expect(rel(warm.standardErrors![k], lbfgs.standardErrors![k])).toBeLessThan(1e-3);
    }
    expect(warm.logLikelihood).toBeGreaterThanOrEqual(lbfgs.logLikelihood - 1e-6);
  });

  it('Gamma-Gamma: warm-started fit = cold fit', () => {
    const data = prepareGammaGamma(sim.frequency, sim.monetaryValue);
    expect(data.frequency.length).toBeGreaterThan(100_000);
    const warm = fitGammaGamma(data);
    const cold = fitGammaGamma(data, { warmStart: false });
    expect(warm.converged && cold.converged).toBe(true);
    for (const k of ['p', 'q', 'v'] as const) expect(rel(warm.params[k], cold.params[k])).toBeLessThan(1e-8);
    expect(Math.abs(warm.logLikelihood - cold.logLikelihood)).toBeLessThan(1e-6);
  });
});
