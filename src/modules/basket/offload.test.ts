import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModuleContext } from '../../kit/context.js';
import { WorkerPool } from '../../kit/workerPool.js';
import { AppError } from '../../shared/errors.js';
import type { Database } from '../../storage/port.js';
import { REPO_ROOT, bundleForTest } from '../../../test/support/bundle.js';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { OrderLineInput, type OrderLineRow } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import { configureMining, miningInFlight, miningOffThread } from './offload.js';
import { BundlesInput, EvaluateOptions, FbtInput, ItemsetsInput, RulesInput, UpsellInput } from './schema.js';
import * as service from './service.js';

/** Baskets over 30 products with a few strong pairs, 300 orders of 60 customers. */
async function seed(db: Database): Promise<void> {
  const rows: OrderLineRow[] = [];
  let s = 3;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let o = 0; o < 300; o++) {
    const a = Math.floor(rnd() * 30);
    const skus = new Set([`P${a}`, `P${(a + 1) % 30}`, `P${Math.floor(rnd() * 30)}`, 'POST']);
    for (const sku of skus)
      rows.push(
        OrderLineInput.parse({
          order_id: `o${o}`,
          customer_id: `c${o % 60}`,
          ordered_at: new Date(Date.UTC(2024, 0, 1 + (o % 200))).toISOString(),
          currency: 'EUR',
          sku,
          quantity: '1',
          unit_price: sku === 'POST' ? '3.95' : `${5 + (a % 7)}.00`,
        }),
      );
  }
  await mergeRows(db, { entity: 'orders', rows }, new Date());
}

const withoutSeconds = (r: unknown) => ({ ...(r as Record<string, unknown>), seconds: 0 });

const RUNS: [string, (ctx: ModuleContext) => Promise<unknown>][] = [
  ['itemsets', (ctx) => service.itemsets(ctx, ItemsetsInput.parse({ minSupport: '0.01', maxSize: '3' }))],
  [
    'rules',
    (ctx) => service.rules(ctx, RulesInput.parse({ minSupport: '0.01', minConfidence: '0.2', top: '20' })),
  ],
  ['bundles', (ctx) => service.bundles(ctx, BundlesInput.parse({ minSupport: '0.01', minLift: '1' }))],
  ['fbt', (ctx) => service.fbt(ctx, FbtInput.parse({ minCount: '1' }))],
  ['upsell', (ctx) => service.upsell(ctx, UpsellInput.parse({ minCustomers: '1', minPriceRatio: '1.1' }))],
  ['evaluate', (ctx) => service.evaluate(ctx, EvaluateOptions.parse({ k: '5' }))],
];

describe.each(testEngines())('basket mining on worker threads on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  let workerFile: string;
  const inline = new Map<string, unknown>();

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db);
    await seed(db);
    workerFile = await bundleForTest(join(REPO_ROOT, 'src/modules/basket/worker.ts'), 'basket-worker');
    await configureMining({ workerFile: null });
    expect(miningOffThread()).toBe(false);
    for (const [name, run] of RUNS) inline.set(name, withoutSeconds(await run(ctx)));
    await configureMining({ workerFile, workers: 2 });
  });
  afterAll(async () => {
    await configureMining({});
    await dispose();
  });

  it.each(RUNS)('%s gives the same result as on the calling thread', async (name, run) => {
    expect(miningOffThread()).toBe(true);
    expect(withoutSeconds(await run(ctx))).toEqual(inline.get(name));
  });

  it('leaves the event loop free while a worker mines', async () => {
    let done = false;
    const mining = service
      .rules(ctx, RulesInput.parse({ minSupport: '0.003', minConfidence: '0', maxSize: '4' }))
      .finally(() => (done = true));
    let turnsWhileMining = 0;
    for (let i = 0; !done && i < 10_000_000; i++) {
      await new Promise((ok) => setImmediate(ok));
      if (miningInFlight() > 0) turnsWhileMining++;
    }
    expect((await mining).rules).toBeGreaterThan(0);
    // The event loop went round while the task was on the worker (on the calling thread it cannot).
    expect(turnsWhileMining).toBeGreaterThan(0);
  });

  it('brings an error thrown on the worker back as the same AppError', async () => {
    await expect(
      service.itemsets(
        ctx,
        ItemsetsInput.parse({ minSupport: '0.5', excludeSku: Array.from({ length: 30 }, (_, i) => `P${i}`) }),
      ),
    ).rejects.toMatchObject({
      code: 'validation',
      message: 'no baskets left after excluding non-product lines',
    });
  });

  it('trains the kept model on a worker: the same model as on the calling thread', async () => {
    const offThread = await service.trainModel(ctx, { reason: 'cli' });
    const r1 = await service.recommend(ctx, {
      customer: 'c1',
      n: 5,
      halfLifeDays: 90,
      minRepeatRate: 0.1,
      defaultExclusions: true,
    });
    await configureMining({ workerFile: null });
    const onThread = await service.trainModel(ctx, { reason: 'cli' });
    const r2 = await service.recommend(ctx, {
      customer: 'c1',
      n: 5,
      halfLifeDays: 90,
      minRepeatRate: 0.1,
      defaultExclusions: true,
    });
    await configureMining({ workerFile, workers: 2 });
    expect({ ...offThread, version: 0, seconds: 0 }).toEqual({ ...onThread, version: 0, seconds: 0 });
    expect(r1.recommendations).toEqual(r2.recommendations);
    expect(r2.model.version).toBe(r1.model.version! + 1);
  });
});

describe('the worker pool', () => {
  it('fails the task of a worker that dies, and starts a fresh one for the next', async () => {
    const file = join(REPO_ROOT, 'node_modules', '.cache', `pool-test-${process.pid}.mjs`);
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(REPO_ROOT, 'node_modules', '.cache'), { recursive: true });
    writeFileSync(
      file,
      `import { parentPort } from 'node:worker_threads';
       parentPort.on('message', (t) => { if (t === 'die') process.exit(3); parentPort.postMessage({ ok: true, value: t * 2 }); });`,
    );
    const pool = new WorkerPool({ file, size: 1, name: 'test worker', idleMs: 50 });
    try {
      await expect(pool.run('die')).rejects.toThrow(/test worker stopped: exit code 3/);
      await expect(pool.run(21)).resolves.toBe(42);
      await expect(pool.run('die')).rejects.toBeInstanceOf(AppError);
      expect(await Promise.all([pool.run(1), pool.run(2), pool.run(3)])).toEqual([2, 4, 6]);
    } finally {
      await pool.close();
    }
  });
});
