import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderLineRow } from '../modules/imports/schema.js';
import { mergeRows } from '../modules/ingest/service.js';
import { JobRunner } from '../modules/jobs/service.js';
import type { Database } from '../storage/port.js';
import { freshDatabase, testEngines } from '../storage/testing.js';
import { JOB_HANDLERS } from './jobs.js';
import { testApp } from './testing.js';

describe.each(testEngines())('CLV over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
    // 300 customers with 1–6 orders over 2023 (deterministic LCG).
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const rows: OrderLineRow[] = [];
    for (let c = 0; c < 300; c++) {
      const n = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < n; k++)
        rows.push({
          orderId: `o-${c}-${k}`,
          customerId: `c-${c}`,
          orderedAt: new Date(Date.UTC(2023, 0, 1) + Math.floor(rand() * 360) * 86_400_000),
          currency: 'EUR',
          hasLine: false,
          sku: null,
          title: null,
          quantity: null,
          unitPriceMinor: null,
          lineTotalMinor: null,
          orderTotalMinor: 1000 + Math.floor(rand() * 5000),
          discountMinor: null,
          shippingMinor: null,
          taxMinor: null,
          channel: null,
          source: null,
          status: 'paid',
          country: null,
          email: null,
        } as OrderLineRow);
    }
    await mergeRows(db, { entity: 'orders', rows }, new Date());
  });
  afterAll(() => dispose());

  it('runs a prediction job and serves a customer prediction', async () => {
    const body = { calibrationEnd: '2023-12-31', horizon: 26, force: true };
    expect((await t.call('POST', '/v1/clv/predictions', { role: 'marketer', body })).status).toBe(403);
    const bad = await t.call('POST', '/v1/clv/predictions', {
      role: 'analyst',
      body: { ...body, horizon: -1 },
    });
    expect(bad.status).toBe(400);
    expect((await t.call('GET', '/v1/customers/c-1/clv', { role: 'agent' })).status).toBe(404);
    const queued = await t.call('POST', '/v1/clv/predictions', { role: 'analyst', body });
    expect(queued.status).toBe(202);
    await new JobRunner({ db, handlers: JOB_HANDLERS, logger: pino({ level: 'silent' }) }).drain();
    const done = await t.call('GET', `/v1/clv/predictions/${queued.json.jobId}`, { role: 'analyst' });
    expect(done.json).toMatchObject({ status: 'done', result: { customers: 300, model: 'bgnbd' } });
    const p = await t.call('GET', '/v1/customers/c-1/clv', { role: 'agent' });
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ customerId: 'c-1', horizon: 26, timeUnit: 'week', currency: 'EUR' });
    expect(p.json.clvMinor).toBeGreaterThan(0);
    expect(p.json.pAlive).toBeGreaterThan(0);
    expect(p.json.pAlive).toBeLessThanOrEqual(1);
  });
});
