import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { ordersSubscriber } from './jobs.js';

/** The loyalty API: roles, errors that say what and where, replays, the card link and page. */
describe.each(testEngines())('loyalty routes on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let drain: () => Promise<number>;
  const clock = new ManualClock('2026-06-01T10:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    const d = new Dispatcher({ ctx: t.deps, subscribers: [ordersSubscriber] });
    await d.register();
    drain = () => d.drain();
  });
  afterAll(() => dispose());

  it('the programme: 404 before one is set, 400 naming each bad field, a new version per save; marketer may, analyst may not', async () => {
    expect((await t.call('GET', '/v1/loyalty/program', { role: 'analyst' })).status).toBe(404);
    const bad = await t.call('PUT', '/v1/loyalty/program', {
      role: 'marketer',
      body: {
        currency: 'EUR',
        pendingDays: -1,
        earn: { rate: { type: 'per-unit', points: 0, perMinor: 100 } },
        colour: 'red',
      },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/pendingDays/);
    expect(JSON.stringify(bad.json)).toMatch(/earn\.rate\.points/);
    expect(JSON.stringify(bad.json)).toMatch(/colour/);
    expect(
      (await t.call('PUT', '/v1/loyalty/program', { role: 'analyst', body: { currency: 'EUR' } })).status,
    ).toBe(403);
    const ok = await t.call('PUT', '/v1/loyalty/program', {
      role: 'marketer',
      body: {
        currency: 'EUR',
        pendingDays: 0,
        welcomeBonus: { points: 100 },
        redemption: { minPoints: 100 },
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      version: 1,
      config: { currency: 'EUR', pendingDays: 0, expiryDays: 180 },
    });
    expect((await t.call('GET', '/v1/loyalty/program/versions', { role: 'analyst' })).json.data).toHaveLength(
      1,
    );
  });

  it('orders earn through POST /v1/orders; redemptions answer 201, a retry 200, errors 400/404/409 with nothing written', async () => {
    const order = {
      order_id: 'W1',
      customer_id: 'ann',
      ordered_at: '2026-06-01T09:00:00Z',
      currency: 'EUR',
      lines: [{ sku: 'A', quantity: 1, unit_price: '250.00' }],
    };
    expect((await t.call('POST', '/v1/orders', { role: 'admin', body: order })).status).toBe(201);
    await drain();
    const m = await t.call('GET', '/v1/loyalty/members/ann', { role: 'agent' });
    expect(m.json).toMatchObject({
      customer: 'ann',
      available: 350,
      pending: 0,
      valueMinor: 350,
      currency: 'EUR',
    });
    // The same order again (a webhook retried): nothing more.
    await t.call('POST', '/v1/orders', { role: 'admin', body: order });
    await drain();
    expect((await t.call('GET', '/v1/loyalty/members/ann', { role: 'agent' })).json.available).toBe(350);

    const body = { customer: 'ann', points: 300, idempotencyKey: 'till-7-0001' };
    const first = await t.call('POST', '/v1/loyalty/redemptions', { role: 'agent', body });
    expect(first.status).toBe(201);
    const retry = await t.call('POST', '/v1/loyalty/redemptions', { role: 'agent', body });
    expect(retry.status).toBe(200);
    expect(retry.json.redemption).toEqual(first.json.redemption);
    const count = async () =>
      (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM loyalty_entries`))[0]!.n;
    const before = await count();
    const cases: [unknown, number, RegExp][] = [
      [{ customer: 'ann', points: 300, idempotencyKey: 'k2' }, 409, /cannot redeem 300 points: 50 available/],
      [{ customer: 'ghost', points: 100, idempotencyKey: 'k3' }, 404, /unknown customer 'ghost'/],
      [{ customer: 'ann', points: -100, idempotencyKey: 'k4' }, 400, /points/],
      [{ customer: 'ann', points: 100.5, idempotencyKey: 'k5' }, 400, /whole number/],
      [{ customer: 'ann', points: 100 }, 400, /idempotencyKey/],
      [
        { customer: 'ann', points: 100, idempotencyKey: 'till-7-0001' },
        409,
        /was used for another redemption/,
      ],
    ];
    for (const [b, status, message] of cases) {
      const r = await t.call('POST', '/v1/loyalty/redemptions', { role: 'agent', body: b });
      expect([r.status, r.text]).toEqual([status, expect.stringMatching(message)]);
    }
    expect(await count()).toBe(before);
    expect((await t.call('POST', '/v1/loyalty/redemptions', { role: 'analyst', body })).status).toBe(403);
    const rev = await t.call('POST', `/v1/loyalty/redemptions/${first.json.redemption.id}/reverse`, {
      role: 'agent',
      body: { reason: 'order cancelled' },
    });
    expect(rev.json).toMatchObject({ reversed: true, redemption: { status: 'reversed' } });
    expect((await t.call('GET', '/v1/loyalty/members/ann', { role: 'agent' })).json.available).toBe(350);
    const ledger = await t.call('GET', '/v1/loyalty/members/ann/ledger?limit=10', { role: 'analyst' });
    expect(ledger.json.data.map((e: { type: string }) => e.type)).toEqual([
      'reverse',
      'redeem',
      'earn',
      'earn',
    ]);
  });

  it('the card: a signed link any phone can open; a tampered one is 403 and shows nothing', async () => {
    const link = await t.call('GET', '/v1/loyalty/members/ann/card-link', { role: 'agent' });
    expect(link.status).toBe(200);
    const path = new URL(link.json.url).pathname;
    const page = await t.call('GET', path);
    expect(page.status).toBe(200);
    const card = (await t.call('GET', '/v1/loyalty/members/ann', { role: 'agent' })).json
      .cardNumber as string;
    expect(page.text).toContain(card.replace(/(.{4})(?=.)/g, '$1 '));
    expect(page.text).toContain('<svg');
    const bad = await t.call('GET', path.slice(0, -1) + (path.endsWith('A') ? 'B' : 'A'));
    expect(bad.status).toBe(403);
    expect(bad.text).not.toContain(card.slice(0, 4) + ' ');
  });

  it('the report over HTTP: liability, flows, members; a bad window is a 400 naming it', async () => {
    const r = await t.call('GET', '/v1/loyalty/report?windowDays=90', { role: 'analyst' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      currency: 'EUR',
      liability: expect.any(Object),
      flows: expect.any(Object),
    });
    const bad = await t.call('GET', '/v1/loyalty/report?windowDays=0', { role: 'analyst' });
    expect([bad.status, bad.text]).toEqual([400, expect.stringMatching(/windowDays/)]);
    expect((await t.call('GET', '/v1/loyalty/report?colour=red', { role: 'analyst' })).status).toBe(400);
  });

  it('openapi documents every loyalty route', async () => {
    const doc = (await t.call('GET', '/openapi.json')).json as { paths: Record<string, unknown> };
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/v1/loyalty'));
    expect(paths.length).toBeGreaterThanOrEqual(12);
  });
});
