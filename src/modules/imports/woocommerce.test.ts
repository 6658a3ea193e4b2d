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
import { ORDER_STATUSES, SALE_STATUSES } from './schema.js';
import { importFile, type ImportReport } from './service.js';

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

/*
 * DEPENDS ON MAIN: `report summary` counts `pending` (on-hold) orders as sales and takes gross revenue as
 * Σ order total only once main's redefinition is merged (SALE_STATUSES gains 'pending', ORDER_STATUSES
 * gains 'unpaid'). Until then these assertions are skipped, loudly; after the merge they run.
 */
const SUMMARY_RULES_MERGED = (SALE_STATUSES as readonly string[]).includes('pending');
const UNPAID_STATUS = (ORDER_STATUSES as readonly string[]).includes('unpaid') ? 'unpaid' : 'pending';
if (!SUMMARY_RULES_MERGED)
  console.warn(
    'woocommerce.test.ts: the report summary assertions wait for main (pending as a sale, gross = Σ order total)',
  );

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
    const map = woocommercePreset.createMapper('orders', { map: {}, currency: 'EUR' });
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
  });

  it('the generator is deterministic and writes its rules down', () => {
    expect(generateWooStore().files).toEqual(store.files);
    expect(Object.keys(WOO_RULES)).toEqual(
      expect.arrayContaining(['order', 'customer', 'statuses', 'summaryScope', 'grossRevenue', 'refunds']),
    );
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
        warnings: [],
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
        status: o.status === 'unpaid' ? UNPAID_STATUS : o.status,
        total: o.totalCents,
        refunded: o.refundedCents,
        lines: o.lines,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    expect(stored).toEqual(want);
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

  it.runIf(SUMMARY_RULES_MERGED)(
    '[needs main: pending is a sale, gross = Σ order total] report summary equals the expected figures',
    async () => {
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
    },
  );

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
