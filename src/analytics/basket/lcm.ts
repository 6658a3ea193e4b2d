import type { ItemsetSink, TransactionDb } from './itemsets.js';

/**
 * All frequent itemsets by depth-first search over occurrence lists with "occurrence deliver"
 * (Uno, Kiyomi & Arimura 2004, "LCM ver. 2: efficient mining algorithms for frequent/closed/maximal
 * itemsets", FIMI'04), over typed arrays.
 *
 * Items are ranked by descending support (rank 0 = most frequent) and each basket keeps only its
 * frequent items, as ascending ranks. An itemset P whose last-added item is e is extended only by
 * items j < e, so every itemset is generated exactly once. For P with occurrence list Occ(P) (the
 * baskets containing P), one pass over the ranks below e in those baskets counts every extension's
 * support; a second pass delivers each basket into the occurrence list of every frequent extension.
 * A basket's ranks below e are a prefix of its sorted ranks, so both passes read memory in order.
 *
 * Occurrence lists live in one growable Int32Array used as a stack: a level's lists are pushed
 * before its recursion and popped after, so memory is bounded by the lists on the current recursion
 * path (at most the database size per level), never by the number of itemsets found.
 */
export class OccurrenceMiner {
  /** bySize[k] = number of frequent itemsets with k items. */
  readonly bySize: Float64Array;
  frequentItems = 0;

  private basketStart = new Int32Array(1);
  private basketRanks = new Int32Array(0);
  private codeOfRank = new Int32Array(0);
  private supportOfRank = new Int32Array(0);
  private pool = new Int32Array(1 << 16);
  private top = 0;
  // Per rank, reset after every use: extension counts, write positions (−1 = not frequent).
  private count = new Int32Array(0);
  private writeAt = new Int32Array(0);
  private touched = new Int32Array(0);
  private readonly prefix: Int32Array;
  private readonly emitting: boolean;

  constructor(
    private readonly db: TransactionDb,
    private readonly threshold: number,
    private readonly maxSize: number,
    private readonly sink: ItemsetSink | undefined,
  ) {
    this.emitting = sink !== undefined;
    // No itemset is longer than the longest basket.
    let longest = 0;
    for (let t = 0; t < db.transactionCount; t++)
      longest = Math.max(longest, db.offsets[t + 1]! - db.offsets[t]!);
    this.prefix = new Int32Array(longest + 1);
    this.bySize = new Float64Array(longest + 2);
  }

  run(): void {
    const K = this.rankItems();
    if (K === 0) return;
    this.bySize[1] = K;
    if (this.emitting)
      for (let r = 0; r < K; r++) {
        this.prefix[0] = this.codeOfRank[r]!;
        this.sink!(this.prefix, 1, this.supportOfRank[r]!);
      }
    if (this.maxSize < 2 || K < 2) return;
    const occStart = this.projectBaskets(K);
    for (let r = 1; r < K; r++) {
      this.prefix[0] = this.codeOfRank[r]!;
      this.extend(occStart[r]!, occStart[r + 1]!, r, 1);
    }
  }

  /** Ranks the frequent items (most frequent first, ties by code); returns how many there are. */
  private rankItems(): number {
    const { keys, items } = this.db;
    const supports = new Int32Array(keys.length);
    for (let j = 0; j < items.length; j++) supports[items[j]!] = supports[items[j]!]! + 1;
    const frequent: number[] = [];
    for (let c = 0; c < supports.length; c++) if (supports[c]! >= this.threshold) frequent.push(c);
    frequent.sort((a, b) => supports[b]! - supports[a]! || a - b);
    const K = frequent.length;
    this.frequentItems = K;
    this.codeOfRank = Int32Array.from(frequent);
    this.supportOfRank = Int32Array.from(frequent, (c) => supports[c]!);
    this.count = new Int32Array(K);
    this.writeAt = new Int32Array(K).fill(-1);
    this.touched = new Int32Array(K);
    return K;
  }

  /**
   * Rewrites every basket as its frequent items' ascending ranks (baskets left empty are dropped)
   * and pushes each item's occurrence list onto the pool; returns the lists' bounds by rank.
   */
  private projectBaskets(K: number): Int32Array {
    const { offsets, items, transactionCount } = this.db;
    const rankOf = new Int32Array(this.db.keys.length).fill(-1);
    for (let r = 0; r < K; r++) rankOf[this.codeOfRank[r]!] = r;
    const start = new Int32Array(transactionCount + 1);
    const ranks = new Int32Array(items.length);
    let baskets = 0;
    let used = 0;
    for (let t = 0; t < transactionCount; t++) {
      const from = used;
      const end = offsets[t + 1]!;
      for (let j = offsets[t]!; j < end; j++) {
        const r = rankOf[items[j]!]!;
        if (r >= 0) ranks[used++] = r;
      }
      if (used === from) continue;
      sortAscending(ranks, from, used);
      baskets++;
      start[baskets] = used;
    }
    this.basketStart = start.subarray(0, baskets + 1);
    this.basketRanks = ranks.subarray(0, used);

    const occStart = new Int32Array(K + 1);
    for (let r = 0; r < K; r++) occStart[r + 1] = occStart[r]! + this.supportOfRank[r]!;
    const base = this.alloc(occStart[K]!);
    const pool = this.pool;
    const fill = new Int32Array(K);
    for (let r = 0; r < K; r++) fill[r] = base + occStart[r]!;
    for (let b = 0; b < baskets; b++) {
      const end = start[b + 1]!;
      for (let k = start[b]!; k < end; k++) {
        const r = ranks[k]!;
        pool[fill[r]!] = b;
        fill[r] = fill[r]! + 1;
      }
    }
    for (let r = 0; r <= K; r++) occStart[r] = occStart[r]! + base;
    return occStart;
  }

  /**
   * Extends the itemset prefix[0 .. size) (last-added rank e, occurrence list pool[from .. to)) by
   * every rank j < e that is frequent among those baskets, reporting and recursing into each.
   */
  private extend(from: number, to: number, e: number, size: number): void {
    const basketStart = this.basketStart;
    const ranks = this.basketRanks;
    const count = this.count;
    const touched = this.touched;
    const threshold = this.threshold;
    let pool = this.pool;

    // Pass 1: support of every extension.
    let nTouched = 0;
    for (let q = from; q < to; q++) {
      const b = pool[q]!;
      const end = basketStart[b + 1]!;
      for (let k = basketStart[b]!; k < end; k++) {
        const j = ranks[k]!;
        if (j >= e) break;
        const c = count[j]!;
        if (c === 0) touched[nTouched++] = j;
        count[j] = c + 1;
      }
    }
    let nFreq = 0;
    let delivered = 0;
    for (let a = 0; a < nTouched; a++) {
      const j = touched[a]!;
      const c = count[j]!;
      if (c >= threshold) {
        touched[nFreq++] = j;
        delivered += c;
      } else count[j] = 0;
    }
    if (nFreq === 0) return;
    const sizeNext = size + 1;
    this.bySize[sizeNext] = this.bySize[sizeNext]! + nFreq;

    if (sizeNext >= this.maxSize || (nFreq === 1 && touched[0] === 0)) {
      // No further level (or the only extension is rank 0, which has no smaller rank to add).
      for (let a = 0; a < nFreq; a++) {
        const j = touched[a]!;
        if (this.emitting) {
          this.prefix[size] = this.codeOfRank[j]!;
          this.sink!(this.prefix, sizeNext, count[j]!);
        }
        count[j] = 0;
      }
      return;
    }

    // Frame on the pool: [extension ranks (nFreq)] [list bounds (nFreq + 1)] [the lists].
    const frame = this.alloc(2 * nFreq + 1 + delivered);
    pool = this.pool;
    const boundsAt = frame + nFreq;
    let at = boundsAt + nFreq + 1;
    for (let a = 0; a < nFreq; a++) {
      const j = touched[a]!;
      pool[frame + a] = j;
      pool[boundsAt + a] = at;
      this.writeAt[j] = at;
      at += count[j]!;
      count[j] = 0;
    }
    pool[boundsAt + nFreq] = at;

    // Pass 2: deliver each basket to the occurrence list of every frequent extension it holds.
    const writeAt = this.writeAt;
    for (let q = from; q < to; q++) {
      const b = pool[q]!;
      const end = basketStart[b + 1]!;
      for (let k = basketStart[b]!; k < end; k++) {
        const j = ranks[k]!;
        if (j >= e) break;
        const w = writeAt[j]!;
        if (w >= 0) {
          pool[w] = b;
          writeAt[j] = w + 1;
        }
      }
    }
    for (let a = 0; a < nFreq; a++) writeAt[pool[frame + a]!] = -1;

    for (let a = 0; a < nFreq; a++) {
      pool = this.pool; // a deeper level may have grown it
      const j = pool[frame + a]!;
      const lo = pool[boundsAt + a]!;
      const hi = pool[boundsAt + a + 1]!;
      this.prefix[size] = this.codeOfRank[j]!;
      if (this.emitting) this.sink!(this.prefix, sizeNext, hi - lo);
      if (j > 0) this.extend(lo, hi, j, sizeNext);
    }
    this.top = frame;
  }

  /** Pushes `size` ints onto the pool; returns their offset. */
  private alloc(size: number): number {
    const base = this.top;
    if (base + size > this.pool.length) {
      let next = this.pool.length;
      while (next < base + size) next *= 2;
      const grown = new Int32Array(next);
      grown.set(this.pool.subarray(0, base));
      this.pool = grown;
    }
    this.top = base + size;
    return base;
  }
}

/** Sorts a[start .. end) ascending (insertion sort for the short runs that dominate). */
export function sortAscending(a: Int32Array, start: number, end: number): void {
  if (end - start > 24) {
    a.subarray(start, end).sort();
    return;
  }
  for (let i = start + 1; i < end; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= start && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}
