import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { OrderLineInput, ProductInput, type OrderLineRow } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import { JobRunner } from '../jobs/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { BASKET_JOBS, RETRAIN_DEBOUNCE_MS, TRAIN_JOB, retrainSubscriber } from './jobs.js';
import { RecommendOptions } from './schema.js';
import { loadOrderData, modelInfo, recommend, recommendOf, trainModel } from './service.js';

/**
 * A small shop with structure: 40 customers over 12 products (a few bought again and again, pairs
 * bought together), postage lines, and orders spread over 2024. `batch` shifts the customers and
 * days so a second batch adds new orders (and one new product).
 */
function orders(batch: number): OrderLineRow[] {
  let seed = 7 + batch * 101;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const skus = [
    'TEA',
    'HONEY',
    'MUG',
    'SAUCER',
    'COFFEE',
    'FILTER',
    'GRINDER',
    'JAM',
    'BREAD',
    'BUTTER',
    'CUP',
    'SPOON',
  ];
  if (batch > 0) skus.push('KETTLE');
  const rows: OrderLineRow[] = [];
  for (let o = 0; o < 160; o++) {
    const customer = `c${(o * 7 + batch * 3) % 40}`;
    const day = 1 + ((o * 13 + batch * 5) % 300);
    const at = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000 + batch * 400 * 86_400_000);
    const first = Math.floor(rnd() * skus.length);
    const picked = new Set([skus[first]!, skus[(first + 1) % skus.length]!]);
    while (rnd() < 0.5) picked.add(skus[Math.floor(rnd() * skus.length)]!);
    const lines = [...picked, ...(o % 3 === 0 ? ['POST'] : [])];
    for (const sku of lines)
      rows.push(
        OrderLineInput.parse({
          order_id: `b${batch}-o${o}`,
          customer_id: customer,
          ordered_at: at.toISOString(),
          currency: 'EUR',
          sku,
          title: sku === 'POST' ? 'Postage' : undefined,
          quantity: String(1 + (o % 3)),
          unit_price: sku === 'POST' ? '3.95' : `${2 + (sku.length % 5)}.50`,
        }),
      );
  }
  return rows;
}

async function seed(db: Database, batch: number): Promise<void> {
  if (batch === 0) {
    const products = ['TEA', 'HONEY', 'MUG', 'SAUCER', 'COFFEE', 'FILTER'].map((sku) =>
      ProductInput.parse({ sku, title: `${sku.toLowerCase()} (catalogue)`, price: '4.00', currency: 'EUR' }),
    );
    await mergeRows(db, { entity: 'products', rows: products }, new Date());
  }
  const rows = orders(batch);
  // Several writes of 40 whole orders, as API calls would make: each records its order.placed events.
  for (let first = 0; first < 160; first += 40) {
    const ids = new Set(Array.from({ length: 40 }, (_, i) => `b${batch}-o${first + i}`));
    await mergeRows(db, { entity: 'orders', rows: rows.filter((r) => ids.has(r.orderId)) }, new Date());
  }
}

const options = (customer: string, extra: Record<string, string> = {}) =>
  RecommendOptions.parse({ customer, n: '6', ...extra });
const customersOf = async (ctx: ModuleContext) => [
  ...new Set((await loadOrderData(ctx)).baskets.map((b) => b.customerId)),
];
const withoutModel = ({ model: _, ...rest }: Record<string, unknown>) => rest;

describe.each(testEngines())('the kept recommendation model on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let clock: ManualClock;
  let ctx: ModuleContext;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    clock = new ManualClock('2026-03-01T10:00:00Z');
    ctx = testContext(db, clock);
    await seed(db, 0);
  });
  afterAll(() => dispose());

  it('is trained on first use, then answers as recommendOf does on the same orders, for every customer', async () => {
    expect(await modelInfo(ctx)).toBeNull();
    const first = await recommend(ctx, options('c1'));
    expect(first.model).toEqual({ version: 1, trainedAt: '2026-03-01T10:00:00.000Z' });
    const data = await loadOrderData(ctx);
    for (const customer of await customersOf(ctx))
      for (const extra of [
        {},
        { halfLifeDays: '20', minRepeatRate: '0' },
        { minRepeatRate: '0.9', n: '3' },
      ] as Record<string, string>[]) {
        const kept = await recommend(ctx, options(customer, extra));
        expect(kept.model.version).toBe(1);
        expect(withoutModel(kept)).toEqual(recommendOf(data, options(customer, extra)));
      }
    const info = await modelInfo(ctx);
    expect(info).toMatchObject({
      version: 1,
      reason: 'on-demand',
      upToDate: true,
      customers: 40,
      orders: 160,
    });
    expect(info!.items).toBe(12); // POST is not a product
    expect((await db.query('SELECT COUNT(*) AS n FROM reco_models'))[0]).toEqual({ n: 1 });
  });

  it('answers 404 for a customer without product orders, and a one-off model for an earlier asOf or other exclusions', async () => {
    await expect(recommend(ctx, options('nobody'))).rejects.toMatchObject({
      code: 'not_found',
      message: 'customer nobody has no orders with products',
    });
    const asOf = new Date('2024-06-01T00:00:00Z');
    const early = await recommend(ctx, options('c3', { asOf: asOf.toISOString() }));
    expect(early.model).toMatchObject({ version: null, note: expect.stringContaining('asOf') });
    expect(withoutModel(early)).toEqual(
      recommendOf(await loadOrderData(ctx, { until: asOf }), options('c3', { asOf: asOf.toISOString() })),
    );
    // An asOf after every order is the kept model's.
    expect((await recommend(ctx, options('c3', { asOf: '2030-01-01' }))).model.version).toBe(1);
    const withPostage = await recommend(
      ctx,
      RecommendOptions.parse({ customer: 'c3', defaultExclusions: false }),
    );
    expect(withPostage.model.version).toBeNull();
    expect(withPostage.recommendations.map((r) => r.sku)).toContain('POST');
  });

  it('is retrained once, in the background, after orders are recorded (debounced), and keeps two versions', async () => {
    const dispatcher = new Dispatcher({ ctx, subscribers: [retrainSubscriber] });
    await dispatcher.register(); // starts `now`: only what is recorded from here on
    await seed(db, 1);
    expect(await dispatcher.drain()).toBeGreaterThan(100);
    const jobs = await db.query<{ idempotency_key: string; run_at: Date }>(
      `SELECT idempotency_key, run_at FROM jobs WHERE kind = $1`,
      [TRAIN_JOB],
    );
    expect(jobs).toHaveLength(1); // 160 orders, several batches: one job
    expect(jobs[0]!.run_at.getTime() - clock.now().getTime()).toBeLessThanOrEqual(RETRAIN_DEBOUNCE_MS);
    expect((await modelInfo(ctx))!.upToDate).toBe(false);
    // Until the job runs the server answers from model 1.
    expect((await recommend(ctx, options('c1'))).model.version).toBe(1);

    const runner = new JobRunner({ db, handlers: BASKET_JOBS, clock, logger: pino({ level: 'silent' }) });
    expect(await runner.drain()).toBe(0); // not due yet
    clock.advance(RETRAIN_DEBOUNCE_MS);
    expect(await runner.drain()).toBe(1);
    const info = await modelInfo(ctx);
    expect(info).toMatchObject({ version: 2, reason: 'job', upToDate: true, orders: 320, items: 13 });
    const data = await loadOrderData(ctx);
    for (const customer of ['c0', 'c1', 'c7', 'c39']) {
      const kept = await recommend(ctx, options(customer));
      expect(kept.model.version).toBe(2);
      expect(withoutModel(kept)).toEqual(recommendOf(data, options(customer)));
    }

    // A job for orders already learnt finds the model up to date; a forced one trains.
    const again = await ctx.jobs.enqueue(TRAIN_JOB, {}, { idempotencyKey: 'again' });
    const forced = await ctx.jobs.enqueue(TRAIN_JOB, { force: true }, { idempotencyKey: 'forced' });
    expect(await runner.drain()).toBe(2);
    const results = [];
    for (const { job } of [again, forced]) results.push((await ctx.jobs.get(job.jobId))!.result);
    expect(results).toMatchObject([
      { version: 2, upToDate: true },
      { version: 3, upToDate: false },
    ]);
    expect((await recommend(ctx, options('c1'))).model.version).toBe(3);
    // The model in use and the one before it are kept; older ones go.
    expect(await db.query('SELECT model_id FROM reco_models ORDER BY model_id')).toEqual([
      { model_id: 2 },
      { model_id: 3 },
    ]);
    expect(await db.query('SELECT DISTINCT model_id FROM reco_items ORDER BY model_id')).toEqual([
      { model_id: 2 },
      { model_id: 3 },
    ]);
  });

  it('is retrained before answering when the CLI finds it older than the orders', async () => {
    await mergeRows(
      db,
      {
        entity: 'orders',
        rows: orders(2).filter((r) => r.orderId === 'b2-o0'),
      },
      new Date(),
    );
    expect((await recommend(ctx, options('c1'))).model.version).toBe(3); // the server's way: the job will come
    // A customer new since the training: their history comes from the stored orders meanwhile.
    await mergeRows(
      db,
      {
        entity: 'orders',
        rows: ['TEA', 'HONEY', 'NEWTHING'].map((sku) =>
          OrderLineInput.parse({
            order_id: 'newbie-1',
            customer_id: 'newbie',
            ordered_at: '2026-01-05T10:00:00Z',
            currency: 'EUR',
            sku,
            quantity: '1',
            unit_price: '4.00',
          }),
        ),
      },
      new Date(),
    );
    const newbie = await recommend(ctx, options('newbie'));
    expect(newbie).toMatchObject({ orders: 1, model: { version: 3 } });
    expect(newbie.recommendations.map((r) => r.sku)).not.toContain('NEWTHING'); // unknown to model 3
    const cli = await recommend(ctx, options('c1'), 'stale');
    expect(cli.model.version).toBe(4);
    expect((await trainModel(ctx, { reason: 'cli', ifStale: true })).upToDate).toBe(true);
  });

  it('is shown and retrained over HTTP', async () => {
    const t = await testApp(db);
    const shown = await t.call('GET', '/v1/recommendations/model', { role: 'analyst' });
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ version: 4, upToDate: true, items: 14 });
    expect((await t.call('POST', '/v1/recommendations/model', { role: 'marketer' })).status).toBe(403);
    const skipped = await t.call('POST', '/v1/recommendations/model', {
      role: 'analyst',
      body: { ifStale: true },
    });
    expect(skipped.json).toMatchObject({ version: 4, upToDate: true });
    const trained = await t.call('POST', '/v1/recommendations/model', { role: 'analyst' });
    expect(trained.status).toBe(200);
    expect(trained.json).toMatchObject({ version: 5, reason: 'api', upToDate: false });
    const bad = await t.call('POST', '/v1/recommendations/model', {
      role: 'analyst',
      body: { ifStale: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues[0].path).toBe('ifStale');
    const r = await t.call('GET', '/v1/customers/c1/recommendations?n=3', { role: 'agent' });
    expect(r.status).toBe(200);
    expect(r.json.model).toMatchObject({ version: 5 });
    const unknown = await t.call('GET', '/v1/customers/zzz/recommendations', { role: 'agent' });
    expect(unknown.status).toBe(404);
  });
  it("leaves out the store's non-product SKUs, and is stale when they change", async () => {
    const { updateStore } = await import('../settings/service.js');
    const before = await recommend(ctx, options('c1'), 'stale');
    const sku = (await loadOrderData(ctx)).products.find((p) => p.sku === 'TEA') ? 'TEA' : null;
    expect(sku).toBe('TEA');
    await updateStore(ctx, { nonProductSkus: ['TEA'] });
    try {
      // The SKUs changed: the model is stale, retrained without TEA, and answers as a model trained so.
      expect((await trainModel(ctx, { reason: 'cli', ifStale: true })).upToDate).toBe(false);
      const after = await recommend(ctx, options('c1'), 'stale');
      expect(after.model.version!).toBeGreaterThan(before.model.version!);
      const items = await db.query<{ sku: string }>(
        `SELECT sku FROM reco_items WHERE model_id = (SELECT MAX(model_id) FROM reco_models)`,
      );
      expect(items.map((r) => r.sku)).not.toContain('TEA');
      const data = await loadOrderData(ctx);
      expect(withoutModel(after)).toEqual(recommendOf(data, { ...options('c1'), excludeSku: ['TEA'] }));
    } finally {
      await updateStore(ctx, { nonProductSkus: [] });
    }
  });
});

describe.each(testEngines())('before the first import on %s', (engine) => {
  it('answers 404 saying what to do, and GET /v1/recommendations/model answers 404', async () => {
    const { db, dispose } = await freshDatabase(engine);
    try {
      const ctx = testContext(db);
      await expect(trainModel(ctx, { reason: 'cli' })).rejects.toMatchObject({
        code: 'not_found',
        message: expect.stringContaining('retain import orders'),
      });
      const t = await testApp(db);
      const r = await t.call('GET', '/v1/recommendations/model', { role: 'analyst' });
      expect(r.status).toBe(404);
      expect(r.json.error.message).toContain('POST /v1/recommendations/model');
    } finally {
      await dispose();
    }
  });
});
