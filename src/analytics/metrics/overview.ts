/**
 * The Overview's figures (docs/metrics.md#overview) from per-slice counts: customers, new customers,
 * orders, net revenue, AOV, repeat-customer rate, retention and churn of a period against the period
 * before, and 6-month LTV and LTV:CAC of the customers acquired in it. Pure arithmetic: the counts come
 * from the database (reports repository `sliceFacts`) and the cohorts from the cohorts report.
 */

/** What the customers did in one time slice. */
export interface SliceFacts {
  /** Customers with ≥ 1 sale in the slice. */
  active: number;
  /** Of those, customers whose first-ever sale is in the slice. */
  newCustomers: number;
  /** Of those, customers also active in the slice before. */
  retained: number;
  /** Of those, customers with ≥ 2 sales by the slice's end (any before it count). */
  repeat: number;
  orders: number;
  grossMinor: number;
  /** Refunds attributed to the slice's sales, made before asOf. */
  refundMinor: number;
}

/** The period figures of one slice, given the slice before it (for retention). */
export interface PeriodFigures {
  customers: number;
  newCustomers: number;
  orders: number;
  netRevenueMinor: number;
  /** Gross revenue / orders, as summary.aov; null without orders. */
  aovMinor: number | null;
  /** Customers with ≥ 2 sales by the period's end / customers active in it. */
  repeatCustomerRate: number | null;
  /** Customers active in the period before and in this one / customers active in the period before. */
  retention: number | null;
  churn: number | null;
}

export function periodFigures(s: SliceFacts, before: SliceFacts | undefined): PeriodFigures {
  const retention = before && before.active > 0 ? s.retained / before.active : null;
  return {
    customers: s.active,
    newCustomers: s.newCustomers,
    orders: s.orders,
    netRevenueMinor: s.grossMinor - s.refundMinor,
    aovMinor: s.orders > 0 ? s.grossMinor / s.orders : null,
    repeatCustomerRate: s.active > 0 ? s.repeat / s.active : null,
    retention,
    churn: retention === null ? null : 1 - retention,
  };
}

/** An acquisition cohort as the Overview reads it (a month of the cohorts report). */
export interface CohortValue {
  size: number;
  /** Cumulative net revenue per customer at 6 months; null until the cohort is 6 months old. */
  sixMonthLtvMinor: number | null;
  /** Cumulative margin per customer at 6 months (margin basis of the report); null likewise. */
  sixMonthMarginMinor: number | null;
  /** Spend dated in the cohort's month; null without spend data. */
  spendMinor: number | null;
}

export interface CohortFigures {
  /** Σ size × 6-month LTV / Σ size over the cohorts that are 6 months old; null when none is. */
  sixMonthLtvMinor: number | null;
  /** Σ size × 6-month margin / Σ spend over those cohorts; null without spend or with zero spend. */
  ltvToCac: number | null;
  /** Customers in the cohorts counted. */
  matureCustomers: number;
}

export function cohortFigures(cohorts: readonly CohortValue[]): CohortFigures {
  let size = 0;
  let ltv = 0;
  let margin = 0;
  let spend = 0;
  let spendKnown = false;
  for (const c of cohorts) {
    if (c.sixMonthLtvMinor === null || c.sixMonthMarginMinor === null || c.size === 0) continue;
    size += c.size;
    ltv += c.size * c.sixMonthLtvMinor;
    margin += c.size * c.sixMonthMarginMinor;
    if (c.spendMinor !== null) {
      spendKnown = true;
      spend += c.spendMinor;
    }
  }
  return {
    sixMonthLtvMinor: size > 0 ? ltv / size : null,
    ltvToCac: size > 0 && spendKnown && spend > 0 ? margin / spend : null,
    matureCustomers: size,
  };
}

/** (value − previous) / |previous|; null when either is missing or previous is 0. */
export function relativeChange(value: number | null, previous: number | null): number | null {
  if (value === null || previous === null || previous === 0) return null;
  return (value - previous) / Math.abs(previous);
}

/**
 * Day offsets cutting `days` days into `n` slices as equal as whole days allow (the first offset 0,
 * the last `days`); fewer slices when the range has fewer days.
 */
export function sliceOffsets(days: number, n: number): number[] {
  const k = Math.max(1, Math.min(n, days));
  return Array.from({ length: k + 1 }, (_, i) => Math.round((i * days) / k));
}
