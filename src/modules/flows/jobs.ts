import type { JobHandler } from '../../kit/context.js';
import { DOMAIN_EVENT_TYPES, type Subscriber } from '../../kit/events.js';
import { ADVANCE_JOB } from './definitions.js';
import { handleFlowEvents } from './enter.js';
import { advanceFlows } from './runner.js';

export const FLOW_JOBS: Record<string, JobHandler> = {
  // Each step is keyed (run × step, in the transaction of its effect): a re-run repeats nothing.
  [ADVANCE_JOB]: async (ctx) => ({ ...(await advanceFlows(ctx)) }),
};

/** Entries and goals as events arrive, in the dispatcher's transaction (exactly once in effect). */
export const flowsSubscriber: Subscriber = {
  name: 'flows',
  types: DOMAIN_EVENT_TYPES,
  start: 'now',
  batchSize: 500,
  handle: async (ctx, events) => {
    await handleFlowEvents(ctx, events);
  },
};
