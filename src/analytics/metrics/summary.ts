import { invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { CustomerAggregate } from './types.js';
import { assertDate, ratio } from './util.js';

/** Headline figures of the store before `asOf` (docs/metrics.md#summary). */
export interface SummaryReport {
  definition: 'summary';
  asOf: Date;
  /** Customers with ≥ 1 order. */
  customers: number;
  /** Orders of known customers (guest orders are in `guestOrders` only). */
  orders: number;
  grossRevenueMinor: number;
  refundsMinor: number;
  /** gross − refunds; negative only if refunds exceed sales. */
  netRevenueMinor: number;
  /** gross revenue / orders, unrounded minor units; null without orders. */
  aovMinor: number | null;
  ordersPerCustomer: number | null;
  /** Customers with ≥ 2 orders / customers with ≥ 1 order. */
  repeatCustomerRate: number | null;
  /** Mean over customers of (last − first order) in fractional days (0 for one-order customers). */
  avgLifespanDays: number | null;
  /** Orders without a customer (not part of any other figure). */
  guestOrders: number;
  /** Field → anchor in docs/metrics.md. */
  definitions: Record<
    | 'customers'
    | 'orders'
    | 'grossRevenueMinor'
    | 'refundsMinor'
    | 'netRevenueMinor'
    | 'aovMinor'
    | 'ordersPerCustomer'
    | 'repeatCustomerRate'
    | 'avgLifespanDays'
    | 'guestOrders',
    string
  >;
}

/** Input of {@link summarize}: one aggregate per customer, plus the guest-order count. */
export interface SummaryInput {
  customers: readonly CustomerAggregate[];
  guestOrders: number;
  asOf: Date;
}

/**
 * The headline summary (docs/metrics.md#summary) from per-customer aggregates computed before `asOf`.
 * Aggregates with `orders: 0` are ignored; an aggregate whose last order is at or after `asOf`
 * (exclusive) is an error (the SQL was not cut at `asOf`).
 */
export function summarize(input: SummaryInput): SummaryReport {
  const { asOf } = input;
  assertDate(asOf, 'asOf');
  if (!Number.isSafeInteger(input.guestOrders) || input.guestOrders < 0) {
    throw invalid(`expected a non-negative integer, got ${String(input.guestOrders)}`, {
      field: 'guestOrders',
    });
  }
  let customers = 0;
  let orders = 0;
  let gross = 0;
  let refunds = 0;
  let repeaters = 0;
  // Whole milliseconds: an exact sum whatever order the customers come in (both engines agree).
  let lifespanMsSum = 0;
  input.customers.forEach((c, i) => {
    if (c.orders === 0) return;
    if (!Number.isSafeInteger(c.orders) || c.orders < 0) {
      throw invalid(`expected a non-negative integer order count`, { field: `customers[${i}].orders` });
    }
    for (const f of ['revenueMinor', 'refundMinor'] as const) {
      if (!Number.isSafeInteger(c[f]) || c[f] < 0) {
        throw invalid(`expected a non-negative integer amount in minor units`, {
          field: `customers[${i}].${f}`,
        });
      }
    }
    const first = c.firstOrderAt;
    const last = c.lastOrderAt;
    assertDate(first, `customers[${i}].firstOrderAt`);
    assertDate(last, `customers[${i}].lastOrderAt`);
    if (last.getTime() < first.getTime()) {
      throw invalid('expected lastOrderAt ≥ firstOrderAt', { field: `customers[${i}].lastOrderAt` });
    }
    if (last.getTime() >= asOf.getTime()) {
      throw invalid(`order after asOf (${asOf.toISOString()}): aggregate not cut at asOf`, {
        field: `customers[${i}].lastOrderAt`,
      });
    }
    customers++;
    orders += c.orders;
    gross += c.revenueMinor;
    refunds += c.refundMinor;
    if (c.orders >= 2) repeaters++;
    lifespanMsSum += last.getTime() - first.getTime();
  });
  if (!Number.isSafeInteger(gross) || !Number.isSafeInteger(refunds)) {
    throw invalid('revenue total exceeds the safe-integer range of minor units', { field: 'customers' });
  }
  return {
    definition: 'summary',
    asOf,
    customers,
    orders,
    grossRevenueMinor: gross,
    refundsMinor: refunds,
    netRevenueMinor: gross - refunds,
    aovMinor: ratio(gross, orders),
    ordersPerCustomer: ratio(orders, customers),
    repeatCustomerRate: ratio(repeaters, customers),
    avgLifespanDays: ratio(lifespanMsSum / DAY_MS, customers),
    guestOrders: input.guestOrders,
    definitions: {
      customers: 'summary.customers',
      orders: 'summary.orders',
      grossRevenueMinor: 'summary.gross_revenue',
      refundsMinor: 'summary.refunds',
      netRevenueMinor: 'summary.net_revenue',
      aovMinor: 'summary.aov',
      ordersPerCustomer: 'summary.orders_per_customer',
      repeatCustomerRate: 'summary.repeat_customer_rate',
      avgLifespanDays: 'summary.avg_lifespan_days',
      guestOrders: 'summary.guest_orders',
    },
  };
}
