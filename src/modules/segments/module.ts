import type { RetainModule } from '../../kit/module.js';
import { registerSegmentCommands } from './commands.js';
import { segmentsMigration } from './migrations.js';

/**
 * Segments and audiences (docs/segments.md): rule trees over customers — attributes, consent, tags,
 * order aggregates, products bought, site events, RFM and predictions — compiled to one SQL statement,
 * with live counts and previews, built-in segments, members and tags.
 */
export const segmentsModule: RetainModule = {
  name: 'segments',
  migrations: [segmentsMigration],
  commands: registerSegmentCommands,
  routes: async () => (await import('./routes.js')).registerSegmentRoutes,
  jobs: async () => (await import('./jobs.js')).SEGMENT_JOBS,
  subscribers: async () => [(await import('./jobs.js')).refreshSubscriber],
  customerHooks: {
    tables: ['customer_scores', 'customer_tags'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerSegments(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerSegments(tx, fromIds, intoId),
  },
  // The scores follow new orders through the subscriber; predictions and the passing days, daily.
  schedules: [
    {
      name: 'segments.refresh-scores',
      cron: '40 2 * * *',
      timeZone: 'UTC',
      kind: 'segments.refresh-scores',
      catchUp: 'skip',
    },
  ],
};
