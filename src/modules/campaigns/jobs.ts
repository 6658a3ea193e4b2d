import type { JobHandler } from '../../kit/context.js';
import { sweepCampaigns } from './service.js';

/** The job of the minute's schedule (and `retain campaigns sweep`). */
export const SWEEP_JOB = 'campaigns.sweep';

export const CAMPAIGN_JOBS: Record<string, JobHandler> = {
  // Starting a campaign claims it in the transaction that assigns it: a re-run starts nothing twice.
  [SWEEP_JOB]: async (ctx) => ({ ...(await sweepCampaigns(ctx)) }),
};
