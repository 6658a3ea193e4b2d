import type { RetainModule } from '../../kit/module.js';
import { registerFlows } from './commands.js';
import { flowsMigration, flowsV2Migration } from './migrations.js';

/**
 * Automated flows (docs/flows.md): customers enter on a domain event, go through waits, branches and
 * sends (through the one send path), leave on the goal; versioned definitions, a holdout per flow.
 */
export const flowsModule: RetainModule = {
  name: 'flows',
  migrations: [flowsMigration, flowsV2Migration],
  commands: registerFlows,
  routes: async () => (await import('./routes.js')).registerFlowRoutes,
  jobs: async () => (await import('./jobs.js')).FLOW_JOBS,
  subscribers: async () => [(await import('./jobs.js')).flowsSubscriber],
  customerHooks: {
    tables: ['flow_runs', 'flow_steps', 'flow_run_context', 'flow_codes'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerFlows(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerFlows(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['flow.entered', 'flow.ended'],
    entries: async (db, q) => (await import('./repository.js')).flowTimeline(db, q),
  },
  // Waits end without any event: look every minute.
  schedules: [
    { name: 'flows.advance', cron: '* * * * *', timeZone: 'UTC', kind: 'flows.advance', catchUp: 'skip' },
    // Time conditions (birthdays, lapses, expiring points, products due again): every hour, at :05.
    { name: 'flows.time', cron: '5 * * * *', timeZone: 'UTC', kind: 'flows.time', catchUp: 'skip' },
  ],
};
