import type { RetainModule } from '../../kit/module.js';

/** Orders and refunds ingested over HTTP. */
export const ordersModule: RetainModule = {
  name: 'orders',
  routes: async () => (await import('./routes.js')).registerOrderRoutes,
};
