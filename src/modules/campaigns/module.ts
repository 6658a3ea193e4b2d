import type { RetainModule } from '../../kit/module.js';
import { registerCampaigns } from './commands.js';
import { campaignsMigration, campaignsV2Migration } from './migrations.js';

/**
 * Campaigns and experiments (docs/campaigns.md): a segment's send with A/B/n variants and a holdout on
 * every send, assignment by a stable hash, messages through the one send path, and the incremental
 * revenue of each variant over the holdout.
 */
export const campaignsModule: RetainModule = {
  name: 'campaigns',
  migrations: [campaignsMigration, campaignsV2Migration],
  commands: registerCampaigns,
  routes: async () => (await import('./routes.js')).registerCampaignRoutes,
  jobs: async () => (await import('./jobs.js')).CAMPAIGN_JOBS,
  customerHooks: {
    tables: ['campaign_recipients', 'campaign_codes'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerCampaigns(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerCampaigns(tx, fromIds, intoId),
  },
  // Scheduled campaigns start at their time; finished sends are marked done.
  schedules: [
    {
      name: 'campaigns.sweep',
      cron: '* * * * *',
      timeZone: 'UTC',
      kind: 'campaigns.sweep',
      catchUp: 'last',
    },
  ],
};
