import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { generate, load, NOW } from '../../../test/support/segmentStore.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';

describe.each(testEngines())('segments over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const data = generate(7);

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await load(db, data);
    t = await testApp(db, { clock: new ManualClock(NOW) });
  }, 60_000);
  afterAll(async () => dispose?.());

  it('refuses bad rules with a 400 naming the path, and writes nothing', async () => {
    const bad = async (rule: unknown, path: string, message: RegExp) => {
      const r = await t.call('POST', '/v1/segments', { role: 'marketer', body: { name: 'bad', rule } });
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json.error.details.issues[0].path).toBe(path);
      expect(r.json.error.message).toMatch(message);
      // The same on count (nothing saved, nothing counted).
      const c = await t.call('POST', '/v1/segments/count', { role: 'analyst', body: { rule } });
      expect(c.status).toBe(400);
      expect(c.json.error.message).toContain(path);
    };
    await bad(
      {
        all: [
          { field: 'orders', op: 'gte', value: 1 },
          { field: 'country', op: 'eq', value: 'US' },
          { any: [{ field: 'cuntry', op: 'eq', value: 'US' }] },
        ],
      },
      'rule.all[2].any[0].field',
      /unknown field 'cuntry'/,
    );
    await bad(
      { field: 'country', op: 'gt', value: 'US' },
      'rule.op',
      /'gt' does not apply to text field 'country' \(eq, neq/,
    );
    await bad(
      { all: [{ field: 'last_order_at', op: 'before', value: '2026-13-01' }] },
      'rule.all[0].value',
      /expected a date YYYY-MM-DD/,
    );
    await bad({ any: [] }, 'rule.any', /an 'any' needs at least one rule/);
    await bad({ not: { field: 'orders', op: 'gte', value: 'two' } }, 'rule.not.value', /expected a number/);
    await bad({ field: 'consent', op: 'eq', value: 'granted' }, 'rule.channel', /needs channel/);
    await bad(
      { field: 'consent', channel: 'fax', op: 'eq', value: 'granted' },
      'rule.channel',
      /expected a consent channel/,
    );
    await bad({ field: 'orders', op: 'gte', value: 1, colour: 'red' }, 'rule.colour', /unknown key/);
    await bad({ field: 'bought', op: 'ever' }, 'rule.category', /needs a category or a sku/);
    await bad(
      { field: 'rfm_segment', op: 'eq', value: 'Champs' },
      'rule.value',
      /'Champs' is not a value of rfm_segment/,
    );
    expect(
      (await t.call('GET', '/v1/segments', { role: 'analyst' })).json.segments.some(
        (s: { name: string }) => s.name === 'bad',
      ),
    ).toBe(false);
  });

  it('saves, previews, counts, pages members, and deletes a segment', async () => {
    const rule = {
      all: [
        { field: 'orders', op: 'gte', value: 1 },
        { field: 'email', op: 'is_set' },
      ],
    };
    const created = await t.call('POST', '/v1/segments', {
      role: 'marketer',
      body: { name: 'buyers-with-email', description: 'bought, has an email', rule },
    });
    expect(created.status).toBe(201);
    expect(
      (await t.call('POST', '/v1/segments', { role: 'marketer', body: { name: 'buyers-with-email', rule } }))
        .status,
    ).toBe(200);
    expect(
      (await t.call('POST', '/v1/segments', { role: 'analyst', body: { name: 'x', rule } })).status,
    ).toBe(403);
    expect(
      (await t.call('POST', '/v1/segments', { role: 'marketer', body: { name: 'vip', rule } })).json.error
        .message,
    ).toMatch(/built-in/);

    const count = await t.call('POST', '/v1/segments/count', {
      role: 'analyst',
      body: { name: 'buyers-with-email' },
    });
    expect(count.status).toBe(200);
    expect(count.json.count).toBeGreaterThan(10);
    const preview = await t.call('POST', '/v1/segments/preview', {
      role: 'analyst',
      body: { name: 'buyers-with-email' },
    });
    expect(preview.status).toBe(200);
    const p = preview.json;
    expect(p.count).toBe(count.json.count);
    expect(p.sample.length).toBe(Math.min(20, p.count));
    expect(p.customers).toBe(data.customers.filter((c) => !c.erased).length);
    expect(p.revenueShare).toBeGreaterThan(0);
    expect(p.revenueShare).toBeLessThanOrEqual(1);
    expect(p.reachable.email).toBeLessThanOrEqual(p.count);
    // Reachable by email: members with an email and a granted email consent.
    const members: string[] = [];
    let after: string | null = null;
    do {
      const page: { status: number; json: { items: { id: string }[]; nextCursor: string | null } } =
        await t.call(
          'GET',
          `/v1/segments/buyers-with-email/members?limit=7${after ? `&after=${after}` : ''}`,
          { role: 'analyst' },
        );
      expect(page.status).toBe(200);
      members.push(...page.json.items.map((m) => m.id));
      after = page.json.nextCursor;
    } while (after);
    expect(members).toHaveLength(p.count);
    expect(new Set(members).size).toBe(p.count);
    const granted = data.customers.filter(
      (c) => members.includes(c.ext) && c.consents.email === 'granted',
    ).length;
    expect(p.reachable.email).toBe(granted);
    // The sample is the highest revenue first.
    const revenues = p.sample.map((m: { revenueMinor: number }) => m.revenueMinor);
    expect(revenues).toEqual([...revenues].sort((a, b) => b - a));

    expect((await t.call('DELETE', '/v1/segments/buyers-with-email', { role: 'marketer' })).status).toBe(200);
    expect((await t.call('GET', '/v1/segments/buyers-with-email', { role: 'analyst' })).status).toBe(404);
    expect((await t.call('DELETE', '/v1/segments/vip', { role: 'marketer' })).status).toBe(400);
  });

  it('built-in segments count without being saved; asOf moves "now"', async () => {
    const list = (await t.call('GET', '/v1/segments', { role: 'analyst' })).json.segments;
    expect(list.filter((s: { builtin: boolean }) => s.builtin).map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining([
        'top-revenue',
        'one-time-buyers',
        'lapsing-regulars',
        'vip',
        'at-risk-high-value',
      ]),
    );
    for (const s of list) {
      const r = await t.call('POST', '/v1/segments/count', { role: 'analyst', body: { name: s.name } });
      expect(r.status, s.name).toBe(200);
    }
    const top = await t.call('POST', '/v1/segments/count', {
      role: 'analyst',
      body: { name: 'top-revenue' },
    });
    expect(top.json.count).toBeGreaterThan(0);
    const recent = { field: 'first_order_at', op: 'is_past' };
    const now = await t.call('POST', '/v1/segments/count', { role: 'analyst', body: { rule: recent } });
    const back = await t.call('POST', '/v1/segments/count', {
      role: 'analyst',
      body: { rule: recent, asOf: '2025-01-01' },
    });
    expect(back.json.asOf).toBe('2025-01-02T00:00:00.000Z');
    expect(back.json.count).toBeLessThan(now.json.count);
    expect(back.json.count).toBeGreaterThan(0);
    expect(
      (
        await t.call('POST', '/v1/segments/count', {
          role: 'analyst',
          body: { rule: recent, asOf: 'yesterday' },
        })
      ).json.error.message,
    ).toMatch(/asOf/);
    expect((await t.call('POST', '/v1/segments/count', { role: 'analyst', body: {} })).status).toBe(400);
  });

  it('tags: added and removed over the API, used by rules, unknown customers 404', async () => {
    const target = data.customers.find((c) => !c.erased && !c.tags.includes('press'))!;
    const r = await t.call('PATCH', `/v1/customers/${target.ext}/tags`, {
      role: 'marketer',
      body: { add: ['press', 'beta'], remove: ['vip'] },
    });
    expect(r.status).toBe(200);
    expect(r.json.tags).toEqual(expect.arrayContaining(['press', 'beta']));
    expect(r.json.tags).not.toContain('vip');
    const beta = await t.call('POST', '/v1/segments/count', {
      role: 'analyst',
      body: { rule: { field: 'tag', op: 'has', value: 'beta' } },
    });
    expect(beta.json.count).toBe(1);
    expect(
      (await t.call('PATCH', '/v1/customers/nobody/tags', { role: 'marketer', body: { add: ['x'] } })).status,
    ).toBe(404);
    expect(
      (await t.call('PATCH', `/v1/customers/${target.ext}/tags`, { role: 'marketer', body: { add: [''] } }))
        .status,
    ).toBe(400);
  });
});
