import type { Queryable } from '../../storage/port.js';
import type { CustomerAggregate } from '../../analytics/metrics/types.js';
import { SALE_STATUSES } from '../imports/schema.js';

/** Statuses counted as sales, as a SQL list (constants, not user input). */
export const SALE_STATUS_SQL = SALE_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Revenue of one order (docs/metrics.md#order-revenue): merchandise = Σ line totals − order discount;
 * for an order imported without lines, its total.
 */
export const ORDER_REVENUE_SQL = `(CASE WHEN o.line_count > 0 THEN o.subtotal_minor - o.discount_minor ELSE o.total_minor END)`;

/** The store currency and the data's time span (for default `asOf`). */
export async function storeFacts(
  db: Queryable,
): Promise<{ currency: string | null; firstOrderAt: Date | null; lastOrderAt: Date | null }> {
  const [row] = await db.query<{ currency: string | null; first_at: Date | null; last_at: Date | null }>(
    `SELECT (SELECT value FROM settings WHERE key = 'currency') AS currency, MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at FROM orders`,
  );
  return {
    currency: row?.currency ?? null,
    firstOrderAt: row?.first_at ?? null,
    lastOrderAt: row?.last_at ?? null,
  };
}

/** One aggregate per customer with ≥ 1 sale before `asOf` (exclusive), in `currency`; plus guest orders. */
export async function customerAggregates(
  db: Queryable,
  asOf: Date,
  currency: string,
): Promise<{ customers: CustomerAggregate[]; guestOrders: number }> {
  const rows = await db.query<{
    orders: number;
    revenue_minor: number;
    refund_minor: number;
    first_at: Date;
    last_at: Date;
  }>(
    `SELECT COUNT(*) AS orders, SUM(${ORDER_REVENUE_SQL}) AS revenue_minor,
            MIN(o.ordered_at) AS first_at, MAX(o.ordered_at) AS last_at, COALESCE(MAX(r.refund_minor), 0) AS refund_minor
     FROM orders o
     LEFT JOIN (SELECT customer_id, SUM(amount_minor) AS refund_minor FROM refunds
                WHERE refunded_at < $1::timestamp AND currency = $2 GROUP BY customer_id) r ON r.customer_id = o.customer_id
     WHERE o.customer_id IS NOT NULL AND o.ordered_at < $1::timestamp AND o.currency = $2 AND o.status IN (${SALE_STATUS_SQL})
     GROUP BY o.customer_id`,
    [asOf, currency],
  );
  const [guest] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM orders o WHERE o.customer_id IS NULL AND o.ordered_at < $1::timestamp AND o.currency = $2 AND o.status IN (${SALE_STATUS_SQL})`,
    [asOf, currency],
  );
  return {
    customers: rows.map((r) => ({
      orders: r.orders,
      revenueMinor: r.revenue_minor,
      refundMinor: r.refund_minor,
      firstOrderAt: r.first_at,
      lastOrderAt: r.last_at,
    })),
    guestOrders: guest?.n ?? 0,
  };
}
