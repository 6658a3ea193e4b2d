import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { bruteForceItemsets, bruteForceRules, itemsetKey, randomBaskets } from './bruteForce.js';
import { ItemsetStore, mineFrequentItemsets, supportThreshold, transactionDbFrom } from './itemsets.js';
import { generateRules, ruleMetrics, type Rule } from './rules.js';

function rulesOf(baskets: number[][], minSupport: number, minConfidence: number, maxConsequent: number) {
  const db = transactionDbFrom(baskets);
  const store = new ItemsetStore();
  mineFrequentItemsets(db, { minSupport, onItemset: store.sink });
  const out = new Map<string, Rule>();
  const label = (codes: Int32Array) => itemsetKey(Array.from(codes, (c) => db.keys[c] as number));
  const n = generateRules(store, db.transactionCount, { minConfidence, maxConsequent }, (rule) => {
    const key = `${label(rule.antecedent)}=>${label(rule.consequent)}`;
    expect(out.has(key)).toBe(false);
    out.set(key, rule);
  });
  expect(n).toBe(out.size);
  return out;
}

describe('generateRules', () => {
  // Every rule (and its support/confidence) equals direct enumeration of all antecedent/consequent
  // splits of all brute-force itemsets; fixed seeds.
  for (let seed = 1; seed <= 25; seed++) {
    it(`equals brute force on random data (seed ${seed})`, () => {
      const baskets = randomBaskets(seed * 31, 40 + seed * 5, 6 + (seed % 7));
      for (const minSupport of [0.05, 0.2]) {
        const itemsets = bruteForceItemsets(baskets, supportThreshold(minSupport, baskets.length));
        for (const minConfidence of [0, 0.3, 0.6, 0.9, 1]) {
          for (const maxConsequent of [1, 2, 3, 10]) {
            const expected = bruteForceRules(itemsets, minConfidence, maxConsequent);
            const got = rulesOf(baskets, minSupport, minConfidence, maxConsequent);
            expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
            for (const [key, rule] of got) {
              expect(rule.supportCount).toBe(expected.get(key)!.support);
              expect(rule.confidence).toBe(expected.get(key)!.confidence);
            }
          }
        }
      }
    });
  }

  it('computes lift, leverage and conviction (hand-checked)', () => {
    // 10 baskets: A in 5, C in 4, A∪C in 3 → conf 0.6, lift 1.5, leverage 0.3 − 0.5·0.4 = 0.1,
    // conviction (1 − 0.4)/(1 − 0.6) = 1.5. Tolerance 1e-12: plain double arithmetic.
    const m = ruleMetrics(3, 5, 4, 10);
    expect(m.confidence).toBeCloseTo(0.6, 12);
    expect(m.lift).toBeCloseTo(1.5, 12);
    expect(m.leverage).toBeCloseTo(0.1, 12);
    expect(m.conviction).toBeCloseTo(1.5, 12);
    expect(ruleMetrics(4, 4, 5, 10).conviction).toBeNull();
  });

  it('applies lift and antecedent filters', () => {
    const baskets = randomBaskets(7, 200, 8);
    const db = transactionDbFrom(baskets);
    const store = new ItemsetStore();
    mineFrequentItemsets(db, { minSupport: 0.05, onItemset: store.sink });
    const all: Rule[] = [];
    generateRules(store, db.transactionCount, { minConfidence: 0.1, maxConsequent: 2 }, (r) => all.push(r));
    const lifted: Rule[] = [];
    generateRules(
      store,
      db.transactionCount,
      { minConfidence: 0.1, maxConsequent: 2, minLift: 1.1, maxAntecedent: 2 },
      (r) => lifted.push(r),
    );
    expect(lifted.length).toBe(all.filter((r) => r.lift >= 1.1 && r.antecedent.length <= 2).length);
    expect(lifted.length).toBeGreaterThan(0);
  });

  it('rejects confidence outside [0, 1]', () => {
    const store = new ItemsetStore();
    for (const bad of [-0.1, 1.01, Number.NaN]) {
      expect(() => generateRules(store, 1, { minConfidence: bad }, () => {})).toThrow(AppError);
    }
  });
});
