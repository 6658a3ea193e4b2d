/**
 * What `npm run bench -- subscriptions` drives (bench/subscriptions.mjs), bundled from the sources in one
 * piece: a store with N customers subscribed to one monthly plan, all due at the same instant; the
 * renewals; and the floor — the same orders through the API's order upsert, one per transaction.
 */
import { ManualClock } from '../../src/kit/clock.js';
import { upsertCustomer } from '../../src/modules/customers/service.js';
import { setPolicy } from '../../src/modules/messaging/service.js';
import { upsertOrder } from '../../src/modules/orders/service.js';
import { upsertProduct } from '../../src/modules/products/service.js';
import { updateStore } from '../../src/modules/settings/service.js';
import { openStore } from '../../src/modules/store.js';
import { createSubscription, renewSubscriptions, savePlan } from '../../src/modules/subscriptions/service.js';
import type { Database } from '../../src/storage/port.js';
import { testContext } from './context.js';

export { openStore };

const FIRST = '2027-03-01';

async function seedStore(db: Database, n: number, subscribe: boolean) {
  const clock = new ManualClock('2027-02-01T00:00:00Z');
  const ctx = testContext(db, clock);
  await updateStore(ctx, { currency: 'EUR', timeZone: 'UTC' });
  await setPolicy(ctx, { publicUrl: 'https://shop.test', quietHours: null });
  await upsertProduct(ctx, { sku: 'BEANS', body: { title: 'Beans', price: '12.00', currency: 'EUR' } });
  if (subscribe)
    await savePlan(ctx, {
      body: { name: 'monthly', title: 'Monthly', interval: { every: 1, unit: 'month' }, reminderDays: 0 },
    });
  for (let i = 0; i < n; i++) {
    await upsertCustomer(ctx, { body: { customer_id: `c${i}`, email: `c${i}@example.com` } });
    if (subscribe)
      await createSubscription(ctx, {
        body: { customer: `c${i}`, plan: 'monthly', sku: 'BEANS', firstDelivery: FIRST },
        by: 'bench',
      });
  }
  return { ctx, clock };
}

/** N subscriptions due at once, renewed by one call: seconds, orders made, and what the store holds. */
export async function renewals(db: Database, n: number) {
  const { ctx, clock } = await seedStore(db, n, true);
  clock.set(`${FIRST}T09:00:00Z`);
  const t0 = performance.now();
  const r = await renewSubscriptions(ctx);
  const seconds = (performance.now() - t0) / 1000;
  const [c] = await db.query<{ orders: number; keys: number; payments: number }>(
    `SELECT (SELECT CAST(COUNT(*) AS INTEGER) FROM orders) AS orders,
            (SELECT CAST(COUNT(*) AS INTEGER) FROM subscription_orders) AS keys,
            (SELECT CAST(COUNT(*) AS INTEGER) FROM subscription_payments) AS payments`,
  );
  return { seconds, made: r.orders, ...c! };
}

/** The floor: the same N orders through the order upsert (the importer's merge), one per transaction. */
export async function plainOrders(db: Database, n: number) {
  const { ctx } = await seedStore(db, n, false);
  const t0 = performance.now();
  for (let i = 0; i < n; i++)
    await upsertOrder(ctx, {
      body: {
        order_id: `o${i}`,
        customer_id: `c${i}`,
        ordered_at: `${FIRST}T09:00:00Z`,
        currency: 'EUR',
        status: 'pending',
        lines: [{ sku: 'BEANS', title: 'Beans', quantity: 1, unit_price: '12.00' }],
      },
    });
  const seconds = (performance.now() - t0) / 1000;
  const [c] = await db.query<{ orders: number }>(`SELECT CAST(COUNT(*) AS INTEGER) AS orders FROM orders`);
  return { seconds, orders: c!.orders };
}
