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
import { readFimi } from './fimiFile.js';
import { NdjsonWriter } from './ndjson.js';
import type { BasketSource } from './repository.js';
import type {
  BundlesOptions,
  EvaluateOptions,
  FbtOptions,
  ItemsetsOptions,
  RecommendOptions,
  RulesOptions,
  SourceOptions,
  UpsellOptions,
} from './schema.js';

/** What the basket service needs from outside: a way to reach the imported orders (lazily opened). */
export interface BasketDeps {
  openSource?: () => Promise<BasketSource>;
  /** Progress lines (stderr in the CLI). */
  log?: (message: string) => void;
}

/** Orders and catalogue as loaded through the repository. */
export interface OrderData {
  baskets: Basket[];
  products: Product[];
}

/** Loads orders (and the catalogue) through the injected source. */
export async function loadOrderData(
  deps: BasketDeps,
  range: { since?: Date; until?: Date } = {},
): Promise<OrderData> {
  if (!deps.openSource) {
    throw new AppError(
      'internal',
      'reading orders from the database is not wired in this build (no BasketSource); ' +
        'basket itemsets and rules accept --format fimi --input FILE',
      { where: { field: '--db' } },
    );
  }
  const source = await deps.openSource();
  try {
    const baskets = await source.loadBaskets({
      ...(range.since ? { since: range.since } : {}),
      ...(range.until ? { until: range.until } : {}),
    });
    const products = await source.loadProducts();
    if (baskets.length === 0)
      throw new AppError(
        'not_found',
        range.since || range.until
          ? 'no orders with customers and products in the chosen period'
          : 'no orders with customers and products found: run `retain import orders <file>` first',
      );
    return { baskets, products };
  } finally {
    await source.close();
  }
}

/** Non-product exclusions from the CLI flags. */
export function nonProductConfigOf(opts: {
  excludeSku?: string[];
  defaultExclusions: boolean;
}): NonProductConfig {
  return opts.defaultExclusions
    ? { extraSkus: opts.excludeSku ?? [] }
    : { skus: opts.excludeSku ?? [], patterns: [], ignoreTitles: true };
}

/** Transactions for mining: from a FIMI file or from the imported orders. */
export async function loadTransactions(
  opts: SourceOptions,
  deps: BasketDeps,
): Promise<{ db: TransactionDb; source: string }> {
  const format = opts.format ?? (opts.input ? 'fimi' : 'orders');
  if (format === 'fimi') {
    if (!opts.input) throw invalid('--format fimi needs --input FILE', { field: '--input' });
    const { db } = await readFimi(opts.input);
    return { db, source: opts.input };
  }
  if (opts.input) {
    throw invalid('--format orders reads the imported orders; import the file with `retain import` first', {
      field: '--input',
    });
  }
  const { baskets, products } = await loadOrderData(deps, opts);
  const { db, excludedLines } = basketsToTransactions(baskets, {
    by: opts.by,
    products,
    nonProduct: nonProductConfigOf(opts),
  });
  deps.log?.(`orders: ${baskets.length} baskets, ${excludedLines} non-product lines excluded`);
  if (db.transactionCount === 0) throw invalid('no baskets left after excluding non-product lines', {});
  return { db, source: 'orders' };
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

/** `retain basket itemsets`: mines frequent (or closed/maximal) itemsets, optionally to NDJSON. */
export async function runItemsets(opts: ItemsetsOptions, deps: BasketDeps = {}): Promise<ItemsetsResult> {
  const started = performance.now();
  const { db } = await loadTransactions(opts, deps);
  const writer = opts.out ? new NdjsonWriter(opts.out) : undefined;
  const n = db.transactionCount;
  try {
    const summary = mineItemsets(db, {
      minSupport: opts.minSupport,
      maxSize: opts.maxSize,
      variant: opts.variant,
      ...(writer
        ? {
            onItemset: (codes: Int32Array, length: number, count: number) =>
              writer.writeRaw(
                `{"items":${JSON.stringify(keysOf(db, codes, length))},"count":${count},"support":${count / n}}`,
              ),
          }
        : {}),
    });
    deps.log?.(
      `threshold ${summary.threshold} of ${n} baskets; ${summary.frequentItems} frequent items; ${summary.itemsets} ${opts.variant} itemsets`,
    );
    return {
      transactions: n,
      items: summary.items,
      itemsets: summary.itemsets,
      bySize: bySizeObject(summary.bySize),
      seconds: round3((performance.now() - started) / 1000),
    };
  } finally {
    writer?.close();
  }
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
  seconds: number;
}

/** `retain basket rules`: mines itemsets, then association rules; the strongest by lift are returned. */
export async function runRules(opts: RulesOptions, deps: BasketDeps = {}): Promise<RulesResult> {
  const started = performance.now();
  const { db } = await loadTransactions(opts, deps);
  const store = new ItemsetStore();
  const summary = mineFrequentItemsets(db, {
    minSupport: opts.minSupport,
    maxSize: opts.maxSize,
    onItemset: store.sink,
  });
  const writer = opts.out ? new NdjsonWriter(opts.out) : undefined;
  const top: Rule[] = [];
  const better = (a: Rule, b: Rule) => a.lift > b.lift || (a.lift === b.lift && a.confidence > b.confidence);
  let rules = 0;
  try {
    rules = generateRules(
      store,
      db.transactionCount,
      {
        minConfidence: opts.minConfidence,
        maxConsequent: opts.maxConsequent,
        ...(opts.maxAntecedent ? { maxAntecedent: opts.maxAntecedent } : {}),
        ...(opts.minLift !== undefined ? { minLift: opts.minLift } : {}),
      },
      (rule) => {
        if (writer) writer.write(ruleOut(db, rule));
        if (opts.top > 0 && (top.length < opts.top || better(rule, top[top.length - 1]!))) {
          let at = top.length;
          while (at > 0 && better(rule, top[at - 1]!)) at--;
          top.splice(at, 0, rule);
          if (top.length > opts.top) top.pop();
        }
      },
    );
  } finally {
    writer?.close();
  }
  return {
    rules,
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
export async function runBundles(opts: BundlesOptions, deps: BasketDeps = {}) {
  const started = performance.now();
  const { baskets, products } = await loadOrderData(deps, opts);
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
export async function runFbt(opts: FbtOptions, deps: BasketDeps = {}) {
  const started = performance.now();
  const { baskets, products } = await loadOrderData(deps, opts);
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
export async function runUpsell(opts: UpsellOptions, deps: BasketDeps = {}) {
  const started = performance.now();
  const { baskets, products } = await loadOrderData(deps, opts);
  const index = productIndex(baskets, products, nonProductConfigOf(opts));
  const upsell = upsellCandidates(index, {
    minCustomers: opts.minCustomers,
    minPriceRatio: opts.minPriceRatio,
    top: opts.top,
  });
  const nextProduct = nextProductAfterFirst(index).slice(0, opts.top);
  return { upsell, nextProduct, seconds: round3((performance.now() - started) / 1000) };
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
export async function runRecommend(opts: RecommendOptions, deps: BasketDeps = {}) {
  const { baskets, products } = await loadOrderData(deps, opts.asOf ? { until: opts.asOf } : {});
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
export async function runEvaluate(opts: EvaluateOptions, deps: BasketDeps = {}) {
  const started = performance.now();
  const { baskets, products } = await loadOrderData(deps, opts);
  const report = evaluateRecommenders(baskets, products, { ...recommenderOptions(opts), k: opts.k });
  return { ...report, seconds: round3((performance.now() - started) / 1000) };
}
