import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { channelsReport, type ChannelRow } from './channels.js';
import { order } from '../../../test/support/metricsKit.js';
import type { SpendRow } from './types.js';

const asOf = new Date('2025-01-01T00:00:00Z');
const orders = [
  order('A', '2024-01-01T00:00Z', 1000, 500), // margin 500
  order('A', '2024-02-15T00:00Z', 2000, 1000), // +45 d, margin 1000
  order('A', '2024-06-01T00:00Z', 1000, 400), // +152 d, margin 600
  order('B', '2024-03-01T00:00Z', 3000, 2000), // margin 1000; not 365 days old
  order('C', '2024-01-10T00:00Z', 500, 100),
  order('C', '2024-01-20T00:00Z', 500, 100),
  order('D', '2024-11-01T00:00Z', 1000, 0), // only 61 days old
  order('E', '2024-05-01T00:00Z', 700, 200),
];
const profiles = [
  { customerId: 'A', channel: 'ads', country: null },
  { customerId: 'B', channel: 'ads', country: null },
  { customerId: 'C', channel: 'email', country: null },
  { customerId: 'D', channel: 'email', country: null },
  { customerId: 'E', channel: 'organic', country: null },
];
const spend: SpendRow[] = [
  { date: new Date('2024-01-01T00:00Z'), channel: 'ads', amountMinor: 3000 },
  { date: new Date('2024-01-01T00:00Z'), channel: 'email', amountMinor: 600 },
];

const ch = (rows: ChannelRow[], name: string) => rows.find((c) => c.channel === name)!;

describe('channelsReport', () => {
  const r = channelsReport({ orders, profiles, spend, asOf });

  it('customers, CAC and repeat rate per channel; no spend rows means zero spend', () => {
    expect(r.channels.map((c) => [c.channel, c.customers, c.spendMinor, c.cacMinor, c.repeatRate])).toEqual([
      ['ads', 2, 3000, 1500, 0.5],
      ['email', 2, 600, 300, 0.5],
      ['organic', 1, 0, 0, 0],
    ]);
  });

  it('N-day LTV averages only customers old enough (hand-computed)', () => {
    const ads = ch(r.channels, 'ads');
    expect(ads.ltv).toEqual([
      { days: 90, matureCustomers: 2, revenueMinor: 3000, marginMinor: 1250 },
      { days: 180, matureCustomers: 2, revenueMinor: 3500, marginMinor: 1550 },
      { days: 365, matureCustomers: 1, revenueMinor: 4000, marginMinor: 2100 },
    ]);
    expect(ads.ltvToCac).toBeCloseTo(1.4, 12);
    // cumulative margin: 750 at 0–30 d, 1250 at 60–150 d, 1550 at 180 d ≥ CAC 1500
    expect(ads.paybackDays).toBe(180);
    const email = ch(r.channels, 'email');
    expect(email.ltv[0]).toEqual({ days: 90, matureCustomers: 1, revenueMinor: 1000, marginMinor: 800 });
    expect(email.ltv[2]).toEqual({ days: 365, matureCustomers: 0, revenueMinor: null, marginMinor: null });
    expect(email.ltvToCac).toBeNull();
    expect(email.paybackDays).toBe(0); // (400 + 1000) / 2 ≥ 300 on the first order
    const organic = ch(r.channels, 'organic');
    expect(organic.ltvToCac).toBeNull(); // zero CAC: no ratio
    expect(organic.paybackDays).toBe(0);
    expect(r.reallocation).toBeNull();
    expect(r.reallocationNote).toMatch(/two channels/);
  });

  it('suggests moving spend from the lowest to the highest LTV:CAC with both estimates', () => {
    const r90 = channelsReport({ orders, profiles, spend, asOf, ratioHorizonDays: 90 });
    expect(ch(r90.channels, 'ads').ltvToCac).toBeCloseTo(1250 / 1500, 12);
    expect(ch(r90.channels, 'email').ltvToCac).toBeCloseTo(800 / 300, 12);
    const s = r90.reallocation!;
    expect(s).toMatchObject({
      fromChannel: 'ads',
      toChannel: 'email',
      movedSpendMinor: 300,
      shareMoved: 0.1,
    });
    expect(s.linear.customersLost).toBeCloseTo(0.2, 12);
    expect(s.linear.customersGained).toBeCloseTo(1, 12);
    expect(s.linear.valueChangeMinor).toBeCloseTo(1 * 800 - 0.2 * 1250, 9);
    const lost = 2 * (1 - (2700 / 3000) ** 0.7);
    const gained = 2 * ((900 / 600) ** 0.7 - 1);
    expect(s.diminishingReturns.customersLost).toBeCloseTo(lost, 12);
    expect(s.diminishingReturns.customersGained).toBeCloseTo(gained, 12);
    expect(s.diminishingReturns.valueChangeMinor).toBeCloseTo(gained * 800 - lost * 1250, 9);
    expect(s.diminishingReturns.valueChangeMinor).toBeLessThan(s.linear.valueChangeMinor);
    expect(s.assumptions.length).toBeGreaterThanOrEqual(4);
  });

  it('window restricts acquisition and spend', () => {
    const w = channelsReport({
      orders,
      profiles,
      spend,
      asOf,
      window: { from: new Date('2024-02-01T00:00Z'), to: new Date('2024-12-01T00:00Z') },
    });
    expect(w.channels.map((c) => [c.channel, c.customers, c.spendMinor])).toEqual([
      ['ads', 1, 0],
      ['email', 1, 0],
      ['organic', 1, 0],
    ]);
  });

  it('without spend data and with unknown costs, says so', () => {
    const n = channelsReport({ orders: [order('Z', '2024-01-01T00:00Z', 100, null)], profiles: [], asOf });
    expect(n.channels).toHaveLength(1);
    expect(n.channels[0]).toMatchObject({ channel: '(unknown)', cacMinor: null, paybackDays: null });
    expect(n.marginBasis).toBe('revenue');
    expect(n.notes.join(' ')).toMatch(/no marketing spend data/);
    expect(n.notes.join(' ')).toMatch(/costs unknown/);
  });

  it('rejects bad parameters', () => {
    expect(() => channelsReport({ orders, profiles, asOf, shareMoved: 0 })).toThrow(AppError);
    expect(() => channelsReport({ orders, profiles, asOf, elasticity: 2 })).toThrow(AppError);
    expect(() => channelsReport({ orders, profiles, asOf, window: { from: asOf, to: asOf } })).toThrow(
      AppError,
    );
  });
});
