import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder } from '../orders/service.js';

/**
 * Issue 24: "200 concurrent redemptions on one balance over HTTP, on Postgres and on DuckDB → never
 * below the floor, each idempotency key applied once". A real listener on 127.0.0.1; 200 requests at
 * once on one member holding 5,000 points: 150 distinct keys of 37 points (5,550 asked: some must be
 * refused) and 50 retries of those keys sent at the same time as their first attempt. The latency
 * figures are printed (the bench, `npm run bench -- loyalty`, is where they are measured).
 */
describe.each(testEngines())('loyalty redemptions under concurrency on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let base: string;
  let key: string;
  let close: () => void;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    const t = await testApp(db, {
      config: { authCacheMs: 60_000, rateLimit: { perSecond: 100_000, burst: 100_000 } },
    });
    key = t.keys.agent;
    await upsertOrder(t.deps, {
      body: {
        order_id: 'O1',
        customer_id: 'ann',
        ordered_at: '2020-01-01T00:00:00Z',
        currency: 'EUR',
        lines: [{ sku: 'X', quantity: 1, unit_price: '1.00' }],
      },
    });
    const put = await t.call('PUT', '/v1/loyalty/program', {
      role: 'admin',
      body: { currency: 'EUR', pointValue: { points: 1, minor: 1 }, redemption: { minPoints: 1 } },
    });
    expect(put.status).toBe(200);
    expect(
      (await t.call('POST', '/v1/loyalty/members', { role: 'agent', body: { customer: 'ann' } })).status,
    ).toBe(201);
    const adj = await t.call('POST', '/v1/loyalty/adjustments', {
      role: 'admin',
      body: { customer: 'ann', points: 5000, reason: 'opening balance', idempotencyKey: 'open' },
    });
    expect(adj.json.member.available).toBe(5000);
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(async () => {
    close();
    await dispose();
  });

  it('never spends below 0 and applies each key once', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
    const sends = [...keys, ...keys.slice(0, 50)];
    const timings: number[] = [];
    const results = await Promise.all(
      sends.map(async (k) => {
        const t0 = performance.now();
        const res = await fetch(`${base}/v1/loyalty/redemptions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ customer: 'ann', points: 37, idempotencyKey: k }),
        });
        const json = (await res.json()) as { redemption?: { id: number }; error?: { message: string } };
        timings.push(performance.now() - t0);
        return { k, status: res.status, json };
      }),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 201 || s === 409)).toBe(true);
    const applied = new Map<string, number>();
    for (const r of results)
      if (r.status === 201) {
        expect(applied.has(r.k)).toBe(false); // a key is applied once
        applied.set(r.k, r.json.redemption!.id);
      }
    // A retry answers the same redemption.
    for (const r of results) if (r.status === 200) expect(r.json.redemption!.id).toBe(applied.get(r.k));
    // 5,000 / 37 = 135 fit; the rest are refused (409, nothing written).
    expect(applied.size).toBe(135);
    for (const r of results)
      if (r.status === 409) expect(r.json.error!.message).toMatch(/cannot redeem 37 points: 5 available/);
    const [m] = await db.query<{ available: number; a: number; redemptions: number; redeems: number }>(
      `SELECT m.available,
         (SELECT SUM(available_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id) AS a,
         (SELECT COUNT(*) FROM loyalty_redemptions r WHERE r.customer_id = m.customer_id) AS redemptions,
         (SELECT COUNT(*) FROM loyalty_entries e WHERE e.customer_id = m.customer_id AND e.type = 'redeem') AS redeems
       FROM loyalty_members m`,
    );
    expect(m).toEqual({ available: 5, a: 5, redemptions: 135, redeems: 135 });
    timings.sort((a, b) => a - b);
    const q = (p: number) =>
      timings[Math.min(timings.length - 1, Math.ceil(p * timings.length) - 1)]!.toFixed(1);
    console.log(
      `[loyalty ${engine}] 200 concurrent redemptions: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`,
    );
  });
});
