import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDomainEvent } from '../../kit/events.js';
import { openStore } from '../store.js';
import { testEngines } from '../../../test/support/storage.js';
import { bundleForTest } from '../../../test/support/bundle.js';
import type { Database } from '../../storage/port.js';
import { recordEvents } from './service.js';
import * as repo from './repository.js';

/**
 * kill -9 test of the dispatcher: a child process delivers 60 events in batches of 5 to a subscriber
 * whose effect is written through the delivery transaction, slowly; it is SIGKILLed mid-batch and a
 * second process resumes from the cursor. Every event must have its effect exactly once, in id order.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const work = join(root, 'node_modules', '.cache', 'retain-outbox-crash-test');
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

function runChild(
  script: string,
  args: string[],
  killAfter?: number,
): Promise<{ handled: number[]; killed: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const handled: number[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('handled ')) return;
      handled.push(Number(line.slice(8)));
      if (killAfter !== undefined && handled.length === killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolvePromise({ handled, killed: true });
      else if (code === 0) resolvePromise({ handled, killed: false });
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

describe.each(testEngines())('domain event dispatcher survives kill -9 on %s', (engine) => {
  let script: string;
  let dir: string;
  let target: string;
  let schema = '';
  let db: Database | undefined;

  const open = () =>
    engine === 'postgres' ? openStore({ databaseUrl: target, schema }) : openStore({ db: target });

  beforeAll(async () => {
    mkdirSync(work, { recursive: true });
    const entry = join(work, `child-${process.pid}.ts`);
    writeFileSync(entry, CHILD);
    script = await bundleForTest(entry, 'outbox-crash-child');
    dir = mkdtempSync(join(tmpdir(), 'retain-outbox-crash-'));
    if (engine === 'postgres') {
      target = process.env.RETAIN_TEST_DATABASE_URL as string;
      schema = `outbox_crash_${process.pid}_${Date.now().toString(36)}`;
    } else {
      target = join(dir, 'crash.duckdb');
    }
  });

  afterAll(async () => {
    if (engine === 'postgres') {
      const d = await open();
      await d.exec(`DROP SCHEMA ${schema} CASCADE`);
      await d.close();
    }
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
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
    const first = await runChild(script, ['forever', engine, target, schema], 13);
    expect(first.killed).toBe(true);
    const second = await runChild(script, ['drain', engine, target, schema]);
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
