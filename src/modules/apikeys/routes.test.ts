import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';

describe.each(testEngines())('API keys over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-02T08:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
  });
  afterAll(() => dispose());

  it('lists a key by its prefix with when it was last used (to the minute); revoked, it is refused', async () => {
    const created = await t.call('POST', '/v1/keys', {
      role: 'admin',
      body: { role: 'analyst', name: 'bi' },
    });
    expect(created.status).toBe(201);
    const { key, keyId } = created.json as { key: string; keyId: string };
    expect(created.json).toEqual({
      key,
      keyId,
      prefix: `rk_${keyId}_`,
      name: 'bi',
      role: 'analyst',
      createdAt: '2026-03-02T08:00:00.000Z',
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(key.startsWith(`rk_${keyId}_`)).toBe(true);
    const row = async () =>
      ((await t.call('GET', '/v1/keys', { role: 'admin' })).json.data as { keyId: string }[]).find(
        (k) => k.keyId === keyId,
      );
    expect(await row()).toMatchObject({ prefix: `rk_${keyId}_`, lastUsedAt: null });

    clock.set(new Date('2026-03-02T08:05:00Z'));
    expect((await t.call('GET', '/v1/customers', { key })).status).toBe(200);
    expect(await row()).toMatchObject({ lastUsedAt: '2026-03-02T08:05:00.000Z' });
    clock.set(new Date('2026-03-02T08:05:30Z')); // within the minute: not written again
    await t.call('GET', '/v1/customers', { key });
    expect(await row()).toMatchObject({ lastUsedAt: '2026-03-02T08:05:00.000Z' });
    clock.set(new Date('2026-03-02T08:07:00Z'));
    await t.call('GET', '/v1/customers', { key });
    expect(await row()).toMatchObject({ lastUsedAt: '2026-03-02T08:07:00.000Z' });

    expect((await t.call('DELETE', `/v1/keys/${keyId}`, { role: 'admin' })).status).toBe(200);
    const refused = await t.call('GET', '/v1/customers', { key });
    expect(refused.status).toBe(401);
    expect(await row()).toMatchObject({ revokedAt: '2026-03-02T08:07:00.000Z' });
  });

  it('is for admins only', async () => {
    for (const role of ['analyst', 'marketer', 'agent'] as const) {
      expect((await t.call('GET', '/v1/keys', { role })).status).toBe(403);
      expect((await t.call('POST', '/v1/keys', { role, body: { role: 'agent' } })).status).toBe(403);
      expect((await t.call('DELETE', '/v1/keys/whatever', { role })).status).toBe(403);
    }
  });
});
