import { invalid } from '../../shared/errors.js';
import type { CustomerProfile, MarginBasis, OrderFact, Period, SpendRow, SplitBy } from './types.js';
import {
  UNKNOWN,
  marginBasisOf,
  marginOf,
  netOf,
  ordersAsOf,
  ordersByCustomer,
  periodIndex,
  periodIndexOfMs,
  periodLabel,
  profileIndex,
  spendAsOf,
} from './util.js';

/** One acquisition cohort (docs/metrics.md#cohorts). Arrays are indexed by k = periods since the cohort's. */
export interface CohortRow {
  /** Period of the first order: `2010-12` or `2010-Q4`. */
  cohort: string;
  /** Value of the split attribute, null without a split. */
  segment: string | null;
  size: number;
  /** Customers with ≥ 1 order in period cohort + k. */
  activeCustomers: number[];
  /** activeCustomers[k] / size; retention[0] = 1. */
  retention: number[];
  /** Σ net revenue of the cohort in periods cohort … cohort + k, / size (unrounded minor units). */
  cumulativeRevenuePerCustomer: number[];
  /** Same with margin (see the report's marginBasis). */
  cumulativeMarginPerCustomer: number[];
  /** True when the last period (k = length − 1) contains asOf, i.e. is not complete. */
  lastPeriodPartial: boolean;
  /** cumulativeRevenuePerCustomer at 6 months (k = 5 for months, k = 1 for quarters); null if not reached. */
  sixMonthLtvMinor: number | null;
  /** Spend dated in the cohort period (the segment's channel when split by channel). */
  spendMinor: number | null;
  /** spendMinor / size. */
  cacMinor: number | null;
  /** First k with cumulativeMarginPerCustomer[k] ≥ CAC; null when not (yet) reached or no CAC. */
  paybackPeriods: number | null;
}

export interface CohortReport {
  definition: 'cohorts';
  asOf: Date;
  period: Period;
  by: SplitBy | null;
  marginBasis: MarginBasis;
  costCoverage: number;
  cohorts: CohortRow[];
  notes: string[];
  /** Field → anchor in docs/metrics.md. */
  definitions: Record<string, string>;
}

export interface CohortInput {
  orders: readonly OrderFact[];
  asOf: Date;
  period?: Period;
  /** Split each cohort by a first-order attribute (channel and country come from `profiles`). */
  by?: SplitBy;
  profiles?: readonly CustomerProfile[];
  /** Spend rows; CAC and payback are computed only with spend and without a non-channel split. */
  spend?: readonly SpendRow[];
  /** Keep cohorts whose period starts at or after `from` … */
  from?: Date;
  /** … and before `to`. */
  to?: Date;
}

interface Acc {
  idx: number;
  segment: string | null;
  size: number;
  active: number[];
  revenue: number[];
  margin: number[];
}

/** Cohort key of a customer under the split; `null` segment without split. */
function segmentOf(
  by: SplitBy | undefined,
  first: OrderFact,
  profile: CustomerProfile | undefined,
): string | null {
  switch (by) {
    case undefined:
      return null;
    case 'channel':
      return profile?.channel ?? UNKNOWN;
    case 'country':
      return profile?.country ?? UNKNOWN;
    case 'first-category':
      return first.category ?? UNKNOWN;
    case 'first-product':
      return first.sku ?? UNKNOWN;
  }
}

/**
 * Acquisition cohorts by period of first order (docs/metrics.md#cohorts): retention[k], cumulative
 * revenue and margin per customer, and with spend, CAC per cohort and payback period.
 */
export function cohortReport(input: CohortInput): CohortReport {
  const period = input.period ?? 'month';
  const orders = ordersAsOf(input.orders, input.asOf);
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    throw invalid('expected from before to', { field: 'from' });
  }
  const { basis, costCoverage } = marginBasisOf(orders);
  const lastIdx = periodIndex(new Date(input.asOf.getTime() - 1), period);
  const profiles = profileIndex(input.profiles);
  const cohorts = new Map<string, Acc>();
  // Cohorts are kept whole: the filter applies to the cohort period, not to order dates.
  const fromIdx = input.from ? periodIndex(input.from, period) : -Infinity;
  const toIdx = input.to ? periodIndex(new Date(input.to.getTime() - 1), period) : Infinity;

  for (const [customerId, list] of ordersByCustomer(orders)) {
    const first = list[0]!;
    const c0 = periodIndex(first.orderedAt, period);
    if (c0 < fromIdx || c0 > toIdx) continue;
    const segment = segmentOf(input.by, first, profiles.get(customerId));
    const key = `${c0}\u0000${segment ?? ''}`;
    let acc = cohorts.get(key);
    if (!acc) {
      const n = lastIdx - c0 + 1;
      acc = {
        idx: c0,
        segment,
        size: 0,
        active: new Array<number>(n).fill(0),
        revenue: new Array<number>(n).fill(0),
        margin: new Array<number>(n).fill(0),
      };
      cohorts.set(key, acc);
    }
    acc.size++;
    let lastK = -1;
    for (const o of list) {
      const k = periodIndexOfMs(o.orderedAt.getTime(), period) - c0;
      if (k !== lastK) {
        acc.active[k]!++;
        lastK = k;
      }
      acc.revenue[k]! += netOf(o);
      acc.margin[k]! += marginOf(o, basis);
    }
  }

  const notes: string[] = [];
  const spend = input.spend ? spendAsOf(input.spend, input.asOf) : [];
  const cacPossible = spend.length > 0 && (input.by === undefined || input.by === 'channel');
  if (spend.length === 0) notes.push('no marketing spend data: CAC and payback are not available');
  else if (!cacPossible) notes.push(`spend is recorded per channel: no CAC for cohorts split by ${input.by}`);
  if (basis === 'revenue') {
    notes.push(
      `product costs unknown for ${((1 - costCoverage) * 100).toFixed(1)}% of orders: margin figures use net revenue`,
    );
  }
  const spendByPeriod = new Map<string, number>();
  if (cacPossible) {
    for (const s of spend) {
      const p = periodIndex(s.date, period);
      const key = `${p}\u0000${input.by === 'channel' ? s.channel : ''}`;
      spendByPeriod.set(key, (spendByPeriod.get(key) ?? 0) + s.amountMinor);
    }
  }
  const sixMonthK = period === 'month' ? 5 : 1;

  const rows: CohortRow[] = [...cohorts.entries()]
    .sort(([, a], [, b]) => a.idx - b.idx || ((a.segment ?? '') < (b.segment ?? '') ? -1 : 1))
    .map(([key, a]) => {
      let cumRev = 0;
      let cumMargin = 0;
      const cumulativeRevenuePerCustomer: number[] = [];
      const cumulativeMarginPerCustomer: number[] = [];
      for (let k = 0; k < a.revenue.length; k++) {
        cumRev += a.revenue[k]!;
        cumMargin += a.margin[k]!;
        cumulativeRevenuePerCustomer.push(cumRev / a.size);
        cumulativeMarginPerCustomer.push(cumMargin / a.size);
      }
      const spendMinor = cacPossible ? (spendByPeriod.get(key) ?? 0) : null;
      const cacMinor = spendMinor === null ? null : spendMinor / a.size;
      let paybackPeriods: number | null = null;
      if (cacMinor !== null) {
        const k = cumulativeMarginPerCustomer.findIndex((v) => v >= cacMinor);
        paybackPeriods = k < 0 ? null : k;
      }
      return {
        cohort: periodLabel(a.idx, period),
        segment: a.segment,
        size: a.size,
        activeCustomers: a.active,
        retention: a.active.map((n) => n / a.size),
        cumulativeRevenuePerCustomer,
        cumulativeMarginPerCustomer,
        lastPeriodPartial: true,
        sixMonthLtvMinor: cumulativeRevenuePerCustomer[sixMonthK] ?? null,
        spendMinor,
        cacMinor,
        paybackPeriods,
      };
    });
  // Every cohort's last period is the one containing asOf − 1 ms; it is complete only when asOf is
  // exactly the start of the next period.
  const lastComplete = periodIndex(input.asOf, period) > lastIdx;
  for (const r of rows) r.lastPeriodPartial = !lastComplete;

  return {
    definition: 'cohorts',
    asOf: input.asOf,
    period,
    by: input.by ?? null,
    marginBasis: basis,
    costCoverage,
    cohorts: rows,
    notes,
    definitions: {
      size: 'cohorts.size',
      retention: 'cohorts.retention',
      cumulativeRevenuePerCustomer: 'cohorts.cumulative_revenue',
      cumulativeMarginPerCustomer: 'cohorts.cumulative_margin',
      cacMinor: 'cohorts.cac',
      paybackPeriods: 'cohorts.payback',
      marginBasis: 'margin-basis',
    },
  };
}
