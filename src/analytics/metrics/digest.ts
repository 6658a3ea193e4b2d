import type { Calendar } from '../calendar.js';
import { invalid } from '../../shared/errors.js';
import { cohortReport, type CohortRow } from './cohorts.js';
import { decomposeRevenuePerCustomer, type DecompositionReport } from './decomposition.js';
import { rfmReport, type RfmSegmentRow } from './rfm.js';
import { summarize } from './summary.js';
import type { CustomerAggregate, CustomerProfile, MarginBasis, OrderFact, SpendRow } from './types.js';
import {
  marginBasisOf,
  monthIndexOfMs,
  monthRange,
  netOf,
  ordersAsOf,
  ordersByCustomer,
  periodLabel,
  ratio,
} from './util.js';

/** Headline figures of one calendar month (docs/metrics.md#digest.headline). */
export interface MonthHeadline {
  month: string;
  /** True when asOf falls inside the month. */
  partial: boolean;
  customers: number;
  newCustomers: number;
  returningCustomers: number;
  orders: number;
  guestOrders: number | null;
  grossRevenueMinor: number;
  refundsMinor: number;
  netRevenueMinor: number;
  aovMinor: number | null;
  ordersPerCustomer: number | null;
  revenuePerCustomerMinor: number | null;
  /** Customers active in the previous month and this one / active in the previous month. */
  retentionRate: number | null;
}

/** Relative change of each numeric headline figure: (this − other) / |other|; null when undefined. */
export type HeadlineChange = Partial<Record<keyof MonthHeadline, number | null>>;

export interface DigestSegment {
  dimension: string;
  segment: string;
  contributionMinor: number;
  currentCustomers: number;
  currentRevenuePerCustomerMinor: number | null;
}

export interface DigestData {
  definition: 'digest';
  month: string;
  asOf: Date;
  /** The store time zone the months are cut in; absent for UTC. */
  timeZone?: string;
  currency: string | null;
  minorDigits: number;
  marginBasis: MarginBasis;
  current: MonthHeadline;
  previousMonth: MonthHeadline;
  sameMonthLastYear: MonthHeadline;
  vsPreviousMonth: HeadlineChange;
  vsSameMonthLastYear: HeadlineChange;
  /** Net revenue of the 13 months ending with `month`, oldest first. */
  trend: { month: string; netRevenueMinor: number; customers: number }[];
  /** Monthly cohorts of the 12 months ending with `month`, measured up to the end of `month`. */
  cohorts: CohortRow[];
  diagnosis: DecompositionReport;
  /** Segments with the largest positive / negative contribution to the RPC change (all dimensions). */
  topSegments: DigestSegment[];
  bottomSegments: DigestSegment[];
  rfm: RfmSegmentRow[];
  notes: string[];
}

export interface DigestInput {
  orders: readonly OrderFact[];
  profiles?: readonly CustomerProfile[];
  spend?: readonly SpendRow[];
  /** Guest orders per month `YYYY-MM` (optional; shown when given). */
  guestOrdersByMonth?: Readonly<Record<string, number>>;
  /** `YYYY-MM`. */
  month: string;
  asOf: Date;
  /** ISO 4217 code shown beside amounts. */
  currency?: string;
  /** Digits of the minor unit (2 for GBP/EUR/USD, 0 for JPY). */
  minorDigits?: number;
  /** The store calendar months are cut in (UTC when not given). */
  calendar?: Calendar;
}

const HEADLINE_KEYS = [
  'customers',
  'newCustomers',
  'returningCustomers',
  'orders',
  'guestOrders',
  'grossRevenueMinor',
  'refundsMinor',
  'netRevenueMinor',
  'aovMinor',
  'ordersPerCustomer',
  'revenuePerCustomerMinor',
  'retentionRate',
] as const;

/** The headline figures compared month over month (the keys of {@link HeadlineChange}). */
export type HeadlineKey = (typeof HEADLINE_KEYS)[number];

function headline(
  groups: readonly (readonly OrderFact[])[],
  monthIndex: number,
  asOf: Date,
  guests: Readonly<Record<string, number>> | undefined,
  cal: Calendar | undefined,
): MonthHeadline {
  const month = periodLabel(monthIndex, 'month');
  const { to } = monthRange(month, 'month', cal);
  const aggregates: CustomerAggregate[] = [];
  let newCustomers = 0;
  let retained = 0;
  let previousActive = 0;
  for (const list of groups) {
    let agg: CustomerAggregate | null = null;
    let inPrevious = false;
    for (const o of list) {
      const m = monthIndexOfMs(o.orderedAt.getTime(), cal);
      if (m === monthIndex - 1) inPrevious = true;
      if (m < monthIndex) continue;
      if (m > monthIndex) break;
      if (!agg) {
        agg = {
          orders: 0,
          revenueMinor: 0,
          refundMinor: 0,
          firstOrderAt: o.orderedAt,
          lastOrderAt: o.orderedAt,
        };
        if (o === list[0]) newCustomers++;
      }
      agg.orders++;
      agg.revenueMinor += o.revenueMinor;
      agg.refundMinor += o.refundMinor;
      agg.lastOrderAt = o.orderedAt;
    }
    if (inPrevious) previousActive++;
    if (agg) {
      aggregates.push(agg);
      if (inPrevious) retained++;
    }
  }
  const guestOrders = guests ? (guests[month] ?? 0) : null;
  const s = summarize({ customers: aggregates, guestOrders: guestOrders ?? 0, asOf });
  return {
    month,
    partial: asOf.getTime() < to.getTime(),
    customers: s.customers,
    newCustomers,
    returningCustomers: s.customers - newCustomers,
    orders: s.orders,
    guestOrders,
    grossRevenueMinor: s.grossRevenueMinor,
    refundsMinor: s.refundsMinor,
    netRevenueMinor: s.netRevenueMinor,
    aovMinor: ratio(s.netRevenueMinor, s.orders),
    ordersPerCustomer: s.ordersPerCustomer,
    revenuePerCustomerMinor: ratio(s.netRevenueMinor, s.customers),
    retentionRate: ratio(retained, previousActive),
  };
}

function changes(cur: MonthHeadline, other: MonthHeadline): HeadlineChange {
  const out: HeadlineChange = {};
  for (const k of HEADLINE_KEYS) {
    const a = cur[k];
    const b = other[k];
    out[k] = a === null || b === null || b === 0 ? null : (a - b) / Math.abs(b);
  }
  return out;
}

/**
 * Everything the monthly digest shows (docs/metrics.md#digest), computed from the other reports.
 * Figures of `month` use orders before min(asOf, end of month).
 */
export function buildDigest(input: DigestInput): DigestData {
  const cal = input.calendar;
  const m = monthRange(input.month, 'month', cal);
  if (m.from.getTime() >= input.asOf.getTime()) {
    throw invalid(`month ${input.month} starts at or after asOf (${input.asOf.toISOString()})`, {
      field: 'month',
    });
  }
  const minorDigits = input.minorDigits ?? 2;
  if (!Number.isInteger(minorDigits) || minorDigits < 0 || minorDigits > 4) {
    throw invalid('expected minorDigits in 0..4', { field: 'minorDigits' });
  }
  const cut = new Date(Math.min(input.asOf.getTime(), m.to.getTime()));
  const orders = ordersAsOf(input.orders, cut);
  const groups = [...ordersByCustomer(orders).values()];
  const trendAcc = Array.from({ length: 13 }, () => ({ net: 0, customers: 0 }));
  for (const list of groups) {
    let prevK = -1;
    for (const o of list) {
      const k = monthIndexOfMs(o.orderedAt.getTime(), cal) - (m.index - 12);
      if (k < 0 || k > 12) continue;
      trendAcc[k]!.net += netOf(o);
      if (k !== prevK) {
        trendAcc[k]!.customers++;
        prevK = k;
      }
    }
  }
  const current = headline(groups, m.index, cut, input.guestOrdersByMonth, cal);
  const previousMonth = headline(groups, m.index - 1, cut, input.guestOrdersByMonth, cal);
  const sameMonthLastYear = headline(groups, m.index - 12, cut, input.guestOrdersByMonth, cal);
  const trend: DigestData['trend'] = trendAcc.map((x, k) => ({
    month: periodLabel(m.index - 12 + k, 'month'),
    netRevenueMinor: x.net,
    customers: x.customers,
  }));
  const cohorts = cohortReport({
    orders,
    asOf: cut,
    period: 'month',
    from: monthRange(periodLabel(m.index - 11, 'month'), 'month', cal).from,
    spend: input.spend,
    ...(cal ? { calendar: cal } : {}),
  }).cohorts;
  const prev = monthRange(periodLabel(m.index - 1, 'month'), 'month', cal);
  const diagnosis = decomposeRevenuePerCustomer({
    orders,
    profiles: input.profiles,
    asOf: cut,
    base: { from: prev.from, to: prev.to },
    current: { from: m.from, to: cut },
    top: 5,
  });
  const all: DigestSegment[] = diagnosis.drivers.flatMap((d) =>
    d.rows.map((r) => ({
      dimension: d.dimension,
      segment: r.segment,
      contributionMinor: r.contributionMinor,
      currentCustomers: r.currentCustomers,
      currentRevenuePerCustomerMinor: r.currentRevenuePerCustomerMinor,
    })),
  );
  const topSegments = all
    .filter((s) => s.contributionMinor > 0)
    .sort((a, b) => b.contributionMinor - a.contributionMinor)
    .slice(0, 3);
  const bottomSegments = all
    .filter((s) => s.contributionMinor < 0)
    .sort((a, b) => a.contributionMinor - b.contributionMinor)
    .slice(0, 3);
  const notes: string[] = [];
  if (current.partial) notes.push(`${input.month} is not complete: figures run to ${cut.toISOString()}`);
  const { basis } = marginBasisOf(orders);
  if (diagnosis.note) notes.push(`diagnosis: ${diagnosis.note}`);
  return {
    definition: 'digest',
    month: input.month,
    asOf: input.asOf,
    ...(cal && !cal.utc ? { timeZone: cal.zone } : {}),
    currency: input.currency ?? null,
    minorDigits,
    marginBasis: basis,
    current,
    previousMonth,
    sameMonthLastYear,
    vsPreviousMonth: changes(current, previousMonth),
    vsSameMonthLastYear: changes(current, sameMonthLastYear),
    trend,
    cohorts,
    diagnosis,
    topSegments,
    bottomSegments,
    rfm: rfmReport({ orders, asOf: cut }).segments,
    notes,
  };
}
