import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-repeated-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// Order 1004's only row appears twice (a copy-paste in a spreadsheet); order 1005 has two different
// lines of the same product (other price), which are two lines.
const ORDERS = `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price
1003,c1,2024-02-01,USD,TEA,1,5.00
1004,c2,2024-02-02,USD,MUG,1,3.99
1004,c2,2024-02-02,USD,MUG,1,3.99
1005,c3,2024-02-03,USD,MUG,1,3.99
1005,c3,2024-02-03,USD,MUG,1,3.49
`;

describe.each(testEngines())('repeated order rows on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  const totals = () =>
    db.query<{ external_id: string; total_minor: number; line_count: number }>(
      `SELECT external_id, total_minor, line_count FROM orders ORDER BY external_id`,
    );

  it('a row repeated exactly is left out, counted under duplicates and listed with the line it repeats', async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('o.csv', ORDERS),
    });
    expect(r).toMatchObject({ rows: 5, inserted: 3, rejected: 0, duplicates: 1, repeatedRows: 1 });
    expect(r.warnings).toEqual([
      { line: 4, reason: 'repeats line 3 of order 1004 exactly — left out (--keep-repeated-rows keeps it)' },
    ]);
    expect(await totals()).toEqual([
      { external_id: '1003', total_minor: 500, line_count: 1 },
      { external_id: '1004', total_minor: 399, line_count: 1 },
      { external_id: '1005', total_minor: 748, line_count: 2 },
    ]);
    // The same file again changes nothing.
    const again = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('o.csv', ORDERS),
    });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3, duplicates: 1 });
  });

  it('--keep-repeated-rows keeps them as lines of their order', async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('o.csv', ORDERS),
      keepRepeatedRows: true,
    });
    expect(r).toMatchObject({ updated: 1, unchanged: 2, duplicates: 0, warnings: [] });
    expect((await totals())[1]).toEqual({ external_id: '1004', total_minor: 798, line_count: 2 });
  });
});

const NO_CURRENCY = `order_id,customer_id,ordered_at,sku,quantity,unit_price
9001,c1,2024-02-01,TEA,1,5.00
`;

describe.each(testEngines())('a store without a currency on %s', (engine) => {
  it('amounts with no currency anywhere are read as USD, and the report says so at the header', async () => {
    const { db, dispose } = await freshDatabase(engine);
    try {
      const ctx = testContext(db, systemClock);
      const r = await importFile(ctx, { entity: 'orders', file: file('nocur.csv', NO_CURRENCY) });
      expect(r.warnings[0]).toEqual({
        line: 1,
        reason:
          'no currency column and the store has no currency yet: amounts read as USD — if they are not, set the store ' +
          'currency first (`retain store set --currency EUR`, or `--currency EUR` for this file) and import again',
      });
      // Once the store has a currency (the first orders import set it), nothing is assumed.
      const again = await importFile(ctx, { entity: 'orders', file: file('nocur.csv', NO_CURRENCY) });
      expect(again.warnings.filter((w) => w.line === 1)).toEqual([]);
    } finally {
      await dispose();
    }
  });
});
