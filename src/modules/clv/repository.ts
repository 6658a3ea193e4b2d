/**
 * The CLV module's storage port. Reading orders and writing predictions need SQL, which lives in the
 * storage layer's repositories; the CLI receives implementations through `registerClv(program, deps)`.
 */
import type { Order } from '../../analytics/btyd/summary.js';

export type { Order };

export interface DatabaseTarget {
  db?: string;
  databaseUrl?: string;
}

export interface LoadOrdersOptions extends DatabaseTarget {
  /** Last day (inclusive, UTC) whose orders are needed: the holdout end, else the calibration end. */
  until: Date;
}

/**
 * Returns every sale (one entry per order, refunds/cancellations excluded) up to `until` inclusive as
 * `{customerId, orderedAt, amountMinor}` in the store currency. Guest orders without a customer are omitted.
 */
export type LoadOrders = (opts: LoadOrdersOptions) => Promise<Order[]>;

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
}

/** Upserts predictions keyed by (customer_id, model_version, as_of). */
export type StorePredictions = (target: DatabaseTarget, rows: readonly StoredPrediction[]) => Promise<void>;

/** What the CLI needs from storage; absent members mean "use --summary". */
export interface ClvStorage {
  loadOrders?: LoadOrders;
  storePredictions?: StorePredictions;
}
