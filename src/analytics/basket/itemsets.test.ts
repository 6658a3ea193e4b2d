import { describe, expect, it } from 'vitest';
import { bruteForceItemsets, itemsetKey, randomBaskets } from './bruteForce.js';
import {
  ItemsetStore,
  mineFrequentItemsets,
  mineItemsets,
  supportThreshold,
  transactionDbFrom,
  type TransactionDb,
} from './itemsets.js';
import { AppError } from '../../shared/errors.js';

function mined(
  db: TransactionDb,
  minSupport: number,
  maxSize?: number,
  variant?: 'all' | 'closed' | 'maximal',
) {
  const found = new Map<string, number>();
  const summary = mineItemsets(db, {
    minSupport,
    maxSize,
    variant,
    onItemset: (codes, length, support) => {
      const key = itemsetKey(Array.from(codes.subarray(0, length), (c) => db.keys[c] as number));
      expect(found.has(key), `itemset ${key} reported twice`).toBe(false);
      found.set(key, support);
    },
  });
  return { found, summary };
}

describe('supportThreshold', () => {
  it('is ceil(minSupport × n), inclusive, robust to binary fractions', () => {
    expect(supportThreshold(0.5, 10)).toBe(5);
    expect(supportThreshold(0.51, 10)).toBe(6);
    expect(supportThreshold(0.07, 100)).toBe(7); // 0.07 * 100 = 7.000000000000001 in binary
    expect(supportThreshold(0.0001, 88162)).toBe(9);
    expect(supportThreshold(1e-9, 10)).toBe(1);
  });
});

describe('mineFrequentItemsets', () => {
  it('finds the textbook example (Han et al. 2000 style)', () => {
    const db = transactionDbFrom([
      [1, 3, 4],
      [2, 3, 5],
      [1, 2, 3, 5],
      [2, 5],
      [1, 2, 3, 5],
    ]);
    const { found, summary } = mined(db, 0.4);
    expect(summary.threshold).toBe(2);
    expect(Object.fromEntries(found)).toEqual({
      '1': 3,
      '2': 4,
      '3': 4,
      '5': 4,
      '1,3': 3,
      '2,3': 3,
      '2,5': 4,
      '3,5': 3,
      '1,2': 2,
      '1,5': 2,
      '1,2,3': 2,
      '1,2,5': 2,
      '1,3,5': 2,
      '2,3,5': 3,
      '1,2,3,5': 2,
    });
    expect(summary.bySize).toEqual([0, 4, 6, 4, 1]);
  });

  // Exact agreement (every itemset and its support) with direct enumeration of all 2^m subsets,
  // across densities, supports and size limits; seeds are fixed so failures reproduce.
  for (let seed = 1; seed <= 40; seed++) {
    it(`equals brute force on random data (seed ${seed})`, () => {
      const items = 6 + (seed % 9);
      const baskets = randomBaskets(seed, 20 + seed * 7, items);
      const db = transactionDbFrom(baskets);
      for (const minSupport of [0.02, 0.1, 0.25, 0.5]) {
        for (const maxSize of [undefined, 1, 2, 3]) {
          const threshold = supportThreshold(minSupport, baskets.length);
          const expected = bruteForceItemsets(baskets, threshold, maxSize);
          const { found, summary } = mined(db, minSupport, maxSize);
          expect(found).toEqual(expected);
          expect(summary.itemsets).toBe(expected.size);
          // Counting without a sink must agree with the reported itemsets.
          const counted = mineFrequentItemsets(db, { minSupport, maxSize });
          expect(counted.itemsets).toBe(expected.size);
          expect(counted.bySize).toEqual(summary.bySize);
        }
      }
    });
  }

  // The first level counts pairs in a triangle when that is smaller than the pair work (dense
  // baskets) and walks each item's baskets otherwise (many items, short baskets): both must agree.
  it('equals brute force with and without the first-level pair triangle', () => {
    const dense = randomBaskets(7, 300, 12);
    const sparse: number[][] = [];
    for (let i = 0; i < 18; i++) for (let r = 0; r < 6; r++) sparse.push([i]);
    for (let r = 0; r < 5; r++) sparse.push([0, 1, 2], [3, 4], [1, 2, 5]);
    for (const baskets of [dense, sparse]) {
      const db = transactionDbFrom(baskets);
      for (const minSupport of [0.01, 0.03, 0.2]) {
        const expected = bruteForceItemsets(baskets, supportThreshold(minSupport, baskets.length));
        expect(mined(db, minSupport).found).toEqual(expected);
      }
    }
  });

  it('computes closed and maximal itemsets like brute force', () => {
    for (let seed = 100; seed < 115; seed++) {
      const baskets = randomBaskets(seed, 80, 10);
      const db = transactionDbFrom(baskets);
      const threshold = supportThreshold(0.1, baskets.length);
      const all = bruteForceItemsets(baskets, threshold);
      const supersets = (key: string) => {
        const items = key.split(',');
        return [...all].filter(([k]) => k !== key && items.every((i) => k.split(',').includes(i)));
      };
      const closed = new Map([...all].filter(([k, s]) => supersets(k).every(([, s2]) => s2 !== s)));
      const maximal = new Map([...all].filter(([k]) => supersets(k).length === 0));
      expect(mined(db, 0.1, undefined, 'closed').found).toEqual(closed);
      expect(mined(db, 0.1, undefined, 'maximal').found).toEqual(maximal);
    }
  });

  it('handles single chains, duplicates in a basket and string keys', () => {
    const db = transactionDbFrom([['a', 'b', 'c', 'a'], ['a', 'b', 'c'], ['a', 'b'], ['a']]);
    const found = new Map<string, number>();
    const summary = mineFrequentItemsets(db, {
      minSupport: 0.25,
      onItemset: (codes, n, s) =>
        found.set(
          Array.from(codes.subarray(0, n), (c) => db.keys[c])
            .sort()
            .join(''),
          s,
        ),
    });
    expect(Object.fromEntries(found)).toEqual({ a: 4, b: 3, c: 2, ab: 3, ac: 2, bc: 2, abc: 2 });
    expect(summary.bySize).toEqual([0, 3, 3, 1]);
    expect(mineFrequentItemsets(db, { minSupport: 0.25 }).bySize).toEqual([0, 3, 3, 1]);
  });

  it('rejects support outside (0, 1] and bad size limits', () => {
    const db = transactionDbFrom([[1, 2]]);
    for (const bad of [0, -0.1, 1.5, Number.NaN]) {
      expect(() => mineFrequentItemsets(db, { minSupport: bad })).toThrow(AppError);
    }
    expect(() => mineFrequentItemsets(db, { minSupport: 0.5, maxSize: 0 })).toThrow(/maximum itemset size/);
    expect(mineFrequentItemsets(db, { minSupport: 1 }).itemsets).toBe(3);
  });
});

describe('ItemsetStore', () => {
  it('finds itemsets in any order and grows', () => {
    const store = new ItemsetStore();
    for (let i = 0; i < 5000; i++) store.add([i, i + 1, i + 2], 3, i);
    expect(store.supportOf([4001, 4000, 4002])).toBe(4000);
    expect(store.supportOf([1, 2])).toBe(-1);
    expect(store.size).toBe(5000);
  });
});
