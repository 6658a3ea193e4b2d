import type { JobHandler } from '../../kit/context.js';
import { EXPIRE_OPTINS_JOB, expireOptIns } from './optin.js';
import { DELIVER_JOB, deliverConfigured } from './service.js';

export const MESSAGING_JOBS: Record<string, JobHandler> = {
  /** Delivers every due ledger row on the configured channels (queued by a send, or deferred). */
  [DELIVER_JOB]: async (ctx) => deliverConfigured(ctx, { signal: ctx.signal }),
  /** Pending double opt-in requests past their expiry become `expired` (daily). */
  [EXPIRE_OPTINS_JOB]: async (ctx) => {
    await expireOptIns(ctx);
  },
};
