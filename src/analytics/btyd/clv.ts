/**
 * Customer lifetime value by discounted cash flow over a horizon of months, as lifetimes'
 * customer_lifetime_value: for each month i, the expected purchases in month i times the expected
 * spend per purchase, times the margin, discounted by (1 + monthly rate)^i.
 */
import type { TransactionModel } from './model.js';
import type { TimeUnit } from './summary.js';

/** Model time units per month, as in lifetimes (`W`: 4.345, `D`: 30). */
export const UNITS_PER_MONTH: Record<TimeUnit, number> = { week: 4.345, day: 30 };

export interface ClvOptions {
  /** Horizon in months. */
  months: number;
  /** Monthly discount rate, e.g. 0.01. */
  monthlyDiscountRate: number;
  /** Share of revenue kept as profit (1 = revenue CLV). */
  margin: number;
  timeUnit: TimeUnit;
}

/**
 * Σ_{i=1}^{months} margin·spend·(E[Y(i·u)] − E[Y((i−1)·u)]) / (1 + d)^i for one customer history,
 * u = time units per month. `expectedSpend` is per purchase (e.g. from the Gamma-Gamma model).
 */
export function customerLifetimeValue(
  model: TransactionModel,
  frequency: number,
  recency: number,
  T: number,
  expectedSpend: number,
  options: ClvOptions,
): number {
  const u = UNITS_PER_MONTH[options.timeUnit];
  let clv = 0;
  let previous = 0;
  for (let i = 1; i <= options.months; i++) {
    const cumulative = model.conditionalExpectedPurchases(i * u, frequency, recency, T);
    clv += (expectedSpend * (cumulative - previous)) / Math.pow(1 + options.monthlyDiscountRate, i);
    previous = cumulative;
  }
  return clv * options.margin;
}

/** Horizon in model time units for a number of months. */
export function monthsToTime(months: number, unit: TimeUnit): number {
  return months * UNITS_PER_MONTH[unit];
}
