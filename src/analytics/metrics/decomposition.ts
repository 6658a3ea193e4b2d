import { invalid } from '../../shared/errors.js';
import { rfmFromGroups } from './rfm.js';
import type { CustomerProfile, DateRange, OrderFact } from './types.js';
import {
  UNKNOWN,
  apportion,
  assertRange,
  netOf,
  ordersAsOf,
  ordersByCustomer,
  profileIndex,
  roundHalfAway,
} from './util.js';

/** The effects revenue per customer is decomposed into, in display order. */
export const EFFECTS = [
  'newReturningMix',
  'retention',
  'channelMix',
  'ordersPerCustomer',
  'categoryMix',
  'aov',
] as const;
export type Effect = (typeof EFFECTS)[number];

/** Customer status in a period (docs/metrics.md#diagnose.status). */
export type Status = 'new' | 'retained' | 'reactivated';

/** Dimensions the drivers are listed for. */
export const DRIVER_DIMENSIONS = ['channel', 'firstCategory', 'country', 'rfmSegment'] as const;
export type DriverDimension = (typeof DRIVER_DIMENSIONS)[number];

export interface PeriodFigures {
  from: Date;
  to: Date;
  customers: number;
  newCustomers: number;
  retainedCustomers: number;
  reactivatedCustomers: number;
  orders: number;
  netRevenueMinor: number;
  /** net revenue / customers (unrounded minor units). */
  revenuePerCustomerMinor: number | null;
  ordersPerCustomer: number | null;
  /** net revenue / orders. */
  aovMinor: number | null;
}

export interface EffectPart {
  effect: Effect;
  definition: `diagnose.effect.${Effect}`;
  /** Shapley value in minor units (unrounded); the six sum to `change.exactMinor` up to float rounding. */
  exactMinor: number;
  /** Integer minor units; the six sum exactly to `change.roundedMinor`. */
  roundedMinor: number;
}

export interface DriverRow {
  segment: string;
  baseCustomers: number;
  currentCustomers: number;
  baseRevenuePerCustomerMinor: number | null;
  currentRevenuePerCustomerMinor: number | null;
  /** rev₁(g)/N₁ − rev₀(g)/N₀; over all segments of a dimension these sum to the total change. */
  contributionMinor: number;
  /** Integer contributions summing exactly to `change.roundedMinor` over the whole dimension. */
  contributionRoundedMinor: number;
  /** contribution / total change (null when the change is 0). */
  shareOfChange: number | null;
}

export interface DriverTable {
  dimension: DriverDimension;
  definition: 'diagnose.drivers';
  /** The `top` segments by |contribution|. */
  rows: DriverRow[];
  /** Number of segments in the dimension (rows may be fewer). */
  segments: number;
}

export interface DecompositionReport {
  definition: 'diagnose';
  asOf: Date;
  base: PeriodFigures;
  current: PeriodFigures;
  /** Change of net revenue per customer; null when a period has no customers. */
  change: { exactMinor: number; roundedMinor: number; relative: number | null } | null;
  parts: EffectPart[];
  drivers: DriverTable[];
  note: string | null;
}

export interface DecompositionInput {
  orders: readonly OrderFact[];
  /** Channel and country per customer. */
  profiles?: readonly CustomerProfile[];
  asOf: Date;
  base: DateRange;
  current: DateRange;
  /** Segments listed per driver dimension (default 5). */
  top?: number;
}

/** Statistics of one period in cell form: cell = status × channel, within a cell by category. */
interface CellStats {
  customers: number;
  orders: number;
  byCategory: Map<string, { orders: number; revenue: number }>;
}
interface PeriodStats {
  figures: PeriodFigures;
  /** key `${status}\u0000${channel}` */
  cells: Map<string, CellStats>;
  statusCount: Record<Status, number>;
  /** Net revenue per customer id (customers active in the period). */
  revenueByCustomer: Map<string, number>;
}

const STATUSES: readonly Status[] = ['new', 'retained', 'reactivated'];

function periodStats(
  byCustomer: ReadonlyMap<string, readonly OrderFact[]>,
  range: DateRange,
  profiles: ReadonlyMap<string, CustomerProfile>,
): PeriodStats {
  const from = range.from.getTime();
  const to = range.to.getTime();
  const prevFrom = from - (to - from);
  const cells = new Map<string, CellStats>();
  const statusCount: Record<Status, number> = { new: 0, retained: 0, reactivated: 0 };
  const revenueByCustomer = new Map<string, number>();
  let orders = 0;
  let revenue = 0;
  for (const [customerId, list] of byCustomer) {
    let inPeriod = 0;
    let inPrevious = false;
    for (const o of list) {
      const t = o.orderedAt.getTime();
      if (t >= from && t < to) inPeriod++;
      else if (t >= prevFrom && t < from) inPrevious = true;
    }
    if (inPeriod === 0) continue;
    const firstT = list[0]!.orderedAt.getTime();
    const status: Status = firstT >= from ? 'new' : inPrevious ? 'retained' : 'reactivated';
    statusCount[status]++;
    const channel = profiles.get(customerId)?.channel ?? UNKNOWN;
    const key = `${status}\u0000${channel}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { customers: 0, orders: 0, byCategory: new Map() }));
    cell.customers++;
    let customerRevenue = 0;
    for (const o of list) {
      const t = o.orderedAt.getTime();
      if (t < from || t >= to) continue;
      const category = o.category ?? UNKNOWN;
      let c = cell.byCategory.get(category);
      if (!c) cell.byCategory.set(category, (c = { orders: 0, revenue: 0 }));
      c.orders++;
      c.revenue += netOf(o);
      cell.orders++;
      customerRevenue += netOf(o);
    }
    orders += inPeriod;
    revenue += customerRevenue;
    revenueByCustomer.set(customerId, customerRevenue);
  }
  const customers = revenueByCustomer.size;
  return {
    figures: {
      from: range.from,
      to: range.to,
      customers,
      newCustomers: statusCount.new,
      retainedCustomers: statusCount.retained,
      reactivatedCustomers: statusCount.reactivated,
      orders,
      netRevenueMinor: revenue,
      revenuePerCustomerMinor: customers === 0 ? null : revenue / customers,
      ordersPerCustomer: customers === 0 ? null : orders / customers,
      aovMinor: orders === 0 ? null : revenue / orders,
    },
    cells,
    statusCount,
    revenueByCustomer,
  };
}

/**
 * Factor values of both periods over the union of cells and categories, each missing value filled
 * from the other period (its weight is zero where it is missing, so the endpoints are unchanged).
 */
interface Factors {
  u: Record<'new' | 'returning', number>;
  v: Record<Status, number>;
  q: Map<string, number>; // cell key → channel share within status
  f: Map<string, number>; // cell key → orders per customer
  m: Map<string, Map<string, number>>; // cell → category → order share
  a: Map<string, Map<string, number>>; // cell → category → AOV
}

function rawFactors(p: PeriodStats): {
  u: Record<'new' | 'returning', number>;
  v: Partial<Record<Status, number>>;
  q: Map<string, number>;
  f: Map<string, number>;
  m: Map<string, Map<string, number>>;
  a: Map<string, Map<string, number>>;
} {
  const n = p.figures.customers;
  const returning = p.statusCount.retained + p.statusCount.reactivated;
  const v: Partial<Record<Status, number>> = { new: 1 };
  if (returning > 0) {
    v.retained = p.statusCount.retained / returning;
    v.reactivated = p.statusCount.reactivated / returning;
  }
  const q = new Map<string, number>();
  const f = new Map<string, number>();
  const m = new Map<string, Map<string, number>>();
  const a = new Map<string, Map<string, number>>();
  for (const [key, cell] of p.cells) {
    const status = key.slice(0, key.indexOf('\u0000')) as Status;
    q.set(key, cell.customers / p.statusCount[status]);
    f.set(key, cell.orders / cell.customers);
    const mm = new Map<string, number>();
    const aa = new Map<string, number>();
    for (const [cat, c] of cell.byCategory) {
      mm.set(cat, c.orders / cell.orders);
      aa.set(cat, c.revenue / c.orders);
    }
    m.set(key, mm);
    a.set(key, aa);
  }
  return { u: { new: p.statusCount.new / n, returning: returning / n }, v, q, f, m, a };
}

function completeFactors(
  self: ReturnType<typeof rawFactors>,
  other: ReturnType<typeof rawFactors>,
  cellKeys: readonly string[],
): Factors {
  const v = {} as Record<Status, number>;
  for (const s of STATUSES) v[s] = self.v[s] ?? other.v[s] ?? (s === 'reactivated' ? 0 : 1);
  const q = new Map<string, number>();
  const f = new Map<string, number>();
  const m = new Map<string, Map<string, number>>();
  const a = new Map<string, Map<string, number>>();
  // q: within a status, if the status has customers in this period, absent cells have share 0;
  // otherwise the whole distribution is taken from the other period.
  const statusPresent = new Set<Status>();
  for (const key of self.q.keys()) statusPresent.add(key.slice(0, key.indexOf('\u0000')) as Status);
  for (const key of cellKeys) {
    const status = key.slice(0, key.indexOf('\u0000')) as Status;
    q.set(key, statusPresent.has(status) ? (self.q.get(key) ?? 0) : (other.q.get(key) ?? 0));
    f.set(key, self.f.get(key) ?? other.f.get(key)!);
    const sm = self.m.get(key);
    const om = other.m.get(key);
    const sa = self.a.get(key);
    const oa = other.a.get(key);
    const cats = new Set<string>([...(sm?.keys() ?? []), ...(om?.keys() ?? [])]);
    const mm = new Map<string, number>();
    const aa = new Map<string, number>();
    for (const c of cats) {
      mm.set(c, sm ? (sm.get(c) ?? 0) : om!.get(c)!);
      aa.set(c, sa?.get(c) ?? oa!.get(c)!);
    }
    m.set(key, mm);
    a.set(key, aa);
  }
  return { u: self.u, v, q, f, m, a };
}

/** Revenue per customer with each effect's factor taken from `cur` when its bit is set, else `base`. */
function evaluate(base: Factors, cur: Factors, mask: number, cellKeys: readonly string[]): number {
  const pick = <K extends keyof Factors>(bit: number, k: K): Factors[K] =>
    mask & (1 << bit) ? cur[k] : base[k];
  const u = pick(0, 'u');
  const v = pick(1, 'v');
  const q = pick(2, 'q');
  const f = pick(3, 'f');
  const m = pick(4, 'm');
  const a = pick(5, 'a');
  let total = 0;
  for (const key of cellKeys) {
    const status = key.slice(0, key.indexOf('\u0000')) as Status;
    const weight = (status === 'new' ? u.new : u.returning) * v[status] * q.get(key)!;
    if (weight === 0) continue;
    const mm = m.get(key)!;
    const aa = a.get(key)!;
    let valuePerOrder = 0;
    for (const [c, share] of mm) valuePerOrder += share * aa.get(c)!;
    total += weight * f.get(key)! * valuePerOrder;
  }
  return total;
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/** Shapley values of the six effects (exact attribution: they sum to v(all) − v(none)). */
function shapley(base: Factors, cur: Factors, cellKeys: readonly string[]): number[] {
  const n = EFFECTS.length;
  const values = new Array<number>(1 << n);
  for (let mask = 0; mask < 1 << n; mask++) values[mask] = evaluate(base, cur, mask, cellKeys);
  const fact = [1, 1, 2, 6, 24, 120, 720];
  const phi = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let mask = 0; mask < 1 << n; mask++) {
      if (mask & (1 << i)) continue;
      const s = popcount(mask);
      const w = (fact[s]! * fact[n - s - 1]!) / fact[n]!;
      phi[i]! += w * (values[mask | (1 << i)]! - values[mask]!);
    }
  }
  return phi;
}

function driverTables(
  base: PeriodStats,
  cur: PeriodStats,
  attrs: Record<DriverDimension, [(id: string) => string, (id: string) => string]>,
  exact: number,
  rounded: number,
  top: number,
): DriverTable[] {
  return DRIVER_DIMENSIONS.map((dimension) => {
    const [segBase, segCur] = attrs[dimension];
    const acc = new Map<string, { b: number; c: number; revB: number; revC: number }>();
    const get = (g: string) => {
      let x = acc.get(g);
      if (!x) acc.set(g, (x = { b: 0, c: 0, revB: 0, revC: 0 }));
      return x;
    };
    for (const [id, rev] of base.revenueByCustomer) {
      const x = get(segBase(id));
      x.b++;
      x.revB += rev;
    }
    for (const [id, rev] of cur.revenueByCustomer) {
      const x = get(segCur(id));
      x.c++;
      x.revC += rev;
    }
    const nB = base.figures.customers;
    const nC = cur.figures.customers;
    const entries = [...acc.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const contributions = entries.map(([, x]) => x.revC / nC - x.revB / nB);
    const roundedParts = apportion(contributions, rounded);
    const rows: DriverRow[] = entries.map(([segment, x], i) => ({
      segment,
      baseCustomers: x.b,
      currentCustomers: x.c,
      baseRevenuePerCustomerMinor: x.b === 0 ? null : x.revB / x.b,
      currentRevenuePerCustomerMinor: x.c === 0 ? null : x.revC / x.c,
      contributionMinor: contributions[i]!,
      contributionRoundedMinor: roundedParts[i]!,
      shareOfChange: exact === 0 ? null : contributions[i]! / exact,
    }));
    rows.sort(
      (a, b) =>
        Math.abs(b.contributionMinor) - Math.abs(a.contributionMinor) || (a.segment < b.segment ? -1 : 1),
    );
    return { dimension, definition: 'diagnose.drivers', rows: rows.slice(0, top), segments: rows.length };
  });
}

/**
 * Why net revenue per customer changed between two periods (docs/metrics.md#diagnose): an exact
 * Shapley decomposition into new-vs-returning mix, retention, channel mix, orders per customer,
 * category mix and AOV, and the segments that drove the change.
 */
export function decomposeRevenuePerCustomer(input: DecompositionInput): DecompositionReport {
  assertRange(input.base, 'base');
  assertRange(input.current, 'current');
  const top = input.top ?? 5;
  if (!Number.isInteger(top) || top < 1)
    throw invalid('expected top to be a positive integer', { field: 'top' });
  for (const [name, r] of [
    ['base', input.base],
    ['current', input.current],
  ] as const) {
    if (r.to.getTime() > input.asOf.getTime()) {
      throw invalid(`expected ${name}.to at or before asOf (${input.asOf.toISOString()})`, {
        field: `${name}.to`,
      });
    }
  }
  const orders = ordersAsOf(input.orders, input.asOf);
  const byCustomer = ordersByCustomer(orders);
  const profiles = profileIndex(input.profiles);
  const base = periodStats(byCustomer, input.base, profiles);
  const cur = periodStats(byCustomer, input.current, profiles);
  const empty: DecompositionReport = {
    definition: 'diagnose',
    asOf: input.asOf,
    base: base.figures,
    current: cur.figures,
    change: null,
    parts: [],
    drivers: [],
    note: null,
  };
  if (base.figures.customers === 0 || cur.figures.customers === 0) {
    return {
      ...empty,
      note: `no customers ordered in the ${base.figures.customers === 0 ? 'base' : 'current'} period`,
    };
  }

  const cellKeys = [...new Set<string>([...base.cells.keys(), ...cur.cells.keys()])].sort();
  const rb = rawFactors(base);
  const rc = rawFactors(cur);
  const fb = completeFactors(rb, rc, cellKeys);
  const fc = completeFactors(rc, rb, cellKeys);
  const phi = shapley(fb, fc, cellKeys);
  const rpcBase = base.figures.revenuePerCustomerMinor!;
  const rpcCur = cur.figures.revenuePerCustomerMinor!;
  const exact = rpcCur - rpcBase;
  const rounded = roundHalfAway(rpcCur) - roundHalfAway(rpcBase);
  const roundedParts = apportion(phi, rounded);
  const parts: EffectPart[] = EFFECTS.map((effect, i) => ({
    effect,
    definition: `diagnose.effect.${effect}`,
    exactMinor: phi[i]!,
    roundedMinor: roundedParts[i]!,
  }));

  // Customer attributes for the drivers. RFM segment: as of the start of each period.
  const firstCategory = (id: string) => byCustomer.get(id)?.[0]?.category ?? UNKNOWN;
  const channel = (id: string) => profiles.get(id)?.channel ?? UNKNOWN;
  const country = (id: string) => profiles.get(id)?.country ?? UNKNOWN;
  const rfmAt = (at: Date) => {
    const m = new Map<string, string>();
    for (const c of rfmFromGroups(byCustomer, at)) m.set(c.customerId, c.segment);
    return (id: string) => m.get(id) ?? '(new customer)';
  };
  const drivers = driverTables(
    base,
    cur,
    {
      channel: [channel, channel],
      firstCategory: [firstCategory, firstCategory],
      country: [country, country],
      rfmSegment: [rfmAt(input.base.from), rfmAt(input.current.from)],
    },
    exact,
    rounded,
    top,
  );
  return {
    ...empty,
    change: { exactMinor: exact, roundedMinor: rounded, relative: rpcBase === 0 ? null : exact / rpcBase },
    parts,
    drivers,
  };
}
