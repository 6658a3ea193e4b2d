/**
 * The transaction database the itemset miner reads: baskets as CSR over dense item codes (two
 * Int32Arrays), its builder, and per-item support counts.
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

/** A copy of `a` grown (by doubling, at least 16) to hold `atLeast` entries. */
export function grow(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  let size = Math.max(16, a.length);
  while (size < atLeast) size *= 2;
  const next = new Int32Array(size);
  next.set(a);
  return next;
}

/** Support count of every item. */
export function itemSupports(db: TransactionDb): Int32Array {
  const counts = new Int32Array(db.keys.length);
  const items = db.items;
  for (let j = 0; j < items.length; j++) counts[items[j]!] = counts[items[j]!]! + 1;
  return counts;
}
