import type { RetainModule } from '../../kit/module.js';

/** Site events (page views, carts, checkouts) ingested over HTTP and imported from files. */
export const eventsModule: RetainModule = {
  name: 'events',
  routes: async () => (await import('./routes.js')).registerEventRoutes,
  customerHooks: {
    // identity_links is declared by the customers module's migration 13; the events module writes it.
    tables: ['events', 'identity_links'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerEvents(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerEvents(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['event'],
    entries: async (db, q) => (await import('./repository.js')).eventTimeline(db, q),
  },
};
