import type { Calendar } from '../calendar.js';
import { invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { OrderFact, Period } from './types.js';
import {
  median,
  ordersAsOf,
  ordersByCustomer,
  periodIndex,
  periodIndexOfMs,
  periodLabel,
  periodStart,
  ratio,
} from './util.js';

/** Retention figures of one calendar period (docs/metrics.md#retention). */
export interface RetentionPeriod {
  period: string;
  from: Date;
  to: Date;
  /** True when `asOf` falls inside the period (figures cover only part of it). */
  partial: boolean;
  activeCustomers: number;
  newCustomers: number;
  returningCustomers: number;
  /** Customers active in the previous period. */
  previousActive: number;
  /** Customers active in both the previous period and this one. */
  retained: number;
  retentionRate: number | null;
  churnRate: number | null;
  orders: number;
  /** Orders that are not their customer's first order. */
  returningOrders: number;
  repeatPurchaseShare: number | null;
  /** Shopify's "returning customer rate" (docs/metrics.md#retention.shopify_returning_customer_rate). */
  shopifyReturningCustomerRate: number | null;
}

/** One bucket of the time-to-second-purchase distribution: `fromDays < days ≤ toDays`. */
export interface TimeBucket {
  label: string;
  fromDays: number | null;
  toDays: number | null;
  customers: number;
  share: number;
}

export interface RetentionReport {
  definition: 'retention';
  asOf: Date;
  period: Period;
  periods: RetentionPeriod[];
  repeatCustomerRate: {
    definition: 'retention.repeat_customer_rate';
    customers: number;
    repeatCustomers: number;
    rate: number | null;
  };
  timeToSecondPurchase: {
    definition: 'retention.time_to_second_purchase';
    /** Customers with ≥ 2 orders. */
    customers: number;
    medianDays: number | null;
    distribution: TimeBucket[];
    within30Days: number;
    after30Days: number;
    shareWithin30Days: number | null;
  };
  definitions: Record<string, string>;
}

export interface RetentionInput {
  orders: readonly OrderFact[];
  asOf: Date;
  period?: Period;
  /** Report periods from the one containing `from` (default: the first order's). */
  from?: Date;
  /** … to the one containing `to − 1 ms` (default: the one containing `asOf − 1 ms`). */
  to?: Date;
  /** The store calendar periods are cut in (UTC when not given). */
  calendar?: Calendar;
}

/** Bucket edges in days (upper bounds, inclusive); the last bucket is open. */
const BUCKETS: readonly number[] = [7, 14, 30, 60, 90, 180, 365];

/** What one calendar period of a retention report counts (period index as `periodIndex`). */
export interface RetentionPeriodCounts {
  period: number;
  /** Customers with ≥ 1 order in the period. */
  active: number;
  /** … of which also active in the previous period. */
  retained: number;
  /** … of which placed their first order in it. */
  newCustomers: number;
  orders: number;
  /** Active customers with ≥ 2 orders by the period's end (Shopify's numerator). */
  shopify: number;
}

/**
 * Everything the retention report is computed from, a few rows instead of every order: the
 * counts of each period with orders, the number of customers, and per customer with ≥ 2 orders the
 * time between the first two (ms). The database sums the same (reports repository `retentionCounts`).
 */
export interface RetentionCounts {
  period: Period;
  periods: RetentionPeriodCounts[];
  customers: number;
  secondOrderGapsMs: number[];
}

/** {@link RetentionCounts} of the orders before `asOf` (sorted by customer, then time, for speed). */
export function retentionCounts(
  orders: readonly OrderFact[],
  asOf: Date,
  period: Period = 'month',
  calendar?: Calendar,
): RetentionCounts {
  const byCustomer = ordersByCustomer(ordersAsOf(orders, asOf));
  const cells = new Map<number, RetentionPeriodCounts>();
  const cell = (p: number) => {
    let c = cells.get(p);
    if (!c) {
      c = { period: p, active: 0, retained: 0, newCustomers: 0, orders: 0, shopify: 0 };
      cells.set(p, c);
    }
    return c;
  };
  const gaps: number[] = [];
  for (const list of byCustomer.values()) {
    if (list.length >= 2) gaps.push(list[1]!.orderedAt.getTime() - list[0]!.orderedAt.getTime());
    let prevP = -Infinity;
    let prev: RetentionPeriodCounts | undefined;
    for (let ordinal = 0; ordinal < list.length; ordinal++) {
      const p = periodIndexOfMs(list[ordinal]!.orderedAt.getTime(), period, calendar);
      if (p !== prevP) {
        // Leaving prevP: Shopify counts it when the customer had ≥ 2 orders by its end.
        if (prev && ordinal >= 2) prev.shopify++;
        const c = cell(p);
        c.active++;
        if (prevP === p - 1) c.retained++;
        prevP = p;
        prev = c;
      }
      prev!.orders++;
      if (ordinal === 0) prev!.newCustomers++;
    }
    if (list.length >= 2) prev!.shopify++;
  }
  return { period, periods: [...cells.values()], customers: byCustomer.size, secondOrderGapsMs: gaps };
}

/**
 * The retention report (docs/metrics.md#retention): per-period retention, churn, repeat-purchase
 * share and Shopify's returning customer rate, plus the repeat-customer rate and time to second
 * purchase over all customers before `asOf`.
 */
export function retentionReport(input: RetentionInput): RetentionReport {
  checkRange(input);
  return retentionReportFromCounts(
    retentionCounts(input.orders, input.asOf, input.period ?? 'month', input.calendar),
    input,
  );
}

function checkRange(input: Pick<RetentionInput, 'from' | 'to'>): void {
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    throw invalid('expected from before to', { field: 'from' });
  }
}

/** {@link retentionReport} from its {@link RetentionCounts} (summed by the database or by {@link retentionCounts}). */
export function retentionReportFromCounts(
  counts: RetentionCounts,
  input: Omit<RetentionInput, 'orders' | 'period'>,
): RetentionReport {
  checkRange(input);
  const period = counts.period;
  let minIdx = Infinity;
  for (const c of counts.periods) if (c.newCustomers > 0) minIdx = Math.min(minIdx, c.period);
  const cal = input.calendar;
  const lastIdx = periodIndex(new Date((input.to ?? input.asOf).getTime() - 1), period, cal);
  const firstIdx = input.from ? periodIndex(input.from, period, cal) : minIdx;

  // Counters per period, indexed from `base` (the earliest period any figure can touch).
  const base = Math.min(minIdx, firstIdx) - 1;
  const span = Number.isFinite(base) ? Math.max(lastIdx, periodIndex(input.asOf, period, cal)) - base + 2 : 0;
  const active = new Int32Array(span);
  const retainedIn = new Int32Array(span);
  const newIn = new Int32Array(span);
  const ordersIn = new Int32Array(span);
  const returningOrdersIn = new Int32Array(span);
  const shopifyIn = new Int32Array(span);
  for (const c of counts.periods) {
    const p = c.period - base;
    active[p] = c.active;
    retainedIn[p] = c.retained;
    newIn[p] = c.newCustomers;
    ordersIn[p] = c.orders;
    returningOrdersIn[p] = c.orders - c.newCustomers;
    shopifyIn[p] = c.shopify;
  }
  const gaps = counts.secondOrderGapsMs.map((ms) => ms / DAY_MS);
  const repeatCustomers = gaps.length;

  const periods: RetentionPeriod[] = [];
  if (Number.isFinite(firstIdx)) {
    for (let idx = firstIdx; idx <= lastIdx; idx++) {
      const p = idx - base;
      const previousActive = active[p - 1]!;
      const retained = retainedIn[p]!;
      const cur = active[p]!;
      const retentionRate = ratio(retained, previousActive);
      const from = periodStart(idx, period, cal);
      const to = periodStart(idx + 1, period, cal);
      periods.push({
        period: periodLabel(idx, period),
        from,
        to,
        partial: input.asOf.getTime() < to.getTime(),
        activeCustomers: cur,
        newCustomers: newIn[p]!,
        returningCustomers: cur - newIn[p]!,
        previousActive,
        retained,
        retentionRate,
        churnRate: retentionRate === null ? null : 1 - retentionRate,
        orders: ordersIn[p]!,
        returningOrders: returningOrdersIn[p]!,
        repeatPurchaseShare: ratio(returningOrdersIn[p]!, ordersIn[p]!),
        shopifyReturningCustomerRate: ratio(shopifyIn[p]!, cur),
      });
    }
  }

  const distribution: TimeBucket[] = [];
  let lower: number | null = null;
  for (const upper of [...BUCKETS, null]) {
    const n = gaps.filter((g) => (lower === null || g > lower) && (upper === null || g <= upper)).length;
    distribution.push({
      label: upper === null ? `>${lower} days` : lower === null ? `≤${upper} days` : `${lower}–${upper} days`,
      fromDays: lower,
      toDays: upper,
      customers: n,
      share: gaps.length === 0 ? 0 : n / gaps.length,
    });
    lower = upper;
  }
  const within30 = gaps.filter((g) => g <= 30).length;

  return {
    definition: 'retention',
    asOf: input.asOf,
    period,
    periods,
    repeatCustomerRate: {
      definition: 'retention.repeat_customer_rate',
      customers: counts.customers,
      repeatCustomers,
      rate: ratio(repeatCustomers, counts.customers),
    },
    timeToSecondPurchase: {
      definition: 'retention.time_to_second_purchase',
      customers: gaps.length,
      medianDays: median(gaps),
      distribution,
      within30Days: within30,
      after30Days: gaps.length - within30,
      shareWithin30Days: ratio(within30, gaps.length),
    },
    definitions: {
      retentionRate: 'retention.period_retention',
      churnRate: 'retention.churn',
      repeatPurchaseShare: 'retention.repeat_purchase_share',
      shopifyReturningCustomerRate: 'retention.shopify_returning_customer_rate',
      repeatCustomerRate: 'retention.repeat_customer_rate',
      timeToSecondPurchase: 'retention.time_to_second_purchase',
    },
  };
}
