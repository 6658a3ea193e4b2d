/**
 * The orders module's revenue expressions, for other modules' repositories that measure what customers
 * bought after something happened (a campaign's window, a flow's entry): one definition of a sale and
 * of net revenue for all of them. SQL fragments only (the callers' queries bind the values).
 */

/** Sale orders `o` in the currency `cur` (an SQL expression). */
export const saleSql = (cur: string) =>
  `o.status IN ('paid', 'pending', 'refunded', 'partially_refunded') AND o.currency = ${cur}`;

/**
 * Net revenue of customer `c` in `(from, to]` as one SQL expression: sale orders in `cur` less their
 * refunds, by the order's time. The arguments are SQL expressions.
 */
export const netRevenueSql = (
  c: string,
  cur: string,
  from: string,
  to: string,
) => `COALESCE((SELECT SUM(o.total_minor) FROM orders o
      WHERE o.customer_id = ${c} AND ${saleSql(cur)} AND o.ordered_at > ${from} AND o.ordered_at <= ${to}), 0)
    - COALESCE((SELECT SUM(f.amount_minor) FROM refunds f JOIN orders o ON o.order_id = f.order_id
      WHERE o.customer_id = ${c} AND ${saleSql(cur)} AND o.ordered_at > ${from} AND o.ordered_at <= ${to}), 0)`;
