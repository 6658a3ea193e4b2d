import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { cohortReport } from './cohorts.js';
import { order } from '../../../test/support/metricsKit.js';
import type { SpendRow } from './types.js';

const asOf = new Date('2024-03-15T00:00:00Z');
const orders = [
  order('A', '2024-01-05T00:00Z', 1000, 400, 0, 'toys', 'T1'),
  order('A', '2024-01-25T00:00Z', 500, 100, 0, 'books', 'B1'),
  order('A', '2024-03-02T00:00Z', 2000, 800, 2500, 'toys', 'T1'), // refund exceeds the order
  order('B', '2024-01-20T00:00Z', 3000, 1000, 0, 'books', 'B2'),
  order('C', '2024-02-10T00:00Z', 800, 300, 0, 'toys', 'T2'),
  order('C', '2024-03-10T00:00Z', 200, 50, 0, 'toys', 'T2'),
  order('D', '2024-03-01T00:00Z', 100, 10, 0, null, null), // a cohort with no later periods
  order('E', '2024-03-20T00:00Z', 100, 10), // after asOf
];
const profiles = [
  { customerId: 'A', channel: 'ads', country: 'GB' },
  { customerId: 'B', channel: 'ads', country: 'FR' },
  { customerId: 'C', channel: 'organic', country: 'GB' },
];
const spend: SpendRow[] = [
  { date: new Date('2024-01-01T00:00Z'), channel: 'ads', amountMinor: 2000 },
  { date: new Date('2024-01-01T00:00Z'), channel: 'organic', amountMinor: 0 },
  { date: new Date('2024-02-01T00:00Z'), channel: 'ads', amountMinor: 500 },
  { date: new Date('2024-02-01T00:00Z'), channel: 'organic', amountMinor: 300 },
];

describe('cohortReport', () => {
  it('monthly cohorts: size, retention, cumulative revenue and margin per customer (hand-computed)', () => {
    const r = cohortReport({ orders, asOf });
    expect(r.marginBasis).toBe('margin');
    expect(r.cohorts.map((c) => [c.cohort, c.size])).toEqual([
      ['2024-01', 2],
      ['2024-02', 1],
      ['2024-03', 1],
    ]);
    const [jan, feb, mar] = r.cohorts;
    expect(jan!.activeCustomers).toEqual([2, 0, 1]);
    expect(jan!.retention).toEqual([1, 0, 0.5]);
    // net: k0 1000 + 500 + 3000; k2 2000 − 2500 = −500
    expect(jan!.cumulativeRevenuePerCustomer).toEqual([2250, 2250, 2000]);
    // margin: k0 600 + 400 + 2000 = 3000; k2 −500 − 800 = −1300
    expect(jan!.cumulativeMarginPerCustomer).toEqual([1500, 1500, 850]);
    expect(feb!.retention).toEqual([1, 1]);
    expect(feb!.cumulativeRevenuePerCustomer).toEqual([800, 1000]);
    expect(feb!.cumulativeMarginPerCustomer).toEqual([500, 650]);
    expect(mar!.retention).toEqual([1]);
    expect(mar!.cumulativeRevenuePerCustomer).toEqual([100]);
    expect(r.cohorts.every((c) => c.lastPeriodPartial && c.sixMonthLtvMinor === null)).toBe(true);
    expect(r.cohorts.every((c) => c.cacMinor === null)).toBe(true);
    expect(r.notes.join(' ')).toMatch(/no marketing spend/);
  });

  it('CAC per cohort and payback period; zero spend pays back at once', () => {
    const r = cohortReport({ orders, asOf, spend });
    const [jan, feb, mar] = r.cohorts;
    expect(jan).toMatchObject({ spendMinor: 2000, cacMinor: 1000, paybackPeriods: 0 });
    expect(feb).toMatchObject({ spendMinor: 800, cacMinor: 800, paybackPeriods: null }); // 650 < 800
    expect(mar).toMatchObject({ spendMinor: 0, cacMinor: 0, paybackPeriods: 0 });
  });

  it('split by channel uses the channel spend; other splits have no CAC', () => {
    const r = cohortReport({ orders, asOf, spend, profiles, by: 'channel' });
    expect(r.cohorts.map((c) => [c.cohort, c.segment, c.size, c.cacMinor, c.paybackPeriods])).toEqual([
      ['2024-01', 'ads', 2, 1000, 0],
      ['2024-02', 'organic', 1, 300, 0],
      ['2024-03', '(unknown)', 1, 0, 0],
    ]);
    const c = cohortReport({ orders, asOf, spend, by: 'first-category' });
    expect(c.cohorts.map((x) => [x.cohort, x.segment, x.size])).toEqual([
      ['2024-01', 'books', 1],
      ['2024-01', 'toys', 1],
      ['2024-02', 'toys', 1],
      ['2024-03', '(unknown)', 1],
    ]);
    expect(c.cohorts.every((x) => x.cacMinor === null)).toBe(true);
    expect(c.notes.join(' ')).toMatch(/no CAC for cohorts split by first-category/);
    const p = cohortReport({ orders, asOf, profiles, by: 'country' });
    expect(p.cohorts.map((x) => x.segment)).toEqual(['FR', 'GB', 'GB', '(unknown)']);
    const s = cohortReport({ orders, asOf, by: 'first-product' });
    expect(s.cohorts.map((x) => x.segment)).toEqual(['B2', 'T1', 'T2', '(unknown)']);
  });

  it('quarters, six-month LTV, complete last period and cohort filters', () => {
    const q = cohortReport({ orders, asOf: new Date('2024-07-01T00:00Z'), period: 'quarter' });
    expect(q.cohorts).toHaveLength(1);
    const c = q.cohorts[0]!;
    expect(c).toMatchObject({ cohort: '2024-Q1', size: 5, lastPeriodPartial: false });
    expect(c.retention).toEqual([1, 0]); // E (Mar 20) now counts; nobody ordered in Q2
    expect(q.cohorts[0]!.sixMonthLtvMinor).toBe(c.cumulativeRevenuePerCustomer[1]);
    const all = cohortReport({
      orders,
      asOf: new Date('2024-07-01T00:00Z'),
      period: 'quarter',
      to: new Date('2024-04-01T00:00Z'),
    });
    expect(all.cohorts.map((x) => x.cohort)).toEqual(['2024-Q1']);
    const m = cohortReport({
      orders,
      asOf,
      from: new Date('2024-02-01T00:00Z'),
      to: new Date('2024-03-01T00:00Z'),
    });
    expect(m.cohorts.map((x) => x.cohort)).toEqual(['2024-02']);
    expect(() => cohortReport({ orders, asOf, from: asOf, to: asOf })).toThrow(AppError);
  });

  it('unknown costs fall back to revenue and say so', () => {
    const r = cohortReport({ orders: [order('X', '2024-01-01T00:00Z', 100, null)], asOf });
    expect(r.marginBasis).toBe('revenue');
    expect(r.cohorts[0]!.cumulativeMarginPerCustomer).toEqual([100, 100, 100]);
    expect(r.notes.join(' ')).toMatch(/costs unknown/);
  });
});
