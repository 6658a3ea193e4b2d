import { nonProductClassifier } from './nonProduct.js';
import {
  Recommender,
  type HistoryOrder,
  type RecommendMethod,
  type RecommenderOptions,
} from './recommend.js';
import type { Basket, Product } from './types.js';

/**
 * Offline evaluation by leave-last-basket-out: each customer's last order (by time, then order id) is
 * held out; the model is trained on every other order; each method ranks k items per customer as of
 * the held-out order's time. Recall@k = hits / |held-out products|; NDCG@k with binary relevance,
 * ideal DCG over min(k, |held-out|) hits; PHR@k = share of customers with at least one hit.
 * Customers with a single order have no history and are not evaluated. Other customers' later orders
 * are part of training (global statistics), as usual for leave-one-out on this kind of data.
 */

export interface MethodScore {
  recall: number;
  ndcg: number;
  phr: number;
}

export interface EvaluationReport {
  k: number;
  customers: number;
  /** Customers with fewer than two product orders (not evaluated). */
  skipped: number;
  heldOutProducts: number;
  methods: Record<RecommendMethod, MethodScore>;
  /** The method with the highest NDCG@k (ties: Recall@k). */
  best: RecommendMethod;
}

export const METHODS: readonly RecommendMethod[] = ['popularity', 'personal', 'itemItem', 'blend'];

/** Binary-relevance metrics of one ranked list against a target set. */
export function rankingMetrics(
  ranked: readonly number[],
  targets: ReadonlySet<number>,
  k: number,
): MethodScore {
  let hits = 0;
  let dcg = 0;
  for (let r = 0; r < Math.min(k, ranked.length); r++) {
    if (targets.has(ranked[r]!)) {
      hits++;
      dcg += 1 / Math.log2(r + 2);
    }
  }
  let idcg = 0;
  for (let r = 0; r < Math.min(k, targets.size); r++) idcg += 1 / Math.log2(r + 2);
  return {
    recall: targets.size > 0 ? hits / targets.size : 0,
    ndcg: idcg > 0 ? dcg / idcg : 0,
    phr: hits > 0 ? 1 : 0,
  };
}

/** Runs the leave-last-basket-out evaluation of the four methods. */
export function evaluateRecommenders(
  baskets: readonly Basket[],
  products: readonly Product[] = [],
  options: RecommenderOptions & { k?: number } = {},
): EvaluationReport {
  const k = options.k ?? 10;
  const classify = nonProductClassifier(options.nonProduct);
  const isProductOrder = (b: Basket) => b.items.some((l) => !classify(l.sku, l.title));
  const byCustomer = new Map<string, Basket[]>();
  for (const b of baskets) {
    if (!isProductOrder(b)) continue;
    const list = byCustomer.get(b.customerId) ?? [];
    list.push(b);
    byCustomer.set(b.customerId, list);
  }
  const heldOut = new Set<Basket>();
  let skipped = 0;
  for (const list of byCustomer.values()) {
    if (list.length < 2) {
      skipped++;
      continue;
    }
    list.sort((a, b) => a.orderedAt.getTime() - b.orderedAt.getTime() || a.orderId.localeCompare(b.orderId));
    heldOut.add(list[list.length - 1]!);
  }
  const model = new Recommender(
    baskets.filter((b) => !heldOut.has(b)),
    products,
    options,
  );
  const sums = Object.fromEntries(METHODS.map((m) => [m, { recall: 0, ndcg: 0, phr: 0 }])) as Record<
    RecommendMethod,
    MethodScore
  >;
  let customers = 0;
  let heldOutProducts = 0;
  for (const last of heldOut) {
    const history: readonly HistoryOrder[] = model.historyOf(last.customerId) ?? [];
    // Held-out products the model has never seen still count as targets: no method can hit them.
    const targets = new Set<number>();
    const unseen = new Set<string>();
    for (const line of last.items) {
      if (classify(line.sku, line.title)) continue;
      const code = model.codeOf.get(line.sku);
      if (code === undefined) unseen.add(line.sku);
      else targets.add(code);
    }
    const size = targets.size + unseen.size;
    if (size === 0 || history.length === 0) continue;
    customers++;
    heldOutProducts += size;
    for (const method of METHODS) {
      const ranked = model.rank(history, last.orderedAt.getTime(), k, method).map((s) => s.code);
      const m = rankingMetrics(ranked, targets, k);
      // Recall and IDCG use the full held-out size, unseen products included.
      const idcgSeen = idcg(Math.min(k, targets.size));
      const idcgAll = idcg(Math.min(k, size));
      sums[method].recall += m.recall * (targets.size / size);
      sums[method].ndcg += idcgAll > 0 ? (m.ndcg * idcgSeen) / idcgAll : 0;
      sums[method].phr += m.phr;
    }
  }
  const methods = Object.fromEntries(
    METHODS.map((m) => [
      m,
      {
        recall: customers ? sums[m].recall / customers : 0,
        ndcg: customers ? sums[m].ndcg / customers : 0,
        phr: customers ? sums[m].phr / customers : 0,
      },
    ]),
  ) as Record<RecommendMethod, MethodScore>;
  const best = [...METHODS].sort(
    (a, b) => methods[b].ndcg - methods[a].ndcg || methods[b].recall - methods[a].recall,
  )[0]!;
  return { k, customers, skipped, heldOutProducts, methods, best };
}

function idcg(n: number): number {
  let s = 0;
  for (let r = 0; r < n; r++) s += 1 / Math.log2(r + 2);
  return s;
}
