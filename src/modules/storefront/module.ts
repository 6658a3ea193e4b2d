import type { RetainModule } from '../../kit/module.js';
import { registerStorefront } from './commands.js';
import { storefrontMigration } from './migrations.js';

/**
 * Storefront tracking (docs/storefront.md): the `retain.js` snippet and its public collect endpoint
 * (site keys), and Shopify checkouts as carts.
 */
export const storefrontModule: RetainModule = {
  name: 'storefront',
  migrations: [storefrontMigration],
  commands: registerStorefront,
  routes: async () => (await import('./routes.js')).registerStorefrontRoutes,
  customerHooks: {
    tables: ['carts'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerCarts(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerCarts(tx, fromIds, intoId),
  },
};
