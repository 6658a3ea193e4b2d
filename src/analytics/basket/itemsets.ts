import { invalid } from '../../shared/errors.js';
import { OccurrenceMiner, sortAscending, type ItemsetSink } from './lcm.js';
import { grow, type TransactionDb } from './transactionDb.js';

export type { ItemsetSink } from './lcm.js';
export {
  itemSupports,
  TransactionDbBuilder,
  transactionDbFrom,
  type ItemKey,
  type TransactionDb,
} from './transactionDb.js';

/**
 * Exact frequent-itemset mining over typed arrays: the transaction database is two Int32Arrays (CSR,
 * transactionDb.ts); the miner (lcm.ts: depth-first search over occurrence lists, after LCM, Uno et
 * al. 2004) keeps its lists on one Int32Array stack, so memory is bounded by the current recursion
 * path, never by the number of itemsets found. Itemsets are streamed to a callback (or only counted), so support levels
 * producing hundreds of millions of itemsets still run in constant memory.
 */

/**
 * Absolute support threshold: the smallest count k with k ≥ minSupport × transactions (inclusive),
 * at least 1. A relative tolerance absorbs binary-fraction noise (0.07 × 100 = 7.000000000000001 → 7).
 */
export function supportThreshold(minSupport: number, transactions: number): number {
  const exact = minSupport * transactions;
  const rounded = Math.round(exact);
  const k = Math.abs(exact - rounded) <= 1e-9 * Math.max(1, exact) ? rounded : Math.ceil(exact);
  return Math.max(1, k);
}

/** Validates a minimum support fraction: 0 < minSupport ≤ 1. */
export function checkMinSupport(minSupport: number, field = 'minSupport'): void {
  if (!(Number.isFinite(minSupport) && minSupport > 0 && minSupport <= 1)) {
    throw invalid(`minimum support must be a fraction in (0, 1], got ${minSupport}`, { field });
  }
}

export interface MineOptions {
  /** Minimum support as a fraction of transactions, 0 < minSupport ≤ 1. */
  minSupport: number;
  /** Largest itemset size to report (default: unbounded). */
  maxSize?: number;
  /** Called for every frequent itemset; omit to only count (fastest, constant memory). */
  onItemset?: ItemsetSink;
}

export interface MineSummary {
  transactions: number;
  /** Distinct items in the database. */
  items: number;
  frequentItems: number;
  /** Absolute support count threshold used (inclusive). */
  threshold: number;
  itemsets: number;
  /** bySize[k] = number of frequent itemsets with k items (index 0 unused). */
  bySize: number[];
}

/** Mines all frequent itemsets of `db` (LCM-style occurrence deliver, see lcm.ts). */
export function mineFrequentItemsets(db: TransactionDb, options: MineOptions): MineSummary {
  checkMinSupport(options.minSupport);
  const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
  if (!(maxSize === Number.POSITIVE_INFINITY || (Number.isInteger(maxSize) && maxSize >= 1))) {
    throw invalid(`maximum itemset size must be an integer ≥ 1, got ${options.maxSize}`, {
      field: 'maxSize',
    });
  }
  const threshold = supportThreshold(options.minSupport, db.transactionCount);
  const miner = new OccurrenceMiner(db, threshold, maxSize, options.onItemset);
  miner.run();
  const bySize: number[] = [];
  for (let k = 0; k < miner.bySize.length; k++) bySize.push(miner.bySize[k]!);
  while (bySize.length > 1 && bySize[bySize.length - 1] === 0) bySize.pop();
  let itemsets = 0;
  for (const n of bySize) itemsets += n;
  return {
    transactions: db.transactionCount,
    items: db.keys.length,
    frequentItems: miner.frequentItems,
    threshold,
    itemsets,
    bySize,
  };
}

/**
 * All mined itemsets held in memory for lookups (rules need the support of every antecedent; closed
 * and maximal filtering needs every immediate subset). Items of each itemset are stored sorted by
 * code in one flat Int32Array, found again through an open-addressing hash table.
 */
export class ItemsetStore {
  private items = new Int32Array(1 << 16);
  private itemLength = 0;
  private starts = new Int32Array(1 << 12);
  private supports = new Int32Array(1 << 12);
  private table = new Int32Array(1 << 13).fill(-1);
  private count = 0;
  private scratch = new Int32Array(64);

  /** Number of stored itemsets. */
  get size(): number {
    return this.count;
  }

  /** A sink for {@link mineFrequentItemsets} that stores every itemset. */
  readonly sink: ItemsetSink = (codes, length, support) => {
    this.add(codes, length, support);
  };

  /** Stores an itemset (items in any order); returns its index. */
  add(codes: ArrayLike<number>, length: number, support: number): number {
    const index = this.count;
    if (this.itemLength + length > this.items.length) this.items = grow(this.items, this.itemLength + length);
    const start = this.itemLength;
    for (let j = 0; j < length; j++) this.items[start + j] = codes[j]!;
    sortAscending(this.items, start, start + length);
    this.itemLength += length;
    if (index + 2 > this.starts.length) {
      this.starts = grow(this.starts, index + 2);
      this.supports = grow(this.supports, index + 2);
    }
    this.starts[index] = start;
    this.starts[index + 1] = this.itemLength;
    this.supports[index] = support;
    this.count++;
    if (this.count * 2 > this.table.length) this.rehash();
    else this.place(index);
    return index;
  }

  /** Items of itemset `index`, sorted by code (a view: do not keep across {@link add}). */
  itemsAt(index: number): Int32Array {
    return this.items.subarray(this.starts[index]!, this.starts[index + 1]!);
  }

  supportAt(index: number): number {
    return this.supports[index]!;
  }

  sizeAt(index: number): number {
    return this.starts[index + 1]! - this.starts[index]!;
  }

  /** Index of the itemset with exactly these items (sorted ascending), or -1. */
  indexOf(sorted: ArrayLike<number>, length: number): number {
    const mask = this.table.length - 1;
    let h = hashInts(sorted, 0, length) & mask;
    for (;;) {
      const idx = this.table[h]!;
      if (idx === -1) return -1;
      if (this.equals(idx, sorted, length)) return idx;
      h = (h + 1) & mask;
    }
  }

  /** Support count of an itemset given in any order, or -1 when it is not stored. */
  supportOf(codes: ArrayLike<number>, length = codes.length): number {
    if (length > this.scratch.length) this.scratch = new Int32Array(length * 2);
    for (let j = 0; j < length; j++) this.scratch[j] = codes[j]!;
    sortAscending(this.scratch, 0, length);
    const idx = this.indexOf(this.scratch, length);
    return idx < 0 ? -1 : this.supports[idx]!;
  }

  private equals(idx: number, sorted: ArrayLike<number>, length: number): boolean {
    const start = this.starts[idx]!;
    if (this.starts[idx + 1]! - start !== length) return false;
    for (let j = 0; j < length; j++) if (this.items[start + j] !== sorted[j]) return false;
    return true;
  }

  private place(idx: number): void {
    const mask = this.table.length - 1;
    const start = this.starts[idx]!;
    let h = hashInts(this.items, start, this.starts[idx + 1]! - start) & mask;
    while (this.table[h] !== -1) h = (h + 1) & mask;
    this.table[h] = idx;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    for (let idx = 0; idx < this.count; idx++) this.place(idx);
  }
}

function hashInts(a: ArrayLike<number>, start: number, length: number): number {
  let h = 0x811c9dc5 ^ length;
  for (let j = 0; j < length; j++) {
    h = Math.imul(h ^ a[start + j]!, 0x01000193);
    h ^= h >>> 15;
  }
  return Math.imul(h ^ (h >>> 13), 0x5bd1e995) ^ (h >>> 16);
}

/**
 * Flags closed (no proper superset with the same support) and maximal (no frequent proper superset)
 * itemsets. Exact because both properties are decided by immediate supersets alone: if X ⊂ Z with
 * supp(Z) = supp(X), then supp(X ∪ {a}) = supp(X) for any a ∈ Z \ X (anti-monotonicity). With a
 * `maxSize` limit, "superset" means among the stored itemsets of at most that size.
 */
export function closedAndMaximal(store: ItemsetStore): { closed: Uint8Array; maximal: Uint8Array } {
  const n = store.size;
  const closed = new Uint8Array(n).fill(1);
  const maximal = new Uint8Array(n).fill(1);
  let sub = new Int32Array(16);
  for (let idx = 0; idx < n; idx++) {
    const size = store.sizeAt(idx);
    if (size < 2) continue;
    const items = store.itemsAt(idx);
    const support = store.supportAt(idx);
    if (size > sub.length) sub = new Int32Array(size * 2);
    for (let drop = 0; drop < size; drop++) {
      let k = 0;
      for (let j = 0; j < size; j++) if (j !== drop) sub[k++] = items[j]!;
      const parent = store.indexOf(sub, size - 1);
      if (parent < 0) continue; // cannot happen for a complete mining result (downward closure)
      maximal[parent] = 0;
      if (store.supportAt(parent) === support) closed[parent] = 0;
    }
  }
  return { closed, maximal };
}

/** Which itemsets to report: all frequent, closed only, or maximal only. */
export type ItemsetVariant = 'all' | 'closed' | 'maximal';

/**
 * Mines frequent itemsets and reports the chosen variant. `all` streams in constant memory; `closed`
 * and `maximal` hold every frequent itemset in an {@link ItemsetStore} before filtering.
 */
export function mineItemsets(
  db: TransactionDb,
  options: MineOptions & { variant?: ItemsetVariant },
): MineSummary & { variant: ItemsetVariant } {
  const variant = options.variant ?? 'all';
  if (variant === 'all') return { ...mineFrequentItemsets(db, options), variant };
  const store = new ItemsetStore();
  const base = mineFrequentItemsets(db, {
    minSupport: options.minSupport,
    maxSize: options.maxSize,
    onItemset: store.sink,
  });
  const flags = closedAndMaximal(store);
  const keep = variant === 'closed' ? flags.closed : flags.maximal;
  const bySize: number[] = [0];
  let itemsets = 0;
  for (let idx = 0; idx < store.size; idx++) {
    if (!keep[idx]) continue;
    const size = store.sizeAt(idx);
    while (bySize.length <= size) bySize.push(0);
    bySize[size] = bySize[size]! + 1;
    itemsets++;
    if (options.onItemset) options.onItemset(store.itemsAt(idx), size, store.supportAt(idx));
  }
  return { ...base, itemsets, bySize, variant };
}
