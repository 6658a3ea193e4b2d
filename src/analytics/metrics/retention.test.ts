import { describe, expect, it } from 'vitest';
import { retentionReport } from './retention.js';
import { order } from '../../../test/support/metricsKit.js';

const asOf = new Date('2024-04-15T00:00:00Z');
const orders = [
  order('A', '2024-01-05T00:00Z', 100),
  order('A', '2024-01-20T00:00Z', 100),
  order('A', '2024-02-10T00:00Z', 100),
  order('B', '2024-01-10T00:00Z', 100),
  order('B', '2024-03-15T00:00Z', 100),
  order('C', '2024-02-01T00:00Z', 100), // single-order customer
  order('D', '2023-12-20T00:00Z', 100),
  order('D', '2024-04-01T00:00Z', 100),
  order('E', '2024-04-20T00:00Z', 100), // after asOf
];

describe('retentionReport', () => {
  const r = retentionReport({ orders, asOf });
  const row = (p: string) => {
    const x = r.periods.find((y) => y.period === p);
    if (!x) throw new Error(p);
    return x;
  };

  it('lists every month from the first order to asOf, the last one partial', () => {
    expect(r.periods.map((p) => p.period)).toEqual(['2023-12', '2024-01', '2024-02', '2024-03', '2024-04']);
    expect(r.periods.map((p) => p.partial)).toEqual([false, false, false, false, true]);
  });

  it('period retention and churn (hand-computed)', () => {
    expect(row('2023-12')).toMatchObject({
      activeCustomers: 1,
      previousActive: 0,
      retentionRate: null,
      churnRate: null,
    });
    expect(row('2024-01')).toMatchObject({
      activeCustomers: 2,
      previousActive: 1,
      retained: 0,
      retentionRate: 0,
      churnRate: 1,
    });
    expect(row('2024-02')).toMatchObject({
      activeCustomers: 2,
      previousActive: 2,
      retained: 1,
      retentionRate: 0.5,
      churnRate: 0.5,
    });
    expect(row('2024-03')).toMatchObject({ previousActive: 2, retained: 0, retentionRate: 0 });
    expect(row('2024-04')).toMatchObject({ activeCustomers: 1, previousActive: 1, retained: 0 });
  });

  it('new vs returning customers and repeat-purchase share', () => {
    expect(row('2024-01')).toMatchObject({
      newCustomers: 2,
      returningCustomers: 0,
      orders: 3,
      returningOrders: 1,
    });
    expect(row('2024-01').repeatPurchaseShare).toBeCloseTo(1 / 3, 12);
    expect(row('2024-02')).toMatchObject({
      newCustomers: 1,
      returningCustomers: 1,
      orders: 2,
      returningOrders: 1,
      repeatPurchaseShare: 0.5,
    });
    expect(row('2024-04')).toMatchObject({ newCustomers: 0, returningCustomers: 1, repeatPurchaseShare: 1 });
  });

  it("Shopify's returning customer rate counts lifetime orders, including this period's", () => {
    // Jan: A has 2 orders by end of Jan (both in Jan) → counts; B has 1.
    expect(row('2023-12').shopifyReturningCustomerRate).toBe(0);
    expect(row('2024-01').shopifyReturningCustomerRate).toBe(0.5);
    expect(row('2024-02').shopifyReturningCustomerRate).toBe(0.5); // A yes, C no
    expect(row('2024-03').shopifyReturningCustomerRate).toBe(1);
  });

  it('repeat-customer rate and time to second purchase', () => {
    expect(r.repeatCustomerRate).toMatchObject({ customers: 4, repeatCustomers: 3, rate: 0.75 });
    const t = r.timeToSecondPurchase;
    // gaps: A 15 d, B 65 d (Jan 10 → Mar 15, leap year), D 103 d (Dec 20 → Apr 1)
    expect(t.customers).toBe(3);
    expect(t.medianDays).toBe(65);
    expect(t.distribution.map((b) => b.customers)).toEqual([0, 0, 1, 0, 1, 1, 0, 0]);
    expect(t.distribution[2]).toMatchObject({ label: '14–30 days', fromDays: 14, toDays: 30 });
    expect(t.distribution[7]!.label).toBe('>365 days');
    expect(t).toMatchObject({ within30Days: 1, after30Days: 2 });
    expect(t.shareWithin30Days).toBeCloseTo(1 / 3, 12);
  });

  it('quarters, and a from/to restriction', () => {
    const q = retentionReport({ orders, asOf, period: 'quarter' });
    expect(q.periods.map((p) => p.period)).toEqual(['2023-Q4', '2024-Q1', '2024-Q2']);
    expect(q.periods[1]).toMatchObject({
      activeCustomers: 3,
      orders: 6,
      returningOrders: 3,
      previousActive: 1,
      retained: 0,
    });
    expect(q.periods[2]).toMatchObject({ activeCustomers: 1, previousActive: 3, retained: 0, partial: true });
    const m = retentionReport({
      orders,
      asOf,
      from: new Date('2024-02-01T00:00Z'),
      to: new Date('2024-03-01T00:00Z'),
    });
    expect(m.periods.map((p) => p.period)).toEqual(['2024-02']);
    expect(m.periods[0]!.retained).toBe(1);
  });

  it('single-order customers only, and no orders at all', () => {
    const s = retentionReport({ orders: [order('Z', '2024-01-01T00:00Z', 5)], asOf });
    expect(s.repeatCustomerRate.rate).toBe(0);
    expect(s.timeToSecondPurchase).toMatchObject({ customers: 0, medianDays: null, shareWithin30Days: null });
    expect(s.periods[1]).toMatchObject({
      period: '2024-02',
      activeCustomers: 0,
      retained: 0,
      retentionRate: 0,
    });
    expect(s.periods[1]!.repeatPurchaseShare).toBeNull();
    const e = retentionReport({ orders: [], asOf });
    expect(e.periods).toEqual([]);
    expect(e.repeatCustomerRate.rate).toBeNull();
  });
});
