import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveExternalData, shippedData, sharedData } from '../../../test/support/externalData.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import {
  channelsReport,
  cohortsReport,
  diagnoseReport,
  digestReport,
  ltvReport,
  retentionReport,
  rfmReport,
  summaryReport,
} from '../reports/service.js';
import { testContext } from '../../../test/support/context.js';
import { importFile } from './service.js';
import { ONLINE_RETAIL, ONLINE_RETAIL_REPORT } from '../../../test/support/onlineRetailImport.js';
import { systemClock } from '../../kit/clock.js';

const CDNOW_SAMPLE = shippedData('cdnow/CDNOW_sample.txt');
const CDNOW_MASTER = sharedData('cdnow/CDNOW_master.txt');
const haveOnlineRetail = haveExternalData(ONLINE_RETAIL);
const haveCdnow = haveExternalData(CDNOW_SAMPLE, CDNOW_MASTER);
const SHOPIFY_SAMPLE = sharedData('exports/shopify-sample');
const SHOPIFY_FILES = ['orders_export_1.csv.gz', 'orders_export_2.csv', 'customers_export.csv'].map((f) =>
  join(SHOPIFY_SAMPLE, f),
);
const haveShopifySample = haveExternalData(...SHOPIFY_FILES);
const dir = mkdtempSync(join(tmpdir(), 'retain-presets-'));
const file = (name: string, text: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe.runIf(haveOnlineRetail).each(testEngines())('Online Retail preset on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it('reproduces 4,338 customers and 18,532 orders, refunds from C invoices, guests apart', async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: ONLINE_RETAIL,
      preset: 'online-retail',
    });
    expect(r).toMatchObject(ONLINE_RETAIL_REPORT);
    const s = await summaryReport(testContext(db), { asOf: '2011-12-09' });
    expect(s).toMatchObject({ currency: 'GBP', customers: 4338, orders: 18532, guestOrders: 1427 });
    // Independent check of gross revenue: Σ round(qty × price × 100) over kept lines of customer
    // invoices, a line that repeats an earlier one exactly counted once.
    let pence = 0;
    const seen = new Set<string>();
    for (const line of gunzipSync(readFileSync(ONLINE_RETAIL)).toString('utf8').split('\n').slice(1)) {
      if (!line || seen.has(line)) continue;
      seen.add(line);
      const f = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((x) => x.replace(/,$/, ''));
      const [inv, , , qty, , price, cust] = f as string[];
      if (!cust || inv!.startsWith('C') || inv!.startsWith('A') || Number(qty) <= 0 || Number(price) <= 0)
        continue;
      pence += Math.round(Number(qty) * Number(price) * 100 + 1e-9);
    }
    expect(Math.round(s.grossRevenue * 100)).toBe(pence);
    expect(s.repeatCustomerRate).toBeCloseTo(2845 / 4338, 4);
  });

  it('re-importing the file inserts nothing', async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: ONLINE_RETAIL,
      preset: 'online-retail',
    });
    expect(r).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 19959,
      refunds: { inserted: 0, updated: 0, unchanged: 3654 },
    });
  });

  it('a corrupted copy reports line-numbered errors and still imports every valid row', async () => {
    const lines = gunzipSync(readFileSync(ONLINE_RETAIL)).toString('utf8').split('\n');
    // Lines are 1-based with the header on line 1; these rows belong to multi-line invoices.
    lines[2] = lines[2]!.replace(',6,2010-12-01', ',six,2010-12-01'); // line 3: bad quantity
    lines[19] = lines[19]!.replace('2010-12-01 08:34:00', '2010-12-41 08:34:00'); // line 20: bad date
    lines[29] = lines[29]!.replace(/^536\d+,/, ','); // line 30: missing invoice id
    lines[39] = lines[39]!.replace(/,(\d+\.\d+),(\d+\.0),/, ',1.2.3,$2,'); // line 40: bad price
    const corrupted = file('corrupted.csv.gz', gzipSync(lines.join('\n')));
    const { db: db2, dispose: dispose2 } = await freshDatabase(engine);
    try {
      const r = await importFile(testContext(db2, systemClock), {
        entity: 'orders',
        file: corrupted,
        preset: 'online-retail',
      });
      expect(r.errors.map((e) => e.line)).toEqual([3, 20, 30, 40]);
      expect(r.errors.map((e) => e.reason)).toEqual([
        "field quantity: expected a whole number, got 'six'",
        expect.stringMatching(/^field ordered_at: expected a date-time.*'2010-12-41 08:34:00'/),
        'field order_id: is required',
        expect.stringMatching(/^field unit_price: expected an amount like 12.50, got '1.2.3'/),
      ]);
      expect(r.rejected).toBe(4);
      const s = await summaryReport(testContext(db2), { asOf: '2011-12-09' });
      expect(s).toMatchObject({ customers: 4338, orders: 18532 });
    } finally {
      await dispose2();
    }
  });
});

describe.each(testEngines())('CDNOW, Shopify and WooCommerce presets on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it.runIf(haveCdnow)(
    'imports CDNOW_sample.txt (detected, no header): 2,357 customers, one order per row',
    async () => {
      const r = await importFile(testContext(db, systemClock), { entity: 'orders', file: CDNOW_SAMPLE });
      expect(r).toMatchObject({
        preset: 'cdnow',
        rows: 6919,
        inserted: 6919,
        rejected: 0,
        customersCreated: 2357,
      });
      const s = await summaryReport(testContext(db), { asOf: '1998-06-30' });
      expect(s).toMatchObject({ currency: 'USD', customers: 2357, orders: 6919 });
      // The master file covers the same purchases under the same ids: its sample customers are unchanged.
      const m = await importFile(testContext(db, systemClock), {
        entity: 'orders',
        file: CDNOW_MASTER,
        preset: 'cdnow',
      });
      expect(m).toMatchObject({ rows: 69659, inserted: 69659 - 6919, unchanged: 6919, rejected: 0 });
    },
  );

  it('imports a Shopify export: order fields carried from the first line-item row, refunds once per order', async () => {
    const csv = `Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country,Refunded Amount,Cancelled at,Source
#1001,Ann@Shop.com,paid,2024-01-15 10:23:45 -0500,USD,30.00,5.00,2.40,37.40,0.00,2024-01-15 10:23:45 -0500,2,Mug,10.00,MUG-1,US,0.00,,web
#1001,,,,,,,,,,,1,Tea,10.00,TEA-1,,,,
#1002,bob@shop.com,partially_refunded,,USD,15.00,0.00,0.00,15.00,0.00,2024-01-16 08:00:00 -0500,1,Pot,15.00,POT-1,US,5.00,,web
#1002,,,,,,,,,,2024-01-16 08:00:00 -0500,1,Lid,0.00,LID-1,,,,
#1002,bob@shop.com,,,,,,,,,2024-01-16 08:00:00 -0500,1,Spoon,0.00,SPOON-1,,5.00,,
#1003,,paid,,USD,9.00,0,0,9.00,0,2024-01-17 08:00:00 -0500,1,Card,9.00,,US,0,,pos
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('shopify.csv', csv),
    });
    expect(r).toMatchObject({
      preset: 'shopify',
      inserted: 3,
      rejected: 0,
      guestOrders: 1,
      refunds: { inserted: 1 },
    });
    const rows = await db.query(
      `SELECT o.external_id, c.external_id AS customer, o.subtotal_minor, o.total_minor, o.shipping_minor, o.status, o.line_count, o.ordered_at
       FROM orders o LEFT JOIN customers c USING (customer_id) WHERE o.external_id LIKE '#%' ORDER BY o.external_id`,
    );
    expect(rows[0]).toEqual({
      external_id: '#1001',
      customer: 'ann@shop.com',
      subtotal_minor: 3000,
      total_minor: 3740,
      shipping_minor: 500,
      status: 'paid',
      line_count: 2,
      ordered_at: new Date('2024-01-15T15:23:45Z'),
    });
    expect(rows[1]).toMatchObject({ external_id: '#1002', status: 'partially_refunded' });
    expect(rows[2]).toMatchObject({ external_id: '#1003', customer: null });
    const [refund] = await db.query(
      `SELECT r.amount_minor, o.external_id AS order_ext FROM refunds r JOIN orders o USING (order_id)`,
    );
    // Later rows of #1002 repeat Created at (and one even Refunded Amount): still one refund of 5.00.
    expect(refund).toEqual({ amount_minor: 500, order_ext: '#1002' });
  });

  it.runIf(haveShopifySample)(
    'imports the Kettle & Crane Shopify exports: refunds once per order, customers and consents as the reference counts them',
    async () => {
      const db2 = await freshDatabase(engine);
      try {
        const ctx = testContext(db2.db, systemClock);
        const ref = JSON.parse(readFileSync(join(SHOPIFY_SAMPLE, 'reference.json'), 'utf8')) as {
          figures: {
            refundsAllOrders: string;
            distinctCustomersAllOrders: number;
            acceptsMarketingCustomers: number;
          };
          summary: Record<'customers' | 'orders' | 'guestOrders' | 'aov' | 'ordersPerCustomer', number>;
          exact: { summary: Record<string, string> };
          customersFile: {
            rows: number;
            distinctEmailsNormalised: number;
            rowsWithoutEmail: number;
            acceptsEmailMarketingYes: number;
          };
        };
        let created = 0;
        for (const f of SHOPIFY_FILES.slice(0, 2)) {
          const r = await importFile(ctx, { entity: 'orders', file: f });
          // Every Total is subtotal − discount + shipping (+ taxes unless included): no total warning.
          expect(r).toMatchObject({ preset: 'shopify', rejected: 0, totalsBelowParts: 0 });
          created += r.customersCreated ?? 0;
        }
        // Every distinct (normalised) email of the orders is one customer.
        expect(created).toBe(ref.figures.distinctCustomersAllOrders);
        // The summary counts what the reference's rules count: every order with an email and no
        // `Cancelled at` (pending included), its Total as written, its Refunded Amount once.
        const s = await summaryReport(ctx, {});
        expect(s).toMatchObject({
          currency: 'USD',
          asOf: '2025-01-01',
          customers: ref.summary.customers,
          orders: ref.summary.orders,
          guestOrders: ref.summary.guestOrders,
          grossRevenue: Number(ref.exact.summary.grossRevenue),
          refunds: Number(ref.exact.summary.refunds),
          netRevenue: Number(ref.exact.summary.netRevenue),
          // All refunds in the files, less those counted: cancelled and guest orders' refunds.
          refundsUnattributed: {
            amount: Number(
              (
                (Math.round(Number(ref.figures.refundsAllOrders) * 100) -
                  Math.round(Number(ref.exact.summary.refunds) * 100)) /
                100
              ).toFixed(2),
            ),
          },
          warnings: [],
        });
        expect(s.aov).toBeCloseTo(ref.summary.aov, 6);
        expect(s.ordersPerCustomer).toBeCloseTo(ref.summary.ordersPerCustomer, 6);
        expect(s.repeatCustomerRate).toBeCloseTo(Number(ref.exact.summary.repeatCustomerRate), 12);
        expect(s.avgLifespanDays).toBeCloseTo(Number(ref.exact.summary.avgLifespanDays), 9);
        // Consent from `Accepts Marketing`: the latest counted order's choice.
        const consented = async () =>
          (
            await db2.db.query<{ n: number }>(
              `SELECT COUNT(*) AS n FROM customer_consents k WHERE k.channel = 'email' AND k.status = 'granted'
                 AND k.customer_id IN (SELECT customer_id FROM orders WHERE status <> 'cancelled')`,
            )
          )[0]!.n;
        expect(await consented()).toBe(ref.figures.acceptsMarketingCustomers);
        // Every report runs on it.
        for (const run of [
          () => ltvReport(ctx, {}),
          () => retentionReport(ctx, {}),
          () => cohortsReport(ctx, {}),
          () => rfmReport(ctx, {}),
          () => channelsReport(ctx, {}),
          () => diagnoseReport(ctx, {}),
          () => digestReport(ctx, {}),
        ])
          await expect(run()).resolves.toBeTruthy();
        const [refunds] = await db2.db.query<{ total: number }>(
          'SELECT SUM(amount_minor) AS total FROM refunds',
        );
        expect(refunds!.total).toBe(Math.round(Number(ref.figures.refundsAllOrders) * 100));

        const c = await importFile(ctx, { entity: 'customers', file: SHOPIFY_FILES[2]! });
        expect(c).toMatchObject({
          preset: 'shopify',
          rows: ref.customersFile.rows,
          rejected: 0,
          skipped: {
            'no email (Shopify customers are matched to orders by email)': ref.customersFile.rowsWithoutEmail,
          },
          inserted: ref.customersFile.distinctEmailsNormalised - ref.figures.distinctCustomersAllOrders,
          updated: ref.figures.distinctCustomersAllOrders,
        });
        const [granted] = await db2.db.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM customer_consents WHERE channel = 'email' AND status = 'granted'`,
        );
        // The customers export is the store's current record: it wins over older orders' choices.
        expect(granted!.n).toBe(ref.customersFile.acceptsEmailMarketingYes);
        // Re-importing every file changes nothing.
        for (const [entity, f] of [
          ['orders', SHOPIFY_FILES[0]],
          ['orders', SHOPIFY_FILES[1]],
          ['customers', SHOPIFY_FILES[2]],
        ] as const) {
          const again = await importFile(ctx, { entity, file: f! });
          expect(again, f).toMatchObject({ inserted: 0, updated: 0 });
        }
      } finally {
        await db2.dispose();
      }
    },
  );

  it('imports a WooCommerce export (one row per line item, month-first dates, wc- statuses)', async () => {
    const csv = `order_id,order_number,order_date,status,shipping_total,tax_total,discount_total,order_total,refunded_total,order_currency,payment_method,customer_id,billing_email,billing_country,item_name,item_sku,item_quantity,item_total
501,501,9/6/2016 6:29:00,wc-completed,5.00,0,0,25.00,0,EUR,stripe,7,eve@woo.com,FR,Scarf,SC-1,1,20.00
502,502,2016-09-07 10:00:00,refunded,0,0,0,12.00,12.00,EUR,paypal,0,guest@woo.com,FR,Hat,HT-1,2,12.00
503,503,2016-09-08 10:00:00,on-hold,0,0,0,3.00,0,EUR,paypal,0,,FR,Pin,,1,3.00
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('woo.csv', csv),
    });
    expect(r).toMatchObject({
      preset: 'woocommerce',
      inserted: 3,
      rejected: 0,
      guestOrders: 1,
      refunds: { inserted: 1 },
    });
    const rows = await db.query(
      `SELECT o.external_id, c.external_id AS customer, o.status, o.total_minor, o.ordered_at
       FROM orders o LEFT JOIN customers c USING (customer_id) WHERE o.external_id IN ('501', '502', '503') ORDER BY 1`,
    );
    expect(rows).toEqual([
      {
        external_id: '501',
        customer: 'wc-7',
        status: 'paid',
        total_minor: 2500,
        ordered_at: new Date('2016-09-06T06:29:00Z'),
      },
      {
        external_id: '502',
        customer: 'guest@woo.com',
        status: 'refunded',
        total_minor: 1200,
        ordered_at: new Date('2016-09-07T10:00:00Z'),
      },
      {
        external_id: '503',
        customer: null,
        status: 'pending',
        total_minor: 300,
        ordered_at: new Date('2016-09-08T10:00:00Z'),
      },
    ]);
  });
});
