import { invalid } from '../../shared/errors.js';

/**
 * Exact frequent-itemset mining (FP-growth, Han, Pei & Yin 2000, "Mining frequent patterns without
 * candidate generation", SIGMOD) over typed arrays.
 *
 * Memory layout: the transaction database is two Int32Arrays (CSR). Every FP-tree — the global one
 * and each conditional one — lives in a single growable Int32Array pool used as a stack: a tree is
 * pushed before its recursion and popped after, so memory is bounded by the trees on the current
 * recursion path, never by the number of itemsets found. Itemsets are streamed to a callback (or only
 * counted), so support levels producing hundreds of millions of itemsets still run in constant memory.
 */

/** An item as the caller knows it: a SKU/category (string) or a FIMI integer id. */
export type ItemKey = string | number;

/** Baskets as CSR: basket t holds the dense item codes `items[offsets[t] .. offsets[t+1])`, each at most once. */
export interface TransactionDb {
  readonly transactionCount: number;
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  /** Dense code → the caller's key. */
  readonly keys: readonly ItemKey[];
}

const DENSE_ID_LIMIT = 1 << 24;

/** Builds a {@link TransactionDb} one basket at a time, de-duplicating items within a basket. */
export class TransactionDbBuilder {
  private items = new Int32Array(1 << 16);
  private itemLength = 0;
  private offsets = new Int32Array(1 << 12);
  private count = 0;
  private readonly keys: ItemKey[] = [];
  private readonly codeOfKey = new Map<ItemKey, number>();
  /** Integer ids below DENSE_ID_LIMIT: code + 1 (0 = not seen yet); avoids a Map lookup per FIMI token. */
  private denseCode = new Int32Array(1024);
  /** Per code: 1 + the basket index it was last added to (de-duplication within a basket). */
  private lastSeen = new Int32Array(1024);

  /** Adds an item to the current basket. */
  add(key: ItemKey): void {
    if (typeof key === 'number') {
      this.addId(key);
      return;
    }
    let code = this.codeOfKey.get(key);
    if (code === undefined) code = this.newCode(key);
    this.addCode(code);
  }

  /** Adds a non-negative integer item id (the FIMI fast path). */
  addId(id: number): void {
    if (id < DENSE_ID_LIMIT) {
      if (id >= this.denseCode.length) {
        const next = new Int32Array(Math.min(DENSE_ID_LIMIT, Math.max(id + 1, this.denseCode.length * 2)));
        next.set(this.denseCode);
        this.denseCode = next;
      }
      let code = this.denseCode[id]! - 1;
      if (code < 0) {
        code = this.newCode(id);
        this.denseCode[id] = code + 1;
      }
      this.addCode(code);
      return;
    }
    let code = this.codeOfKey.get(id);
    if (code === undefined) code = this.newCode(id);
    this.addCode(code);
  }

  /** Closes the current basket; an empty basket is dropped. Returns whether a basket was recorded. */
  endBasket(): boolean {
    const start = this.offsets[this.count]!;
    if (this.itemLength === start) return false;
    this.count++;
    if (this.count + 1 >= this.offsets.length) this.offsets = grow(this.offsets, this.count + 2);
    this.offsets[this.count] = this.itemLength;
    return true;
  }

  /** Number of baskets recorded so far. */
  get transactionCount(): number {
    return this.count;
  }

  /** The finished database (the builder must not be used afterwards). */
  build(): TransactionDb {
    this.itemLength = this.offsets[this.count]!; // drop an unterminated basket
    return {
      transactionCount: this.count,
      offsets: this.offsets.slice(0, this.count + 1),
      items: this.items.slice(0, this.itemLength),
      keys: this.keys,
    };
  }

  private newCode(key: ItemKey): number {
    const code = this.keys.length;
    this.keys.push(key);
    if (typeof key === 'string' || key >= DENSE_ID_LIMIT) this.codeOfKey.set(key, code);
    if (code >= this.lastSeen.length) this.lastSeen = grow(this.lastSeen, code + 1);
    return code;
  }

  private addCode(code: number): void {
    const stamp = this.count + 1;
    if (this.lastSeen[code] === stamp) return;
    this.lastSeen[code] = stamp;
    if (this.itemLength >= this.items.length) this.items = grow(this.items, this.itemLength + 1);
    this.items[this.itemLength++] = code;
  }
}

/** Builds a database from in-memory baskets (tests, small inputs). */
export function transactionDbFrom(baskets: Iterable<Iterable<ItemKey>>): TransactionDb {
  const builder = new TransactionDbBuilder();
  for (const basket of baskets) {
    for (const key of basket) builder.add(key);
    builder.endBasket();
  }
  return builder.build();
}

function grow(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  let size = Math.max(16, a.length);
  while (size < atLeast) size *= 2;
  const next = new Int32Array(size);
  next.set(a);
  return next;
}

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

/** Receives each frequent itemset: `codes[0 .. length)` (a view valid only during the call) and its support count. */
export type ItemsetSink = (codes: Int32Array, length: number, support: number) => void;

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

/** Mines all frequent itemsets of `db` with FP-growth. */
export function mineFrequentItemsets(db: TransactionDb, options: MineOptions): MineSummary {
  checkMinSupport(options.minSupport);
  const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
  if (!(maxSize === Number.POSITIVE_INFINITY || (Number.isInteger(maxSize) && maxSize >= 1))) {
    throw invalid(`maximum itemset size must be an integer ≥ 1, got ${options.maxSize}`, {
      field: 'maxSize',
    });
  }
  const threshold = supportThreshold(options.minSupport, db.transactionCount);
  const miner = new FpGrowth(db, threshold, maxSize, options.onItemset);
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

/** Support count of every item. */
export function itemSupports(db: TransactionDb): Int32Array {
  const counts = new Int32Array(db.keys.length);
  const items = db.items;
  for (let j = 0; j < items.length; j++) counts[items[j]!] = counts[items[j]!]! + 1;
  return counts;
}

// Tree header layout inside the pool, relative to a tree's base offset:
//   [0] N nodes (root = node 0), [1] K items, [2] 1 if the tree is a single chain
//   parent[N] item[N] count[N] itemStart[K+1] itemNodes[N] code[K] support[K]
const HEADER = 3;

class FpGrowth {
  private mem = new Int32Array(1 << 20);
  private top = 0;
  bySize: Float64Array;
  frequentItems = 0;

  // Scratch shared by all levels: only used while a conditional tree is being built, before recursing.
  private condSup = new Int32Array(0);
  private newCode = new Int32Array(0);
  private touched = new Int32Array(0);
  private pathBuf = new Int32Array(64);
  private bParent = new Int32Array(1024);
  private bItem = new Int32Array(1024);
  private bCount = new Int32Array(1024);
  private bN = 0;
  private hash = new Int32Array(2048);
  private hashMask = 0;
  private readonly prefix: Int32Array;
  private readonly emitting: boolean;
  // FP-growth* (Grahne & Zhu 2003): supports of all frequent-item pairs, counted while the first tree is
  // built, give each top-level conditional base's supports without walking the tree (lower triangle,
  // pair (i, j), j < i, at i(i−1)/2 + j); node depths give the conditional tree's size bound.
  private pairs: Int32Array | null = null;
  private topBase = -1;
  private topDepth = new Int32Array(0);

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
    const { db, threshold } = this;
    const supports = itemSupports(db);
    const frequent: number[] = [];
    for (let c = 0; c < supports.length; c++) if (supports[c]! >= threshold) frequent.push(c);
    // Rank 0 = most frequent; ties by code for a deterministic tree.
    frequent.sort((a, b) => supports[b]! - supports[a]! || a - b);
    const K = frequent.length;
    this.frequentItems = K;
    if (K === 0) return;
    const rankOf = new Int32Array(supports.length).fill(-1);
    for (let r = 0; r < K; r++) rankOf[frequent[r]!] = r;
    this.condSup = new Int32Array(K);
    this.newCode = new Int32Array(K).fill(-1);
    this.touched = new Int32Array(K);

    this.beginBuild(db.items.length + 1);
    const pairs =
      K >= 2 && K <= MAX_PAIR_ITEMS && this.maxSize > 1 ? new Int32Array((K * (K - 1)) / 2) : null;
    const { offsets, items } = db;
    for (let t = 0; t < db.transactionCount; t++) {
      const end = offsets[t + 1]!;
      let len = 0;
      for (let j = offsets[t]!; j < end; j++) {
        const r = rankOf[items[j]!]!;
        if (r >= 0) this.pushPath(len++, r);
      }
      if (len > 0) {
        sortPrefix(this.pathBuf, len);
        this.insertPath(len, 1);
        if (pairs) countPairs(pairs, this.pathBuf, len);
      }
    }
    this.pairs = pairs;
    const codes = new Int32Array(K);
    const sups = new Int32Array(K);
    for (let r = 0; r < K; r++) {
      codes[r] = frequent[r]!;
      sups[r] = supports[frequent[r]!]!;
    }
    const base = this.storeTree(K, codes, sups);
    if (pairs && this.mem[base + 2] !== 1) {
      this.topBase = base;
      const N = this.mem[base]!;
      const P = base + HEADER;
      const depth = new Int32Array(N); // parents precede children in the build order
      for (let n = 1; n < N; n++) depth[n] = depth[this.mem[P + n]!]! + 1;
      this.topDepth = depth;
    }
    this.process(base, 0);
  }

  /** Mines a stored tree whose itemsets extend prefix[0 .. depth). */
  private process(base: number, depth: number): void {
    if (this.mem[base + 2] === 1) this.chain(base, depth);
    else this.mine(base, depth);
  }

  private mine(base: number, depth: number): void {
    let mem = this.mem;
    const N = mem[base]!;
    const K = mem[base + 1]!;
    const P = base + HEADER;
    const I = P + N;
    const C = I + N;
    const S = C + N;
    const L = S + K + 1;
    const G = L + N;
    const U = G + K;
    const threshold = this.threshold;
    const size = depth + 1;

    for (let i = K - 1; i >= 0; i--) {
      mem = this.mem;
      const support = mem[U + i]!;
      this.prefix[depth] = mem[G + i]!;
      this.bySize[size] = this.bySize[size]! + 1;
      if (this.emitting) this.sink!(this.prefix, size, support);
      if (size >= this.maxSize || i === 0) continue;

      // Conditional pattern base of item i: support of every ancestor item, weighted by node counts.
      const condSup = this.condSup;
      const touched = this.touched;
      let nTouched = 0;
      let bound = 1;
      const nodesEnd = mem[S + i + 1]!;
      if (base === this.topBase) {
        const pairs = this.pairs!;
        const row = (i * (i - 1)) / 2;
        for (let j = 0; j < i; j++) {
          const sup = pairs[row + j]!;
          if (sup > 0) {
            touched[nTouched++] = j;
            condSup[j] = sup;
          }
        }
        const depth = this.topDepth;
        for (let k = mem[S + i]!; k < nodesEnd; k++) bound += depth[mem[L + k]!]! - 1;
      } else {
        for (let k = mem[S + i]!; k < nodesEnd; k++) {
          const n = mem[L + k]!;
          const c = mem[C + n]!;
          let p = mem[P + n]!;
          while (p > 0) {
            const it = mem[I + p]!;
            if (condSup[it] === 0) touched[nTouched++] = it;
            condSup[it] = condSup[it]! + c;
            bound++;
            p = mem[P + p]!;
          }
        }
      }
      let nFreq = 0;
      for (let t = 0; t < nTouched; t++) {
        const it = touched[t]!;
        if (condSup[it]! >= threshold) touched[nFreq++] = it;
        else condSup[it] = 0;
      }
      if (nFreq === 0) continue;

      const sizeNext = size + 1;
      if (nFreq === 1 || sizeNext >= this.maxSize) {
        // Every frequent conditional item completes an itemset and nothing can extend it further
        // (a single item has no partners; or the size limit is reached): no tree needed.
        for (let t = 0; t < nFreq; t++) {
          const it = touched[t]!;
          this.bySize[sizeNext] = this.bySize[sizeNext]! + 1;
          if (this.emitting) {
            this.prefix[size] = mem[G + it]!;
            this.sink!(this.prefix, sizeNext, condSup[it]!);
          }
          condSup[it] = 0;
        }
        continue;
      }

      // Recode frequent conditional items by descending conditional support.
      const freq = Array.from(touched.subarray(0, nFreq));
      freq.sort((a, b) => condSup[b]! - condSup[a]! || a - b);
      const newCode = this.newCode;
      const codes = new Int32Array(nFreq);
      const sups = new Int32Array(nFreq);
      for (let r = 0; r < nFreq; r++) {
        const it = freq[r]!;
        newCode[it] = r;
        codes[r] = mem[G + it]!;
        sups[r] = condSup[it]!;
        condSup[it] = 0;
      }

      this.beginBuild(bound);
      for (let k = mem[S + i]!; k < nodesEnd; k++) {
        const n = mem[L + k]!;
        let len = 0;
        let p = mem[P + n]!;
        while (p > 0) {
          const nc = newCode[mem[I + p]!]!;
          if (nc >= 0) this.pushPath(len++, nc);
          p = mem[P + p]!;
        }
        if (len > 0) {
          // Walking up yields descending old ranks; new ranks differ, so sort.
          sortPrefix(this.pathBuf, len);
          this.insertPath(len, mem[C + n]!);
        }
      }
      for (let r = 0; r < nFreq; r++) newCode[freq[r]!] = -1;

      const saved = this.top;
      const child = this.storeTree(nFreq, codes, sups);
      this.process(child, size);
      this.top = saved;
    }
  }

  /** A single-chain tree: every subset of the chain is frequent with the count of its deepest node. */
  private chain(base: number, depth: number): void {
    const mem = this.mem;
    const N = mem[base]!;
    const K = mem[base + 1]!;
    const C = base + HEADER + 2 * N;
    const G = base + HEADER + 3 * N + K + 1 + N;
    // Chain nodes are 1..N-1 in depth order, item of node j is some code; read codes via the item array.
    const I = base + HEADER + N;
    const m = N - 1;
    const room = this.maxSize - depth;
    if (!this.emitting) {
      // Subsets whose deepest node is j (0-based) and size s: C(j, s-1).
      for (let j = 0; j < m; j++) {
        let binom = 1; // C(j, s-1) for s = 1
        for (let s = 1; s <= Math.min(j + 1, room); s++) {
          this.bySize[depth + s] = this.bySize[depth + s]! + binom;
          binom = (binom * (j - s + 1)) / s;
        }
      }
      return;
    }
    const codes = new Int32Array(m);
    const counts = new Int32Array(m);
    for (let j = 0; j < m; j++) {
      codes[j] = mem[G + mem[I + j + 1]!]!;
      counts[j] = mem[C + j + 1]!;
    }
    const walk = (start: number, len: number): void => {
      for (let j = start; j < m; j++) {
        this.prefix[depth + len] = codes[j]!;
        this.bySize[depth + len + 1] = this.bySize[depth + len + 1]! + 1;
        this.sink!(this.prefix, depth + len + 1, counts[j]!);
        if (len + 1 < room) walk(j + 1, len + 1);
      }
    };
    walk(0, 0);
  }

  private pushPath(at: number, value: number): void {
    if (at >= this.pathBuf.length) this.pathBuf = grow(this.pathBuf, at + 1);
    this.pathBuf[at] = value;
  }

  /** Starts a new tree in the build scratch, for at most `bound` nodes (root included). */
  private beginBuild(bound: number): void {
    if (bound > this.bParent.length) {
      let size = this.bParent.length;
      while (size < bound) size *= 2;
      this.bParent = new Int32Array(size);
      this.bItem = new Int32Array(size);
      this.bCount = new Int32Array(size);
    }
    let h = 2;
    while (h < 2 * bound) h *= 2;
    if (h > this.hash.length) this.hash = new Int32Array(h);
    this.hash.fill(-1, 0, h);
    this.hashMask = h - 1;
    this.bParent[0] = -1;
    this.bItem[0] = -1;
    this.bCount[0] = 0;
    this.bN = 1;
  }

  /** Inserts pathBuf[0 .. len) (ascending ranks) with weight `count`. */
  private insertPath(len: number, count: number): void {
    const { bParent, bItem, bCount, hash, hashMask, pathBuf } = this;
    let node = 0;
    for (let j = 0; j < len; j++) {
      const it = pathBuf[j]!;
      let h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(it + 1, 0x85ebca77)) & hashMask;
      for (;;) {
        const n = hash[h]!;
        if (n === -1) {
          const nn = this.bN++;
          bParent[nn] = node;
          bItem[nn] = it;
          bCount[nn] = 0;
          hash[h] = nn;
          node = nn;
          break;
        }
        if (bParent[n] === node && bItem[n] === it) {
          node = n;
          break;
        }
        h = (h + 1) & hashMask;
      }
      bCount[node] = bCount[node]! + count;
    }
  }

  /** Copies the built tree into the pool (stack top) with per-item node lists; returns its base. */
  private storeTree(K: number, codes: Int32Array, sups: Int32Array): number {
    const N = this.bN;
    const need = HEADER + 4 * N + 3 * K + 1;
    const base = this.alloc(need);
    const mem = this.mem;
    const P = base + HEADER;
    const I = P + N;
    const C = I + N;
    const S = C + N;
    const L = S + K + 1;
    const G = L + N;
    const U = G + K;
    mem[base] = N;
    mem[base + 1] = K;
    let chain = 1;
    for (let n = 1; n < N; n++) if (this.bParent[n] !== n - 1) chain = 0;
    mem[base + 2] = chain;
    mem.set(this.bParent.subarray(0, N), P);
    mem.set(this.bItem.subarray(0, N), I);
    mem.set(this.bCount.subarray(0, N), C);
    // Counting sort of nodes by item.
    mem.fill(0, S, S + K + 1);
    for (let n = 1; n < N; n++) mem[S + this.bItem[n]! + 1] = mem[S + this.bItem[n]! + 1]! + 1;
    for (let k = 0; k < K; k++) mem[S + k + 1] = mem[S + k + 1]! + mem[S + k]!;
    const fill = new Int32Array(K);
    for (let n = 1; n < N; n++) {
      const it = this.bItem[n]!;
      mem[L + mem[S + it]! + fill[it]!] = n;
      fill[it] = fill[it]! + 1;
    }
    mem.set(codes, G);
    mem.set(sups, U);
    return base;
  }

  private alloc(size: number): number {
    const base = this.top;
    if (base + size > this.mem.length) {
      let next = this.mem.length;
      while (next < base + size) next *= 2;
      const grown = new Int32Array(next);
      grown.set(this.mem.subarray(0, base));
      this.mem = grown;
    }
    this.top = base + size;
    return base;
  }
}

/** Frequent items up to which the pair-support triangle is kept (≤ 2,096,128 counters, 8 MiB). */
const MAX_PAIR_ITEMS = 2048;

/** Adds one basket's pairs (path = its frequent items' ranks, ascending) to the triangle. */
function countPairs(pairs: Int32Array, path: Int32Array, len: number): void {
  for (let a = 1; a < len; a++) {
    const hi = path[a]!;
    const row = (hi * (hi - 1)) / 2;
    for (let b = 0; b < a; b++) pairs[row + path[b]!] = pairs[row + path[b]!]! + 1;
  }
}

/** Sorts a[0 .. len) ascending in place (insertion sort for the short paths that dominate). */
function sortPrefix(a: Int32Array, len: number): void {
  if (len > 24) {
    a.subarray(0, len).sort();
    return;
  }
  for (let i = 1; i < len; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
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
    sortRange(this.items, start, start + length);
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
    sortRange(this.scratch, 0, length);
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

function sortRange(a: Int32Array, start: number, end: number): void {
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
