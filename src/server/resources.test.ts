import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRunner } from '../modules/jobs/service.js';
import type { Database } from '../storage/port.js';
import { freshDatabase, testEngines } from '../../test/support/storage.js';
import { jobHandlers } from '../modules/registry.js';
import { testApp } from '../../test/support/server.js';

describe.each(testEngines())('products, spend, reports and imports over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let uploadDir: string;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    uploadDir = mkdtempSync(join(tmpdir(), 'retain-uploads-test-'));
    t = await testApp(db, { config: { authCacheMs: 0, uploadDir } });
  });
  afterAll(async () => {
    await dispose();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('upserts, gets and pages products', async () => {
    const put = await t.call('PUT', '/v1/products/MUG', {
      role: 'admin',
      body: { title: 'Mug', price: 12.5, unit_cost: '4', currency: 'eur', category: 'kitchen' },
    });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ sku: 'MUG', priceMinor: 1250, unitCostMinor: 400, currency: 'EUR' });
    expect(
      (
        await t.call('PUT', '/v1/products/MUG', {
          role: 'admin',
          body: { title: 'Mug', price: 12.5, unit_cost: '4', currency: 'eur', category: 'kitchen' },
        })
      ).status,
    ).toBe(200);
    for (const sku of ['A', 'B', 'C'])
      await t.call('PUT', `/v1/products/${sku}`, { role: 'admin', body: { currency: 'EUR' } });
    const first = await t.call('GET', '/v1/products?limit=3', { role: 'agent' });
    expect(first.json.data.map((p: { sku: string }) => p.sku)).toEqual(['A', 'B', 'C']);
    const second = await t.call('GET', `/v1/products?limit=3&cursor=${first.json.nextCursor}`, {
      role: 'agent',
    });
    expect(second.json).toMatchObject({ data: [{ sku: 'MUG' }], nextCursor: null });
    expect(
      (await t.call('GET', '/v1/products?category=kitchen', { role: 'analyst' })).json.data,
    ).toHaveLength(1);
    expect((await t.call('GET', '/v1/products/NOPE', { role: 'analyst' })).status).toBe(404);
    const bad = await t.call('PUT', '/v1/products/X', {
      role: 'admin',
      body: { price: '-1', currency: 'EURO' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path)).toContain('currency');
    expect(
      (await t.call('PUT', '/v1/products/X', { role: 'marketer', body: { currency: 'EUR' } })).status,
    ).toBe(403);
  });

  it('upserts and lists spend by day, channel and campaign', async () => {
    const rows = [
      { date: '2024-01-01', channel: 'Google', campaign: 'brand', amount: '10.00', currency: 'EUR' },
      { date: '2024-01-01', channel: 'meta', amount: 5, currency: 'EUR' },
      { date: '2024-01-02', channel: 'google', campaign: 'brand', amount: '7.5', currency: 'EUR' },
    ];
    expect((await t.call('POST', '/v1/spend', { role: 'admin', body: { rows } })).json).toEqual({
      inserted: 3,
      updated: 0,
      unchanged: 0,
    });
    expect((await t.call('POST', '/v1/spend', { role: 'admin', body: { rows } })).json).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 3,
    });
    const bad = await t.call('POST', '/v1/spend', {
      role: 'admin',
      body: { rows: [rows[0], { date: '2024-13-01', channel: 'x', amount: 'a', currency: 'EUR' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual([
      'rows.1.date',
      'rows.1.amount',
    ]);
    const p1 = await t.call('GET', '/v1/spend?limit=2', { role: 'analyst' });
    expect(p1.json.data).toEqual([
      { date: '2024-01-01', channel: 'google', campaign: 'brand', amountMinor: 1000, currency: 'EUR' },
      { date: '2024-01-01', channel: 'meta', campaign: '', amountMinor: 500, currency: 'EUR' },
    ]);
    const p2 = await t.call('GET', `/v1/spend?limit=2&cursor=${p1.json.nextCursor}`, { role: 'analyst' });
    expect(p2.json).toMatchObject({ data: [{ date: '2024-01-02', amountMinor: 750 }], nextCursor: null });
    expect(
      (await t.call('GET', '/v1/spend?from=2024-01-02&channel=GOOGLE', { role: 'analyst' })).json.data,
    ).toHaveLength(1);
    expect((await t.call('GET', '/v1/spend?from=Jan', { role: 'analyst' })).status).toBe(400);
  });

  it('imports an uploaded file as a job and reports rejected rows; the same upload is one import', async () => {
    const csv = [
      'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price',
      'O-1,c-1,2024-01-05 10:00,EUR,MUG,1,12.50',
      'O-2,c-2,2024-01-20 10:00,EUR,MUG,2,12.50',
      'O-3,c-1,not a date,EUR,MUG,1,12.50',
      'O-4,c-1,2024-02-10 10:00,EUR,TEA,3,7.00',
    ].join('\n');
    const upload = () =>
      t.app.request('/v1/imports/orders?filename=orders.csv.gz', {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'application/octet-stream' },
        body: gzipSync(csv),
      });
    const r = await upload();
    expect(r.status).toBe(202);
    const queued = (await r.json()) as { importId: number; status: string };
    expect(queued.status).toBe('queued');
    expect(r.headers.get('location')).toBe(`/v1/imports/${queued.importId}`);
    const again = (await (await upload()).json()) as { importId: number };
    expect(again.importId).toBe(queued.importId);

    const runner = new JobRunner({ db, handlers: await jobHandlers(), logger: pino({ level: 'silent' }) });
    expect(await runner.drain()).toBe(1);
    const done = await t.call('GET', `/v1/imports/${queued.importId}`, { role: 'analyst' });
    expect(done.json).toMatchObject({
      status: 'done',
      entity: 'orders',
      file: 'orders.csv.gz',
      report: { rows: 4, inserted: 3, rejected: 1, errors: [{ line: 4 }] },
    });
    expect((await t.call('GET', '/v1/imports/99999', { role: 'analyst' })).status).toBe(404);
    expect((await t.call('GET', `/v1/imports/${queued.importId}`, { role: 'agent' })).status).toBe(403);
    expect((await t.call('POST', '/v1/imports/widgets', { role: 'admin', body: 'x' })).status).toBe(400);
    expect((await t.call('POST', '/v1/imports/orders', { role: 'analyst', body: 'x' })).status).toBe(403);
    const small = await testApp(db, { config: { authCacheMs: 0, uploadDir, maxUploadBytes: 10 } });
    expect((await small.call('POST', '/v1/imports/orders', { role: 'admin', body: csv })).status).toBe(413);

    // `map` renames columns as `retain import --map` does; a failed import names the upload, not the server's copy.
    const post = (query: string, body: string) =>
      t.app.request(`/v1/imports/orders?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'text/csv' },
        body,
      });
    const mapped = await post(
      'filename=shop.csv&map=' +
        encodeURIComponent('Order Number=order_id') +
        '&map=' +
        encodeURIComponent('Buyer=customer_id'),
      'Order Number,Buyer,ordered_at,currency,sku,quantity,unit_price\nM-1,c-9,2024-03-11 10:00,EUR,MUG,1,12.50\n',
    );
    expect(mapped.status).toBe(202);
    const broken = await post('filename=broken.csv', 'what,is,this\n1,2,3\n');
    expect((await post('map=nonsense', 'x\n')).status).toBe(400);
    const ids = [
      (await mapped.json()) as { importId: number },
      (await broken.json()) as { importId: number },
    ];
    await runner.drain();
    const m = await t.call('GET', `/v1/imports/${ids[0]!.importId}`, { role: 'analyst' });
    expect(m.json).toMatchObject({ status: 'done', report: { inserted: 1, rejected: 0 } });
    const b = await t.call('GET', `/v1/imports/${ids[1]!.importId}`, { role: 'analyst' });
    expect(b.json.lastError).toContain('broken.csv');
    expect(b.json.lastError).not.toContain(uploadDir);

    // An Idempotency-Key reused for another file is a conflict: nothing queued, nothing left behind.
    const keyed = (body: string, key: string, query = 'filename=k.csv') =>
      t.app.request(`/v1/imports/orders?${query}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.keys.admin}`,
          'content-type': 'text/csv',
          'idempotency-key': key,
        },
        body,
      });
    const first = 'order_id,customer_id,ordered_at,currency,order_total\nK-1,c-1,2024-03-01,EUR,5.00\n';
    const k1 = await keyed(first, 'batch-7');
    expect(k1.status).toBe(202);
    const k1again = await keyed(first, 'batch-7');
    expect(((await k1again.json()) as { importId: number }).importId).toBe(
      ((await k1.json()) as { importId: number }).importId,
    );
    const files = () => readdirSync(uploadDir).length;
    const before = files();
    const other = await keyed(first.replace('5.00', '6.00'), 'batch-7');
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { message: string } }).error.message).toContain(
      "Idempotency-Key 'batch-7' was used for another upload",
    );
    expect((await keyed(first, 'batch-7', 'filename=k.csv&decimal=comma')).status).toBe(409);
    expect(files()).toBe(before);
    // A long file name (the schema allows 200 characters) is stored under a short one; an unknown
    // preset is refused before the body is read.
    expect((await post(`filename=${'n'.repeat(196)}.csv`, first)).status).toBe(202);
    const bad = await post('preset=../../etc/passwd', first);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('unknown preset');
    expect(files()).toBe(before + 1);
  });

  it('serves reports with the CLI options and JSON, validated', async () => {
    const summary = await t.call('GET', '/v1/reports/summary?asOf=2024-02-29', { role: 'analyst' });
    expect(summary.status).toBe(200);
    expect(summary.json).toMatchObject({
      report: 'summary',
      asOf: '2024-02-29',
      currency: 'EUR',
      customers: 2,
      orders: 3,
    });
    expect((await t.call('GET', '/v1/reports/summary?asOf=2024-02-30', { role: 'analyst' })).status).toBe(
      400,
    );
    const retention = await t.call('GET', '/v1/reports/retention?period=month', { role: 'marketer' });
    expect(retention.status).toBe(200);
    expect(retention.json.report).toBe('retention');
    expect((await t.call('GET', '/v1/reports/cohorts?period=fortnight', { role: 'analyst' })).status).toBe(
      400,
    );
    expect((await t.call('GET', '/v1/reports/summary', { role: 'agent' })).status).toBe(403);
    expect((await t.call('GET', '/v1/reports/digest?out=x.html', { role: 'analyst' })).status).toBe(400);
  });

  it('refuses query parameters a route does not declare, naming the parameter and the accepted ones', async () => {
    const refused = async (path: string, name: string, known: string[]) => {
      const r = await t.call('GET', path, { role: 'admin' });
      expect(r.status, path).toBe(400);
      expect(r.json.error.code).toBe('validation');
      expect(r.json.error.details.issues, path).toEqual([
        { path: name, message: expect.stringContaining(`unknown query parameter ${name}`) },
      ]);
      for (const k of known) expect(r.json.error.message, path).toContain(k);
      return r;
    };
    // A misspelt name (asof for asOf) is refused, not ignored: the answer would be for another day.
    const asof = await refused('/v1/reports/summary?asof=2024-02-01', 'asof', ['known: asOf']);
    expect(asof.json.error.message).toBe('unknown query parameter asof; known: asOf');
    await refused('/v1/reports/cohorts?period=month&bye=channel', 'bye', [
      'asOf',
      'from',
      'to',
      'period',
      'by',
    ]);
    // Every route with a query schema, through the kit (securedRoute), not only the reports.
    await refused('/v1/products?limt=5', 'limt', ['limit', 'cursor']);
    await refused('/v1/orders?customer=c1', 'customer', ['limit', 'cursor', 'customerId']);
    await refused('/v1/customers?limit=5&sortBy=email', 'sortBy', ['limit', 'cursor', 'email', 'sort', 'q']);
    await refused('/v1/customers/c1/timeline?limit=5&kind=order', 'kind', ['limit', 'kinds']);
    await refused('/v1/spend?chanel=ads', 'chanel', ['limit', 'cursor', 'channel']);
    await refused('/v1/domain-events?since=0', 'since', ['limit', 'type', 'after']);
    // Known names still work, and the key is checked first.
    expect((await t.call('GET', '/v1/products?limit=5', { role: 'admin' })).status).toBe(200);
    expect((await t.call('GET', '/v1/reports/summary?asof=2024-02-01', { role: 'agent' })).status).toBe(403);
    expect((await t.app.request('/v1/products?limt=5')).status).toBe(401);
  });
});

describe.each(testEngines())('reports on an empty store (%s)', (engine) => {
  it('say there is nothing to report yet', async () => {
    const { db, dispose } = await freshDatabase(engine);
    try {
      const t = await testApp(db);
      const r = await t.call('GET', '/v1/reports/summary', { role: 'admin' });
      expect(r.status).toBe(404);
      expect(r.json.error.message).toContain('no orders yet');
    } finally {
      await dispose();
    }
  });
});

describe.each(testEngines())('recommendations over HTTP on %s', (engine) => {
  it('recommends for a customer with reasons; unknown customers and bad options are refused', async () => {
    const { db, dispose } = await freshDatabase(engine);
    try {
      const t = await testApp(db);
      const buy = (id: string, customer: string, day: number, skus: string[]) =>
        t.call('POST', '/v1/orders', {
          role: 'admin',
          body: {
            order_id: id,
            customer_id: customer,
            ordered_at: `2024-01-${String(day).padStart(2, '0')}T10:00:00Z`,
            currency: 'EUR',
            lines: skus.map((sku) => ({ sku, quantity: 1, unit_price: '5.00' })),
          },
        });
      let n = 0;
      for (const c of ['a', 'b', 'c', 'd']) {
        await buy(`o${n++}`, c, 2, ['MUG', 'TEA']);
        await buy(`o${n++}`, c, 9, ['MUG', 'COFFEE']);
      }
      await buy(`o${n++}`, 'e', 3, ['MUG']);
      const r = await t.call('GET', '/v1/customers/e/recommendations?n=2', { role: 'agent' });
      expect(r.status).toBe(200);
      expect(r.json.customer).toBe('e');
      expect(r.json.recommendations.length).toBeGreaterThan(0);
      expect(r.json.recommendations.length).toBeLessThanOrEqual(2);
      expect((await t.call('GET', '/v1/customers/e/recommendations?n=zero', { role: 'agent' })).status).toBe(
        400,
      );
      expect((await t.call('GET', '/v1/customers/e/recommendations')).status).toBe(401);
      expect((await t.call('GET', '/v1/customers/zzz/recommendations', { role: 'agent' })).status).toBe(404);
    } finally {
      await dispose();
    }
  });
});
