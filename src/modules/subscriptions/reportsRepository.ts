import type { Queryable, SqlValue } from '../../storage/port.js';
import { REFUNDS_BY_ORDER_CTE, SALE_ORDERS_CTE } from '../reports/repository.js';

/**
 * The SQL of the subscription report (reports.ts), and only that: the MRR history (every event that
 * may change a subscription's MRR), each subscription's start and first cancellation, the
 * cancellations with their reasons, and the sale orders of subscribers and of one-off buyers of the
 * same products (net of refunds, as every report: `SALE_ORDERS_CTE`, `REFUNDS_BY_ORDER_CTE`). Months
 * are cut in JavaScript by the store calendar (a subscription history is small next to the orders).
 *
 * A scope is the report currency and optionally one plan: `$1` is the report instant (exclusive),
 * `$2` the currency, `$3` the plan id when given.
 */

export interface Scope {
  asOf: Date;
  currency: string;
  planId: number | null;
}

const params = (s: Scope): SqlValue[] =>
  s.planId === null ? [s.asOf, s.currency] : [s.asOf, s.currency, s.planId];
const planAnd = (s: Scope, alias = 's') => (s.planId === null ? '' : ` AND ${alias}.plan_id = $3`);

export async function planIdByName(db: Queryable, name: string): Promise<number | null> {
  const [r] = await db.query<{ plan_id: number }>(`SELECT plan_id FROM subscription_plans WHERE name = $1`, [
    name,
  ]);
  return r ? Number(r.plan_id) : null;
}

/** Subscriptions by currency (of one plan when `planId` is given), started before `asOf`. */
export async function subscriptionsByCurrency(
  db: Queryable,
  asOf: Date,
  planId: number | null,
): Promise<{ currency: string; subscriptions: number }[]> {
  return db.query<{ currency: string; subscriptions: number }>(
    `SELECT currency, CAST(COUNT(*) AS INTEGER) AS subscriptions FROM subscriptions
     WHERE started_at < $1::timestamp${planId === null ? '' : ' AND plan_id = $2'}
     GROUP BY currency ORDER BY 2 DESC, 1`,
    planId === null ? [asOf] : [asOf, planId],
  );
}

/** The first start of a subscription in scope (null: none). */
export async function firstStart(db: Queryable, s: Scope): Promise<Date | null> {
  const [r] = await db.query<{ first: Date | null }>(
    `SELECT MIN(s.started_at) AS first FROM subscriptions s
     WHERE s.started_at < $1::timestamp AND s.currency = $2${planAnd(s)}`,
    params(s),
  );
  return r?.first ?? null;
}

export interface MrrChangeRow {
  subscription_id: number;
  at: Date;
  mrr_minor: number;
}

/**
 * Every MRR change before `asOf` of the subscriptions in scope, by subscription and time (ties in the
 * order written): the events carrying `mrr_minor` (created, quantity, swapped, paused, resumed,
 * cancelled, reactivated), and a 0 at `cancelled_at` of a subscription cancelled without such an event
 * (an erased customer's: the erasure stops it without a history entry) — after the events of that
 * instant, so it changes nothing when the cancellation has its event.
 */
export async function mrrChanges(db: Queryable, s: Scope): Promise<MrrChangeRow[]> {
  const rows = await db.query<{ subscription_id: number; at: Date; mrr_minor: number; seq: number | null }>(
    `SELECT e.subscription_id, e.happened_at AS at, e.mrr_minor, e.event_id AS seq
     FROM subscription_events e JOIN subscriptions s ON s.subscription_id = e.subscription_id
     WHERE e.mrr_minor IS NOT NULL AND e.happened_at < $1::timestamp AND s.currency = $2${planAnd(s)}
     UNION ALL
     SELECT s.subscription_id, s.cancelled_at AS at, 0 AS mrr_minor, CAST(NULL AS BIGINT) AS seq
     FROM subscriptions s
     WHERE s.status = 'cancelled' AND s.cancelled_at < $1::timestamp AND s.currency = $2${planAnd(s)}
     ORDER BY 1, 2, 4 NULLS LAST`,
    params(s),
  );
  return rows.map((r) => ({
    subscription_id: Number(r.subscription_id),
    at: r.at,
    mrr_minor: Number(r.mrr_minor),
  }));
}

export interface SubscriberRow {
  subscription_id: number;
  started_at: Date;
  status: string;
  cancelled_at: Date | null;
}

/** Each subscription in scope started before `asOf`: its start, status and last cancellation instant. */
export async function subscribers(db: Queryable, s: Scope): Promise<SubscriberRow[]> {
  const rows = await db.query<SubscriberRow & Record<string, unknown>>(
    `SELECT s.subscription_id, s.started_at, s.status, s.cancelled_at FROM subscriptions s
     WHERE s.started_at < $1::timestamp AND s.currency = $2${planAnd(s)}
     ORDER BY s.subscription_id`,
    params(s),
  );
  return rows.map((r) => ({ ...r, subscription_id: Number(r.subscription_id) }));
}

export interface StopEventRow {
  subscription_id: number;
  at: Date;
  type: 'cancelled' | 'dunning_exhausted';
  /** JSON text: a cancellation's reason and note; dunning's final action and the provider's reason. */
  detail: string | null;
  mrr_minor: number | null;
}

/**
 * The history entries before `asOf` that may cancel a subscription in scope, in time order: the
 * customer's (or an agent's) cancellations, and the end of dunning (`dunning_exhausted`: a cancellation
 * when its final action was `cancel` and it set the MRR to 0).
 */
export async function stopEvents(db: Queryable, s: Scope): Promise<StopEventRow[]> {
  const rows = await db.query<StopEventRow & Record<string, unknown>>(
    `SELECT e.subscription_id, e.happened_at AS at, e.type, e.detail, e.mrr_minor FROM subscription_events e
     JOIN subscriptions s ON s.subscription_id = e.subscription_id
     WHERE e.type IN ('cancelled', 'dunning_exhausted') AND e.happened_at < $1::timestamp
       AND s.currency = $2${planAnd(s)}
     ORDER BY e.happened_at, e.event_id`,
    params(s),
  );
  return rows.map((r) => ({
    ...r,
    subscription_id: Number(r.subscription_id),
    mrr_minor: r.mrr_minor === null ? null : Number(r.mrr_minor),
  }));
}

/** The products subscribed to (each subscription's product now), in scope. */
export async function subscribedSkus(db: Queryable, s: Scope): Promise<string[]> {
  const rows = await db.query<{ sku: string }>(
    `SELECT DISTINCT s.sku FROM subscriptions s
     WHERE s.started_at < $1::timestamp AND s.currency = $2${planAnd(s)} ORDER BY 1`,
    params(s),
  );
  return rows.map((r) => r.sku);
}

export interface LtvGroupRow {
  customer_id: number;
  grp: 'subscriber' | 'oneOff';
  start_at: Date;
}

/**
 * The CTEs of the LTV comparison's two groups, starting in `[from, asOf)` (`grp`): subscribers
 * (customers with a subscription in scope; start = their first one's start) and one-off buyers
 * (customers who never subscribed to anything, with a sale order in the currency containing one of
 * `skus` that is not a recurring order; start = the first such order). Appends its parameters to `p`.
 */
function groupCtes(s: Scope, skus: readonly string[], from: Date, p: SqlValue[]): string {
  const fromParam = `$${p.push(from)}`;
  const skuList = skus.map((sku) => `$${p.push(sku)}`).join(', ');
  const withSku = skus.length
    ? `SELECT DISTINCT l.order_id FROM order_lines l WHERE l.sku IN (${skuList})`
    : `SELECT order_id FROM orders WHERE FALSE`;
  // Joins rather than correlated EXISTS: the planner keeps to hash joins on freshly loaded tables.
  return `${SALE_ORDERS_CTE},
     subscriber AS (
       SELECT s.customer_id, MIN(s.started_at) AS start_at FROM subscriptions s
       WHERE s.started_at < $1::timestamp AND s.currency = $2${planAnd(s)}
       GROUP BY s.customer_id
     ),
     one_off AS (
       SELECT x.customer_id, MIN(x.ordered_at) AS start_at FROM sale x
       JOIN (${withSku}) w ON w.order_id = x.order_id
       JOIN orders o ON o.order_id = x.order_id
       LEFT JOIN subscription_orders so ON so.order_external_id = o.external_id
       LEFT JOIN (SELECT DISTINCT customer_id FROM subscriptions) a ON a.customer_id = x.customer_id
       WHERE so.order_external_id IS NULL AND a.customer_id IS NULL
       GROUP BY x.customer_id
     ),
     grp AS (
       SELECT customer_id, 'subscriber' AS grp, start_at FROM subscriber WHERE start_at >= ${fromParam}::timestamp
       UNION ALL
       SELECT customer_id, 'oneOff' AS grp, start_at FROM one_off WHERE start_at >= ${fromParam}::timestamp
     )`;
}

/** The customers of the LTV comparison ({@link groupCtes}). */
export async function ltvGroups(
  db: Queryable,
  s: Scope,
  skus: readonly string[],
  from: Date,
): Promise<LtvGroupRow[]> {
  const p = params(s);
  const ctes = groupCtes(s, skus, from, p);
  const rows = await db.query<{ customer_id: number; grp: string; start_at: Date }>(
    `WITH ${ctes} SELECT customer_id, grp, start_at FROM grp ORDER BY grp, customer_id`,
    p,
  );
  return rows.map((r) => ({
    customer_id: Number(r.customer_id),
    grp: r.grp as LtvGroupRow['grp'],
    start_at: r.start_at,
  }));
}

/**
 * The sale orders before `asOf` in the currency (any product), net of their attributed refunds, of
 * the customers of the LTV comparison ({@link ltvGroups} with the same arguments), from each one's
 * start on.
 */
export async function ltvOrders(
  db: Queryable,
  s: Scope,
  skus: readonly string[],
  from: Date,
): Promise<{ customer_id: number; ordered_at: Date; net_minor: number }[]> {
  const p = params(s);
  const ctes = groupCtes(s, skus, from, p);
  const rows = await db.query<{ customer_id: number; ordered_at: Date; net_minor: number }>(
    `WITH ${ctes}, ${REFUNDS_BY_ORDER_CTE}
     SELECT x.customer_id, x.ordered_at, x.revenue_minor - COALESCE(r.refund_minor, 0) AS net_minor
     FROM sale x JOIN grp g ON g.customer_id = x.customer_id
     LEFT JOIN order_refund r ON r.order_id = x.order_id
     WHERE x.ordered_at >= g.start_at
     ORDER BY x.customer_id, x.ordered_at`,
    p,
  );
  return rows.map((r) => ({
    customer_id: Number(r.customer_id),
    ordered_at: r.ordered_at,
    net_minor: Number(r.net_minor),
  }));
}
