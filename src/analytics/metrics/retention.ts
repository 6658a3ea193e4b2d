import { invalid } from '../../shared/errors.js';
import type { OrderFact, Period } from './types.js';
import {
  DAY_MS,
  median,
  ordersAsOf,
  ordersByCustomer,
  periodIndex,
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
}

/** Bucket edges in days (upper bounds, inclusive); the last bucket is open. */
const BUCKETS: readonly number[] = [7, 14, 30, 60, 90, 180, 365];

/**
 * The retention report (docs/metrics.md#retention): per-period retention, churn, repeat-purchase
 * share and Shopify's returning customer rate, plus the repeat-customer rate and time to second
 * purchase over all customers before `asOf`.
 */
export function retentionReport(input: RetentionInput): RetentionReport {
  const period = input.period ?? 'month';
  const orders = ordersAsOf(input.orders, input.asOf);
  const byCustomer = ordersByCustomer(orders);

  // Per period: active customers, and per active customer the highest order ordinal in the period.
  const active = new Map<number, Map<string, number>>();
  const ordersIn = new Map<number, { orders: number; returning: number; newCustomers: number }>();
  const gaps: number[] = [];
  let repeatCustomers = 0;
  let minIdx = Infinity;
  for (const [customerId, list] of byCustomer) {
    if (list.length >= 2) {
      repeatCustomers++;
      gaps.push((list[1]!.orderedAt.getTime() - list[0]!.orderedAt.getTime()) / DAY_MS);
    }
    list.forEach((o, ordinal) => {
      const p = periodIndex(o.orderedAt, period);
      if (p < minIdx) minIdx = p;
      let m = active.get(p);
      if (!m) active.set(p, (m = new Map()));
      m.set(customerId, Math.max(m.get(customerId) ?? 0, ordinal));
      let c = ordersIn.get(p);
      if (!c) ordersIn.set(p, (c = { orders: 0, returning: 0, newCustomers: 0 }));
      c.orders++;
      if (ordinal > 0) c.returning++;
      else c.newCustomers++;
    });
  }

  const lastIdx = periodIndex(new Date((input.to ?? input.asOf).getTime() - 1), period);
  const firstIdx = input.from ? periodIndex(input.from, period) : minIdx;
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    throw invalid('expected from before to', { field: 'from' });
  }
  const periods: RetentionPeriod[] = [];
  if (Number.isFinite(firstIdx)) {
    for (let p = firstIdx; p <= lastIdx; p++) {
      const cur = active.get(p) ?? new Map<string, number>();
      const prev = active.get(p - 1);
      let retained = 0;
      if (prev) for (const c of prev.keys()) if (cur.has(c)) retained++;
      let shopifyReturning = 0;
      for (const maxOrdinal of cur.values()) if (maxOrdinal >= 1) shopifyReturning++;
      const counts = ordersIn.get(p) ?? { orders: 0, returning: 0, newCustomers: 0 };
      const previousActive = prev?.size ?? 0;
      const retentionRate = ratio(retained, previousActive);
      const from = periodStart(p, period);
      const to = periodStart(p + 1, period);
      periods.push({
        period: periodLabel(p, period),
        from,
        to,
        partial: input.asOf.getTime() < to.getTime(),
        activeCustomers: cur.size,
        newCustomers: counts.newCustomers,
        returningCustomers: cur.size - counts.newCustomers,
        previousActive,
        retained,
        retentionRate,
        churnRate: retentionRate === null ? null : 1 - retentionRate,
        orders: counts.orders,
        returningOrders: counts.returning,
        repeatPurchaseShare: ratio(counts.returning, counts.orders),
        shopifyReturningCustomerRate: ratio(shopifyReturning, cur.size),
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
      customers: byCustomer.size,
      repeatCustomers,
      rate: ratio(repeatCustomers, byCustomer.size),
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
