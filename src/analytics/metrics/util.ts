import type { Calendar } from '../calendar.js';
import { invalid } from '../../shared/errors.js';
import { civilFromDays, DAY_MS } from '../../shared/time.js';
import type { CustomerProfile, DateRange, MarginBasis, OrderFact, Period, SpendRow } from './types.js';

/** Julian year, used wherever days become years. */
export const DAYS_PER_YEAR = 365.25;
/** Average Gregorian month (365.25 / 12), used wherever days become months. */
export const DAYS_PER_MONTH = DAYS_PER_YEAR / 12;

/** Throws a validation error unless `d` is a valid instant. */
export function assertDate(d: unknown, field: string): asserts d is Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw invalid(`expected a valid date`, { field });
  }
}

/** Throws unless the range is valid and `from` < `to`. */
export function assertRange(r: DateRange, field: string): void {
  assertDate(r.from, `${field}.from`);
  assertDate(r.to, `${field}.to`);
  if (r.from.getTime() >= r.to.getTime()) {
    throw invalid(`expected from (${r.from.toISOString()}) before to (${r.to.toISOString()})`, { field });
  }
}

function assertMinor(v: unknown, field: string, allowNull = false): void {
  if (allowNull && v === null) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`expected a non-negative integer amount in minor units, got ${String(v)}`, { field });
  }
}

/*
 * Input arrays are treated as immutable (they are `readonly` in every signature). Reports composed
 * of other reports (digest, diagnose) pass the same array down, so validation, grouping per customer
 * and the profile index are remembered per array identity; WeakMaps let them go with the array.
 */
const validated = new WeakSet<readonly OrderFact[]>();
const groupedCache = new WeakMap<readonly OrderFact[], Map<string, OrderFact[]>>();
const profileCache = new WeakMap<readonly CustomerProfile[], Map<string, CustomerProfile>>();

/**
 * Checks the money and date fields of order facts (one cheap pass; the zod schemas in types.ts are
 * for boundaries, this guards the hot path) and returns those strictly before `asOf`.
 */
export function ordersAsOf(orders: readonly OrderFact[], asOf: Date): readonly OrderFact[] {
  assertDate(asOf, 'asOf');
  const cut = asOf.getTime();
  const validate = !validated.has(orders);
  let out: OrderFact[] | null = null; // copied only once an order has to be dropped
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i]!;
    if (validate) {
      if (!(o.orderedAt instanceof Date) || Number.isNaN(o.orderedAt.getTime())) {
        throw invalid('expected a valid orderedAt', { field: `orders[${i}].orderedAt` });
      }
      assertMinor(o.revenueMinor, `orders[${i}].revenueMinor`);
      assertMinor(o.refundMinor, `orders[${i}].refundMinor`);
      assertMinor(o.costMinor, `orders[${i}].costMinor`, true);
    }
    if (o.orderedAt.getTime() < cut) out?.push(o);
    else if (!out) out = orders.slice(0, i);
  }
  validated.add(orders);
  if (out) validated.add(out);
  return out ?? orders;
}

/** Spend rows dated strictly before `asOf`, validated. */
export function spendAsOf(spend: readonly SpendRow[], asOf: Date): SpendRow[] {
  const cut = asOf.getTime();
  const out: SpendRow[] = [];
  for (let i = 0; i < spend.length; i++) {
    const s = spend[i]!;
    assertDate(s.date, `spend[${i}].date`);
    assertMinor(s.amountMinor, `spend[${i}].amountMinor`);
    if (s.date.getTime() < cut) out.push(s);
  }
  return out;
}

/** Net revenue of an order: gross − refunds (negative when refunds exceed the order). */
export function netOf(o: OrderFact): number {
  return o.revenueMinor - o.refundMinor;
}

/** Margin of an order on the given basis: net − cost, or net when costs are unknown. */
export function marginOf(o: OrderFact, basis: MarginBasis): number {
  return basis === 'margin'
    ? o.revenueMinor - o.refundMinor - (o.costMinor ?? 0)
    : o.revenueMinor - o.refundMinor;
}

/** `margin` only if every order has a known cost (an empty list counts as known). */
export function marginBasisOf(orders: readonly OrderFact[]): { basis: MarginBasis; costCoverage: number } {
  let known = 0;
  for (const o of orders) if (o.costMinor !== null) known++;
  const costCoverage = orders.length === 0 ? 1 : known / orders.length;
  return { basis: known === orders.length ? 'margin' : 'revenue', costCoverage };
}

/** {@link marginBasisOf} over orders grouped per customer. */
export function marginBasisOfGroups(groups: readonly (readonly OrderFact[])[]): {
  basis: MarginBasis;
  costCoverage: number;
} {
  let known = 0;
  let total = 0;
  for (const list of groups) {
    total += list.length;
    for (const o of list) if (o.costMinor !== null) known++;
  }
  return { basis: known === total ? 'margin' : 'revenue', costCoverage: total === 0 ? 1 : known / total };
}

/** `a / b`, or null when `b` is 0 (a ratio that does not exist is not a zero). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

/** Round half away from zero (the rounding of every displayed money figure). */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** Median of numbers (mean of the two middle values for an even count); null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Integers that sum exactly to `target` and are each within 1 of the matching `values[i]`
 * (largest-remainder apportionment; ties go to the lower index).
 */
export function apportion(values: readonly number[], target: number): number[] {
  const base = values.map((v) => Math.floor(v));
  let deficit = target - base.reduce((a, b) => a + b, 0);
  const order = values
    .map((v, i) => ({ i, rem: v - Math.floor(v) }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  if (order.length === 0) return base;
  let k = 0;
  while (deficit > 0) {
    base[order[k % order.length]!.i]! += 1;
    deficit--;
    k++;
  }
  k = order.length - 1;
  while (deficit < 0) {
    base[order[((k % order.length) + order.length) % order.length]!.i]! -= 1;
    deficit++;
    k--;
  }
  return base;
}

/**
 * Sequential index of the calendar period containing `d` (months or quarters since year 0) in the
 * store calendar `cal` (UTC when not given).
 */
export function periodIndex(d: Date, period: Period, cal?: Calendar): number {
  return periodIndexOfMs(d.getTime(), period, cal);
}

/** {@link periodIndex} of an epoch-milliseconds instant. */
export function periodIndexOfMs(ms: number, period: Period, cal?: Calendar): number {
  const m = monthIndexOfMs(ms, cal);
  return period === 'month' ? m : Math.floor(m / 3);
}

/** Label of a period index: `2010-12` for months, `2010-Q4` for quarters. */
export function periodLabel(index: number, period: Period): string {
  if (period === 'month') {
    const y = Math.floor(index / 12);
    return `${y}-${String((index % 12) + 1).padStart(2, '0')}`;
  }
  return `${Math.floor(index / 4)}-Q${(index % 4) + 1}`;
}

/** First instant of a period index (in the calendar `cal`, UTC when not given). */
export function periodStart(index: number, period: Period, cal?: Calendar): Date {
  if (cal && !cal.utc) return cal.periodStart(index, period);
  if (period === 'month') return new Date(Date.UTC(Math.floor(index / 12), index % 12, 1));
  return new Date(Date.UTC(Math.floor(index / 4), (index % 4) * 3, 1));
}

/**
 * Parses `YYYY-MM` into a month range (in the calendar `cal`, UTC when not given); throws a
 * validation error on anything else.
 */
export function monthRange(month: string, field = 'month', cal?: Calendar): DateRange & { index: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const mm = m ? Number(m[2]) : 0;
  if (!m || mm < 1 || mm > 12) throw invalid(`expected a month as YYYY-MM, got "${month}"`, { field });
  const index = Number(m[1]) * 12 + mm - 1;
  return { index, from: periodStart(index, 'month', cal), to: periodStart(index + 1, 'month', cal) };
}

/** Channel of a customer, `(unknown)` when the profile is missing or has none. */
export const UNKNOWN = '(unknown)';

/** Customer id → profile lookup. */
export function profileIndex(
  profiles: readonly CustomerProfile[] | undefined,
): ReadonlyMap<string, CustomerProfile> {
  if (!profiles) return new Map();
  const cached = profileCache.get(profiles);
  if (cached) return cached;
  const m = new Map<string, CustomerProfile>();
  for (const p of profiles) m.set(p.customerId, p);
  profileCache.set(profiles, m);
  return m;
}

/**
 * Orders grouped per customer, each list sorted by `orderedAt` (stable for equal instants).
 * Linear when the input is already ordered by customer, then time (`ORDER BY customer_id,
 * ordered_at`): only runs are looked up in the map. Any order is accepted.
 */
export function ordersByCustomer(orders: readonly OrderFact[]): ReadonlyMap<string, readonly OrderFact[]> {
  const cached = groupedCache.get(orders);
  if (cached) return cached;
  const m = new Map<string, OrderFact[]>();
  const unsorted = new Set<OrderFact[]>();
  let curId: string | undefined;
  let cur: OrderFact[] = [];
  let lastT = -Infinity;
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i]!;
    const t = o.orderedAt.getTime();
    if (o.customerId !== curId) {
      curId = o.customerId;
      const existing = m.get(curId);
      if (existing) {
        cur = existing;
        lastT = cur[cur.length - 1]!.orderedAt.getTime();
      } else {
        cur = [];
        m.set(curId, cur);
        lastT = -Infinity;
      }
    }
    if (t < lastT) unsorted.add(cur);
    else lastT = t;
    cur.push(o);
  }
  for (const list of unsorted) list.sort((a, b) => a.orderedAt.getTime() - b.orderedAt.getTime());
  groupedCache.set(orders, m);
  return m;
}

/**
 * Month index (year × 12 + month − 1) of an epoch-milliseconds instant in the calendar `cal` (UTC
 * when not given), by integer arithmetic (civilFromDays) — several times faster than `Date#getUTC*`
 * in the hot loops; a zone adds one cached offset look-up.
 */
export function monthIndexOfMs(ms: number, cal?: Calendar): number {
  if (cal && !cal.utc) return cal.monthIndexOfMs(ms);
  const [year, month] = civilFromDays(Math.floor(ms / DAY_MS));
  return year * 12 + month - 1;
}
