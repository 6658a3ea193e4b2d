import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { membersVsNonMembers, type CustomerHistory } from '../../analytics/loyalty/membersVsNonMembers.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder, upsertRefund } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { updateStore } from '../settings/service.js';
import { ordersSubscriber } from './jobs.js';
import {
  loyaltyReport,
  loyaltyReportMarkdown,
  membersVerdict,
  pointsValueMinor,
  type LoyaltyReport,
} from './reports.js';
import * as reportsRepo from './reportsRepository.js';
import { adjust, redeem, reverseRedemption, setProgram, sweep } from './service.js';

/**
 * A small programme in a store on Kyiv time (UTC+2, +3 from 29 March 2026), points worth 2 minor units
 * per 3 points (so values round down), 45-day expiry, overdraft allowed. The story, by clock:
 *
 *   2025-11-10  bob buys 80.00 before the programme exists (history; earns nothing).
 *   2026-02-01  ann's order of 2026-01-31 23:30 UTC (= 1 February 01:30 in Kyiv): 100 pending + welcome 10.
 *   2026-02-10  bob 250.00: 250 pending + welcome 10; Silver (25,000 ≥ 20,000).
 *   2026-02-12  bob's refund of 50.00: 50 clawed back from pending.
 *   2026-03-01  sweep: ann's 100 released (due 02-14 23:30 UTC) and bob's 200 (due 02-24 10:00).
 *               ann redeems 60 (worth 40): welcome 10 + order 50. bob redeems 30 (worth 20): welcome 10 + order 20.
 *   2026-03-02  cat 100.00: 100 pending + welcome 10.
 *   2026-03-05  bob's redemption reversed: 30 back.
 *   2026-03-20  sweep: bob's welcome expires (10, due 03-12), ann's (0, due 03-02 23:30 UTC); cat's 100
 *               released (due 03-16). cat redeems 90 (worth 60): welcome 10 + order 80. ann +15 (a grant
 *               expiring 05-04) and −5 (FIFO: from her order grant, 50 → 45).
 *   2026-03-21  cat's order refunded in full: 100 clawed back, 20 from the grant and 80 owed (debt).
 *   2026-03-24  dan 31.00: 31 pending (to 04-07, expires 05-22) + welcome 10 (expires 04-23).
 *   2026-03-25  the report: period 2026-01-15 00:00 UTC to now.
 */
describe.each(testEngines())('loyalty report on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  let clock: ManualClock;
  let dispatcher: Dispatcher;
  let report: LoyaltyReport;

  const place = async (id: string, customer: string, at: string, price: string) => {
    await upsertOrder(ctx, {
      body: {
        order_id: id,
        customer_id: customer,
        ordered_at: at,
        currency: 'EUR',
        lines: [{ sku: 'MUG', quantity: 1, unit_price: price }],
      },
    });
    await dispatcher.drain();
  };
  const refund = async (id: string, orderId: string, amount: string, at: string) => {
    await upsertRefund(ctx, {
      body: { refund_id: id, order_id: orderId, amount, refunded_at: at, currency: 'EUR' },
    });
    await dispatcher.drain();
  };
  const at = (iso: string) => clock.set(new Date(iso));

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    clock = new ManualClock('2025-11-10T12:00:00Z');
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber] });
    await dispatcher.register();
    await updateStore(ctx, { currency: 'EUR', timeZone: 'Europe/Kyiv' });
    await place('B0', 'bob', '2025-11-10T10:00:00Z', '80.00');
  });
  afterAll(() => dispose());

  it('without a programme: 409 naming how to set one', async () => {
    const err = await loyaltyReport(ctx, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('conflict');
    expect((err as AppError).message).toMatch(/no loyalty programme is set/);
  });

  it('runs the story', async () => {
    await setProgram(ctx, {
      currency: 'EUR',
      startsAt: '2026-01-01T00:00:00Z',
      earn: { rate: { type: 'per-unit', points: 1, perMinor: 100 }, rounding: 'floor', multipliers: [] },
      pointValue: { points: 3, minor: 2 },
      pendingDays: 14,
      expiryDays: 45,
      overdraft: 'allow',
      welcomeBonus: { points: 10, expiryDays: 30 },
      redemption: { minPoints: 30 },
      tiers: { basis: 'spend', levels: [{ name: 'Silver', threshold: 20000 }] },
    });
    at('2026-02-01T00:00:00Z');
    await place('A1', 'ann', '2026-01-31T23:30:00Z', '100.00');
    at('2026-02-10T12:00:00Z');
    await place('B1', 'bob', '2026-02-10T10:00:00Z', '250.00');
    at('2026-02-12T12:00:00Z');
    await refund('RB1', 'B1', '50.00', '2026-02-12T11:00:00Z');
    at('2026-03-01T12:00:00Z');
    await sweep(ctx);
    expect(
      (await redeem(ctx, { customer: 'ann', points: 60, idempotencyKey: 'a1' })).redemption.valueMinor,
    ).toBe(40);
    const b = (await redeem(ctx, { customer: 'bob', points: 30, idempotencyKey: 'b1' })).redemption;
    at('2026-03-02T09:00:00Z');
    await place('C1', 'cat', '2026-03-02T08:00:00Z', '100.00');
    at('2026-03-05T12:00:00Z');
    await reverseRedemption(ctx, { id: b.id, body: { reason: 'code unused' } });
    at('2026-03-20T00:00:00Z');
    await sweep(ctx);
    await redeem(ctx, { customer: 'cat', points: 90, idempotencyKey: 'c1' });
    await adjust(ctx, { customer: 'ann', points: 15, reason: 'goodwill', idempotencyKey: 'adj1' });
    await adjust(ctx, { customer: 'ann', points: -5, reason: 'correction', idempotencyKey: 'adj2' });
    at('2026-03-21T12:00:00Z');
    await refund('RC1', 'C1', '100.00', '2026-03-21T11:00:00Z');
    at('2026-03-24T13:00:00Z');
    await place('D1', 'dan', '2026-03-24T12:00:00Z', '31.00');
    at('2026-03-25T00:00:00Z');
    report = await loyaltyReport(ctx, { from: '2026-01-15T00:00:00Z', windowDays: 20 });
    expect(report).toMatchObject({
      definition: 'loyalty.report',
      generatedAt: '2026-03-25T00:00:00.000Z',
      from: '2026-01-15T00:00:00.000Z',
      to: '2026-03-25T00:00:00.000Z',
      timeZone: 'Europe/Kyiv',
      currency: 'EUR',
      minorDigits: 2,
      pointValue: { points: 3, minor: 2 },
    });
  });

  it('liability: open grants by Kyiv month of expiry, debt deducted from the total, values rounded down', () => {
    // Open at 03-25 00:00 UTC: ann's order grant 45 (expires 03-31 23:30 UTC = 1 April 02:30 in Kyiv),
    // bob's 200 (04-10), dan's welcome 10 (04-23): April 255 available → floor(255 · 2/3) = 170.
    // ann's adjustment 15 (05-04) and dan's pending 31 (05-22): May 46 → floor(92/3) = 30.
    // Available 270 − debt 80 (cat) = 190 → floor(380/3) = 126; pending 31 → floor(62/3) = 20;
    // total 221 → floor(442/3) = 147 (not 126 + 20: each figure is floored from its own points).
    expect(report.liability).toEqual({
      asOf: '2026-03-25T00:00:00.000Z',
      availablePoints: 270,
      debtPoints: 80,
      outstandingPoints: 190,
      outstandingValueMinor: 126,
      pendingPoints: 31,
      pendingValueMinor: 20,
      totalPoints: 221,
      totalValueMinor: 147,
      byExpiryMonth: [
        { month: '2026-04', availablePoints: 255, pendingPoints: 0, points: 255, valueMinor: 170 },
        { month: '2026-05', availablePoints: 15, pendingPoints: 31, points: 46, valueMinor: 30 },
      ],
    });
  });

  it('liability agrees with the members’ cached balances', async () => {
    const [m] = await db.query<{ available: number; pending: number }>(
      `SELECT SUM(available) AS available, SUM(pending) AS pending FROM loyalty_members`,
    );
    expect(report.liability.outstandingPoints).toBe(m!.available);
    expect(report.liability.pendingPoints).toBe(m!.pending);
  });

  it('flows by Kyiv month: ann’s order of 31 January 23:30 UTC is February’s', () => {
    const [jan, feb, mar] = report.flows.months;
    expect(report.flows.months.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(jan).toMatchObject({ earned: 0, released: 0, netSalesMinor: 0, earnRate: null });
    // February: orders ann 100 + bob 250, welcomes 10 + 10; releases 100 (ann) + 200 (bob, after the
    // clawback of 50). Net sales 100.00 + 250.00 − 50.00 = 300.00, all by members (enrolled at the order):
    // 350 points on orders / 300 EUR.
    expect(feb).toEqual({
      month: '2026-02',
      earned: 370,
      earnedOnOrders: 350,
      earnedBonuses: 20,
      released: 300,
      redeemed: 0,
      reversed: 0,
      expired: 0,
      clawedBack: 50,
      adjusted: 0,
      netSalesMinor: 30000,
      memberNetSalesMinor: 30000,
      earnRate: expect.closeTo(350 / 300, 12) as number,
    });
    // March: cat 100 + dan 31 on orders, welcomes 10 + 10; cat's 100 released; redeemed 60 + 30 + 90,
    // 30 reversed; bob's welcome expired (10; ann's expired with 0 left); cat's 100 clawed back;
    // adjustments +15 − 5. Net sales: cat 100.00 − 100.00 + dan 31.00.
    expect(mar).toEqual({
      month: '2026-03',
      earned: 151,
      earnedOnOrders: 131,
      earnedBonuses: 20,
      released: 100,
      redeemed: 180,
      reversed: 30,
      expired: 10,
      clawedBack: 100,
      adjusted: 10,
      netSalesMinor: 3100,
      memberNetSalesMinor: 3100,
      earnRate: expect.closeTo(131 / 31, 12) as number,
    });
    expect(report.flows.totals).toMatchObject({
      earned: 521,
      earnedOnOrders: 481,
      redeemed: 180,
      expired: 10,
      netSalesMinor: 33100,
    });
    expect(report.flows.totals.earnRate).toBeCloseTo(481 / 331, 12);
    expect(report.flows.burnRate).toBeCloseTo(180 / 521, 12);
    expect(report.flows.expiryRate).toBeCloseTo(10 / 521, 12);
    // Everything since the programme began is in the period, so the flows add up to the balances:
    // earned + adjusted − redeemed + reversed − expired − clawed back = outstanding + pending.
    const t = report.flows.totals;
    expect(t.earned + t.adjusted - t.redeemed + t.reversed - t.expired - t.clawedBack).toBe(
      report.liability.totalPoints,
    );
  });

  it('redemptions: counts, value, and the shares of members and of active members who redeemed', () => {
    expect(report.redemption).toEqual({
      count: 3,
      points: 180,
      valueMinor: 120, // 40 + 20 + 60
      reversedCount: 1,
      reversedPoints: 30,
      reversedValueMinor: 20,
      members: 4,
      membersRedeemed: 2, // ann, cat (bob's was reversed)
      shareOfMembers: 0.5,
      activeMembers: 4, // each ordered in the period
      activeMembersRedeemed: 2,
      shareOfActiveMembers: 0.5,
    });
  });

  it('members: total, by tier from the lowest, enrolled in the period', () => {
    expect(report.members).toEqual({
      total: 4,
      byTier: [
        { tier: null, members: 3 },
        { tier: 'Silver', members: 1 },
      ],
      enrolledInPeriod: 4,
    });
  });

  it('members vs non-members: every customer’s orders net of refunds; who can be compared and why not', async () => {
    // bob enrolled at his February purchase with history (November) → comparable, at a purchase;
    // ann and cat joined at their first purchase; dan's 20-day window is not over.
    expect(report.membersVsNonMembers.counts).toMatchObject({
      members: 4,
      eligible: 1,
      enrolledAtPurchase: 1,
      joinedAtFirstPurchase: 2,
      windowIncomplete: 1,
      matched: 0,
    });
    expect(report.membersVsNonMembers.windowDays).toBe(20);
    expect(report.membersVsNonMembers.verdict).toMatch(
      /^No member could be compared: no non-member had the same purchase history as the member who bought before joining/,
    );
    const rows = await reportsRepo.customerNetOrders(db, clock.now(), 'EUR');
    const net = (ext: string) =>
      db
        .query<{ customer_id: number }>(`SELECT customer_id FROM customers WHERE external_id = $1`, [ext])
        .then(([c]) => rows.filter((r) => r.customer_id === c!.customer_id).map((r) => r.net_minor));
    expect(await net('bob')).toEqual([8000, 20000]);
    expect(await net('cat')).toEqual([0]);
  });

  it('defaults: the 12 months to now; refuses an empty period and a bad window', async () => {
    const r = await loyaltyReport(ctx, {});
    expect([r.from, r.to]).toEqual(['2025-03-25T00:00:00.000Z', '2026-03-25T00:00:00.000Z']);
    expect(r.flows.months).toHaveLength(13); // March 2025 (from 02:00 Kyiv) … March 2026
    expect(r.membersVsNonMembers.windowDays).toBe(180);
    expect(r.flows.totals.earned).toBe(521);
    for (const [input, field] of [
      [{ from: '2026-03-25T00:00:00Z' }, 'from'],
      [{ windowDays: 0 }, 'windowDays'],
      [{ to: 'yesterday' }, 'to'],
    ] as const) {
      const err = await loyaltyReport(ctx, input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('validation');
      expect(JSON.stringify((err as AppError).where ?? (err as AppError).details)).toContain(field);
    }
  });

  it('Markdown: compact tables of each part', () => {
    const md = loyaltyReportMarkdown(report);
    expect(md).toContain('# Loyalty report');
    expect(md).toContain('Outstanding **190 points = 1.26 EUR** (270 available − 80 owed by members)');
    expect(md).toContain('| 2026-04 | 255 | 0 | 255 | 1.70 EUR |');
    expect(md).toContain('| 2026-02 | 370 | 300 | 0 | 0 | 0 | 50 | 0 | 300.00 EUR | 300.00 EUR | 1.17 |');
    expect(md).toContain('Burn rate (redeemed / earned) 34.5%; expiry rate (expired / earned) 1.9%.');
    expect(md).toContain('2 of 4 members redeemed at least once (50.0%)');
    expect(md).toContain('| Silver | 1 |');
    expect(md).toContain(report.membersVsNonMembers.verdict);
    expect(md).toContain('## Notes');
  });
});

describe('pointsValueMinor', () => {
  it('rounds down exactly, also beyond 2^53 in the product and for a negative balance', () => {
    expect(pointsValueMinor(100, { points: 3, minor: 2 })).toBe(66);
    expect(pointsValueMinor(-1, { points: 3, minor: 2 })).toBe(-1);
    expect(pointsValueMinor(9_007_199_254_740_991, { points: 100, minor: 99 })).toBe(8_917_127_262_193_581);
  });
});

/**
 * One March of customers, all in one stratum (one order of 10.00 on 1 March, members enrolling on
 * 10 March = the controls' reference time): `buy` of the members and `controlBuy` of the controls order
 * 10.00 again on 20 March (inside a 30-day window).
 */
function oneStratum(members: number, buy: number, controls: number, controlBuy: number): CustomerHistory[] {
  const at = (day: string) => new Date(`2025-03-${day}T00:00:00Z`);
  const out: CustomerHistory[] = [];
  for (let i = 0; i < members + controls; i++) {
    const member = i < members;
    const again = member ? i < buy : i - members < controlBuy;
    out.push({
      customerId: i + 1,
      enrolledAt: member ? at('10') : null,
      orders: [{ at: at('01'), netMinor: 1000 }, ...(again ? [{ at: at('20'), netMinor: 1000 }] : [])],
    });
  }
  return out;
}
const verdictOf = (c: CustomerHistory[]) =>
  membersVerdict(
    membersVsNonMembers(c, { asOf: new Date('2025-12-31T00:00:00Z'), windowDays: 30 }),
    'EUR',
    2,
  );

describe('membersVerdict', () => {
  it('a difference beyond chance, in percentage points and money, with its interval', () => {
    // Members 30 of 40 buy again, controls 20 of 40: +25.0 points; variance (0.75 · 0.25 + 0.5 · 0.5) · (40/39) / 40
    //   = 0.0112179 → SE 0.10592 → ± 20.76 points: 4.2 to 45.8. Revenue +2.50 EUR, ± 2.08: 0.42 to 4.58.
    expect(verdictOf(oneStratum(40, 30, 40, 20))).toBe(
      'In the 30 days after joining, members bought again 25.0 percentage points more often than comparable ' +
        'non-members (95% CI 4.2 to 45.8): more than chance alone would explain. They spent 2.50 EUR more per ' +
        'member (95% CI 0.42 to 4.58 EUR): more than chance alone would explain. 40 of 40 members compared, ' +
        'matched on purchase history only; members chose to join, so this shows how they differ, not that the ' +
        'programme caused it.',
    );
  });

  it('an interval that covers 0 is read as no distinguishable difference', () => {
    // 25 of 40 vs 20 of 40: +12.5 points, SE √((0.625 · 0.375 + 0.5 · 0.5) / 39) = 0.11145 → ± 21.84:
    //   −9.3 to 34.3. Revenue +1.25 EUR ± 2.18: −0.93 to 3.43.
    expect(verdictOf(oneStratum(40, 25, 40, 20))).toMatch(
      /^In the 30 days after joining, members bought again 12\.5 percentage points more often than comparable non-members \(95% CI −9\.3 to 34\.3\): not distinguishable from no difference\. They spent 1\.25 EUR more per member \(95% CI −0\.93 to 3\.43 EUR\): not distinguishable from no difference\./,
    );
  });

  it('fewer than 30 matched members: too few to tell; none comparable: says why', () => {
    expect(verdictOf(oneStratum(12, 10, 40, 10))).toMatch(
      /^Too few members to tell: only 12 members could be matched with comparable non-members/,
    );
    expect(verdictOf(oneStratum(0, 0, 10, 5))).toBe('No loyalty members yet: nothing to compare.');
    const late = oneStratum(3, 0, 10, 0).map((c) => (c.enrolledAt ? { ...c, orders: [] } : c));
    expect(verdictOf(late)).toMatch(
      /^No member can be compared yet: .* Of 3 members, 3 joined at their first purchase and 0 joined less than 30 days ago\./,
    );
  });
});
