import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { countEvents } from './repository.js';

describe.each(testEngines())('POST /v1/events on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
  });
  afterAll(() => dispose());

  const ev = (id: string, extra: Record<string, unknown> = {}) => ({
    event_id: id,
    type: 'add_to_cart',
    occurred_at: '2024-05-01T10:00:00Z',
    customer_id: 'c-1',
    properties: { sku: 'A1' },
    ...extra,
  });

  it('stores valid events, rejects invalid ones with their index, and replays idempotently', async () => {
    const events = [
      ev('e1'),
      ev('e2', { type: 'Bad Type' }),
      ev('e3', { customer_id: undefined, anonymous_id: 'anon-9' }),
      { type: 'view' },
      ev('e1'), // repeated in the batch
    ];
    const r = await t.call('POST', '/v1/events', { role: 'admin', body: { events } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ received: 5, inserted: 2, duplicates: 1 });
    expect(r.json.rejected.map((x: { index: number }) => x.index)).toEqual([1, 3]);
    expect(r.json.rejected[0]).toMatchObject({ eventId: 'e2', issues: [{ path: 'type' }] });
    expect(r.json.rejected[1].issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['event_id', 'occurred_at']),
    );
    const replay = await t.call('POST', '/v1/events', {
      role: 'admin',
      body: { events: [ev('e1'), ev('e3')] },
    });
    expect(replay.json).toMatchObject({ received: 2, inserted: 0, duplicates: 2, rejected: [] });
    expect(await countEvents(db)).toBe(2);
    const [row] = await db.query<{ customer_ext: string; type: string; props: string }>(
      `SELECT c.external_id AS customer_ext, e.type, CAST(e.properties AS TEXT) AS props
       FROM events e JOIN customers c ON c.customer_id = e.customer_id WHERE e.event_id = 'e1'`,
    );
    expect(row?.customer_ext).toBe('c-1');
    expect(JSON.parse(row?.props ?? 'null')).toEqual({ sku: 'A1' });
  });

  it('accepts 1,000 events and refuses 1,001 or an empty batch', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => ev(`bulk-${i}`, { customer_id: `bulk-c-${i % 37}` }));
    const ok = await t.call('POST', '/v1/events', { role: 'admin', body: { events: many } });
    expect(ok.json).toMatchObject({ received: 1000, inserted: 1000, duplicates: 0, rejected: [] });
    const tooMany = await t.call('POST', '/v1/events', {
      role: 'admin',
      body: { events: [...many, ev('x')] },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.details.issues[0]).toMatchObject({ path: 'events' });
    expect((await t.call('POST', '/v1/events', { role: 'admin', body: { events: [] } })).status).toBe(400);
    expect((await t.call('POST', '/v1/events', { role: 'admin', body: { nope: 1 } })).status).toBe(400);
  });
});
