/**
 * Holdout validation of a transaction model (fit on calibration, predict the holdout), with the
 * classic table of mean actual vs predicted holdout purchases by calibration frequency (Fader, Hardie
 * & Lee 2005, Figure 4), and a data-sufficiency check run before fitting.
 */
import { invalid } from '../../shared/errors.js';
import type { TransactionModel } from './model.js';

export interface HoldoutColumns {
  frequency: ArrayLike<number>;
  recency: ArrayLike<number>;
  T: ArrayLike<number>;
  /** Actual purchases in the holdout. */
  holdoutFrequency: ArrayLike<number>;
  /** Holdout length per customer (time units). */
  holdoutDuration: ArrayLike<number>;
}

export interface FrequencyBucket {
  /** "0" … "6", "7+". */
  frequency: string;
  customers: number;
  meanActual: number;
  meanPredicted: number;
}

export interface ValidationReport {
  customers: number;
  /** Mean absolute and root-mean-square error of per-customer holdout purchases. */
  mae: number;
  rmse: number;
  /** Pearson correlation of predicted and actual holdout purchases (null if either is constant). */
  correlation: number | null;
  totalActual: number;
  totalPredicted: number;
  /** (predicted − actual) / actual, null if no holdout purchases. */
  totalErrorPct: number | null;
  byFrequency: FrequencyBucket[];
}

/** Predicts each customer's holdout purchases and compares them with the actual ones. */
export function validateHoldout(
  model: TransactionModel,
  data: HoldoutColumns,
  maxBucket = 7,
): ValidationReport {
  const n = data.frequency.length;
  if (n === 0) throw invalid('no customers to validate');
  const sums = new Float64Array(maxBucket + 1);
  const predSums = new Float64Array(maxBucket + 1);
  const counts = new Float64Array(maxBucket + 1);
  let absErr = 0;
  let sqErr = 0;
  let sa = 0;
  let sp = 0;
  let saa = 0;
  let spp = 0;
  let sap = 0;
  // Customers sharing (x, t_x, T, duration) share a prediction; cache by that key.
  const cache = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const x = data.frequency[i]!;
    const tx = data.recency[i]!;
    const T = data.T[i]!;
    const d = data.holdoutDuration[i]!;
    const key = `${x},${tx},${T},${d}`;
    let pred = cache.get(key);
    if (pred === undefined) {
      pred = model.conditionalExpectedPurchases(d, x, tx, T);
      cache.set(key, pred);
    }
    const act = data.holdoutFrequency[i]!;
    const e = pred - act;
    absErr += Math.abs(e);
    sqErr += e * e;
    sa += act;
    sp += pred;
    saa += act * act;
    spp += pred * pred;
    sap += act * pred;
    const b = Math.min(x, maxBucket);
    sums[b]! += act;
    predSums[b]! += pred;
    counts[b]! += 1;
  }
  const cov = sap - (sa * sp) / n;
  const va = saa - (sa * sa) / n;
  const vp = spp - (sp * sp) / n;
  const byFrequency: FrequencyBucket[] = [];
  for (let b = 0; b <= maxBucket; b++) {
    const c = counts[b]!;
    byFrequency.push({
      frequency: b === maxBucket ? `${maxBucket}+` : String(b),
      customers: c,
      meanActual: c > 0 ? sums[b]! / c : 0,
      meanPredicted: c > 0 ? predSums[b]! / c : 0,
    });
  }
  return {
    customers: n,
    mae: absErr / n,
    rmse: Math.sqrt(sqErr / n),
    correlation: va > 0 && vp > 0 ? cov / Math.sqrt(va * vp) : null,
    totalActual: sa,
    totalPredicted: sp,
    totalErrorPct: sa > 0 ? ((sp - sa) / sa) * 100 : null,
    byFrequency,
  };
}

export interface SufficiencyInput {
  customers: number;
  /** Customers with at least one repeat purchase in calibration. */
  repeatBuyers: number;
  /** Days between the first purchase and the calibration end. */
  historyDays: number;
}

export interface SufficiencyResult {
  /** 'refuse': the fit would be meaningless; 'warn': usable but weak; 'ok'. */
  verdict: 'ok' | 'warn' | 'refuse';
  messages: string[];
}

/** Minimums below which BTYD estimates are not identifiable in practice, and levels worth a warning. */
export const SUFFICIENCY = {
  refuse: { customers: 500, historyDays: 180, repeatBuyers: 50 },
  warn: { customers: 2000, historyDays: 365, repeatShare: 0.1 },
} as const;

/** Says whether there is enough data to fit a BTYD model, and why not. */
export function checkDataSufficiency(s: SufficiencyInput): SufficiencyResult {
  const refuse: string[] = [];
  const warn: string[] = [];
  const R = SUFFICIENCY.refuse;
  const W = SUFFICIENCY.warn;
  if (s.customers < R.customers)
    refuse.push(`only ${s.customers} customers; at least ${R.customers} are needed for stable estimates`);
  else if (s.customers < W.customers)
    warn.push(`${s.customers} customers; estimates are noisy below ${W.customers}`);
  if (s.historyDays < R.historyDays)
    refuse.push(
      `only ${Math.round(s.historyDays)} days of history; at least ${R.historyDays} are needed to see repeat behaviour`,
    );
  else if (s.historyDays < W.historyDays)
    warn.push(
      `${Math.round(s.historyDays)} days of history; seasonality is not covered below ${W.historyDays}`,
    );
  if (s.repeatBuyers < R.repeatBuyers)
    refuse.push(
      `only ${s.repeatBuyers} repeat buyers; at least ${R.repeatBuyers} are needed to estimate purchase and drop-out rates`,
    );
  else if (s.customers > 0 && s.repeatBuyers / s.customers < W.repeatShare)
    warn.push(
      `only ${((100 * s.repeatBuyers) / s.customers).toFixed(1)}% of customers bought again; drop-out estimates will be weak`,
    );
  if (refuse.length > 0) return { verdict: 'refuse', messages: [...refuse, ...warn] };
  return { verdict: warn.length > 0 ? 'warn' : 'ok', messages: warn };
}
