import { describe, expect, it } from 'vitest';
import {
  fitGammaGamma,
  gammaGammaExpectedSpend,
  gammaGammaIndividualLogLikelihood,
  gammaGammaLogLikelihood,
  prepareGammaGamma,
} from './gammaGamma.js';
import { haveCdnow, readNumericCsv } from './testData.js';

// Published CDNOW estimates: Fader, Hardie & Lee (2005b) / note 025, 946 repeat buyers:
// p = 6.25, q = 3.74, v = 15.44.
describe.skipIf(!haveCdnow)('Gamma-Gamma on CDNOW (golden)', () => {
  const cd = readNumericCsv('cdnow_customers_summary_with_monetary.csv');
  const data = prepareGammaGamma(cd.frequency!, cd.monetary_value!);
  const fit = fitGammaGamma(data);

  it('reproduces the published parameters on the 946 repeat buyers', () => {
    // Published to 2 decimals but truncated: the exact MLE (cross-checked with SciPy Nelder–Mead on the
    // same file: p = 6.24880, q = 3.74459, v = 15.44774, LL = −4055.9232) rounds to v = 15.45, so 0.01.
    expect(fit.customers).toBe(946);
    expect(Math.abs(fit.params.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.q - 3.74)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.v - 15.44)).toBeLessThan(0.01);
    expect(Math.abs(fit.logLikelihood - -4055.9232)).toBeLessThan(1e-3);
    expect(fit.converged).toBe(true);
    expect(fit.standardErrors).not.toBeNull();
  });

  it('analytic gradient and Hessian agree with the sum of individual log-likelihoods', () => {
    const P = [5, 3, 14];
    const ev = gammaGammaLogLikelihood(P, data);
    let s = 0;
    for (let i = 0; i < data.frequency.length; i++)
      s += gammaGammaIndividualLogLikelihood(
        { p: 5, q: 3, v: 14 },
        data.frequency[i]!,
        data.monetaryValue[i]!,
      );
    expect(ev.ll).toBeCloseTo(s, 6);
    for (let j = 0; j < 3; j++) {
      const h = 1e-5 * P[j]!;
      const up = [...P];
      const dn = [...P];
      up[j]! += h;
      dn[j]! -= h;
      const a = gammaGammaLogLikelihood(up, data);
      const b = gammaGammaLogLikelihood(dn, data);
      // Central differences: O(h²) truncation, ~1e-7 relative here.
      expect(Math.abs((a.ll - b.ll) / (2 * h) - ev.grad[j]!)).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(ev.grad[j]!)),
      );
      for (let i = 0; i < 3; i++)
        expect(Math.abs((a.grad[i]! - b.grad[i]!) / (2 * h) - ev.hess[i]![j]!)).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(ev.hess[i]![j]!)),
        );
    }
  });

  it('shrinks expected spend towards the population mean (note 025 eq. 5)', () => {
    const mean = (fit.params.p * fit.params.v) / (fit.params.q - 1);
    expect(gammaGammaExpectedSpend(fit.params, 0, 0)).toBeCloseTo(mean, 10);
    const one = gammaGammaExpectedSpend(fit.params, 1, 100);
    const many = gammaGammaExpectedSpend(fit.params, 50, 100);
    expect(one).toBeGreaterThan(mean);
    expect(many).toBeGreaterThan(one);
    expect(many).toBeLessThan(100);
  });
});

describe('Gamma-Gamma numerical stability', () => {
  it('is finite for x = 200, tiny and huge spends', () => {
    const p = { p: 6.25, q: 3.74, v: 15.44 };
    for (const [x, m] of [
      [200, 35],
      [1, 1e-6],
      [1, 1e9],
      [1e4, 12],
    ] as const) {
      expect(Number.isFinite(gammaGammaIndividualLogLikelihood(p, x, m))).toBe(true);
      expect(Number.isFinite(gammaGammaExpectedSpend(p, x, m))).toBe(true);
    }
  });
  it('rejects a repeat buyer with non-positive spend', () => {
    expect(() => prepareGammaGamma(Float64Array.of(1, 2), Float64Array.of(10, 0))).toThrow(/monetary value/);
  });
});
