import { DAY_MS } from '../../shared/time.js';
import type { OrderFact } from './types.js';
import { netOf, ordersAsOf, ordersByCustomer, ratio } from './util.js';

/** The named RFM segments, in display order (docs/metrics.md#rfm.segments). */
export const RFM_SEGMENTS = [
  'Champions',
  'Loyal',
  'Potential loyalist',
  'New',
  'Promising',
  'Need attention',
  'About to sleep',
  'At risk',
  'Cannot lose them',
  'Hibernating',
  'Lost',
] as const;
export type RfmSegment = (typeof RFM_SEGMENTS)[number];

/** One customer's RFM values and scores. */
export interface RfmCustomer {
  customerId: string;
  /** Days from the last order to asOf (fractional). */
  recencyDays: number;
  /** Number of orders. */
  frequency: number;
  /** Net revenue to date (integer minor units; negative if refunds exceed purchases). */
  monetaryMinor: number;
  r: number;
  f: number;
  m: number;
  segment: RfmSegment;
}

export interface RfmSegmentRow {
  segment: RfmSegment;
  customers: number;
  share: number | null;
  /** Σ net revenue of the segment's customers to date (integer). */
  revenueMinor: number;
  revenueShare: number | null;
  avgRecencyDays: number | null;
  avgFrequency: number | null;
  avgMonetaryMinor: number | null;
}

export interface RfmReport {
  definition: 'rfm';
  asOf: Date;
  customers: RfmCustomer[];
  segments: RfmSegmentRow[];
  definitions: { scores: 'rfm.scores'; segments: 'rfm.segments' };
}

/**
 * Quintile scores 1–5 by rank (docs/metrics.md#rfm.scores). `values` are ordered so that a larger
 * value is better. Ties share the score of the tie group's first (lowest) rank:
 * score = 1 + ⌊5 · (minRank − 1) / n⌋ with 1-based ranks in ascending order.
 */
export function quintileScores(values: readonly number[]): number[] {
  return rankScores(values, 5);
}

/**
 * Scores 1–`buckets` by rank, as {@link quintileScores} with `buckets` groups (deciles: 10):
 * score = 1 + ⌊buckets · (minRank − 1) / n⌋, ties sharing the score of their first rank.
 */
export function rankScores(values: readonly number[], buckets: number): number[] {
  const n = values.length;
  // Native numeric sort of a typed copy, then the tie group's first position by binary search.
  const sorted = Float64Array.from(values).sort();
  const scores = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    scores[i] = 1 + Math.floor((buckets * lo) / n);
  }
  return scores;
}

/**
 * The segment of a recency and frequency score (docs/metrics.md#rfm.segments): the R×F grid widely
 * used in open-source RFM code, with "Lost" carved out of Hibernating at R = 1, F = 1.
 */
export function segmentOf(r: number, f: number): RfmSegment {
  if (r >= 4 && r <= 5 && f >= 4) return r === 5 ? 'Champions' : 'Loyal';
  if (r === 3 && f >= 4) return 'Loyal';
  if (r >= 4 && f >= 2) return 'Potential loyalist';
  if (r === 5) return 'New';
  if (r === 4) return 'Promising';
  if (r === 3) return f === 3 ? 'Need attention' : 'About to sleep';
  if (f === 5) return 'Cannot lose them';
  if (f >= 3) return 'At risk';
  return r === 1 && f === 1 ? 'Lost' : 'Hibernating';
}

/** RFM values, scores and segment of every customer with an order before `asOf`. */
export function rfmScores(orders: readonly OrderFact[], asOf: Date): RfmCustomer[] {
  return rfmFromGroups(ordersByCustomer(ordersAsOf(orders, asOf)), asOf);
}

/**
 * {@link rfmScores} over orders already grouped per customer in time order; orders at or after
 * `asOf` are skipped, so one grouping serves several cut-off dates.
 */
export function rfmFromGroups(
  byCustomer: ReadonlyMap<string, readonly OrderFact[]>,
  asOf: Date,
): RfmCustomer[] {
  const cut = asOf.getTime();
  const ids: string[] = [];
  const last: number[] = [];
  const frequency: number[] = [];
  const monetary: number[] = [];
  for (const [id, list] of byCustomer) {
    let n = 0;
    let value = 0;
    let lastT = 0;
    for (const o of list) {
      const t = o.orderedAt.getTime();
      if (t >= cut) break;
      n++;
      value += netOf(o);
      lastT = t;
    }
    if (n === 0) continue;
    ids.push(id);
    last.push(lastT);
    frequency.push(n);
    monetary.push(value);
  }
  return rfmFromValues({ ids, lastOrderMs: last, frequency, monetaryMinor: monetary }, asOf);
}

/**
 * Each customer's RFM inputs, as parallel arrays: id, instant of the last order before `asOf`
 * (epoch ms), number of orders and net revenue (minor units) before `asOf`. One SQL aggregate per
 * customer gives them (`report rfm` does), or {@link rfmFromGroups} from the order facts.
 */
export interface RfmValues {
  ids: readonly string[];
  lastOrderMs: readonly number[];
  frequency: readonly number[];
  monetaryMinor: readonly number[];
}

/** {@link rfmScores} from each customer's values; customers sorted by id. */
export function rfmFromValues(values: RfmValues, asOf: Date): RfmCustomer[] {
  const { ids, lastOrderMs: last, frequency, monetaryMinor: monetary } = values;
  const cut = asOf.getTime();
  const order = ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  const r = quintileScores(last); // later last order is better
  const f = quintileScores(frequency);
  const m = quintileScores(monetary);
  return order.map((i) => ({
    customerId: ids[i]!,
    recencyDays: (cut - last[i]!) / DAY_MS,
    frequency: frequency[i]!,
    monetaryMinor: monetary[i]!,
    r: r[i]!,
    f: f[i]!,
    m: m[i]!,
    segment: segmentOf(r[i]!, f[i]!),
  }));
}

/** The RFM report (docs/metrics.md#rfm): per-customer scores and counts and revenue per segment. */
export function rfmReport(input: { orders: readonly OrderFact[]; asOf: Date }): RfmReport {
  return rfmReportOf(rfmScores(input.orders, input.asOf), input.asOf);
}

/** {@link rfmReport} from each customer's values (see {@link RfmValues}). */
export function rfmReportFromValues(values: RfmValues, asOf: Date): RfmReport {
  return rfmReportOf(rfmFromValues(values, asOf), asOf);
}

function rfmReportOf(customers: RfmCustomer[], asOf: Date): RfmReport {
  let total = 0;
  for (const c of customers) total += c.monetaryMinor;
  const acc = new Map<RfmSegment, { n: number; revenue: number; recency: number; frequency: number }>();
  for (const segment of RFM_SEGMENTS) acc.set(segment, { n: 0, revenue: 0, recency: 0, frequency: 0 });
  for (const c of customers) {
    const a = acc.get(c.segment)!;
    a.n++;
    a.revenue += c.monetaryMinor;
    a.recency += c.recencyDays;
    a.frequency += c.frequency;
  }
  const segments = RFM_SEGMENTS.map((segment): RfmSegmentRow => {
    const a = acc.get(segment)!;
    return {
      segment,
      customers: a.n,
      share: ratio(a.n, customers.length),
      revenueMinor: a.revenue,
      revenueShare: ratio(a.revenue, total),
      avgRecencyDays: ratio(a.recency, a.n),
      avgFrequency: ratio(a.frequency, a.n),
      avgMonetaryMinor: ratio(a.revenue, a.n),
    };
  });
  return {
    definition: 'rfm',
    asOf,
    customers,
    segments,
    definitions: { scores: 'rfm.scores', segments: 'rfm.segments' },
  };
}
