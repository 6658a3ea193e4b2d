import { describe, expect, it } from 'vitest';
import { fitBgNbd } from './bgnbd.js';
import { fitGammaGamma, prepareGammaGamma } from './gammaGamma.js';
import { Rng, simulateBgNbdGammaGamma } from './simulate.js';
import { compressRf } from './summary.js';

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
