import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { DomainEvent, NewDomainEvent, Subscriber } from '../../kit/events.js';
import type { Jobs } from '../../kit/jobs.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { Dispatcher } from './dispatcher.js';
import * as repo from './repository.js';
import { recordEvents } from './service.js';

const placed = (customerId: number, n: number, at = '2024-01-01T00:00:00Z'): NewDomainEvent => ({
  type: 'order.placed',
  customerId,
  occurredAt: new Date(at),
  payload: { order_id: n, external_id: `O-${n}`, total_minor: 100 * n, currency: 'EUR' },
});

describe.each(testEngines())('domain event dispatcher on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let clock: ManualClock;
  let ctx: ModuleContext;

  beforeEach(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    clock = new ManualClock('2024-06-01T00:00:00Z');
    ctx = { db, clock, jobs: {} as Jobs, log: pino({ level: process.env.TEST_LOG ?? 'silent' }) };
  });
  afterEach(() => dispose());

  const record = (events: NewDomainEvent[]) =>
    db.transaction((tx) => recordEvents(tx, db.dialect, events, clock.now()));

  const collector = (name: string, start: 'now' | 'beginning', batchSize = 100) => {
    const seen: DomainEvent[] = [];
    const sub: Subscriber = {
      name,
      types: ['order.placed', 'order.refunded'],
      start,
      batchSize,
      handle: async (_ctx, events) => {
        seen.push(...events);
      },
    };
    return { sub, seen };
  };

  it('starts `now` after the events already recorded, `beginning` with all of them', async () => {
    await record([placed(1, 1), placed(2, 2)]);
    const fromNow = collector('from-now', 'now');
    const fromStart = collector('from-start', 'beginning');
    const d = new Dispatcher({ ctx, subscribers: [fromNow.sub, fromStart.sub] });
    await d.register();
    await record([placed(1, 3)]);
    expect(await d.drain()).toBe(4);
    expect(fromNow.seen.map((e) => e.payload)).toEqual([
      { order_id: 3, external_id: 'O-3', total_minor: 300, currency: 'EUR' },
    ]);
    expect(fromStart.seen.map((e) => (e.type === 'order.placed' ? e.payload.order_id : 0))).toEqual([
      1, 2, 3,
    ]);
    // Registering again (a restart) keeps the cursors: nothing is delivered twice.
    const again = new Dispatcher({ ctx, subscribers: [fromNow.sub, fromStart.sub] });
    expect(await again.drain()).toBe(0);
    expect((await repo.getSubscription(db, 'from-now'))?.last_event_id).toBe(3);
  });

  it('delivers in event-id order, per customer in order, in batches, skipping other types', async () => {
    const events: NewDomainEvent[] = [];
    for (let i = 1; i <= 25; i++) {
      events.push(placed(i % 3, i));
      events.push({
        type: 'customer.updated',
        customerId: i % 3,
        occurredAt: new Date('2024-01-01T00:00:00Z'),
        payload: { external_id: `c${i % 3}` },
      });
    }
    await record(events);
    const c = collector('ordered', 'beginning', 4);
    const d = new Dispatcher({ ctx, subscribers: [c.sub] });
    expect(await d.drain()).toBe(25);
    const ids = c.seen.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(c.seen.map((e) => e.type))).toEqual(new Set(['order.placed']));
    for (const cust of [0, 1, 2]) {
      const mine = c.seen.filter((e) => e.customer_id === cust);
      const orders = mine.map((e) => (e.type === 'order.placed' ? e.payload.order_id : 0));
      expect(orders).toEqual([...orders].sort((a, b) => a - b));
    }
    // The cursor moved past the trailing events of other types too.
    expect((await repo.getSubscription(db, 'ordered'))?.last_event_id).toBe(50);
  });

  it('retries a failing handler without moving its cursor; its writes roll back with the batch', async () => {
    await db.exec(`CREATE TABLE handled (event_id BIGINT PRIMARY KEY)`);
    await record([placed(1, 1), placed(1, 2)]);
    let fail = true;
    let calls = 0;
    const sub: Subscriber = {
      name: 'flaky',
      types: ['order.placed'],
      start: 'beginning',
      handle: async ({ tx }, events) => {
        calls++;
        for (const e of events)
          await tx.exec(`INSERT INTO handled (event_id) VALUES ($1) ON CONFLICT DO NOTHING`, [e.id]);
        if (fail) throw new Error('downstream unavailable');
      },
    };
    const d = new Dispatcher({ ctx, subscribers: [sub] });
    expect(await d.drain()).toBe(0);
    let s = await repo.getSubscription(db, 'flaky');
    expect(s).toMatchObject({ last_event_id: 0, failures: 1, last_error: 'downstream unavailable' });
    expect((await db.query(`SELECT * FROM handled`)).length).toBe(0);
    // Backing off: not retried before retry_at.
    expect(await d.drain()).toBe(0);
    expect(calls).toBe(1);
    fail = false;
    clock.advance(1_000);
    expect(await d.drain()).toBe(2);
    s = await repo.getSubscription(db, 'flaky');
    expect(s).toMatchObject({ last_event_id: 2, failures: 0, last_error: null });
    expect((await db.query(`SELECT * FROM handled ORDER BY event_id`)).length).toBe(2);
  });

  it('start() polls until stop()', async () => {
    const c = collector('poller', 'beginning');
    const d = new Dispatcher({ ctx, subscribers: [c.sub], pollMs: 10 });
    d.start();
    await record([placed(7, 1)]);
    for (let i = 0; i < 200 && c.seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await d.stop();
    expect(c.seen.map((e) => e.customer_id)).toEqual([7]);
  });
});
