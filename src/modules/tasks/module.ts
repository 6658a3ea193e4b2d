import type { RetainModule } from '../../kit/module.js';
import { registerTasks } from './commands.js';
import { tasksMigration } from './migrations.js';

/**
 * Service tasks for store staff (docs/tasks.md): "call this customer", made by hand or by an automated
 * flow's step (`createTaskIn`, exactly once per key), worked through open → in_progress → done.
 */
export const tasksModule: RetainModule = {
  name: 'tasks',
  migrations: [tasksMigration],
  commands: registerTasks,
  routes: async () => (await import('./routes.js')).registerTaskRoutes,
  customerHooks: {
    tables: ['tasks', 'task_events'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerTasks(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerTasks(tx, fromIds, intoId),
  },
};
