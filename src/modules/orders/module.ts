import type { RetainModule } from '../../kit/module.js';
import { orderDiscountCodesMigration } from './migrations.js';

/** Orders and refunds ingested over HTTP. */
export const ordersModule: RetainModule = {
  name: 'orders',
  migrations: [orderDiscountCodesMigration],
  routes: async () => (await import('./routes.js')).registerOrderRoutes,
  // Erasure keeps orders, their lines, discount codes and refunds as anonymous facts (the customer row
  // itself is emptied), so no erase hook: the codes stay with their order, as its lines do.
  customerHooks: {
    tables: ['orders', 'order_lines', 'order_discount_codes', 'refunds'],
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerOrders(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['order', 'refund'],
    entries: async (db, q) => (await import('./repository.js')).orderTimeline(db, q),
  },
};
