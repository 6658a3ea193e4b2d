import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDomainEvent } from '../../kit/events.js';
import { REPO_ROOT as root } from '../../../test/support/bundle.js';
import { bundleChildScript, crashStore, runChild } from '../../../test/support/crash.js';
import { testEngines } from '../../../test/support/storage.js';
import type { Database } from '../../storage/port.js';
import { recordEvents } from './service.js';
import * as repo from './repository.js';

/**
 * kill -9 test of the dispatcher: a child process delivers 60 events in batches of 5 to a subscriber
 * whose effect is written through the delivery transaction, slowly; it is SIGKILLed mid-batch and a
 * second process resumes from the cursor. Every event must have its effect exactly once, in id order.
 */
const EVENTS = 60;

const CHILD = `
import pino from 'pino';
import { openStore } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { Dispatcher } from ${JSON.stringify(join(root, 'src/modules/outbox/dispatcher.ts'))};
import { systemClock } from ${JSON.stringify(join(root, 'src/kit/clock.ts'))};
const [mode, engine, target, schema] = process.argv.slice(2);
const db = await openStore(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const subscriber = {
  name: 'crash-effects',
  types: ['order.placed'],
  start: 'beginning',
  batchSize: 5,
  handle: async ({ tx }, events) => {
    for (const e of events) {
      // The effect, keyed by event id, in the delivery transaction: it commits with the cursor.
      await tx.exec('INSERT INTO crash_effects (event_id, seq, pid) VALUES ($1, (SELECT COUNT(*) FROM crash_effects), $2) ON CONFLICT DO NOTHING', [e.id, process.pid]);
      process.stdout.write('handled ' + e.id + '\\n');
      await sleep(15);
    }
  },
};
const dispatcher = new Dispatcher({ ctx: { db, clock: systemClock, jobs: {}, log: pino({ level: 'silent' }) }, subscribers: [subscriber], pollMs: 20 });
if (mode === 'forever') {
  dispatcher.start();
} else {
  await dispatcher.drain();
  await db.close();
  process.exit(0);
}
`;

describe.each(testEngines())('domain event dispatcher survives kill -9 on %s', (engine) => {
  let script: string;
  const store = crashStore(engine, 'outbox-crash');
  const open = store.open;
  let db: Database | undefined;

  beforeAll(async () => {
    script = await bundleChildScript(CHILD, 'outbox-crash-child');
  });

  afterAll(async () => {
    await db?.close();
    await store.dispose();
  });

  it('resumes from its cursor: every event handled exactly once in effect, none lost', async () => {
    db = await open();
    await db.exec(
      `CREATE TABLE crash_effects (event_id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, pid INTEGER NOT NULL)`,
    );
    const events: NewDomainEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
      type: 'order.placed',
      customerId: (i % 4) + 1,
      occurredAt: new Date(Date.UTC(2024, 0, 1 + i)),
      payload: { order_id: i + 1, external_id: `O-${i + 1}`, total_minor: 100, currency: 'EUR' },
    }));
    const d = db;
    await d.transaction((tx) => recordEvents(tx, d.dialect, events, new Date('2024-06-01T00:00:00Z')));
    await db.close(); // DuckDB: one process holds the file at a time
    db = undefined;

    // Killed while handling the 3rd event of the 3rd batch: that batch is not committed.
    const run = async (mode: string, killAfter?: number) => {
      const r = await runChild(script, [mode, ...store.args], {
        prefix: 'handled ',
        ...(killAfter !== undefined ? { killAfter } : {}),
      });
      return { handled: r.reported.map(Number), killed: r.killed };
    };
    const first = await run('forever', 13);
    expect(first.killed).toBe(true);
    const second = await run('drain');
    expect(second.killed).toBe(false);

    db = await open();
    const effects = await db.query<{ event_id: number; seq: number; pid: number }>(
      `SELECT event_id, seq, pid FROM crash_effects ORDER BY seq`,
    );
    const ids = (
      await db.query<{ event_id: number }>(`SELECT event_id FROM domain_events ORDER BY event_id`)
    ).map((r) => r.event_id);
    // Exactly once in effect, in event-id order, nothing lost.
    expect(effects.map((e) => e.event_id)).toEqual(ids);
    expect(new Set(effects.map((e) => e.pid)).size).toBe(2);
    expect((await repo.getSubscription(db, 'crash-effects'))?.last_event_id).toBe(ids[ids.length - 1]);
    // At least once: the second process re-delivered what the first handled but never committed.
    expect(first.handled.length + second.handled.length).toBeGreaterThan(EVENTS);
    expect(second.handled[0]).toBeLessThanOrEqual(first.handled[first.handled.length - 1] as number);
  }, 120_000);
});
