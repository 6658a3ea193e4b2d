import { describe, expect, it } from 'vitest';
import { describeWithData, shippedData } from '../../../test/support/externalData.js';
import { fitBgNbd } from './bgnbd.js';
import { fitGammaGamma, prepareGammaGamma } from './gammaGamma.js';
import { buildSummary, compressRf, groupRows, rfDataFromSummaries, type Order } from './summary.js';
import { readCdnowSampleOrders, readNumericCsv } from '../../../test/support/cdnow.js';

const describeCdnow = describeWithData(
  shippedData('cdnow/CDNOW_sample.txt'),
  shippedData('cdnow/cdnow_customers_summary_with_monetary.csv'),
);

const day = (s: string) => new Date(`${s}T00:00:00Z`);

describe('buildSummary', () => {
  const orders: Order[] = [
    { customerId: 'a', orderedAt: new Date('2024-01-01T09:00:00Z'), amountMinor: 1000 },
    { customerId: 'a', orderedAt: new Date('2024-01-01T18:00:00Z'), amountMinor: 500 }, // same day: merged
    { customerId: 'a', orderedAt: new Date('2024-01-08T10:00:00Z'), amountMinor: 2000 },
    { customerId: 'a', orderedAt: new Date('2024-01-15T10:00:00Z'), amountMinor: 4000 },
    { customerId: 'a', orderedAt: new Date('2024-02-02T10:00:00Z'), amountMinor: 999 }, // holdout
    { customerId: 'b', orderedAt: new Date('2024-01-29T23:59:59Z'), amountMinor: 700 },
    { customerId: 'c', orderedAt: new Date('2024-02-01T00:00:00Z'), amountMinor: 700 }, // after calibration
  ];
  it('merges same-day orders, measures t_x and T to the calibration day, averages repeat spend', () => {
    const rows = buildSummary(orders, {
      calibrationEnd: day('2024-01-29'),
      holdoutEnd: day('2024-02-12'),
      timeUnit: 'day',
    });
    const a = rows.find((r) => r.customerId === 'a')!;
    expect(a).toEqual({
      customerId: 'a',
      frequency: 2,
      recency: 14,
      T: 28,
      monetaryValue: 30, // (20 + 40) / 2, currency units
      holdoutFrequency: 1,
      holdoutDuration: 14,
    });
    const b = rows.find((r) => r.customerId === 'b')!;
    expect([b.frequency, b.recency, b.T, b.monetaryValue]).toEqual([0, 0, 0, 0]);
    expect(rows.some((r) => r.customerId === 'c')).toBe(false);
  });
  it('uses weeks = days / 7', () => {
    const rows = buildSummary(orders, { calibrationEnd: day('2024-01-29'), timeUnit: 'week' });
    const a = rows.find((r) => r.customerId === 'a')!;
    expect(a.recency).toBe(2);
    expect(a.T).toBe(4);
    expect(a.holdoutFrequency).toBeUndefined();
  });
  it('compresses identical (x, t_x, T) rows into weights', () => {
    const d = compressRf(
      Float64Array.of(0, 0, 1, 1, 0),
      Float64Array.of(0, 0, 2, 2, 0),
      Float64Array.of(5, 5, 5, 6, 6),
    );
    expect(d.weight.length).toBe(4);
    expect([...d.weight].sort()).toEqual([1, 1, 1, 2]);
    expect(groupRows(Float64Array.of(-0, 0, 1)).groups).toBe(2);
  });
  it('groups small integers directly and anything else by hashing, with the same result shape', () => {
    const ints = groupRows(Float64Array.of(3, 0, 3, 65535, 0));
    expect([ints.groups, [...ints.groupOf], [...ints.firstRow]]).toEqual([3, [0, 1, 0, 2, 1], [0, 1, 3]]);
    const mixed = groupRows(Float64Array.of(3, 0.5, 3, 65536, 0.5, NaN, NaN));
    expect([...mixed.groupOf]).toEqual([0, 1, 0, 2, 1, 3, 4]); // NaN ≠ NaN
    expect([...mixed.firstRow]).toEqual([0, 1, 3, 5, 6]);
  });
});

describeCdnow('summary built from CDNOW_sample.txt', () => {
  const orders = readCdnowSampleOrders();
  const rows = buildSummary(orders, { calibrationEnd: day('1997-09-30'), timeUnit: 'week' });
  const published = readNumericCsv('cdnow_customers_summary_with_monetary.csv');

  it('matches the shipped summary for every customer (to its 2 printed decimals)', () => {
    expect(rows.length).toBe(2357);
    const byId = new Map(rows.map((r) => [r.customerId, r]));
    for (let i = 0; i < published.customer_id!.length; i++) {
      const r = byId.get(String(published.customer_id![i]))!;
      expect(r.frequency).toBe(published.frequency![i]);
      expect(Math.abs(r.recency - published.recency![i]!)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs(r.T - published.T![i]!)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs(r.monetaryValue - published.monetary_value![i]!)).toBeLessThanOrEqual(0.005 + 1e-9);
    }
  });

  it('reproduces the published BG/NBD fit (FHL 2005) and Gamma-Gamma fit from raw transactions', () => {
    const fit = fitBgNbd(rfDataFromSummaries(rows));
    // Unrounded t_x and T move estimates in the 4th digit only: 3-decimal tolerance as for the golden test.
    expect(Math.abs(fit.params.r - 0.243)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.alpha - 4.414)).toBeLessThan(5e-3);
    expect(Math.abs(fit.params.a - 0.793)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.b - 2.426)).toBeLessThan(5e-3);
    expect(Math.abs(fit.logLikelihood - -9582.4)).toBeLessThan(0.5);
    const gg = fitGammaGamma(
      prepareGammaGamma(
        Float64Array.from(rows, (r) => r.frequency),
        Float64Array.from(rows, (r) => r.monetaryValue),
      ),
    );
    expect(gg.customers).toBe(946);
    expect(Math.abs(gg.params.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(gg.params.q - 3.74)).toBeLessThan(0.01);
    expect(Math.abs(gg.params.v - 15.44)).toBeLessThan(0.02);
  });
});
