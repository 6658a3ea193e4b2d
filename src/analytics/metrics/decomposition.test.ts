import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { EFFECTS, decomposeRevenuePerCustomer, type DecompositionReport } from './decomposition.js';
import { mulberry32 } from '../../shared/random.js';
import { order } from '../../../test/support/metricsKit.js';
import type { CustomerProfile, OrderFact } from './types.js';

const jan = { from: new Date('2024-01-01T00:00Z'), to: new Date('2024-02-01T00:00Z') };
const feb = { from: new Date('2024-02-01T00:00Z'), to: new Date('2024-03-01T00:00Z') };
const asOf = new Date('2024-03-01T00:00Z');
const part = (r: DecompositionReport, e: string) => r.parts.find((p) => p.effect === e)!;

describe('decomposeRevenuePerCustomer', () => {
  it('attributes a pure price change to AOV only', () => {
    const orders = [
      ...['A', 'B'].map((c) => order(c, '2023-12-15T00:00Z', 50)),
      order('A', '2024-01-15T00:00Z', 100),
      order('B', '2024-01-15T00:00Z', 300),
      order('A', '2024-02-15T00:00Z', 200),
      order('B', '2024-02-15T00:00Z', 600),
    ];
    const r = decomposeRevenuePerCustomer({ orders, asOf, base: jan, current: feb });
    expect(r.base).toMatchObject({ customers: 2, retainedCustomers: 2, revenuePerCustomerMinor: 200 });
    expect(r.current.revenuePerCustomerMinor).toBe(400);
    expect(r.change).toEqual({ exactMinor: 200, roundedMinor: 200, relative: 1 });
    expect(part(r, 'aov').exactMinor).toBeCloseTo(200, 9);
    for (const e of EFFECTS.filter((x) => x !== 'aov')) expect(part(r, e).exactMinor).toBeCloseTo(0, 9);
    expect(part(r, 'aov').roundedMinor).toBe(200);
  });

  it('splits a mix + frequency change by Shapley (hand-computed)', () => {
    // Jan: A retained 1×100, C new 1×100 → 100 per customer.
    // Feb: A retained 1×100, C retained 1×100, D new 2×100 → 400/3.
    // v(∅)=100, v(mix)=100, v(freq)=150, v(both)=400/3
    // φ_mix = ½(0 + (400/3 − 150)) = −25/3, φ_freq = ½(50 + 100/3) = 125/3
    const orders = [
      order('A', '2023-12-15T00:00Z', 100),
      order('A', '2024-01-15T00:00Z', 100),
      order('C', '2024-01-15T00:00Z', 100),
      order('A', '2024-02-15T00:00Z', 100),
      order('C', '2024-02-15T00:00Z', 100),
      order('D', '2024-02-10T00:00Z', 100),
      order('D', '2024-02-20T00:00Z', 100),
    ];
    const r = decomposeRevenuePerCustomer({ orders, asOf, base: jan, current: feb });
    expect(r.current).toMatchObject({
      newCustomers: 1,
      retainedCustomers: 2,
      reactivatedCustomers: 0,
      orders: 4,
    });
    expect(r.change!.exactMinor).toBeCloseTo(100 / 3, 9);
    expect(part(r, 'newReturningMix').exactMinor).toBeCloseTo(-25 / 3, 9);
    expect(part(r, 'ordersPerCustomer').exactMinor).toBeCloseTo(125 / 3, 9);
    for (const e of ['retention', 'channelMix', 'categoryMix', 'aov'])
      expect(part(r, e).exactMinor).toBeCloseTo(0, 9);
    // rounded: 133 − 100 = 33; floors −9 and 41 plus one unit to one of the equal remainders
    expect(r.change!.roundedMinor).toBe(33);
    expect(r.parts.reduce((a, p) => a + p.roundedMinor, 0)).toBe(33);
    for (const p of r.parts) expect(Math.abs(p.roundedMinor - p.exactMinor)).toBeLessThan(1);
  });

  it('separates retention (retained vs reactivated) and category mix', () => {
    // Jan: R retained (Dec + Jan), Q retained; Feb: R retained, Q reactivated? (Q skipped Jan)
    const orders = [
      order('R', '2023-12-20T00:00Z', 10, null, 0, 'x'),
      order('R', '2024-01-20T00:00Z', 100, null, 0, 'x'),
      order('R', '2024-02-20T00:00Z', 100, null, 0, 'x'),
      order('Q', '2023-11-20T00:00Z', 10, null, 0, 'x'),
      order('Q', '2023-12-20T00:00Z', 300, null, 0, 'y'),
      order('Q', '2024-02-20T00:00Z', 300, null, 0, 'y'),
    ];
    // Jan: only R (retained). Feb: R retained, Q reactivated (no order in Jan 3 – Feb 1).
    const r = decomposeRevenuePerCustomer({ orders, asOf, base: jan, current: feb });
    expect(r.base).toMatchObject({ customers: 1, retainedCustomers: 1 });
    expect(r.current).toMatchObject({ customers: 2, retainedCustomers: 1, reactivatedCustomers: 1 });
    expect(r.change!.exactMinor).toBeCloseTo(100, 9); // 100 → 200
    const sum = r.parts.reduce((a, p) => a + p.exactMinor, 0);
    expect(sum).toBeCloseTo(100, 9);
    // Q's cell (reactivated) is new; its factors are filled from Feb, so its weight moves under retention.
    expect(part(r, 'retention').exactMinor).toBeCloseTo(100, 9);
  });

  it('lists the segments that drove the change; contributions sum to the change', () => {
    const orders = [
      order('A', '2023-12-15T00:00Z', 100, null, 0, 'toys'),
      order('A', '2024-01-15T00:00Z', 100, null, 0, 'toys'),
      order('C', '2024-01-15T00:00Z', 100, null, 0, 'books'),
      order('A', '2024-02-15T00:00Z', 100, null, 0, 'toys'),
      order('C', '2024-02-15T00:00Z', 100, null, 0, 'books'),
      order('D', '2024-02-10T00:00Z', 150, null, 0, 'books'),
      order('D', '2024-02-20T00:00Z', 50, null, 200, 'books'), // refund exceeds the order
    ];
    const profiles: CustomerProfile[] = [
      { customerId: 'A', channel: 'ads', country: 'GB' },
      { customerId: 'C', channel: 'ads', country: 'FR' },
      { customerId: 'D', channel: 'email', country: 'FR' },
    ];
    const r = decomposeRevenuePerCustomer({ orders, profiles, asOf, base: jan, current: feb, top: 1 });
    // Feb net: 100 + 100 + 150 − 150 = 200 over 3; Jan: 200 over 2
    expect(r.change!.exactMinor).toBeCloseTo(200 / 3 - 100, 9);
    const channel = r.drivers.find((d) => d.dimension === 'channel')!;
    expect(channel.segments).toBe(2);
    expect(channel.rows).toHaveLength(1);
    // ads: 200/3 − 200/2 = −33.3; email: 0/3 − 0 = 0 → ads drove it
    expect(channel.rows[0]).toMatchObject({ segment: 'ads', baseCustomers: 2, currentCustomers: 2 });
    expect(channel.rows[0]!.contributionMinor).toBeCloseTo(200 / 3 - 100, 9);
    expect(channel.rows[0]!.shareOfChange).toBeCloseTo(1, 9);
    const rfm = r.drivers.find((d) => d.dimension === 'rfmSegment')!;
    expect(rfm.segments).toBeGreaterThanOrEqual(2); // includes '(new customer)'
    expect(r.drivers.map((d) => d.dimension)).toEqual(['channel', 'firstCategory', 'country', 'rfmSegment']);
  });

  it('reports an empty period instead of dividing by zero; rejects bad ranges', () => {
    const r = decomposeRevenuePerCustomer({
      orders: [order('A', '2024-02-15T00:00Z', 1)],
      asOf,
      base: jan,
      current: feb,
    });
    expect(r.change).toBeNull();
    expect(r.note).toMatch(/base period/);
    expect(() => decomposeRevenuePerCustomer({ orders: [], asOf, base: feb, current: jan })).not.toThrow();
    expect(() =>
      decomposeRevenuePerCustomer({ orders: [], asOf, base: { from: feb.to, to: feb.from }, current: feb }),
    ).toThrow(AppError);
    expect(() =>
      decomposeRevenuePerCustomer({ orders: [], asOf: feb.from, base: jan, current: feb }),
    ).toThrow(/at or before asOf/);
  });

  it('property: the parts sum to the total change, exactly when rounded (seeded random stores)', () => {
    const rnd = mulberry32(20240601);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
    let checked = 0;
    for (let iter = 0; iter < 150; iter++) {
      const customers = 5 + Math.floor(rnd() * 60);
      const orders: OrderFact[] = [];
      const profiles: CustomerProfile[] = [];
      for (let c = 0; c < customers; c++) {
        const id = `c${c}`;
        profiles.push({
          customerId: id,
          channel: pick(['ads', 'email', 'seo', null]),
          country: pick(['GB', 'FR']),
        });
        const n = 1 + Math.floor(rnd() * 6);
        for (let k = 0; k < n; k++) {
          const day = Math.floor(rnd() * 120); // 2023-11-03 … 2024-02-29
          const at = new Date(Date.UTC(2023, 10, 3) + day * 86_400_000 + Math.floor(rnd() * 86_400_000));
          const revenue = Math.floor(rnd() * 50_000);
          const refund = rnd() < 0.1 ? Math.floor(rnd() * 60_000) : 0; // sometimes exceeds the order
          orders.push({
            customerId: id,
            orderedAt: at,
            revenueMinor: revenue,
            costMinor: null,
            refundMinor: refund,
            category: pick(['a', 'b', 'c', null]),
          });
        }
      }
      const r = decomposeRevenuePerCustomer({ orders, profiles, asOf, base: jan, current: feb });
      if (!r.change) continue;
      checked++;
      const rounded = r.parts.reduce((a, p) => a + p.roundedMinor, 0);
      expect(rounded).toBe(r.change.roundedMinor);
      const exact = r.parts.reduce((a, p) => a + p.exactMinor, 0);
      // Shapley efficiency holds exactly in real arithmetic; floats differ by rounding only.
      expect(Math.abs(exact - r.change.exactMinor)).toBeLessThanOrEqual(
        1e-9 * (1 + Math.abs(r.base.revenuePerCustomerMinor!)),
      );
      for (const d of r.drivers) {
        if (d.rows.length < d.segments) continue; // only complete tables can be summed
        expect(d.rows.reduce((a, x) => a + x.contributionRoundedMinor, 0)).toBe(r.change.roundedMinor);
        expect(d.rows.reduce((a, x) => a + x.contributionMinor, 0)).toBeCloseTo(r.change.exactMinor, 6);
      }
    }
    expect(checked).toBeGreaterThan(140);
  });
});
