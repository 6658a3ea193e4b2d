import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { upsertOrder } from '../orders/service.js';
import { countSegment } from '../segments/service.js';
import { adjust, enrol, setProgram } from './service.js';

/** Segments over loyalty: tier, points, enrolment and when points expire (for flows and campaigns). */
describe.each(testEngines())('segments of loyalty members on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2026-05-01T10:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db, clock);
    for (const c of ['a', 'b', 'c', 'd'])
      await upsertOrder(ctx, {
        body: {
          order_id: `o-${c}`,
          customer_id: c,
          ordered_at: '2026-01-01T00:00:00Z',
          currency: 'EUR',
          lines: [{ sku: 'X', quantity: 1, unit_price: '5.00' }],
        },
      });
    await setProgram(ctx, { currency: 'EUR', enrollment: 'opt-in', expiryDays: 60 });
    await enrol(ctx, { customer: 'a' });
    await enrol(ctx, { customer: 'b' });
    await adjust(ctx, { customer: 'a', points: 900, reason: 'x', idempotencyKey: '1', expiryDays: 10 });
    await adjust(ctx, { customer: 'b', points: 200, reason: 'x', idempotencyKey: '1' });
    await db.exec(
      `UPDATE loyalty_members SET tier = 'Gold' WHERE customer_id = (SELECT customer_id FROM customers WHERE external_id = 'a')`,
    );
  });
  afterAll(() => dispose());

  const count = async (rule: unknown) => (await countSegment(ctx, { rule })).count;

  it('counts members by points, tier, enrolment and expiring points', async () => {
    expect(await count({ field: 'loyalty_points', op: 'is_set' })).toBe(2);
    expect(await count({ field: 'loyalty_points', op: 'is_not_set' })).toBe(2);
    expect(await count({ field: 'loyalty_points', op: 'gte', value: 500 })).toBe(1);
    expect(await count({ field: 'loyalty_tier', op: 'eq', value: 'Gold' })).toBe(1);
    expect(await count({ field: 'loyalty_enrolled_at', op: 'within_last_days', value: 1 })).toBe(2);
    expect(await count({ field: 'loyalty_points_expire_at', op: 'within_next_days', value: 14 })).toBe(1);
    expect(
      await count({ not: { field: 'loyalty_points_expire_at', op: 'within_next_days', value: 14 } }),
    ).toBe(3);
  });
});
