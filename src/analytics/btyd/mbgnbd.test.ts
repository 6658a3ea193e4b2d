import { describe, expect, it } from 'vitest';
import { describeWithData, shippedData } from '../../../test/support/externalData.js';
import {
  fitMbgNbd,
  mbgNbdConditionalExpectedPurchases,
  mbgNbdExpectedPurchases,
  mbgNbdIndividualLogLikelihood,
  mbgNbdLogLikelihood,
  mbgNbdProbabilityAlive,
} from './mbgnbd.js';
import { compressRf, indexRf } from './summary.js';
import { readNumericCsv } from '../../../test/support/cdnow.js';

const describeCdnow = describeWithData(shippedData('cdnow/cdnow_customers_summary.csv'));

// Reference CDNOW estimates from BTYDplus (Platzer), as used by lifetimes' tests:
// r = 0.525, α = 6.183, a = 0.891, b = 1.614.
describeCdnow('MBG/NBD on CDNOW (golden)', () => {
  const cd = readNumericCsv('cdnow_customers_summary.csv');
  const data = compressRf(cd.frequency!, cd.recency!, cd.T!);
  const fit = fitMbgNbd(data);

  it('reproduces the BTYDplus parameters', () => {
    // 3-decimal reference values: within 1e-3.
    expect(Math.abs(fit.params.r - 0.525)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.alpha - 6.183)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.a - 0.891)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.b - 1.614)).toBeLessThan(1e-3);
    expect(fit.converged).toBe(true);
  });

  it('E[Y(39) | 2, 30.43, 38.86] is close to the BG/NBD value 1.226', () => {
    // lifetimes' check against Hardie's spreadsheet for the MBG/NBD uses ±0.05.
    expect(
      Math.abs(mbgNbdConditionalExpectedPurchases(fit.params, 39, 2, 30.43, 38.86) - 1.226),
    ).toBeLessThan(0.05);
  });

  it('analytic gradient matches central differences', () => {
    const idx = indexRf(data);
    const p = [0.4, 5, 0.8, 1.9];
    const g = new Float64Array(4);
    const base = mbgNbdLogLikelihood(p, idx, g);
    let sum = 0;
    for (let i = 0; i < cd.frequency!.length; i++)
      sum += mbgNbdIndividualLogLikelihood(
        { r: 0.4, alpha: 5, a: 0.8, b: 1.9 },
        cd.frequency![i]!,
        cd.recency![i]!,
        cd.T![i]!,
      );
    expect(base).toBeCloseTo(sum, 6);
    for (let i = 0; i < 4; i++) {
      const h = 1e-4 * p[i]!;
      const up = [...p];
      const dn = [...p];
      up[i]! += h;
      dn[i]! -= h;
      const fd = (mbgNbdLogLikelihood(up, idx) - mbgNbdLogLikelihood(dn, idx)) / (2 * h);
      expect(Math.abs(g[i]! - fd) / Math.max(1, Math.abs(fd))).toBeLessThan(1e-6);
    }
  });
});

describe('MBG/NBD numerical stability at extremes', () => {
  const p = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
  it.each([
    [200, 38.85, 38.86],
    [0, 0, 38.86],
    [0, 0, 1e7],
    [5, 1e7 - 1, 1e7],
    [1000, 5, 5.0001],
  ])('x=%d t_x=%d T=%d is finite', (x, tx, T) => {
    expect(Number.isFinite(mbgNbdIndividualLogLikelihood(p, x, tx, T))).toBe(true);
    const e = mbgNbdConditionalExpectedPurchases(p, 52, x, tx, T);
    expect(Number.isFinite(e) && e >= 0).toBe(true);
    const pa = mbgNbdProbabilityAlive(p, x, tx, T);
    expect(pa >= 0 && pa <= 1).toBe(true);
    expect(Number.isFinite(mbgNbdExpectedPurchases(p, 1e5))).toBe(true);
  });
});
