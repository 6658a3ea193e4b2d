import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import { mulberry32 } from '../../shared/random.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder, upsertRefund } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { ordersSubscriber } from './jobs.js';
import { adjust, redeem, reverseRedemption, setProgram, sweep } from './service.js';

/**
 * The ledger as stored (issue 24's property test, through the service on both engines): random
 * sequences of orders (earning through the order events), partial refunds, redemptions, reversals,
 * adjustments and sweeps in simulated time, under both overdraft policies; then, in SQL:
 *   Σ entries = the cached totals; available ≥ 0 under forgive (≥ −debt under allow);
 *   remaining = points − Σ allocations and 0 ≤ remaining ≤ points for every grant (never spent beyond
 *   its amount); an expiry entry took exactly the grant's remainder and left it at 0;
 *   available = Σ remaining of available grants − debt. FIFO is proved on the pure ledger
 *   (src/analytics/loyalty/ledger.test.ts), which this code path runs.
 */
describe.each(testEngines())('the stored ledger over random sequences on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  let clock: ManualClock;
  let dispatcher: Dispatcher;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    clock = new ManualClock('2026-01-01T00:00:00Z');
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber] });
    await dispatcher.register();
  });
  afterAll(() => dispose());

  const SEEDS = [11, 12, 13, 14];
  it.each(SEEDS)('seed %i', async (seed) => {
    const rnd = mulberry32(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    await setProgram(ctx, {
      currency: 'EUR',
      pendingDays: int(0, 10),
      expiryDays: int(5, 40),
      overdraft: seed % 2 ? 'allow' : 'forgive',
      pointValue: { points: 1, minor: 1 },
      redemption: { minPoints: 1 },
      welcomeBonus: { points: 30, expiryDays: 10 },
    });
    const customers = [`s${seed}-a`, `s${seed}-b`];
    const orders: { id: string; total: number; refunded: number }[] = [];
    const redemptions: number[] = [];
    let n = 0;
    for (let step = 0; step < 45; step++) {
      clock.advance(int(0, 4) * 86_400_000 + int(0, 3_600_000));
      const who = customers[int(0, 1)]!;
      const op = rnd();
      if (op < 0.3) {
        const id = `o${seed}-${n++}`;
        const cents = int(100, 40000);
        await upsertOrder(ctx, {
          body: {
            order_id: id,
            customer_id: who,
            ordered_at: clock.now().toISOString(),
            currency: 'EUR',
            lines: [{ sku: 'X', quantity: 1, unit_price: (cents / 100).toFixed(2) }],
          },
        });
        orders.push({ id, total: cents, refunded: 0 });
      } else if (op < 0.45 && orders.length) {
        const o = orders[int(0, orders.length - 1)]!;
        const left = o.total - o.refunded;
        if (left <= 0) continue;
        const amount = rnd() < 0.3 ? left : int(1, left);
        o.refunded += amount;
        await upsertRefund(ctx, {
          body: {
            refund_id: `r${seed}-${n++}`,
            order_id: o.id,
            amount: (amount / 100).toFixed(2),
            refunded_at: clock.now().toISOString(),
            currency: 'EUR',
          },
        });
      } else if (op < 0.7) {
        const r = await redeem(ctx, {
          customer: who,
          points: int(1, 300),
          idempotencyKey: `k${seed}-${n++}`,
        }).catch((e: Error) => {
          if (!/cannot redeem|not a loyalty member|unknown customer/.test(e.message)) throw e;
          return null;
        });
        if (r) redemptions.push(r.redemption.id);
      } else if (op < 0.8 && redemptions.length) {
        await reverseRedemption(ctx, { id: redemptions[int(0, redemptions.length - 1)]!, body: {} });
      } else if (op < 0.88) {
        const pts = rnd() < 0.5 ? int(1, 100) : -int(1, 100);
        await adjust(ctx, {
          customer: who,
          points: pts,
          reason: 'desk',
          idempotencyKey: `a${seed}-${n++}`,
        }).catch((e: Error) => {
          if (!/cannot take|not a loyalty member|unknown customer/.test(e.message)) throw e;
        });
      } else await sweep(ctx);
      await dispatcher.drain();
    }
    const one = async (sql: string) => Number((await db.query<{ n: number }>(sql))[0]!.n);
    expect(
      await one(`SELECT COUNT(*) AS n FROM loyalty_members m WHERE m.available <> COALESCE((SELECT SUM(available_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id), 0)
                   OR m.pending <> COALESCE((SELECT SUM(pending_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id), 0)`),
      'Σ ledger = cached totals',
    ).toBe(0);
    expect(
      await one(
        `SELECT COUNT(*) AS n FROM loyalty_members WHERE available + debt < 0 OR pending < 0 OR debt < 0`,
      ),
    ).toBe(0);
    expect(
      await one(`SELECT COUNT(*) AS n FROM loyalty_members m JOIN customers c ON c.customer_id = m.customer_id
                 WHERE m.available < 0 AND m.debt = 0`),
      'below 0 only by debt',
    ).toBe(0);
    expect(
      await one(`SELECT COUNT(*) AS n FROM loyalty_grants g
                 WHERE g.remaining <> g.points - COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a WHERE a.grant_id = g.grant_id), 0)
                    OR g.remaining < 0 OR g.remaining > g.points OR (g.status = 'expired' AND g.remaining <> 0)`),
      'no grant spent beyond its amount',
    ).toBe(0);
    expect(
      await one(`SELECT COUNT(*) AS n FROM loyalty_entries e WHERE e.type = 'expire' AND e.grant_id IS NOT NULL
                   AND -e.available_delta <> COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a WHERE a.entry_id = e.entry_id AND a.grant_id = e.grant_id), 0)`),
      'expired = the remainder taken',
    ).toBe(0);
    expect(
      await one(`SELECT COUNT(*) AS n FROM loyalty_members m
                 WHERE m.available <> COALESCE((SELECT SUM(g.remaining) FROM loyalty_grants g WHERE g.customer_id = m.customer_id AND g.status = 'available'), 0) - m.debt`),
      'available = Σ remaining − debt',
    ).toBe(0);
    if (seed % 2 === 0)
      expect(
        await one(
          `SELECT COUNT(*) AS n FROM loyalty_entries WHERE type = 'clawback' AND available_delta < -points`,
        ),
      ).toBe(0);
    expect(await one(`SELECT COUNT(*) AS n FROM loyalty_entries`)).toBeGreaterThan(20);
  });
});
