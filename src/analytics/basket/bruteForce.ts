/**
 * Reference enumerators for tests: every subset of a small item universe is counted directly against
 * every basket. Exponential in the number of items — for correctness checks on tiny data only.
 */

import { mulberry32 } from '../../shared/random.js';

/** Random baskets over items 0..items-1, each item present with its own probability. */
export function randomBaskets(seed: number, baskets: number, items: number): number[][] {
  const rnd = mulberry32(seed);
  const p = Array.from({ length: items }, () => 0.05 + rnd() * 0.45);
  const out: number[][] = [];
  for (let t = 0; t < baskets; t++) {
    const basket: number[] = [];
    for (let i = 0; i < items; i++) if (rnd() < p[i]!) basket.push(i);
    if (basket.length > 0) out.push(basket);
  }
  return out;
}

/** Canonical key of an itemset of integer items. */
export function itemsetKey(items: Iterable<number>): string {
  return [...items].sort((a, b) => a - b).join(',');
}

/** All itemsets with support count ≥ threshold (items ≤ 20), keyed by {@link itemsetKey}. */
export function bruteForceItemsets(
  baskets: number[][],
  threshold: number,
  maxSize = Infinity,
): Map<string, number> {
  const universe = [...new Set(baskets.flat())].sort((a, b) => a - b);
  if (universe.length > 20) throw new Error('brute force is for tiny universes');
  const pos = new Map(universe.map((item, i) => [item, i]));
  const masks = baskets.map((b) => b.reduce((m, item) => m | (1 << pos.get(item)!), 0));
  const out = new Map<string, number>();
  for (let subset = 1; subset < 1 << universe.length; subset++) {
    const items = universe.filter((_, i) => subset & (1 << i));
    if (items.length > maxSize) continue;
    let support = 0;
    for (const m of masks) if ((m & subset) === subset) support++;
    if (support >= threshold) out.set(itemsetKey(items), support);
  }
  return out;
}

/** A rule found by brute force, keyed `A=>C`. */
export interface BruteRule {
  support: number;
  confidence: number;
}

/** All rules A → C (A, C non-empty, disjoint, A ∪ C frequent) with confidence ≥ minConfidence. */
export function bruteForceRules(
  itemsets: Map<string, number>,
  minConfidence: number,
  maxConsequent = Infinity,
): Map<string, BruteRule> {
  const out = new Map<string, BruteRule>();
  for (const [key, support] of itemsets) {
    const items = key.split(',').map(Number);
    if (items.length < 2) continue;
    for (let mask = 1; mask < (1 << items.length) - 1; mask++) {
      const consequent = items.filter((_, i) => mask & (1 << i));
      const antecedent = items.filter((_, i) => !(mask & (1 << i)));
      if (consequent.length > maxConsequent) continue;
      const confidence = support / itemsets.get(itemsetKey(antecedent))!;
      if (confidence >= minConfidence) {
        out.set(`${itemsetKey(antecedent)}=>${itemsetKey(consequent)}`, { support, confidence });
      }
    }
  }
  return out;
}
