import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT as root } from '../../../test/support/bundle.js';
import { bundleChildScript, crashStore, runChild } from '../../../test/support/crash.js';
import { testEngines } from '../../../test/support/storage.js';

/**
 * Issue 20, item 8: "Event batches are not atomic: a batch of 1,000 is written in chunks of 500 outside a
 * transaction; a kill -9 left 500 of an unacknowledged batch stored." A child process stores a batch of
 * 1,000 events (the POST /v1/events service), pausing after the first chunk of 500 is written; it is
 * SIGKILLed there. Nothing of the batch may be stored; the client's retry stores all 1,000, once.
 */
const CHILD = `
import pino from 'pino';
import { openStore } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { ingestEvents } from ${JSON.stringify(join(root, 'src/modules/events/service.ts'))};
import { systemClock } from ${JSON.stringify(join(root, 'src/kit/clock.ts'))};
const [mode, engine, target, schema] = process.argv.slice(2);
const store = await openStore(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The store as the service sees it; in 'pause' mode its transaction stops after the first write of events.
const db = Object.create(store, {
  transaction: {
    value: (fn) =>
      store.transaction((tx) =>
        fn({
          ...tx,
          query: async (sql, p) => {
            const rows = await tx.query(sql, p);
            if (mode === 'pause' && /INSERT INTO events/.test(sql)) {
              process.stdout.write('wrote ' + rows.length + '\\n');
              await sleep(60_000);
            }
            return rows;
          },
          copyRows: (...a) => tx.copyRows(...a),
          bulkLoad: (...a) => tx.bulkLoad(...a),
          exec: (sql, p) => tx.exec(sql, p),
        }),
      ),
  },
});
const items = Array.from({ length: 1000 }, (_, i) => ({
  event_id: 'batch-' + i,
  type: 'page_view',
  occurred_at: '2024-05-01T10:00:00Z',
  customer_id: 'c-' + (i % 37),
}));
const r = await ingestEvents({ db, clock: systemClock, jobs: {}, log: pino({ level: 'silent' }) }, { items });
process.stdout.write('stored ' + r.inserted + '\\n');
await store.close();
process.exit(0);
`;

describe.each(testEngines())('an event batch under kill -9 on %s', (engine) => {
  let script: string;
  const store = crashStore(engine, 'events-crash');
  beforeAll(async () => {
    script = await bundleChildScript(CHILD, 'events-crash-child');
  });
  afterAll(() => store.dispose());

  const counts = async () => {
    const db = await store.open();
    try {
      const [r] = await db.query<{ events: number; customers: number }>(
        `SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM customers) AS customers`,
      );
      return r;
    } finally {
      await db.close();
    }
  };

  it('a batch killed after its first chunk leaves nothing; the retry stores all 1,000 once', async () => {
    const killed = await runChild(script, ['pause', ...store.args], { prefix: 'wrote ', killAfter: 1 });
    expect(killed).toMatchObject({ killed: true, reported: ['500'] });
    expect(await counts()).toEqual({ events: 0, customers: 0 });
    const retry = await runChild(script, ['run', ...store.args], { prefix: 'stored ' });
    expect(retry).toEqual({ killed: false, reported: ['1000'] });
    const again = await runChild(script, ['run', ...store.args], { prefix: 'stored ' });
    expect(again.reported).toEqual(['0']);
    expect(await counts()).toEqual({ events: 1000, customers: 37 });
  });
});
