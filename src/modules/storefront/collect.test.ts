import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { configureSnippet } from './asset.js';

const SHOP = 'https://shop.example';
const NOW = '2024-06-01T12:00:00.000Z';

/**
 * Issue 26: the public collect endpoint on both engines — site keys and their origins, idempotent
 * batches, identify stitching the anonymous history, consent, limits (429, 413), validation naming
 * the field, and retain.js with its caching headers.
 */
describe.each(testEngines())('storefront collect on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let key: string;
  let consentKey: string;
  const clock = new ManualClock(NOW);
  let visitor = 0;
  /** A fresh anonymous id (the per-visitor limit is per id). */
  const anon = () => `visitor-${engine}-${++visitor}-abcdef`;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    const created = await t.call('POST', '/v1/storefront/keys', {
      role: 'admin',
      body: { origins: ['https://Shop.Example/', 'http://localhost:8080'], name: 'web' },
    });
    expect(created.status).toBe(201);
    key = created.json.key;
    consentKey = (
      await t.call('POST', '/v1/storefront/keys', {
        role: 'admin',
        body: { origins: [SHOP], requireConsent: true },
      })
    ).json.key;
  });
  afterAll(() => dispose());

  let address = 0;
  const collect = (
    body: unknown,
    o: { key?: string | null; origin?: string | null; address?: string } = {},
  ) =>
    t.call('POST', `/t/collect${o.key === null ? '' : `?key=${o.key ?? key}`}`, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        'x-forwarded-for': o.address ?? `198.51.100.${++address % 250}`,
        ...(o.origin === null ? {} : { origin: o.origin ?? SHOP }),
      },
    });
  const ev = (id: string, type: string, properties?: unknown, occurredAt = NOW) => ({
    event_id: `${id}-${engine}-0000`,
    type,
    occurred_at: occurredAt,
    ...(properties === undefined ? {} : { properties }),
  });
  const batch = (anonymousId: string, events: unknown[], extra: Record<string, unknown> = {}) => ({
    anonymous_id: anonymousId,
    consent: true,
    sent_at: NOW,
    events,
    ...extra,
  });
  const stored = async (anonymousId: string) =>
    db.query<{ event_id: string; type: string; owner: string | null; props: string; at: Date }>(
      `SELECT e.event_id, e.type, c.external_id AS owner, CAST(e.properties AS TEXT) AS props, e.occurred_at AS at
       FROM events e LEFT JOIN customers c ON c.customer_id = e.customer_id
       WHERE e.anonymous_id = $1 ORDER BY e.occurred_at, e.event_id`,
      [anonymousId],
    );
  const count = async (sql: string, params: string[] = []) =>
    (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${sql}`, params))[0]?.n;

  it('manages site keys: pk_ keys for normalised origins, admins only, bad origins named', async () => {
    expect(key).toMatch(/^pk_[A-Za-z0-9_-]{24}$/);
    const list = await t.call('GET', '/v1/storefront/keys', { role: 'admin' });
    expect(list.json.data.find((k: { key: string }) => k.key === key)).toMatchObject({
      key,
      name: 'web',
      origins: [SHOP, 'http://localhost:8080'],
      requireConsent: false,
      revokedAt: null,
    });
    expect((await t.call('GET', '/v1/storefront/keys', { role: 'analyst' })).status).toBe(403);
    const bad = await t.call('POST', '/v1/storefront/keys', {
      role: 'admin',
      body: { origins: [SHOP, 'https://shop.example/products'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^invalid site key: origins\.1: expected an origin like/);
    const none = await t.call('POST', '/v1/storefront/keys', { role: 'admin', body: { origins: [] } });
    expect(none.json.error.details.issues[0].path).toBe('origins');
    const unknown = await t.call('POST', '/v1/storefront/keys', {
      role: 'admin',
      body: { origins: [SHOP], colour: 'red' },
    });
    expect(unknown.status).toBe(400);
    expect((await t.call('DELETE', '/v1/storefront/keys/pk_nope', { role: 'admin' })).status).toBe(404);
  });

  it('stores a batch from an allowed origin with CORS for it; times follow the browser clock’s error', async () => {
    const a = anon();
    // The browser's clock is 10 minutes fast: sent_at 12:10, events at 12:09 and 12:09:30.
    const r = await collect(
      batch(
        a,
        [
          ev('v1', 'view', { sku: 'MUG-1', url: `${SHOP}/products/mug` }, '2024-06-01T12:09:00Z'),
          ev('c1', 'add_to_cart', { sku: 'MUG-1', quantity: 2, price: 12.5 }, '2024-06-01T12:09:30Z'),
          ev('w1', 'wishlist_added', { sku: 'MUG-1' }, '2024-06-01T12:09:30Z'),
        ],
        { sent_at: '2024-06-01T12:10:00Z' },
      ),
    );
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ received: 3, stored: 3 });
    expect(r.headers.get('access-control-allow-origin')).toBe(SHOP);
    const rows = await stored(a);
    expect(rows.map((e) => [e.event_id, e.type, e.owner, JSON.parse(e.props), e.at.toISOString()])).toEqual([
      [
        `web-v1-${engine}-0000`,
        'view',
        null,
        { sku: 'MUG-1', url: `${SHOP}/products/mug` },
        '2024-06-01T11:59:00.000Z',
      ],
      [
        `web-c1-${engine}-0000`,
        'add_to_cart',
        null,
        { sku: 'MUG-1', quantity: 2, price: 12.5 },
        '2024-06-01T11:59:30.000Z',
      ],
      [`web-w1-${engine}-0000`, 'wishlist_added', null, { sku: 'MUG-1' }, '2024-06-01T11:59:30.000Z'],
    ]);
    // The other origin of the key works too.
    const local = await collect(batch(anon(), [ev('v2', 'view')]), { origin: 'http://localhost:8080' });
    expect(local.json).toEqual({ received: 1, stored: 1 });
  });

  it('refuses a wrong origin or key with 403 (no CORS), a missing key with 400; nothing stored', async () => {
    const before = await count('events');
    const body = batch(anon(), [ev('x1', 'view')]);
    const wrong = await collect(body, { origin: 'https://evil.example' });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.message).toBe(
      `origin https://evil.example may not use site key ${key} (allowed: ${SHOP}, http://localhost:8080)`,
    );
    expect(wrong.headers.get('access-control-allow-origin')).toBeNull();
    const noOrigin = await collect(body, { origin: null });
    expect(noOrigin.status).toBe(403);
    expect(noOrigin.json.error.details).toEqual({ field: 'Origin' });
    const unknown = await collect(body, { key: 'pk_AAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(unknown.status).toBe(403);
    expect(unknown.json.error.message).toMatch(/^unknown site key pk_A+/);
    expect((await collect(body, { key: 'rk_not_a_site_key' })).status).toBe(403);
    const missing = await collect(body, { key: null });
    expect(missing.status).toBe(400);
    expect(missing.json.error.details).toEqual({ field: 'key' });
    // Revoked: refused at once in this process.
    const spare = (await t.call('POST', '/v1/storefront/keys', { role: 'admin', body: { origins: [SHOP] } }))
      .json.key;
    expect((await collect(batch(anon(), [ev('s1', 'view')]), { key: spare })).status).toBe(200);
    const revoked = await t.call('DELETE', `/v1/storefront/keys/${spare}`, { role: 'admin' });
    expect(revoked.json).toMatchObject({ key: spare, revokedAt: NOW });
    const after = await collect(batch(anon(), [ev('s2', 'view')]), { key: spare });
    expect(after.status).toBe(403);
    expect(after.json.error.message).toBe(`site key ${spare} was revoked at ${NOW}`);
    expect(await count('events')).toBe((before ?? 0) + 1);
  });

  it('answers the CORS preflight only for the key’s origins', async () => {
    const pre = (origin: string, k = key) =>
      t.call('OPTIONS', `/t/collect?key=${k}`, {
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const ok = await pre(SHOP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
    const no = await pre('https://evil.example');
    expect(no.status).toBe(403);
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('stores a retried batch once', async () => {
    const a = anon();
    const body = batch(a, [ev('r1', 'view'), ev('r2', 'add_to_cart', { sku: 'B' })]);
    expect((await collect(body)).json).toEqual({ received: 2, stored: 2 });
    const events = await count('events');
    const domain = await count('domain_events');
    expect((await collect(body)).json).toEqual({ received: 2, stored: 0 });
    expect(await count('events')).toBe(events);
    expect(await count('domain_events')).toBe(domain);
  });

  it('identify by email links the anonymous id: earlier events become the customer’s, later ones too', async () => {
    const a = anon();
    expect(
      (await collect(batch(a, [ev('h1', 'view', { sku: 'A' }), ev('h2', 'add_to_cart', { sku: 'A' })])))
        .status,
    ).toBe(200);
    expect((await stored(a)).map((e) => e.owner)).toEqual([null, null]);
    const who = await collect(batch(a, [ev('h3', 'identify', { email: ' Ann@Example.COM ' })]));
    expect(who.json).toEqual({ received: 1, stored: 1 });
    expect(who.text).not.toContain('ann@'); // the answer reveals nothing of the customer
    expect(await collect(batch(a, [ev('h4', 'checkout_started', { total: '24.00' })]))).toMatchObject({
      status: 200,
    });
    const rows = await stored(a);
    expect(rows.map((e) => [e.type, e.owner])).toEqual([
      ['view', 'ann@example.com'],
      ['add_to_cart', 'ann@example.com'],
      ['identify', 'ann@example.com'],
      ['checkout_started', 'ann@example.com'],
    ]);
    // The identify event keeps how the visitor was named, never the email.
    expect(JSON.parse(rows[2]?.props ?? '{}')).toEqual({ by: 'email' });
    // A new email is a customer as an order import would name it: shop id = email, email = email.
    const [c] = await db.query<{ external_id: string; email: string }>(
      `SELECT external_id, email FROM customers WHERE external_id = 'ann@example.com'`,
    );
    expect(c).toEqual({ external_id: 'ann@example.com', email: 'ann@example.com' });
    expect(await count(`domain_events WHERE type = 'customer.created' AND ref = 'ann@example.com'`)).toBe(1);
    const link = await db.query<{ source: string }>(
      `SELECT source FROM identity_links WHERE anonymous_id = $1`,
      [a],
    );
    expect(link).toHaveLength(1);
    // The timeline shows them.
    const timeline = await t.call('GET', '/v1/customers/ann@example.com/timeline?kinds=event', {
      role: 'admin',
    });
    expect(timeline.status).toBe(200);
  });

  it('identify finds an existing customer by email or shop id; a second browser of the same customer is fine', async () => {
    const put = await t.call('PUT', '/v1/customers/C-9', {
      role: 'admin',
      body: { email: 'bob@example.com', first_name: 'Bob' },
    });
    expect(put.status).toBeLessThan(300);
    const phone = anon();
    const laptop = anon();
    await collect(batch(phone, [ev('b1', 'view'), ev('b2', 'identify', { email: 'BOB@example.com' })]));
    await collect(batch(laptop, [ev('b3', 'view'), ev('b4', 'identify', { id: 'C-9' })]));
    expect((await stored(phone)).map((e) => e.owner)).toEqual(['C-9', 'C-9']);
    expect((await stored(laptop)).map((e) => e.owner)).toEqual(['C-9', 'C-9']);
    expect(await count(`customers WHERE external_id = 'bob@example.com'`)).toBe(0);
    // An anonymous id already linked to another customer stays linked (first link wins).
    await collect(batch(phone, [ev('b5', 'identify', { email: 'mallory@example.com' }), ev('b6', 'view')]));
    const rows = await stored(phone);
    expect(rows.find((e) => e.event_id === `web-b6-${engine}-0000`)?.owner).toBe('C-9');
    const [link] = await db.query<{ owner: string }>(
      `SELECT c.external_id AS owner FROM identity_links l JOIN customers c ON c.customer_id = l.customer_id
       WHERE l.anonymous_id = $1`,
      [phone],
    );
    expect(link?.owner).toBe('C-9');
  });

  it('stores nothing without consent where the key requires it, or when the batch says no', async () => {
    const before = await count('events');
    const a = anon();
    const no = await collect(batch(a, [ev('n1', 'view')], { consent: undefined }), { key: consentKey });
    expect(no.status).toBe(403);
    expect(no.json.error.message).toMatch(
      /requires the visitor’s consent: the batch must carry "consent": true/,
    );
    expect(no.json.error.details).toEqual({ field: 'consent' });
    const refused = await collect(batch(a, [ev('n2', 'view')], { consent: false }));
    expect(refused.status).toBe(403);
    expect(await count('events')).toBe(before);
    const yes = await collect(batch(a, [ev('n3', 'view')]), { key: consentKey });
    expect(yes.json).toEqual({ received: 1, stored: 1 });
  });

  it('limits batches per visitor and per address with 429 and Retry-After', async () => {
    const a = anon();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await collect(batch(a, [ev(`rl${i}`, 'view')]))).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    const limited = await collect(batch(a, [ev('rl-last', 'view')]));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.json.error.message).toBe('too many batches from this visitor (at most 1/s)');
    expect(limited.headers.get('access-control-allow-origin')).toBe(SHOP);
    // Per address (the nearest proxy's X-Forwarded-For hop): RETAIN_COLLECT_ADDRESS_RATE=0.2 is a
    // burst of one, then one request per 5 s.
    process.env.RETAIN_COLLECT_ADDRESS_RATE = '0.2';
    const strict = await testApp(db, { clock }).finally(() => delete process.env.RETAIN_COLLECT_ADDRESS_RATE);
    const from = (address: string) =>
      strict.call('POST', `/t/collect?key=${key}`, {
        body: JSON.stringify(batch(anon(), [ev(`ad-${address.replace(/\./g, '_')}`, 'view')])),
        headers: { origin: SHOP, 'x-forwarded-for': `10.9.9.9, ${address}` },
      });
    expect((await from('203.0.113.7')).status).toBe(200);
    const r = await from('203.0.113.7');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.json.error.message).toBe('too many requests from this address (at most 0.2/s)');
    expect((await from('203.0.113.8')).status).toBe(200);
  });

  it('refuses a body over 64 KiB with 413 naming the limit, nothing stored', async () => {
    const before = await count('events');
    const big = batch(
      anon(),
      Array.from({ length: 40 }, (_, i) => ev(`big${i}`, 'view', { note: 'x'.repeat(1900) })),
    );
    const r = await collect(big);
    expect(JSON.stringify(big).length).toBeGreaterThan(65536);
    expect(r.status).toBe(413);
    expect(r.json.error).toEqual({
      code: 'payload_too_large',
      message: 'the batch exceeds 65536 bytes (64 KiB, the collect limit): send fewer events per request',
      details: { limitBytes: 65536 },
    });
    expect(r.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(await count('events')).toBe(before);
  });

  it('refuses bad batches with 400 naming the field, storing none of the batch', async () => {
    const before = await count('events');
    const a = anon();
    const cases: [unknown, string, RegExp][] = [
      [batch(a, [ev('ok', 'view'), ev('bad', 'Add To Cart')]), 'events.1.type', /expected view, add_to_cart/],
      [batch(a, [ev('ok', 'view', { note: 'x'.repeat(2100) })]), 'events.0.properties', /at most 2048/],
      [batch(a, [ev('ok', 'view', [1, 2])]), 'events.0.properties', /expected a JSON object/],
      [batch(a, [ev('ok', 'identify', { email: 'not an email' })]), 'events.0.properties', /identify takes/],
      [
        batch(a, [ev('ok', 'identify', { email: 'a@b.example', id: '7' })]),
        'events.0.properties',
        /one of them/,
      ],
      [
        batch(
          a,
          Array.from({ length: 51 }, (_, i) => ev(`m${i}`, 'view')),
        ),
        'events',
        /at most 50 events/,
      ],
      [batch(a, []), 'events', /at least one/],
      [batch('short', [ev('ok', 'view')]), 'anonymous_id', /8–64 letters/],
      [batch(a, [{ ...ev('ok', 'view'), event_id: 'x' }]), 'events.0.event_id', /8–64 letters/],
      [
        batch(a, [ev('ok', 'view', undefined, '2024-05-01T00:00:00Z')]),
        'events.0.occurred_at',
        /more than 7 days/,
      ],
      [
        batch(a, [ev('ok', 'view', undefined, '2024-06-01T13:00:00Z')]),
        'events.0.occurred_at',
        /after the batch/,
      ],
      [batch(a, [ev('ok', 'view')], { referrer: 'x' }), '', /unrecognized key/i],
      [{ ...batch(a, [ev('ok', 'view')]), sent_at: 'now' }, 'sent_at', /ISO 8601/],
    ];
    for (const [body, path, message] of cases) {
      const r = await collect(body);
      expect(r.status, path).toBe(400);
      expect(r.json.error.details.issues[0].path, JSON.stringify(r.json)).toBe(path);
      expect(r.json.error.message, path).toMatch(message);
    }
    const malformed = await collect('{"anonymous_id":');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.message).toMatch(/^malformed JSON/);
    expect(await count('events')).toBe(before);
  });

  it('documents its routes in /openapi.json', async () => {
    const doc = (await t.call('GET', '/openapi.json')).json;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/t/collect',
        '/retain.js',
        '/webhooks/shopify/carts',
        '/v1/storefront/keys',
        '/v1/storefront/keys/{key}',
        '/v1/storefront/snippet',
      ]),
    );
    expect(doc.paths['/v1/storefront/keys'].post.description).toContain('Roles: admin.');
  });

  it('prints the snippet tag for the only or the named key', async () => {
    const two = await t.call('GET', '/v1/storefront/snippet', { role: 'admin' });
    expect(two.status).toBe(400);
    expect(two.json.error.details).toEqual({ field: 'key' });
    const r = await t.call(
      'GET',
      `/v1/storefront/snippet?key=${consentKey}&endpoint=https://retain.example/`,
      {
        role: 'admin',
      },
    );
    expect(r.json).toEqual({
      key: consentKey,
      endpoint: 'https://retain.example',
      requireConsent: true,
      html:
        '<script>window.retain=window.retain||function(){(retain.q=retain.q||[]).push(arguments)};</script>\n' +
        `<script async src="https://retain.example/retain.js" data-key="${consentKey}" data-require-consent></script>`,
    });
    const fallback = await t.call('GET', `/v1/storefront/snippet?key=${key}`, { role: 'admin' });
    expect(fallback.json.endpoint).toBe('http://localhost');
    expect((await t.call('GET', '/v1/storefront/snippet?key=x&nope=1', { role: 'admin' })).status).toBe(400);
  });

  it('serves retain.js with an ETag (304 on a match), gzip when accepted', async () => {
    configureSnippet({ file: undefined });
    const r = await t.call('GET', '/retain.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(r.text).toContain('_retain_aid');
    const etag = r.headers.get('etag') as string;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const again = await t.call('GET', '/retain.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const res = await t.app.request('/retain.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('etag')).toBe(etag.replace(/"$/, '.gz"'));
    expect(res.headers.get('vary')).toBe('Accept-Encoding');
  });
});
