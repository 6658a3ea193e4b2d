import type { Calendar } from '../calendar.js';
import { invalid } from '../../shared/errors.js';
import type { CustomerProfile, MarginBasis, OrderFact, Period, SpendRow, SplitBy } from './types.js';
import {
  UNKNOWN,
  assertDate,
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
  /** The store calendar months and days are cut in (UTC when not given). */
  calendar?: Calendar;
  /** Keep cohorts whose period starts at or after `from` … */
  from?: Date;
  /** … and before `to`. */
  to?: Date;
}

/**
 * The aggregate a cohort report is made of: one cell per (cohort period, segment, k), summing the
 * orders that customers of that cohort placed k periods after it. Integer sums, so a database can
 * produce them (GROUP BY) and give the same report as {@link cohortCells} over the order facts.
 */
export interface CohortCell {
  /** Period index of the cohort (its customers' first order), as {@link periodIndex}. */
  cohort: number;
  /** Value of the split attribute, null without a split. */
  segment: string | null;
  /** Periods since the cohort's (≥ 0). */
  k: number;
  /** Customers of the cohort with ≥ 1 order in period cohort + k (at k = 0: the cohort's size). */
  active: number;
  /** Orders in the cell, and those with a known cost (for the margin basis). */
  orders: number;
  costedOrders: number;
  /** Σ net revenue (revenue − refunds) of the cell's orders, minor units. */
  netMinor: number;
  /** Σ (net revenue − cost) with an unknown cost read as 0 (used only when every order has a cost). */
  netLessCostMinor: number;
}

/** What {@link cohortReportFromCells} needs besides the cells (as {@link CohortInput}, without orders). */
export type CohortCellsInput = Omit<CohortInput, 'orders' | 'profiles'> & { cells: readonly CohortCell[] };

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
 * The cohort cells of order facts (docs/metrics.md#cohorts): each customer joins the cohort of the
 * period of their first order (and the split value of that order or of their profile); each of
 * their orders before `asOf` adds to cell k = its period − the cohort's.
 */
export function cohortCells(
  input: Pick<CohortInput, 'orders' | 'asOf' | 'period' | 'by' | 'profiles' | 'calendar'>,
): CohortCell[] {
  const period = input.period ?? 'month';
  const cal = input.calendar;
  const orders = ordersAsOf(input.orders, input.asOf);
  const profiles = profileIndex(input.profiles);
  const cells = new Map<string, CohortCell>();
  for (const [customerId, list] of ordersByCustomer(orders)) {
    const first = list[0]!;
    const c0 = periodIndex(first.orderedAt, period, cal);
    const segment = segmentOf(input.by, first, profiles.get(customerId));
    let lastK = -1;
    let cell: CohortCell | undefined;
    for (const o of list) {
      const k = periodIndexOfMs(o.orderedAt.getTime(), period, cal) - c0;
      if (k !== lastK) {
        const key = `${c0}\u0000${segment ?? ''}\u0000${k}`;
        cell = cells.get(key);
        if (!cell) {
          cell = {
            cohort: c0,
            segment,
            k,
            active: 0,
            orders: 0,
            costedOrders: 0,
            netMinor: 0,
            netLessCostMinor: 0,
          };
          cells.set(key, cell);
        }
        cell.active++;
        lastK = k;
      }
      cell!.orders++;
      if (o.costMinor !== null) cell!.costedOrders++;
      cell!.netMinor += netOf(o);
      cell!.netLessCostMinor += netOf(o) - (o.costMinor ?? 0);
    }
  }
  return [...cells.values()];
}

/**
 * Acquisition cohorts by period of first order (docs/metrics.md#cohorts): retention[k], cumulative
 * revenue and margin per customer, and with spend, CAC per cohort and payback period.
 */
export function cohortReport(input: CohortInput): CohortReport {
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    throw invalid('expected from before to', { field: 'from' });
  }
  return cohortReportFromCells({ ...input, cells: cohortCells(input) });
}

/**
 * {@link cohortReport} from its cells (computed by {@link cohortCells}, or by the database): the
 * margin basis is `margin` only when every order has a cost; cohorts outside `from`/`to` are dropped
 * after the basis is decided (it covers all orders before `asOf`).
 */
export function cohortReportFromCells(input: CohortCellsInput): CohortReport {
  const period = input.period ?? 'month';
  assertDate(input.asOf, 'asOf');
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    throw invalid('expected from before to', { field: 'from' });
  }
  let orderCount = 0;
  let costed = 0;
  for (const c of input.cells) {
    orderCount += c.orders;
    costed += c.costedOrders;
  }
  const costCoverage = orderCount === 0 ? 1 : costed / orderCount;
  const basis: MarginBasis = costed === orderCount ? 'margin' : 'revenue';
  const cal = input.calendar;
  const lastIdx = periodIndex(new Date(input.asOf.getTime() - 1), period, cal);
  const cohorts = new Map<string, Acc>();
  // Cohorts are kept whole: the filter applies to the cohort period, not to order dates.
  const fromIdx = input.from ? periodIndex(input.from, period, cal) : -Infinity;
  const toIdx = input.to ? periodIndex(new Date(input.to.getTime() - 1), period, cal) : Infinity;

  for (const cell of input.cells) {
    const c0 = cell.cohort;
    if (c0 < fromIdx || c0 > toIdx) continue;
    const key = `${c0}\u0000${cell.segment ?? ''}`;
    let acc = cohorts.get(key);
    if (!acc) {
      const n = lastIdx - c0 + 1;
      acc = {
        idx: c0,
        segment: cell.segment,
        size: 0,
        active: new Array<number>(n).fill(0),
        revenue: new Array<number>(n).fill(0),
        margin: new Array<number>(n).fill(0),
      };
      cohorts.set(key, acc);
    }
    if (cell.k < 0 || cell.k >= acc.active.length) {
      throw invalid(
        `expected k in 0…${acc.active.length - 1} for cohort ${periodLabel(c0, period)}, got ${cell.k}`,
        {
          field: 'cells',
        },
      );
    }
    if (cell.k === 0) acc.size = cell.active;
    acc.active[cell.k]! += cell.active;
    acc.revenue[cell.k]! += cell.netMinor;
    acc.margin[cell.k]! += basis === 'margin' ? cell.netLessCostMinor : cell.netMinor;
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
      const p = periodIndex(s.date, period, cal);
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
  const lastComplete = periodIndex(input.asOf, period, cal) > lastIdx;
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
