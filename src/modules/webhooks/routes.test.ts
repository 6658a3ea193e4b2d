import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';

const SHOP = 'shpss_test_secret';
const WOO = 'woo-secret';
const sign = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('base64');

// Trimmed from Shopify's documented orders/create example payload.
const shopifyOrder = {
  id: 820982911946154500,
  name: '#1001',
  email: 'Jon@Example.com',
  created_at: '2024-03-01T12:00:00-05:00',
  currency: 'USD',
  financial_status: 'paid',
  total_price: '25.00',
  total_discounts: '5.00',
  total_tax: '0.00',
  source_name: 'web',
  shipping_lines: [{ price: '5.00' }],
  billing_address: { country_code: 'US' },
  customer: { id: 115310627314723950, email: 'jon@example.com' },
  line_items: [
    { sku: 'IPOD-1', title: 'iPod Nano', quantity: 1, price: '20.00' },
    { sku: '', title: 'Sticker', quantity: 5, price: '1.00' },
  ],
};

describe.each(testEngines())('webhooks on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { config: { authCacheMs: 0, shopifySecret: SHOP, woocommerceSecret: WOO } });
  });
  afterAll(() => dispose());

  const shopify = (topic: string, payload: unknown, secret = SHOP) => {
    const body = JSON.stringify(payload);
    return t.call('POST', '/webhooks/shopify', {
      body,
      headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': sign(body, secret) },
    });
  };
  const woo = (topic: string, payload: unknown, secret = WOO) => {
    const body = JSON.stringify(payload);
    return t.call('POST', '/webhooks/woocommerce', {
      body,
      headers: { 'x-wc-webhook-topic': topic, 'x-wc-webhook-signature': sign(body, secret) },
    });
  };
  const count = async (table: string) =>
    (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n;

  it('refuses a bad or missing HMAC with 401 and stores nothing', async () => {
    expect((await shopify('orders/create', shopifyOrder, 'wrong')).status).toBe(401);
    const body = JSON.stringify(shopifyOrder);
    const none = await t.call('POST', '/webhooks/shopify', {
      body,
      headers: { 'x-shopify-topic': 'orders/create' },
    });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    // Signature of a different body (tampered payload).
    const tampered = await t.call('POST', '/webhooks/shopify', {
      body: body.replace('25.00', '2500.00'),
      headers: { 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': sign(body, SHOP) },
    });
    expect(tampered.status).toBe(401);
    expect((await woo('order.created', { id: 1 }, 'wrong')).status).toBe(401);
    expect(await count('orders')).toBe(0);
  });

  it('stores a Shopify order once however often it is delivered', async () => {
    const first = await shopify('orders/create', shopifyOrder);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ handled: true, entity: 'orders', id: '#1001', inserted: 1 });
    const replay = await shopify('orders/create', shopifyOrder);
    expect(replay.json).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    expect(await count('orders')).toBe(1);
    const order = await t.call('GET', '/v1/orders/%231001', { role: 'admin' });
    expect(order.json).toMatchObject({
      customerId: 'jon@example.com',
      orderedAt: '2024-03-01T17:00:00.000Z',
      totalMinor: 2500,
      discountMinor: 500,
      shippingMinor: 500,
      lineCount: 2,
      lines: [{ sku: 'IPOD-1' }, { sku: 'Sticker', quantity: 5, unitPriceMinor: 100 }],
    });
  });

  it('links a Shopify refund to its order; a refund before its order asks for a retry (409)', async () => {
    const refund = {
      id: 509562969,
      order_id: shopifyOrder.id,
      created_at: '2024-03-02T10:00:00-05:00',
      note: 'damaged',
      transactions: [{ kind: 'refund', status: 'success', amount: '10.00', currency: 'USD' }],
    };
    const r = await shopify('refunds/create', refund);
    expect(r.json).toMatchObject({ entity: 'refunds', id: 'shopify-refund-509562969', inserted: 1 });
    expect((await shopify('refunds/create', refund)).json).toMatchObject({ inserted: 0, unchanged: 1 });
    const early = await shopify('refunds/create', { ...refund, id: 1, order_id: 42 });
    expect(early.status).toBe(409);
    // orders/updated carrying the same refund does not double it.
    await shopify('orders/updated', {
      ...shopifyOrder,
      financial_status: 'partially_refunded',
      refunds: [refund],
    });
    expect(await count('refunds')).toBe(1);
    const order = await t.call('GET', '/v1/orders/%231001', { role: 'admin' });
    expect(order.json).toMatchObject({
      status: 'partially_refunded',
      refunds: [{ amountMinor: 1000, reason: 'damaged' }],
    });
  });

  it('upserts Shopify customers with email consent; ignores other topics', async () => {
    const customer = {
      id: 207119551,
      email: 'Bob@Example.com',
      first_name: 'Bob',
      created_at: '2024-01-01T00:00:00-05:00',
      email_marketing_consent: { state: 'subscribed', consent_updated_at: '2024-01-02T00:00:00Z' },
      default_address: { country_code: 'CA' },
    };
    expect((await shopify('customers/create', customer)).json).toMatchObject({
      entity: 'customers',
      id: 'bob@example.com',
      inserted: 1,
    });
    expect((await shopify('customers/update', customer)).json).toMatchObject({ unchanged: 1 });
    const c = await t.call('GET', '/v1/customers/bob@example.com', { role: 'admin' });
    expect(c.json).toMatchObject({
      firstName: 'Bob',
      country: 'CA',
      consent: { email: { status: 'granted', source: 'shopify' } },
    });
    expect((await shopify('products/create', { id: 1 })).json).toEqual({
      source: 'shopify',
      topic: 'products/create',
      handled: false,
    });
    const invalid = await shopify('orders/create', { ...shopifyOrder, name: '#1002', created_at: 'soon' });
    expect(invalid.status).toBe(400);
  });

  it('stores WooCommerce orders with their refunds and customers, idempotently', async () => {
    const order = {
      id: 727,
      status: 'processing',
      currency: 'EUR',
      date_created_gmt: '2024-04-01T09:00:00',
      date_modified_gmt: '2024-04-03T09:00:00',
      discount_total: '0.00',
      shipping_total: '3.00',
      total_tax: '0.00',
      total: '33.00',
      customer_id: 26,
      billing: { email: 'ann@example.com', country: 'DE' },
      line_items: [{ sku: 'WOO-1', name: 'Hoodie', quantity: 2, price: 15, subtotal: '30.00' }],
      refunds: [{ id: 730, total: '-10.00', reason: 'too small' }],
    };
    const r = await woo('order.created', order);
    expect(r.json).toMatchObject({ entity: 'orders', id: '727', inserted: 1, refunds: { inserted: 1 } });
    expect((await woo('order.updated', order)).json).toMatchObject({
      unchanged: 1,
      refunds: { unchanged: 1 },
    });
    const o = await t.call('GET', '/v1/orders/727', { role: 'admin' });
    expect(o.json).toMatchObject({
      customerId: 'wc-26',
      status: 'paid',
      totalMinor: 3300,
      refunds: [{ id: 'wc-refund-730', amountMinor: 1000, refundedAt: '2024-04-03T09:00:00.000Z' }],
    });
    const cust = {
      id: 26,
      email: 'ann@example.com',
      first_name: 'Ann',
      billing: { country: 'DE' },
      date_created_gmt: '2024-03-01T00:00:00',
    };
    expect((await woo('customer.created', cust)).json).toMatchObject({ id: 'wc-26', updated: 1 });
    expect((await woo('customer.updated', cust)).json).toMatchObject({ unchanged: 1 });
    // Statuses as the export maps them: "pending payment" is not a sale; a checkout draft is no order.
    await woo('order.created', { ...order, id: 728, status: 'pending', refunds: [] });
    expect((await t.call('GET', '/v1/orders/728', { role: 'admin' })).json).toMatchObject({
      status: 'unpaid',
    });
    expect((await woo('order.created', { ...order, id: 729, status: 'checkout-draft' })).json).toMatchObject({
      handled: false,
    });
    expect((await t.call('GET', '/v1/orders/729', { role: 'admin' })).status).toBe(404);
  });

  it('stores the order’s discount codes: Shopify discount_codes[].code, WooCommerce coupon_lines[].code', async () => {
    const codes = async (id: string) =>
      (await t.call('GET', `/v1/orders/${encodeURIComponent(id)}`, { role: 'admin' })).json.discountCodes;
    const coded = {
      ...shopifyOrder,
      id: 820982911946154600,
      name: '#1101',
      discount_codes: [
        { code: 'spring20', amount: '4.00', type: 'percentage' },
        { code: 'VIP', amount: '1.00', type: 'fixed_amount' },
      ],
    };
    expect((await shopify('orders/create', coded)).json).toMatchObject({ id: '#1101', inserted: 1 });
    expect(await codes('#1101')).toEqual(['SPRING20', 'VIP']);
    expect((await shopify('orders/create', coded)).json).toMatchObject({ unchanged: 1 });
    // orders/updated with one code removed replaces the order's codes.
    const updated = await shopify('orders/updated', { ...coded, discount_codes: [coded.discount_codes[1]] });
    expect(updated.json).toMatchObject({ updated: 1 });
    expect(await codes('#1101')).toEqual(['VIP']);
    expect((await shopify('orders/updated', { ...coded, discount_codes: [] })).json).toMatchObject({
      updated: 1,
    });
    expect(await codes('#1101')).toEqual([]);

    const wooCoded = {
      id: 801,
      status: 'completed',
      currency: 'EUR',
      date_created_gmt: '2024-04-05T09:00:00',
      discount_total: '3.00',
      total: '27.00',
      customer_id: 27,
      billing: { email: 'eve@example.com' },
      line_items: [{ sku: 'WOO-1', name: 'Hoodie', quantity: 2, price: 15, subtotal: '30.00' }],
      coupon_lines: [{ id: 9, code: 'fika10', discount: '3.00' }],
    };
    expect((await woo('order.created', wooCoded)).json).toMatchObject({ id: '801', inserted: 1 });
    expect(await codes('801')).toEqual(['FIKA10']);
    const [row] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM order_discount_codes d JOIN orders o ON o.order_id = d.order_id
       WHERE o.external_id = '801' AND d.customer_id = o.customer_id`,
    );
    expect(row?.n).toBe(1);
    // A code that cannot be stored is a 400 naming the field; nothing is written.
    const bad = await woo('order.created', {
      ...wooCoded,
      id: 802,
      coupon_lines: [{ code: 'x'.repeat(101) }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/discount_codes: the code .* has 101 characters/);
    expect((await t.call('GET', '/v1/orders/802', { role: 'admin' })).status).toBe(404);
  });

  it('answers 404 when a source has no secret configured', async () => {
    const bare = await testApp(db);
    const body = JSON.stringify(shopifyOrder);
    const r = await bare.call('POST', '/webhooks/shopify', {
      body,
      headers: { 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': sign(body, SHOP) },
    });
    expect(r.status).toBe(404);
    expect(r.json.error.message).toContain('RETAIN_SHOPIFY_SECRET');
  });
});
