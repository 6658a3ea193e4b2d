import { invalid } from '../../shared/errors.js';
import { ItemsetStore, itemSupports, mineFrequentItemsets, type TransactionDb } from './itemsets.js';
import type { NonProductConfig } from './nonProduct.js';
import { basketsToTransactions } from './transactions.js';
import type { Basket, Product } from './types.js';

/**
 * Product-level cross-sell and upsell views over order baskets: frequently bought together, bundle
 * suggestions with margin-safe discounts, upsell paths within a category, and the next product after a
 * first purchase.
 */

/** Order baskets indexed for product analysis (non-product lines removed). */
export interface ProductIndex {
  db: TransactionDb;
  /** Transaction t came from baskets[basketIndex[t]]. */
  basketIndex: Int32Array;
  baskets: readonly Basket[];
  product: Map<string, Product>;
  /** Catalogue price, else the median price paid. */
  priceMinor: (sku: string) => number;
  title: (sku: string) => string;
}

/** Builds the {@link ProductIndex} shared by the product views. */
export function productIndex(
  baskets: readonly Basket[],
  products: readonly Product[],
  nonProduct: NonProductConfig = {},
): ProductIndex {
  const { db, basketIndex } = basketsToTransactions(baskets, { nonProduct });
  const product = new Map(products.map((p) => [p.sku, p]));
  const paid = new Map<string, number[]>();
  const lineTitle = new Map<string, string>();
  for (const b of baskets) {
    for (const line of b.items) {
      if (product.has(line.sku)) continue;
      const list = paid.get(line.sku) ?? [];
      list.push(line.unitPriceMinor);
      paid.set(line.sku, list);
      if (line.title) lineTitle.set(line.sku, line.title);
    }
  }
  const median = new Map<string, number>();
  for (const [sku, list] of paid) median.set(sku, list.sort((a, b) => a - b)[list.length >> 1]!);
  return {
    db,
    basketIndex,
    baskets,
    product,
    priceMinor: (sku) => product.get(sku)?.priceMinor ?? median.get(sku) ?? 0,
    title: (sku) => product.get(sku)?.title ?? lineTitle.get(sku) ?? sku,
  };
}

export interface Companion {
  sku: string;
  title: string;
  /** Orders containing both. */
  orders: number;
  /** P(companion | product). */
  confidence: number;
  lift: number;
}

export interface FrequentlyBoughtTogether {
  sku: string;
  title: string;
  orders: number;
  together: Companion[];
}

/**
 * "Frequently bought together": for each product, the companions most often in the same order
 * (ranked by confidence, then lift), counting only pairs seen in at least `minCount` orders.
 */
export function frequentlyBoughtTogether(
  index: ProductIndex,
  options: { n?: number; minCount?: number; sku?: string } = {},
): FrequentlyBoughtTogether[] {
  const n = options.n ?? 5;
  const minCount = options.minCount ?? 3;
  const { db } = index;
  const N = db.transactionCount;
  const supports = itemSupports(db);
  const only = options.sku === undefined ? -1 : db.keys.indexOf(options.sku);
  if (options.sku !== undefined && only < 0) {
    throw invalid(`no orders contain product ${options.sku}`, { field: '--sku' });
  }
  const companions = new Map<number, { code: number; count: number }[]>();
  mineFrequentItemsets(db, {
    minSupport: Math.min(1, minCount / N),
    maxSize: 2,
    onItemset: (codes, length, count) => {
      if (length !== 2) return;
      const a = codes[0]!;
      const b = codes[1]!;
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        if (only >= 0 && x !== only) continue;
        const list = companions.get(x) ?? [];
        list.push({ code: y, count });
        companions.set(x, list);
      }
    },
  });
  const out: FrequentlyBoughtTogether[] = [];
  for (const [code, list] of companions) {
    const sku = String(db.keys[code]);
    const orders = supports[code]!;
    const together = list
      .map(({ code: other, count }) => ({
        sku: String(db.keys[other]),
        title: index.title(String(db.keys[other])),
        orders: count,
        confidence: count / orders,
        lift: (count * N) / (orders * supports[other]!),
      }))
      .sort((x, y) => y.confidence - x.confidence || y.lift - x.lift || x.sku.localeCompare(y.sku))
      .slice(0, n);
    out.push({ sku, title: index.title(sku), orders, together });
  }
  return out.sort((x, y) => y.orders - x.orders || x.sku.localeCompare(y.sku));
}

export interface BundleOptions {
  /** Minimum share of orders containing the whole bundle. */
  minSupport?: number;
  minLift?: number;
  /** 2 = pairs only, 3 = pairs and triples. */
  maxSize?: 2 | 3;
  /** Margin the discounted bundle must keep, as a fraction of its price. */
  targetMargin?: number;
  /** Largest discount ever suggested. */
  maxDiscount?: number;
  /** Cost as a share of price for products without a unit cost (else their margin is unknown). */
  costRatio?: number;
  top?: number;
}

export interface Bundle {
  skus: string[];
  titles: string[];
  /** Orders containing every product of the bundle. */
  orders: number;
  support: number;
  /** P(bundle) / Π P(product). */
  lift: number;
  /** Orders beyond what independent purchases would give: orders − N·Π P(product). */
  excessOrders: number;
  priceMinor: number;
  costMinor: number | null;
  /** (price − cost) / price before discount. */
  margin: number | null;
  /** Largest discount (whole percent, ≤ maxDiscount) keeping the target margin; null without costs. */
  suggestedDiscount: number | null;
  bundlePriceMinor: number | null;
  marginAfterDiscount: number | null;
}

/**
 * Bundle suggestions: pairs and triples bought together far more than chance (lift) in enough orders
 * (support), ranked by excess orders, with combined margin and the discount that keeps the target
 * margin: price·(1−d) − cost ≥ m·price·(1−d) ⇔ d ≤ 1 − cost / ((1 − m)·price).
 */
export function suggestBundles(index: ProductIndex, options: BundleOptions = {}): Bundle[] {
  const minSupport = options.minSupport ?? 0.002;
  const minLift = options.minLift ?? 2;
  const maxSize = options.maxSize ?? 3;
  const targetMargin = options.targetMargin ?? 0.3;
  const maxDiscount = options.maxDiscount ?? 0.15;
  const { db } = index;
  const N = db.transactionCount;
  const supports = itemSupports(db);
  const store = new ItemsetStore();
  mineFrequentItemsets(db, { minSupport, maxSize, onItemset: store.sink });
  const bundles: Bundle[] = [];
  for (let idx = 0; idx < store.size; idx++) {
    const size = store.sizeAt(idx);
    if (size < 2) continue;
    const codes = Array.from(store.itemsAt(idx));
    const orders = store.supportAt(idx);
    let expected = N;
    for (const c of codes) expected *= supports[c]! / N;
    const lift = orders / expected;
    if (lift < minLift) continue;
    const skus = codes.map((c) => String(db.keys[c]));
    const priceMinor = skus.reduce((sum, sku) => sum + index.priceMinor(sku), 0);
    let costMinor: number | null = 0;
    for (const sku of skus) {
      const p = index.product.get(sku);
      const cost =
        p?.unitCostMinor ??
        (options.costRatio !== undefined ? Math.round(index.priceMinor(sku) * options.costRatio) : null);
      costMinor = cost === null || costMinor === null ? null : costMinor + cost;
    }
    const margin = costMinor === null || priceMinor <= 0 ? null : (priceMinor - costMinor) / priceMinor;
    let suggestedDiscount: number | null = null;
    let bundlePriceMinor: number | null = null;
    let marginAfterDiscount: number | null = null;
    if (costMinor !== null && priceMinor > 0) {
      const limit = 1 - costMinor / ((1 - targetMargin) * priceMinor);
      suggestedDiscount = Math.max(0, Math.floor(Math.min(maxDiscount, limit) * 100 + 1e-9) / 100);
      bundlePriceMinor = Math.round(priceMinor * (1 - suggestedDiscount));
      marginAfterDiscount = bundlePriceMinor > 0 ? (bundlePriceMinor - costMinor) / bundlePriceMinor : null;
    }
    bundles.push({
      skus,
      titles: skus.map(index.title),
      orders,
      support: orders / N,
      lift,
      excessOrders: orders - expected,
      priceMinor,
      costMinor,
      margin,
      suggestedDiscount,
      bundlePriceMinor,
      marginAfterDiscount,
    });
  }
  bundles.sort(
    (a, b) =>
      b.excessOrders - a.excessOrders || b.lift - a.lift || a.skus.join().localeCompare(b.skus.join()),
  );
  return bundles.slice(0, options.top ?? 20);
}

/** Each customer's orders (non-product lines removed), oldest first; ties by order id. */
function ordersByCustomer(index: ProductIndex): Map<string, { at: number; skus: string[] }[]> {
  const { db, basketIndex, baskets } = index;
  const out = new Map<string, { at: number; skus: string[] }[]>();
  for (let t = 0; t < db.transactionCount; t++) {
    const basket = baskets[basketIndex[t]!]!;
    const skus = Array.from(db.items.subarray(db.offsets[t]!, db.offsets[t + 1]!), (c) => String(db.keys[c]));
    const list = out.get(basket.customerId) ?? [];
    list.push({ at: basket.orderedAt.getTime(), skus });
    out.set(basket.customerId, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.at - b.at);
  return out;
}

export interface UpsellCandidate {
  category: string;
  fromSku: string;
  fromTitle: string;
  fromPriceMinor: number;
  toSku: string;
  toTitle: string;
  toPriceMinor: number;
  /** Customers who bought `from` and later (in a later order) first bought `to`. */
  customers: number;
  /** customers / buyers of `from`. */
  rate: number;
  priceUplift: number;
}

/**
 * Upsell paths: within one category, a pricier product (≥ minPriceRatio × price) that buyers of the
 * cheaper one first bought in a later order. Ranked by customers who moved, then rate.
 */
export function upsellCandidates(
  index: ProductIndex,
  options: { minCustomers?: number; minPriceRatio?: number; top?: number } = {},
): UpsellCandidate[] {
  const minCustomers = options.minCustomers ?? 3;
  const minPriceRatio = options.minPriceRatio ?? 1.2;
  const categoryOf = (sku: string) => index.product.get(sku)?.category;
  const buyers = new Map<string, number>();
  const moved = new Map<string, number>();
  for (const orders of ordersByCustomer(index).values()) {
    // First purchase time of every product, per category.
    const first = new Map<string, number>();
    for (const o of orders) for (const sku of o.skus) if (!first.has(sku)) first.set(sku, o.at);
    const byCategory = new Map<string, [string, number][]>();
    for (const [sku, at] of first) {
      buyers.set(sku, (buyers.get(sku) ?? 0) + 1);
      const c = categoryOf(sku);
      if (c === undefined) continue;
      const list = byCategory.get(c) ?? [];
      list.push([sku, at]);
      byCategory.set(c, list);
    }
    for (const list of byCategory.values()) {
      for (const [from, fromAt] of list) {
        const fromPrice = index.priceMinor(from);
        for (const [to, toAt] of list) {
          if (toAt <= fromAt || index.priceMinor(to) < minPriceRatio * fromPrice || fromPrice <= 0) continue;
          const key = `${from}\u0000${to}`;
          moved.set(key, (moved.get(key) ?? 0) + 1);
        }
      }
    }
  }
  const out: UpsellCandidate[] = [];
  for (const [key, customers] of moved) {
    if (customers < minCustomers) continue;
    const [from, to] = key.split('\u0000') as [string, string];
    const fromPriceMinor = index.priceMinor(from);
    const toPriceMinor = index.priceMinor(to);
    out.push({
      category: categoryOf(from)!,
      fromSku: from,
      fromTitle: index.title(from),
      fromPriceMinor,
      toSku: to,
      toTitle: index.title(to),
      toPriceMinor,
      customers,
      rate: customers / buyers.get(from)!,
      priceUplift: toPriceMinor / fromPriceMinor - 1,
    });
  }
  out.sort((a, b) => b.customers - a.customers || b.rate - a.rate || a.fromSku.localeCompare(b.fromSku));
  return out.slice(0, options.top ?? 20);
}

export interface NextProduct {
  /** Category of the highest-value line of the first order. */
  firstCategory: string;
  customers: number;
  /** Customers who placed a second order. */
  repeaters: number;
  repeatRate: number;
  /** Products of the second order, by share of repeaters buying them. */
  next: { sku: string; title: string; customers: number; share: number }[];
  nextCategories: { category: string; customers: number; share: number }[];
}

/** What customers buy in their second order, grouped by the main category of their first order. */
export function nextProductAfterFirst(index: ProductIndex, options: { top?: number } = {}): NextProduct[] {
  const top = options.top ?? 5;
  const categoryOf = (sku: string) => index.product.get(sku)?.category;
  const groups = new Map<
    string,
    { customers: number; repeaters: number; next: Map<string, number>; cats: Map<string, number> }
  >();
  for (const orders of ordersByCustomer(index).values()) {
    const first = orders[0]!;
    let best: string | undefined;
    let bestValue = -1;
    for (const sku of first.skus) {
      const c = categoryOf(sku);
      const value = index.priceMinor(sku);
      if (c !== undefined && value > bestValue) {
        best = c;
        bestValue = value;
      }
    }
    if (best === undefined) continue;
    const g = groups.get(best) ?? { customers: 0, repeaters: 0, next: new Map(), cats: new Map() };
    groups.set(best, g);
    g.customers++;
    const second = orders[1];
    if (!second) continue;
    g.repeaters++;
    for (const sku of second.skus) g.next.set(sku, (g.next.get(sku) ?? 0) + 1);
    for (const c of new Set(second.skus.map(categoryOf)))
      if (c !== undefined) g.cats.set(c, (g.cats.get(c) ?? 0) + 1);
  }
  const out: NextProduct[] = [];
  for (const [firstCategory, g] of groups) {
    const rank = <T>(m: Map<T, number>) =>
      [...m].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, top);
    out.push({
      firstCategory,
      customers: g.customers,
      repeaters: g.repeaters,
      repeatRate: g.repeaters / g.customers,
      next: rank(g.next).map(([sku, customers]) => ({
        sku,
        title: index.title(sku),
        customers,
        share: customers / g.repeaters,
      })),
      nextCategories: rank(g.cats).map(([category, customers]) => ({
        category,
        customers,
        share: customers / g.repeaters,
      })),
    });
  }
  return out.sort((a, b) => b.customers - a.customers || a.firstCategory.localeCompare(b.firstCategory));
}
