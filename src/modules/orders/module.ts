import type { RetainModule } from '../../kit/module.js';

/** Orders and refunds ingested over HTTP. */
export const ordersModule: RetainModule = {
  name: 'orders',
  routes: async () => (await import('./routes.js')).registerOrderRoutes,
  // Erasure keeps orders and refunds as anonymous facts (the customer row itself is emptied).
  customerHooks: {
    tables: ['orders', 'order_lines', 'refunds'],
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerOrders(tx, fromIds, intoId),
  },
};
