/** The CLV module's SQL: the sales a summary is built from (`loadSales`) and stored predictions. */
import type { Order } from '../../analytics/btyd/summary.js';
import { sqlIds } from '../../kit/customerHooks.js';
import type { Queryable } from '../../storage/port.js';
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
