import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';

const SECRET = 'shpss_test_secret';
const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('base64');

// Trimmed from Shopify's documented checkouts/create example payload.
const checkout = (over: Record<string, unknown> = {}) => ({
  id: 981820079255243500,
  token: 'ck-123123123',
  cart_token: 'eeafa272cebfd4b22385bc4b645e762c',
  email: 'Jon@Example.com',
  created_at: '2024-03-01T12:00:00-05:00',
  updated_at: '2024-03-01T12:05:00-05:00',
  completed_at: null,
  currency: 'USD',
  presentment_currency: 'USD',
  subtotal_price: '398.00',
  total_price: '409.94',
  abandoned_checkout_url: 'https://shop.example/548380009/checkouts/ck-123123123/recover?key=secret',
  line_items: [
    { sku: 'IPOD2008PINK', title: 'IPod Nano - 8GB', variant_title: 'Pink', price: '199.00', quantity: 1 },
    { sku: '', title: 'Sticker', variant_title: null, price: '199.00', quantity: 1, product_id: 632910392 },
  ],
  note_attributes: [],
  customer: { id: 603851970716743400, email: 'jon@example.com' },
  ...over,
});

/**
 * Issue 26: Shopify `checkouts/create|update` → carts and one `checkout_started` event per checkout;
 * `orders/create` with the checkout token completes the cart. HMAC-verified, idempotent, on both engines.
 */
describe.each(testEngines())('Shopify carts on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2024-03-02T00:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock, config: { authCacheMs: 0, shopifySecret: SECRET } });
  });
  afterAll(() => dispose());

  const send = (topic: string, payload: unknown, secret = SECRET) => {
    const body = JSON.stringify(payload);
    return t.call('POST', '/webhooks/shopify/carts', {
      body,
      headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': sign(body, secret) },
    });
  };
  const cart = async (token: string) =>
    (
      await db.query<Record<string, unknown>>(
        `SELECT c.checkout_token, c.checkout_id, u.external_id AS customer, c.anonymous_id, c.email,
                CAST(c.line_items AS TEXT) AS items, c.item_count, c.subtotal_minor, c.total_minor, c.currency,
                c.abandoned_checkout_url, c.created_at, c.updated_at, c.completed_at, c.order_id
         FROM carts c LEFT JOIN customers u ON u.customer_id = c.customer_id WHERE c.checkout_token = $1`,
        [token],
      )
    )[0];
  const count = async (sql: string) =>
    (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${sql}`))[0]?.n;

  it('refuses a tampered or missing HMAC with 401, storing nothing; 404 without a secret', async () => {
    const body = JSON.stringify(checkout());
    const tampered = await t.call('POST', '/webhooks/shopify/carts', {
      body: body.replace('398.00', '1.00'),
      headers: { 'x-shopify-topic': 'checkouts/create', 'x-shopify-hmac-sha256': sign(body) },
    });
    expect(tampered.status).toBe(401);
    expect(tampered.json.error.message).toBe('bad or missing x-shopify-hmac-sha256 signature');
    expect((await send('checkouts/create', checkout(), 'other secret')).status).toBe(401);
    const none = await t.call('POST', '/webhooks/shopify/carts', {
      body,
      headers: { 'x-shopify-topic': 'checkouts/create' },
    });
    expect(none.status).toBe(401);
    expect(await count('carts')).toBe(0);
    expect(await count('events')).toBe(0);
    const bare = await testApp(db);
    const off = await bare.call('POST', '/webhooks/shopify/carts', {
      body,
      headers: { 'x-shopify-topic': 'checkouts/create', 'x-shopify-hmac-sha256': sign(body) },
    });
    expect(off.status).toBe(404);
    expect(off.json.error.message).toContain('RETAIN_SHOPIFY_SECRET');
  });

  it('stores a checkout as a cart of its customer (by email) with one checkout_started event, once', async () => {
    const r = await send('checkouts/create', checkout());
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      source: 'shopify',
      topic: 'checkouts/create',
      handled: true,
      entity: 'carts',
      id: 'ck-123123123',
      inserted: 1,
      updated: 0,
      unchanged: 0,
      checkoutStarted: true,
    });
    const c = await cart('ck-123123123');
    expect({ ...c, items: JSON.parse(c?.items as string) }).toEqual({
      checkout_token: 'ck-123123123',
      checkout_id: '981820079255243500',
      customer: 'jon@example.com',
      anonymous_id: null,
      email: 'jon@example.com',
      items: [
        {
          sku: 'IPOD2008PINK',
          title: 'IPod Nano - 8GB',
          variantTitle: 'Pink',
          productId: null,
          variantId: null,
          quantity: 1,
          unitPriceMinor: 19900,
        },
        {
          sku: 'Sticker',
          title: 'Sticker',
          variantTitle: null,
          productId: '632910392',
          variantId: null,
          quantity: 1,
          unitPriceMinor: 19900,
        },
      ],
      item_count: 2,
      subtotal_minor: 39800,
      total_minor: 40994,
      currency: 'USD',
      abandoned_checkout_url: 'https://shop.example/548380009/checkouts/ck-123123123/recover?key=secret',
      created_at: new Date('2024-03-01T17:00:00Z'),
      updated_at: new Date('2024-03-01T17:05:00Z'),
      completed_at: null,
      order_id: null,
    });
    // The customer is named as an order import of that email would name them.
    expect(await count(`customers WHERE external_id = 'jon@example.com' AND email = 'jon@example.com'`)).toBe(
      1,
    );
    const [e] = await db.query<{ event_id: string; type: string; owner: string; props: string; at: Date }>(
      `SELECT e.event_id, e.type, c.external_id AS owner, CAST(e.properties AS TEXT) AS props, e.occurred_at AS at
       FROM events e JOIN customers c ON c.customer_id = e.customer_id`,
    );
    expect({ ...e, props: JSON.parse(e?.props as string) }).toEqual({
      event_id: 'shopify-checkout-ck-123123123',
      type: 'checkout_started',
      owner: 'jon@example.com',
      props: {
        source: 'shopify',
        checkout_token: 'ck-123123123',
        currency: 'USD',
        subtotal_minor: 39800,
        items: 2,
      },
      at: new Date('2024-03-01T17:00:00Z'),
    });
    expect(await count(`domain_events WHERE type = 'event.tracked'`)).toBe(1);
    const domain = await count('domain_events');
    const again = await send('checkouts/create', checkout());
    expect(again.json).toMatchObject({ inserted: 0, updated: 0, unchanged: 1, checkoutStarted: false });
    expect(await count('events')).toBe(1);
    expect(await count('domain_events')).toBe(domain);
  });

  it('applies a newer checkouts/update, ignores an older one', async () => {
    const newer = checkout({
      updated_at: '2024-03-01T12:10:00-05:00',
      subtotal_price: '199.00',
      line_items: [checkout().line_items[0]],
    });
    expect((await send('checkouts/update', newer)).json).toMatchObject({
      updated: 1,
      checkoutStarted: false,
    });
    expect(await cart('ck-123123123')).toMatchObject({ subtotal_minor: 19900, item_count: 1 });
    const older = checkout({ updated_at: '2024-03-01T12:07:00-05:00', subtotal_price: '1.00' });
    expect((await send('checkouts/update', older)).json).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await cart('ck-123123123')).toMatchObject({ subtotal_minor: 19900 });
    expect(await count('events')).toBe(1);
  });

  it('orders/create with the checkout token completes the cart once; one before its checkout leaves a completed stub', async () => {
    const order = {
      id: 820982911946154500,
      name: '#1001',
      checkout_token: 'ck-123123123',
      created_at: '2024-03-01T12:20:00-05:00',
      currency: 'USD',
    };
    expect((await send('orders/create', order)).json).toEqual({
      source: 'shopify',
      topic: 'orders/create',
      handled: true,
      entity: 'carts',
      id: 'ck-123123123',
      completed: true,
      updated: 1,
      unchanged: 0,
    });
    expect(await cart('ck-123123123')).toMatchObject({
      completed_at: new Date('2024-03-01T17:20:00Z'),
      order_id: '#1001',
    });
    expect((await send('orders/create', order)).json).toMatchObject({ updated: 0, unchanged: 1 });
    // A later checkouts/update does not undo the completion.
    await send('checkouts/update', checkout({ updated_at: '2024-03-01T12:30:00-05:00' }));
    expect(await cart('ck-123123123')).toMatchObject({ completed_at: new Date('2024-03-01T17:20:00Z') });
    // No checkout token: acknowledged, nothing to do.
    expect((await send('orders/create', { ...order, checkout_token: null })).json).toEqual({
      source: 'shopify',
      topic: 'orders/create',
      handled: false,
    });
    // The order first, then its checkout.
    await send('orders/create', { ...order, name: '#1002', checkout_token: 'ck-early' });
    expect(await cart('ck-early')).toMatchObject({ order_id: '#1002', created_at: null });
    const late = await send(
      'checkouts/create',
      checkout({ token: 'ck-early', email: 'eve@example.com', customer: null }),
    );
    expect(late.json).toMatchObject({ updated: 1, checkoutStarted: true });
    expect(await cart('ck-early')).toMatchObject({
      customer: 'eve@example.com',
      order_id: '#1002',
      completed_at: new Date('2024-03-01T17:20:00Z'),
      subtotal_minor: 39800,
    });
    expect((await send('products/create', { id: 1 })).json).toEqual({
      source: 'shopify',
      topic: 'products/create',
      handled: false,
    });
  });

  it('a cart carrying the snippet’s anonymous id links it: the visitor’s earlier events become the customer’s', async () => {
    const site = await t.call('POST', '/v1/storefront/keys', {
      role: 'admin',
      body: { origins: ['https://shop.example'] },
    });
    const aid = `browser-${engine}-000001`;
    const seen = await t.call('POST', `/t/collect?key=${site.json.key}`, {
      body: JSON.stringify({
        anonymous_id: aid,
        sent_at: '2024-03-01T23:00:00Z',
        events: [{ event_id: 'view-000001', type: 'view', occurred_at: '2024-03-01T23:00:00Z' }],
      }),
      headers: { origin: 'https://shop.example' },
    });
    expect(seen.status).toBe(200);
    const anonymous = checkout({
      token: 'ck-anon',
      email: null,
      customer: null,
      note_attributes: [{ name: '_retain_aid', value: aid }],
    });
    expect((await send('checkouts/create', anonymous)).json).toMatchObject({
      inserted: 1,
      checkoutStarted: true,
    });
    expect(await cart('ck-anon')).toMatchObject({ customer: null, anonymous_id: aid });
    // The same visitor's next checkout gives an email: the anonymous id is linked, its history stitched.
    const known = { ...anonymous, token: 'ck-anon-2', email: 'kim@example.com' };
    expect((await send('checkouts/create', known)).json).toMatchObject({ checkoutStarted: true });
    const owners = await db.query<{ event_id: string; owner: string | null }>(
      `SELECT e.event_id, c.external_id AS owner FROM events e LEFT JOIN customers c ON c.customer_id = e.customer_id
       WHERE e.anonymous_id = $1 ORDER BY e.event_id`,
      [aid],
    );
    expect(owners).toEqual([
      { event_id: 'shopify-checkout-ck-anon', owner: 'kim@example.com' },
      { event_id: 'shopify-checkout-ck-anon-2', owner: 'kim@example.com' },
      { event_id: 'web-view-000001', owner: 'kim@example.com' },
    ]);
    // Neither a customer nor an anonymous id: the cart only.
    const nobody = checkout({ token: 'ck-nobody', email: null, customer: null });
    expect((await send('checkouts/create', nobody)).json).toMatchObject({
      inserted: 1,
      checkoutStarted: false,
    });
  });

  it('refuses a checkout it cannot read with 400 naming Shopify’s field, storing nothing', async () => {
    const carts = await count('carts');
    const cases: [Record<string, unknown>, string][] = [
      [{ created_at: 'soon' }, 'created_at'],
      [{ token: null }, 'token'],
      [{ currency: 'dollars' }, 'currency'],
      [{ line_items: [{ sku: 'A', price: '1,00', quantity: 1 }] }, 'line_items.0.price'],
      [{ line_items: [{ sku: 'A', price: '1.00', quantity: -1 }] }, 'line_items.0.quantity'],
      [{ email: 'not-an-email' }, 'email'],
    ];
    for (const [over, path] of cases) {
      const r = await send('checkouts/create', checkout({ token: 'ck-bad', ...over }));
      expect(r.status, path).toBe(400);
      expect(r.json.error.details.issues[0].path, path).toBe(path);
      expect(r.json.error.message, path).toMatch(
        new RegExp(`^invalid checkout: ${path.replace(/\./g, '\\.')}: `),
      );
    }
    expect(await count('carts')).toBe(carts);
  });

  it('erasing a customer deletes their carts; merging moves them', async () => {
    await send('checkouts/create', checkout({ token: 'ck-zoe', email: 'zoe@example.com', customer: null }));
    await send('checkouts/create', checkout({ token: 'ck-zed', email: 'zed@example.com', customer: null }));
    const merged = await t.call('POST', '/v1/customers/zoe@example.com/merge', {
      role: 'admin',
      body: { from: ['zed@example.com'] },
    });
    expect(merged.status).toBe(200);
    expect(await cart('ck-zed')).toMatchObject({ customer: 'zoe@example.com' });
    expect((await t.call('POST', '/v1/customers/zoe@example.com/erase', { role: 'admin' })).status).toBe(200);
    expect(await count(`carts WHERE checkout_token IN ('ck-zoe', 'ck-zed')`)).toBe(0);
  });
});
