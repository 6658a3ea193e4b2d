import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-totals-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// T1 adds up (tax included); T2 is charged less than its lines and shipping (warned, kept); T3 is
// charged more (a fee: not warned); line 5's line_total is not quantity × unit_price (warned, kept).
const ORDERS = `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price,line_total,discount,shipping,tax,order_total
T1,c1,2024-02-01,USD,TEA,2,5.00,,1.00,4.90,1.50,13.90
T2,c2,2024-02-02,USD,MUG,1,30.00,,,4.90,,20.00
T3,c3,2024-02-03,USD,MUG,1,30.00,,,,,32.38
T4,c4,2024-02-04,USD,MUG,2,3.00,5.00,,,,5.00
`;

describe.each(testEngines())('order totals against their parts in imports on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it("keeps the store's total and warns when it is below the lines' subtotal − discount + shipping", async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('o.csv', ORDERS),
    });
    expect(r).toMatchObject({ inserted: 4, rejected: 0, totalsBelowParts: 1 });
    expect(r.warnings).toEqual([
      {
        line: 3,
        reason:
          "order T2: order_total 20.00 is below its lines' subtotal − discount + shipping (30.00 − 0.00 + 4.90 = 34.90) by 14.90 — kept as the store's total",
      },
      {
        line: 5,
        reason:
          "field line_total: 5.00 is not quantity × unit_price (2 × 3.00 = 6.00); send prices before discounts and the discount as the order's discount — kept as the file has it",
      },
    ]);
    const rows = await db.query<{ external_id: string; total_minor: number; subtotal_minor: number }>(
      `SELECT external_id, total_minor, subtotal_minor FROM orders ORDER BY external_id`,
    );
    expect(rows).toEqual([
      { external_id: 'T1', total_minor: 1390, subtotal_minor: 1000 },
      { external_id: 'T2', total_minor: 2000, subtotal_minor: 3000 },
      { external_id: 'T3', total_minor: 3238, subtotal_minor: 3000 },
      { external_id: 'T4', total_minor: 500, subtotal_minor: 500 },
    ]);
  });

  it('reads NDJSON numbers as the decimal written, refusing the ones a double cannot tell, naming the field', async () => {
    const lines = [
      // exact: 12.5 and 2 are what was written
      `{"order_id":"N1","customer_id":"c9","ordered_at":"2024-03-01","currency":"USD","sku":"A","quantity":2,"unit_price":12.5}`,
      // 0.1 + 0.2 as a serializer writes it: 17 significant digits
      `{"order_id":"N2","customer_id":"c9","ordered_at":"2024-03-01","currency":"USD","sku":"A","quantity":1,"unit_price":0.30000000000000004}`,
      // exponent form
      `{"order_id":"N3","customer_id":"c9","ordered_at":"2024-03-01","currency":"USD","sku":"A","quantity":1e21,"unit_price":"1"}`,
      // a boolean where text belongs; an object where text belongs
      `{"order_id":"N4","customer_id":"c9","ordered_at":"2024-03-01","currency":"USD","sku":true,"quantity":1,"unit_price":"1"}`,
      `{"order_id":{"id":5},"customer_id":"c9","ordered_at":"2024-03-01","currency":"USD","sku":"A","quantity":1,"unit_price":"1"}`,
      // a consent may be true/false
      `{"order_id":"N6","customer_id":"c9","ordered_at":"2024-03-01","currency":"USD","sku":"A","quantity":1,"unit_price":"1","email_consent":true}`,
    ];
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('o.ndjson', lines.join('\n') + '\n'),
    });
    expect(r).toMatchObject({ inserted: 2, rejected: 4 });
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(r.errors[0]!.reason).toContain(
      'field unit_price: the JSON number 0.30000000000000004 may not be the decimal that was sent',
    );
    expect(r.errors[0]!.reason).toContain('send it as a string, e.g. "90071992547409.93"');
    expect(r.errors[1]!.reason).toContain('field quantity: the JSON number 1e+21');
    expect(r.errors[2]!.reason).toBe('field sku: expected text, got true (a JSON boolean)');
    expect(r.errors[3]!.reason).toBe('field order_id: expected text or a number, got an object');
    const [n1] = await db.query<{ unit_price_minor: number; quantity: number }>(
      `SELECT l.unit_price_minor, l.quantity FROM order_lines l JOIN orders o USING (order_id) WHERE o.external_id = 'N1'`,
    );
    expect(n1).toEqual({ unit_price_minor: 1250, quantity: 2 });
  });
});
