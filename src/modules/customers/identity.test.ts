import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { importFile } from '../imports/service.js';

/**
 * Issue 21: identity stitching. An event carrying both `customer_id` and `anonymous_id` links them
 * (first link wins); the anonymous id's stored events without a customer become the customer's, and
 * later anonymous-only events of a linked id are stored with the customer. Over the API and a file.
 */
describe.each(testEngines())('identity stitching on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const dir = mkdtempSync(join(tmpdir(), 'retain-identity-'));
  const clock = new ManualClock('2024-06-01T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
  });
  afterAll(async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (events: Record<string, unknown>[]) =>
    t.call('POST', '/v1/events', { role: 'admin', body: { events } });
  const ev = (id: string, at: string, extra: Record<string, unknown>) => ({
    event_id: id,
    type: 'page_view',
    occurred_at: at,
    ...extra,
  });
  const owners = async (prefix: string) =>
    Object.fromEntries(
      (
        await db.query<{ event_id: string; owner: string | null; anonymous_id: string | null }>(
          `SELECT e.event_id, c.external_id AS owner, e.anonymous_id FROM events e
           LEFT JOIN customers c ON c.customer_id = e.customer_id WHERE e.event_id LIKE $1 ORDER BY e.event_id`,
          [`${prefix}%`],
        )
      ).map((r) => [r.event_id, `${r.owner ?? '-'} ${r.anonymous_id ?? '-'}`]),
    );

  it('over the API: the history before identify becomes the customer’s, and anonymous events after it too', async () => {
    const before = await post([
      ev('api-1', '2024-05-01T10:00:00Z', { anonymous_id: 'anon-A' }),
      ev('api-2', '2024-05-01T10:01:00Z', { anonymous_id: 'anon-A', type: 'add_to_cart' }),
      ev('api-3', '2024-05-01T10:01:00Z', { anonymous_id: 'anon-B' }),
    ]);
    expect(before.json.identity).toEqual({ linked: 0, stitched: 0, conflicts: 0, refused: [] });
    const identify = await post([
      ev('api-4', '2024-05-01T10:05:00Z', { type: 'identify', anonymous_id: 'anon-A', customer_id: 'ann' }),
    ]);
    expect(identify.status).toBe(200);
    expect(identify.json).toMatchObject({ inserted: 1, identity: { linked: 1, stitched: 2, conflicts: 0 } });
    const after = await post([ev('api-5', '2024-05-02T09:00:00Z', { anonymous_id: 'anon-A' })]);
    expect(after.json.identity.linked).toBe(0);
    expect(await owners('api-')).toEqual({
      'api-1': 'ann anon-A',
      'api-2': 'ann anon-A',
      'api-3': '- anon-B',
      'api-4': 'ann anon-A',
      'api-5': 'ann anon-A',
    });
    // The outbox records the later anonymous event with its customer.
    const [tracked] = await db.query<{ external_id: string }>(
      `SELECT c.external_id FROM domain_events d JOIN customers c ON c.customer_id = d.customer_id
       WHERE d.type = 'event.tracked' AND d.ref = 'api-5'`,
    );
    expect(tracked?.external_id).toBe('ann');
    // The link: by which event, from where, when.
    expect(
      await db.query(
        `SELECT anonymous_id, event_id, source, linked_at FROM identity_links ORDER BY anonymous_id`,
      ),
    ).toEqual([{ anonymous_id: 'anon-A', event_id: 'api-4', source: 'api', linked_at: clock.now() }]);
    // The timeline and the export show it.
    const timeline = await t.call('GET', '/v1/customers/ann/timeline', { role: 'admin' });
    expect(timeline.json.data.map((x: { id: string }) => x.id)).toEqual(['api-5', 'api-4', 'api-2', 'api-1']);
    const exported = await t.call('GET', '/v1/customers/ann/export', { role: 'admin' });
    expect(exported.json.anonymousIds).toEqual([
      expect.objectContaining({ anonymous_id: 'anon-A', event_id: 'api-4', source: 'api' }),
    ]);
  });

  it('a second customer claiming a linked anonymous id is reported and not applied (first link wins)', async () => {
    const r = await post([
      ev('api-6', '2024-05-03T10:00:00Z', { type: 'login', anonymous_id: 'anon-A', customer_id: 'bob' }),
      // In one batch two customers claim anon-C: the earlier event wins, the other is a conflict.
      ev('api-8', '2024-05-03T10:02:00Z', { type: 'login', anonymous_id: 'anon-C', customer_id: 'cat' }),
      ev('api-7', '2024-05-03T10:01:00Z', { type: 'login', anonymous_id: 'anon-C', customer_id: 'dan' }),
      ev('api-9', '2024-05-03T10:03:00Z', { anonymous_id: 'anon-C' }),
    ]);
    expect(r.status).toBe(200);
    expect(r.json.inserted).toBe(4);
    expect(r.json.identity).toMatchObject({ linked: 1, conflicts: 2 });
    expect(r.json.identity.refused).toEqual(
      expect.arrayContaining([
        { eventId: 'api-6', anonymousId: 'anon-A', customerId: 'bob', linkedTo: 'ann' },
        { eventId: 'api-8', anonymousId: 'anon-C', customerId: 'cat', linkedTo: 'dan' },
      ]),
    );
    // Each event keeps the customer it named; the links stay as first made.
    expect(await owners('api-')).toMatchObject({
      'api-6': 'bob anon-A',
      'api-7': 'dan anon-C',
      'api-8': 'cat anon-C',
      'api-9': 'dan anon-C',
    });
    expect(
      await db.query(`SELECT l.anonymous_id, c.external_id FROM identity_links l
                      JOIN customers c ON c.customer_id = l.customer_id ORDER BY l.anonymous_id`),
    ).toEqual([
      { anonymous_id: 'anon-A', external_id: 'ann' },
      { anonymous_id: 'anon-C', external_id: 'dan' },
    ]);
  });

  it('from an events file: set-based, the same rules, and a re-import changes nothing', async () => {
    const ctx = testContext(db, clock);
    const write = (name: string, rows: Record<string, unknown>[]) => {
      const f = join(dir, name);
      writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n'));
      return f;
    };
    // Browsing before anything links anon-F (stored without a customer).
    const first = write('first.ndjson', [
      ev('f-1', '2024-05-10T10:00:00Z', { anonymous_id: 'anon-F' }),
      ev('f-2', '2024-05-10T10:01:00Z', { anonymous_id: 'anon-G' }),
    ]);
    expect(await importFile(ctx, { entity: 'events', file: first })).toMatchObject({ inserted: 2 });
    // A later file: the order event links anon-F, an anonymous event after it in the same file joins
    // too, anon-G is linked by a login, and a claim on ann's anon-A is refused with its line.
    const second = write('second.ndjson', [
      ev('f-3', '2024-05-11T10:00:00Z', { anonymous_id: 'anon-F' }),
      ev('f-4', '2024-05-11T10:05:00Z', {
        type: 'order_completed',
        anonymous_id: 'anon-F',
        customer_id: 'eve',
      }),
      ev('f-5', '2024-05-11T10:06:00Z', { type: 'login', anonymous_id: 'anon-G', customer_id: 'fay' }),
      ev('f-6', '2024-05-11T10:07:00Z', { type: 'login', anonymous_id: 'anon-A', customer_id: 'gus' }),
      ev('f-7', '2024-05-12T10:00:00Z', { anonymous_id: 'anon-F' }),
    ]);
    const r = await importFile(ctx, { entity: 'events', file: second });
    expect(r).toMatchObject({ inserted: 5, identity: { linked: 2, stitched: 2, conflicts: 1 } });
    expect(r.warnings).toEqual([
      {
        line: 4,
        reason:
          'event f-6: anonymous id anon-A is already linked to customer ann; not linked to gus (the first link wins)',
      },
    ]);
    expect(await owners('f-')).toEqual({
      'f-1': 'eve anon-F',
      'f-2': 'fay anon-G',
      'f-3': 'eve anon-F',
      'f-4': 'eve anon-F',
      'f-5': 'fay anon-G',
      'f-6': 'gus anon-A',
      'f-7': 'eve anon-F',
    });
    expect(
      await db.query(`SELECT source, event_id FROM identity_links WHERE anonymous_id = 'anon-F'`),
    ).toEqual([{ source: 'import', event_id: 'f-4' }]);
    // Both files again: nothing changes (the stitched events stay the customer's).
    expect(await importFile(ctx, { entity: 'events', file: first })).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 2,
    });
    expect(await importFile(ctx, { entity: 'events', file: second })).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 5,
      identity: { linked: 0, stitched: 0, conflicts: 1 },
    });
    // An anonymous-only event of a linked id over the API after the import.
    await post([ev('f-8', '2024-05-13T10:00:00Z', { anonymous_id: 'anon-G' })]);
    expect((await owners('f-8'))['f-8']).toBe('fay anon-G');
  });

  it('erasure removes the links: the anonymous id’s later events stay anonymous', async () => {
    const r = await t.call('POST', '/v1/customers/fay/erase', { role: 'admin' });
    expect(r.status).toBe(200);
    expect(await db.query(`SELECT anonymous_id FROM identity_links WHERE anonymous_id = 'anon-G'`)).toEqual(
      [],
    );
    expect(await db.query(`SELECT COUNT(*) AS n FROM events WHERE anonymous_id = 'anon-G'`)).toEqual([
      { n: 0 },
    ]);
    await post([ev('f-9', '2024-05-14T10:00:00Z', { anonymous_id: 'anon-G' })]);
    expect((await owners('f-9'))['f-9']).toBe('- anon-G');
  });
});
