import { invalid } from '../../shared/errors.js';
import type { ItemsetStore } from './itemsets.js';

/**
 * Association rules A → C from frequent itemsets (Agrawal & Srikant 1994, "Fast algorithms for mining
 * association rules", ap-genrules). Support is that of A ∪ C; confidence = supp(A∪C)/supp(A);
 * lift = confidence / P(C); leverage = P(A∪C) − P(A)·P(C); conviction = (1 − P(C)) / (1 − confidence),
 * infinite (reported as null) when confidence is 1.
 */

export interface RuleOptions {
  /** Minimum confidence, 0 ≤ minConfidence ≤ 1. */
  minConfidence: number;
  /** Largest consequent (default 1, the usual "bought A, offer C"). */
  maxConsequent?: number;
  /** Largest antecedent (default unbounded). */
  maxAntecedent?: number;
  minLift?: number;
  minLeverage?: number;
}

/** One rule; item codes sorted ascending. */
export interface Rule {
  antecedent: Int32Array;
  consequent: Int32Array;
  /** Baskets containing A ∪ C. */
  supportCount: number;
  support: number;
  confidence: number;
  lift: number;
  leverage: number;
  /** Null means +∞ (confidence 1). */
  conviction: number | null;
}

/** Validates a confidence in [0, 1]. */
export function checkConfidence(minConfidence: number, field = 'minConfidence'): void {
  if (!(Number.isFinite(minConfidence) && minConfidence >= 0 && minConfidence <= 1)) {
    throw invalid(`minimum confidence must be in [0, 1], got ${minConfidence}`, { field });
  }
}

/** Computes the rule metrics from support counts. */
export function ruleMetrics(
  supportCount: number,
  antecedentCount: number,
  consequentCount: number,
  transactions: number,
): Pick<Rule, 'support' | 'confidence' | 'lift' | 'leverage' | 'conviction'> {
  const support = supportCount / transactions;
  const confidence = supportCount / antecedentCount;
  const pC = consequentCount / transactions;
  const lift = confidence / pC;
  const leverage = support - (antecedentCount / transactions) * pC;
  const conviction = confidence >= 1 ? null : (1 - pC) / (1 - confidence);
  return { support, confidence, lift, leverage, conviction };
}

/**
 * Generates every rule over the itemsets in `store` (which must hold all frequent itemsets, so every
 * antecedent and consequent support is known). Consequents grow level by level and only from
 * consequents that passed: confidence can only fall as the consequent grows (its antecedent shrinks).
 * Returns the number of rules passed to `onRule`.
 */
export function generateRules(
  store: ItemsetStore,
  transactions: number,
  options: RuleOptions,
  onRule: (rule: Rule) => void,
): number {
  checkConfidence(options.minConfidence);
  const maxConsequent = options.maxConsequent ?? 1;
  if (!(Number.isInteger(maxConsequent) && maxConsequent >= 1)) {
    throw invalid(`maximum consequent size must be an integer ≥ 1, got ${maxConsequent}`, {
      field: 'maxConsequent',
    });
  }
  const maxAntecedent = options.maxAntecedent ?? Number.POSITIVE_INFINITY;
  const minLift = options.minLift ?? Number.NEGATIVE_INFINITY;
  const minLeverage = options.minLeverage ?? Number.NEGATIVE_INFINITY;
  const { minConfidence } = options;
  let count = 0;
  let antecedent = new Int32Array(16);
  let consequent = new Int32Array(16);

  for (let idx = 0; idx < store.size; idx++) {
    const k = store.sizeAt(idx);
    if (k < 2) continue;
    const z = store.itemsAt(idx).slice();
    const zCount = store.supportAt(idx);
    if (k > antecedent.length) {
      antecedent = new Int32Array(2 * k);
      consequent = new Int32Array(2 * k);
    }

    // Tests consequent positions `positions` of z; returns whether its confidence passes.
    const test = (positions: number[]): boolean => {
      let a = 0;
      let c = 0;
      let p = 0;
      for (let j = 0; j < k; j++) {
        if (p < positions.length && positions[p] === j) {
          consequent[c++] = z[j]!;
          p++;
        } else antecedent[a++] = z[j]!;
      }
      const aCount = store.supportOf(antecedent, a);
      const confidence = zCount / aCount;
      if (!(confidence >= minConfidence)) return false;
      if (a > maxAntecedent) return true;
      const cCount = store.supportOf(consequent, c);
      const metrics = ruleMetrics(zCount, aCount, cCount, transactions);
      if (metrics.lift >= minLift && metrics.leverage >= minLeverage) {
        count++;
        onRule({
          antecedent: antecedent.slice(0, a),
          consequent: consequent.slice(0, c),
          supportCount: zCount,
          ...metrics,
        });
      }
      return true;
    };

    let level: number[][] = [];
    for (let j = 0; j < k; j++) if (test([j])) level.push([j]);
    for (let m = 1; m < maxConsequent && m + 1 < k && level.length > 1; m++) {
      const passed = new Set(level.map((h) => h.join(',')));
      const next: number[][] = [];
      // apriori-gen: join consequents sharing their first m−1 positions; keep if every m-subset passed.
      for (let x = 0; x < level.length; x++) {
        for (let y = x + 1; y < level.length; y++) {
          const hx = level[x]!;
          const hy = level[y]!;
          let same = true;
          for (let t = 0; t < m - 1 && same; t++) same = hx[t] === hy[t];
          if (!same) break; // level is in lexicographic order, so later y share even less
          const candidate = [...hx, hy[m - 1]!];
          let ok = true;
          for (let drop = 0; drop < candidate.length - 2 && ok; drop++) {
            ok = passed.has(candidate.filter((_, t) => t !== drop).join(','));
          }
          if (ok && test(candidate)) next.push(candidate);
        }
      }
      level = next;
    }
  }
  return count;
}
