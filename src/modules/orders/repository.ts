import type { Basket, Product } from '../../analytics/basket/types.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import { sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import { customerIdSql } from '../customers/repository.js';
import type { LoadBasketsOptions } from '../basket/repository.js';

/** `o.ordered_at` within [since, until): the conditions and their parameters, numbered from $1. */
function periodFilter(opts: { since?: Date | undefined; until?: Date | undefined }): {
  where: string[];
  params: SqlValue[];
} {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (opts.since) {
    params.push(opts.since);
    where.push(`o.ordered_at >= $${params.length}::timestamp`);
  }
  if (opts.until) {
    params.push(opts.until);
    where.push(`o.ordered_at < $${params.length}::timestamp`);
  }
  return { where, params };
}

/**
 * Orders with their lines as baskets (the contract in modules/basket/repository.ts): sales of known
 * customers (fully refunded and cancelled orders excluded), lines with a SKU, quantity > 0, price > 0.
 */
export async function loadBaskets(db: Queryable, opts: LoadBasketsOptions = {}): Promise<Basket[]> {
  const { where, params } = periodFilter(opts);
  if (opts.customerId !== undefined) {
    params.push(opts.customerId);
    // A scalar sub-query on the unique external id: Postgres walks orders_customer_idx and the lines'
    // (order_id, line_no) index; DuckDB prunes by zone maps (~5 ms on the demo store, against ~50 ms
    // for the same filter on the joined customers).
    where.push(`o.customer_id = ${customerIdSql(`$${params.length}`)}`);
  }
  const rows = await db.query<{
    order_ext: string;
    customer_ext: string;
    ordered_at: Date;
    sku: string;
    quantity: number;
    unit_price_minor: number;
    title: string | null;
  }>(
    `SELECT o.external_id AS order_ext, c.external_id AS customer_ext, o.ordered_at, l.sku, l.quantity, l.unit_price_minor, l.title
     FROM orders o
     JOIN customers c ON c.customer_id = o.customer_id
     JOIN order_lines l ON l.order_id = o.order_id
     WHERE o.status IN ('paid', 'partially_refunded') AND l.sku IS NOT NULL AND l.quantity > 0 AND l.unit_price_minor > 0
       ${where.map((w) => `AND ${w}`).join(' ')}
     ORDER BY o.order_id, l.line_no`,
    params,
  );
  const baskets: Basket[] = [];
  let current: Basket | undefined;
  for (const r of rows) {
    if (!current || current.orderId !== r.order_ext) {
      current = { orderId: r.order_ext, customerId: r.customer_ext, orderedAt: r.ordered_at, items: [] };
      baskets.push(current);
    }
    current.items.push({
      sku: r.sku,
      quantity: r.quantity,
      unitPriceMinor: r.unit_price_minor,
      ...(r.title ? { title: r.title } : {}),
    });
  }
  return baskets;
}

/**
 * The orders of {@link loadBaskets}, one row per order: its lines packed into one text, each line
 * `line_no RS sku RS quantity RS unit_price_minor RS title` (RS = U+001E), lines joined by U+001F in
 * no particular order (`lines` counts them); a title equal to the catalogue's is sent as U+0002 (the
 * catalogue has it), so most lines carry no title. A few thousand rows reach JavaScript instead of
 * every line — on the demo store ~0.4 s with the event loop free, against ~4 s of row objects for
 * loadBaskets — and the unpacking (basket/orderRows.ts) can run on a worker thread.
 */
export async function loadPackedBaskets(
  db: Queryable,
  opts: Pick<LoadBasketsOptions, 'since' | 'until'> = {},
): Promise<PackedBasketRow[]> {
  const { where, params } = periodFilter(opts);
  const sql = `SELECT o.external_id AS order_ext, c.external_id AS customer_ext, o.customer_id AS customer_key, o.ordered_at,
            COUNT(*) AS lines,
            string_agg(CAST(l.line_no AS TEXT) || chr(30) || l.sku || chr(30) || CAST(l.quantity AS TEXT) || chr(30) ||
                       CAST(l.unit_price_minor AS TEXT) || chr(30) ||
                       CASE WHEN l.title IS NULL OR l.title = '' THEN '' WHEN l.title = p.title THEN chr(2) ELSE l.title END,
                       chr(31)) AS packed
     FROM orders o
     JOIN customers c ON c.customer_id = o.customer_id
     JOIN order_lines l ON l.order_id = o.order_id
     LEFT JOIN products p ON p.sku = l.sku
     WHERE o.status IN ('paid', 'partially_refunded') AND l.sku IS NOT NULL AND l.quantity > 0 AND l.unit_price_minor > 0
       AND o.order_id >= $${params.length + 1} AND o.order_id < $${params.length + 2}
       ${where.map((w) => `AND ${w}`).join(' ')}
     GROUP BY o.order_id, o.external_id, c.external_id, o.customer_id, o.ordered_at
     ORDER BY o.order_id`;
  // In pages of order ids: each page's texts become JavaScript strings in one synchronous step of the
  // driver (DuckDB: ~0.2 s for the whole demo store at once), so pages keep the event loop turning.
  const [range] = await db.query<{ lo: number | null; hi: number | null }>(
    'SELECT MIN(order_id) AS lo, MAX(order_id) AS hi FROM orders',
  );
  const out: PackedBasketRow[] = [];
  if (range?.lo == null || range.hi == null) return out;
  for (let from = range.lo; from <= range.hi; from += PACKED_PAGE_ORDERS)
    for (const row of await db.query<PackedBasketRow>(sql, [...params, from, from + PACKED_PAGE_ORDERS]))
      out.push(row);
  return out;
}

/** Order ids per page of {@link loadPackedBaskets} (~20,000 lines on the demo store). */
const PACKED_PAGE_ORDERS = 1000;

/** One order of {@link loadPackedBaskets}. */
export type PackedBasketRow = {
  order_ext: string;
  customer_ext: string;
  /** The customer's internal id. */
  customer_key: number;
  ordered_at: Date;
  lines: number;
  packed: string;
};

/**
 * What the stored orders, refunds and catalogue look like, cheaply (counts, largest ids, last
 * change times): equal fingerprints mean no order, refund or product was added or changed between
 * them. The kept recommendation model records the one it was trained on.
 */
export async function salesFingerprint(db: Queryable): Promise<string> {
  const [r] = await db.query<Record<string, number | Date | null>>(
    `SELECT (SELECT COUNT(*) FROM orders) AS orders, (SELECT MAX(order_id) FROM orders) AS max_order,
            (SELECT MAX(imported_at) FROM orders) AS orders_changed,
            (SELECT COUNT(*) FROM refunds) AS refunds, (SELECT MAX(refund_id) FROM refunds) AS max_refund,
            (SELECT COUNT(*) FROM products) AS products, (SELECT MAX(updated_at) FROM products) AS products_changed`,
  );
  return Object.entries(r!)
    .map(([k, v]) => `${k}=${v instanceof Date ? v.toISOString() : String(v)}`)
    .join(';');
}

/**
 * The catalogue. Products created by order imports have no list price: their price is the median
 * unit price they sold at, so upsell and bundle pricing still work on order-only stores.
 */
export async function loadProducts(db: Queryable): Promise<Product[]> {
  const rows = await db.query<{
    sku: string;
    title: string | null;
    category: string | null;
    price_minor: number | null;
    unit_cost_minor: number | null;
    sold_minor: number | null;
  }>(
    `SELECT p.sku, p.title, p.category, p.price_minor, p.unit_cost_minor, s.sold_minor
     FROM products p
     LEFT JOIN (SELECT sku, CAST(ROUND(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY unit_price_minor)) AS BIGINT) AS sold_minor
                FROM order_lines WHERE unit_price_minor > 0 GROUP BY sku) s ON s.sku = p.sku
     ORDER BY p.sku`,
  );
  return rows.map((r) => ({
    sku: r.sku,
    title: r.title ?? '',
    ...(r.category ? { category: r.category } : {}),
    priceMinor: r.price_minor ?? r.sold_minor ?? 0,
    ...(r.unit_cost_minor !== null ? { unitCostMinor: r.unit_cost_minor } : {}),
  }));
}

// ---- the HTTP API's order reads (keyset pagination by order_id) ----

export interface OrderDbRow {
  order_id: number;
  external_id: string;
  customer_ext: string | null;
  ordered_at: Date;
  currency: string;
  subtotal_minor: number;
  discount_minor: number;
  shipping_minor: number;
  tax_minor: number;
  total_minor: number;
  channel: string | null;
  source: string | null;
  status: string;
  line_count: number;
}

const ORDER_COLUMNS = `o.order_id, o.external_id, c.external_id AS customer_ext, o.ordered_at, o.currency, o.subtotal_minor, o.discount_minor,
  o.shipping_minor, o.tax_minor, o.total_minor, o.channel, o.source, o.status, o.line_count`;

export async function listOrders(
  db: Queryable,
  f: { afterId?: number; limit: number; customerId?: string; status?: string; from?: Date; to?: Date },
): Promise<OrderDbRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, v: SqlValue) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.afterId !== undefined) add('o.order_id > ?', f.afterId);
  if (f.customerId !== undefined) {
    params.push(f.customerId); // the shop id, or a merged customer's (an alias of the survivor)
    where.push(`o.customer_id = ${customerIdSql(`$${params.length}`)}`);
  }
  if (f.status !== undefined) add('o.status = ?', f.status);
  if (f.from !== undefined) add('o.ordered_at >= ?::timestamp', f.from);
  if (f.to !== undefined) add('o.ordered_at < ?::timestamp', f.to);
  params.push(f.limit);
  return db.query<OrderDbRow & Record<string, unknown>>(
    `SELECT ${ORDER_COLUMNS} FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY o.order_id LIMIT $${params.length}`,
    params,
  );
}

export async function orderByExternalId(db: Queryable, externalId: string): Promise<OrderDbRow | undefined> {
  const rows = await db.query<OrderDbRow & Record<string, unknown>>(
    `SELECT ${ORDER_COLUMNS} FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id WHERE o.external_id = $1`,
    [externalId],
  );
  return rows[0];
}

export async function orderLines(
  db: Queryable,
  orderId: number,
): Promise<
  {
    line_no: number;
    sku: string | null;
    title: string | null;
    quantity: number;
    unit_price_minor: number;
    line_total_minor: number;
  }[]
> {
  return db.query(
    `SELECT line_no, sku, title, quantity, unit_price_minor, line_total_minor FROM order_lines WHERE order_id = $1 ORDER BY line_no`,
    [orderId],
  );
}

export async function orderRefunds(
  db: Queryable,
  orderId: number,
): Promise<
  { external_id: string; amount_minor: number; currency: string; refunded_at: Date; reason: string | null }[]
> {
  return db.query(
    `SELECT external_id, amount_minor, currency, refunded_at, reason FROM refunds WHERE order_id = $1 ORDER BY refunded_at, external_id`,
    [orderId],
  );
}

/**
 * The discount codes of the given orders (internal ids), each order's sorted (in JavaScript: the same
 * order whatever the database's collation); an order without codes is not in the map.
 */
export async function orderDiscountCodes(
  db: Queryable,
  orderIds: readonly number[],
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (orderIds.length === 0) return out;
  const rows = await db.query<{ order_id: number; code: string }>(
    `SELECT order_id, code FROM order_discount_codes WHERE order_id IN (${orderIds.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...orderIds],
  );
  for (const r of rows) {
    const codes = out.get(r.order_id);
    if (codes) codes.push(r.code);
    else out.set(r.order_id, [r.code]);
  }
  for (const codes of out.values()) codes.sort();
  return out;
}

/**
 * Merge hook: the merged customers' orders, order lines, discount codes and refunds become the
 * survivor's.
 */
export async function mergeCustomerOrders(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  for (const table of ['orders', 'order_lines', 'order_discount_codes', 'refunds'])
    await tx.exec(`UPDATE ${table} SET customer_id = $1 WHERE customer_id IN (${sqlIds(fromIds)})`, [intoId]);
}

/**
 * Timeline source: the customer's orders (`order`: placed, at `ordered_at`, with total, status and line
 * count) and refunds (`refund`: at `refunded_at`, with amount, reason and the order refunded).
 */
export async function orderTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const parts: Record<string, string> = {
    order: `SELECT 'order' AS kind, o.external_id AS ref, o.ordered_at AS at, o.total_minor AS amount_minor,
        o.currency AS currency, o.status AS detail, o.line_count AS line_count, o.channel AS channel,
        CAST(NULL AS TEXT) AS order_ref
      FROM orders o WHERE o.customer_id = $1`,
    refund: `SELECT 'refund' AS kind, r.external_id AS ref, r.refunded_at AS at, r.amount_minor AS amount_minor,
        r.currency AS currency, r.reason AS detail, CAST(NULL AS INTEGER) AS line_count,
        CAST(NULL AS TEXT) AS channel, o.external_id AS order_ref
      FROM refunds r LEFT JOIN orders o ON o.order_id = r.order_id WHERE r.customer_id = $1`,
  };
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    kind: 'order' | 'refund';
    ref: string;
    at: Date;
    amount_minor: number;
    currency: string;
    detail: string | null;
    line_count: number | null;
    channel: string | null;
    order_ref: string | null;
  }>(
    `SELECT * FROM (${q.kinds
      .filter((k) => k in parts)
      .map((k) => parts[k])
      .join(' UNION ALL ')}) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) =>
    r.kind === 'order'
      ? {
          at: r.at,
          kind: r.kind,
          ref: r.ref,
          title: `order ${r.ref}: ${r.detail ?? 'placed'}, ${r.line_count ?? 0} line${r.line_count === 1 ? '' : 's'}`,
          detail: r.detail,
          amountMinor: r.amount_minor,
          currency: r.currency,
          properties: { status: r.detail, lines: r.line_count, channel: r.channel },
        }
      : {
          at: r.at,
          kind: r.kind,
          ref: r.ref,
          title: `refund ${r.ref}${r.order_ref ? ` of order ${r.order_ref}` : ''}${r.detail ? `: ${r.detail}` : ''}`,
          detail: r.detail,
          amountMinor: r.amount_minor,
          currency: r.currency,
          properties: { order: r.order_ref, reason: r.detail },
        },
  );
}

/** Sets an order's status (a payment's result): whether the order exists. */
export async function setOrderStatus(tx: Queryable, externalId: string, status: string): Promise<boolean> {
  const rows = await tx.query<{ order_id: number }>(
    `UPDATE orders SET status = $2 WHERE external_id = $1 RETURNING order_id`,
    [externalId, status],
  );
  return rows.length === 1;
}
