import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { storedState } from '../../../test/support/storedState.js';
import { generateWooStore, WOO_RULES } from '../../../test/support/woocommerceStore.js';
import { systemClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import * as reports from '../reports/service.js';
import { pipeItems, woocommercePreset } from './presets/woocommerce.js';
import { importFile, type ImportReport } from './service.js';
import { DEFAULT_FORMAT } from './values.js';

const store = generateWooStore();
const expected = store.expected;
const dir = mkdtempSync(join(tmpdir(), 'retain-woo-'));
const FILES = {
  ordersByItem: join(dir, 'orders-2023.csv.gz'),
  ordersByOrder: join(dir, 'orders-2024.csv'),
  customers: join(dir, 'customers.csv'),
};
writeFileSync(FILES.ordersByItem, gzipSync(store.files.ordersByItem));
writeFileSync(FILES.ordersByOrder, store.files.ordersByOrder);
writeFileSync(FILES.customers, store.files.customers);
const ALL = [
  ['orders', FILES.ordersByItem],
  ['orders', FILES.ordersByOrder],
  ['customers', FILES.customers],
] as const;

describe('WooCommerce preset mapping', () => {
  it('reads the plugin’s pipe-delimited items, escaped : | ; included', () => {
    expect(
      pipeItems('id:1|name:Honey \\| Heather|sku:H\\:1|meta:;id:2|name:Matcha 30 g\\; ceremonial|quantity:3'),
    ).toEqual([
      { id: '1', name: 'Honey | Heather', sku: 'H:1', meta: '' },
      { id: '2', name: 'Matcha 30 g; ceremonial', quantity: '3' },
    ]);
    expect(pipeItems('')).toEqual([]);
    expect(pipeItems('id:7|date:2024-02-03 10:00:00|amount:5.00|reason:')).toEqual([
      { id: '7', date: '2024-02-03 10:00:00', amount: '5.00', reason: '' },
    ]);
  });

  it('maps every WooCommerce status; checkout drafts are skipped; a part-refunded paid order is partially_refunded', () => {
    const map = woocommercePreset.createMapper('orders', {
      map: {},
      currency: 'EUR',
      format: DEFAULT_FORMAT,
    });
    const row = (status: string, refunded = '0.00', id = status) =>
      map(
        {
          order_id: id,
          date: '2024-03-01 10:00:00',
          status,
          order_total: '20.00',
          refunded_total: refunded,
          order_currency: 'EUR',
          customer_id: '0',
          billing_email: 'A@B.example',
          item_name: 'Mug',
          item_sku: '',
          item_quantity: '1',
          item_subtotal: '20.00',
        },
        2,
      );
    const status = (s: string, refunded?: string) => {
      const [m] = row(s, refunded);
      return m?.kind === 'row' ? m.values.status : m?.kind;
    };
    expect(status('completed')).toBe('paid');
    expect(status('wc-processing')).toBe('paid');
    expect(status('on-hold')).toBe('pending');
    expect(status('pending')).toBe('unpaid');
    expect(status('cancelled')).toBe('cancelled');
    expect(status('failed')).toBe('failed');
    expect(status('refunded', '20.00')).toBe('refunded');
    expect(status('completed', '5.00')).toBe('partially_refunded');
    expect(status('completed', '20.00')).toBe('paid');
    expect(row('checkout-draft')).toEqual([
      { kind: 'skip', reason: 'checkout-draft order (a cart in checkout, not an order)' },
    ]);
    // Guest key = the billing email in its one form; the item's name stands in for a missing SKU.
    const [m] = row('completed', '0.00', 'g1');
    expect(m).toMatchObject({ values: { customer_id: 'a@b.example', sku: 'Mug', line_total: '20.00' } });
  });

  it('detects both order layouts and the customers layout by header, and nothing else', () => {
    const orders = ['order_id', 'date', 'status', 'order_total', 'order_currency'];
    expect(woocommercePreset.detect('orders', [...orders, 'item_name', 'item_quantity'], '')).toBe(true);
    expect(woocommercePreset.detect('orders', [...orders, 'line_items'], '')).toBe(true);
    expect(
      woocommercePreset.detect('orders', ['order_id', 'order_date', ...orders.slice(2), 'line_items'], ''),
    ).toBe(true);
    expect(woocommercePreset.detect('orders', orders, '')).toBe(false);
    expect(
      woocommercePreset.detect('customers', ['customer_id', 'email', 'date_registered', 'billing_email'], ''),
    ).toBe(true);
    expect(woocommercePreset.detect('customers', ['customer_id', 'email', 'first_name'], '')).toBe(false);
    // What --preset woocommerce reports missing names the alternatives, not a column the file has.
    expect(
      woocommercePreset.missingColumns!('orders', ['order_id', 'order_date', 'status', 'order_total']),
    ).toEqual(['order_currency', 'item_name and item_quantity (or line_items)']);
    expect(woocommercePreset.missingColumns!('orders', [...orders, 'line_items'])).toEqual([]);
  });

  it('the generator is deterministic and writes its rules down', () => {
    expect(generateWooStore().files).toEqual(store.files);
    expect(Object.keys(WOO_RULES)).toEqual(
      expect.arrayContaining(['order', 'customer', 'statuses', 'summaryScope', 'grossRevenue', 'refunds']),
    );
  });
});

describe.each(testEngines())('WooCommerce small files on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('one row per order: line_items parsed, each refund of the refunds cell at its own date, an order without items kept', async () => {
    const csv = `order_id,order_number,date,status,shipping_total,tax_total,discount_total,order_total,refunded_total,order_currency,customer_id,billing_email,billing_country,line_items,refunds
801,801,2024-05-02 09:00:00,wc-completed,4.9,0.00,2.00,32.90,5.00,EUR,12,Eve@Woo.example,FR,"id:1|name:Honey \\| Heather|product_id:9|sku:|quantity:2|subtotal:20.00|total:18.00;id:2|name:Tea|product_id:10|sku:T-1|quantity:1|subtotal:10.00|total:10.00","id:70|date:2024-05-09 12:30:00|amount:5.00|reason:Damaged\\: lid cracked\\; replaced"
802,802,2024-05-03 10:00:00,refunded,0,0,0,12.00,12.00,EUR,0,guest@woo.example,FR,id:3|name:Hat|sku:HT-1|quantity:1|subtotal:12.00|total:12.00,id:71|date:2024-05-04 08:00:00|amount:7.00|reason:;id:72|date:2024-05-05 08:00:00|amount:5.00|reason:
803,803,2024-05-04 10:00:00,on-hold,0,0,0,15.00,0.00,EUR,12,eve@woo.example,FR,,
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('small-by-order.csv', csv),
    });
    expect(r).toMatchObject({ preset: 'woocommerce', inserted: 3, rejected: 0, refunds: { inserted: 3 } });
    const orders = await db.query(
      `SELECT o.external_id, c.external_id AS customer, o.status, o.subtotal_minor, o.discount_minor, o.total_minor, o.line_count
       FROM orders o LEFT JOIN customers c USING (customer_id) ORDER BY 1`,
    );
    expect(orders).toEqual([
      {
        external_id: '801',
        customer: 'wc-12',
        status: 'partially_refunded',
        subtotal_minor: 3000,
        discount_minor: 200,
        total_minor: 3290,
        line_count: 2,
      },
      {
        external_id: '802',
        customer: 'guest@woo.example',
        status: 'refunded',
        subtotal_minor: 1200,
        discount_minor: 0,
        total_minor: 1200,
        line_count: 1,
      },
      {
        external_id: '803',
        customer: 'wc-12',
        status: 'pending',
        subtotal_minor: 0,
        discount_minor: 0,
        total_minor: 1500,
        line_count: 0,
      },
    ]);
    const lines = await db.query(`SELECT sku, title, quantity FROM order_lines ORDER BY sku`);
    expect(lines).toEqual([
      { sku: 'HT-1', title: 'Hat', quantity: 1 },
      { sku: 'Honey | Heather', title: 'Honey | Heather', quantity: 2 },
      { sku: 'T-1', title: 'Tea', quantity: 1 },
    ]);
    const refunds = await db.query(
      `SELECT external_id, amount_minor, refunded_at, reason FROM refunds ORDER BY external_id`,
    );
    expect(refunds).toEqual([
      {
        external_id: 'wc-refund-70',
        amount_minor: 500,
        refunded_at: new Date('2024-05-09T12:30:00Z'),
        reason: 'Damaged: lid cracked; replaced',
      },
      {
        external_id: 'wc-refund-71',
        amount_minor: 700,
        refunded_at: new Date('2024-05-04T08:00:00Z'),
        reason: 'woocommerce refund',
      },
      {
        external_id: 'wc-refund-72',
        amount_minor: 500,
        refunded_at: new Date('2024-05-05T08:00:00Z'),
        reason: 'woocommerce refund',
      },
    ]);
  });

  it('customers: wc-<id> or the guest email; a guest row without email is skipped; the Analytics download is refused by name', async () => {
    const csv = `customer_id,first_name,last_name,email,date_registered,billing_first_name,billing_last_name,billing_email,billing_phone,billing_country,shipping_country
12,Zoë,Ó Súilleabháin,Eve@Woo.example,2023-02-01 08:00:00,,,eve.billing@woo.example,'+33 6 12 34 56 78,FR,
0,,,GUEST@woo.example,2024-05-03 10:00:00,Gaël,Lefèvre,GUEST@woo.example,,,BE
0,,,,2024-05-03 10:00:00,Nobody,Here,,,,
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'customers',
      file: file('small-customers.csv', csv),
    });
    expect(r).toMatchObject({
      preset: 'woocommerce',
      rows: 3,
      rejected: 0,
      skipped: { 'guest without email (WooCommerce guests are matched to orders by email)': 1 },
    });
    const rows = await db.query(
      `SELECT external_id, email, first_name, last_name, phone, country, created_at FROM customers WHERE external_id IN ('wc-12', 'guest@woo.example') ORDER BY 1`,
    );
    expect(rows).toEqual([
      {
        external_id: 'guest@woo.example',
        email: 'guest@woo.example',
        first_name: 'Gaël',
        last_name: 'Lefèvre',
        phone: null,
        country: 'BE',
        created_at: new Date('2024-05-03T10:00:00Z'), // from its first order: a guest's date_registered is not used
      },
      {
        external_id: 'wc-12',
        email: 'eve@woo.example',
        first_name: 'Zoë',
        last_name: 'Ó Súilleabháin',
        phone: '+33 6 12 34 56 78',
        country: 'FR',
        created_at: new Date('2023-02-01T08:00:00Z'),
      },
    ]);
    const analytics = file(
      'small-customers_report.csv',
      `Name,Username,Last active,Date registered,Email,Orders,Total spend,AOV,Country / Region,City,Region,Postal code
Zoë Ó Súilleabháin,zoe,2024-05-04 10:00:00,2023-02-01 08:00:00,eve@woo.example,2,47.90,23.95,FR,Besançon,,25000
`,
    );
    await expect(
      importFile(testContext(db, systemClock), { entity: 'customers', file: analytics }),
    ).rejects.toThrow(/Analytics → Customers download: it has no customer id/);
  });
});

describe.each(testEngines())('WooCommerce exports (generated store) on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const reportsOf: Record<string, ImportReport> = {};
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it('imports both orders layouts and the customers file as the generator counts them', async () => {
    const ctx = testContext(db, systemClock);
    for (const [name, file] of [
      ['ordersByItem', FILES.ordersByItem],
      ['ordersByOrder', FILES.ordersByOrder],
    ] as const) {
      const r = await importFile(ctx, { entity: 'orders', file });
      reportsOf[name] = r;
      const f = expected.files[name];
      expect(r, name).toMatchObject({
        preset: 'woocommerce',
        rows: f.rows,
        inserted: f.inserted,
        updated: 0,
        rejected: 0,
        // Fees (cash on delivery) make 4 % of the totals higher than their parts: not a warning.
        warnings: [],
        totalsBelowParts: 0,
        skipped: { 'checkout-draft order (a cart in checkout, not an order)': f.skippedDraftRows },
        guestOrders: f.guestOrders,
        customersCreated: f.customersCreated,
        refunds: { inserted: f.refundsInserted, updated: 0 },
      });
    }
    const c = await importFile(ctx, { entity: 'customers', file: FILES.customers });
    expect(c).toMatchObject({
      preset: 'woocommerce',
      rows: expected.files.customers.rows,
      rejected: 0,
      skipped: {},
      duplicates: 0,
      inserted: expected.files.customers.inserted,
      updated: expected.files.customers.updated,
    });

    // Every order as the rules say it is stored: customer key, status, total, refunds, line count.
    const stored = await db.query<{
      id: string;
      customer: string | null;
      status: string;
      total: number;
      refunded: number;
      lines: number;
    }>(
      `SELECT o.external_id AS id, c.external_id AS customer, o.status, o.total_minor AS total, o.line_count AS lines,
              COALESCE((SELECT SUM(r.amount_minor) FROM refunds r WHERE r.order_id = o.order_id), 0) AS refunded
       FROM orders o LEFT JOIN customers c USING (customer_id) ORDER BY o.external_id`,
    );
    const want = expected.orders
      .map((o) => ({
        id: o.id,
        customer: o.customer,
        status: o.status,
        total: o.totalCents,
        refunded: o.refundedCents,
        lines: o.lines,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    expect(stored).toEqual(want);
    // Each order's coupon (one at most, `fika<n>`) is its discount code, upper-cased, in both layouts.
    const [coded] = await db.query<{ orders: number; codes: number; fika: number }>(
      `SELECT COUNT(DISTINCT order_id) AS orders, COUNT(*) AS codes,
              COUNT(*) FILTER (WHERE code LIKE 'FIKA%') AS fika FROM order_discount_codes`,
    );
    const withCoupon = expected.figures.ordersWithCoupon;
    expect(withCoupon).toBeGreaterThan(0);
    expect(coded).toEqual({ orders: withCoupon, codes: withCoupon, fika: withCoupon });
    const [n] = await db.query<{ customers: number; consents: number }>(
      `SELECT (SELECT COUNT(*) FROM customers) AS customers, (SELECT COUNT(*) FROM customer_consents) AS consents`,
    );
    expect(n).toEqual({
      customers:
        expected.figures.distinctCustomersAllOrders + expected.figures.registeredCustomersWithoutOrders,
      consents: 0, // the layouts carry no marketing consent
    });
    // A registered customer's profile comes from the customers file: names with their accents.
    const [ana] = await db.query<{ first_name: string; created_at: Date | null }>(
      `SELECT first_name, created_at FROM customers WHERE external_id LIKE 'wc-%' AND first_name IS NOT NULL ORDER BY external_id LIMIT 1`,
    );
    expect(ana?.created_at).toBeInstanceOf(Date);
  });

  it('report summary equals the expected figures (on-hold is a sale, pending payment is not; gross = Σ order total)', async () => {
    const s = await reports.summaryReport(testContext(db), { asOf: store.asOf });
    const e = expected.summary;
    expect(s).toMatchObject({
      currency: 'EUR',
      customers: e.customers,
      orders: e.orders,
      guestOrders: e.guestOrders,
    });
    expect(Math.round(s.grossRevenue * 100)).toBe(e.grossRevenueCents);
    expect(Math.round(s.refunds * 100)).toBe(e.refundsCents);
    expect(Math.round(s.netRevenue * 100)).toBe(e.netRevenueCents);
    expect(s.repeatCustomerRate).toBeCloseTo(e.repeatCustomerRate, 4);
    expect(s.avgLifespanDays).toBeCloseTo(e.avgLifespanDays, 2);
  });

  it('every report runs on the imported store', async () => {
    const ctx = testContext(db);
    const asOf = store.asOf;
    const s = await reports.summaryReport(ctx, { asOf });
    expect(s.orders).toBeGreaterThan(0);
    expect((await reports.cohortsReport(ctx, { asOf })).cohorts.length).toBeGreaterThan(0);
    await reports.retentionReport(ctx, { asOf });
    await reports.ltvReport(ctx, { asOf });
    await reports.rfmReport(ctx, { asOf });
    await reports.channelsReport(ctx, { asOf });
    await reports.diagnoseReport(ctx, { asOf });
    expect(reports.digestJson(await reports.digestReport(ctx, { asOf }))).toMatchObject({ report: 'digest' });
  });

  it('re-importing every file inserts and updates nothing', async () => {
    const ctx = testContext(db, systemClock);
    const before = await storedState(db);
    for (const [entity, file] of ALL) {
      const r = await importFile(ctx, { entity, file });
      expect(r, file).toMatchObject({ inserted: 0, updated: 0, rejected: 0 });
      if (entity === 'orders') expect(r.refunds, file).toMatchObject({ inserted: 0, updated: 0 });
    }
    expect(await storedState(db)).toEqual(before);
  });
});
