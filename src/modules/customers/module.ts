import type { RetainModule } from '../../kit/module.js';
import { registerContacts } from './commands.js';
import { contactsMigration, identityMigration } from './migrations.js';

/** Customers: records, consent (current state and its append-only ledger), and their orders and predictions by id. */
export const customersModule: RetainModule = {
  name: 'customers',
  migrations: [contactsMigration, identityMigration],
  commands: registerContacts,
  routes: async () => (await import('./routes.js')).registerCustomerRoutes,
  timeline: {
    kinds: ['consent'],
    entries: async (db, q) => (await import('./repository.js')).consentTimeline(db, q),
  },
};
