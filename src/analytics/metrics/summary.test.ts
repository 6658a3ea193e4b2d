import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { summarize } from './summary.js';
import type { CustomerAggregate } from './types.js';

const d = (s: string) => new Date(s);
const asOf = d('2024-12-31T00:00:00Z');

describe('summarize', () => {
  it('computes every headline figure (hand-computed)', () => {
    const customers: CustomerAggregate[] = [
      // one order, no refund
      {
        orders: 1,
        revenueMinor: 1000,
        refundMinor: 0,
        firstOrderAt: d('2024-01-01T00:00Z'),
        lastOrderAt: d('2024-01-01T00:00Z'),
      },
      // three orders over 10.5 days, one refund
      {
        orders: 3,
        revenueMinor: 6000,
        refundMinor: 500,
        firstOrderAt: d('2024-02-01T00:00Z'),
        lastOrderAt: d('2024-02-11T12:00Z'),
      },
      // refund exceeding the order (goodwill): net negative for this customer
      {
        orders: 1,
        revenueMinor: 200,
        refundMinor: 300,
        firstOrderAt: d('2024-03-01T00:00Z'),
        lastOrderAt: d('2024-03-01T00:00Z'),
      },
      // no orders: ignored
      { orders: 0, revenueMinor: 0, refundMinor: 0, firstOrderAt: null, lastOrderAt: null },
    ];
    const s = summarize({ customers, guestOrders: 4, asOf });
    expect(s.customers).toBe(3);
    expect(s.orders).toBe(5);
    expect(s.grossRevenueMinor).toBe(7200);
    expect(s.refundsMinor).toBe(800);
    expect(s.netRevenueMinor).toBe(6400);
    expect(s.aovMinor).toBe(7200 / 5); // 1440
    expect(s.ordersPerCustomer).toBeCloseTo(5 / 3, 12);
    expect(s.repeatCustomerRate).toBeCloseTo(1 / 3, 12);
    expect(s.avgLifespanDays).toBeCloseTo(10.5 / 3, 12); // (0 + 10.5 + 0) / 3
    expect(s.guestOrders).toBe(4);
    expect(s.definition).toBe('summary');
    expect(s.definitions.aovMinor).toBe('summary.aov');
  });

  it('returns nulls, not zeros, for ratios of an empty store', () => {
    const s = summarize({ customers: [], guestOrders: 0, asOf });
    expect(s).toMatchObject({
      customers: 0,
      orders: 0,
      grossRevenueMinor: 0,
      aovMinor: null,
      ordersPerCustomer: null,
    });
    expect(s.repeatCustomerRate).toBeNull();
    expect(s.avgLifespanDays).toBeNull();
  });

  it('rejects aggregates not cut at asOf, fractional money and bad dates', () => {
    const late = {
      orders: 1,
      revenueMinor: 1,
      refundMinor: 0,
      firstOrderAt: asOf,
      lastOrderAt: d('2025-01-01T00:00Z'),
    };
    expect(() => summarize({ customers: [late], guestOrders: 0, asOf })).toThrow(AppError);
    const frac = { orders: 1, revenueMinor: 1.5, refundMinor: 0, firstOrderAt: asOf, lastOrderAt: asOf };
    expect(() => summarize({ customers: [frac], guestOrders: 0, asOf })).toThrow(/minor units/);
    expect(() => summarize({ customers: [], guestOrders: 0, asOf: new Date('nope') })).toThrow(AppError);
    expect(() => summarize({ customers: [], guestOrders: -1, asOf })).toThrow(AppError);
  });
});
