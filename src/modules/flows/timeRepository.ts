import type { Queryable } from '../../storage/port.js';
import { saleSql } from '../orders/revenueSql.js';

/**
 * The SQL of the flows' time conditions (docs/flows.md#time-triggers): who they hold for now. Each row
 * names the occasion (what makes one entry: a birthday's year, the last order, an expiry day, a product's
 * last purchase) and what the run's templates may show. Reads the customers, the segments' scores, the
 * loyalty grants and the orders; writes nothing.
 */

const LIVE = `c.erased_at IS NULL`;
/** No order since the one the scores were computed after. */
const NO_ORDER_SINCE = `NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = s.customer_id AND o.ordered_at > s.last_order_at)`;
/**
 * The scores' prediction (P(alive), the next order's date: the latest clv run, taken in by the segments'
 * refresh) was made knowing the last order — a run as of day D counts the orders before D + 1 day (clv
 * `loadSales`). The refresh brings in a new last order within a minute of it, the prediction only at the
 * next clv run: until then the scores pair the new last order with the lapse predicted before it.
 */
const PREDICTED_SINCE_LAST_ORDER = `s.last_order_at < (SELECT MAX(p.as_of) FROM clv_predictions p) + INTERVAL '1 day'`;

export type BirthdayRow = {
  customer_id: number;
  external_id: string;
  time_zone: string | null;
  month: number;
  day: number;
};

/** Customers born on one of `monthDays` (month × 100 + day). */
export async function birthdaysOn(db: Queryable, monthDays: readonly number[]): Promise<BirthdayRow[]> {
  if (monthDays.length === 0) return [];
  return db.query<BirthdayRow>(
    `SELECT c.customer_id, c.external_id, c.time_zone,
       CAST(EXTRACT(MONTH FROM c.birthday) AS INTEGER) AS month, CAST(EXTRACT(DAY FROM c.birthday) AS INTEGER) AS day
     FROM customers c
     WHERE c.birthday IS NOT NULL AND ${LIVE}
       AND CAST(EXTRACT(MONTH FROM c.birthday) AS INTEGER) * 100 + CAST(EXTRACT(DAY FROM c.birthday) AS INTEGER)
         IN (${monthDays.map((_, i) => `$${i + 1}`).join(', ')})
     ORDER BY c.customer_id`,
    [...monthDays],
  );
}

export type ScoreRow = {
  customer_id: number;
  external_id: string;
  last_order_at: Date;
  next_order_at: Date | null;
  p_alive: number | null;
};

/** Customers whose predicted next order fell in `(from, to]` and who have not ordered since. */
export async function nextOrderPassed(db: Queryable, from: Date, to: Date): Promise<ScoreRow[]> {
  return db.query<ScoreRow>(
    `SELECT s.customer_id, c.external_id, s.last_order_at, s.next_order_at, s.p_alive
     FROM customer_scores s JOIN customers c ON c.customer_id = s.customer_id
     WHERE ${LIVE} AND s.last_order_at IS NOT NULL AND s.next_order_at > $1::timestamp AND s.next_order_at <= $2::timestamp
       AND ${NO_ORDER_SINCE} AND ${PREDICTED_SINCE_LAST_ORDER}
     ORDER BY s.customer_id`,
    [from, to],
  );
}

/** Customers whose P(alive) is below `threshold`, who last ordered after `since` and not since scoring. */
export async function pAliveBelow(db: Queryable, threshold: number, since: Date): Promise<ScoreRow[]> {
  return db.query<ScoreRow>(
    `SELECT s.customer_id, c.external_id, s.last_order_at, s.next_order_at, s.p_alive
     FROM customer_scores s JOIN customers c ON c.customer_id = s.customer_id
     WHERE ${LIVE} AND s.last_order_at IS NOT NULL AND s.p_alive IS NOT NULL AND s.p_alive < $1
       AND s.last_order_at > $2::timestamp AND ${NO_ORDER_SINCE} AND ${PREDICTED_SINCE_LAST_ORDER}
     ORDER BY s.customer_id`,
    [threshold, since],
  );
}

export type ExpiringRow = {
  customer_id: number;
  external_id: string;
  points: number;
  first_expiry: Date;
  balance: number;
};

/**
 * Members with available points expiring in `(from, to]`: how many, the first expiry, the balance (the
 * grants not expired at `from`: the loyalty sweep marks them expired up to an hour later).
 */
export async function pointsExpiring(db: Queryable, from: Date, to: Date): Promise<ExpiringRow[]> {
  return db.query<ExpiringRow>(
    `SELECT g.customer_id, c.external_id, CAST(SUM(g.remaining) AS BIGINT) AS points, MIN(g.expires_at) AS first_expiry,
       CAST((SELECT SUM(a.remaining) FROM loyalty_grants a WHERE a.customer_id = g.customer_id
          AND a.status = 'available' AND a.expires_at > $1::timestamp) AS BIGINT) AS balance
     FROM loyalty_grants g JOIN customers c ON c.customer_id = g.customer_id
     WHERE ${LIVE} AND g.status = 'available' AND g.remaining > 0
       AND g.expires_at > $1::timestamp AND g.expires_at <= $2::timestamp
     GROUP BY g.customer_id, c.external_id ORDER BY g.customer_id`,
    [from, to],
  );
}

export type ReplenishRow = {
  customer_id: number;
  external_id: string;
  sku: string;
  title: string | null;
  last_at: Date;
  median_days: number;
  repeats: number;
};

/**
 * Purchases due again in `(from, to]` (epoch seconds): per product the median interval between a
 * customer's consecutive purchases of it (over sale orders, at least `minRepeats` such intervals of a
 * day or more), from each customer's last purchase of it, less `leadDays`; none bought since.
 */
export async function replenishmentDue(
  db: Queryable,
  o: { minRepeats: number; leadDays: number; from: number; to: number },
): Promise<ReplenishRow[]> {
  const sale = saleSql('o.currency'); // a sale in any currency
  return db.query<ReplenishRow>(
    `WITH buys AS (
       SELECT DISTINCT l.customer_id, l.sku, o.ordered_at,
         CAST(EXTRACT(EPOCH FROM o.ordered_at) AS DOUBLE PRECISION) AS at_s
       FROM order_lines l JOIN orders o ON o.order_id = l.order_id
       WHERE l.customer_id IS NOT NULL AND l.sku IS NOT NULL AND l.quantity > 0 AND ${sale}
     ), gaps AS (
       SELECT sku, (at_s - LAG(at_s) OVER (PARTITION BY customer_id, sku ORDER BY at_s)) / 86400.0 AS gap_days FROM buys
     ), medians AS (
       SELECT sku, percentile_cont(0.5) WITHIN GROUP (ORDER BY gap_days) AS median_days,
         CAST(COUNT(*) AS INTEGER) AS repeats
       FROM gaps WHERE gap_days >= 1 GROUP BY sku HAVING COUNT(*) >= $1
     ), latest AS (
       SELECT customer_id, sku, MAX(ordered_at) AS last_at, MAX(at_s) AS last_s FROM buys GROUP BY customer_id, sku
     )
     SELECT t.customer_id, c.external_id, t.sku, p.title, t.last_at,
       CAST(m.median_days AS DOUBLE PRECISION) AS median_days, m.repeats
     FROM latest t JOIN medians m ON m.sku = t.sku JOIN customers c ON c.customer_id = t.customer_id
       LEFT JOIN products p ON p.sku = t.sku
     WHERE ${LIVE} AND t.last_s + (m.median_days - $2) * 86400.0 > $3 AND t.last_s + (m.median_days - $2) * 86400.0 <= $4
     ORDER BY t.customer_id, t.last_at, t.sku`,
    [o.minRepeats, o.leadDays, o.from, o.to],
  );
}

/** Each customer's entries into the flow so far: the latest, whether one is in flight. */
export async function entriesOf(db: Queryable, flowId: number) {
  return db.query<{ customer_id: number; last_entry: Date; in_flight: number }>(
    `SELECT customer_id, MAX(entered_at) AS last_entry,
       CAST(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS INTEGER) AS in_flight
     FROM flow_runs WHERE flow_id = $1 GROUP BY customer_id`,
    [flowId],
  );
}

/** Whether the flow has a run of this customer with this occurrence (whatever its status). */
export async function occurrencesOf(db: Queryable, flowId: number, keys: readonly string[]) {
  if (keys.length === 0) return new Set<string>();
  const rows = await db.query<{ k: string }>(
    `SELECT CAST(customer_id AS TEXT) || '/' || occurrence AS k FROM flow_runs WHERE flow_id = $1
       AND CAST(customer_id AS TEXT) || '/' || occurrence IN (${keys.map((_, i) => `$${i + 2}`).join(', ')})`,
    [flowId, ...keys],
  );
  return new Set(rows.map((r) => r.k));
}
