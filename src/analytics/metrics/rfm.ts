import type { OrderFact } from './types.js';
import { DAY_MS, netOf, ordersAsOf, ratio } from './util.js';

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
  const n = values.length;
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const scores = new Array<number>(n);
  let groupStart = 0;
  for (let pos = 0; pos < n; pos++) {
    const cur = order[pos]!;
    if (pos > 0 && cur.v !== order[pos - 1]!.v) groupStart = pos;
    scores[cur.i] = 1 + Math.floor((5 * groupStart) / n);
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
  const valid = ordersAsOf(orders, asOf);
  const acc = new Map<string, { last: number; frequency: number; monetary: number }>();
  for (const o of valid) {
    const t = o.orderedAt.getTime();
    const a = acc.get(o.customerId);
    if (!a) acc.set(o.customerId, { last: t, frequency: 1, monetary: netOf(o) });
    else {
      if (t > a.last) a.last = t;
      a.frequency++;
      a.monetary += netOf(o);
    }
  }
  const ids = [...acc.keys()].sort();
  const rows = ids.map((id) => acc.get(id)!);
  const cut = asOf.getTime();
  const r = quintileScores(rows.map((x) => -(cut - x.last))); // more recent is better
  const f = quintileScores(rows.map((x) => x.frequency));
  const m = quintileScores(rows.map((x) => x.monetary));
  return ids.map((customerId, i) => {
    const x = rows[i]!;
    return {
      customerId,
      recencyDays: (cut - x.last) / DAY_MS,
      frequency: x.frequency,
      monetaryMinor: x.monetary,
      r: r[i]!,
      f: f[i]!,
      m: m[i]!,
      segment: segmentOf(r[i]!, f[i]!),
    };
  });
}

/** The RFM report (docs/metrics.md#rfm): per-customer scores and counts and revenue per segment. */
export function rfmReport(input: { orders: readonly OrderFact[]; asOf: Date }): RfmReport {
  const customers = rfmScores(input.orders, input.asOf);
  let total = 0;
  for (const c of customers) total += c.monetaryMinor;
  const segments = RFM_SEGMENTS.map((segment): RfmSegmentRow => {
    const members = customers.filter((c) => c.segment === segment);
    let revenue = 0;
    let recency = 0;
    let frequency = 0;
    for (const c of members) {
      revenue += c.monetaryMinor;
      recency += c.recencyDays;
      frequency += c.frequency;
    }
    return {
      segment,
      customers: members.length,
      share: ratio(members.length, customers.length),
      revenueMinor: revenue,
      revenueShare: ratio(revenue, total),
      avgRecencyDays: ratio(recency, members.length),
      avgFrequency: ratio(frequency, members.length),
      avgMonetaryMinor: ratio(revenue, members.length),
    };
  });
  return {
    definition: 'rfm',
    asOf: input.asOf,
    customers,
    segments,
    definitions: { scores: 'rfm.scores', segments: 'rfm.segments' },
  };
}
