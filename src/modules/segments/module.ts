import type { RetainModule } from '../../kit/module.js';
import { audienceMigration } from './audienceMigrations.js';
import { registerSegmentCommands } from './commands.js';
import { segmentSnapshotsMigration, segmentsMigration } from './migrations.js';

/**
 * Segments and audiences (docs/segments.md): rule trees over customers — attributes, consent, tags,
 * order aggregates, products bought, site events, RFM and predictions — compiled to one SQL statement,
 * with live counts and previews, built-in segments, members and tags; audience exports (hashed for ad
 * platforms, plain for the shop) recorded so the next one lists who joined and who left.
 */
export const segmentsModule: RetainModule = {
  name: 'segments',
  migrations: [segmentsMigration, segmentSnapshotsMigration, audienceMigration],
  commands: registerSegmentCommands,
  routes: async () => (await import('./routes.js')).registerSegmentRoutes,
  jobs: async () => (await import('./jobs.js')).SEGMENT_JOBS,
  subscribers: async () => [(await import('./jobs.js')).refreshSubscriber],
  customerHooks: {
    tables: [
      'customer_scores',
      'customer_tags',
      'segment_members',
      'segment_changes',
      'audience_export_members',
    ],
    erase: async (tx, customerId) => {
      await (await import('./repository.js')).eraseCustomerSegments(tx, customerId);
      await (await import('./audienceRepository.js')).eraseCustomerAudiences(tx, customerId);
    },
    merge: async (tx, fromIds, intoId) => {
      await (await import('./repository.js')).mergeCustomerSegments(tx, fromIds, intoId);
      await (await import('./audienceRepository.js')).mergeCustomerAudiences(tx, fromIds, intoId);
    },
  },
  timeline: {
    kinds: ['tag.added'],
    entries: async (db, q) => (await import('./repository.js')).tagTimeline(db, q),
  },
  // The scores follow new orders through the subscriber; daily, the predictions and the passing days
  // are taken in and every saved segment is snapshotted (entered / left events for flows).
  schedules: [
    {
      name: 'segments.daily',
      cron: '40 2 * * *',
      timeZone: 'UTC',
      kind: 'segments.daily',
      catchUp: 'skip',
    },
  ],
};
