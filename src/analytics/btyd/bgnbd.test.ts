import { describe, expect, it } from 'vitest';
import { describeWithData, shippedData } from '../../../test/support/externalData.js';
import {
  bgNbdConditionalExpectedPurchases,
  bgNbdExpectedPurchases,
  bgNbdIndividualLogLikelihood,
  bgNbdLogLikelihood,
  bgNbdProbabilityAlive,
  fitBgNbd,
  type BgNbdParams,
} from './bgnbd.js';
import { compressRf, indexRf } from './summary.js';
import { readNumericCsv } from '../../../test/support/cdnow.js';

const describeCdnow = describeWithData(shippedData('cdnow/cdnow_customers_summary.csv'));

// Published CDNOW estimates: Fader, Hardie & Lee (2005), §4 (2,357 customers, 39-week calibration):
// r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4; E[Y(39) | 2, 30.43, 38.86] = 1.226.
const published: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describeCdnow('BG/NBD on CDNOW (golden)', () => {
  const cd = readNumericCsv('cdnow_customers_summary.csv');
  const data = compressRf(cd.frequency!, cd.recency!, cd.T!);
  const fit = fitBgNbd(data);

  it('reproduces the published parameters and log-likelihood', () => {
    // Published values are rounded to 3 decimals (LL to 1): agree within half a unit of the last digit.
    expect(fit.customers).toBe(2357);
    expect(fit.params.r).toBeCloseTo(published.r, 3);
    expect(fit.params.alpha).toBeCloseTo(published.alpha, 3);
    expect(fit.params.a).toBeCloseTo(published.a, 3);
    expect(fit.params.b).toBeCloseTo(published.b, 3);
    expect(Math.abs(fit.logLikelihood - -9582.4)).toBeLessThan(0.05);
    expect(fit.converged).toBe(true);
    expect(fit.standardErrors).not.toBeNull();
  });

  it('gives E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 (FHL 2005 §5)', () => {
    // Rounded to 3 decimals in the paper; the fitted params differ from the rounded ones in the 4th digit.
    expect(Math.abs(bgNbdConditionalExpectedPurchases(fit.params, 39, 2, 30.43, 38.86) - 1.226)).toBeLessThan(
      5e-4,
    );
  });

  it('analytic gradient matches central differences', () => {
    const idx = indexRf(data);
    const p = [0.3, 5, 0.7, 2.1];
    const g = new Float64Array(4);
    bgNbdLogLikelihood(p, idx, g);
    for (let i = 0; i < 4; i++) {
      const h = 1e-4 * p[i]!;
      const up = [...p];
      const dn = [...p];
      up[i]! += h;
      dn[i]! -= h;
      const fd = (bgNbdLogLikelihood(up, idx) - bgNbdLogLikelihood(dn, idx)) / (2 * h);
      // Central differences on a sum of ~2e4 magnitude: relative agreement to 1e-6.
      expect(Math.abs(g[i]! - fd) / Math.max(1, Math.abs(fd))).toBeLessThan(1e-6);
    }
  });

  it('sums individual likelihoods like the compressed likelihood', () => {
    let s = 0;
    for (let i = 0; i < cd.frequency!.length; i++)
      s += bgNbdIndividualLogLikelihood(fit.params, cd.frequency![i]!, cd.recency![i]!, cd.T![i]!);
    expect(s).toBeCloseTo(fit.logLikelihood, 6);
  });
});

describe('BG/NBD numerical stability at extremes', () => {
  const p = published;
  const cases: [number, number, number][] = [
    [200, 38.85, 38.86], // x = 200 with t_x just below T
    [200, 38.86, 38.86],
    [0, 0, 38.86],
    [0, 0, 1e7], // huge T
    [5, 1e7 - 1, 1e7],
    [1000, 5, 5.0001],
  ];
  it.each(cases)('x=%d t_x=%d T=%d gives finite LL and predictions', (x, tx, T) => {
    expect(Number.isFinite(bgNbdIndividualLogLikelihood(p, x, tx, T))).toBe(true);
    const e = bgNbdConditionalExpectedPurchases(p, 52, x, tx, T);
    expect(Number.isFinite(e) && e >= 0).toBe(true);
    const pa = bgNbdProbabilityAlive(p, x, tx, T);
    expect(pa >= 0 && pa <= 1).toBe(true);
  });
  it('E[X(t)] is finite and increasing', () => {
    expect(bgNbdExpectedPurchases(p, 0)).toBe(0);
    expect(bgNbdExpectedPurchases(p, 39)).toBeGreaterThan(bgNbdExpectedPurchases(p, 10));
    expect(Number.isFinite(bgNbdExpectedPurchases(p, 1e6))).toBe(true);
  });
});
