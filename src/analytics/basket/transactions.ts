import { TransactionDbBuilder, type TransactionDb } from './transactionDb.js';
import { nonProductClassifier, type NonProductConfig } from './nonProduct.js';
import type { Basket, Product } from './types.js';

export interface BasketsToTransactionsOptions {
  /** Item = SKU (default) or the product's category (lines of unknown category are skipped). */
  by?: 'sku' | 'category';
  products?: readonly Product[];
  nonProduct?: NonProductConfig;
}

/**
 * Order baskets → transaction database, without non-product lines; baskets left empty are dropped
 * (`basketIndex[t]` is the input index of transaction t).
 */
export function basketsToTransactions(
  baskets: readonly Basket[],
  options: BasketsToTransactionsOptions = {},
): { db: TransactionDb; excludedLines: number; droppedBaskets: number; basketIndex: Int32Array } {
  const classify = nonProductClassifier(options.nonProduct);
  const categoryOf = new Map<string, string>();
  for (const p of options.products ?? []) if (p.category) categoryOf.set(p.sku, p.category);
  const byCategory = options.by === 'category';
  const builder = new TransactionDbBuilder();
  let excludedLines = 0;
  let droppedBaskets = 0;
  const basketIndex = new Int32Array(baskets.length);
  for (let b = 0; b < baskets.length; b++) {
    const basket = baskets[b]!;
    for (const line of basket.items) {
      if (classify(line.sku, line.title)) {
        excludedLines++;
        continue;
      }
      if (byCategory) {
        const category = categoryOf.get(line.sku);
        if (category !== undefined) builder.add(category);
      } else builder.add(line.sku);
    }
    if (builder.endBasket()) basketIndex[builder.transactionCount - 1] = b;
    else droppedBaskets++;
  }
  const db = builder.build();
  return { db, excludedLines, droppedBaskets, basketIndex: basketIndex.slice(0, db.transactionCount) };
}
