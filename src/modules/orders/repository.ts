import type { Basket, Product } from '../../analytics/basket/types.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import type { LoadBasketsOptions } from '../basket/repository.js';

/**
 * Orders with their lines as baskets (the contract in modules/basket/repository.ts): sales of known
 * customers (fully refunded and cancelled orders excluded), lines with a SKU, quantity > 0, price > 0.
 */
export async function loadBaskets(db: Queryable, opts: LoadBasketsOptions = {}): Promise<Basket[]> {
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
  if (opts.customerId !== undefined) {
    params.push(opts.customerId);
    where.push(`c.external_id = $${params.length}`);
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
