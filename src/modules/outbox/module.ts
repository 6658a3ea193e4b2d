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
};
