import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Session } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { testApp } from '../../../test/support/server.js';
import { importFile } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';

// Issue 20, item 7: "An import on DuckDB stalls the API: GET /v1/customers?limit=1 took 17.5 s during a
// 1M-order upload job; no event or order request completed for 4–7 s." The importer stages its rows on a
// session of its own without holding the store's writer, and takes the writer only for its merge, during
// which reads still answer (from the last commit). Shown here without timing: the requests below are made
// and awaited *inside* the import's staging and merge; if either held what they need, they would never
// finish and the test would time out. Latency figures: `npm run bench -- ingest`.
const dir = mkdtempSync(join(tmpdir(), 'retain-beside-'));
const rows = Array.from({ length: 2000 }, (_, i) => `O${i},c${i % 300},2024-03-01,USD,SKU${i % 50},1,2.50`);
const file = join(dir, 'orders.csv');
writeFileSync(file, `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price\n${rows.join('\n')}\n`);

describe.each(testEngines())('requests beside an import on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
  });
  afterAll(() => dispose());

  it('reads and writes go on while it stages; reads go on while it merges, seeing the last commit', async () => {
    const seen: string[] = [];
    const event = (id: string) => ({
      event_id: id,
      type: 'page_view',
      occurred_at: '2024-03-02T10:00:00Z',
      customer_id: 'web-1',
    });
    // The store as the importer sees it: its session's first bulk load and its merge transaction
    // make requests through the API and wait for their answers.
    const watched: Database = Object.create(db, {
      session: {
        value: <T>(fn: (s: Session) => Promise<T>) =>
          db.session((s) => {
            let staged = false;
            const spy: Session = {
              query: (sql, p) => s.query(sql, p),
              exec: (sql, p) => s.exec(sql, p),
              copyRows: (table, cols, r) => s.copyRows(table, cols, r),
              bulkLoad: async (table, cols) => {
                if (!staged) {
                  staged = true;
                  const read = await t.call('GET', '/v1/customers?limit=1', { role: 'admin' });
                  const write = await t.call('POST', '/v1/events', {
                    role: 'admin',
                    body: { events: [event('while-staging')] },
                  });
                  seen.push(`staging: GET ${read.status}, POST ${write.status} ${write.json?.inserted}`);
                }
                return s.bulkLoad(table, cols);
              },
              transaction: (body) =>
                s.transaction(async (tx) => {
                  const result = await body(tx);
                  const read = await t.call('GET', '/v1/customers?limit=500', { role: 'admin' });
                  seen.push(`merging: GET ${read.status}, ${read.json?.data?.length} customers`);
                  return result;
                }),
            };
            return fn(spy);
          }),
      },
    });
    const report = await importFile(testContext(watched, systemClock), { entity: 'orders', file });
    expect(report).toMatchObject({ rows: 2000, inserted: 2000, rejected: 0 });
    expect(seen).toEqual([
      'staging: GET 200, POST 200 1',
      // Before the commit only the event's customer exists (the import's 300 are not visible yet).
      'merging: GET 200, 1 customers',
    ]);
    const [n] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM customers');
    expect(n?.n).toBe(301);
  });
});
