import type { RetainModule } from '../../kit/module.js';
import { registerCrm } from './commands.js';
import { crmMigration } from './migrations.js';

/**
 * The customer 360 (docs/customer360.md): one timeline per customer merged from every module's
 * `timeline` source, a header of who they are and their figures, notes staff write, and tags added and
 * removed with a record on the timeline.
 */
export const crmModule: RetainModule = {
  name: 'crm',
  migrations: [crmMigration],
  commands: registerCrm,
  routes: async () => (await import('./routes.js')).registerCrmRoutes,
  customerHooks: {
    tables: ['customer_notes', 'customer_tag_changes'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerCrm(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerCrm(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['note', 'tag.added', 'tag.removed'],
    entries: async (db, q) => (await import('./repository.js')).crmTimeline(db, q),
  },
};
