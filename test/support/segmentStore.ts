import { mulberry32 } from '../../src/shared/random.js';
import { DAY_MS } from '../../src/shared/time.js';
import type { Database, SqlValue } from '../../src/storage/port.js';

/**
 * Test helper: a seeded store for segment tests — 90 customers (a few erased) with countries,
 * channels, locales, contacts, birthdays, consents and tags; orders over ~2 years in several statuses
 * and two currencies (a few after NOW), lines over six products in three categories (one uncategorised),
 * refunds (some above the order), site events, and two CLV runs (the older one must be ignored).
 */
export const NOW = new Date('2026-06-15T10:00:00Z');
export const CURRENCY = 'EUR';

export interface Customer {
  id: number;
  ext: string;
  country: string | null;
  channel: string | null;
  locale: string | null;
  email: string | null;
  phone: string | null;
  birthday: Date | null;
  createdAt: Date | null;
  erased: boolean;
  consents: Record<string, string>;
  tags: string[];
}
export interface Order {
  id: number;
  customer: number;
  at: Date;
  status: string;
  currency: string;
  total: number;
  lines: { sku: string; total: number }[];
  refund: number;
}
export interface Event {
  customer: number;
  type: string;
  at: Date;
}
export interface Prediction {
  customer: number;
  pAlive: number;
  expected: number;
  clv: number | null;
  next: Date | null;
}

export const PRODUCTS: [string, string | null][] = [
  ['SKU-1', 'Kitchen'],
  ['SKU-2', 'Kitchen'],
  ['SKU-3', 'Garden'],
  ['SKU-4', 'Garden'],
  ['SKU-5', 'Toys'],
  ['SKU-6', null],
];

export function generate(seed: number) {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = <T>(p: number, v: () => T): T | null => (r() < p ? v() : null);
  const daysAgo = (max: number) => new Date(NOW.getTime() - Math.floor(r() * max * DAY_MS));
  const customers: Customer[] = [];
  const orders: Order[] = [];
  const events: Event[] = [];
  const predictions: Prediction[] = [];
  let orderId = 0;
  for (let i = 1; i <= 90; i++) {
    const c: Customer = {
      id: i,
      ext: `c${i}`,
      country: maybe(0.85, () => pick(['US', 'GB', 'DE', 'UA'])),
      channel: maybe(0.7, () => pick(['ads', 'organic', 'referral'])),
      locale: maybe(0.6, () => pick(['en', 'uk', 'de'])),
      email: maybe(0.8, () => `c${i}@example.test`),
      phone: maybe(0.5, () => `+38050${String(i).padStart(7, '0')}`),
      birthday: maybe(
        0.6,
        () => new Date(Date.UTC(1960 + Math.floor(r() * 40), Math.floor(r() * 12), 1 + Math.floor(r() * 28))),
      ),
      createdAt: maybe(0.9, () => daysAgo(800)),
      erased: r() < 0.04,
      consents: {},
      tags: [],
    };
    for (const ch of ['email', 'sms', 'messenger', 'ads'])
      if (r() < 0.6) c.consents[ch] = pick(['granted', 'granted', 'denied', 'unsubscribed', 'unknown']);
    for (const t of ['vip', 'wholesale', 'press']) if (r() < 0.2) c.tags.push(t);
    customers.push(c);
    const n = Math.floor(r() * r() * 8);
    for (let k = 0; k < n; k++) {
      const lines = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
        sku: pick(PRODUCTS)[0],
        total: 100 * (1 + Math.floor(r() * 60)),
      }));
      const total = lines.reduce((a, l) => a + l.total, 0);
      const status = pick(['paid', 'paid', 'paid', 'pending', 'refunded', 'cancelled', 'partially_refunded']);
      orders.push({
        id: ++orderId,
        customer: i,
        // A few orders after NOW (pre-orders, clock skew): never counted.
        at: r() < 0.03 ? new Date(NOW.getTime() + DAY_MS) : daysAgo(700),
        status,
        currency: r() < 0.92 ? CURRENCY : 'USD',
        total,
        lines,
        refund: r() < 0.15 ? Math.floor(r() * total * 1.2) : 0,
      });
    }
    for (let k = Math.floor(r() * 4); k > 0; k--)
      events.push({ customer: i, type: pick(['view', 'checkout_started', 'add_to_cart']), at: daysAgo(60) });
    if (r() < 0.7)
      predictions.push({
        customer: i,
        pAlive: Math.round(r() * 1000) / 1000,
        expected: Math.round(r() * 5000) / 1000,
        clv: maybe(0.9, () => Math.floor(r() * 50_000)),
        next: maybe(0.8, () => new Date(NOW.getTime() + Math.floor((r() - 0.5) * 120) * DAY_MS)),
      });
  }
  return { customers, orders, events, predictions };
}

export type Data = ReturnType<typeof generate>;

export async function load(db: Database, d: Data) {
  await db.exec(`INSERT INTO settings (key, value) VALUES ('currency', '${CURRENCY}')`);
  const rows = <T>(xs: T[], f: (x: T) => SqlValue[]) => xs.map(f);
  await db.copyRows(
    'customers',
    [
      'customer_id',
      'external_id',
      'email',
      'phone',
      'birthday',
      'country',
      'acquisition_channel',
      'created_at',
      'updated_at',
      'locale',
      'erased_at',
    ],
    rows(d.customers, (c) => [
      c.id,
      c.ext,
      c.email,
      c.phone,
      c.birthday,
      c.country,
      c.channel,
      c.createdAt,
      NOW,
      c.locale,
      c.erased ? NOW : null,
    ]),
  );
  await db.copyRows(
    'customer_consents',
    ['customer_id', 'channel', 'status', 'changed_at', 'source'],
    d.customers.flatMap((c) => Object.entries(c.consents).map(([ch, s]) => [c.id, ch, s, NOW, 'test'])),
  );
  await db.copyRows(
    'customer_tags',
    ['customer_id', 'tag', 'created_at'],
    d.customers.flatMap((c) => c.tags.map((t) => [c.id, t, NOW])),
  );
  await db.copyRows(
    'products',
    ['sku', 'title', 'category', 'updated_at'],
    PRODUCTS.map(([s, cat]) => [s, s, cat, NOW]),
  );
  await db.copyRows(
    'orders',
    [
      'order_id',
      'external_id',
      'customer_id',
      'ordered_at',
      'currency',
      'subtotal_minor',
      'discount_minor',
      'shipping_minor',
      'tax_minor',
      'total_minor',
      'status',
      'line_count',
      'lines_digest',
      'imported_at',
    ],
    rows(d.orders, (o) => [
      o.id,
      `o${o.id}`,
      o.customer,
      o.at,
      o.currency,
      o.total,
      0,
      0,
      0,
      o.total,
      o.status,
      o.lines.length,
      '',
      NOW,
    ]),
  );
  await db.copyRows(
    'order_lines',
    [
      'order_id',
      'line_no',
      'customer_id',
      'sku',
      'title',
      'quantity',
      'unit_price_minor',
      'line_total_minor',
    ],
    d.orders.flatMap((o) =>
      o.lines.map((l, i) => [o.id, i + 1, o.customer, l.sku, l.sku, 1, l.total, l.total]),
    ),
  );
  await db.copyRows(
    'refunds',
    ['refund_id', 'external_id', 'order_id', 'customer_id', 'amount_minor', 'currency', 'refunded_at'],
    d.orders
      .filter((o) => o.refund > 0)
      .map((o) => [
        o.id,
        `r${o.id}`,
        o.id,
        o.customer,
        o.refund,
        o.currency,
        new Date(NOW.getTime() - DAY_MS),
      ]),
  );
  await db.copyRows(
    'events',
    ['event_id', 'customer_id', 'type', 'occurred_at', 'received_at'],
    d.events.map((e, i) => [`e${i}`, e.customer, e.type, e.at, NOW]),
  );
  // An older run that must be ignored, then the latest.
  const run = (asOf: Date, version: string, scale: number) =>
    d.predictions.map((p) => [
      p.customer,
      version,
      asOf,
      12,
      'week',
      p.expected * scale,
      Math.min(1, p.pAlive * scale),
      p.clv,
      CURRENCY,
      NOW,
      null,
      p.next,
    ]);
  await db.copyRows(
    'clv_predictions',
    [
      'customer_id',
      'model_version',
      'as_of',
      'horizon',
      'time_unit',
      'expected_purchases',
      'p_alive',
      'clv_minor',
      'currency',
      'created_at',
      'expected_spend_minor',
      'next_order_at',
    ],
    [
      ...run(new Date(NOW.getTime() - 90 * DAY_MS), 'old', 0.5),
      ...run(new Date(NOW.getTime() - DAY_MS), 'new', 1),
    ],
  );
  // The rows above carry their ids: move the id sequences past them, so that rows added later (an
  // order through the API) get new ids as in a real store.
  for (const [table, column] of [
    ['customers', 'customer_id'],
    ['orders', 'order_id'],
    ['refunds', 'refund_id'],
  ] as const) {
    const [top] = await db.query<{ m: number | null }>(`SELECT MAX(${column}) AS m FROM ${table}`);
    const m = top?.m ?? 0;
    if (m <= 0) continue;
    await db.query(
      db.kind === 'postgres'
        ? `SELECT setval('${column}_seq', ${m})`
        : `SELECT MAX(nextval('${column}_seq')) FROM range(${m})`,
    );
  }
}
