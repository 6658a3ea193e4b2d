import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { savePredictions } from '../clv/repository.js';

/**
 * GET /v1/customers with scores (the dashboard's Customers page): search by shop id, email and name,
 * sort by a score with customers lacking it last, keyset pages that continue the same sort, the total;
 * GET /v1/customers/{id}/scores.
 */
describe.each(testEngines())('the customer list with scores on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const now = new Date('2024-06-01T12:00:00Z');
  type Item = { id: string; scores: Record<string, unknown> };
  const ids = (r: { json: { data: Item[] } }) => r.json.data.map((c) => c.id);

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock: { now: () => now } });
    const people = [
      ['a-1', 'Ann', 'Lee', 'ann@shop.test'],
      ['b-2', 'Bob', 'Stone', 'bob@shop.test'],
      ['c-3', 'Cleo', 'Park', 'cleo@mail.test'],
      ['d-4', 'Dan', 'Ward', 'dan_w@mail.test'],
      ['e-5', 'Eve', 'Stone', null],
    ] as const;
    for (const [id, first, last, email] of people) {
      const r = await t.call('POST', '/v1/customers', {
        role: 'admin',
        body: { customer_id: id, first_name: first, last_name: last, ...(email ? { email } : {}) },
      });
      expect(r.status).toBe(201);
    }
    // Orders: a-1 two (30 + 10), b-2 one (50), c-3 one (5); d-4 and e-5 none.
    const orders = [
      ['o-1', 'a-1', '2024-01-10', '30.00'],
      ['o-2', 'a-1', '2024-03-10', '10.00'],
      ['o-3', 'b-2', '2024-02-01', '50.00'],
      ['o-4', 'c-3', '2024-04-01', '5.00'],
    ] as const;
    for (const [order, customer, day, total] of orders) {
      const r = await t.call('POST', '/v1/orders', {
        role: 'admin',
        body: {
          order_id: order,
          customer_id: customer,
          ordered_at: `${day}T10:00:00Z`,
          currency: 'EUR',
          order_total: total,
        },
      });
      expect(r.status).toBeLessThan(300);
    }
    expect((await t.call('POST', '/v1/segments/refresh', { role: 'admin' })).status).toBe(200);
    // A CLV run: a-1, b-2, c-3 and d-4 predicted (d-4 without a CLV); e-5 not in it.
    const base = {
      modelVersion: 'mbgnbd+gamma-gamma:test',
      asOf: new Date('2024-05-31T00:00:00Z'),
      horizon: 12,
      timeUnit: 'week' as const,
      clvMonths: 12,
    };
    const p = (customerId: string, pAlive: number, clv: number | null, next: string | null) => ({
      ...base,
      customerId,
      pAlive,
      expectedPurchases: pAlive * 2,
      clv,
      expectedSpend: clv === null ? null : clv / 2,
      nextOrderAt: next ? new Date(next) : null,
    });
    await db.transaction(async (tx) => {
      await savePredictions(
        tx,
        [
          p('a-1', 0.9, 120.5, '2024-07-01T00:00:00Z'),
          p('b-2', 0.4, 80, '2024-09-01T00:00:00Z'),
          p('c-3', 0.4, 10.25, null),
          p('d-4', 0.2, null, null),
        ],
        now,
      );
    });
  });
  afterAll(() => dispose());

  it('lists customers with their scores, the total and where the figures come from', async () => {
    const r = await t.call('GET', '/v1/customers', { role: 'analyst' });
    expect(r.status).toBe(200);
    expect(ids(r)).toEqual(['a-1', 'b-2', 'c-3', 'd-4', 'e-5']);
    expect(r.json).toMatchObject({
      total: 5,
      currency: 'EUR',
      clvRun: { modelVersion: 'mbgnbd+gamma-gamma:test', asOf: '2024-05-31T00:00:00.000Z' },
      nextCursor: null,
    });
    expect(r.json.scoresAt).toBe(now.toISOString());
    expect(r.json.data[0].scores).toMatchObject({
      orders: 2,
      revenue: 40,
      aov: 20,
      firstOrderAt: '2024-01-10T10:00:00.000Z',
      lastOrderAt: '2024-03-10T10:00:00.000Z',
      pAlive: 0.9,
      expectedPurchases: 1.8,
      clv: 120.5,
      nextOrderAt: '2024-07-01T00:00:00.000Z',
    });
    expect(r.json.data[0].scores.churnRisk).toBeCloseTo(0.1, 12);
    expect(r.json.data[0].scores.rfm).toMatch(/^[1-5]{3}$/);
    expect(typeof r.json.data[0].scores.rfmSegment).toBe('string');
    expect(r.json.data[4].scores).toEqual({
      orders: null,
      revenue: null,
      aov: null,
      firstOrderAt: null,
      lastOrderAt: null,
      rfmSegment: null,
      rfm: null,
      pAlive: null,
      churnRisk: null,
      expectedPurchases: null,
      clv: null,
      nextOrderAt: null,
    });
  });

  it('searches the shop id, email and name, case-insensitively, with LIKE characters taken literally', async () => {
    const q = async (s: string) => {
      const r = await t.call('GET', `/v1/customers?q=${encodeURIComponent(s)}`, { role: 'analyst' });
      expect(r.status).toBe(200);
      return { ids: ids(r), total: r.json.total as number };
    };
    expect(await q('STONE')).toEqual({ ids: ['b-2', 'e-5'], total: 2 });
    expect(await q('mail.test')).toEqual({ ids: ['c-3', 'd-4'], total: 2 });
    expect(await q('c-3')).toEqual({ ids: ['c-3'], total: 1 });
    expect(await q('ann lee')).toEqual({ ids: ['a-1'], total: 1 });
    expect(await q('_')).toEqual({ ids: ['d-4'], total: 1 }); // dan_w@…, not every character
    expect(await q('%')).toEqual({ ids: [], total: 0 });
  });

  it('sorts by a score, customers without it last, and pages through the same order', async () => {
    const sorted = async (query: string) => {
      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await t.call(
          'GET',
          `/v1/customers?${query}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { role: 'analyst' },
        );
        expect(r.status).toBe(200);
        all.push(...ids(r));
        cursor = r.json.nextCursor;
      } while (cursor);
      return all;
    };
    expect(await sorted('sort=clv')).toEqual(['a-1', 'b-2', 'c-3', 'd-4', 'e-5']);
    expect(await sorted('sort=clv&order=asc')).toEqual(['c-3', 'b-2', 'a-1', 'd-4', 'e-5']);
    // Churn risk descending = P(alive) ascending; ties (b-2, c-3 at 0.4) by insertion.
    expect(await sorted('sort=churnRisk')).toEqual(['d-4', 'b-2', 'c-3', 'a-1', 'e-5']);
    expect(await sorted('sort=pAlive')).toEqual(['a-1', 'b-2', 'c-3', 'd-4', 'e-5']);
    expect(await sorted('sort=revenue')).toEqual(['b-2', 'a-1', 'c-3', 'd-4', 'e-5']);
    expect(await sorted('sort=orders&order=asc')).toEqual(['b-2', 'c-3', 'a-1', 'd-4', 'e-5']);
    expect(await sorted('sort=lastOrderAt')).toEqual(['c-3', 'a-1', 'b-2', 'd-4', 'e-5']);
    expect(await sorted('sort=nextOrderAt')).toEqual(['a-1', 'b-2', 'c-3', 'd-4', 'e-5']);
    expect(await sorted('sort=id&order=desc')).toEqual(['e-5', 'd-4', 'c-3', 'b-2', 'a-1']);
    expect(await sorted('sort=clv&q=stone')).toEqual(['b-2', 'e-5']);
  });

  it('refuses a cursor from another sort, and an unknown sort', async () => {
    const first = await t.call('GET', '/v1/customers?sort=clv&limit=1', { role: 'analyst' });
    const cursor = encodeURIComponent(first.json.nextCursor);
    expect(
      (await t.call('GET', `/v1/customers?sort=revenue&cursor=${cursor}`, { role: 'analyst' })).status,
    ).toBe(400);
    expect((await t.call('GET', `/v1/customers?cursor=${cursor}`, { role: 'analyst' })).status).toBe(400);
    expect((await t.call('GET', '/v1/customers?sort=name', { role: 'analyst' })).status).toBe(400);
  });

  it("answers one customer's scores as the list gives them", async () => {
    const list = await t.call('GET', '/v1/customers?q=b-2', { role: 'analyst' });
    const r = await t.call('GET', '/v1/customers/b-2/scores', { role: 'agent' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      customerId: 'b-2',
      scores: list.json.data[0].scores,
      currency: 'EUR',
      scoresAt: list.json.scoresAt,
      clvRun: list.json.clvRun,
    });
    expect(r.json.scores).toMatchObject({ orders: 1, revenue: 50, clv: 80, pAlive: 0.4 });
    expect((await t.call('GET', '/v1/customers/nobody/scores', { role: 'agent' })).status).toBe(404);
  });
});
