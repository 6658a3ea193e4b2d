import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { ordersSubscriber } from './jobs.js';
import { getMember, memberTiers, setProgram, sweep } from './service.js';

/** Tiers on points earned (not the balance): up on an order (per-member windows) and nightly. */
describe.each(testEngines())('tiers by points earned on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2026-06-01T12:00:00Z');
  let dispatcher: Dispatcher;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber] });
    await dispatcher.register();
    await upsertOrder(ctx, {
      body: {
        order_id: 'seed',
        customer_id: 'x',
        ordered_at: '2026-01-01T00:00:00Z',
        currency: 'EUR',
        lines: [{ sku: 'S', quantity: 1, unit_price: '1.00' }],
      },
    });
    await setProgram(ctx, {
      currency: 'EUR',
      pendingDays: 0,
      tiers: {
        basis: 'points',
        levels: [
          { name: 'Silver', threshold: 300 },
          { name: 'Gold', threshold: 1000 },
        ],
      },
    });
  });
  afterAll(() => dispose());

  const order = async (id: string, customer: string, euros: number) => {
    await upsertOrder(ctx, {
      body: {
        order_id: id,
        customer_id: customer,
        ordered_at: clock.now().toISOString(),
        currency: 'EUR',
        lines: [{ sku: 'S', quantity: 1, unit_price: euros.toFixed(2) }],
      },
    });
  };

  it('counts points earned in the window, on the order path and on the nightly sweep', async () => {
    await order('a1', 'ann', 350); // 350 points: Silver
    await order('b1', 'bob', 120); // 120: none
    await dispatcher.drain();
    expect((await getMember(ctx, { customer: 'ann' })).tier).toBe('Silver');
    expect((await getMember(ctx, { customer: 'bob' })).tier).toBeNull();
    expect((await getMember(ctx, { customer: 'ann' })).tierBasisValue).toBe(350);
    expect(await sweep(ctx)).toMatchObject({ tiersUp: 0, tiersDown: 0 });
    clock.set(new Date('2026-06-02T12:00:00Z'));
    await order('b2', 'bob', 1000); // 1,120 earned: Gold
    await dispatcher.drain();
    expect((await memberTiers(ctx, { customer: 'bob' })).map((h) => h.to)).toEqual(['Gold']);
  });
});
