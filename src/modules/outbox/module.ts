import { erasedExternalId } from '../../kit/customerHooks.js';
import type { RetainModule } from '../../kit/module.js';
import { outboxSchema } from './schema.js';

/**
 * Domain events (transactional outbox): every write path records its facts in the same transaction
 * as its data; the dispatcher delivers them to the subscribers modules declare.
 */
export const outboxModule: RetainModule = {
  name: 'outbox',
  migrations: [{ version: 7, name: 'domain_events', statements: outboxSchema }],
  routes: async () => (await import('./routes.js')).registerOutboxRoutes,
  customerHooks: {
    tables: ['domain_events'],
    // The outbox's earlier facts named the customer by the shop's id.
    erase: async (tx, customerId) =>
      (await import('./repository.js')).eraseCustomerRefs(tx, customerId, erasedExternalId(customerId)),
    // A merge keeps the history as recorded (each event names whom it named then); the
    // `customer.merged` events map the merged ids to the survivor.
  },
};
