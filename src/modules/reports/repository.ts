import type { Calendar } from '../../analytics/calendar.js';
import { minorDigits } from '../../shared/money.js';
import { DAY_MS } from '../../shared/time.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import type { CohortCell } from '../../analytics/metrics/cohorts.js';
import { CHANNEL_DAYS, type ChannelFacts } from '../../analytics/metrics/channels.js';
import type { LtvFacts } from '../../analytics/metrics/ltv.js';
import type { RetentionCounts } from '../../analytics/metrics/retention.js';
import type { RfmValues } from '../../analytics/metrics/rfm.js';
import type { SliceFacts } from '../../analytics/metrics/overview.js';
import type {
  CustomerAggregate,
  CustomerProfile,
  OrderFact,
  Period,
  SpendRow,
  SplitBy,
} from '../../analytics/metrics/types.js';
import { UNKNOWN } from '../../analytics/metrics/util.js';
import { SALE_STATUSES } from '../imports/schema.js';

/** Statuses counted as sales, as a SQL list (constants, not user input). */
export const SALE_STATUS_SQL = SALE_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Revenue of one order (docs/metrics.md#order-revenue): its total — what the customer was charged
 * (Σ line totals − discount + shipping + tax, or the total the file states).
 */
export const ORDER_REVENUE_SQL = `o.total_minor`;

/** The store currency and time zone (settings `currency`, `time_zone`) and the data's time span (for default `asOf`). */
export async function storeFacts(db: Queryable): Promise<{
  currency: string | null;
  timeZone: string | null;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
}> {
  const [row] = await db.query<{
    currency: string | null;
    time_zone: string | null;
    first_at: Date | null;
    last_at: Date | null;
  }>(
    `SELECT (SELECT value FROM settings WHERE key = 'currency') AS currency,
       (SELECT value FROM settings WHERE key = 'time_zone') AS time_zone,
       MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at FROM orders`,
  );
  return {
    currency: row?.currency ?? null,
    timeZone: row?.time_zone ?? null,
    firstOrderAt: row?.first_at ?? null,
    lastOrderAt: row?.last_at ?? null,
  };
}

/**
 * The customers a report covers when it is restricted (`--segment` of a saved or built-in segment):
 * a subquery selecting internal customer ids, its placeholders numbered from `$first` — after the
 * query's own parameters, which it appends to.
 */
export type CustomerScope = (first: number) => { sql: string; params: SqlValue[] };

/** ` AND <column> IN (<scope>)` with the scope's parameters, or nothing without a scope. */
function scoped(
  column: string,
  scope: CustomerScope | undefined,
  first: number,
): { and: string; params: SqlValue[] } {
  if (!scope) return { and: '', params: [] };
  const s = scope(first);
  return { and: ` AND ${column} IN (${s.sql})`, params: s.params };
}

/**
 * The sale orders of known customers before `asOf`, in `currency` (one CTE, reused by the fact
 * queries below); `and` restricts the customers ({@link CustomerScope}).
 */
function saleOrdersCte(and = ''): string {
  return `sale AS (
  SELECT o.order_id, o.customer_id, o.ordered_at, ${ORDER_REVENUE_SQL} AS revenue_minor, o.line_count
  FROM orders o
  WHERE o.customer_id IS NOT NULL AND o.ordered_at < $1::timestamp AND o.currency = $2
    AND o.status IN (${SALE_STATUS_SQL})${and}
)`;
}
export const SALE_ORDERS_CTE = saleOrdersCte();

/**
 * Refunds before `asOf` attributed to the sale order they reduce (docs/metrics.md#refund-attribution):
 * a refund naming its order counts against that order when the order is a sale in scope (a refund of
 * a cancelled order is ignored: its revenue was never counted); a refund naming only its customer
 * (Online Retail cancellations) counts against the customer's latest sale at or before the refund
 * instant, else — when it predates all of them — against the customer's first sale. The refunds naming
 * an order count at most the order's revenue (the excess is a data error: {@link overRefundedOrders}).
 */
export const REFUNDS_BY_ORDER_CTE = `linked_refund AS (
  SELECT r.order_id, SUM(r.amount_minor) AS amount_minor FROM refunds r
  WHERE r.order_id IS NOT NULL AND r.refunded_at < $1::timestamp AND r.currency = $2
  GROUP BY r.order_id
),
loose_refund AS (
  SELECT r.refund_id, r.customer_id, r.refunded_at, r.amount_minor FROM refunds r
  WHERE r.order_id IS NULL AND r.customer_id IS NOT NULL AND r.refunded_at < $1::timestamp AND r.currency = $2
),
attributed_refund AS (
  SELECT order_id, amount_minor FROM (
    SELECT s.order_id, u.amount_minor,
      ROW_NUMBER() OVER (
        PARTITION BY u.refund_id
        ORDER BY CASE WHEN s.ordered_at <= u.refunded_at THEN 0 ELSE 1 END,
                 CASE WHEN s.ordered_at <= u.refunded_at THEN s.ordered_at END DESC NULLS LAST,
                 s.ordered_at, s.order_id DESC
      ) AS rn
    FROM loose_refund u JOIN sale s ON s.customer_id = u.customer_id
  ) ranked WHERE rn = 1
),
order_refund AS (
  SELECT order_id, SUM(amount_minor) AS refund_minor FROM (
    SELECT l.order_id, LEAST(l.amount_minor, GREATEST(s.revenue_minor, 0)) AS amount_minor
    FROM linked_refund l JOIN sale s ON s.order_id = l.order_id
    UNION ALL SELECT order_id, amount_minor FROM attributed_refund
  ) x GROUP BY order_id
)`;

/**
 * One aggregate per customer with ≥ 1 sale before `asOf` (exclusive), in `currency` — refunds as
 * attributed to their sales ({@link REFUNDS_BY_ORDER_CTE}) — plus guest orders.
 */
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
    `WITH ${SALE_ORDERS_CTE}, ${REFUNDS_BY_ORDER_CTE}
     SELECT COUNT(*) AS orders, SUM(s.revenue_minor) AS revenue_minor,
            MIN(s.ordered_at) AS first_at, MAX(s.ordered_at) AS last_at,
            CAST(COALESCE(SUM(r.refund_minor), 0) AS BIGINT) AS refund_minor
     FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
     GROUP BY s.customer_id`,
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

/** A sale whose refunds (naming it) exceed its revenue: counted as its revenue in every report. */
export interface OverRefundedOrder {
  orderId: string;
  revenueMinor: number;
  refundedMinor: number;
}

/** The sales in scope whose refunds naming them exceed their revenue (at most `limit`, and how many). */
export async function overRefundedOrders(
  db: Queryable,
  asOf: Date,
  currency: string,
  limit = 20,
): Promise<{ orders: OverRefundedOrder[]; count: number; excessMinor: number }> {
  const rows = await db.query<{
    order_id: string;
    revenue_minor: number;
    refunded_minor: number;
    n: number;
    excess_minor: number;
  }>(
    `WITH ${SALE_ORDERS_CTE}, ${REFUNDS_BY_ORDER_CTE},
     over AS (
       SELECT o.external_id AS order_id, s.revenue_minor, CAST(l.amount_minor AS BIGINT) AS refunded_minor
       FROM linked_refund l JOIN sale s ON s.order_id = l.order_id JOIN orders o ON o.order_id = s.order_id
       WHERE l.amount_minor > GREATEST(s.revenue_minor, 0)
     )
     SELECT order_id, revenue_minor, refunded_minor, COUNT(*) OVER () AS n,
            CAST(SUM(refunded_minor - GREATEST(revenue_minor, 0)) OVER () AS BIGINT) AS excess_minor
     FROM over ORDER BY order_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    [asOf, currency],
  );
  return {
    orders: rows.map((r) => ({
      orderId: r.order_id,
      revenueMinor: r.revenue_minor,
      refundedMinor: r.refunded_minor,
    })),
    count: rows[0]?.n ?? 0,
    excessMinor: rows[0]?.excess_minor ?? 0,
  };
}

/** Which line-level details a report needs (each costs a pass over `order_lines`). */
export interface OrderFactDetail {
  /** Product cost per order (margin). */
  cost?: boolean;
  /**
   * The order's largest line: `sku` for its sku and category (first-product splits), `category` when
   * only the category matters (category mix) — skipped when no product has a category.
   */
  primaryLine?: 'sku' | 'category';
}

/**
 * One {@link OrderFact} per sale order of a known customer before `asOf` (exclusive), in `currency`,
 * ordered by customer (external id, so both engines agree), then time — the order the metrics layer
 * groups in linear time.
 * Cost is Σ quantity × product unit cost, null when the order has no lines or any line's product
 * cost is unknown; category/sku are those of the order's largest line (ties: smallest sku) — found
 * with MAX + a join rather than ROW_NUMBER(), which sorted every line and cost 3× as much on DuckDB.
 * Details not asked for are null, and so is cost (category) when no product has one: then the
 * order lines are not read at all.
 */
export async function orderFacts(
  db: Queryable,
  asOf: Date,
  currency: string,
  detail: OrderFactDetail = { cost: true, primaryLine: 'sku' },
): Promise<OrderFact[]> {
  const [known] = await db.query<{ costs: number; categories: number }>(
    `SELECT COUNT(unit_cost_minor) AS costs, COUNT(category) AS categories FROM products`,
  );
  const cost = detail.cost === true && (known?.costs ?? 0) > 0;
  const primaryLine =
    detail.primaryLine === 'sku' || (detail.primaryLine === 'category' && (known?.categories ?? 0) > 0);
  const lines = cost || primaryLine;
  // Named as the OrderFact fields, so the rows are the facts (no second object per order).
  return db.query<OrderFact>(
    `WITH ${SALE_ORDERS_CTE},
     ${REFUNDS_BY_ORDER_CTE}${
       lines
         ? `,
     line_fact AS (
       SELECT l.order_id, MAX(l.line_total_minor) AS top_line_minor,
         ${cost ? 'CASE WHEN COUNT(*) = COUNT(p.unit_cost_minor) THEN SUM(l.quantity * p.unit_cost_minor) END' : 'NULL'} AS cost_minor
       FROM order_lines l JOIN sale s ON s.order_id = l.order_id
       ${cost ? 'LEFT JOIN products p ON p.sku = l.sku' : ''}
       GROUP BY l.order_id
     )`
         : ''
     }${
       primaryLine
         ? `,
     top_line AS (
       SELECT l.order_id, MIN(l.sku) AS sku FROM order_lines l
       JOIN line_fact f ON f.order_id = l.order_id AND l.line_total_minor = f.top_line_minor
       GROUP BY l.order_id
     )`
         : ''
     }
     SELECT c.external_id AS "customerId", s.ordered_at AS "orderedAt", s.revenue_minor AS "revenueMinor",
       ${cost ? 'f.cost_minor' : 'CAST(NULL AS BIGINT)'} AS "costMinor",
       COALESCE(r.refund_minor, 0) AS "refundMinor",
       ${primaryLine ? 'p.category' : 'CAST(NULL AS TEXT)'} AS category,
       ${primaryLine ? 't.sku' : 'CAST(NULL AS TEXT)'} AS sku
     FROM sale s
     JOIN customers c ON c.customer_id = s.customer_id
     ${lines ? 'LEFT JOIN line_fact f ON f.order_id = s.order_id' : ''}
     ${primaryLine ? 'LEFT JOIN top_line t ON t.order_id = s.order_id LEFT JOIN products p ON p.sku = t.sku' : ''}
     LEFT JOIN order_refund r ON r.order_id = s.order_id
     ORDER BY c.external_id, s.ordered_at, s.order_id`,
    [asOf, currency],
  );
}

/**
 * The store calendar for SQL: the zone, and the span of instants the query's rows lie in (the first
 * order to `asOf`), inside which the zone's offsets are a short list.
 */
export interface ZoneSpan {
  calendar: Calendar;
  from: Date;
  to: Date;
}

const sqlTimestamp = (ms: number) =>
  `TIMESTAMP '${new Date(ms).toISOString().slice(0, 23).replace('T', ' ')}'`;

/**
 * A TIMESTAMP column (UTC) as the store's local wall time; the column itself for UTC. In general
 * `(ts AT TIME ZONE 'UTC') AT TIME ZONE zone` (the same on Postgres and DuckDB, whose ICU extension is
 * loaded); with a {@link ZoneSpan}, inside the span the column plus the offset in force (a CASE over the
 * zone's few offset changes, from analytics/calendar.ts: ~9× cheaper than ICU per row on DuckDB), and
 * the ICU form outside it, so a row outside the span is still exact. The zone is a validated IANA name,
 * checked again here before it enters SQL.
 */
export function localTimeSql(expr: string, zone: Calendar | ZoneSpan | undefined): string {
  const cal = zone === undefined ? undefined : 'calendar' in zone ? zone.calendar : zone;
  if (!cal || cal.utc) return expr;
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(cal.zone)) throw new Error(`unsafe time zone name ${cal.zone}`);
  const icu = `((${expr} AT TIME ZONE 'UTC') AT TIME ZONE '${cal.zone}')`;
  if (!('calendar' in zone!) || zone.from.getTime() >= zone.to.getTime()) return icu;
  const from = zone.from.getTime();
  const to = zone.to.getTime();
  const { start, changes } = cal.offsetChanges(from, to);
  const seconds = (offset: number) => `INTERVAL '${offset / 1000} seconds'`;
  // Newest first: most rows are recent.
  const whens = [...changes]
    .reverse()
    .map((c) => `WHEN ${expr} >= ${sqlTimestamp(c.at)} THEN ${seconds(c.offset)}`)
    .join(' ');
  const offset = whens ? `CASE ${whens} ELSE ${seconds(start)} END` : seconds(start);
  return `(CASE WHEN ${expr} >= ${sqlTimestamp(from)} AND ${expr} < ${sqlTimestamp(to)} THEN ${expr} + ${offset} ELSE ${icu} END)`;
}

/**
 * Sequential period index of a TIMESTAMP column (UTC) in the store calendar, as the metrics layer's
 * `periodIndex` (the UTC expression unchanged when the store has no zone).
 */
function periodIndexSql(column: string, period: Period, cal?: Calendar | ZoneSpan): string {
  const expr = localTimeSql(column, cal);
  const year = `CAST(EXTRACT(YEAR FROM ${expr}) AS INTEGER)`;
  return period === 'month'
    ? `${year} * 12 + CAST(EXTRACT(MONTH FROM ${expr}) AS INTEGER) - 1`
    : `${year} * 4 + CAST(EXTRACT(QUARTER FROM ${expr}) AS INTEGER) - 1`;
}

/**
 * The CTEs every per-cell report query starts from: sale orders in scope (`sale`), their attributed
 * refunds (`order_refund`) and, when any product has a unit cost, each order's cost (`order_cost`,
 * null when a line's cost is unknown). `cost` says whether `order_cost` is there; `and` restricts the
 * customers.
 */
async function saleCtes(db: Queryable, and = ''): Promise<{ ctes: string[]; cost: boolean }> {
  const [known] = await db.query<{ costs: number }>(`SELECT COUNT(unit_cost_minor) AS costs FROM products`);
  const cost = (known?.costs ?? 0) > 0;
  const ctes = [saleOrdersCte(and), REFUNDS_BY_ORDER_CTE];
  if (cost)
    ctes.push(`order_cost AS (
       SELECT l.order_id, CASE WHEN COUNT(*) = COUNT(p.unit_cost_minor) THEN SUM(l.quantity * p.unit_cost_minor) END AS cost_minor
       FROM order_lines l JOIN sale s ON s.order_id = l.order_id LEFT JOIN products p ON p.sku = l.sku
       GROUP BY l.order_id
     )`);
  return { ctes, cost };
}

/**
 * Each customer's first sale (`first_order`: earliest, then the smallest order id, as the order facts
 * sort) and that order's largest line's sku (`first_sku`: largest line total, ties to the smallest
 * sku, as {@link orderFacts}), over the `sale` CTE: the `first-product` / `first-category` of the
 * cohorts report and the LTV report's `byFirstCategory` (join `products` on `first_sku.sku`).
 * MIN + a join rather than ROW_NUMBER(), which sorted every order.
 */
const FIRST_LINE_CTES = [
  `first_at AS (SELECT customer_id, MIN(ordered_at) AS first_at FROM sale GROUP BY customer_id)`,
  `first_order AS (
     SELECT s.customer_id, MIN(s.order_id) AS order_id
     FROM sale s JOIN first_at f ON f.customer_id = s.customer_id AND s.ordered_at = f.first_at
     GROUP BY s.customer_id
   )`,
  `first_top AS (
     SELECT l.order_id, MAX(l.line_total_minor) AS top_line_minor
     FROM order_lines l JOIN first_order fo ON fo.order_id = l.order_id GROUP BY l.order_id
   )`,
  `first_sku AS (
     SELECT l.order_id, MIN(l.sku) AS sku FROM order_lines l
     JOIN first_top t ON t.order_id = l.order_id AND l.line_total_minor = t.top_line_minor
     GROUP BY l.order_id
   )`,
];

/** Each customer's first category (`customer_id`, `first_category`), over {@link FIRST_LINE_CTES}; `(unknown)` is `$5`. */
const FIRST_CATEGORY_CTE = `first_category AS (
     SELECT fo.customer_id, COALESCE(fp.category, $5) AS first_category
     FROM first_order fo LEFT JOIN first_sku fs ON fs.order_id = fo.order_id
     LEFT JOIN products fp ON fp.sku = fs.sku
   )`;

/**
 * The cohort cells (analytics/metrics/cohorts.ts `CohortCell`) of the sale orders of known customers
 * before `asOf`, in `currency`, aggregated in the database: the same sums as `cohortCells` over
 * {@link orderFacts} (same refund attribution, same cost rule, same "first order": earliest, then
 * smallest order id; same largest line: ties to the smallest sku), without sending every order to
 * the process. Segments: `channel`/`country` from the customer, `first-product`/`first-category`
 * from the largest line of the first order; missing values are `(unknown)`.
 */
export async function cohortCells(
  db: Queryable,
  asOf: Date,
  currency: string,
  period: Period,
  by: SplitBy | undefined,
  cal?: Calendar | ZoneSpan,
): Promise<CohortCell[]> {
  const { ctes, cost } = await saleCtes(db);
  const firstLine = by === 'first-product' || by === 'first-category';
  ctes.push(`fact AS (
       SELECT s.customer_id, ${periodIndexSql('s.ordered_at', period, cal)} AS p,
         s.revenue_minor - CAST(COALESCE(r.refund_minor, 0) AS BIGINT) AS net_minor
         ${cost ? ', f.cost_minor' : ''}
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
       ${cost ? 'LEFT JOIN order_cost f ON f.order_id = s.order_id' : ''}
     )`);
  let segment = 'CAST(NULL AS TEXT)';
  let segmentJoin = '';
  if (firstLine) {
    ctes.push(...FIRST_LINE_CTES);
    segment = by === 'first-product' ? 'fs.sku' : 'fp.category';
    segmentJoin = `JOIN first_order fo ON fo.customer_id = m.customer_id
       LEFT JOIN first_sku fs ON fs.order_id = fo.order_id
       ${by === 'first-category' ? 'LEFT JOIN products fp ON fp.sku = fs.sku' : ''}`;
  } else if (by === 'channel' || by === 'country') {
    segment = by === 'channel' ? 'c.acquisition_channel' : 'c.country';
    segmentJoin = 'JOIN customers c ON c.customer_id = m.customer_id';
  }
  // Each customer's first period; one row per customer and period with orders (an active customer),
  // grouped on integers after the join, like the plainest form of the query (bench/reports.mjs
  // measures it beside this); then per cell, the segment joined in only there (a text key in the
  // per-customer grouping cost DuckDB more than the extra join).
  ctes.push(
    `first_period AS (SELECT customer_id, MIN(p) AS c0 FROM fact GROUP BY customer_id)`,
    `customer_period AS (
       SELECT m.customer_id, m.c0, f.p - m.c0 AS k, COUNT(*) AS orders, SUM(f.net_minor) AS net_minor
         ${cost ? ', COUNT(f.cost_minor) AS costed_orders, SUM(f.net_minor - COALESCE(f.cost_minor, 0)) AS net_less_cost_minor' : ''}
       FROM fact f JOIN first_period m ON m.customer_id = f.customer_id
       GROUP BY m.customer_id, m.c0, f.p
     )`,
  );
  if (by !== undefined) {
    ctes.push(`member AS (
       SELECT m.customer_id, COALESCE(${segment}, $3) AS segment FROM first_period m ${segmentJoin}
     )`);
  }
  const rows = await db.query<{
    c0: number;
    segment: string | null;
    k: number;
    active: number;
    orders: number;
    costed_orders: number;
    net_minor: number;
    net_less_cost_minor: number | null;
  }>(
    `WITH ${ctes.join(',\n     ')}
     SELECT cp.c0, ${by === undefined ? 'CAST(NULL AS TEXT)' : 's.segment'} AS segment, cp.k, COUNT(*) AS active,
       SUM(cp.orders) AS orders, SUM(cp.net_minor) AS net_minor,
       ${cost ? 'SUM(cp.costed_orders) AS costed_orders, SUM(cp.net_less_cost_minor) AS net_less_cost_minor' : '0 AS costed_orders, NULL AS net_less_cost_minor'}
     FROM customer_period cp ${by === undefined ? '' : 'JOIN member s ON s.customer_id = cp.customer_id'}
     GROUP BY cp.c0, ${by === undefined ? '' : 's.segment, '}cp.k`,
    by === undefined ? [asOf, currency] : [asOf, currency, UNKNOWN],
  );
  return rows.map((r) => ({
    cohort: r.c0,
    segment: r.segment,
    k: r.k,
    active: r.active,
    orders: r.orders,
    costedOrders: r.costed_orders,
    netMinor: r.net_minor,
    // Without any known cost every order's cost is unknown (read as 0).
    netLessCostMinor: r.net_less_cost_minor ?? r.net_minor,
  }));
}

/**
 * Each known customer's RFM inputs (analytics/metrics/rfm.ts `RfmValues`) from their sale orders
 * before `asOf` in `currency`: the last order's instant, the number of orders and the net revenue
 * (refunds attributed as in {@link orderFacts}) — one row per customer instead of one per order.
 */
export async function rfmValues(db: Queryable, asOf: Date, currency: string): Promise<RfmValues> {
  const rows = await db.query<{ customer_id: string; last_at: Date; orders: number; net_minor: number }>(
    `WITH ${SALE_ORDERS_CTE},
     ${REFUNDS_BY_ORDER_CTE},
     per_customer AS (
       SELECT s.customer_id, MAX(s.ordered_at) AS last_at, COUNT(*) AS orders,
         SUM(s.revenue_minor - CAST(COALESCE(r.refund_minor, 0) AS BIGINT)) AS net_minor
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
       GROUP BY s.customer_id
     )
     SELECT c.external_id AS customer_id, a.last_at, a.orders, a.net_minor
     FROM per_customer a JOIN customers c ON c.customer_id = a.customer_id`,
    [asOf, currency],
  );
  const values = {
    ids: new Array<string>(rows.length),
    lastOrderMs: new Array<number>(rows.length),
    frequency: new Array<number>(rows.length),
    monetaryMinor: new Array<number>(rows.length),
  };
  rows.forEach((r, i) => {
    values.ids[i] = r.customer_id;
    values.lastOrderMs[i] = r.last_at.getTime();
    values.frequency[i] = r.orders;
    values.monetaryMinor[i] = r.net_minor;
  });
  return values;
}

/**
 * The retention counts (analytics/metrics/retention.ts `RetentionCounts`) of the sale orders of known
 * customers before `asOf`, in `currency`, summed in the database: one row per period, and per
 * customer with ≥ 2 orders the instants of the first two — the same figures as `retentionCounts`
 * over {@link orderFacts}, without sending every order to the process. Per customer and period,
 * the customer's previous period with orders (LAG: cheaper on DuckDB than joining the cells to
 * themselves); the period counts for Shopify's rate when the customer had ≥ 2 orders by its end:
 * any period after the first, or the first when it holds ≥ 2 orders.
 */
export async function retentionCounts(
  db: Queryable,
  asOf: Date,
  currency: string,
  period: Period,
  cal?: Calendar | ZoneSpan,
): Promise<RetentionCounts> {
  const sale = `sale AS (
       SELECT o.customer_id, o.ordered_at FROM orders o
       WHERE o.customer_id IS NOT NULL AND o.ordered_at < $1::timestamp AND o.currency = $2
         AND o.status IN (${SALE_STATUS_SQL})
     )`;
  const periods = await db.query<{
    p: number;
    active: number;
    retained: number;
    new_customers: number;
    orders: number;
    shopify: number;
  }>(
    `WITH ${sale},
     customer_period AS (
       SELECT customer_id, ${periodIndexSql('ordered_at', period, cal)} AS p, COUNT(*) AS n FROM sale GROUP BY 1, 2
     ),
     with_previous AS (
       SELECT p, n, LAG(p) OVER (PARTITION BY customer_id ORDER BY p) AS prev_p FROM customer_period
     )
     SELECT p, COUNT(*) AS active, SUM(CASE WHEN prev_p = p - 1 THEN 1 ELSE 0 END) AS retained,
       SUM(CASE WHEN prev_p IS NULL THEN 1 ELSE 0 END) AS new_customers, SUM(n) AS orders,
       SUM(CASE WHEN prev_p IS NOT NULL OR n >= 2 THEN 1 ELSE 0 END) AS shopify
     FROM with_previous GROUP BY p`,
    [asOf, currency],
  );
  // The second order: another at the first instant, else the earliest after it.
  const pairs = await db.query<{ first_at: Date; second_at: Date }>(
    `WITH ${sale},
     first_at AS (SELECT customer_id, MIN(ordered_at) AS first_at FROM sale GROUP BY customer_id)
     SELECT f.first_at,
       CASE WHEN SUM(CASE WHEN s.ordered_at = f.first_at THEN 1 ELSE 0 END) >= 2 THEN f.first_at
            ELSE MIN(CASE WHEN s.ordered_at > f.first_at THEN s.ordered_at END) END AS second_at
     FROM sale s JOIN first_at f ON f.customer_id = s.customer_id
     GROUP BY f.customer_id, f.first_at HAVING COUNT(*) >= 2`,
    [asOf, currency],
  );
  return {
    period,
    periods: periods.map((r) => ({
      period: r.p,
      active: r.active,
      retained: r.retained,
      newCustomers: r.new_customers,
      orders: r.orders,
      shopify: r.shopify,
    })),
    // Every customer has one first period.
    customers: periods.reduce((n, r) => n + r.new_customers, 0),
    secondOrderGapsMs: pairs.map((r) => r.second_at.getTime() - r.first_at.getTime()),
  };
}

/**
 * The LTV facts (analytics/metrics/ltv.ts `LtvFacts`) of the sale orders of known customers before
 * `asOf`, in `currency`, for the window of month indexes `[first, last]`, summed in the database:
 * one row per customer (in the order of {@link orderFacts}: the metrics layer adds fractional days
 * in that order, with its channel and first category) and per channel, first category and window
 * month the active and retained customers — the same figures as `ltvFacts` over the order facts
 * (same refund attribution and cost rule, same first category as the cohorts' `first-category`),
 * without sending every order to the process.
 */
export async function ltvFacts(
  db: Queryable,
  asOf: Date,
  currency: string,
  window: { first: number; last: number },
  cal?: Calendar | ZoneSpan,
  scope?: CustomerScope,
): Promise<LtvFacts> {
  const only = scoped('o.customer_id', scope, 6);
  const { ctes, cost } = await saleCtes(db, only.and);
  const month = periodIndexSql('s.ordered_at', 'month', cal);
  // Per customer and month, then the customer's next month with orders (LEAD) for the churn events.
  ctes.push(
    `fact AS (
       SELECT s.customer_id, s.ordered_at, ${month} AS m,
         s.revenue_minor - CAST(COALESCE(r.refund_minor, 0) AS BIGINT) AS net_minor,
         ${cost ? 'f.cost_minor' : 'CAST(NULL AS BIGINT) AS cost_minor'}
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
       ${cost ? 'LEFT JOIN order_cost f ON f.order_id = s.order_id' : ''}
     )`,
    `customer_month AS (
       SELECT customer_id, m, COUNT(*) AS orders, COUNT(cost_minor) AS costed, SUM(net_minor) AS net_minor,
         SUM(net_minor - COALESCE(cost_minor, 0)) AS net_less_cost_minor,
         MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at
       FROM fact GROUP BY customer_id, m
     )`,
    `with_next AS (
       SELECT cm.*, LEAD(m) OVER (PARTITION BY customer_id ORDER BY m) AS next_m FROM customer_month cm
     )`,
    `per_customer AS (
       SELECT customer_id, MIN(first_at) AS first_at, MAX(last_at) AS last_at, COUNT(*) AS active_months,
         SUM(CASE WHEN m >= $3 AND m < $4 AND next_m > m + 1 THEN 1 ELSE 0 END) AS reactivated,
         SUM(orders) AS orders, SUM(costed) AS costed, SUM(net_minor) AS net_minor,
         SUM(net_less_cost_minor) AS net_less_cost_minor,
         SUM(CASE WHEN m BETWEEN $3 AND $4 THEN orders ELSE 0 END) AS window_orders,
         SUM(CASE WHEN m BETWEEN $3 AND $4 THEN net_minor ELSE 0 END) AS window_net_minor,
         SUM(CASE WHEN m BETWEEN $3 AND $4 THEN net_less_cost_minor ELSE 0 END) AS window_net_less_cost_minor
       FROM with_next GROUP BY customer_id
     )`,
    ...FIRST_LINE_CTES,
    FIRST_CATEGORY_CTE,
  );
  const rows = await db.query<{
    customer_id: string;
    channel: string;
    first_category: string;
    first_at: Date;
    last_at: Date;
    active_months: number;
    reactivated: number;
    orders: number;
    costed: number;
    net_minor: number;
    net_less_cost_minor: number;
    window_orders: number;
    window_net_minor: number;
    window_net_less_cost_minor: number;
  }>(
    `WITH ${ctes.join(',\n     ')}
     SELECT c.external_id AS customer_id, COALESCE(c.acquisition_channel, $5) AS channel,
       fc.first_category, a.first_at, a.last_at,
       a.active_months, a.reactivated, a.orders, a.costed, a.net_minor, a.net_less_cost_minor,
       a.window_orders, a.window_net_minor, a.window_net_less_cost_minor
     FROM per_customer a JOIN customers c ON c.customer_id = a.customer_id
     JOIN first_category fc ON fc.customer_id = a.customer_id
     ORDER BY c.external_id`,
    [asOf, currency, window.first, window.last, UNKNOWN, ...only.params],
  );
  // Active and retained customers per channel, first category and window month need no money:
  // the sale orders alone (and the first order's lines).
  const months = await db.query<{
    channel: string;
    first_category: string;
    m: number;
    active: number;
    retained: number;
  }>(
    `WITH ${[saleOrdersCte(only.and), ...FIRST_LINE_CTES, FIRST_CATEGORY_CTE].join(',\n     ')},
     customer_month AS (
       SELECT s.customer_id, ${periodIndexSql('s.ordered_at', 'month', cal)} AS m FROM sale s GROUP BY 1, 2
     ),
     with_previous AS (
       SELECT customer_id, m, LAG(m) OVER (PARTITION BY customer_id ORDER BY m) AS prev_m FROM customer_month
     )
     SELECT COALESCE(c.acquisition_channel, $5) AS channel, fc.first_category, w.m, COUNT(*) AS active,
       SUM(CASE WHEN w.prev_m = w.m - 1 THEN 1 ELSE 0 END) AS retained
     FROM with_previous w JOIN customers c ON c.customer_id = w.customer_id
     JOIN first_category fc ON fc.customer_id = w.customer_id
     WHERE w.m BETWEEN $3 AND $4
     GROUP BY 1, 2, 3`,
    [asOf, currency, window.first, window.last, UNKNOWN, ...only.params],
  );
  return {
    customers: rows.map((r) => ({
      customerId: r.customer_id,
      channel: r.channel,
      firstCategory: r.first_category,
      firstMs: r.first_at.getTime(),
      lastMs: r.last_at.getTime(),
      orders: r.orders,
      costedOrders: r.costed,
      netMinor: r.net_minor,
      netLessCostMinor: r.net_less_cost_minor,
      activeMonths: r.active_months,
      reactivated: r.reactivated,
      windowOrders: r.window_orders,
      windowNetMinor: r.window_net_minor,
      windowNetLessCostMinor: r.window_net_less_cost_minor,
    })),
    months: months.map((r) => ({
      channel: r.channel,
      firstCategory: r.first_category,
      month: r.m,
      active: r.active,
      retained: r.retained,
    })),
  };
}

/**
 * Each known customer's net revenue (refunds attributed as in {@link orderFacts}) from sale orders
 * before `cut`, over the customers with a sale before `asOf` in `currency` (0 when all their sales
 * are at or after `cut`): what predicted LTV adds the forecast to.
 */
export async function netBefore(
  db: Queryable,
  asOf: Date,
  currency: string,
  cut: Date,
  scope?: CustomerScope,
): Promise<Map<string, number>> {
  const only = scoped('o.customer_id', scope, 4);
  const rows = await db.query<{ customer_id: string; net_minor: number }>(
    `WITH ${saleOrdersCte(only.and)},
     ${REFUNDS_BY_ORDER_CTE},
     per_customer AS (
       SELECT s.customer_id,
         SUM(CASE WHEN s.ordered_at < $3::timestamp THEN s.revenue_minor - CAST(COALESCE(r.refund_minor, 0) AS BIGINT) ELSE 0 END) AS net_minor
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
       GROUP BY s.customer_id
     )
     SELECT c.external_id AS customer_id, a.net_minor FROM per_customer a JOIN customers c ON c.customer_id = a.customer_id`,
    [asOf, currency, cut, ...only.params],
  );
  return new Map(rows.map((r) => [r.customer_id, r.net_minor]));
}

/**
 * The channel facts (analytics/metrics/channels.ts `ChannelFacts`) of the sale orders of known
 * customers before `asOf`, in `currency`, for the customers acquired (first order) in `[from, to)`,
 * summed in the database: per channel the customers, repeaters, and per day of `CHANNEL_DAYS` the
 * mature customers and the net revenue (and net − cost) of their orders within that many days of
 * the first — the same figures as `channelFacts` over {@link orderFacts}, in one pass over the
 * orders instead of sending them to the process.
 */
export async function channelFacts(
  db: Queryable,
  asOf: Date,
  currency: string,
  window: { from: Date; to: Date },
  scope?: CustomerScope,
): Promise<ChannelFacts> {
  const fact = (cost: boolean) => `fact AS (
       SELECT s.customer_id, s.ordered_at,
         s.revenue_minor - CAST(COALESCE(r.refund_minor, 0) AS BIGINT) AS net_minor,
         ${cost ? 'f.cost_minor' : 'CAST(NULL AS BIGINT) AS cost_minor'}
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
       ${cost ? 'LEFT JOIN order_cost f ON f.order_id = s.order_id' : ''}
     )`;
  // A scope's placeholders follow each query's own: 2 in the count, 5 in the per-channel sums.
  const counted = scoped('o.customer_id', scope, 3);
  const forCount = await saleCtes(db, counted.and);
  const [count] = await db.query<{ orders: number; costed: number }>(
    `WITH ${[...forCount.ctes, fact(forCount.cost)].join(',\n     ')}
     SELECT COUNT(*) AS orders, COUNT(cost_minor) AS costed FROM fact`,
    [asOf, currency, ...counted.params],
  );
  const only = scoped('o.customer_id', scope, 6);
  const { ctes, cost } = await saleCtes(db, only.and);
  ctes.push(fact(cost));
  const after = (d: number) => `a.t0 + INTERVAL '${d} days'`;
  const perDay = CHANNEL_DAYS.map(
    (d) => `SUM(CASE WHEN x.ordered_at <= ${after(d)} THEN x.net_minor ELSE 0 END) AS net_${d},
         SUM(CASE WHEN x.ordered_at <= ${after(d)} THEN x.net_minor - COALESCE(x.cost_minor, 0) ELSE 0 END) AS nlc_${d}`,
  ).join(',\n         ');
  const perChannel = CHANNEL_DAYS.map((d) => {
    const mature = `a.t0 + INTERVAL '${d} days' < $1::timestamp`;
    return `SUM(CASE WHEN ${mature} THEN 1 ELSE 0 END) AS mature_${d},
       SUM(CASE WHEN ${mature} THEN a.net_${d} ELSE 0 END) AS net_${d},
       SUM(CASE WHEN ${mature} THEN a.nlc_${d} ELSE 0 END) AS nlc_${d}`;
  }).join(',\n       ');
  ctes.push(
    `first_order AS (SELECT customer_id, MIN(ordered_at) AS t0, COUNT(*) AS n FROM fact GROUP BY customer_id)`,
    `acquired AS (
       SELECT f.customer_id, f.t0, f.n, COALESCE(c.acquisition_channel, $5) AS channel
       FROM first_order f JOIN customers c ON c.customer_id = f.customer_id
       WHERE f.t0 >= $3::timestamp AND f.t0 < $4::timestamp
     )`,
    `per_customer AS (
       SELECT a.customer_id, a.channel, a.t0, a.n,
         ${perDay}
       FROM acquired a JOIN fact x ON x.customer_id = a.customer_id
       GROUP BY a.customer_id, a.channel, a.t0, a.n
     )`,
  );
  const rows = await db.query<Record<string, number> & { channel: string }>(
    `WITH ${ctes.join(',\n     ')}
     SELECT a.channel, COUNT(*) AS customers, SUM(CASE WHEN a.n >= 2 THEN 1 ELSE 0 END) AS repeaters,
       ${perChannel}
     FROM per_customer a GROUP BY a.channel`,
    [
      asOf,
      currency,
      window.from,
      new Date(Math.min(window.to.getTime(), asOf.getTime())),
      UNKNOWN,
      ...only.params,
    ],
  );
  return {
    orders: count?.orders ?? 0,
    costedOrders: count?.costed ?? 0,
    channels: rows.map((r) => ({
      channel: r.channel,
      customers: r['customers']!,
      repeaters: r['repeaters']!,
      mature: CHANNEL_DAYS.map((d) => r[`mature_${d}`]!),
      netMinor: CHANNEL_DAYS.map((d) => r[`net_${d}`]!),
      netLessCostMinor: CHANNEL_DAYS.map((d) => r[`nlc_${d}`]!),
    })),
  };
}

/** The first sale order's instant of a known customer before `asOf` in `currency`, or null. */
export async function firstSaleAt(
  db: Queryable,
  asOf: Date,
  currency: string,
  scope?: CustomerScope,
): Promise<Date | null> {
  const only = scoped('o.customer_id', scope, 3);
  const [row] = await db.query<{ first_at: Date | null }>(
    `SELECT MIN(o.ordered_at) AS first_at FROM orders o
     WHERE o.customer_id IS NOT NULL AND o.ordered_at < $1::timestamp AND o.currency = $2
       AND o.status IN (${SALE_STATUS_SQL})${only.and}`,
    [asOf, currency, ...only.params],
  );
  return row?.first_at ?? null;
}

/**
 * Refunds before `asOf` in `currency` that no sale order in scope can carry (a refund of a cancelled
 * order, of a guest, or of a customer without a sale before `asOf`), so reports can say what they leave out.
 */
export async function unattributedRefunds(
  db: Queryable,
  asOf: Date,
  currency: string,
): Promise<{ refunds: number; amountMinor: number }> {
  const [row] = await db.query<{ n: number; amount_minor: number | null }>(
    `WITH ${SALE_ORDERS_CTE}
     SELECT COUNT(*) AS n, SUM(r.amount_minor) AS amount_minor FROM refunds r
     WHERE r.refunded_at < $1::timestamp AND r.currency = $2
       AND CASE WHEN r.order_id IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM sale s WHERE s.order_id = r.order_id)
                WHEN r.customer_id IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM sale s WHERE s.customer_id = r.customer_id)
                ELSE TRUE END`,
    [asOf, currency],
  );
  return { refunds: row?.n ?? 0, amountMinor: row?.amount_minor ?? 0 };
}

/** Whether any customer is stored. */
export async function hasCustomers(db: Queryable): Promise<boolean> {
  const rows = await db.query(`SELECT 1 AS one FROM customers LIMIT 1`);
  return rows.length > 0;
}

/** Acquisition channel and country of every customer (external ids). */
export async function customerProfiles(db: Queryable): Promise<CustomerProfile[]> {
  const rows = await db.query<{ customer_id: string; channel: string | null; country: string | null }>(
    `SELECT external_id AS customer_id, acquisition_channel AS channel, country FROM customers`,
  );
  return rows.map((r) => ({ customerId: r.customer_id, channel: r.channel, country: r.country }));
}

/**
 * Marketing spend of the days before `asOf` in `currency`, summed per day and channel. Spend is
 * recorded per calendar day: in a store time zone (`cal`) the days up to the local day `asOf` ends,
 * each dated at the start of its local day, so it falls in the right month and compares with instants.
 */
export async function spendRows(
  db: Queryable,
  asOf: Date,
  currency: string,
  cal?: Calendar,
): Promise<SpendRow[]> {
  const zoned = cal !== undefined && !cal.utc;
  // The first calendar day not counted, as a date (UTC midnight).
  const cut = zoned ? new Date((cal.localDayOfMs(asOf.getTime() - 1) + 1) * DAY_MS) : asOf;
  const rows = await db.query<{ spent_on: Date; channel: string; amount_minor: number }>(
    `SELECT spent_on, channel, SUM(amount_minor) AS amount_minor FROM marketing_spend
     WHERE spent_on < $1::timestamp AND currency = $2
     GROUP BY spent_on, channel ORDER BY spent_on, channel`,
    [cut, currency],
  );
  return rows.map((r) => ({
    date: zoned ? new Date(cal.dayStartMs(Math.floor(r.spent_on.getTime() / DAY_MS))) : r.spent_on,
    channel: r.channel,
    amountMinor: r.amount_minor,
  }));
}

/** Guest sale orders (no customer) per calendar month (in the store zone `cal`) before `asOf`, keyed `YYYY-MM`. */
export async function guestOrdersByMonth(
  db: Queryable,
  asOf: Date,
  currency: string,
  cal?: Calendar | ZoneSpan,
): Promise<Record<string, number>> {
  const rows = await db.query<{ month: Date; n: number }>(
    `SELECT date_trunc('month', ${localTimeSql('o.ordered_at', cal)}) AS month, COUNT(*) AS n FROM orders o
     WHERE o.customer_id IS NULL AND o.ordered_at < $1::timestamp AND o.currency = $2
       AND o.status IN (${SALE_STATUS_SQL})
     GROUP BY 1`,
    [asOf, currency],
  );
  const out: Record<string, number> = {};
  for (const r of rows) out[r.month.toISOString().slice(0, 7)] = r.n;
  return out;
}

/** Where the CLV module stores its predictions (docs/metrics.md#ltv.predicted). */
export const PREDICTIONS_TABLE = 'clv_predictions';

/** One customer's stored prediction of the latest run at or before `asOf`. */
export interface PredictionRow {
  customerId: string;
  modelVersion: string;
  asOf: Date;
  horizon: number;
  timeUnit: string;
  /** Currency units; null when the run fitted no spend model. */
  clv: number | null;
  /** The months `clv` covers; null for runs stored before it was recorded. */
  clvMonths: number | null;
}

/**
 * The predictions of the most recent CLV run (largest `as_of` before `asOf`, then the lexically last
 * model version; table from migration 4), or null when no run has been stored yet.
 */
export async function latestPredictions(db: Queryable, asOf: Date): Promise<PredictionRow[] | null> {
  const rows = await db.query<{
    customer_id: string;
    model_version: string;
    as_of: Date;
    horizon: number;
    time_unit: string;
    clv_minor: number | null;
    clv_months: number | null;
    currency: string;
  }>(
    `WITH run AS (
       SELECT model_version, as_of FROM ${PREDICTIONS_TABLE} WHERE as_of < $1::timestamp
       ORDER BY as_of DESC, model_version DESC LIMIT 1
     )
     SELECT c.external_id AS customer_id, p.model_version, p.as_of, p.horizon, p.time_unit, p.clv_minor, p.clv_months, p.currency
     FROM ${PREDICTIONS_TABLE} p JOIN run ON run.model_version = p.model_version AND run.as_of = p.as_of
     JOIN customers c ON c.customer_id = p.customer_id`,
    [asOf],
  );
  if (rows.length === 0) return null;
  return rows.map((r) => ({
    customerId: r.customer_id,
    modelVersion: r.model_version,
    asOf: r.as_of,
    horizon: r.horizon,
    timeUnit: r.time_unit,
    clv: r.clv_minor === null ? null : r.clv_minor / 10 ** minorDigits(r.currency),
    clvMonths: r.clv_months,
  }));
}

/**
 * Per contiguous slice `[bounds[i], bounds[i + 1])`: active, new, retained and repeat customers, orders,
 * gross revenue and the refunds attributed to those sales — the sale orders of known customers before
 * `asOf` in `currency` — summed in the database (one row per customer and slice reaches the window
 * functions, not the process). Slices nobody ordered in are all zeros.
 */
export async function sliceFacts(
  db: Queryable,
  asOf: Date,
  currency: string,
  bounds: readonly Date[],
): Promise<SliceFacts[]> {
  const n = bounds.length - 1;
  const slice = Array.from(
    { length: n },
    (_, i) => `WHEN s.ordered_at >= $${i + 3}::timestamp AND s.ordered_at < $${i + 4}::timestamp THEN ${i}`,
  ).join(' ');
  const rows = await db.query<{
    k: number;
    active: number;
    new_customers: number;
    retained: number;
    repeat: number;
    orders: number;
    gross_minor: number;
    refund_minor: number;
  }>(
    `WITH ${SALE_ORDERS_CTE}, ${REFUNDS_BY_ORDER_CTE},
     sliced AS (
       SELECT s.customer_id, CASE ${slice} END AS k, s.revenue_minor, COALESCE(r.refund_minor, 0) AS refund_minor
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
     ),
     prior AS (
       SELECT customer_id, SUM(CASE WHEN ordered_at < $3::timestamp THEN 1 ELSE 0 END) AS before_first
       FROM sale GROUP BY customer_id
     ),
     per_customer AS (
       SELECT customer_id, k, COUNT(*) AS n, SUM(revenue_minor) AS gross_minor, SUM(refund_minor) AS refund_minor
       FROM sliced WHERE k IS NOT NULL GROUP BY customer_id, k
     ),
     walked AS (
       SELECT c.k, c.n, c.gross_minor, c.refund_minor, p.before_first,
         p.before_first + SUM(c.n) OVER (PARTITION BY c.customer_id ORDER BY c.k ROWS UNBOUNDED PRECEDING) AS by_end,
         LAG(c.k) OVER (PARTITION BY c.customer_id ORDER BY c.k) AS prev_k
       FROM per_customer c JOIN prior p ON p.customer_id = c.customer_id
     )
     SELECT k, COUNT(*) AS active,
       SUM(CASE WHEN before_first = 0 AND prev_k IS NULL THEN 1 ELSE 0 END) AS new_customers,
       SUM(CASE WHEN prev_k = k - 1 THEN 1 ELSE 0 END) AS retained,
       SUM(CASE WHEN by_end >= 2 THEN 1 ELSE 0 END) AS repeat,
       SUM(n) AS orders, SUM(gross_minor) AS gross_minor, SUM(refund_minor) AS refund_minor
     FROM walked GROUP BY k`,
    [asOf, currency, ...bounds],
  );
  const out: SliceFacts[] = Array.from({ length: n }, () => ({
    active: 0,
    newCustomers: 0,
    retained: 0,
    repeat: 0,
    orders: 0,
    grossMinor: 0,
    refundMinor: 0,
  }));
  for (const r of rows)
    out[Number(r.k)] = {
      active: Number(r.active),
      newCustomers: Number(r.new_customers),
      retained: Number(r.retained),
      repeat: Number(r.repeat),
      orders: Number(r.orders),
      grossMinor: Number(r.gross_minor),
      refundMinor: Number(r.refund_minor),
    };
  return out;
}
