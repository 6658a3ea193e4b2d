import { AppError, invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import { nonProductClassifier, type NonProductConfig } from './nonProduct.js';
import { basketsToTransactions } from './transactions.js';
import type { Basket, Product } from './types.js';

/**
 * Personalised top-N recommendations from purchase history, explainable.
 *
 * Components, each normalised to [0, 1] over a customer's candidates before blending:
 * - personal: Σ over the customer's orders containing the item of 2^(−age/halfLife) (repeat-aware:
 *   what they buy again, recent purchases weigh more);
 * - item-item: Σ over their items h of personal(h)·cos(h, j), with cos = orders(h∧j)/√(orders(h)·orders(j))
 *   over each item's top neighbours (Sarwar et al. 2001; Deshpande & Karypis 2004);
 * - popularity: buyers(j) / customers.
 * Items already bought are excluded unless they are repeat items: at least `minRepeatRate` of their
 * buyers bought them in two or more orders.
 */

export type RecommendMethod = 'popularity' | 'personal' | 'itemItem' | 'blend';

export interface RecommenderOptions {
  /** Half-life of the recency decay, days (default 90). */
  halfLifeDays?: number;
  /** Neighbours kept per item (default 50). */
  neighbours?: number;
  /** Orders an item pair must share to be neighbours (default 2). */
  minCoOrders?: number;
  /** Share of buyers who re-bought an item for it to be offered again (default 0.1). */
  minRepeatRate?: number;
  /** Blend weights (default personal 1, item-item 0.5, popularity 0.05). */
  weights?: { personal?: number; itemItem?: number; popularity?: number };
  nonProduct?: NonProductConfig;
}

/** One past order as codes of the model's items. */
export interface HistoryOrder {
  at: number;
  codes: readonly number[];
}

export interface Recommendation {
  sku: string;
  title: string;
  score: number;
  /** Human-readable reasons, strongest first ("because you bought …"). */
  reasons: string[];
  /** The purchased item that contributes most to the item-item part, if any. */
  becauseOf?: string;
}

/**
 * What training keeps: the customer-independent statistics of the items — dense codes (in order of
 * first appearance in the baskets), titles, order/buyer/repeat-buyer counts and each item's top
 * neighbours by cosine similarity. Plain arrays, so it can be stored, cloned to a worker thread and
 * back, and rebuilt exactly; a customer's answer is this plus their history.
 */
export interface RecommenderModel {
  /** Code → SKU. */
  skus: string[];
  /** Code → title (the catalogue's, else the first line title seen, else the SKU). */
  titles: string[];
  /** Orders containing each item. */
  orders: Int32Array;
  /** Customers who bought each item. */
  buyers: Int32Array;
  /** Customers who bought each item in two or more orders. */
  repeaters: Int32Array;
  /** Customers with at least one product order. */
  customers: number;
  /** Product orders (baskets with at least one product line). */
  transactions: number;
  /** The latest order time among them (ms since the epoch), or null without orders. */
  lastOrderAt: number | null;
  /** Neighbours of item c: `neighbourCode/neighbourSim[neighbourStart[c] .. neighbourStart[c+1])`, best first. */
  neighbourStart: Int32Array;
  neighbourCode: Int32Array;
  neighbourSim: Float64Array;
}

/** What training depends on (the scoring options — half-life, repeat rate, weights — do not). */
export type TrainingOptions = Pick<RecommenderOptions, 'neighbours' | 'minCoOrders' | 'nonProduct'>;

/**
 * Trains the customer-independent part of the recommender from the baskets (and the catalogue, for
 * titles), and returns it with every customer's history over the model's codes (oldest order first).
 */
export function trainRecommender(
  baskets: readonly Basket[],
  products: readonly Product[] = [],
  options: TrainingOptions = {},
): { model: RecommenderModel; history: Map<string, HistoryOrder[]> } {
  const titleOf = new Map(products.map((p) => [p.sku, p.title]));
  for (const b of baskets)
    for (const l of b.items) if (l.title && !titleOf.has(l.sku)) titleOf.set(l.sku, l.title);

  const { db, basketIndex } = basketsToTransactions(baskets, { nonProduct: options.nonProduct ?? {} });
  const M = db.keys.length;
  const skus = db.keys.map(String);
  const orders = new Int32Array(M);
  for (let j = 0; j < db.items.length; j++) orders[db.items[j]!] = orders[db.items[j]!]! + 1;

  // Histories, buyers and repeat buyers.
  const history = new Map<string, HistoryOrder[]>();
  let lastOrderAt: number | null = null;
  for (let t = 0; t < db.transactionCount; t++) {
    const b = baskets[basketIndex[t]!]!;
    const list = history.get(b.customerId) ?? [];
    const at = b.orderedAt.getTime();
    if (lastOrderAt === null || at > lastOrderAt) lastOrderAt = at;
    list.push({ at, codes: Array.from(db.items.subarray(db.offsets[t]!, db.offsets[t + 1]!)) });
    history.set(b.customerId, list);
  }
  const buyers = new Int32Array(M);
  const repeaters = new Int32Array(M);
  const seen = new Int32Array(M);
  let stamp = 0;
  for (const list of history.values()) {
    list.sort((a, b) => a.at - b.at);
    stamp++;
    for (const o of list) {
      // seen[c] = stamp: bought once by this customer; −stamp: already counted as a repeat.
      for (const c of o.codes) {
        const mark = seen[c]!;
        if (mark === -stamp) continue;
        if (mark === stamp) {
          seen[c] = -stamp;
          repeaters[c] = repeaters[c]! + 1;
        } else {
          seen[c] = stamp;
          buyers[c] = buyers[c]! + 1;
        }
      }
    }
  }

  // Item-item neighbours: co-order counts through an inverted index, accumulated in a dense row.
  const K = options.neighbours ?? 50;
  const minCo = options.minCoOrders ?? 2;
  const postingStart = new Int32Array(M + 1);
  for (let j = 0; j < db.items.length; j++)
    postingStart[db.items[j]! + 1] = postingStart[db.items[j]! + 1]! + 1;
  for (let c = 0; c < M; c++) postingStart[c + 1] = postingStart[c + 1]! + postingStart[c]!;
  const postings = new Int32Array(db.items.length);
  const fill = postingStart.slice(0, M);
  for (let t = 0; t < db.transactionCount; t++) {
    for (let j = db.offsets[t]!; j < db.offsets[t + 1]!; j++) {
      const c = db.items[j]!;
      postings[fill[c]!] = t;
      fill[c] = fill[c]! + 1;
    }
  }
  const row = new Int32Array(M);
  const touched = new Int32Array(M);
  const starts = new Int32Array(M + 1);
  const codes: number[] = [];
  const sims: number[] = [];
  for (let c = 0; c < M; c++) {
    let nTouched = 0;
    for (let p = postingStart[c]!; p < postingStart[c + 1]!; p++) {
      const t = postings[p]!;
      for (let j = db.offsets[t]!; j < db.offsets[t + 1]!; j++) {
        const o = db.items[j]!;
        if (o === c) continue;
        if (row[o] === 0) touched[nTouched++] = o;
        row[o] = row[o]! + 1;
      }
    }
    const cand: [number, number][] = [];
    for (let x = 0; x < nTouched; x++) {
      const o = touched[x]!;
      if (row[o]! >= minCo) cand.push([o, row[o]! / Math.sqrt(orders[c]! * orders[o]!)]);
      row[o] = 0;
    }
    cand.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (let x = 0; x < Math.min(K, cand.length); x++) {
      codes.push(cand[x]![0]);
      sims.push(cand[x]![1]);
    }
    starts[c + 1] = codes.length;
  }
  const model: RecommenderModel = {
    skus,
    titles: skus.map((sku) => titleOf.get(sku) ?? sku),
    orders,
    buyers,
    repeaters,
    customers: history.size,
    transactions: db.transactionCount,
    lastOrderAt,
    neighbourStart: starts,
    neighbourCode: Int32Array.from(codes),
    neighbourSim: Float64Array.from(sims),
  };
  return { model, history };
}

/**
 * One customer's orders (in order-id order) as a history over a trained model's codes, as training
 * builds it: non-product lines left out, each item once per order, orders left empty dropped, oldest
 * first. SKUs the model has not seen (sold after it was trained) are left out too.
 */
export function historyOver(
  codeOf: ReadonlyMap<string, number>,
  baskets: readonly Basket[],
  nonProduct: NonProductConfig = {},
): HistoryOrder[] {
  const classify = nonProductClassifier(nonProduct);
  const out: HistoryOrder[] = [];
  for (const b of baskets) {
    const codes: number[] = [];
    for (const line of b.items) {
      if (classify(line.sku, line.title)) continue;
      const code = codeOf.get(line.sku);
      if (code !== undefined && !codes.includes(code)) codes.push(code);
    }
    if (codes.length > 0) out.push({ at: b.orderedAt.getTime(), codes });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * A recommender: a trained model plus the scoring options, and (when trained here) every customer's
 * history. `new Recommender(baskets, products, options)` trains; `new Recommender({ model }, [],
 * options)` scores with a model trained elsewhere (histories then come with each call to `rank`).
 */
export class Recommender {
  readonly model: RecommenderModel;
  readonly skus: string[];
  readonly codeOf: Map<string, number>;
  /** Orders containing each item. */
  readonly orders: Int32Array;
  readonly buyers: Int32Array;
  readonly repeatRate: Float64Array;
  readonly customers: number;
  /** Items by buyers, most popular first. */
  readonly popular: Int32Array;
  private readonly neighbourStart: Int32Array;
  private readonly neighbourCode: Int32Array;
  private readonly neighbourSim: Float64Array;
  private readonly history: Map<string, HistoryOrder[]>;
  private readonly halfLifeMs: number;
  private readonly minRepeatRate: number;
  private readonly weights: { personal: number; itemItem: number; popularity: number };

  constructor(
    source: readonly Basket[] | { model: RecommenderModel; history?: Map<string, HistoryOrder[]> },
    products: readonly Product[] = [],
    options: RecommenderOptions = {},
  ) {
    const halfLifeDays = options.halfLifeDays ?? 90;
    if (!(halfLifeDays > 0))
      throw invalid(`half-life must be > 0 days, got ${halfLifeDays}`, { field: 'halfLifeDays' });
    this.halfLifeMs = halfLifeDays * DAY_MS;
    this.minRepeatRate = options.minRepeatRate ?? 0.1;
    this.weights = { personal: 1, itemItem: 0.5, popularity: 0.05, ...options.weights };
    const trained = isBaskets(source) ? trainRecommender(source, products, options) : source;
    const model = trained.model;
    this.model = model;
    this.history = trained.history ?? new Map();
    const M = model.skus.length;
    this.skus = model.skus;
    this.codeOf = new Map(this.skus.map((s, i) => [s, i]));
    this.orders = model.orders;
    this.buyers = model.buyers;
    this.customers = model.customers;
    this.repeatRate = new Float64Array(M);
    for (let c = 0; c < M; c++)
      this.repeatRate[c] = model.buyers[c]! > 0 ? model.repeaters[c]! / model.buyers[c]! : 0;
    this.popular = Int32Array.from(
      Array.from({ length: M }, (_, c) => c).sort((a, b) => this.buyers[b]! - this.buyers[a]! || a - b),
    );
    this.neighbourStart = model.neighbourStart;
    this.neighbourCode = model.neighbourCode;
    this.neighbourSim = model.neighbourSim;
  }

  /** The customer's orders known to the model (oldest first), or undefined. */
  historyOf(customerId: string): HistoryOrder[] | undefined {
    return this.history.get(customerId);
  }

  title(sku: string): string {
    const code = this.codeOf.get(sku);
    return code === undefined ? sku : this.model.titles[code]!;
  }

  /** Whether an already-bought item may be offered again. */
  isRepeatItem(code: number): boolean {
    return this.repeatRate[code]! >= this.minRepeatRate;
  }

  /** Top-n codes for a history as of `asOf` (ms), ranked by `method`; popularity fills empty slots. */
  rank(history: readonly HistoryOrder[], asOf: number, n: number, method: RecommendMethod): ScoredItem[] {
    const personal = new Map<number, { weight: number; count: number; last: number }>();
    for (const o of history) {
      const w = Math.pow(2, -Math.max(0, asOf - o.at) / this.halfLifeMs);
      for (const c of o.codes) {
        const p = personal.get(c) ?? { weight: 0, count: 0, last: 0 };
        p.weight += w;
        p.count++;
        p.last = Math.max(p.last, o.at);
        personal.set(c, p);
      }
    }
    const itemItem = new Map<number, { score: number; best: number; bestPart: number }>();
    if (method === 'itemItem' || method === 'blend') {
      for (const [h, p] of personal) {
        for (let x = this.neighbourStart[h]!; x < this.neighbourStart[h + 1]!; x++) {
          const j = this.neighbourCode[x]!;
          const part = p.weight * this.neighbourSim[x]!;
          const s = itemItem.get(j) ?? { score: 0, best: -1, bestPart: 0 };
          s.score += part;
          if (part > s.bestPart) {
            s.bestPart = part;
            s.best = h;
          }
          itemItem.set(j, s);
        }
      }
    }
    const allowed = (c: number) => !personal.has(c) || this.isRepeatItem(c);
    const candidates = new Set<number>();
    if (method !== 'popularity') {
      for (const c of personal.keys()) candidates.add(c);
      for (const c of itemItem.keys()) candidates.add(c);
    }
    // Enough popular items to fill n slots after exclusions.
    for (let x = 0, added = 0; x < this.popular.length && added < n + personal.size; x++, added++) {
      candidates.add(this.popular[x]!);
    }
    let maxP = 0;
    let maxI = 0;
    for (const p of personal.values()) maxP = Math.max(maxP, p.weight);
    for (const s of itemItem.values()) maxI = Math.max(maxI, s.score);
    const maxPop = Math.max(1, this.buyers[this.popular[0] ?? 0] ?? 1);
    const out: ScoredItem[] = [];
    for (const c of candidates) {
      if (!allowed(c)) continue;
      const p = personal.get(c);
      const i = itemItem.get(c);
      const parts = {
        personal: p && maxP > 0 ? p.weight / maxP : 0,
        itemItem: i && maxI > 0 ? i.score / maxI : 0,
        popularity: this.buyers[c]! / maxPop,
      };
      const primary =
        method === 'popularity'
          ? parts.popularity
          : method === 'personal'
            ? parts.personal
            : method === 'itemItem'
              ? parts.itemItem
              : this.weights.personal * parts.personal +
                this.weights.itemItem * parts.itemItem +
                this.weights.popularity * parts.popularity;
      out.push({
        code: c,
        score: primary,
        parts,
        ...(p ? { bought: { count: p.count, last: p.last } } : {}),
        ...(i && i.best >= 0 ? { becauseOf: i.best } : {}),
      });
    }
    out.sort((a, b) => b.score - a.score || b.parts.popularity - a.parts.popularity || a.code - b.code);
    return out.slice(0, n);
  }

  /** Explainable top-n for a known customer. */
  recommend(
    customerId: string,
    options: { n?: number; asOf?: Date; method?: RecommendMethod } = {},
  ): Recommendation[] {
    const history = this.history.get(customerId);
    if (!history) throw noProductOrders(customerId);
    return this.recommendFor(history, options);
  }

  /** Explainable top-n for a history (oldest order first), as of `asOf` (default: its last order). */
  recommendFor(
    history: readonly HistoryOrder[],
    options: { n?: number; asOf?: Date; method?: RecommendMethod } = {},
  ): Recommendation[] {
    const asOf = options.asOf?.getTime() ?? Math.max(...history.map((o) => o.at));
    return this.rank(history, asOf, options.n ?? 10, options.method ?? 'blend').map((s) => this.explain(s));
  }

  /** Turns a scored item into a recommendation with reasons. */
  explain(s: ScoredItem): Recommendation {
    const sku = this.skus[s.code]!;
    const reasons: [number, string][] = [];
    if (s.bought) {
      const last = new Date(s.bought.last).toISOString().slice(0, 10);
      reasons.push([
        this.weights.personal * s.parts.personal,
        `you bought it ${s.bought.count === 1 ? 'once' : `${s.bought.count} times`}, last on ${last}`,
      ]);
    }
    if (s.becauseOf !== undefined) {
      const because = this.skus[s.becauseOf]!;
      reasons.push([
        this.weights.itemItem * s.parts.itemItem,
        `because you bought ${this.title(because)} (${because})`,
      ]);
    }
    reasons.push([
      this.weights.popularity * s.parts.popularity,
      `popular: bought by ${this.buyers[s.code]} customers`,
    ]);
    reasons.sort((a, b) => b[0] - a[0]);
    return {
      sku,
      title: this.title(sku),
      score: s.score,
      reasons: reasons.map((r) => r[1]),
      ...(s.becauseOf !== undefined ? { becauseOf: this.skus[s.becauseOf]! } : {}),
    };
  }
}

/** The 404 for a customer without product orders. */
export function noProductOrders(customerId: string): AppError {
  return new AppError('not_found', `customer ${customerId} has no orders with products`, {
    where: { field: '--customer' },
  });
}

function isBaskets(source: readonly Basket[] | { model: RecommenderModel }): source is readonly Basket[] {
  return Array.isArray(source);
}

/** A candidate with its normalised component scores. */
export interface ScoredItem {
  code: number;
  score: number;
  parts: { personal: number; itemItem: number; popularity: number };
  bought?: { count: number; last: number };
  becauseOf?: number;
}
