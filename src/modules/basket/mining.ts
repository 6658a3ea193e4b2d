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
import {
  Recommender,
  trainRecommender,
  type HistoryOrder,
  type RecommenderModel,
  type RecommenderOptions,
} from '../../analytics/basket/recommend.js';
import { generateRules, type Rule } from '../../analytics/basket/rules.js';
import { basketsToTransactions } from '../../analytics/basket/transactions.js';
import type { Basket, Product } from '../../analytics/basket/types.js';
import { invalid } from '../../shared/errors.js';
import { unpackOrderRows, type OrderRows } from './orderRows.js';
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
 * The basket computations on orders in memory: pure (no database, no clock, no files), so they run
 * alike on the caller's thread (the CLI, tests) and in a mining worker (worker.ts, for the server and
 * the job runner). `runMiningTask` is the one entry a worker calls.
 */

/** Orders and catalogue as loaded through the repository. */
export interface OrderData {
  baskets: Basket[];
  products: Product[];
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
  log?: { info(message: string): void },
): TransactionDb {
  const { db, excludedLines } = basketsToTransactions(data.baskets, {
    by: opts.by,
    products: data.products,
    nonProduct: nonProductConfigOf(opts),
  });
  log?.info(`orders: ${data.baskets.length} baskets, ${excludedLines} non-product lines excluded`);
  if (db.transactionCount === 0) throw invalid('no baskets left after excluding non-product lines', {});
  return db;
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

/**
 * Rules of stored orders: {@link rulesOf} on their transactions, with the titles of the SKUs in `top`
 * when mined by SKU.
 */
export function rulesOfOrders(
  data: OrderData,
  input: RulesInput,
  onRule?: (rule: RuleOut) => void,
  started = performance.now(),
): RulesResult {
  const result = rulesOf(orderTransactions(data, input), input, onRule, started);
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

/** The offline evaluation on orders in memory. */
export function evaluateOf(
  { baskets, products }: OrderData,
  opts: EvaluateOptions,
  started = performance.now(),
) {
  const report = evaluateRecommenders(baskets, products, { ...recommenderOptions(opts), k: opts.k });
  return { ...report, seconds: round3((performance.now() - started) / 1000) };
}

/** What the kept recommendation model is trained with: the default non-product exclusions. */
export const KEPT_MODEL_EXCLUSIONS: NonProductConfig = nonProductConfigOf({ defaultExclusions: true });

/** The kept model's exclusions with the store's own non-product SKUs (settings `nonProductSkus`). */
export function keptModelExclusions(storeSkus: readonly string[]): NonProductConfig {
  return storeSkus.length === 0
    ? KEPT_MODEL_EXCLUSIONS
    : nonProductConfigOf({ defaultExclusions: true, excludeSku: [...storeSkus] });
}

/** Whether a request's exclusions are the kept model's (else it needs a model of its own). */
export function usesKeptExclusions(opts: { excludeSku?: string[] | undefined; defaultExclusions: boolean }) {
  return opts.defaultExclusions && (opts.excludeSku ?? []).length === 0;
}

/** A trained model with every customer's history over its codes, keyed by internal customer id. */
export interface TrainedModel {
  model: RecommenderModel;
  histories: { customerKeys: Float64Array; texts: string[] };
}

/**
 * Trains the kept recommendation model (the customer-independent part of `recommendOf`) and keeps
 * each customer's history over its codes (`encodeHistory`), so an answer needs no scan of the orders.
 */
export function trainOf(
  { baskets, products }: OrderData,
  orders: OrderRows,
  storeSkus: readonly string[] = [],
): TrainedModel {
  const { model, history } = trainRecommender(baskets, products, {
    nonProduct: keptModelExclusions(storeSkus),
  });
  const keyOf = new Map<string, number>();
  for (let i = 0; i < orders.customerIds.length; i++)
    keyOf.set(orders.customerIds[i]!, orders.customerKeys[i]!);
  const customerKeys = new Float64Array(history.size);
  const texts: string[] = [];
  for (const [customer, orders] of history) {
    customerKeys[texts.length] = keyOf.get(customer)!;
    texts.push(encodeHistory(orders));
  }
  return { model, histories: { customerKeys, texts } };
}

/** A history as text: `at:code code …` per order (at in ms), orders joined by `;`, oldest first. */
export function encodeHistory(orders: readonly HistoryOrder[]): string {
  return orders.map((o) => `${o.at}:${o.codes.join(' ')}`).join(';');
}

/** The history `encodeHistory` wrote. */
export function decodeHistory(text: string): HistoryOrder[] {
  return text.split(';').map((o) => {
    const colon = o.indexOf(':');
    return {
      at: Number(o.slice(0, colon)),
      codes: o
        .slice(colon + 1)
        .split(' ')
        .map(Number),
    };
  });
}

/** One unit of work for a mining worker: an operation, its parsed input, the orders and the catalogue. */
export type MiningTask = {
  [K in keyof MiningOps]: { op: K; input: MiningOps[K][0]; orders: OrderRows; products: Product[] };
}[keyof MiningOps];

/** Each operation's input and result. */
export interface MiningOps {
  itemsets: [ItemsetsInput, ItemsetsResult];
  rules: [RulesInput, RulesResult];
  bundles: [BundlesInput, ReturnType<typeof bundlesOf>];
  fbt: [FbtInput, ReturnType<typeof fbtOf>];
  upsell: [UpsellInput, ReturnType<typeof upsellOf>];
  evaluate: [EvaluateOptions, ReturnType<typeof evaluateOf>];
  recommend: [RecommendOptions, ReturnType<typeof recommendOf>];
  /** `storeSkus`: the store's own non-product SKUs, left out with the default exclusions. */
  train: [{ storeSkus?: string[] }, TrainedModel];
}

/** Runs a task; `transfer` lists the result's buffers a worker can hand back without copying. */
export function runMiningTask(task: MiningTask): { value: unknown; transfer: ArrayBuffer[] } {
  const data: OrderData = { baskets: unpackOrderRows(task.orders, task.products), products: task.products };
  if (data.baskets.length === 0) throw invalid('no orders to mine', {});
  switch (task.op) {
    case 'itemsets':
      return plain(itemsetsOf(orderTransactions(data, task.input), task.input));
    case 'rules':
      return plain(rulesOfOrders(data, task.input));
    case 'bundles':
      return plain(bundlesOf(data, task.input));
    case 'fbt':
      return plain(fbtOf(data, task.input));
    case 'upsell':
      return plain(upsellOf(data, task.input));
    case 'evaluate':
      return plain(evaluateOf(data, task.input));
    case 'recommend':
      return plain(recommendOf(data, task.input));
    case 'train': {
      const t = trainOf(data, task.orders, task.input.storeSkus ?? []);
      const m = t.model;
      const buffers = [m.orders, m.buyers, m.repeaters, m.neighbourStart, m.neighbourCode, m.neighbourSim];
      buffers.push(t.histories.customerKeys as never);
      return { value: t, transfer: buffers.map((b) => b.buffer as ArrayBuffer) };
    }
  }
}

const plain = (value: unknown) => ({ value, transfer: [] });
