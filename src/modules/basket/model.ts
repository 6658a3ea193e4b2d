import {
  Recommender,
  historyOver,
  noProductOrders,
  type RecommenderModel,
} from '../../analytics/basket/recommend.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import type { Database } from '../../storage/port.js';
import { loadBaskets, loadPackedBaskets, loadProducts, salesFingerprint } from '../orders/repository.js';
import { decodeHistory, keptModelExclusions, round3, usesKeptExclusions } from './mining.js';
import { getStore } from '../settings/service.js';
import { mine } from './offload.js';
import { insertModel, latestModel, modelHistory, modelItems, type ModelRow } from './repository.js';
import type { RecommendOptions } from './schema.js';

/**
 * The kept recommendation model. Training computes what `recommendOf` computes for every customer
 * alike — item codes, titles, order/buyer/repeat counts, item-item neighbours — from all stored orders
 * with the default non-product exclusions, on a mining worker, and stores it in one transaction
 * (`reco_models`, `reco_items`), with each customer's history over its item codes (`reco_histories`).
 * A customer's recommendations are then their history (one look-up by key) scored against the model,
 * which each process keeps in memory per model version (the version is checked on every call: one
 * tiny query). Retrained by the `basket-train` job, which the
 * `basket-retrain` subscriber enqueues when orders or refunds are recorded (debounced), by
 * `retain recommend train` and by `POST /v1/recommendations/model`.
 */

/** What the API and CLI say about a stored model. */
export interface ModelInfo {
  version: number;
  trainedAt: string;
  /** Why it was trained: job, on-demand, cli or api. */
  reason: string;
  /** Product orders and customers it learnt from, items it knows and neighbour pairs it keeps. */
  orders: number;
  customers: number;
  items: number;
  neighbours: number;
  /** The latest order it learnt from. */
  lastOrderAt: string | null;
  /** Seconds training took (loading, mining and writing). */
  seconds: number;
}

/** What a recommendation answer says about the model it used (version null: one trained for the request). */
export interface ModelUsed {
  version: number | null;
  trainedAt: string;
  note?: string;
}

export type TrainReason = 'job' | 'on-demand' | 'cli' | 'api';

const infoOf = (r: ModelRow): ModelInfo => ({
  version: r.model_id,
  trainedAt: r.trained_at.toISOString(),
  reason: r.reason,
  orders: r.orders,
  customers: r.customers,
  items: r.items,
  neighbours: r.neighbours,
  lastOrderAt: r.last_order_at ? r.last_order_at.toISOString() : null,
  seconds: r.seconds,
});

const NO_ORDERS = 'no orders with customers and products found: run `retain import orders <file>` first';

/** Trainings in this process run one at a time per store (a second waits, then usually finds the model fresh). */
const trainings = new WeakMap<Database, Promise<unknown>>();

/**
 * Trains the model from the stored orders and stores it (one transaction). With `ifStale`, does
 * nothing when the newest model was trained on the same orders, refunds and catalogue (same
 * fingerprint) and answers it with `upToDate: true`.
 */
export function trainModel(
  ctx: ModuleContext,
  opts: { reason: TrainReason; ifStale?: boolean },
): Promise<ModelInfo & { upToDate: boolean }> {
  const previous = trainings.get(ctx.db) ?? Promise.resolve();
  const run = previous.then(
    () => train(ctx, opts),
    () => train(ctx, opts),
  );
  trainings.set(
    ctx.db,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * What a kept model was trained on: the orders, refunds and catalogue (their fingerprint) and the
 * store's own non-product SKUs, so changing those (retain store set --non-product-skus) makes it stale.
 */
async function modelSource(ctx: ModuleContext): Promise<{ source: string; storeSkus: string[] }> {
  const [fingerprint, store] = await Promise.all([salesFingerprint(ctx.db), getStore(ctx)]);
  const storeSkus = store.nonProductSkus;
  return {
    source: storeSkus.length === 0 ? fingerprint : `${fingerprint}|skus:${storeSkus.join(',')}`,
    storeSkus,
  };
}

async function train(
  ctx: ModuleContext,
  opts: { reason: TrainReason; ifStale?: boolean },
): Promise<ModelInfo & { upToDate: boolean }> {
  const started = performance.now();
  // Read before the orders: a change after this point makes the next check see a new fingerprint.
  const { source, storeSkus } = await modelSource(ctx);
  if (opts.ifStale) {
    const latest = await latestModel(ctx.db);
    if (latest && latest.source === source) return { ...infoOf(latest), upToDate: true };
  }
  const rows = await loadPackedBaskets(ctx.db);
  if (rows.length === 0) throw new AppError('not_found', NO_ORDERS);
  const products = await loadProducts(ctx.db);
  const { model, histories } = await mine('train', { storeSkus }, rows, products);
  const row: Omit<ModelRow, 'model_id'> = {
    trained_at: ctx.clock.now(),
    reason: opts.reason,
    source,
    orders: model.transactions,
    customers: model.customers,
    items: model.skus.length,
    neighbours: model.neighbourCode.length,
    last_order_at: model.lastOrderAt === null ? null : new Date(model.lastOrderAt),
    seconds: 0,
  };
  const items = function* () {
    for (let c = 0; c < model.skus.length; c++) {
      const from = model.neighbourStart[c]!;
      const to = model.neighbourStart[c + 1]!;
      yield [
        c,
        model.skus[c]!,
        model.titles[c]!,
        model.orders[c]!,
        model.buyers[c]!,
        model.repeaters[c]!,
        Array.from(model.neighbourCode.subarray(from, to)).join(' '),
        Array.from(model.neighbourSim.subarray(from, to), String).join(' '),
      ];
    }
  };
  const customers = function* () {
    for (let i = 0; i < histories.texts.length; i++) {
      const text = histories.texts[i]!;
      let orders = 1;
      for (let at = text.indexOf(';'); at >= 0; at = text.indexOf(';', at + 1)) orders++;
      yield [histories.customerKeys[i]!, orders, text] as const;
    }
  };
  row.seconds = round3((performance.now() - started) / 1000);
  const id = await ctx.db.transaction((tx) => insertModel(tx, row, items(), customers()));
  ctx.log.info(
    `recommendation model ${id} trained (${opts.reason}): ${row.items} items, ${row.orders} orders, ${row.seconds}s`,
  );
  return { ...infoOf({ ...row, model_id: id }), upToDate: false };
}

/** The newest stored model's description, or null before the first training. */
export async function modelInfo(ctx: ModuleContext): Promise<(ModelInfo & { upToDate: boolean }) | null> {
  const latest = await latestModel(ctx.db);
  if (!latest) return null;
  return { ...infoOf(latest), upToDate: latest.source === (await salesFingerprint(ctx.db)) };
}

/** A model loaded into this process, with scorers per scoring options. */
interface Kept {
  row: ModelRow;
  model: RecommenderModel;
  scorers: Map<string, Recommender>;
}

const kept = new WeakMap<Database, { version: number; loading: Promise<Kept> }>();

/**
 * The model in use, loaded (once per version per process). No model yet: trains one first. With
 * `refresh: 'stale'` (the CLI) a model older than the stored orders is retrained first too; the
 * server (`'missing'`) leaves that to the background job and answers from the model it has.
 */
async function keptModel(ctx: ModuleContext, refresh: 'missing' | 'stale'): Promise<Kept> {
  for (let attempt = 0; ; attempt++) {
    let latest = await latestModel(ctx.db);
    if (!latest || (refresh === 'stale' && latest.source !== (await modelSource(ctx)).source)) {
      await trainModel(ctx, { reason: 'on-demand', ifStale: true });
      latest = await latestModel(ctx.db);
      if (!latest) throw new AppError('not_found', NO_ORDERS);
    }
    const cached = kept.get(ctx.db);
    if (cached && cached.version === latest.model_id) return cached.loading;
    const row = latest;
    const loading = loadModel(ctx.db, row);
    kept.set(ctx.db, { version: row.model_id, loading });
    try {
      return await loading;
    } catch (err) {
      kept.delete(ctx.db);
      // Dropped by two newer trainings between the two reads: take the newest again.
      if (err instanceof ModelGone && attempt < 3) continue;
      throw err;
    }
  }
}

class ModelGone extends Error {}

async function loadModel(db: Database, row: ModelRow): Promise<Kept> {
  const items = await modelItems(db, row.model_id);
  if (items.length !== row.items) throw new ModelGone(`model ${row.model_id} was replaced while loading`);
  const M = items.length;
  const model: RecommenderModel = {
    skus: new Array<string>(M),
    titles: new Array<string>(M),
    orders: new Int32Array(M),
    buyers: new Int32Array(M),
    repeaters: new Int32Array(M),
    customers: row.customers,
    transactions: row.orders,
    lastOrderAt: row.last_order_at ? row.last_order_at.getTime() : null,
    neighbourStart: new Int32Array(M + 1),
    neighbourCode: new Int32Array(row.neighbours),
    neighbourSim: new Float64Array(row.neighbours),
  };
  let at = 0;
  for (const it of items) {
    const c = it.code;
    model.skus[c] = it.sku;
    model.titles[c] = it.title;
    model.orders[c] = it.orders;
    model.buyers[c] = it.buyers;
    model.repeaters[c] = it.repeaters;
    if (it.neighbour_codes !== '') {
      const codes = it.neighbour_codes.split(' ');
      const sims = it.neighbour_sims.split(' ');
      for (let x = 0; x < codes.length; x++, at++) {
        model.neighbourCode[at] = Number(codes[x]);
        model.neighbourSim[at] = Number(sims[x]);
      }
    }
    model.neighbourStart[c + 1] = at;
  }
  if (at !== row.neighbours)
    throw new ModelGone(`model ${row.model_id} has ${at} neighbours, expected ${row.neighbours}`);
  return { row, model, scorers: new Map() };
}

function scorer(k: Kept, opts: { halfLifeDays: number; minRepeatRate: number }): Recommender {
  const key = `${opts.halfLifeDays}/${opts.minRepeatRate}`;
  let s = k.scorers.get(key);
  if (!s) {
    s = new Recommender({ model: k.model }, [], opts);
    if (k.scorers.size >= 8) k.scorers.clear();
    k.scorers.set(key, s);
  }
  return s;
}

/** `retain recommend --customer ID` / `GET /v1/customers/{id}/recommendations`: explainable top-N. */
export async function recommend(
  ctx: ModuleContext,
  input: RecommendOptions,
  refresh: 'missing' | 'stale' = 'missing',
) {
  if (!usesKeptExclusions(input))
    return oneOff(ctx, input, 'non-default exclusions: trained for this request on the stored orders');
  const k = await keptModel(ctx, refresh);
  // The kept model learnt from every stored order; one as of an earlier time must not see later ones.
  if (input.asOf && k.model.lastOrderAt !== null && input.asOf.getTime() <= k.model.lastOrderAt)
    return oneOff(
      ctx,
      input,
      'asOf before the kept model’s last order: trained for this request on the orders before it',
    );
  const s = scorer(k, input);
  // The history the model learnt (one look-up by key); a customer whose first product order came
  // after the training is read from the orders (a scan, until the next training).
  const kept = await modelHistory(ctx.db, k.row.model_id, input.customer);
  const history =
    kept !== undefined
      ? decodeHistory(kept)
      : historyOver(
          s.codeOf,
          await loadBaskets(ctx.db, {
            customerId: input.customer,
            ...(input.asOf ? { until: input.asOf } : {}),
          }),
          keptModelExclusions((await getStore(ctx)).nonProductSkus),
        );
  if (history.length === 0) throw noProductOrders(input.customer);
  const recommendations = s.recommendFor(history, {
    n: input.n,
    ...(input.asOf ? { asOf: input.asOf } : {}),
  });
  const asOf = input.asOf ?? new Date(Math.max(...history.map((o) => o.at)));
  const model: ModelUsed = { version: k.row.model_id, trainedAt: k.row.trained_at.toISOString() };
  return {
    customer: input.customer,
    asOf: asOf.toISOString(),
    orders: history.length,
    recommendations,
    model,
  };
}

/** Recommendations from a model trained for this request (on a mining worker), as before the kept model. */
async function oneOff(ctx: ModuleContext, input: RecommendOptions, note: string) {
  const rows = await loadPackedBaskets(ctx.db, input.asOf ? { until: input.asOf } : {});
  if (rows.length === 0)
    throw new AppError(
      'not_found',
      input.asOf ? 'no orders with customers and products in the chosen period' : NO_ORDERS,
    );
  const r = await mine('recommend', input, rows, await loadProducts(ctx.db));
  const model: ModelUsed = { version: null, trainedAt: ctx.clock.now().toISOString(), note };
  return { ...r, model };
}
