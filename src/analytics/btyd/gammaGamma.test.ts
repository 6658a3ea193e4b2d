import { describe, expect, it } from 'vitest';
import { describeWithData, shippedData } from '../../../test/support/externalData.js';
import {
  fitGammaGamma,
  gammaGammaExpectedSpend,
  gammaGammaIndividualLogLikelihood,
  gammaGammaLogLikelihood,
  prepareGammaGamma,
} from './gammaGamma.js';
import { readNumericCsv } from '../../../test/support/cdnow.js';

const describeCdnow = describeWithData(shippedData('cdnow/cdnow_customers_summary_with_monetary.csv'));

// Published CDNOW estimates: Fader, Hardie & Lee (2005b) / note 025, 946 repeat buyers:
// p = 6.25, q = 3.74, v = 15.44.
describeCdnow('Gamma-Gamma on CDNOW (golden)', () => {
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
  it('prepares the same statistics whether rows are kept in place, copied, weighted or non-integer', () => {
    // 200 rows so both the warm-up rows and the rest are exercised; every third a non-buyer.
    const n = 200;
    const x = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1 + (i % 7)));
    const m = Float64Array.from({ length: n }, (_, i) => (x[i]! > 0 ? 5 + ((i * 37) % 50) / 3 : 0));
    const keep = [...x.keys()].filter((i) => x[i]! > 0);
    const xr = Float64Array.from(keep, (i) => x[i]!);
    const mr = Float64Array.from(keep, (i) => m[i]!);
    const mixed = prepareGammaGamma(x, m);
    const inPlace = prepareGammaGamma(xr.slice(), mr.slice());
    const P = [4, 3, 12];
    const ll = gammaGammaLogLikelihood(P, mixed).ll;
    expect(mixed.totalWeight).toBe(keep.length);
    expect(inPlace.totalWeight).toBe(keep.length);
    expect(gammaGammaLogLikelihood(P, inPlace).ll).toBeCloseTo(ll, 9);
    expect([...mixed.xValues]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Weight 2 on every row counts each twice.
    const twice = prepareGammaGamma(xr.slice(), mr.slice(), new Float64Array(keep.length).fill(2));
    expect(gammaGammaLogLikelihood(P, twice).ll).toBeCloseTo(2 * ll, 8);
    // A non-integer x late in the data switches to grouping by value; the sums agree with the brute force.
    const xf = xr.slice();
    xf[100] = 2.5;
    const frac = prepareGammaGamma(xf, mr.slice());
    let brute = 0;
    for (let i = 0; i < xf.length; i++)
      brute += gammaGammaIndividualLogLikelihood({ p: 4, q: 3, v: 12 }, xf[i]!, mr[i]!);
    expect(gammaGammaLogLikelihood(P, frac).ll).toBeCloseTo(brute, 8);
    expect(frac.xValues).toContain(2.5);
    // Statistics summed by a reader: no pass of its own, the same likelihood.
    const countAtX = new Float64Array(16);
    let sumLogM = 0;
    let sumXLogM = 0;
    xr.forEach((xi, i) => {
      countAtX[xi]!++;
      sumLogM += Math.log(mr[i]!);
      sumXLogM += xi * Math.log(mr[i]!);
    });
    const known = prepareGammaGamma(xr, mr, undefined, { sumLogM, sumXLogM, countAtX });
    expect(known.weight).toBeNull();
    expect(gammaGammaLogLikelihood(P, known).ll).toBeCloseTo(ll, 9);
  });
  it('rejects a repeat buyer with non-positive spend', () => {
    expect(() => prepareGammaGamma(Float64Array.of(1, 2), Float64Array.of(10, 0))).toThrow(/monetary value/);
  });
});
