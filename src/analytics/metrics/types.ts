import { z } from 'zod';

/**
 * Input rows of the metrics layer. Each shape is one SQL aggregate away from the tables
 * (customers, products, orders, order_lines, refunds, marketing_spend); reports never see raw lines.
 *
 * Conventions shared by every module:
 * - Money is integer minor units (`*Minor`). Totals stay integers; averages and per-customer values
 *   are unrounded numbers in minor units (formatters round half away from zero).
 * - Instants are UTC `Date`s. Every report takes an explicit `asOf`, an exclusive bound: orders at or
 *   after it are ignored (`--as-of 2011-12-09` means `asOf = 2011-12-10T00:00Z`).
 * - Date ranges are half-open `[from, to)`: a CLI `--to 2011-03-31` becomes `to = 2011-04-01T00:00Z`.
 */

const minor = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer (minor units)');
const nonNegativeMinor = minor.refine((v) => v >= 0, 'must be ≥ 0');

/**
 * One order of a known customer (guest orders are counted separately, see {@link CustomerAggregate}).
 * SQL: `orders` joined to the sums of its `order_lines` and `refunds` (refunded_at ≤ asOf).
 */
export const OrderFact = z.object({
  customerId: z.string(),
  orderedAt: z.date(),
  /** Gross order total: Σ qty × unit price of its lines (≥ 0). */
  revenueMinor: nonNegativeMinor,
  /** Σ qty × product unit cost; `null` when any line's product has no known cost. */
  costMinor: nonNegativeMinor.nullable(),
  /** Σ refunds against this order recorded before `asOf`; may exceed `revenueMinor` (goodwill refunds). */
  refundMinor: nonNegativeMinor,
  /** Primary category: category of the line with the largest qty × unit price (ties: smallest sku). */
  category: z.string().nullable().optional(),
  /** Primary product: sku of that same line. */
  sku: z.string().nullable().optional(),
});
export type OrderFact = z.infer<typeof OrderFact>;

/** Per-customer attributes from `customers` (acquisition channel and country as imported). */
export const CustomerProfile = z.object({
  customerId: z.string(),
  channel: z.string().nullable(),
  country: z.string().nullable(),
});
export type CustomerProfile = z.infer<typeof CustomerProfile>;

/** Marketing spend of one UTC day and channel (`marketing_spend` summed per date + channel). */
export const SpendRow = z.object({
  date: z.date(),
  channel: z.string(),
  amountMinor: nonNegativeMinor,
});
export type SpendRow = z.infer<typeof SpendRow>;

/**
 * Per-customer aggregate over the customer's orders before `asOf`:
 * `SELECT customer_id, count(*), sum(total), sum(refunds), min(ordered_at), max(ordered_at) … WHERE
 * ordered_at < asOf GROUP BY 1`.
 * Customers with no order may be passed with `orders: 0` and null dates; they are not counted.
 */
export const CustomerAggregate = z.object({
  orders: z.number().int().nonnegative(),
  revenueMinor: nonNegativeMinor,
  refundMinor: nonNegativeMinor,
  firstOrderAt: z.date().nullable(),
  lastOrderAt: z.date().nullable(),
});
export type CustomerAggregate = z.infer<typeof CustomerAggregate>;

/** Calendar grain of period reports (UTC months; quarters Jan–Mar, Apr–Jun, …). */
export const Period = z.enum(['month', 'quarter']);
export type Period = z.infer<typeof Period>;

/** Half-open UTC range `[from, to)`. */
export const DateRange = z.object({ from: z.date(), to: z.date() });
export type DateRange = z.infer<typeof DateRange>;

/**
 * What margin figures are made of: `margin` = net revenue − product cost (every order in scope has
 * a cost); `revenue` = costs unknown for at least one order, so "margin" figures are net revenue.
 */
export type MarginBasis = 'margin' | 'revenue';

/** Attributes a cohort or a driver analysis can be split by (all fixed at the first order). */
export const SplitBy = z.enum(['channel', 'first-category', 'first-product', 'country']);
export type SplitBy = z.infer<typeof SplitBy>;
