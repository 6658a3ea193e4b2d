import type { JobHandler } from '../../kit/context.js';
import { RENEW_JOB, renewSubscriptions } from './service.js';

export const SUBSCRIPTION_JOBS: Record<string, JobHandler> = {
  /** Reminders, resumptions and the recurring orders that are due (every five minutes). */
  [RENEW_JOB]: async (ctx) => renewSubscriptions(ctx),
};
