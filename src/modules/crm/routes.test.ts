import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import { ROLE_PERMISSIONS } from '../../kit/http/roles.js';
import type { Database } from '../../storage/port.js';
import { createKey } from '../apikeys/service.js';
import { upsertCustomer } from '../customers/service.js';

type Entry = { kind: string; id: string; at: string; module: string; title: string; properties: object };

/** The customer 360 over HTTP: one timeline from every module, notes and their authors, tags, roles. */
describe.each(testEngines())('customer 360 routes on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let agentTwo: string;
  const clock = new ManualClock('2026-05-01T09:00:00Z');
  /** A 2xx (or exactly `status`), else the answer's text as the failure. */
  const ok = (r: { status: number; text: string }, status?: number) =>
    status === undefined
      ? expect(r.status >= 200 && r.status < 300, `${r.status} ${r.text}`).toBe(true)
      : expect(r.status, r.text).toBe(status);

  /** Every page of the timeline at `limit` per page, as `kind:id`. */
  const allPages = async (id: string, limit: number, query = '') => {
    const out: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await t.call(
        'GET',
        `/v1/customers/${id}/timeline?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
        { role: 'agent' },
      );
      ok(r);
      expect(r.json.data.length).toBeLessThanOrEqual(limit);
      out.push(...(r.json.data as Entry[]));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor);
    return { entries: out, keys: out.map((e) => `${e.kind}:${e.id}`), pages };
  };

  const notesOf = async (customerId: number) =>
    db.query<{ note_id: number; body: string; updated_at: Date; deleted_at: Date | null }>(
      `SELECT note_id, body, updated_at, deleted_at FROM customer_notes WHERE customer_id = $1 ORDER BY note_id`,
      [customerId],
    );
  const internalId = async (external: string) =>
    (
      await db.query<{ customer_id: number }>(`SELECT customer_id FROM customers WHERE external_id = $1`, [
        external,
      ])
    )[0]!.customer_id;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    agentTwo = (await createKey(t.deps, { role: 'agent', name: 'agent two' })).key;
    await upsertCustomer(t.deps, {
      body: {
        customer_id: 'ann',
        email: 'ann@example.com',
        phone: '+380501234567',
        first_name: 'Ann',
        last_name: 'Lee',
        locale: 'uk',
        time_zone: 'Europe/Kyiv',
      },
    });
    await upsertCustomer(t.deps, { body: { customer_id: 'bob', email: 'bob@example.com' } });
  });
  afterAll(() => dispose());

  it('shows orders, refunds, events, messages, consents, points, tasks, notes and tags on one timeline, newest first, in pages', async () => {
    // What happened before today, at the times the shop says.
    ok(
      await t.call('POST', '/v1/orders', {
        role: 'admin',
        body: {
          order_id: 'o-1',
          customer_id: 'ann',
          ordered_at: '2026-04-01T10:00:00Z',
          currency: 'EUR',
          lines: [{ sku: 'S1', quantity: '1', unit_price: '30.00' }],
        },
      }),
    );
    ok(
      await t.call('POST', '/v1/events', {
        role: 'admin',
        body: {
          events: [
            {
              event_id: 'e-1',
              customer_id: 'ann',
              type: 'page_view',
              occurred_at: '2026-04-02T10:00:00Z',
              properties: { url: '/shoes' },
            },
          ],
        },
      }),
    );
    ok(
      await t.call('POST', '/v1/refunds', {
        role: 'admin',
        body: {
          refund_id: 'r-1',
          order_id: 'o-1',
          amount: '5.00',
          currency: 'EUR',
          refunded_at: '2026-04-03T10:00:00Z',
          reason: 'damaged',
        },
      }),
    );
    // A message the send path delivered, and its open (the ledger's rows as the deliverer writes them).
    const ann = await internalId('ann');
    await db.exec(
      `INSERT INTO message_sends (send_key, customer_id, channel, kind, source, step, occurrence, template,
         template_version, status, not_before, created_at, updated_at, sent_at)
       VALUES ('k-1', $1, 'email', 'marketing', 'campaign:spring', 'send', 'once', 'spring-sale', 2, 'sent',
         $2::timestamp, $2::timestamp, $3::timestamp, $3::timestamp)`,
      [ann, new Date('2026-04-04T09:00:00Z'), new Date('2026-04-04T10:00:00Z')],
    );
    await db.exec(
      `INSERT INTO message_events (send_key, customer_id, kind, target, first_at, last_at, count)
       VALUES ('k-1', $1, 'open', '', $2::timestamp, $2::timestamp, 1)`,
      [ann, new Date('2026-04-04T12:00:00Z')],
    );
    ok(
      await t.call('PUT', '/v1/customers/ann/consents/email', {
        role: 'agent',
        body: { status: 'granted', source: 'phone call', changedAt: '2026-04-05T10:00:00Z' },
      }),
    );
    // Today, a minute apart: points, a task, a note, a tag.
    ok(
      await t.call('PUT', '/v1/loyalty/program', {
        role: 'admin',
        body: { currency: 'EUR', pendingDays: 0 },
      }),
    );
    ok(await t.call('POST', '/v1/loyalty/members', { role: 'agent', body: { customer: 'ann' } }));
    ok(
      await t.call('POST', '/v1/loyalty/adjustments', {
        role: 'agent',
        body: { customer: 'ann', points: 50, reason: 'sorry for the parcel', idempotencyKey: 'adj-1' },
      }),
    );
    clock.advance(60_000);
    ok(
      await t.call('POST', '/v1/tasks', {
        role: 'agent',
        body: { customer: 'ann', title: 'Call about the damaged parcel' },
      }),
    );
    clock.advance(60_000);
    const note = await t.call('POST', '/v1/customers/ann/notes', {
      role: 'agent',
      body: { body: 'Prefers a call after 6 pm.\nParcel 2 arrived damaged.' },
    });
    ok(note, 201);
    expect(note.json).toMatchObject({
      customer: 'ann',
      body: 'Prefers a call after 6 pm.\nParcel 2 arrived damaged.',
      author: { name: 'test agent' },
      createdAt: '2026-05-01T09:02:00.000Z',
      edited: false,
    });
    clock.advance(60_000);
    const tagged = await t.call('PUT', '/v1/customers/ann/tags/vip', { role: 'agent' });
    ok(tagged);
    expect(tagged.json).toEqual({ id: 'ann', tags: ['vip'], changed: true });
    // Again: nothing changes, nothing is recorded.
    expect((await t.call('PUT', '/v1/customers/ann/tags/vip', { role: 'agent' })).json.changed).toBe(false);

    const expected = [
      'tag.added:vip',
      `note:${note.json.id}`,
      expect.stringMatching(/^task:\d+\.\d+$/),
      expect.stringMatching(/^points:\d+$/),
      expect.stringMatching(/^consent:\d+$/),
      'message.open:k-1 ',
      'message:k-1',
      'refund:r-1',
      'event:e-1',
      'order:o-1',
    ];
    for (const limit of [3, 4, 50]) {
      const { keys, pages } = await allPages('ann', limit);
      expect(keys, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    }
    const { entries } = await allPages('ann', 50);
    const byKind = Object.fromEntries(entries.map((e) => [e.kind, e]));
    expect(byKind).toMatchObject({
      'tag.added': {
        at: '2026-05-01T09:03:00.000Z',
        title: 'tagged "vip"',
        properties: { tag: 'vip', by: expect.any(String) },
      },
      note: {
        module: 'crm',
        title: 'note by test agent: Prefers a call after 6 pm.',
        properties: { body: 'Prefers a call after 6 pm.\nParcel 2 arrived damaged.' },
      },
      task: { module: 'tasks', title: expect.stringContaining('Call about the damaged parcel') },
      points: {
        module: 'loyalty',
        detail: 'earn', // an addition by hand is earned points (a grant of kind adjust)
        properties: { points: 50, reason: 'sorry for the parcel' },
      },
      consent: {
        module: 'customers',
        at: '2026-04-05T10:00:00.000Z',
        detail: 'granted',
        properties: { channel: 'email', status: 'granted', source: 'phone call' },
      },
      'message.open': { module: 'messaging', properties: { sendKey: 'k-1', template: 'spring-sale' } },
      message: {
        at: '2026-04-04T10:00:00.000Z',
        title: 'email "spring-sale": sent',
        properties: { channel: 'email', template: 'spring-sale', templateVersion: 2, status: 'sent' },
      },
      refund: { module: 'orders', amountMinor: 500, currency: 'EUR', detail: 'damaged' },
      event: { module: 'events', detail: 'page_view', properties: { url: '/shoes' } },
      order: { module: 'orders', amountMinor: 3000, currency: 'EUR', title: 'order o-1: paid, 1 line' },
    });

    // Kinds filter: names and the kinds under them.
    expect((await allPages('ann', 50, '&kinds=tag,note')).keys).toEqual(expected.slice(0, 2));
    expect((await allPages('ann', 50, '&kinds=message')).keys).toEqual(['message.open:k-1 ', 'message:k-1']);
    expect((await allPages('ann', 2, '&kinds=order,refund')).keys).toEqual(['refund:r-1', 'order:o-1']);
    const badKind = await t.call('GET', '/v1/customers/ann/timeline?kinds=order,emails', { role: 'agent' });
    expect(badKind.status).toBe(400);
    expect(badKind.json.error.details.issues).toEqual([
      { path: 'kinds', message: expect.stringMatching(/^unknown kind 'emails'; known: .*note/) },
    ]);
    const badCursor = await t.call('GET', '/v1/customers/ann/timeline?cursor=nope', { role: 'agent' });
    expect([badCursor.status, badCursor.json.error.details]).toEqual([400, { field: 'cursor' }]);
    const unknownParam = await t.call('GET', '/v1/customers/ann/timeline?kind=order', { role: 'agent' });
    expect(unknownParam.status).toBe(400);

    // Untagging is recorded too; the addition stays on the timeline.
    clock.advance(60_000);
    const untagged = await t.call('DELETE', '/v1/customers/ann/tags/vip', { role: 'marketer' });
    expect(untagged.json).toEqual({ id: 'ann', tags: [], changed: true });
    expect((await t.call('DELETE', '/v1/customers/ann/tags/vip', { role: 'agent' })).json.changed).toBe(
      false,
    );
    expect((await allPages('ann', 50, '&kinds=tag')).keys).toEqual(['tag.removed:vip', 'tag.added:vip']);
  });

  it('heads the timeline with who the customer is and their figures', async () => {
    const head = async () =>
      (await t.call('GET', '/v1/customers/ann/timeline?limit=1', { role: 'agent' })).json;
    const before = await head();
    expect(before.customer).toMatchObject({
      id: 'ann',
      name: 'Ann Lee',
      email: 'ann@example.com',
      phone: '+380501234567',
      locale: 'uk',
      timeZone: 'Europe/Kyiv',
      erasedAt: null,
      orders: { count: null, netRevenueMinor: null, scoresAt: null },
      clv: null,
      loyalty: { points: 50, pending: 0, tier: null },
      openTasks: 1,
      tags: [],
    });
    ok(await t.call('PUT', '/v1/customers/ann/tags/gold%20club', { role: 'agent' }));
    ok(await t.call('POST', '/v1/segments/refresh', { role: 'admin' }), 200);
    const after = await head();
    expect(after.customer).toMatchObject({
      orders: {
        count: 1,
        firstAt: '2026-04-01T10:00:00.000Z',
        lastAt: '2026-04-01T10:00:00.000Z',
        netRevenueMinor: 2500,
        currency: 'EUR',
        scoresAt: expect.any(String),
      },
      tags: ['gold club'],
    });
    // A customer without orders once scores exist: none.
    const bob = await t.call('GET', '/v1/customers/bob/timeline', { role: 'analyst' });
    expect(bob.json).toMatchObject({
      customer: {
        id: 'bob',
        name: null,
        orders: { count: 0, netRevenueMinor: 0 },
        loyalty: null,
        openTasks: 0,
      },
      data: [],
      nextCursor: null,
    });
  });

  it('notes: the author or an admin changes them; anyone else gets 403 with nothing changed', async () => {
    const ann = await internalId('ann');
    const written = await t.call('POST', '/v1/customers/ann/notes', {
      role: 'agent',
      body: { body: '  Asked for a refund by bank transfer  ' },
    });
    ok(written, 201);
    const id = written.json.id as number;
    expect(written.json.body).toBe('Asked for a refund by bank transfer');

    const snapshot = await notesOf(ann);
    for (const o of [{ key: agentTwo }, { role: 'marketer' as const }]) {
      const edit = await t.call('PATCH', `/v1/customers/ann/notes/${id}`, {
        ...o,
        body: { body: 'mine now' },
      });
      expect([edit.status, edit.json.error.code]).toEqual([403, 'forbidden']);
      expect(edit.json.error.message).toMatch(/written by test agent: only its author or an admin/);
      expect((await t.call('DELETE', `/v1/customers/ann/notes/${id}`, o)).status).toBe(403);
    }
    // Roles without notes:write may read, not write.
    expect((await t.call('GET', '/v1/customers/ann/notes', { role: 'analyst' })).status).toBe(200);
    expect(
      (await t.call('POST', '/v1/customers/ann/notes', { role: 'analyst', body: { body: 'x' } })).status,
    ).toBe(403);
    expect((await t.call('PUT', '/v1/customers/ann/tags/x', { role: 'analyst' })).status).toBe(403);
    expect(await notesOf(ann)).toEqual(snapshot);

    // Bad input: 400 naming the field, nothing written.
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/customers/ann/notes', {}, 'body'],
      ['POST', '/v1/customers/ann/notes', { body: '   ' }, 'body'],
      ['POST', '/v1/customers/ann/notes', { body: 'x'.repeat(5001) }, 'body'],
      ['POST', '/v1/customers/ann/notes', { body: 'x', pinned: true }, 'pinned'],
      ['PATCH', `/v1/customers/ann/notes/${id}`, { body: '' }, 'body'],
      ['PATCH', '/v1/customers/ann/notes/abc', { body: 'x' }, 'noteId'],
      ['PUT', `/v1/customers/ann/tags/${'t'.repeat(81)}`, undefined, 'tag'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await t.call(method, path, { role: 'agent', body });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(JSON.stringify(r.json.error), `${method} ${path}`).toContain(field);
    }
    // Another customer's note, or a note that is not there: 404.
    expect(
      (await t.call('PATCH', `/v1/customers/bob/notes/${id}`, { role: 'admin', body: { body: 'x' } })).status,
    ).toBe(404);
    expect((await t.call('DELETE', '/v1/customers/ann/notes/99999', { role: 'admin' })).status).toBe(404);
    expect(await notesOf(ann)).toEqual(snapshot);

    clock.advance(60_000);
    const edited = await t.call('PATCH', `/v1/customers/ann/notes/${id}`, {
      role: 'agent',
      body: { body: 'Asked for a refund by bank transfer; sent the form' },
    });
    ok(edited);
    expect(edited.json).toMatchObject({ id, edited: true, updatedAt: clock.now().toISOString() });
    // An admin may change and delete anyone's note.
    ok(
      await t.call('PATCH', `/v1/customers/ann/notes/${id}`, {
        role: 'admin',
        body: { body: 'Refund form sent' },
      }),
    );
    const list = await t.call('GET', '/v1/customers/ann/notes?limit=1', { key: agentTwo });
    expect(list.json.data).toMatchObject([{ id, body: 'Refund form sent' }]);
    expect(list.json.nextCursor).not.toBeNull();
    const next = await t.call('GET', `/v1/customers/ann/notes?limit=1&cursor=${list.json.nextCursor}`, {
      role: 'agent',
    });
    expect(next.json.data).toHaveLength(1);
    expect(next.json.data[0].id).toBeLessThan(id);

    ok(await t.call('DELETE', `/v1/customers/ann/notes/${id}`, { role: 'admin' }));
    expect((await t.call('DELETE', `/v1/customers/ann/notes/${id}`, { role: 'admin' })).status).toBe(404);
    const notes = await t.call('GET', '/v1/customers/ann/notes', { role: 'agent' });
    expect(notes.json.data.map((n: { id: number }) => n.id)).not.toContain(id);
    const timeline = await allPages('ann', 50, '&kinds=note');
    expect(timeline.keys).not.toContain(`note:${id}`);
  });

  it('an unknown customer is a 404 naming them', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/customers/ghost/timeline', undefined],
      ['GET', '/v1/customers/ghost/notes', undefined],
      ['POST', '/v1/customers/ghost/notes', { body: 'hello' }],
      ['PATCH', '/v1/customers/ghost/notes/1', { body: 'hello' }],
      ['PUT', '/v1/customers/ghost/tags/vip', undefined],
      ['DELETE', '/v1/customers/ghost/tags/vip', undefined],
    ] as const) {
      const r = await t.call(method, path, { role: 'admin', body });
      expect([r.status, r.json.error.message], `${method} ${path}`).toEqual([404, "no customer 'ghost'"]);
      expect(r.json.error.details).toEqual({ field: 'id' });
    }
  });

  it('an agent reads the 360 and writes notes and tags, but exports nothing', async () => {
    expect(ROLE_PERMISSIONS.agent).toEqual(
      expect.arrayContaining(['customers:360', 'notes:write', 'tags:write', 'tasks:read', 'tasks:write']),
    );
    expect(ROLE_PERMISSIONS.agent).not.toContain('export');
    const agent = { key: agentTwo };
    ok(await t.call('GET', '/v1/customers/bob/timeline', agent));
    ok(
      await t.call('POST', '/v1/customers/bob/notes', { ...agent, body: { body: 'Called; no answer' } }),
      201,
    );
    ok(await t.call('PUT', '/v1/customers/bob/tags/callback', agent));
    // Every export route refuses the agent (403) and writes nothing.
    const exports = async () =>
      (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM audience_exports`))[0]!.n;
    const before = await exports();
    const refused = [
      await t.call('GET', '/v1/customers/bob/export', agent),
      await t.call('POST', '/v1/segments/vip/exports', { ...agent, body: {} }),
      await t.call('GET', '/v1/segments/vip/exports', agent),
    ];
    expect(refused.map((r) => [r.status, r.json.error.code])).toEqual([
      [403, 'forbidden'],
      [403, 'forbidden'],
      [403, 'forbidden'],
    ]);
    expect(await exports()).toBe(before);
    // Every route behind `export` in the OpenAPI document lists no agent.
    const doc = (await t.call('GET', '/openapi.json')).json as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    const exportRoutes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => /export/i.test(path) && op.description?.includes('Roles:'))
        .map(([method, op]) => `${method} ${path}: ${op.description!.split('Roles:')[1]!.trim()}`),
    );
    expect(exportRoutes.length).toBeGreaterThanOrEqual(3);
    for (const r of exportRoutes) expect(r).not.toMatch(/agent/);
  });

  it('erasing a customer removes their notes and tag changes; merging moves them', async () => {
    await upsertCustomer(t.deps, { body: { customer_id: 'cat', email: 'cat@example.com' } });
    await upsertCustomer(t.deps, { body: { customer_id: 'cat-old', email: 'cat@example.com' } });
    ok(
      await t.call('POST', '/v1/customers/cat-old/notes', { role: 'agent', body: { body: 'old account' } }),
      201,
    );
    ok(await t.call('PUT', '/v1/customers/cat-old/tags/wholesale', { role: 'agent' }));
    ok(await t.call('POST', '/v1/customers/cat/merge', { role: 'admin', body: { from: ['cat-old'] } }));
    const cat = await internalId('cat');
    expect((await notesOf(cat)).map((n) => n.body)).toEqual(['old account']);
    expect((await allPages('cat', 50, '&kinds=note,tag')).keys).toEqual([
      'tag.added:wholesale',
      expect.stringMatching(/^note:\d+$/),
    ]);

    const ann = await internalId('ann');
    expect((await notesOf(ann)).length).toBeGreaterThan(0);
    ok(await t.call('POST', '/v1/customers/ann/erase', { role: 'admin' }));
    expect(await notesOf(ann)).toEqual([]);
    expect(await db.query(`SELECT tag FROM customer_tag_changes WHERE customer_id = $1`, [ann])).toEqual([]);
    // The shop id is gone with the person; the anonymous id still reads the anonymous facts.
    expect((await t.call('GET', '/v1/customers/ann/timeline', { role: 'agent' })).status).toBe(404);
    const anon = await t.call('GET', `/v1/customers/erased-${ann}/timeline?kinds=note,order`, {
      role: 'agent',
    });
    expect(anon.json.data.map((e: Entry) => e.kind)).toEqual(['order']);
    expect(anon.json.customer).toMatchObject({
      name: null,
      email: null,
      phone: null,
      erasedAt: expect.any(String),
    });
    expect(
      (await t.call('POST', `/v1/customers/erased-${ann}/notes`, { role: 'admin', body: { body: 'x' } }))
        .status,
    ).toBe(404);
  });
});
