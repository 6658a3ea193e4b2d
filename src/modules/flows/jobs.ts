import type { JobHandler } from '../../kit/context.js';
import { DOMAIN_EVENT_TYPES, type Subscriber } from '../../kit/events.js';
import { ADVANCE_JOB } from './definitions.js';
import { handleFlowEvents } from './enter.js';
import { advanceFlows } from './runner.js';
import { sweepTimeTriggers, TIME_JOB } from './time.js';
import { wakeWaiting } from './wake.js';

/** How long one `flows.advance` job takes runs before it hands its slot back. */
export const ADVANCE_BUDGET_MS = 10_000;

export const FLOW_JOBS: Record<string, JobHandler> = {
  // Each step is keyed (run × step, in the transaction of its effect): a re-run repeats nothing.
  // Ten seconds at a time: the job then hands its slot back (the deliverer sends what it queued) and
  // comes back for the rest at once.
  [ADVANCE_JOB]: async (ctx) => {
    const r = await advanceFlows(ctx, { budgetMs: ADVANCE_BUDGET_MS });
    if (r.more) await ctx.jobs.wakeIn(ctx.db, ADVANCE_JOB);
    return { ...r };
  },
  // Each entry is keyed (flow × customer × occasion): a re-run enters nobody twice.
  [TIME_JOB]: async (ctx) => ({ ...(await sweepTimeTriggers(ctx)) }),
};

/**
 * Entries, goals and waits ending as events arrive, in the dispatcher's transaction (exactly once in
 * effect).
 */
export const flowsSubscriber: Subscriber = {
  name: 'flows',
  types: DOMAIN_EVENT_TYPES,
  start: 'now',
  batchSize: 500,
  handle: async (ctx, events) => {
    await handleFlowEvents(ctx, events);
    await wakeWaiting(ctx, events);
  },
};
