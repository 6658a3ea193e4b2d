import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT as root } from '../../../test/support/bundle.js';
import { testContext } from '../../../test/support/context.js';
import { bundleChildScript, crashStore, runChild } from '../../../test/support/crash.js';
import { testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { ordersSubscriber } from './jobs.js';
import { setProgram } from './service.js';

/**
 * kill -9 of the process granting points (issue 24: "anything that grants is exactly-once by a unique
 * key written in the same transaction"). A child earns the points of 120 orders from their events, in
 * batches of 10 (SIGKILLed inside its 4th batch's transaction), then a second child finishes; a third
 * redeems 40 idempotency keys one by one (killed after 15) and a fourth redeems all 40 again. Every order
 * has exactly one grant, every key exactly one redemption, and the ledger adds up.
 */
const NOW = '2026-03-01T12:00:00Z';
const CHILD = `
import pino from 'pino';
import { openStore } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { Dispatcher } from ${JSON.stringify(join(root, 'src/modules/outbox/dispatcher.ts'))};
import { ManualClock } from ${JSON.stringify(join(root, 'src/kit/clock.ts'))};
import { JobQueue } from ${JSON.stringify(join(root, 'src/modules/jobs/service.ts'))};
import { ordersSubscriber } from ${JSON.stringify(join(root, 'src/modules/loyalty/jobs.ts'))};
import { redeem } from ${JSON.stringify(join(root, 'src/modules/loyalty/service.ts'))};
const [mode, engine, target, schema] = process.argv.slice(2);
const db = await openStore(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const clock = new ManualClock(${JSON.stringify(NOW)});
const ctx = { db, clock, jobs: new JobQueue(db, clock), log: pino({ level: 'silent' }) };
if (mode === 'earn') {
  const subscriber = {
    ...ordersSubscriber,
    batchSize: 10,
    // Reported inside the delivery transaction, after the grants are written, before the commit.
    handle: async (c, events) => {
      await ordersSubscriber.handle(c, events);
      process.stdout.write('batch ' + events.length + '\\n');
      await new Promise((r) => setTimeout(r, 20));
    },
  };
  await new Dispatcher({ ctx, subscribers: [subscriber] }).drain();
} else {
  for (let i = 0; i < 40; i++) {
    const r = await redeem(ctx, { customer: 'c' + (i % 30), points: 3, idempotencyKey: 'key-' + i });
    process.stdout.write('redeemed ' + r.redemption.id + ' ' + r.replayed + '\\n');
  }
}
await db.close();
process.exit(0);
`;

describe.each(testEngines())('loyalty grants and redemptions survive kill -9 on %s', (engine) => {
  let script: string;
  const store = crashStore(engine, 'loyalty-crash');
  let db: Database | undefined;

  beforeAll(async () => {
    script = await bundleChildScript(CHILD, 'loyalty-crash-child');
  });
  afterAll(async () => {
    await db?.close();
    await store.dispose();
  });

  it('each order earns once and each idempotency key spends once, across a crash', async () => {
    db = await store.open();
    const ctx = testContext(db, new ManualClock(NOW));
    await new Dispatcher({ ctx, subscribers: [ordersSubscriber] }).register();
    await setProgram(ctx, {
      currency: 'EUR',
      pendingDays: 0,
      pointValue: { points: 1, minor: 1 },
      redemption: { minPoints: 1 },
    });
    for (let i = 0; i < 120; i++)
      await upsertOrder(ctx, {
        body: {
          order_id: `o${i}`,
          customer_id: `c${i % 30}`,
          ordered_at: new Date(Date.parse(NOW) - (i + 1) * 3_600_000).toISOString(),
          currency: 'EUR',
          lines: [{ sku: 'X', quantity: 1, unit_price: `${10 + (i % 7)}.00` }],
        },
      });
    await db.close();
    db = undefined;

    const first = await runChild(script, ['earn', ...store.args], { prefix: 'batch ', killAfter: 4 });
    expect(first.killed).toBe(true);
    const second = await runChild(script, ['earn', ...store.args], { prefix: 'batch ' });
    expect(second.killed).toBe(false);
    const spend1 = await runChild(script, ['redeem', ...store.args], { prefix: 'redeemed ', killAfter: 15 });
    expect(spend1.killed).toBe(true);
    const spend2 = await runChild(script, ['redeem', ...store.args], { prefix: 'redeemed ' });
    expect(spend2.reported).toHaveLength(40);
    // The keys the first run reported (committed) are answered, not spent again.
    expect(spend2.reported.slice(0, 14).every((l) => l.endsWith(' true'))).toBe(true);

    db = await store.open();
    const one = async (sql: string) => Number((await db!.query<{ n: number }>(sql))[0]!.n);
    expect(await one(`SELECT COUNT(*) AS n FROM loyalty_grants WHERE kind = 'order'`)).toBe(120);
    expect(await one(`SELECT COUNT(DISTINCT order_id) AS n FROM loyalty_grants WHERE kind = 'order'`)).toBe(
      120,
    );
    // Σ 10 + (i mod 7) over 120 orders = 1,200 + Σ (i mod 7) = 1,200 + 17 × 21 + (0) = 1,557 points earned.
    expect(await one(`SELECT SUM(points) AS n FROM loyalty_grants`)).toBe(1200 + 17 * 21);
    expect(await one(`SELECT COUNT(*) AS n FROM loyalty_redemptions`)).toBe(40);
    expect(await one(`SELECT COUNT(*) AS n FROM loyalty_entries WHERE type = 'redeem'`)).toBe(40);
    expect(await one(`SELECT SUM(available) AS n FROM loyalty_members`)).toBe(1200 + 17 * 21 - 40 * 3);
    expect(
      await one(`SELECT COUNT(*) AS n FROM loyalty_members m
                 WHERE m.available <> (SELECT SUM(available_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id)`),
    ).toBe(0);
  }, 180_000);
});
