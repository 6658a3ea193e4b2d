import { getStore } from '../settings/service.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { loadPackedBaskets, loadProducts, type PackedBasketRow } from '../orders/repository.js';
import type { Product } from '../../analytics/basket/types.js';
import {
  itemsetsOf,
  orderTransactions,
  round3,
  rulesOfOrders,
  type ItemsetsResult,
  type OnItemset,
  type OrderData,
  type RuleOut,
  type RulesResult,
} from './mining.js';
import { mine } from './offload.js';
import { searchOrderedProducts } from './repository.js';
import { orderRowsOf, unpackOrderRows } from './orderRows.js';
import type {
  BundlesInput,
  EvaluateOptions,
  FbtInput,
  ItemsetsInput,
  OrderSourceInput,
  ProductSearchInput,
  RulesInput,
  UpsellInput,
} from './schema.js';

export * from './mining.js';
export { recommend, trainModel, modelInfo, type ModelInfo, type ModelUsed } from './model.js';

/**
 * Basket and recommendation services. Each `service(ctx, input)` loads the stored orders (`ctx.db`)
 * on this thread — the database does the work on its own threads and hands over one packed row per
 * order — and mines them on a worker thread (offload.ts) when the process has one, so the server
 * keeps answering meanwhile. The `…Of` entries (mining.ts) compute on data the caller has (a FIMI
 * file's transactions, orders in memory); the CLI's `--out` callbacks run them on this thread.
 */

type Range = { since?: Date | undefined; until?: Date | undefined };

/** The stored orders (packed) and the catalogue; none in the period is a 404. */
async function loadRows(
  ctx: ModuleContext,
  range: Range = {},
): Promise<{ rows: PackedBasketRow[]; products: Product[] }> {
  const rows = await loadPackedBaskets(ctx.db, {
    ...(range.since ? { since: range.since } : {}),
    ...(range.until ? { until: range.until } : {}),
  });
  if (rows.length === 0)
    throw new AppError(
      'not_found',
      range.since || range.until
        ? 'no orders with customers and products in the chosen period'
        : 'no orders with customers and products found: run `retain import orders <file>` first',
    );
  ctx.log.info(`orders: ${rows.length} baskets loaded`);
  return { rows, products: await loadProducts(ctx.db) };
}

/** Loads the stored orders with their lines (and the catalogue); none in the period is a 404. */
export async function loadOrderData(ctx: ModuleContext, range: Range = {}): Promise<OrderData> {
  const { rows, products } = await loadRows(ctx, range);
  return { baskets: unpackOrderRows(orderRowsOf(rows).rows, products), products };
}

/** Replaces the worker's `seconds` by the whole call's (loading included), where the key already is. */
const timed = <T extends { seconds: number }>(r: T, started: number): T => ({
  ...r,
  seconds: round3((performance.now() - started) / 1000),
});

/**
 * The store's own non-product SKUs (settings `nonProductSkus`, `retain store set --non-product-skus`)
 * join the default exclusions (postage, fees…): `--no-default-exclusions` keeps them as well.
 */
async function withStoreExclusions<
  T extends { excludeSku?: string[] | undefined; defaultExclusions: boolean },
>(ctx: ModuleContext, input: T): Promise<T> {
  if (!input.defaultExclusions) return input;
  const { nonProductSkus } = await getStore(ctx);
  if (nonProductSkus.length === 0) return input;
  return { ...input, excludeSku: [...(input.excludeSku ?? []), ...nonProductSkus] };
}

/** `retain basket itemsets` on the stored orders: frequent (or closed/maximal) itemsets, counted by size. */
export async function itemsets(
  ctx: ModuleContext,
  input: ItemsetsInput,
  onItemset?: OnItemset,
): Promise<ItemsetsResult> {
  input = await withStoreExclusions(ctx, input);
  const started = performance.now();
  if (onItemset) return itemsetsOf(await storedTransactions(ctx, input), input, onItemset, started);
  const { rows, products } = await loadRows(ctx, input);
  return timed(await mine('itemsets', input, rows, products), started);
}

/** `retain basket rules` on the stored orders: itemsets, then association rules; the strongest by lift. */
export async function rules(
  ctx: ModuleContext,
  input: RulesInput,
  onRule?: (rule: RuleOut) => void,
): Promise<RulesResult> {
  input = await withStoreExclusions(ctx, input);
  const started = performance.now();
  if (onRule) return rulesOfOrders(await loadOrderData(ctx, input), input, onRule, started);
  const { rows, products } = await loadRows(ctx, input);
  return timed(await mine('rules', input, rows, products), started);
}

/** Transactions of the stored orders, on this thread (for the CLI's `--out` callbacks). */
async function storedTransactions(ctx: ModuleContext, opts: OrderSourceInput) {
  return orderTransactions(await loadOrderData(ctx, opts), opts, ctx.log);
}

/** `retain basket bundles`: pairs/triples bought together beyond chance, with margin-safe discounts. */
export async function bundles(ctx: ModuleContext, input: BundlesInput) {
  input = await withStoreExclusions(ctx, input);
  const started = performance.now();
  const { rows, products } = await loadRows(ctx, input);
  return timed(await mine('bundles', input, rows, products), started);
}

/** `retain basket fbt`: frequently bought together, per product (or for one `--sku`). */
export async function fbt(ctx: ModuleContext, input: FbtInput) {
  input = await withStoreExclusions(ctx, input);
  const started = performance.now();
  const { rows, products } = await loadRows(ctx, input);
  return timed(await mine('fbt', input, rows, products), started);
}

/** `retain basket upsell`: pricier same-category moves, and the next product after a first purchase. */
export async function upsell(ctx: ModuleContext, input: UpsellInput) {
  input = await withStoreExclusions(ctx, input);
  const started = performance.now();
  const { rows, products } = await loadRows(ctx, input);
  return timed(await mine('upsell', input, rows, products), started);
}

/** Products of the stored orders by part of their name or SKU, most ordered first (the product picker). */
export async function products(ctx: ModuleContext, input: ProductSearchInput) {
  return { products: await searchOrderedProducts(ctx.db, input.q, input.limit) };
}

/** `retain recommend evaluate`: leave-last-basket-out Recall/NDCG/PHR@k of the four methods. */
export async function evaluate(ctx: ModuleContext, input: EvaluateOptions) {
  input = await withStoreExclusions(ctx, input);
  const started = performance.now();
  const { rows, products } = await loadRows(ctx, input);
  return timed(await mine('evaluate', input, rows, products), started);
}
