import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import { DAY_MS } from '../../shared/time.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder, upsertRefund } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { ordersSubscriber } from './jobs.js';
import {
  adjust,
  enrol,
  getMember,
  memberLedger,
  memberTiers,
  redeem,
  reverseRedemption,
  rewardAction,
  setProgram,
  sweep,
} from './service.js';

/** A store's day with the loyalty programme: orders earn, refunds claw back, points expire (issue 24). */
describe.each(testEngines())('loyalty service on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  let clock: ManualClock;
  let dispatcher: Dispatcher;

  const order = (
    id: string,
    customer: string,
    at: string,
    lines: [string, number, string][],
    extra: Record<string, unknown> = {},
  ) => ({
    order_id: id,
    customer_id: customer,
    ordered_at: at,
    currency: 'EUR',
    lines: lines.map(([sku, quantity, unit_price]) => ({ sku, quantity, unit_price })),
    ...extra,
  });
  const place = async (o: Record<string, unknown>) => {
    await upsertOrder(ctx, { body: o });
    await dispatcher.drain();
  };
  const refund = async (id: string, orderId: string, amount: string, at: string) => {
    await upsertRefund(ctx, {
      body: { refund_id: id, order_id: orderId, amount, refunded_at: at, currency: 'EUR' },
    });
    await dispatcher.drain();
  };
  const sums = async (customer: string) => {
    const [r] = await db.query<{ available: number; pending: number; a: number | null; p: number | null }>(
      `SELECT m.available, m.pending,
         (SELECT SUM(available_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id) AS a,
         (SELECT SUM(pending_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id) AS p
       FROM loyalty_members m JOIN customers c ON c.customer_id = m.customer_id WHERE c.external_id = $1`,
      [customer],
    );
    return r!;
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    clock = new ManualClock('2026-03-01T09:00:00Z');
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber] });
    await dispatcher.register();
    await upsertOrder(ctx, { body: order('SEED', 'seed', '2026-01-01T10:00:00Z', [['MUG', 1, '1.00']]) });
    await db.exec(
      `UPDATE customers SET birthday = DATE '1990-03-04', time_zone = 'Pacific/Auckland' WHERE external_id = 'seed'`,
    );
    await db.exec(
      `INSERT INTO products (sku, title, category, updated_at) VALUES ('TEA', 'Tea', 'tea', now())`,
    );
    await setProgram(ctx, {
      currency: 'EUR',
      startsAt: '2026-02-01T00:00:00Z',
      earn: {
        rate: { type: 'per-unit', points: 1, perMinor: 100 },
        rounding: 'floor',
        multipliers: [{ category: 'tea', multiplier: 2 }],
      },
      pointValue: { points: 100, minor: 100 },
      pendingDays: 14,
      expiryDays: 60,
      welcomeBonus: { points: 50, expiryDays: 30 },
      birthdayBonus: { points: 200, daysBefore: 3, daysAfter: 3 },
      actions: { review: { points: 25, perMemberLimit: 2 } },
      redemption: { minPoints: 100, maxPoints: 5000 },
      tiers: {
        basis: 'spend',
        windowMonths: 12,
        downgradeGraceDays: 10,
        levels: [
          { name: 'Silver', threshold: 20000, multiplier: 1.5 },
          { name: 'Gold', threshold: 100000, multiplier: 2 },
        ],
      },
      expiringNoticeDays: 7,
    });
  });
  afterAll(() => dispose());

  it('an order enrols the customer, earns pending points with the category multiplier, and a welcome bonus', async () => {
    // 2 × 30.00 MUG + 1 × 20.00 TEA (×2) = 60 + 40 = 100 points.
    await place(
      order('A1', 'ann', '2026-03-01T08:00:00Z', [
        ['MUG', 2, '30.00'],
        ['TEA', 1, '20.00'],
      ]),
    );
    const m = await getMember(ctx, { customer: 'ann' });
    expect(m).toMatchObject({ pending: 100, available: 50, debt: 0, tier: null });
    expect(m.cardNumber).toMatch(/^\d{16}$/);
    const s = await sums('ann');
    expect([s.a, s.p]).toEqual([s.available, s.pending]);
    // The order before the programme's start earns nothing and enrols nobody.
    await expect(getMember(ctx, { customer: 'seed' })).rejects.toThrow(/not a loyalty member/);
  });

  it('a replayed order and its events change nothing', async () => {
    await place(
      order('A1', 'ann', '2026-03-01T08:00:00Z', [
        ['MUG', 2, '30.00'],
        ['TEA', 1, '20.00'],
      ]),
    );
    await db
      .exec(`UPDATE domain_subscriptions SET cursor = 0 WHERE name = 'loyalty-orders'`)
      .catch(() => undefined);
    await dispatcher.drain();
    expect(await getMember(ctx, { customer: 'ann' })).toMatchObject({ pending: 100, available: 50 });
  });

  it('redeems FIFO with an idempotency key; refuses more than available with nothing written', async () => {
    await expect(redeem(ctx, { customer: 'ann', points: 100, idempotencyKey: 'r1' })).rejects.toThrow(
      /cannot redeem 100 points: 50 available/,
    );
    clock.set(new Date('2026-03-16T09:00:00Z')); // the return window has passed: 150 available
    const r = await redeem(ctx, { customer: 'ann', points: 100, idempotencyKey: 'r1' });
    expect(r).toMatchObject({
      replayed: false,
      redemption: { points: 100, valueMinor: 100, currency: 'EUR', kind: 'code', status: 'active' },
    });
    expect(r.redemption.code).toMatch(/^PTS-[A-Z2-9]{5}-[A-Z2-9]{5}$/);
    const again = await redeem(ctx, { customer: 'ann', points: 100, idempotencyKey: 'r1' });
    expect(again).toEqual({ ...r, replayed: true });
    await expect(redeem(ctx, { customer: 'ann', points: 200, idempotencyKey: 'r1' })).rejects.toThrow(
      /was used for another redemption/,
    );
    const m = await getMember(ctx, { customer: 'ann' });
    expect(m).toMatchObject({ available: 50, pending: 0 });
    // The welcome bonus expires first (30 days from 1 March), so it was spent first: 50 of it + 50 of the order's.
    const [left] = await db.query<{ kind: string; remaining: number }>(
      `SELECT kind, remaining FROM loyalty_grants g JOIN customers c ON c.customer_id = g.customer_id WHERE c.external_id = 'ann' AND remaining > 0`,
    );
    expect(left).toEqual({ kind: 'order', remaining: 50 });
  });

  it('bad input: unknown customer, negative points, below the minimum, not a member → clear errors, no entry', async () => {
    const before = (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM loyalty_entries`))[0]!.n;
    await expect(redeem(ctx, { customer: 'nobody', points: 100, idempotencyKey: 'x' })).rejects.toThrow(
      /unknown customer 'nobody'/,
    );
    await expect(redeem(ctx, { customer: 'ann', points: -5, idempotencyKey: 'x' })).rejects.toThrow(/points/);
    await expect(redeem(ctx, { customer: 'ann', points: 10, idempotencyKey: 'x' })).rejects.toThrow(
      /at least 100 points/,
    );
    await expect(redeem(ctx, { customer: 'seed', points: 100, idempotencyKey: 'x' })).rejects.toThrow(
      /not a loyalty member/,
    );
    await expect(
      adjust(ctx, { customer: 'ann', points: -500, reason: 'test', idempotencyKey: 'a' }),
    ).rejects.toThrow(/cannot take 500 points: 50 available/);
    await expect(rewardAction(ctx, { customer: 'ann', action: 'tweet', reference: '1' })).rejects.toThrow(
      /no points for 'tweet'.*review/,
    );
    expect((await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM loyalty_entries`))[0]!.n).toBe(before);
    expect(
      (
        await db.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM loyalty_redemptions WHERE idempotency_key = 'x'`,
        )
      )[0]!.n,
    ).toBe(0);
  });

  it('reversal gives the points back to their grants; the expired part expires again', async () => {
    const r = await redeem(ctx, { customer: 'ann', points: 50, idempotencyKey: 'r-small' }).catch(() => null);
    expect(r).toBeNull(); // below the minimum of 100
    const first = (await redeem(ctx, { customer: 'ann', points: 100, idempotencyKey: 'r1' })).redemption;
    clock.set(new Date('2026-04-02T09:00:00Z')); // the welcome grant (to 31 March) has expired
    const out = await reverseRedemption(ctx, { id: first.id, body: { reason: 'code unused' } });
    expect(out).toMatchObject({ reversed: true, redemption: { status: 'reversed' } });
    // 50 back to the order grant (alive), 50 to the welcome grant (expired: expire again).
    expect(await getMember(ctx, { customer: 'ann' })).toMatchObject({ available: 100 });
    expect((await reverseRedemption(ctx, { id: first.id, body: {} })).reversed).toBe(false);
    const s = await sums('ann');
    expect([s.a, s.p]).toEqual([s.available, s.pending]);
  });

  it('a partial then full refund claws back proportionally; spent points under forgive are written off', async () => {
    clock.set(new Date('2026-04-03T09:00:00Z'));
    await place(order('B1', 'bob', '2026-04-03T08:00:00Z', [['MUG', 1, '200.00']])); // 200 pending + 50 welcome
    await refund('RF1', 'B1', '50.00', '2026-04-04T10:00:00Z'); // 25 % → 50 points from pending
    expect(await getMember(ctx, { customer: 'bob' })).toMatchObject({ pending: 150, available: 50 });
    clock.set(new Date('2026-04-20T09:00:00Z'));
    await redeem(ctx, { customer: 'bob', points: 200, idempotencyKey: 'b1' }); // spends all 200
    await refund('RF2', 'B1', '150.00', '2026-04-21T10:00:00Z'); // the rest: 150 more points, none left
    const m = await getMember(ctx, { customer: 'bob' });
    expect(m).toMatchObject({ available: 0, pending: 0, debt: 0 });
    const entries = (await memberLedger(ctx, { customer: 'bob', limit: 20 })).data;
    // A clawback is dated at its refund.
    expect(entries.filter((e) => e.type === 'clawback').map((e) => e.occurredAt)).toEqual([
      '2026-04-21T10:00:00.000Z',
      '2026-04-04T10:00:00.000Z',
    ]);
    expect(entries.find((e) => e.type === 'clawback' && e.points === 150)?.reason).toMatch(
      /150 points already spent were written off/,
    );
    // Replaying the refund events changes nothing.
    await refund('RF2', 'B1', '150.00', '2026-04-21T10:00:00Z');
    expect((await memberLedger(ctx, { customer: 'bob', limit: 50 })).data.length).toBe(entries.length);
  });

  it('tiers go up on an order and down only after the grace period; history kept', async () => {
    clock.set(new Date('2026-05-01T09:00:00Z'));
    await place(order('C1', 'cat', '2026-05-01T08:00:00Z', [['MUG', 1, '250.00']])); // 25,000 ≥ Silver
    expect((await getMember(ctx, { customer: 'cat' })).tier).toBe('Silver');
    await refund('RF3', 'C1', '200.00', '2026-05-02T10:00:00Z'); // net 50.00: below Silver
    clock.set(new Date('2026-05-03T09:00:00Z'));
    await sweep(ctx);
    const m = await getMember(ctx, { customer: 'cat' });
    expect(m.tier).toBe('Silver');
    expect(m.downgradeAt).toBe('2026-05-13T09:00:00.000Z');
    clock.set(new Date('2026-05-14T09:00:00Z'));
    // Bob (Silver on his 200.00 order, refunded in full) falls with Cat.
    expect((await sweep(ctx)).tiersDown).toBe(2);
    expect((await getMember(ctx, { customer: 'cat' })).tier).toBeNull();
    expect((await memberTiers(ctx, { customer: 'cat' })).map((h) => [h.from, h.to])).toEqual([
      [null, 'Silver'],
      ['Silver', null],
    ]);
  });

  it('orders delivered in one batch move each member up as of their own order', async () => {
    clock.set(new Date('2026-05-16T09:00:00Z'));
    await upsertOrder(ctx, { body: order('E1', 'eve', '2026-05-15T08:00:00Z', [['MUG', 1, '300.00']]) });
    await upsertOrder(ctx, { body: order('F1', 'fay', '2026-05-16T07:00:00Z', [['MUG', 1, '300.00']]) });
    await dispatcher.drain();
    for (const [c, at] of [
      ['eve', '2026-05-15T08:00:00.000Z'],
      ['fay', '2026-05-16T07:00:00.000Z'],
    ] as const)
      expect(await memberTiers(ctx, { customer: c })).toEqual([
        { changedAt: at, from: null, to: 'Silver', basisValue: 30000, reason: 'order' },
      ]);
  });

  it('an order cancelled within its return window earns nothing: its pending points are clawed back when due', async () => {
    clock.set(new Date('2026-05-20T09:00:00Z'));
    await place(order('D1', 'dan', '2026-05-20T08:00:00Z', [['MUG', 1, '80.00']]));
    expect(await getMember(ctx, { customer: 'dan' })).toMatchObject({ pending: 80, available: 50 });
    await place(order('D1', 'dan', '2026-05-20T08:00:00Z', [['MUG', 1, '80.00']], { status: 'cancelled' }));
    clock.set(new Date('2026-06-05T09:00:00Z'));
    await sweep(ctx);
    expect(await getMember(ctx, { customer: 'dan' })).toMatchObject({ pending: 0, available: 50 });
    const [e] = (await memberLedger(ctx, { customer: 'dan', limit: 5 })).data.filter(
      (x) => x.type === 'clawback',
    );
    expect(e).toMatchObject({
      points: 80,
      pendingDelta: -80,
      availableDelta: 0,
      order: 'D1',
      reason: 'order cancelled',
    });
  });

  it('birthday bonus once a year in the customer time zone; actions once per reference and up to the limit', async () => {
    await enrol(ctx, { customer: 'seed' });
    // Birthday 4 March, window 1–7 March in Auckland. 28 Feb 11:30 UTC = 1 March 00:30 in Auckland.
    clock.set(new Date('2027-02-28T11:30:00Z'));
    expect((await sweep(ctx)).birthdayGrants).toBe(1);
    expect((await sweep(ctx)).birthdayGrants).toBe(0);
    clock.set(new Date('2027-03-06T11:30:00Z'));
    expect((await sweep(ctx)).birthdayGrants).toBe(0);
    expect((await rewardAction(ctx, { customer: 'seed', action: 'review', reference: 'rv1' })).granted).toBe(
      true,
    );
    expect((await rewardAction(ctx, { customer: 'seed', action: 'review', reference: 'rv1' })).granted).toBe(
      false,
    );
    expect((await rewardAction(ctx, { customer: 'seed', action: 'review', reference: 'rv2' })).granted).toBe(
      true,
    );
    await expect(rewardAction(ctx, { customer: 'seed', action: 'review', reference: 'rv3' })).rejects.toThrow(
      /at most 2 times/,
    );
    const m = await getMember(ctx, { customer: 'seed' });
    expect(m.available).toBe(200 + 25 + 25 + 0); // the welcome bonus (2026) expired long ago
  });

  it('replaying every order and refund event from the beginning changes nothing', async () => {
    const state = async () =>
      db.query(`SELECT m.customer_id, m.available, m.pending, m.debt, (SELECT COUNT(*) FROM loyalty_entries e WHERE e.customer_id = m.customer_id) AS n
                FROM loyalty_members m ORDER BY m.customer_id`);
    const before = await state();
    await db.exec(`UPDATE event_subscriptions SET last_event_id = 0 WHERE name = 'loyalty-orders'`);
    expect(await dispatcher.drain()).toBe(10); // 7 orders, 3 refunds
    expect(await state()).toEqual(before);
  });

  it('points expire exactly their unspent remainder; points.expiring once per member and day', async () => {
    clock.set(new Date('2027-04-25T09:00:00Z')); // the birthday bonus expires on 29 April
    const r1 = await sweep(ctx);
    expect(r1.expiringNotices).toBe(1);
    expect((await sweep(ctx)).expiringNotices).toBe(0);
    clock.set(new Date('2028-01-01T00:00:00Z'));
    await sweep(ctx);
    const [bad] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM loyalty_grants g WHERE g.remaining <> g.points - COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a WHERE a.grant_id = g.grant_id), 0)`,
    );
    expect(bad!.n).toBe(0);
    const [open] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM loyalty_grants WHERE status <> 'expired' AND remaining > 0`,
    );
    expect(open!.n).toBe(0);
    const members = await db.query<{ available: number; a: number }>(
      `SELECT m.available, (SELECT SUM(available_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id) AS a FROM loyalty_members m`,
    );
    for (const m of members) expect(m.available).toBe(m.a);
    const events = await db.query<{ type: string; n: number }>(
      `SELECT type, COUNT(*) AS n FROM domain_events WHERE type IN ('points.earned', 'points.expiring', 'tier.changed') GROUP BY type ORDER BY type`,
    );
    expect(events.map((e) => e.type)).toEqual(['points.earned', 'points.expiring', 'tier.changed']);
    void DAY_MS;
  });
});
