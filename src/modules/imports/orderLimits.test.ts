import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';
import { MAX_ORDER_LINES } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-order-limits-'));
const HEADER = 'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price\n';

// Issue 20, item 4: one order id under millions of rows (a gzip bomb of valid rows) must be bounded or
// refused with a clear limit. Here: one order with one line more than the limit, as a gzip, between
// two valid orders; and an order whose lines sum beyond the largest amount.
function bomb(): string {
  const rows: string[] = ['A1,c1,2024-01-01,USD,TEA,1,5.00'];
  for (let i = 0; i <= MAX_ORDER_LINES; i++) rows.push(`BIG,c2,2024-01-02,USD,SKU${i},1,1.00`);
  rows.push('A2,c3,2024-01-03,USD,MUG,1,3.99');
  const p = join(dir, 'bomb.csv.gz');
  writeFileSync(p, gzipSync(HEADER + rows.join('\n') + '\n'));
  return p;
}

describe.each(testEngines())('per-order limits on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  const orders = () =>
    db.query<{ external_id: string; total_minor: number }>(
      'SELECT external_id, total_minor FROM orders ORDER BY external_id',
    );

  it(`an order with more than ${MAX_ORDER_LINES} lines is rejected whole, at its first line; the others import`, async () => {
    const r = await importFile(testContext(db, systemClock), { entity: 'orders', file: bomb() });
    expect(r).toMatchObject({ rows: MAX_ORDER_LINES + 3, inserted: 2, rejected: MAX_ORDER_LINES + 1 });
    expect(r.errors).toEqual([
      {
        line: 3,
        reason: `order BIG: it has 10,001 lines, more than the 10,000 an order may have; the whole order was rejected`,
      },
    ]);
    expect(await orders()).toEqual([
      { external_id: 'A1', total_minor: 500 },
      { external_id: 'A2', total_minor: 399 },
    ]);
  });

  it('a row just under the record limit, of 3-byte characters (a 3 MB staging line), imports whole', async () => {
    const p = join(dir, 'wide.csv');
    const title = '€'.repeat(1_000_000);
    writeFileSync(
      p,
      'order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price\n' +
        `WIDE,c6,2024-03-01,USD,W,${title},1,2.00\n`,
    );
    const r = await importFile(testContext(db, systemClock), { entity: 'orders', file: p });
    expect(r).toMatchObject({ inserted: 1, rejected: 0 });
    const [line] = await db.query<{ n: number }>(
      `SELECT LENGTH(l.title) AS n FROM order_lines l JOIN orders o ON o.order_id = l.order_id WHERE o.external_id = 'WIDE'`,
    );
    expect(line?.n).toBe(1_000_000);
  });

  it('an order whose lines sum beyond the largest amount is rejected, not stored as a wrong total', async () => {
    const p = join(dir, 'sum.csv');
    writeFileSync(
      p,
      HEADER +
        'HUGE,c4,2024-02-01,USD,A,1,9000000000.00\nHUGE,c4,2024-02-01,USD,B,1,9000000000.00\n' +
        'OK1,c5,2024-02-02,USD,A,1,1.00\n',
    );
    const r = await importFile(testContext(db, systemClock), { entity: 'orders', file: p });
    expect(r).toMatchObject({ inserted: 1, rejected: 2 });
    expect(r.errors).toEqual([
      {
        line: 2,
        reason:
          'order HUGE: its lines sum to 1800000000000 minor units, beyond the largest amount Retain stores (1000000000000 minor units); the whole order was rejected',
      },
    ]);
    expect((await orders()).map((o) => o.external_id)).toEqual(['A1', 'A2', 'OK1', 'WIDE']);
  });
});
