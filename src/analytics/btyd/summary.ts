/**
 * RFM summaries for the BTYD models: per customer frequency x (repeat purchase days), recency t_x
 * (first → last purchase), age T (first purchase → calibration end) and mean repeat spend, in days or
 * weeks; plus compression of customers to unique (x, t_x, T) rows with weights (Fader & Hardie's
 * "condensed" likelihood: each distinct pattern is evaluated once and multiplied by its count).
 */
import { invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';

/** An order as the analytics layer sees it: amounts in integer minor units, UTC instants. */
export interface Order {
  customerId: string;
  orderedAt: Date;
  amountMinor: number;
}

export type TimeUnit = 'day' | 'week';

export interface SummaryOptions {
  /** Last calibration day (inclusive, UTC); T is measured to the start of this day, as in CDNOW. */
  calibrationEnd: Date;
  /** Last holdout day (inclusive). When given, holdout purchases are counted per customer. */
  holdoutEnd?: Date;
  timeUnit: TimeUnit;
  /** Minor units per currency unit for monetary_value (100 for USD/EUR, 1 for JPY). */
  minorPerUnit?: number;
}

/** One customer's calibration summary (and holdout outcome when a holdout end was given). */
export interface CustomerSummary {
  customerId: string;
  /** x: number of repeat purchase days (same-day orders merged). */
  frequency: number;
  /** t_x: time from first to last purchase day. */
  recency: number;
  /** T: time from first purchase day to the calibration end. */
  T: number;
  /** Mean value of the repeat purchase days, in currency units (0 when frequency = 0). */
  monetaryValue: number;
  /** Number of purchase days in (calibrationEnd, holdoutEnd]. */
  holdoutFrequency?: number;
  /** Holdout length in time units. */
  holdoutDuration?: number;
}

/** Whole UTC days since the epoch. */
function dayNumber(d: Date): number {
  return Math.floor(d.getTime() / DAY_MS);
}

/**
 * Builds per-customer summaries from orders. Orders on the same UTC day are one purchase occasion
 * (their amounts summed), as in lifetimes' summary_data_from_transaction_data; customers whose first
 * order is after the calibration end are excluded. Pure: no clock, the calibration end is explicit.
 */
export function buildSummary(orders: readonly Order[], options: SummaryOptions): CustomerSummary[] {
  const unitDays = options.timeUnit === 'week' ? 7 : 1;
  const minorPerUnit = options.minorPerUnit ?? 100;
  const calDay = dayNumber(options.calibrationEnd);
  const holdDay = options.holdoutEnd ? dayNumber(options.holdoutEnd) : undefined;
  if (holdDay !== undefined && holdDay <= calDay)
    throw invalid('holdout end must be after the calibration end');

  // customer → (day → summed amount)
  const byCustomer = new Map<string, Map<number, number>>();
  for (const o of orders) {
    const day = dayNumber(o.orderedAt);
    if (holdDay !== undefined ? day > holdDay : day > calDay) continue;
    let days = byCustomer.get(o.customerId);
    if (!days) byCustomer.set(o.customerId, (days = new Map()));
    days.set(day, (days.get(day) ?? 0) + o.amountMinor);
  }

  const out: CustomerSummary[] = [];
  for (const [customerId, days] of byCustomer) {
    const sorted = [...days.keys()].sort((a, b) => a - b);
    const first = sorted[0]!;
    if (first > calDay) continue;
    let last = first;
    let repeats = 0;
    let repeatSum = 0;
    let holdout = 0;
    for (const d of sorted) {
      if (d <= calDay) {
        if (d !== first) {
          repeats++;
          repeatSum += days.get(d)!;
        }
        last = d;
      } else holdout++;
    }
    const row: CustomerSummary = {
      customerId,
      frequency: repeats,
      recency: (last - first) / unitDays,
      T: (calDay - first) / unitDays,
      monetaryValue: repeats > 0 ? repeatSum / repeats / minorPerUnit : 0,
    };
    if (holdDay !== undefined) {
      row.holdoutFrequency = holdout;
      row.holdoutDuration = (holdDay - calDay) / unitDays;
    }
    out.push(row);
  }
  return out;
}

/** Column arrays of (x, t_x, T) with a weight per row: the input every transaction model fits on. */
export interface RfData {
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  weight: Float64Array;
}

/** Σ weights, the number of customers the rows stand for. */
export function totalWeight(data: RfData): number {
  let s = 0;
  for (let i = 0; i < data.weight.length; i++) s += data.weight[i]!;
  return s;
}

/** Result of grouping rows by a key: row → group id, group → first row, and group count. */
export interface Grouping {
  groupOf: Int32Array;
  firstRow: Int32Array;
  groups: number;
}

/**
 * Hash step for one double. Arithmetic instead of reading the IEEE bits keeps it in registers; the
 * multiplier spreads decimals such as 12.34 and 12.35 apart. Equality is checked exactly afterwards.
 */
function mixDouble(h: number, v: number): number {
  h = Math.imul(h ^ ((v * 1000003.7) | 0), 0x9e3779b1);
  h = Math.imul(h ^ ((v * 0.000000954) | 0) ^ (h >>> 15), 0x85ebca77);
  return h ^ (h >>> 13);
}

/**
 * Groups rows by equal values across 1–3 Float64 columns with an open-addressing hash table:
 * linear in the number of rows and far cheaper than a Map of string keys on millions of rows.
 */
export function groupRows(a: Float64Array, b?: Float64Array, c?: Float64Array): Grouping {
  if (!b && !c) {
    const dense = groupSmallIntegers(a);
    if (dense) return dense;
  }
  const n = a.length;
  let cap = 16;
  while (cap < n * 2) cap <<= 1;
  const mask = cap - 1;
  // Interleaved slots (group id, hash): a probe touches one cache line and rarely the rows themselves.
  const table = new Int32Array(cap * 2).fill(-1);
  const groupOf = new Int32Array(n);
  const firstRow = new Int32Array(n);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    const va = a[i]!;
    const vb = b ? b[i]! : 0;
    const vc = c ? c[i]! : 0;
    let h = mixDouble(0x811c9dc5, va);
    if (b) h = mixDouble(h, vb);
    if (c) h = mixDouble(h, vc);
    let slot = h & mask;
    for (;;) {
      const g = table[2 * slot]!;
      if (g < 0) {
        table[2 * slot] = groups;
        table[2 * slot + 1] = h;
        firstRow[groups] = i;
        groupOf[i] = groups++;
        break;
      }
      if (table[2 * slot + 1] === h) {
        const r = firstRow[g]!;
        if (a[r] === va && (!b || b[r] === vb) && (!c || c[r] === vc)) {
          groupOf[i] = g;
          break;
        }
      }
      slot = (slot + 1) & mask;
    }
  }
  return { groupOf, firstRow: firstRow.slice(0, groups), groups };
}

/** Largest value the direct-indexed grouping of small non-negative integers handles. */
const DENSE_LIMIT = 1 << 16;

/** groupRows for one column of integers in [0, DENSE_LIMIT) by direct indexing; null otherwise. */
function groupSmallIntegers(a: Float64Array): Grouping | null {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (!(v >= 0 && v < DENSE_LIMIT && (v | 0) === v) || Object.is(v, -0)) return null;
  }
  const slotOf = new Int32Array(DENSE_LIMIT).fill(-1);
  const groupOf = new Int32Array(n);
  const firstRow: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    let g = slotOf[v]!;
    if (g < 0) {
      g = slotOf[v] = firstRow.length;
      firstRow.push(i);
    }
    groupOf[i] = g;
  }
  return { groupOf, firstRow: Int32Array.from(firstRow), groups: firstRow.length };
}

/** Compresses per-customer (x, t_x, T) columns to unique rows whose weights count the customers. */
export function compressRf(
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
  weight?: Float64Array,
): RfData {
  const g = groupRows(frequency, recency, T);
  const w = new Float64Array(g.groups);
  for (let i = 0; i < frequency.length; i++) w[g.groupOf[i]!]! += weight ? weight[i]! : 1;
  const pick = (col: Float64Array) => {
    const out = new Float64Array(g.groups);
    for (let k = 0; k < g.groups; k++) out[k] = col[g.firstRow[k]!]!;
    return out;
  };
  return { frequency: pick(frequency), recency: pick(recency), T: pick(T), weight: w };
}

/** RfData from summaries, compressed. */
export function rfDataFromSummaries(
  rows: readonly Pick<CustomerSummary, 'frequency' | 'recency' | 'T'>[],
): RfData {
  const n = rows.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    x[i] = r.frequency;
    tx[i] = r.recency;
    T[i] = r.T;
  }
  return compressRf(x, tx, T);
}

/**
 * A value table for one column: the distinct values and each row's index into them, so per-value
 * work (e.g. log(α + T)) is done once per distinct value per likelihood evaluation.
 */
export interface ValueIndex {
  values: Float64Array;
  indexOf: Int32Array;
}

/** Distinct values of `column` and each row's index into them. */
export function indexValues(column: Float64Array): ValueIndex {
  const g = groupRows(column);
  const values = new Float64Array(g.groups);
  for (let k = 0; k < g.groups; k++) values[k] = column[g.firstRow[k]!]!;
  return { values, indexOf: g.groupOf };
}

/**
 * Precomputed lookups over compressed RF rows: the distinct x, t_x and T values, so a likelihood
 * evaluation computes lgamma(r + x), log(α + t_x) and log(α + T) once per distinct value.
 */
export interface RfIndex {
  data: RfData;
  rows: number;
  x: ValueIndex;
  recency: ValueIndex;
  T: ValueIndex;
  /** Σ weights of the rows with each distinct x. */
  weightByX: Float64Array;
  totalWeight: number;
}

/** Builds the RfIndex of compressed rows (linear time). */
export function indexRf(data: RfData): RfIndex {
  const x = indexValues(data.frequency);
  const weightByX = new Float64Array(x.values.length);
  for (let i = 0; i < data.frequency.length; i++) weightByX[x.indexOf[i]!]! += data.weight[i]!;
  return {
    data,
    rows: data.frequency.length,
    x,
    recency: indexValues(data.recency),
    T: indexValues(data.T),
    weightByX,
    totalWeight: totalWeight(data),
  };
}
