/** The CLV module's SQL: the sales a summary is built from (`loadSales`) and stored predictions. */
import type { Order } from '../../analytics/btyd/summary.js';
import { sqlIds } from '../../kit/customerHooks.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import { LATEST_RUN_CTE } from '../customers/repository.js';
import { mergeStaged } from '../../storage/merge.js';
import { minorDigits } from '../../shared/money.js';
import { DAY_MS } from '../../shared/time.js';
import { ORDER_REVENUE_SQL } from '../reports/repository.js';

export type { Order };

/** One stored prediction: what segments read (`p_alive < 0.3`, `clv > 500`, …). */
export interface StoredPrediction {
  customerId: string;
  /** e.g. "bgnbd+gamma-gamma:3f2a9c1b0d4e" — model names plus a hash of the fitted parameters. */
  modelVersion: string;
  /** Calibration end the summary was measured at. */
  asOf: Date;
  horizon: number;
  timeUnit: 'day' | 'week';
  expectedPurchases: number;
  pAlive: number;
  /** In currency units; null when no spend model was fitted. */
  clv: number | null;
  /** The months `clv` covers (`--clv-months`); the purchase `horizon` is in `timeUnit`s. */
  clvMonths: number;
  /** Expected spend per future order (Gamma-Gamma), in currency units; null without a spend model. */
  expectedSpend: number | null;
  /** When the next order is due: as-of plus the median time to it; null when it more likely never comes. */
  nextOrderAt: Date | null;
}

/** Sales of known customers up to `until` (inclusive day) in the store currency; fully refunded orders excluded. */
export async function loadSales(db: Queryable, until: Date): Promise<Order[]> {
  const rows = await db.query<{ customer_ext: string; ordered_at: Date; amount_minor: number }>(
    `SELECT c.external_id AS customer_ext, o.ordered_at, ${ORDER_REVENUE_SQL} AS amount_minor
     FROM orders o JOIN customers c ON c.customer_id = o.customer_id
     WHERE o.status IN ('paid', 'partially_refunded') AND o.ordered_at < $1::timestamp
       AND o.currency = (SELECT value FROM settings WHERE key = 'currency')
     ORDER BY c.external_id, o.ordered_at`,
    [new Date(until.getTime() + DAY_MS)],
  );
  return rows.map((r) => ({
    customerId: r.customer_ext,
    orderedAt: r.ordered_at,
    amountMinor: r.amount_minor,
  }));
}

/** A stored prediction's columns besides its key (customer, model version, as-of) and currency. */
const PREDICTION_VALUES = [
  'horizon',
  'time_unit',
  'expected_purchases',
  'p_alive',
  'clv_minor',
  'expected_spend_minor',
  'next_order_at',
  'clv_months',
] as const;

/** Upserts predictions on (customer_id, model_version, as_of); CLV and expected spend stored in minor units of the store currency. */
export async function savePredictions(
  db: Queryable,
  rows: readonly StoredPrediction[],
  now: Date,
): Promise<number> {
  const [cur] = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'currency'`);
  const currency = cur?.value ?? 'USD';
  const scale = 10 ** minorDigits(currency);
  await db.exec(`DROP TABLE IF EXISTS stg_predictions_raw`);
  await db.exec(
    `CREATE TEMP TABLE stg_predictions_raw (customer_ext TEXT, model_version TEXT, as_of TIMESTAMP, horizon DOUBLE PRECISION,
       time_unit TEXT, expected_purchases DOUBLE PRECISION, p_alive DOUBLE PRECISION, clv_minor BIGINT,
       expected_spend_minor BIGINT, next_order_at TIMESTAMP, clv_months INTEGER)`,
  );
  await db.copyRows(
    'stg_predictions_raw',
    ['customer_ext', 'model_version', 'as_of', ...PREDICTION_VALUES],
    rows.map((r) => [
      r.customerId,
      r.modelVersion,
      r.asOf,
      r.horizon,
      r.timeUnit,
      r.expectedPurchases,
      r.pAlive,
      r.clv === null ? null : Math.round(r.clv * scale),
      r.expectedSpend === null ? null : Math.round(r.expectedSpend * scale),
      r.nextOrderAt,
      r.clvMonths,
    ]),
  );
  await db.exec(`DROP TABLE IF EXISTS stg_predictions`);
  await db.exec(
    `CREATE TEMP TABLE stg_predictions AS
     SELECT c.customer_id, s.model_version, s.as_of, s.horizon, s.time_unit, s.expected_purchases, s.p_alive, s.clv_minor,
            s.expected_spend_minor, s.next_order_at, s.clv_months, CAST($1 AS TEXT) AS currency
     FROM stg_predictions_raw s JOIN customers c ON c.external_id = s.customer_ext`,
    [currency],
  );
  const counts = await mergeStaged(db, {
    target: 'clv_predictions',
    staged: 'stg_predictions',
    keys: ['customer_id', 'model_version', 'as_of'],
    columns: [...PREDICTION_VALUES, 'currency'],
    stamp: { created_at: '$1::timestamp' },
    params: [now],
  });
  for (const t of ['stg_predictions_actions', 'stg_predictions', 'stg_predictions_raw'])
    await db.exec(`DROP TABLE IF EXISTS ${t}`);
  return counts.inserted + counts.updated;
}

/** Merge hook: the merged customers' predictions dropped (recomputed for the survivor by the next run). */
export async function dropPredictionsOf(tx: Queryable, customerIds: readonly number[]): Promise<void> {
  await tx.exec(`DELETE FROM clv_predictions WHERE customer_id IN (${sqlIds(customerIds)})`);
}

// ---- The latest stored run, as the dashboard's Predictions page reads it -------------------------

/** The latest CLV run (customers/repository's LATEST_RUN_CTE) with its settings and size. */
export interface RunDbRow {
  model_version: string;
  as_of: Date;
  horizon: number;
  time_unit: string;
  clv_months: number | null;
  currency: string;
  stored_at: Date;
  customers: number;
}

export async function latestRun(db: Queryable): Promise<RunDbRow | undefined> {
  const rows = await db.query<RunDbRow & Record<string, unknown>>(
    `WITH ${LATEST_RUN_CTE}
     SELECT r.model_version, r.as_of, MIN(q.horizon) AS horizon, MIN(q.time_unit) AS time_unit,
       MIN(q.clv_months) AS clv_months, MIN(q.currency) AS currency, MAX(q.created_at) AS stored_at,
       COUNT(*) AS customers
     FROM latest_run r JOIN clv_predictions q ON q.model_version = r.model_version AND q.as_of = r.as_of
     JOIN customers c ON c.customer_id = q.customer_id
     GROUP BY r.model_version, r.as_of`,
  );
  const r = rows[0];
  return r && { ...r, customers: Number(r.customers) };
}

/** One stored prediction of a run with the customer's shop id, email and name. */
export interface RunPredictionDbRow {
  external_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  p_alive: number;
  expected_purchases: number;
  clv_minor: number | null;
  expected_spend_minor: number | null;
  next_order_at: Date | null;
}

/** How the run's predictions can be ordered (NULLS LAST, then insertion order). */
export const RUN_SORTS = {
  churnRisk: 'q.p_alive',
  pAlive: 'q.p_alive',
  clv: 'q.clv_minor',
  expectedPurchases: 'q.expected_purchases',
  nextOrderAt: 'q.next_order_at',
} as const;
export type RunSort = keyof typeof RUN_SORTS;

/** A run's predictions in `sort` order (churn risk descending = P(alive) ascending); all when no limit. */
export async function runPredictions(
  db: Queryable,
  run: { model_version: string; as_of: Date },
  o: { sort: RunSort; desc: boolean; limit?: number },
): Promise<RunPredictionDbRow[]> {
  const desc = o.desc !== (o.sort === 'churnRisk');
  const params: SqlValue[] = [run.model_version, run.as_of];
  if (o.limit !== undefined) params.push(o.limit);
  return db.query<RunPredictionDbRow & Record<string, unknown>>(
    `SELECT c.external_id, c.email, c.first_name, c.last_name, q.p_alive, q.expected_purchases, q.clv_minor,
       q.expected_spend_minor, q.next_order_at
     FROM clv_predictions q JOIN customers c ON c.customer_id = q.customer_id
     WHERE q.model_version = $1 AND q.as_of = $2::timestamp
     ORDER BY ${RUN_SORTS[o.sort]} ${desc ? 'DESC' : 'ASC'} NULLS LAST, c.customer_id ASC
     ${o.limit !== undefined ? 'LIMIT $3' : ''}`,
    params,
  );
}

/** Every P(alive) and CLV (minor units) of a run: its distributions. */
export async function runValues(
  db: Queryable,
  run: { model_version: string; as_of: Date },
): Promise<{ p_alive: number; clv_minor: number | null; expected_purchases: number }[]> {
  return db.query(
    `SELECT q.p_alive, q.clv_minor, q.expected_purchases
     FROM clv_predictions q JOIN customers c ON c.customer_id = q.customer_id
     WHERE q.model_version = $1 AND q.as_of = $2::timestamp`,
    [run.model_version, run.as_of],
  );
}

/** The `clv-predict` jobs done at or after `since`, the first finished first (the run's own job is one). */
export async function predictJobsSince(db: Queryable, since: Date, limit: number): Promise<number[]> {
  const rows = await db.query<{ job_id: number | bigint }>(
    `SELECT job_id FROM jobs WHERE kind = 'clv-predict' AND status = 'done' AND finished_at >= $1::timestamp
     ORDER BY finished_at, job_id LIMIT $2`,
    [since, limit],
  );
  return rows.map((r) => Number(r.job_id));
}
