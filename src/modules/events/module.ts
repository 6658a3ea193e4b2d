import type { RetainModule } from '../../kit/module.js';

/** Site events (page views, carts, checkouts) ingested over HTTP and imported from files. */
export const eventsModule: RetainModule = {
  name: 'events',
  routes: async () => (await import('./routes.js')).registerEventRoutes,
};
