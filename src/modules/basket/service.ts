import {
  ItemsetStore,
  mineFrequentItemsets,
  mineItemsets,
  type ItemKey,
  type TransactionDb,
} from '../../analytics/basket/itemsets.js';
import type { NonProductConfig } from '../../analytics/basket/nonProduct.js';
import { evaluateRecommenders } from '../../analytics/basket/evaluate.js';
import {
  frequentlyBoughtTogether,
  nextProductAfterFirst,
  productIndex,
  suggestBundles,
  upsellCandidates,
} from '../../analytics/basket/products.js';
import { Recommender, type RecommenderOptions } from '../../analytics/basket/recommend.js';
import { generateRules, type Rule } from '../../analytics/basket/rules.js';
import { basketsToTransactions } from '../../analytics/basket/transactions.js';
import type { Basket, Product } from '../../analytics/basket/types.js';
import { AppError, invalid } from '../../shared/errors.js';
import type { ModuleContext } from '../../kit/context.js';
import { loadBaskets, loadProducts } from '../orders/repository.js';
import type {
  BundlesInput,
  EvaluateOptions,
  FbtInput,
  ItemsetsInput,
  OrderSourceInput,
  RecommendOptions,
  RulesInput,
  UpsellInput,
} from './schema.js';

/**
 * Basket and recommendation services. Each `service(ctx, input)` loads the stored orders (`ctx.db`);
 * the `…Of` entries compute on data the caller has (a FIMI file's transactions, orders in memory).
 */

/** Orders and catalogue as loaded through the repository. */
export interface OrderData {
  baskets: Basket[];
  products: Product[];
}

/** Loads the stored orders with their lines (and the catalogue); none in the period is a 404. */
export async function loadOrderData(
  ctx: ModuleContext,
  range: { since?: Date | undefined; until?: Date | undefined } = {},
): Promise<OrderData> {
  const baskets = await loadBaskets(ctx.db, {
    ...(range.since ? { since: range.since } : {}),
    ...(range.until ? { until: range.until } : {}),
  });
  const products = await loadProducts(ctx.db);
  if (baskets.length === 0)
    throw new AppError(
      'not_found',
      range.since || range.until
        ? 'no orders with customers and products in the chosen period'
        : 'no orders with customers and products found: run `retain import orders <file>` first',
    );
  return { baskets, products };
}

/** Non-product exclusions from the CLI flags. */
export function nonProductConfigOf(opts: {
  excludeSku?: string[] | undefined;
  defaultExclusions: boolean;
}): NonProductConfig {
  return opts.defaultExclusions
    ? { extraSkus: opts.excludeSku ?? [] }
    : { skus: opts.excludeSku ?? [], patterns: [], ignoreTitles: true };
}

/** Transactions for mining from orders (by SKU or category, non-product lines excluded). */
export function orderTransactions(
  data: OrderData,
  opts: OrderSourceInput,
  ctx?: ModuleContext,
): TransactionDb {
  const { db, excludedLines } = basketsToTransactions(data.baskets, {
    by: opts.by,
    products: data.products,
    nonProduct: nonProductConfigOf(opts),
  });
  ctx?.log.info(`orders: ${data.baskets.length} baskets, ${excludedLines} non-product lines excluded`);
  if (db.transactionCount === 0) throw invalid('no baskets left after excluding non-product lines', {});
  return db;
}

/** Transactions of the stored orders. */
async function storedTransactions(ctx: ModuleContext, opts: OrderSourceInput): Promise<TransactionDb> {
  return orderTransactions(await loadOrderData(ctx, opts), opts, ctx);
}

/** The `basket itemsets` JSON contract. */
export interface ItemsetsResult {
  transactions: number;
  items: number;
  itemsets: number;
  bySize: Record<string, number>;
  seconds: number;
}

function bySizeObject(bySize: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let k = 1; k < bySize.length; k++) if (bySize[k]! > 0) out[String(k)] = bySize[k]!;
  return out;
}

const keysOf = (db: TransactionDb, codes: ArrayLike<number>, length = codes.length): ItemKey[] => {
  const out: ItemKey[] = new Array(length);
  for (let j = 0; j < length; j++) out[j] = db.keys[codes[j]!]!;
  return out;
};

/** Receives every itemset as it is mined (the CLI writes them to `--out` as NDJSON). */
export type OnItemset = (items: ItemKey[], count: number, support: number) => void;

/** `retain basket itemsets` on the stored orders: frequent (or closed/maximal) itemsets, counted by size. */
export async function itemsets(
  ctx: ModuleContext,
  input: ItemsetsInput,
  onItemset?: OnItemset,
): Promise<ItemsetsResult> {
  const started = performance.now();
  return itemsetsOf(await storedTransactions(ctx, input), input, onItemset, started);
}

/** Mines itemsets of the given transactions (a FIMI file's, in the CLI). */
export function itemsetsOf(
  db: TransactionDb,
  opts: Pick<ItemsetsInput, 'minSupport' | 'maxSize' | 'variant'>,
  onItemset?: OnItemset,
  started = performance.now(),
): ItemsetsResult {
  const n = db.transactionCount;
  const summary = mineItemsets(db, {
    minSupport: opts.minSupport,
    maxSize: opts.maxSize,
    variant: opts.variant,
    ...(onItemset
      ? {
          onItemset: (codes: Int32Array, length: number, count: number) =>
            onItemset(keysOf(db, codes, length), count, count / n),
        }
      : {}),
  });
  return {
    transactions: n,
    items: summary.items,
    itemsets: summary.itemsets,
    bySize: bySizeObject(summary.bySize),
    seconds: round3((performance.now() - started) / 1000),
  };
}

/** A rule with the caller's item keys. */
export interface RuleOut {
  antecedent: ItemKey[];
  consequent: ItemKey[];
  support: number;
  supportCount: number;
  confidence: number;
  lift: number;
  leverage: number;
  conviction: number | null;
}

export interface RulesResult {
  rules: number;
  transactions: number;
  items: number;
  itemsets: number;
  threshold: number;
  top: RuleOut[];
  /** Titles of the SKUs in `top` (stored orders mined by SKU; absent for FIMI files and categories). */
  titles?: Record<string, string>;
  seconds: number;
}

/** `retain basket rules` on the stored orders: itemsets, then association rules; the strongest by lift. */
export async function rules(
  ctx: ModuleContext,
  input: RulesInput,
  onRule?: (rule: RuleOut) => void,
): Promise<RulesResult> {
  const started = performance.now();
  const data = await loadOrderData(ctx, input);
  const result = rulesOf(orderTransactions(data, input, ctx), input, onRule, started);
  if (input.by !== 'sku') return result;
  const title = productTitles(data);
  const titles: Record<string, string> = {};
  for (const r of result.top)
    for (const key of [...r.antecedent, ...r.consequent]) titles[String(key)] = title(String(key));
  return { ...result, titles };
}

/** A SKU's title: the catalogue's, else the last title it was ordered under, else the SKU itself. */
function productTitles({ baskets, products }: OrderData): (sku: string) => string {
  const catalogue = new Map(products.map((p) => [p.sku, p.title]));
  const ordered = new Map<string, string>();
  for (const b of baskets) for (const line of b.items) if (line.title) ordered.set(line.sku, line.title);
  return (sku) => catalogue.get(sku) ?? ordered.get(sku) ?? sku;
}

/** Mines association rules of the given transactions; `onRule` receives every rule (the CLI's `--out`). */
export function rulesOf(
  db: TransactionDb,
  opts: Omit<RulesInput, keyof OrderSourceInput>,
  onRule?: (rule: RuleOut) => void,
  started = performance.now(),
): RulesResult {
  const store = new ItemsetStore();
  const summary = mineFrequentItemsets(db, {
    minSupport: opts.minSupport,
    maxSize: opts.maxSize,
    onItemset: store.sink,
  });
  const top: Rule[] = [];
  const better = (a: Rule, b: Rule) => a.lift > b.lift || (a.lift === b.lift && a.confidence > b.confidence);
  const count = generateRules(
    store,
    db.transactionCount,
    {
      minConfidence: opts.minConfidence,
      maxConsequent: opts.maxConsequent,
      ...(opts.maxAntecedent ? { maxAntecedent: opts.maxAntecedent } : {}),
      ...(opts.minLift !== undefined ? { minLift: opts.minLift } : {}),
    },
    (rule) => {
      onRule?.(ruleOut(db, rule));
      if (opts.top > 0 && (top.length < opts.top || better(rule, top[top.length - 1]!))) {
        let at = top.length;
        while (at > 0 && better(rule, top[at - 1]!)) at--;
        top.splice(at, 0, rule);
        if (top.length > opts.top) top.pop();
      }
    },
  );
  return {
    rules: count,
    transactions: db.transactionCount,
    items: summary.items,
    itemsets: summary.itemsets,
    threshold: summary.threshold,
    top: top.map((r) => ruleOut(db, r)),
    seconds: round3((performance.now() - started) / 1000),
  };
}

function ruleOut(db: TransactionDb, rule: Rule): RuleOut {
  return {
    antecedent: keysOf(db, rule.antecedent),
    consequent: keysOf(db, rule.consequent),
    support: rule.support,
    supportCount: rule.supportCount,
    confidence: rule.confidence,
    lift: rule.lift,
    leverage: rule.leverage,
    conviction: rule.conviction,
  };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** `retain basket bundles`: pairs/triples bought together beyond chance, with margin-safe discounts. */
export async function bundles(ctx: ModuleContext, input: BundlesInput) {
  const started = performance.now();
  return bundlesOf(await loadOrderData(ctx, input), input, started);
}

/** bundles on orders in memory. */
export function bundlesOf({ baskets, products }: OrderData, opts: BundlesInput, started = performance.now()) {
  const index = productIndex(baskets, products, nonProductConfigOf(opts));
  const bundles = suggestBundles(index, {
    minSupport: opts.minSupport,
    minLift: opts.minLift,
    maxSize: opts.maxSize as 2 | 3,
    targetMargin: opts.targetMargin,
    maxDiscount: opts.maxDiscount,
    ...(opts.costRatio !== undefined ? { costRatio: opts.costRatio } : {}),
    top: opts.top,
  });
  return {
    transactions: index.db.transactionCount,
    bundles,
    seconds: round3((performance.now() - started) / 1000),
  };
}

/** `retain basket fbt`: frequently bought together, per product (or for one `--sku`). */
export async function fbt(ctx: ModuleContext, input: FbtInput) {
  const started = performance.now();
  return fbtOf(await loadOrderData(ctx, input), input, started);
}

/** fbt on orders in memory. */
export function fbtOf({ baskets, products }: OrderData, opts: FbtInput, started = performance.now()) {
  const index = productIndex(baskets, products, nonProductConfigOf(opts));
  const all = frequentlyBoughtTogether(index, {
    n: opts.n,
    minCount: opts.minCount,
    ...(opts.sku ? { sku: opts.sku } : {}),
  });
  return {
    transactions: index.db.transactionCount,
    products: all.length,
    fbt: all.slice(0, opts.top),
    seconds: round3((performance.now() - started) / 1000),
  };
}

/** `retain basket upsell`: pricier same-category moves, and the next product after a first purchase. */
export async function upsell(ctx: ModuleContext, input: UpsellInput) {
  const started = performance.now();
  return upsellOf(await loadOrderData(ctx, input), input, started);
}

/** upsell on orders in memory. */
export function upsellOf({ baskets, products }: OrderData, opts: UpsellInput, started = performance.now()) {
  const index = productIndex(baskets, products, nonProductConfigOf(opts));
  const upsell = upsellCandidates(index, {
    minCustomers: opts.minCustomers,
    minPriceRatio: opts.minPriceRatio,
    top: opts.top,
  });
  const nextProduct = nextProductAfterFirst(index).slice(0, opts.top);
  const ordered = new Set(baskets.flatMap((b) => b.items.map((l) => l.sku)));
  const productsWithCategory = products.filter((p) => p.category !== undefined && ordered.has(p.sku)).length;
  const notes: string[] = [];
  if (productsWithCategory === 0)
    notes.push(
      'no ordered product has a category, and upsell paths and next-product groups are per category: ' +
        'import a catalogue with a category column (`retain import products products.csv`)',
    );
  else if (upsell.length === 0)
    notes.push(
      `no upsell path within a category reaches ${opts.minCustomers} customers at ≥ ${opts.minPriceRatio}× the price: ` +
        'lower --min-customers or --min-price-ratio',
    );
  return {
    productsWithCategory,
    upsell,
    nextProduct,
    notes,
    seconds: round3((performance.now() - started) / 1000),
  };
}

function recommenderOptions(opts: {
  halfLifeDays: number;
  minRepeatRate: number;
  excludeSku?: string[];
  defaultExclusions: boolean;
}): RecommenderOptions {
  return {
    halfLifeDays: opts.halfLifeDays,
    minRepeatRate: opts.minRepeatRate,
    nonProduct: nonProductConfigOf(opts),
  };
}

/** `retain recommend --customer ID`: explainable top-N for one customer. */
export async function recommend(ctx: ModuleContext, input: RecommendOptions) {
  return recommendOf(await loadOrderData(ctx, input.asOf ? { until: input.asOf } : {}), input);
}

/** Recommendations for one customer from orders in memory. */
export function recommendOf({ baskets, products }: OrderData, opts: RecommendOptions) {
  const model = new Recommender(baskets, products, recommenderOptions(opts));
  const recommendations = model.recommend(opts.customer, {
    n: opts.n,
    ...(opts.asOf ? { asOf: opts.asOf } : {}),
  });
  const history = model.historyOf(opts.customer)!;
  const asOf = opts.asOf ?? new Date(Math.max(...history.map((o) => o.at)));
  return { customer: opts.customer, asOf: asOf.toISOString(), orders: history.length, recommendations };
}

/** `retain recommend evaluate`: leave-last-basket-out Recall/NDCG/PHR@k of the four methods. */
export async function evaluate(ctx: ModuleContext, input: EvaluateOptions) {
  const started = performance.now();
  return evaluateOf(await loadOrderData(ctx, input), input, started);
}

/** The offline evaluation on orders in memory. */
export function evaluateOf(
  { baskets, products }: OrderData,
  opts: EvaluateOptions,
  started = performance.now(),
) {
  const report = evaluateRecommenders(baskets, products, { ...recommenderOptions(opts), k: opts.k });
  return { ...report, seconds: round3((performance.now() - started) / 1000) };
}
