import type { Calendar } from '../../analytics/calendar.js';
import type { Queryable } from '../../storage/port.js';
import {
  localTimeSql,
  REFUNDS_BY_ORDER_CTE,
  SALE_ORDERS_CTE,
  SALE_STATUS_SQL,
} from '../reports/repository.js';

/**
 * The SQL of the loyalty report (reports.ts), and only that: aggregates over the ledger, the grants,
 * the redemptions and the members, and each customer's sale orders net of refunds for the
 * members-vs-non-members comparison. Months are cut in the store time zone (`localTimeSql`); sales and
 * refunds follow the reports' definitions (`SALE_ORDERS_CTE`, `REFUNDS_BY_ORDER_CTE`: refunds before
 * `asOf`, attributed to the order they reduce).
 */

/** Month index (year × 12 + month − 1) of a TIMESTAMP column in the store calendar, within `[from, to)`. */
function monthIndexSql(column: string, cal: Calendar, from: Date, to: Date): string {
  const local = localTimeSql(column, { calendar: cal, from, to });
  return `(CAST(EXTRACT(YEAR FROM ${local}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM ${local}) AS INTEGER) - 1)`;
}

export type OpenGrantsByMonth = {
  /** Local month index of the grants' expiry. */
  month: number;
  /** Σ remaining of grants spendable at `now` (available from `available_at ≤ now`). */
  available: number;
  /** Σ remaining of grants still in their return window at `now`. */
  pending: number;
};

/**
 * The points still held in grants at `now`, by local month of expiry: grants not expired (by status
 * and by time: a grant past its expiry that the sweep has not closed yet counts as expired) with
 * points left; pending or available by `available_at` against `now` (a release the sweep has not
 * recorded yet counts as done).
 */
export async function openGrantsByExpiryMonth(
  db: Queryable,
  now: Date,
  cal: Calendar,
): Promise<OpenGrantsByMonth[]> {
  const [span] = await db.query<{ last: Date | null }>(
    `SELECT MAX(expires_at) AS last FROM loyalty_grants
     WHERE status <> 'expired' AND remaining > 0 AND expires_at > $1::timestamp`,
    [now],
  );
  if (!span?.last) return [];
  const to = new Date(span.last.getTime() + 1);
  return db.query<OpenGrantsByMonth>(
    `SELECT ${monthIndexSql('expires_at', cal, now, to)} AS month,
       SUM(CASE WHEN available_at <= $1::timestamp THEN remaining ELSE 0 END) AS available,
       SUM(CASE WHEN available_at > $1::timestamp THEN remaining ELSE 0 END) AS pending
     FROM loyalty_grants
     WHERE status <> 'expired' AND remaining > 0 AND expires_at > $1::timestamp
     GROUP BY 1 ORDER BY 1`,
    [now],
  );
}

/** Points members owe (clawbacks beyond their balance under the `allow` overdraft policy). */
export async function totalDebt(db: Queryable): Promise<number> {
  const [r] = await db.query<{ debt: number | null }>(`SELECT SUM(debt) AS debt FROM loyalty_members`);
  return r?.debt ?? 0;
}

export type EntryFlowRow = {
  month: number;
  type: string;
  /** The grant's kind for entries naming a grant (`order`, `welcome`, `adjust`, …), else ''. */
  kind: string;
  pending: number;
  available: number;
  points: number;
};

/** Σ pending_delta, Σ available_delta and Σ points of the ledger entries in `[from, to)` (occurred_at), by local month, type and grant kind. */
export async function entryFlows(
  db: Queryable,
  from: Date,
  to: Date,
  cal: Calendar,
): Promise<EntryFlowRow[]> {
  return db.query<EntryFlowRow>(
    `SELECT ${monthIndexSql('e.occurred_at', cal, from, to)} AS month, e.type, COALESCE(g.kind, '') AS kind,
       SUM(e.pending_delta) AS pending, SUM(e.available_delta) AS available, SUM(e.points) AS points
     FROM loyalty_entries e LEFT JOIN loyalty_grants g ON g.grant_id = e.grant_id
     WHERE e.occurred_at >= $1::timestamp AND e.occurred_at < $2::timestamp
     GROUP BY 1, 2, 3`,
    [from, to],
  );
}

export type SalesMonthRow = {
  month: number;
  /** Net sales (order totals − their refunds) of the month's sale orders of known customers. */
  net: number;
  /** The part placed by customers who were members then (enrolled at or before the order). */
  member_net: number;
};

/**
 * Net sales by local month of the order, orders in `[from, to)` in `currency`; refunds before `asOf`
 * attributed to their orders (as every report).
 */
export async function netSalesByMonth(
  db: Queryable,
  q: { asOf: Date; currency: string; from: Date; to: Date; cal: Calendar },
): Promise<SalesMonthRow[]> {
  return db.query<SalesMonthRow>(
    `WITH ${SALE_ORDERS_CTE}, ${REFUNDS_BY_ORDER_CTE}
     SELECT ${monthIndexSql('s.ordered_at', q.cal, q.from, q.to)} AS month,
       SUM(s.revenue_minor - COALESCE(r.refund_minor, 0)) AS net,
       SUM(CASE WHEN m.enrolled_at <= s.ordered_at THEN s.revenue_minor - COALESCE(r.refund_minor, 0) ELSE 0 END)
         AS member_net
     FROM sale s
     LEFT JOIN order_refund r ON r.order_id = s.order_id
     LEFT JOIN loyalty_members m ON m.customer_id = s.customer_id
     WHERE s.ordered_at >= $3::timestamp AND s.ordered_at < $4::timestamp
     GROUP BY 1`,
    [q.asOf, q.currency, q.from, q.to],
  );
}

export type RedemptionTotals = {
  count: number;
  points: number;
  value_minor: number;
  reversed_count: number;
  reversed_points: number;
  reversed_value_minor: number;
  /** Distinct members with a redemption in the period that was not reversed. */
  members_redeemed: number;
};

/** Redemptions created in `[from, to)`. */
export async function redemptionTotals(db: Queryable, from: Date, to: Date): Promise<RedemptionTotals> {
  const [r] = await db.query<{ [K in keyof RedemptionTotals]: number | null }>(
    `SELECT COUNT(*) AS count, SUM(points) AS points, SUM(value_minor) AS value_minor,
       SUM(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END) AS reversed_count,
       SUM(CASE WHEN status = 'reversed' THEN points ELSE 0 END) AS reversed_points,
       SUM(CASE WHEN status = 'reversed' THEN value_minor ELSE 0 END) AS reversed_value_minor,
       COUNT(DISTINCT CASE WHEN status = 'active' THEN customer_id END) AS members_redeemed
     FROM loyalty_redemptions
     WHERE created_at >= $1::timestamp AND created_at < $2::timestamp`,
    [from, to],
  );
  return {
    count: r?.count ?? 0,
    points: r?.points ?? 0,
    value_minor: r?.value_minor ?? 0,
    reversed_count: r?.reversed_count ?? 0,
    reversed_points: r?.reversed_points ?? 0,
    reversed_value_minor: r?.reversed_value_minor ?? 0,
    members_redeemed: r?.members_redeemed ?? 0,
  };
}

export type ActiveMemberCounts = {
  /** Members enrolled before `to`. */
  members: number;
  /** Of them, with ≥ 1 sale order in `currency` in `[from, to)`. */
  active: number;
  /** Active members with a redemption created in `[from, to)` that was not reversed. */
  active_redeemed: number;
};

export async function activeMemberCounts(
  db: Queryable,
  q: { from: Date; to: Date; currency: string },
): Promise<ActiveMemberCounts> {
  const [r] = await db.query<{ members: number; active: number | null; active_redeemed: number | null }>(
    `WITH active AS (
       SELECT DISTINCT o.customer_id FROM orders o
       WHERE o.customer_id IS NOT NULL AND o.ordered_at >= $1::timestamp AND o.ordered_at < $2::timestamp
         AND o.currency = $3 AND o.status IN (${SALE_STATUS_SQL})
     ),
     redeemed AS (
       SELECT DISTINCT customer_id FROM loyalty_redemptions
       WHERE created_at >= $1::timestamp AND created_at < $2::timestamp AND status = 'active'
     )
     SELECT COUNT(*) AS members,
       SUM(CASE WHEN a.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS active,
       SUM(CASE WHEN a.customer_id IS NOT NULL AND r.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS active_redeemed
     FROM loyalty_members m
     LEFT JOIN active a ON a.customer_id = m.customer_id
     LEFT JOIN redeemed r ON r.customer_id = m.customer_id
     WHERE m.enrolled_at < $2::timestamp`,
    [q.from, q.to, q.currency],
  );
  return { members: r?.members ?? 0, active: r?.active ?? 0, active_redeemed: r?.active_redeemed ?? 0 };
}

/** Members by current tier (null: none), with how many of them enrolled in `[from, to)`. */
export async function membersByTier(
  db: Queryable,
  from: Date,
  to: Date,
): Promise<{ tier: string | null; members: number; enrolled: number }[]> {
  return db.query<{ tier: string | null; members: number; enrolled: number }>(
    `SELECT tier, COUNT(*) AS members,
       SUM(CASE WHEN enrolled_at >= $1::timestamp AND enrolled_at < $2::timestamp THEN 1 ELSE 0 END) AS enrolled
     FROM loyalty_members GROUP BY tier ORDER BY tier NULLS FIRST`,
    [from, to],
  );
}

/**
 * Every sale order of a known customer before `asOf` in `currency`, net of its attributed refunds,
 * ordered by customer and time (for the members-vs-non-members comparison).
 */
export async function customerNetOrders(
  db: Queryable,
  asOf: Date,
  currency: string,
): Promise<{ customer_id: number; ordered_at: Date; net_minor: number }[]> {
  return db.query<{ customer_id: number; ordered_at: Date; net_minor: number }>(
    `WITH ${SALE_ORDERS_CTE}, ${REFUNDS_BY_ORDER_CTE}
     SELECT s.customer_id, s.ordered_at, s.revenue_minor - COALESCE(r.refund_minor, 0) AS net_minor
     FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
     ORDER BY s.customer_id, s.ordered_at, s.order_id`,
    [asOf, currency],
  );
}

/** Every member's enrolment instant. */
export async function enrolments(db: Queryable): Promise<{ customer_id: number; enrolled_at: Date }[]> {
  return db.query<{ customer_id: number; enrolled_at: Date }>(
    `SELECT customer_id, enrolled_at FROM loyalty_members`,
  );
}
