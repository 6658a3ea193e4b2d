import { itemSupports, type TransactionDb } from './transactionDb.js';

/** Receives each frequent itemset: `codes[0 .. length)` (a view valid only during the call) and its support count. */
export type ItemsetSink = (codes: Int32Array, length: number, support: number) => void;

/**
 * All frequent itemsets by depth-first search over conditional databases with "occurrence deliver"
 * (Uno, Kiyomi & Arimura 2004, "LCM ver. 2: efficient mining algorithms for frequent/closed/maximal
 * itemsets", FIMI'04), over typed arrays.
 *
 * Items are ranked by descending support (rank 0 = most frequent); a basket is its frequent items'
 * ascending ranks. An itemset P whose last-added item is e is extended only by items j < e, so each
 * itemset is generated once. P's conditional database holds, for every basket containing P, the
 * basket's items below e that are frequent together with P's prefix. One flat pass over it counts
 * every extension's support; a second delivers each basket index into the occurrence list of every
 * frequent extension j; then, one j at a time, the baskets on j's list are copied, keeping only
 * their frequent items below j, into P ∪ {j}'s database, which the recursion mines. Each level's
 * database thus shrinks to the items that can still matter, and every pass reads memory in order.
 *
 * Databases and occurrence lists live in one growable Int32Array used as a stack: a level pushes its
 * lists and one child database at a time, and pops them after, so memory is bounded by the current
 * recursion path, never by the number of itemsets found.
 */
export class OccurrenceMiner {
  /** bySize[k] = number of frequent itemsets with k items. */
  readonly bySize: Float64Array;
  frequentItems = 0;

  private basketCount = 0;
  /** Σ over baskets of L(L − 1)/2, L = the basket's frequent items: the first level's pair counting. */
  private pairWork = 0;
  private codeOfRank = new Int32Array(0);
  private supportOfRank = new Int32Array(0);
  private pool = new Int32Array(1 << 16);
  private top = 0;
  // Per rank, reset after every use: extension counts, write positions (−1 = not frequent).
  private count = new Int32Array(0);
  private writeAt = new Int32Array(0);
  private touched = new Int32Array(0);
  /** Per rank: the stamp of the level whose frequent extensions it is among (a float: never wraps). */
  private mark = new Float64Array(0);
  private stamp = 0;
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
    const db = this.projectBaskets(K);
    if (!this.extendTop(db, this.basketCount, K)) this.extend(db, this.basketCount, K, 0);
  }

  /**
   * The first level, built in two sequential passes over the baskets instead of one walk per item
   * over its (scattered) baskets, which made this level memory-latency bound: the supports of all
   * pairs of frequent items are counted first (FP-growth*'s triangle, Grahne & Zhu 2003), then every
   * item's conditional database is written at once, keeping only its frequent partners. Declines
   * (returns false, nothing done) when the triangle would cost more than the pair counting it
   * replaces, or when the triangle or the databases would take too much memory.
   */
  private extendTop(db: number, baskets: number, K: number): boolean {
    // The triangle pays when it is smaller than the pair counting it serves (sparse, many items: not).
    const triangle = (K * (K - 1)) / 2;
    if (K < 2 || K > MAX_PAIR_ITEMS || triangle > this.pairWork || this.maxSize < 2) return false;
    let pool = this.pool;
    const pairs = new Int32Array(triangle);
    countPairs(pool, db, baskets, pairs);
    const threshold = this.threshold;
    // Per item: its database's offsets (one per basket holding it, + 1) and ranks (its frequent pairs).
    const startsAt = new Int32Array(K).fill(-1);
    const ranksRoom = new Float64Array(K);
    let total = 0;
    for (let j = 1; j < K; j++) {
      const row = (j * (j - 1)) / 2;
      let room = 0;
      for (let x = 0; x < j; x++) {
        const c = pairs[row + x]!;
        if (c >= threshold) room += c;
      }
      if (room === 0) continue;
      ranksRoom[j] = room;
      total += this.supportOfRank[j]! + 1 + room;
    }
    if (total > Math.max(TOP_DATABASES_BUDGET, 4 * (pool[db + baskets]! - db))) return false;

    const base = this.alloc(total);
    pool = this.pool;
    const write = new Int32Array(K);
    const filled = new Int32Array(K);
    let at = base;
    for (let j = 1; j < K; j++) {
      if (ranksRoom[j] === 0) continue;
      startsAt[j] = at;
      at += this.supportOfRank[j]! + 1;
      write[j] = at;
      pool[startsAt[j]!] = at;
      at += ranksRoom[j]!;
    }
    fillPairDatabases(pool, db, baskets, pairs, threshold, startsAt, write, filled);

    this.bySize[1] = this.bySize[1]! + K;
    for (let j = 0; j < K; j++) {
      this.prefix[0] = this.codeOfRank[j]!;
      if (this.emitting) this.sink!(this.prefix, 1, this.supportOfRank[j]!);
      if (startsAt[j]! >= 0 && filled[j]! > 0) this.extend(startsAt[j]!, filled[j]!, j, 1);
    }
    this.top = base;
    return true;
  }

  /** Ranks the frequent items (most frequent first, ties by code); returns how many there are. */
  private rankItems(): number {
    const supports = itemSupports(this.db);
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
    this.mark = new Float64Array(K);
    return K;
  }

  /**
   * Pushes the database of the empty itemset onto the pool: every basket as its frequent items'
   * ascending ranks (baskets left empty are dropped). Returns its offset (see {@link extend}).
   */
  private projectBaskets(K: number): number {
    const { offsets, items, transactionCount } = this.db;
    const rankOf = new Int32Array(this.db.keys.length).fill(-1);
    for (let r = 0; r < K; r++) rankOf[this.codeOfRank[r]!] = r;
    const base = this.alloc(transactionCount + 1 + items.length);
    const pool = this.pool;
    let baskets = 0;
    let pairWork = 0;
    let used = base + transactionCount + 1;
    pool[base] = used;
    for (let t = 0; t < transactionCount; t++) {
      const from = used;
      const end = offsets[t + 1]!;
      for (let j = offsets[t]!; j < end; j++) {
        const r = rankOf[items[j]!]!;
        if (r >= 0) pool[used++] = r;
      }
      if (used === from) continue;
      sortAscending(pool, from, used);
      pairWork += ((used - from) * (used - from - 1)) / 2;
      baskets++;
      pool[base + baskets] = used;
    }
    this.top = used;
    this.basketCount = baskets;
    this.pairWork = pairWork;
    return base;
  }

  /**
   * Mines the extensions of prefix[0 .. size) (last-added rank e) in its conditional database at
   * pool[db]: `baskets + 1` offsets into the pool, basket b's ranks (ascending, all < e) at
   * pool[pool[db + b] .. pool[db + b + 1]). Every rank in the database is a frequent extension.
   */
  private extend(db: number, baskets: number, e: number, size: number): void {
    const count = this.count;
    const touched = this.touched;
    const threshold = this.threshold;
    const sizeNext = size + 1;
    let pool = this.pool;

    // The extensions' supports, in one flat pass over the database's ranks.
    const nFreq = countRanks(pool, pool[db]!, pool[db + baskets]!, count, touched);
    this.bySize[sizeNext] = this.bySize[sizeNext]! + nFreq;
    if (sizeNext >= this.maxSize) {
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

    // Frame: [extension ranks (nFreq)] [list bounds (nFreq + 1)] [occurrence lists].
    let delivered = 0;
    for (let a = 0; a < nFreq; a++) delivered += count[touched[a]!]!;
    const frame = this.alloc(2 * nFreq + 1 + delivered);
    pool = this.pool;
    const boundsAt = frame + nFreq;
    const writeAt = this.writeAt;
    let at = boundsAt + nFreq + 1;
    for (let a = 0; a < nFreq; a++) {
      const j = touched[a]!;
      pool[frame + a] = j;
      pool[boundsAt + a] = at;
      writeAt[j] = at;
      at += count[j]!;
      count[j] = 0;
    }
    pool[boundsAt + nFreq] = at;
    deliver(pool, db, baskets, writeAt);
    for (let a = 0; a < nFreq; a++) writeAt[pool[frame + a]!] = -1;

    const mark = this.mark;
    for (let a = 0; a < nFreq; a++) {
      pool = this.pool; // a deeper level may have grown it
      const j = pool[frame + a]!;
      const lo = pool[boundsAt + a]!;
      const hi = pool[boundsAt + a + 1]!;
      this.prefix[size] = this.codeOfRank[j]!;
      if (this.emitting) this.sink!(this.prefix, sizeNext, hi - lo);
      if (j === 0) continue; // no smaller rank to add
      // Which ranks below j are frequent with P ∪ {j}: only those go into its database.
      const nTouched = countBelow(pool, db, lo, hi, j, count, touched);
      const stamp = ++this.stamp;
      let room = 0;
      let nNext = 0;
      for (let t = 0; t < nTouched; t++) {
        const x = touched[t]!;
        const c = count[x]!;
        if (c >= threshold) {
          mark[x] = stamp;
          room += c;
          nNext++;
        }
        count[x] = 0;
      }
      if (nNext === 0) continue;
      const child = this.alloc(hi - lo + 1 + room);
      pool = this.pool;
      const childBaskets = copyBelow(pool, db, lo, hi, j, mark, stamp, child);
      this.top = pool[child + childBaskets]!;
      this.extend(child, childBaskets, j, sizeNext);
      this.top = child;
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

/** Frequent items up to which the first level counts pairs in a triangle (≤ 8,386,560 counters, 32 MiB). */
const MAX_PAIR_ITEMS = 4096;
/** Ints the first level's databases may take at once (beyond 4 × the projected database). */
const TOP_DATABASES_BUDGET = 1 << 24;

/** Adds every basket's pairs of ranks to the lower triangle: pair (j, x), x < j, at j(j−1)/2 + x. */
function countPairs(pool: Int32Array, db: number, baskets: number, pairs: Int32Array): void {
  for (let b = 0; b < baskets; b++) {
    const start = pool[db + b]!;
    const end = pool[db + b + 1]!;
    for (let p = start + 1; p < end; p++) {
      const j = pool[p]!;
      const row = (j * (j - 1)) / 2;
      for (let k = start; k < p; k++) pairs[row + pool[k]!] = pairs[row + pool[k]!]! + 1;
    }
  }
}

/**
 * Writes, in one pass over the baskets, each item j's database (at startsAt[j] ≥ 0): for every basket
 * holding j, its ranks below j that form a frequent pair with j; baskets left empty are not listed.
 * filled[j] receives each database's basket count.
 */
function fillPairDatabases(
  pool: Int32Array,
  db: number,
  baskets: number,
  pairs: Int32Array,
  threshold: number,
  startsAt: Int32Array,
  write: Int32Array,
  filled: Int32Array,
): void {
  for (let b = 0; b < baskets; b++) {
    const start = pool[db + b]!;
    const end = pool[db + b + 1]!;
    for (let p = start + 1; p < end; p++) {
      const j = pool[p]!;
      const s = startsAt[j]!;
      if (s < 0) continue;
      const row = (j * (j - 1)) / 2;
      let w = write[j]!;
      const from = w;
      for (let k = start; k < p; k++) {
        const x = pool[k]!;
        if (pairs[row + x]! >= threshold) pool[w++] = x;
      }
      if (w > from) {
        const n = filled[j]! + 1;
        filled[j] = n;
        pool[s + n] = w;
        write[j] = w;
      }
    }
  }
}

// The passes are separate small functions so the JIT optimises each once; inlined into the recursive
// `extend`, their branches kept deoptimising it as deeper levels took paths not seen before.

/** Counts every rank in pool[from .. to); records each rank's first sighting in `touched`. */
function countRanks(
  pool: Int32Array,
  from: number,
  to: number,
  count: Int32Array,
  touched: Int32Array,
): number {
  let nTouched = 0;
  for (let k = from; k < to; k++) {
    const j = pool[k]!;
    const c = count[j]!;
    if (c === 0) touched[nTouched++] = j;
    count[j] = c + 1;
  }
  return nTouched;
}

/** Appends each basket index of the database at `db` to the list (at writeAt[rank] ≥ 0) of its ranks. */
function deliver(pool: Int32Array, db: number, baskets: number, writeAt: Int32Array): void {
  for (let b = 0; b < baskets; b++) {
    const end = pool[db + b + 1]!;
    for (let k = pool[db + b]!; k < end; k++) {
      const r = pool[k]!;
      const w = writeAt[r]!;
      if (w >= 0) {
        pool[w] = b;
        writeAt[r] = w + 1;
      }
    }
  }
}

/** Counts the ranks below j of the baskets listed in pool[lo .. hi); first sightings go to `touched`. */
function countBelow(
  pool: Int32Array,
  db: number,
  lo: number,
  hi: number,
  j: number,
  count: Int32Array,
  touched: Int32Array,
): number {
  let nTouched = 0;
  for (let q = lo; q < hi; q++) {
    const b = pool[q]!;
    const end = pool[db + b + 1]!;
    for (let k = pool[db + b]!; k < end; k++) {
      const x = pool[k]!;
      if (x >= j) break;
      const c = count[x]!;
      if (c === 0) touched[nTouched++] = x;
      count[x] = c + 1;
    }
  }
  return nTouched;
}

/**
 * Writes the database of P ∪ {j} at `child`: for each basket listed in pool[lo .. hi), its ranks
 * below j that carry `stamp`; baskets left empty are dropped. Returns the number of baskets.
 */
function copyBelow(
  pool: Int32Array,
  db: number,
  lo: number,
  hi: number,
  j: number,
  mark: Float64Array,
  stamp: number,
  child: number,
): number {
  let w = child + hi - lo + 1;
  pool[child] = w;
  let baskets = 0;
  for (let q = lo; q < hi; q++) {
    const b = pool[q]!;
    const end = pool[db + b + 1]!;
    const from = w;
    for (let k = pool[db + b]!; k < end; k++) {
      const x = pool[k]!;
      if (x >= j) break;
      if (mark[x] === stamp) pool[w++] = x;
    }
    if (w > from) pool[child + ++baskets] = w;
  }
  return baskets;
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
