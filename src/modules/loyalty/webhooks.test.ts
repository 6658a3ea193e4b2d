import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { ordersSubscriber } from './jobs.js';

const SHOP = 'shpss_loyalty_secret';
const sign = (body: string) => createHmac('sha256', SHOP).update(body).digest('base64');
const order = {
  id: 820982911946154500,
  name: '#1001',
  email: 'jon@example.com',
  created_at: '2024-03-01T12:00:00-05:00',
  currency: 'USD',
  financial_status: 'paid',
  total_price: '25.00',
  total_discounts: '5.00',
  total_tax: '0.00',
  shipping_lines: [{ price: '5.00' }],
  customer: { id: 115310627314723950, email: 'jon@example.com' },
  line_items: [
    { sku: 'IPOD-1', title: 'iPod Nano', quantity: 1, price: '20.00' },
    { sku: 'STICKER', title: 'Sticker', quantity: 5, price: '1.00' },
  ],
};
const refund = {
  id: 509562969,
  order_id: order.id,
  created_at: '2024-03-02T10:00:00-05:00',
  transactions: [{ kind: 'refund', status: 'success', amount: '10.00', currency: 'USD' }],
};

/** Issue 24: "replaying the same order/refund … webhooks twice changes nothing" (Shopify, signed). */
describe.each(testEngines())('loyalty from the shop webhooks on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let drain: () => Promise<number>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, {
      clock: new ManualClock('2024-03-05T00:00:00Z'),
      config: { authCacheMs: 0, shopifySecret: SHOP },
    });
    const d = new Dispatcher({ ctx: t.deps, subscribers: [ordersSubscriber] });
    await d.register();
    drain = () => d.drain();
    expect(
      (await t.call('PUT', '/v1/loyalty/program', { role: 'admin', body: { currency: 'USD' } })).status,
    ).toBe(200);
  });
  afterAll(() => dispose());

  const hook = (topic: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    return t.call('POST', '/webhooks/shopify', {
      body,
      headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': sign(body) },
    });
  };
  const state = async () => ({
    member: (await t.call('GET', '/v1/loyalty/members/jon@example.com', { role: 'agent' })).json,
    entries: (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM loyalty_entries`))[0]!.n,
  });

  it('an order and a refund earn and claw back once, however often the shop sends them', async () => {
    await hook('orders/create', order);
    await drain();
    // (20.00 + 5 × 1.00) − 5.00 discount = 20.00 of merchandise → 20 points, pending for 14 days.
    expect((await state()).member).toMatchObject({ pending: 20, available: 0 });
    await hook('refunds/create', refund);
    await drain();
    // 10.00 of the 25.00 total refunded = 40 % → 8 points back.
    const once = await state();
    expect(once.member).toMatchObject({ pending: 12, available: 0 });
    for (const [topic, payload] of [
      ['orders/create', order],
      ['orders/updated', order],
      ['refunds/create', refund],
      ['orders/create', order],
      ['refunds/create', refund],
    ] as const) {
      expect((await hook(topic, payload)).status).toBe(200);
      await drain();
    }
    expect(await state()).toEqual(once);
  });
});
