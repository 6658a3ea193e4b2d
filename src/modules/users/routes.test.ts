import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { createUser, disableUser, hashPassword, verifyPassword } from './service.js';

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });
});

describe.each(testEngines())('web login and sessions on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const password = 'a long enough secret';

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    // A clock that stands still: the guessing budget cannot refill while the test runs, however slow.
    t = await testApp(db, { clock: new ManualClock('2026-01-05T10:00:00Z') });
    await createUser(t.deps, { email: 'Mia@Shop.com', role: 'marketer', password });
    await createUser(t.deps, { email: 'ana@shop.com', role: 'analyst', password });
  });
  afterAll(() => dispose());

  async function logIn(email: string) {
    const r = await t.call('POST', '/v1/session', { body: { email, password } });
    expect(r.status).toBe(200);
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
    return { cookie, csrf: r.json.csrfToken as string, res: r };
  }

  it('refuses short passwords, duplicate users and wrong credentials alike', async () => {
    await expect(
      createUser(t.deps, { email: 'x@shop.com', role: 'admin', password: 'short' }),
    ).rejects.toThrow(/12 characters/);
    await expect(createUser(t.deps, { email: 'mia@shop.com', role: 'admin', password })).rejects.toThrow(
      /exists/,
    );
    const wrong = await t.call('POST', '/v1/session', {
      body: { email: 'mia@shop.com', password: 'nope nope nope' },
    });
    const unknown = await t.call('POST', '/v1/session', { body: { email: 'who@shop.com', password } });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
    expect((await t.call('POST', '/v1/session', { body: { email: 'not an email' } })).status).toBe(400);
  });

  it('logs in with an HttpOnly SameSite=Strict cookie; reads work with the cookie; writes need the CSRF token', async () => {
    const { cookie, csrf, res } = await logIn('mia@shop.com');
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^retain_session=[\w-]{43};/);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(res.json.user).toEqual({ email: 'mia@shop.com', role: 'marketer' });
    const me = await t.call('GET', '/v1/session', { headers: { cookie } });
    expect(me.json).toEqual({
      kind: 'session',
      id: 'user:mia@shop.com',
      name: 'mia@shop.com',
      role: 'marketer',
    });
    expect((await t.call('GET', '/v1/customers', { headers: { cookie } })).status).toBe(200);
    // Marketers may record consent — but a cookie alone is not enough for a write (CSRF).
    await t.call('POST', '/v1/customers', { role: 'admin', body: { customer_id: 'c1' } });
    const body = { status: 'granted' };
    const noToken = await t.call('PUT', '/v1/customers/c1/consents/email', { headers: { cookie }, body });
    expect(noToken.status).toBe(403);
    expect(noToken.json.error.message).toContain('X-CSRF-Token');
    const badToken = await t.call('PUT', '/v1/customers/c1/consents/email', {
      headers: { cookie, 'x-csrf-token': 'guess' },
      body,
    });
    expect(badToken.status).toBe(403);
    const ok = await t.call('PUT', '/v1/customers/c1/consents/email', {
      headers: { cookie, 'x-csrf-token': csrf },
      body,
    });
    expect(ok.status).toBe(200);
    // Role checks apply to users as to keys.
    expect(
      (
        await t.call('POST', '/v1/events', {
          headers: { cookie, 'x-csrf-token': csrf },
          body: { events: [] },
        })
      ).status,
    ).toBe(403);
    // Logout ends the session.
    expect((await t.call('DELETE', '/v1/session', { headers: { cookie } })).status).toBe(403);
    const out = await t.call('DELETE', '/v1/session', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/retain_session=;/);
    expect((await t.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(401);
  });

  it('ends the sessions of a disabled user and limits password guessing per email', async () => {
    const { cookie } = await logIn('ana@shop.com');
    expect((await t.call('GET', '/v1/reports/summary', { headers: { cookie } })).status).not.toBe(401);
    await disableUser(t.deps, { email: 'ana@shop.com' });
    expect((await t.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(401);
    expect((await t.call('POST', '/v1/session', { body: { email: 'ana@shop.com', password } })).status).toBe(
      401,
    );
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (await t.call('POST', '/v1/session', { body: { email: 'guess@shop.com', password: `try ${i}` } }))
          .status,
      );
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe.each(testEngines())('user management over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const password = 'another long secret';

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock: new ManualClock('2026-02-01T09:00:00Z') });
  });
  afterAll(() => dispose());

  const userCount = async () =>
    ((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM users'))[0] as { n: number }).n;

  it('lets admins create, list and disable users; the new user logs in', async () => {
    const created = await t.call('POST', '/v1/users', {
      role: 'admin',
      body: { email: ' Lea@Shop.com ', role: 'analyst', password },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      email: 'lea@shop.com',
      role: 'analyst',
      createdAt: '2026-02-01T09:00:00.000Z',
      disabledAt: null,
    });
    const list = await t.call('GET', '/v1/users', { role: 'admin' });
    expect(list.status).toBe(200);
    expect(list.json).toEqual({ data: [created.json] });
    expect(JSON.stringify(list.json)).not.toContain('scrypt');

    const login = await t.call('POST', '/v1/session', { body: { email: 'lea@shop.com', password } });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await t.call('GET', '/v1/session', { headers: { cookie } })).json.role).toBe('analyst');

    const disabled = await t.call('POST', `/v1/users/${encodeURIComponent('Lea@shop.com')}/disable`, {
      role: 'admin',
    });
    expect(disabled.status).toBe(200);
    expect(disabled.json).toEqual({ email: 'lea@shop.com', disabled: true });
    expect((await t.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(401);
    expect((await t.call('GET', '/v1/users', { role: 'admin' })).json.data[0].disabledAt).toBe(
      '2026-02-01T09:00:00.000Z',
    );
    const unknown = await t.call('POST', '/v1/users/nobody%40shop.com/disable', { role: 'admin' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toBe('no user with email nobody@shop.com');
  });

  it('refuses a taken email with 409 and writes nothing', async () => {
    const before = await userCount();
    const dup = await t.call('POST', '/v1/users', {
      role: 'admin',
      body: { email: 'LEA@shop.com', role: 'admin', password: 'a different secret' },
    });
    expect(dup.status).toBe(409);
    expect(dup.json.error).toEqual({
      code: 'conflict',
      message: 'a user with email lea@shop.com exists',
      details: { field: 'email' },
    });
    expect(await userCount()).toBe(before);
  });

  it('validates like the CLI and names each bad field', async () => {
    const before = await userCount();
    const bad = await t.call('POST', '/v1/users', {
      role: 'admin',
      body: { email: 'not an email', role: 'owner', password: 'short', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      '',
      'email',
      'password',
      'role',
    ]);
    expect(bad.json.error.details.issues).toContainEqual({
      path: 'password',
      message: 'at least 12 characters',
    });
    expect(bad.json.error.details.issues).toContainEqual({
      path: 'email',
      message: 'expected an email address',
    });
    const missing = await t.call('POST', '/v1/users', { role: 'admin', body: { email: 'x@shop.com' } });
    expect(missing.status).toBe(400);
    expect(missing.json.error.details.issues).toContainEqual({ path: 'password', message: 'is required' });
    expect(await userCount()).toBe(before);
  });

  it('is for admins only, documented in the OpenAPI document', async () => {
    for (const role of ['analyst', 'marketer', 'agent'] as const) {
      expect((await t.call('GET', '/v1/users', { role })).status).toBe(403);
      expect(
        (await t.call('POST', '/v1/users', { role, body: { email: 'y@shop.com', role, password } })).status,
      ).toBe(403);
    }
    expect((await t.call('GET', '/v1/users')).status).toBe(401);
    const doc = (await t.call('GET', '/openapi.json')).json;
    expect(Object.keys(doc.paths['/v1/users'])).toEqual(['get', 'post']);
    expect(doc.paths['/v1/users'].post.responses['409']).toBeDefined();
    expect(doc.paths['/v1/users'].post.description).toContain('Roles: admin.');
    expect(doc.paths['/v1/users/{email}/disable'].post).toBeDefined();
    expect(doc.paths['/v1/users/{email}/enable'].post).toBeDefined();
    expect(doc.paths['/v1/users/{email}'].patch.responses['409']).toBeDefined();
  });

  it('changes roles, resets passwords (ending sessions) and enables users, for admins only', async () => {
    await t.call('POST', '/v1/users', {
      role: 'admin',
      body: { email: 'kim@shop.com', role: 'agent', password },
    });
    const login = async (pw = password) =>
      t.call('POST', '/v1/session', { body: { email: 'kim@shop.com', password: pw } });
    const cookie = ((await login()).headers.get('set-cookie') ?? '').split(';')[0] as string;

    for (const role of ['analyst', 'marketer', 'agent'] as const) {
      const path = '/v1/users/kim%40shop.com';
      expect((await t.call('PATCH', path, { role, body: { role: 'admin' } })).status).toBe(403);
      expect((await t.call('POST', `${path}/enable`, { role })).status).toBe(403);
      expect((await t.call('POST', `${path}/disable`, { role })).status).toBe(403);
    }
    const promoted = await t.call('PATCH', '/v1/users/Kim%40shop.com', {
      role: 'admin',
      body: { role: 'marketer' },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.json).toMatchObject({ email: 'kim@shop.com', role: 'marketer', disabledAt: null });
    // The session follows the new role at once.
    expect((await t.call('GET', '/v1/session', { headers: { cookie } })).json.role).toBe('marketer');

    const bad = await t.call('PATCH', '/v1/users/kim%40shop.com', {
      role: 'admin',
      body: { password: 'short', role: 'owner' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'password',
      'role',
    ]);
    const empty = await t.call('PATCH', '/v1/users/kim%40shop.com', { role: 'admin', body: {} });
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toContain('give a role, a password or both');
    expect(
      (await t.call('PATCH', '/v1/users/who%40shop.com', { role: 'admin', body: { role: 'agent' } })).status,
    ).toBe(404);

    const reset = await t.call('PATCH', '/v1/users/kim%40shop.com', {
      role: 'admin',
      body: { password: 'a brand new secret' },
    });
    expect(reset.status).toBe(200);
    expect((await t.call('GET', '/v1/session', { headers: { cookie } })).status).toBe(401);
    expect((await login()).status).toBe(401);
    expect((await login('a brand new secret')).status).toBe(200);

    await t.call('POST', '/v1/users/kim%40shop.com/disable', { role: 'admin' });
    expect((await login('a brand new secret')).status).toBe(401);
    const enabled = await t.call('POST', '/v1/users/kim%40shop.com/enable', { role: 'admin' });
    expect(enabled.status).toBe(200);
    expect(enabled.json).toMatchObject({ email: 'kim@shop.com', role: 'marketer', disabledAt: null });
    expect((await login('a brand new secret')).status).toBe(200);
    expect((await t.call('POST', '/v1/users/who%40shop.com/enable', { role: 'admin' })).status).toBe(404);
  });

  it('never disables or demotes the last active admin', async () => {
    const admin = await t.call('POST', '/v1/users', {
      role: 'admin',
      body: { email: 'boss@shop.com', role: 'admin', password },
    });
    expect(admin.status).toBe(201);
    const demote = await t.call('PATCH', '/v1/users/boss%40shop.com', {
      role: 'admin',
      body: { role: 'analyst' },
    });
    expect(demote.status).toBe(409);
    expect(demote.json.error.message).toBe(
      "cannot make boss@shop.com analyst: boss@shop.com is the store's last active admin (make another user admin first)",
    );
    const disable = await t.call('POST', '/v1/users/boss%40shop.com/disable', { role: 'admin' });
    expect(disable.status).toBe(409);
    expect(disable.json.error.details).toEqual({ field: 'email' });
    // Nothing written; with a second admin both work.
    const list = async () => (await t.call('GET', '/v1/users', { role: 'admin' })).json.data;
    expect((await list()).find((u: { email: string }) => u.email === 'boss@shop.com')).toMatchObject({
      role: 'admin',
      disabledAt: null,
    });
    await t.call('PATCH', '/v1/users/kim%40shop.com', { role: 'admin', body: { role: 'admin' } });
    expect(
      (await t.call('PATCH', '/v1/users/boss%40shop.com', { role: 'admin', body: { role: 'analyst' } }))
        .status,
    ).toBe(200);
    expect((await t.call('POST', '/v1/users/kim%40shop.com/disable', { role: 'admin' })).status).toBe(409);
  });
});
