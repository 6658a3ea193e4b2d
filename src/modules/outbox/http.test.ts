import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import * as repo from './repository.js';

const SHOP = 'shpss_test_secret';
const sign = (body: string) => createHmac('sha256', SHOP).update(body).digest('base64');

// A Shopify order and refund, and the same facts as Retain's own JSON bodies.
const shopifyOrder = {
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
const shopifyRefund = {
  id: 509562969,
  order_id: shopifyOrder.id,
  created_at: '2024-03-02T10:00:00-05:00',
  transactions: [{ kind: 'refund', status: 'success', amount: '10.00', currency: 'USD' }],
};
const apiOrder = {
  order_id: '#1001',
  customer_id: 'jon@example.com',
  email: 'jon@example.com',
  ordered_at: '2024-03-01T17:00:00Z',
  currency: 'USD',
  discount: '5.00',
  shipping: '5.00',
  lines: [
    { sku: 'IPOD-1', title: 'iPod Nano', quantity: 1, unit_price: '20.00' },
    { sku: 'STICKER', title: 'Sticker', quantity: 5, unit_price: '1.00' },
  ],
};
const apiRefund = {
  refund_id: 'shopify-refund-509562969',
  order_id: '#1001',
  amount: '10.00',
  currency: 'USD',
  refunded_at: '2024-03-02T15:00:00Z',
};

interface Recorded {
  type: string;
  customer: string | null;
  occurred_at: string;
  payload: Record<string, unknown>;
}

/** The events in id order, customers by external id and internal ids dropped (they differ per store). */
async function recorded(db: Database): Promise<Recorded[]> {
  const customers = new Map(
    (
      await db.query<{ customer_id: number; external_id: string }>(
        `SELECT customer_id, external_id FROM customers`,
      )
    ).map((c) => [c.customer_id, c.external_id]),
  );
  return (await repo.eventsAfter(db, { after: 0, limit: 1000 })).map((e) => {
    const { order_id: _o, refund_id: _r, ...payload } = e.payload as Record<string, unknown>;
    return {
      type: e.type,
      customer: e.customer_id === null ? null : (customers.get(e.customer_id) ?? null),
      occurred_at: e.occurred_at,
      payload,
    };
  });
}

describe.each(testEngines())('domain events of HTTP ingestion and webhooks on %s', (engine) => {
  const stores: { db: Database; dispose: () => Promise<void> }[] = [];
  const clock = new ManualClock('2024-06-01T00:00:00Z');
  const open = async () => {
    const s = await freshDatabase(engine);
    stores.push(s);
    const t = await testApp(s.db, { clock, config: { authCacheMs: 0, shopifySecret: SHOP } });
    return { db: s.db, t };
  };
  afterAll(async () => {
    for (const s of stores) await s.dispose();
  });

  let viaApi: Recorded[];
  let viaWebhook: Recorded[];

  beforeAll(async () => {
    const api = await open();
    expect((await api.t.call('POST', '/v1/orders', { role: 'admin', body: apiOrder })).status).toBe(201);
    expect((await api.t.call('POST', '/v1/refunds', { role: 'admin', body: apiRefund })).json).toMatchObject({
      inserted: 1,
    });
    // Replays change nothing and record nothing.
    await api.t.call('POST', '/v1/orders', { role: 'admin', body: apiOrder });
    await api.t.call('POST', '/v1/refunds', { role: 'admin', body: apiRefund });
    viaApi = await recorded(api.db);

    const hook = await open();
    const shopify = (topic: string, payload: unknown) => {
      const body = JSON.stringify(payload);
      return hook.t.call('POST', '/webhooks/shopify', {
        body,
        headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': sign(body) },
      });
    };
    for (let i = 0; i < 2; i++) {
      expect((await shopify('orders/create', shopifyOrder)).status).toBe(200);
      expect((await shopify('refunds/create', shopifyRefund)).status).toBe(200);
    }
    viaWebhook = await recorded(hook.db);
  });

  it('POST /v1/orders and /v1/refunds record customer.created, order.placed, order.refunded once', () => {
    expect(viaApi).toEqual([
      {
        type: 'customer.created',
        customer: 'jon@example.com',
        occurred_at: '2024-03-01T17:00:00.000Z',
        payload: { external_id: 'jon@example.com' },
      },
      {
        type: 'order.placed',
        customer: 'jon@example.com',
        occurred_at: '2024-03-01T17:00:00.000Z',
        payload: { external_id: '#1001', total_minor: 2500, currency: 'USD' },
      },
      {
        type: 'order.refunded',
        customer: 'jon@example.com',
        occurred_at: '2024-03-02T15:00:00.000Z',
        payload: { external_id: 'shopify-refund-509562969', currency: 'USD', amount_minor: 1000 },
      },
    ]);
  });

  it('the Shopify webhook records the same events (types, customers, amounts)', () => {
    expect(viaWebhook).toEqual(viaApi);
  });

  it('consent and site-event routes record consent.changed and event.tracked; GET /v1/domain-events pages them', async () => {
    const { db, t } = await open();
    await t.call('PUT', '/v1/customers/ann', { role: 'admin', body: { email: 'ann@example.com' } });
    const consent = (status: string) =>
      t.call('PUT', '/v1/customers/ann/consents/email', { role: 'admin', body: { status } });
    expect((await consent('granted')).status).toBe(200);
    expect((await consent('granted')).status).toBe(200); // same status: no event
    const ev = {
      event_id: 'ev-1',
      customer_id: 'ann',
      type: 'checkout_started',
      occurred_at: '2024-05-01T00:00:00Z',
    };
    for (let i = 0; i < 2; i++)
      expect((await t.call('POST', '/v1/events', { role: 'admin', body: { events: [ev] } })).status).toBe(
        200,
      );
    const all = await recorded(db);
    expect(all.map((e) => e.type)).toEqual(['customer.created', 'consent.changed', 'event.tracked']);
    expect(all[1]?.payload).toEqual({ external_id: 'ann', channel: 'email', from: null, to: 'granted' });
    expect(all[2]?.payload).toEqual({ event_id: 'ev-1', event_type: 'checkout_started' });

    const first = await t.call('GET', '/v1/domain-events?limit=2', { role: 'analyst' });
    expect(first.status).toBe(200);
    expect(first.json.data.map((e: { type: string }) => e.type)).toEqual([
      'customer.created',
      'consent.changed',
    ]);
    const next = await t.call('GET', `/v1/domain-events?limit=2&cursor=${first.json.nextCursor}`, {
      role: 'analyst',
    });
    expect(next.json).toMatchObject({ data: [{ type: 'event.tracked' }], nextCursor: null });
    const typed = await t.call('GET', '/v1/domain-events?type=consent.changed', { role: 'admin' });
    expect(typed.json.data).toHaveLength(1);
    expect((await t.call('GET', '/v1/domain-events?type=nope', { role: 'admin' })).status).toBe(400);
    expect((await t.call('GET', '/v1/domain-events', { role: 'marketer' })).status).toBe(403);
  });
});
