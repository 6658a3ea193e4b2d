import type { RetainModule } from '../../kit/module.js';
import { registerCampaigns } from './commands.js';
import { campaignsMigration } from './migrations.js';

/**
 * Campaigns and experiments (docs/campaigns.md): a segment's send with A/B/n variants and a holdout on
 * every send, assignment by a stable hash, messages through the one send path, and the incremental
 * revenue of each variant over the holdout.
 */
export const campaignsModule: RetainModule = {
  name: 'campaigns',
  migrations: [campaignsMigration],
  commands: registerCampaigns,
  routes: async () => (await import('./routes.js')).registerCampaignRoutes,
  customerHooks: {
    tables: ['campaign_recipients'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerCampaigns(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerCampaigns(tx, fromIds, intoId),
  },
};
