/**
 * How many points an order earns, which tier a member's rolling year puts them in, and whether today
 * is in a birthday window — the programme's rules as pure functions (issue 24).
 */

import { civilFromDays, DAY_MS } from '../../shared/time.js';

export type Rounding = 'floor' | 'round' | 'ceil';

export interface EarnLine {
  sku: string | null;
  category: string | null;
  /** The line's total (quantity × unit price), minor units. */
  totalMinor: number;
}

export interface EarnRules {
  /** `per-unit`: `points` for every `perMinor` minor units; `cashback`: `percent` of the value back as points. */
  rate: { type: 'per-unit'; points: number; perMinor: number } | { type: 'cashback'; percent: number };
  /** One point's value when spent: `minor` minor units per `points` points. */
  pointValue: { points: number; minor: number };
  rounding: Rounding;
  /** Line multipliers; the first rule that matches a line (by SKU, then by category) applies. */
  multipliers: readonly { sku?: string | undefined; category?: string | undefined; multiplier: number }[];
}

export interface EarnBreakdown {
  /** Merchandise value that earns: Σ lines − the order discount (shipping and tax never earn). */
  baseMinor: number;
  /** Points before rounding (base × rate × line multipliers × tier multiplier). */
  exact: number;
  points: number;
}

const roundWith = (x: number, r: Rounding) => {
  // Float noise (e.g. 12.000000000000002) must not cost or gain a point.
  const snapped = Math.abs(x - Math.round(x)) < 1e-9 ? Math.round(x) : x;
  return r === 'floor' ? Math.floor(snapped) : r === 'ceil' ? Math.ceil(snapped) : Math.round(snapped);
};

/** Points per minor unit of value under `rules.rate`. */
export function pointsPerMinor(rules: Pick<EarnRules, 'rate' | 'pointValue'>): number {
  return rules.rate.type === 'per-unit'
    ? rules.rate.points / rules.rate.perMinor
    : ((rules.rate.percent / 100) * rules.pointValue.points) / rules.pointValue.minor;
}

/**
 * The points of one order: the order discount is shared over the lines in proportion to their totals,
 * each line's share × its multiplier, the sum × the tier multiplier × the rate, rounded once per order
 * as the programme states. Negative lines (returns inside an order) reduce the base; a base ≤ 0 earns 0.
 */
export function orderPoints(
  rules: EarnRules,
  lines: readonly EarnLine[],
  discountMinor: number,
  tierMultiplier = 1,
): EarnBreakdown {
  const gross = lines.reduce((s, l) => s + l.totalMinor, 0);
  const base = Math.max(0, gross - Math.max(0, discountMinor));
  if (base <= 0 || gross <= 0) return { baseMinor: 0, exact: 0, points: 0 };
  const share = base / gross;
  let weighted = 0;
  for (const l of lines) weighted += l.totalMinor * share * lineMultiplier(rules, l);
  const exact = Math.max(0, weighted * tierMultiplier * pointsPerMinor(rules));
  return { baseMinor: base, exact, points: roundWith(exact, rules.rounding) };
}

function lineMultiplier(rules: EarnRules, l: EarnLine): number {
  const bySku = rules.multipliers.find((m) => m.sku !== undefined && m.sku === l.sku);
  if (bySku) return bySku.multiplier;
  const byCategory = rules.multipliers.find((m) => m.category !== undefined && m.category === l.category);
  return byCategory ? byCategory.multiplier : 1;
}

/**
 * Of `points` earned on an order of `baseMinor`, how many a cumulative refund of `refundedMinor` takes
 * back: proportional, rounded half up, never more than the points — computed on the running total so
 * that partial refunds add up to exactly the points of a full one.
 */
export function clawbackTarget(
  points: number,
  baseMinor: number,
  totalMinor: number,
  refundedMinor: number,
): number {
  if (points <= 0 || refundedMinor <= 0) return 0;
  // Refunds are of the order's total (with shipping and tax); the share refunded is of the total.
  const whole = totalMinor > 0 ? totalMinor : baseMinor;
  if (whole <= 0 || refundedMinor >= whole) return points;
  return Math.min(points, Math.floor((points * refundedMinor) / whole + 0.5));
}

export interface TierRule {
  name: string;
  /** Minimum rolling value (minor units of spend, or points earned) to hold the tier. */
  threshold: number;
}

/** The highest tier whose threshold `value` reaches (tiers in any order); null below the lowest. */
export function tierFor<T extends TierRule>(tiers: readonly T[], value: number): T | null {
  let best: T | null = null;
  for (const t of tiers) if (value >= t.threshold && (!best || t.threshold > best.threshold)) best = t;
  return best;
}

/** The rank of a tier (index in ascending thresholds), -1 for none. */
export function tierRank(tiers: readonly TierRule[], name: string | null): number {
  if (name === null) return -1;
  return [...tiers].sort((a, b) => a.threshold - b.threshold).findIndex((t) => t.name === name);
}

const daysOfCivil = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / DAY_MS;
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * The year of the birthday whose window `[birthday − before, birthday + after]` contains the local day
 * `localDay` (days since 1970-01-01 in the customer's zone), or null. A 29 February birthday falls on
 * 28 February in other years. The year names the occurrence, so a window that crosses New Year grants
 * once (keyed by the birthday's year).
 */
export function birthdayOccurrence(
  birthday: { month: number; day: number },
  localDay: number,
  before: number,
  after: number,
): number | null {
  const [y] = civilFromDays(localDay);
  for (const year of [y - 1, y, y + 1]) {
    const day = birthday.month === 2 && birthday.day === 29 && !isLeap(year) ? 28 : birthday.day;
    const occ = daysOfCivil(year, birthday.month, day);
    if (localDay >= occ - before && localDay <= occ + after) return year;
  }
  return null;
}
