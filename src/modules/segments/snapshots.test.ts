import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { generate, load, NOW } from '../../../test/support/segmentStore.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { testContext } from '../../../test/support/context.js';
import { eraseCustomer } from '../customers/service.js';
import { changeTags, saveSegment, snapshotSegment } from './service.js';

describe.each(testEngines())('segment snapshots on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const data = generate(11);
  const clock = new ManualClock(NOW);
  const live = data.customers.filter((c) => !c.erased);
  const tagged = (tag: string) => live.filter((c) => c.tags.includes(tag)).map((c) => c.ext);

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await load(db, data);
    t = await testApp(db, { clock });
    await saveSegment(testContext(db, clock), {
      by: 'test',
      body: { name: 'press', rule: { field: 'tag', op: 'has', value: 'press' } },
    });
  }, 60_000);
  afterAll(async () => dispose?.());

  const events = async (type: string) =>
    db.query<{ ref: string; label: string; ref_id: number }>(
      `SELECT ref, label, ref_id FROM domain_events WHERE type = $1 ORDER BY event_id`,
      [type],
    );

  it('the first snapshot: everyone entered, one segment.entered event each', async () => {
    const ctx = testContext(db, clock);
    const s = await snapshotSegment(ctx, { name: 'press' });
    const want = tagged('press');
    expect(want.length).toBeGreaterThan(3);
    expect(s).toMatchObject({ segment: 'press', members: want.length, entered: want.length, left: 0 });
    const entered = await events('segment.entered');
    expect(entered.map((e) => e.ref).sort()).toEqual([...want].sort());
    expect(new Set(entered.map((e) => e.ref_id))).toEqual(new Set([s.id]));
    expect(new Set(entered.map((e) => e.label))).toEqual(new Set(['press']));
    // Nothing changed: a second snapshot records no change and no event.
    clock.advance(60_000);
    const again = await snapshotSegment(ctx, { name: 'press' });
    expect(again).toMatchObject({ members: want.length, entered: 0, left: 0 });
    expect(await events('segment.entered')).toHaveLength(want.length);
  });

  it('tags change: the next snapshot says who entered and who left, over the API too', async () => {
    const ctx = testContext(db, clock);
    const leaving = tagged('press').slice(0, 2);
    const joining = live
      .filter((c) => !c.tags.includes('press'))
      .slice(0, 3)
      .map((c) => c.ext);
    for (const id of leaving) await changeTags(ctx, { id, body: { remove: ['press'] } });
    for (const id of joining) await changeTags(ctx, { id, body: { add: ['press'] } });
    clock.advance(60_000);
    const r = await t.call('POST', '/v1/segments/press/snapshots', { role: 'marketer' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ entered: 3, left: 2, members: tagged('press').length + 1 });
    const changes = await t.call('GET', `/v1/segment-snapshots/${r.json.id}/changes?limit=2`, {
      role: 'analyst',
    });
    expect(changes.status).toBe(200);
    const all = [...changes.json.items];
    const next = await t.call(
      'GET',
      `/v1/segment-snapshots/${r.json.id}/changes?after=${changes.json.nextCursor}`,
      {
        role: 'analyst',
      },
    );
    all.push(...next.json.items);
    expect(
      all
        .filter((x) => x.change === 'entered')
        .map((x) => x.id)
        .sort(),
    ).toEqual([...joining].sort());
    expect(
      all
        .filter((x) => x.change === 'left')
        .map((x) => x.id)
        .sort(),
    ).toEqual([...leaving].sort());
    expect((await events('segment.left')).map((e) => e.ref).sort()).toEqual([...leaving].sort());
    const history = await t.call('GET', '/v1/segments/press/snapshots', { role: 'analyst' });
    expect(history.json.snapshots.map((s: { entered: number; left: number }) => [s.entered, s.left])).toEqual(
      [
        [3, 2],
        [0, 0],
        [tagged('press').length, 0],
      ],
    );
    expect((await t.call('POST', '/v1/segments/nope/snapshots', { role: 'marketer' })).status).toBe(404);
    expect((await t.call('POST', '/v1/segments/press/snapshots', { role: 'analyst' })).status).toBe(403);
    expect((await t.call('GET', '/v1/segment-snapshots/999999/changes', { role: 'analyst' })).status).toBe(
      404,
    );
  });

  it('an erased member leaves no trace in membership or history', async () => {
    const ctx = testContext(db, clock);
    const victim = live.find((c) => c.tags.includes('press'))!;
    const [found] = await db.query<{ id: number }>(
      `SELECT customer_id AS id FROM customers WHERE external_id = $1`,
      [victim.ext],
    );
    const id = found!.id;
    await eraseCustomer(ctx, { id: victim.ext, by: 'test' });
    for (const table of ['segment_members', 'segment_changes'])
      expect(await db.query(`SELECT 1 FROM ${table} WHERE customer_id = $1`, [id])).toHaveLength(0);
  });

  it('deleting a saved segment drops its history', async () => {
    expect((await t.call('DELETE', '/v1/segments/press', { role: 'marketer' })).status).toBe(200);
    for (const table of ['segment_members', 'segment_changes', 'segment_snapshots'])
      expect(await db.query(`SELECT 1 FROM ${table} WHERE segment = 'press'`)).toHaveLength(0);
  });
});
