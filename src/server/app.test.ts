import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, revokeKey } from '../modules/apikeys/service.js';
import { HTTP_STATUS } from '../shared/errors.js';
import type { Database } from '../storage/port.js';
import { freshDatabase, testEngines } from '../../test/support/storage.js';
import { testApp } from '../../test/support/server.js';

describe.each(testEngines())('HTTP app basics on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
  });
  afterAll(() => dispose());

  it('answers health and readiness (readiness asks the database)', async () => {
    expect(await t.call('GET', '/health')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await t.call('GET', '/ready')).toMatchObject({
      status: 200,
      json: { status: 'ready', database: engine },
    });
  });

  it('echoes a valid request id and makes one up otherwise', async () => {
    const r = await t.call('GET', '/health', { headers: { 'x-request-id': 'abc-123' } });
    expect(r.headers.get('x-request-id')).toBe('abc-123');
    const r2 = await t.call('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(r2.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves an OpenAPI 3.1 document with secured, role-annotated routes and a self-contained docs page', async () => {
    const r = await t.call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    const post = r.json.paths['/v1/events'].post;
    expect(post.security).toEqual([{ bearer: [] }]);
    expect(post.description).toContain('Roles: admin.');
    expect(r.json.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const docs = await t.call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('openapi.json');
    expect(docs.text).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // nothing from a CDN
  });

  it('documents every /v1 and webhook route, each /v1 one behind a key with its error responses', async () => {
    const doc = (await t.call('GET', '/openapi.json')).json;
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    const served = t.app.routes
      .filter((r) => r.path.startsWith('/v1/') || r.path.startsWith('/webhooks/'))
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThan(20);
    for (const route of served) expect(documented, route).toContain(route);
    for (const [path, item] of Object.entries(
      doc.paths as Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>,
    )) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(item)) {
        if (path === '/v1/session' && method === 'post') continue; // the password login itself
        expect(op.security, path).toEqual([{ bearer: [] }]);
        expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['401', '403']));
        expect(op, `${method} ${path}`).not.toHaveProperty('middleware'); // code, not documentation
      }
    }
  });

  it('answers unknown routes with the one error shape', async () => {
    const r = await t.call('GET', '/v1/nope');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: { code: 'not_found', message: 'no route GET /v1/nope' } });
  });

  it('refuses a missing, malformed, unknown or revoked key with 401 and a wrong role with 403', async () => {
    const body = { events: [{ event_id: 'e', type: 'view', occurred_at: '2024-01-01', anonymous_id: 'a' }] };
    const none = await t.call('POST', '/v1/events', { body });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    expect((await t.call('POST', '/v1/events', { body, key: 'not-a-key' })).status).toBe(401);
    const unknown = 'rk_0123456789_' + 'A'.repeat(43);
    expect((await t.call('POST', '/v1/events', { body, key: unknown })).status).toBe(401);
    const k = await createKey(t.deps, { role: 'admin', name: 'soon revoked' });
    expect((await t.call('POST', '/v1/events', { body, key: k.key })).status).toBe(200);
    await revokeKey(t.deps, { keyId: k.keyId });
    const revoked = await t.call('POST', '/v1/events', { body, key: k.key });
    expect(revoked.status).toBe(401);
    expect(revoked.json.error.message).toContain('revoked');
    for (const role of ['analyst', 'marketer', 'agent'] as const) {
      const r = await t.call('POST', '/v1/events', { body, role });
      expect(r.status).toBe(403);
      expect(r.json.error).toMatchObject({
        code: 'forbidden',
        details: { required: 'ingest', allowedRoles: ['admin'] },
      });
    }
  });

  it('limits the rate per key with 429 and Retry-After', async () => {
    const limited = await testApp(db, { config: { authCacheMs: 0, rateLimit: { perSecond: 1, burst: 2 } } });
    const body = { events: [{ event_id: 'rl', type: 'view', occurred_at: '2024-01-01', anonymous_id: 'a' }] };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const r = await limited.call('POST', '/v1/events', { body, role: 'admin' });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another key has its own bucket.
    expect((await limited.call('POST', '/v1/events', { body, role: 'analyst' })).status).toBe(403);
  });

  it('refuses an oversized body with 413', async () => {
    const small = await testApp(db, { config: { authCacheMs: 0, maxBodyBytes: 1000 } });
    const events = Array.from({ length: 50 }, (_, i) => ({
      event_id: `big-${i}`,
      type: 'view',
      occurred_at: '2024-01-01',
      anonymous_id: 'a',
    }));
    const r = await small.call('POST', '/v1/events', { body: { events }, role: 'admin' });
    expect(r.status).toBe(HTTP_STATUS.payload_too_large);
    expect(r.json.error.code).toBe('payload_too_large');
  });

  it('refuses malformed JSON with 400', async () => {
    const r = await t.call('POST', '/v1/events', { body: '{"events": [', role: 'admin' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('validation');
  });
});

describe.each(testEngines())('key management over HTTP on %s', (engine) => {
  it('lets admins create, list and revoke keys; a revoked key stops at once', async () => {
    const { db, dispose } = await freshDatabase(engine);
    try {
      // The production auth cache (5 s) is on: revocation through the API must still be immediate.
      const t = await testApp(db, { config: { authCacheMs: 5000 } });
      const created = await t.call('POST', '/v1/keys', {
        role: 'admin',
        body: { role: 'agent', name: 'desk' },
      });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ role: 'agent', name: 'desk', revokedAt: null });
      const key = created.json.key as string;
      expect((await t.call('GET', '/v1/customers', { key })).status).toBe(200);
      const list = await t.call('GET', '/v1/keys', { role: 'admin' });
      expect(list.json.data).toHaveLength(5);
      expect(list.text).not.toContain(key);
      expect((await t.call('DELETE', `/v1/keys/${created.json.keyId}`, { role: 'admin' })).json).toEqual({
        keyId: created.json.keyId,
        revoked: true,
      });
      expect((await t.call('GET', '/v1/customers', { key })).status).toBe(401);
      expect((await t.call('DELETE', '/v1/keys/nope', { role: 'admin' })).status).toBe(404);
      expect((await t.call('POST', '/v1/keys', { role: 'admin', body: { role: 'root' } })).status).toBe(400);
      for (const role of ['analyst', 'marketer', 'agent'] as const)
        expect((await t.call('GET', '/v1/keys', { role })).status).toBe(403);
    } finally {
      await dispose();
    }
  });
});
