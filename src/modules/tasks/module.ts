import type { RetainModule } from '../../kit/module.js';
import { registerTasks } from './commands.js';
import { taskAlertsMigration, tasksMigration } from './migrations.js';

/**
 * Service tasks for store staff (docs/tasks.md): "call this customer", made by hand or by an automated
 * flow's step (`createTaskIn`, exactly once per key), worked through open → in_progress → done.
 */
export const tasksModule: RetainModule = {
  name: 'tasks',
  migrations: [tasksMigration, taskAlertsMigration],
  commands: registerTasks,
  routes: async () => (await import('./routes.js')).registerTaskRoutes,
  jobs: async () => ({
    'tasks.overdue': async (ctx) => (await import('./alerts.js')).alertOverdue(ctx),
  }),
  // Overdue tasks: their assignees emailed, every 15 minutes.
  schedules: [
    { name: 'tasks.overdue', cron: '*/15 * * * *', timeZone: 'UTC', kind: 'tasks.overdue', catchUp: 'skip' },
  ],
  customerHooks: {
    tables: ['tasks', 'task_events', 'task_alerts'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerTasks(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerTasks(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['task'],
    entries: async (db, q) => (await import('./repository.js')).taskTimeline(db, q),
  },
};
