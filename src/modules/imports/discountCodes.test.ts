import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest, REPO_ROOT } from '../../../test/support/bundle.js';
import { testContext } from '../../../test/support/context.js';
import { haveExternalData, sharedData } from '../../../test/support/externalData.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { genericFields, resolveColumns } from './columns.js';
import { HEADER_ALIASES } from './names.js';
import { discountCodes, type Entity } from './schema.js';
import { importFile } from './service.js';
import { cleanRecord, type FieldIssue } from './values.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-codes-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE = sharedData('exports/shopify-sample');
const haveSample = haveExternalData(join(SAMPLE, 'orders_export_1.csv.gz'));

describe('discount codes in their one form', () => {
  it('trims, upper-cases, drops blanks and repeats, sorts', () => {
    expect(discountCodes(' spring20, ,VIP,Spring20 ,,vip')).toEqual({ codes: ['SPRING20', 'VIP'] });
    expect(discountCodes(' , ')).toEqual({ codes: [] });
    expect(discountCodes('x'.repeat(100))).toEqual({ codes: ['X'.repeat(100)] });
  });

  it('refuses a code longer than 100 characters and more than 20 codes, saying why', () => {
    expect(discountCodes(`OK,${'a'.repeat(101)}`)).toEqual({
      error: `the code '${'A'.repeat(40)}…' has 101 characters; a code may have at most 100`,
    });
    const many = Array.from({ length: 21 }, (_, i) => `C${i}`).join(',');
    expect(discountCodes(many)).toEqual({
      error: '21 different codes; an order may have at most 20 (codes are separated by commas)',
    });
    // Repeats count once: 20 codes, some written twice, are 20.
    const twenty = Array.from({ length: 20 }, (_, i) => `C${i}`).join(',');
    expect(discountCodes(`${twenty},c0,C1`)).toMatchObject({ codes: expect.arrayContaining(['C0', 'C19']) });
  });

  it('takes a JSON array of codes (NDJSON, API bodies) as the comma-separated text', () => {
    const issues: FieldIssue[] = [];
    expect(cleanRecord({ discount_codes: ['spring20', 'VIP', 7] }, issues)).toEqual({
      discount_codes: 'spring20,VIP,7',
    });
    expect(cleanRecord({ discount_codes: [] }, issues)).toEqual({});
    expect(cleanRecord({ discount_codes: [' '] }, issues)).toEqual({});
    expect(issues).toEqual([]);
    cleanRecord({ discount_codes: ['A', 'B,C'] }, issues);
    cleanRecord({ discount_codes: ['A', { code: 'B' }] }, issues);
    cleanRecord({ sku: ['A'] }, issues);
    expect(issues).toEqual([
      {
        field: 'discount_codes',
        reason:
          "field discount_codes: item 1 ('B,C') has a comma, which separates the items: send each as its own item",
      },
      { field: 'discount_codes', reason: 'field discount_codes: item 1: expected text, got an object' },
      { field: 'sku', reason: 'field sku: expected text or a number, got an array' },
    ]);
  });

  it('reads coupon and promo code columns of a generic file as discount_codes', () => {
    expect(resolveColumns('orders', ['order_id', 'ordered_at', 'Coupon Code']).map).toEqual({
      'Coupon Code': 'discount_codes',
    });
    for (const c of ['discount_code', 'Discount Codes', 'coupon', 'promo-code', 'PROMO_CODE'])
      expect(resolveColumns('orders', ['order_id', c]).map, c).toEqual({ [c]: 'discount_codes' });
    // A column that is the field (in any case) wins over an alias, which is then reported.
    const both = resolveColumns('orders', ['coupon', 'Discount_Codes']);
    expect(both.map).toEqual({ Discount_Codes: 'discount_codes' });
    expect(both.report.ignored).toEqual([{ column: 'coupon' }]);
    // Other entities have no such alias; every alias names a field of its entity.
    expect(resolveColumns('refunds', ['coupon']).map).toEqual({});
    for (const [entity, aliases] of Object.entries(HEADER_ALIASES))
      for (const field of Object.values(aliases))
        expect(genericFields(entity as Entity), `${entity}: ${field}`).toContain(field);
  });
});

describe.each(testEngines())('discount codes imported on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  const run = (name: string, text: string) =>
    importFile(testContext(db, clock), { entity: 'orders', file: file(`${engine}-${name}`, text) });
  /** The stored codes of the orders whose id starts with `prefix`, as `order: CODE,CODE` (sorted). */
  const codes = async (prefix: string) =>
    (
      await db.query<{ external_id: string; codes: string; same_customer: boolean }>(
        `SELECT o.external_id, string_agg(d.code, ',' ORDER BY d.code) AS codes,
                bool_and(d.customer_id IS NOT DISTINCT FROM o.customer_id) AS same_customer
         FROM order_discount_codes d JOIN orders o ON o.order_id = d.order_id
         WHERE o.external_id LIKE $1 GROUP BY o.external_id ORDER BY o.external_id`,
        [`${prefix}%`],
      )
    ).map((r) => {
      expect(r.same_customer, `${r.external_id}: the code rows carry the order's customer`).toBe(true);
      return `${r.external_id}: ${r.codes}`;
    });

  it('imports codes normalised (case, repeats, blanks), on any line of the order; a re-import of changed codes replaces them', async () => {
    const first = await run(
      'codes.csv',
      `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price,discount,discount_codes
G1,c1,2024-01-05,EUR,MUG,1,10.00,1.00,"spring20, vip ,Spring20"
G1,c1,2024-01-05,EUR,TEA,1,5.00,,
G2,c2,2024-01-06,EUR,MUG,1,10.00,,
G2,c2,2024-01-06,EUR,TEA,1,5.00,2.00, welcome10
G3,c3,2024-01-07,EUR,MUG,1,10.00,,
G4,,2024-01-08,EUR,MUG,1,10.00,,"  ,  "
G5,c5,2024-01-09,EUR,MUG,1,10.00,,KEEP
`,
    );
    expect(first).toMatchObject({ inserted: 5, rejected: 0, errors: [] });
    expect(await codes('G')).toEqual(['G1: SPRING20,VIP', 'G2: WELCOME10', 'G5: KEEP']);

    // The same file again: nothing changes.
    const same = await run(
      'codes-same.csv',
      `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price,discount,discount_codes
G1,c1,2024-01-05,EUR,MUG,1,10.00,1.00,"VIP,SPRING20"
G1,c1,2024-01-05,EUR,TEA,1,5.00,,
G2,c2,2024-01-06,EUR,MUG,1,10.00,,
G2,c2,2024-01-06,EUR,TEA,1,5.00,2.00,WELCOME10
G3,c3,2024-01-07,EUR,MUG,1,10.00,,
G4,,2024-01-08,EUR,MUG,1,10.00,,
G5,c5,2024-01-09,EUR,MUG,1,10.00,,keep
`,
    );
    expect(same).toMatchObject({ inserted: 0, updated: 0, unchanged: 5 });

    // G1's code changed (nothing else did), G2 lost its code, G3 gained one, G5 keeps its code while
    // its lines change (its codes are deleted and the same inserted again in one transaction).
    clock.advance(60_000);
    const changed = await run(
      'codes-changed.csv',
      `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price,discount,Coupon Code
G1,c1,2024-01-05,EUR,MUG,1,10.00,1.00,VIP
G1,c1,2024-01-05,EUR,TEA,1,5.00,,
G2,c2,2024-01-06,EUR,MUG,1,10.00,,
G2,c2,2024-01-06,EUR,TEA,1,5.00,2.00,
G3,c3,2024-01-07,EUR,MUG,1,10.00,,autumn5
G4,,2024-01-08,EUR,MUG,1,10.00,,
G5,c5,2024-01-09,EUR,MUG,2,10.00,,KEEP
`,
    );
    expect(changed).toMatchObject({
      inserted: 0,
      updated: 4,
      unchanged: 1,
      columns: { renamed: { 'Coupon Code': 'discount_codes' } },
    });
    expect(await codes('G')).toEqual(['G1: VIP', 'G3: AUTUMN5', 'G5: KEEP']);
    const [g1] = await db.query<{ imported_at: Date }>(
      `SELECT imported_at FROM orders WHERE external_id = 'G1'`,
    );
    expect(g1?.imported_at).toEqual(clock.now());
  });

  it('rejects a code longer than 100 characters naming the line and the field; the valid rows import', async () => {
    const long = 'x'.repeat(101);
    const many = Array.from({ length: 21 }, (_, i) => `M${i}`).join(',');
    const r = await run(
      'bad-codes.csv',
      `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price,discount_codes
B1,c1,2024-02-01,EUR,MUG,1,10.00,OK1
B2,c2,2024-02-02,EUR,MUG,1,10.00,${long}
B3,c3,2024-02-03,EUR,MUG,1,10.00,"${many}"
B4,c4,2024-02-04,EUR,MUG,1,10.00,${'y'.repeat(100)}
`,
    );
    expect(r).toMatchObject({ rows: 4, inserted: 2, rejected: 2 });
    expect(r.errors).toEqual([
      {
        line: 3,
        reason: `field discount_codes: the code '${'X'.repeat(40)}…' has 101 characters; a code may have at most 100`,
      },
      {
        line: 4,
        reason:
          'field discount_codes: 21 different codes; an order may have at most 20 (codes are separated by commas)',
      },
    ]);
    expect(await codes('B')).toEqual(['B1: OK1', `B4: ${'Y'.repeat(100)}`]);
  });

  it('reads an NDJSON array of codes', async () => {
    const r = await run(
      'codes.ndjson',
      [
        {
          order_id: 'J1',
          customer_id: 'c1',
          ordered_at: '2024-03-01',
          currency: 'EUR',
          order_total: 10,
          discount_codes: ['b', 'a'],
        },
        {
          order_id: 'J2',
          customer_id: 'c2',
          ordered_at: '2024-03-01',
          currency: 'EUR',
          order_total: 10,
          discount_codes: ['a,b'],
        },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    expect(r).toMatchObject({ inserted: 1, rejected: 1 });
    expect(r.errors[0]).toMatchObject({
      line: 2,
      reason: expect.stringMatching(/^field discount_codes: item 0/),
    });
    expect(await codes('J')).toEqual(['J1: A,B']);
  });

  it('parse workers stage the codes as the importer’s own thread does', async () => {
    const workerFile = await bundleForTest(join(REPO_ROOT, 'src/modules/imports/worker.ts'), 'import-worker');
    let text = 'order_id,customer_id,ordered_at,currency,order_total,promo_code\n';
    for (let i = 0; i < 300; i++)
      text += `W${i},c${i % 7},2024-05-01,EUR,10.00,${i % 3 === 0 ? `"p${i % 5}, vip,P${i % 5}"` : ''}\n`;
    text += `W300,c1,2024-05-01,EUR,10.00,${'z'.repeat(101)}\n`;
    const r = await importFile(testContext(db, clock), {
      entity: 'orders',
      file: file(`${engine}-workers.csv`, text),
      workers: 2,
      workerFile,
      chunkBytes: 1_000,
    });
    expect(r).toMatchObject({ inserted: 300, rejected: 1, errors: [{ line: 302 }] });
    const want = [];
    for (let i = 0; i < 300; i++) if (i % 3 === 0) want.push(`W${i}: P${i % 5},VIP`);
    expect((await codes('W')).sort()).toEqual(want.sort());
  });

  it('Shopify: Discount Code on the order’s first row is the order’s (carried forward)', async () => {
    const r = await run(
      'shopify.csv',
      `Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku
#S1,ann@shop.com,paid,USD,20.00,0.00,0.00,18.00,welcome10,2.00,2024-01-15 10:23:45 -0500,1,Mug,10.00,MUG-1
#S1,,,,,,,,,,,1,Tea,10.00,TEA-1
#S2,bob@shop.com,paid,USD,10.00,0.00,0.00,10.00,,0.00,2024-01-16 10:00:00 -0500,1,Mug,10.00,MUG-1
#S3,cy@shop.com,paid,USD,10.00,0.00,0.00,8.00,"CRANE15, loyal5",2.00,2024-01-17 10:00:00 -0500,1,Mug,10.00,MUG-1
`,
    );
    expect(r).toMatchObject({ preset: 'shopify', inserted: 3, rejected: 0 });
    expect(await codes('#S')).toEqual(['#S1: WELCOME10', '#S3: CRANE15,LOYAL5']);
  });

  it('WooCommerce: the codes of coupon_items', async () => {
    const r = await run(
      'woo.csv',
      `order_id,date,status,order_total,discount_total,order_currency,customer_id,billing_email,item_name,item_sku,item_quantity,item_subtotal,coupon_items
701,2024-04-01 09:00:00,completed,18.00,2.00,EUR,26,ann@example.com,Mug,MUG,1,10.00,id:7014|code:fika10|amount:1.00|description:Fika\\: spring\\; autumn;id:7015|code:Vip|amount:1.00
701,2024-04-01 09:00:00,completed,18.00,2.00,EUR,26,ann@example.com,Tea,TEA,1,10.00,id:7014|code:fika10|amount:1.00|description:Fika\\: spring\\; autumn;id:7015|code:Vip|amount:1.00
702,2024-04-02 09:00:00,completed,10.00,0.00,EUR,0,guest@example.com,Mug,MUG,1,10.00,
`,
    );
    expect(r).toMatchObject({ preset: 'woocommerce', inserted: 2, rejected: 0 });
    expect(await codes('70')).toEqual(['701: FIKA10,VIP']);
  });

  it.runIf(haveSample)(
    'the Kettle & Crane Shopify export: the codes of its 405 orders that used one',
    async () => {
      const r = await importFile(testContext(db, clock), {
        entity: 'orders',
        file: join(SAMPLE, 'orders_export_1.csv.gz'),
      });
      expect(r).toMatchObject({ preset: 'shopify', rejected: 0 });
      const byCode = await db.query<{ code: string; n: number }>(
        `SELECT d.code, COUNT(*) AS n FROM order_discount_codes d JOIN orders o ON o.order_id = d.order_id
       WHERE o.external_id LIKE '#%' AND o.external_id NOT LIKE '#S%'
       GROUP BY d.code ORDER BY d.code`,
      );
      // Counted from the file (its Discount Code column, on each order's first row only).
      expect(Object.fromEntries(byCode.map((x) => [x.code, x.n]))).toEqual({
        BFCM25: 34,
        CRANE15: 118,
        FREESHIP: 25,
        LOYAL5: 53,
        REPLACEMENT: 5,
        SPRING20: 37,
        WELCOME10: 97,
        WHOLESALE30: 36,
      });
    },
  );
});
