import type { JobHandler } from '../../kit/context.js';
import type { Subscriber } from '../../kit/events.js';
import { handleOrderEvents, sweep } from './service.js';

/** The job of the hourly schedule (and `retain loyalty sweep`). */
export const SWEEP_JOB = 'loyalty.sweep';

export const LOYALTY_JOBS: Record<string, JobHandler> = {
  // Each step is keyed (grant keys, entry keys, notice keys): a re-run after a crash repeats nothing.
  [SWEEP_JOB]: async (ctx) => ({ ...(await sweep(ctx)) }),
};

/**
 * Orders earn and refunds claw back as their events arrive — from imports, `POST /v1/orders` and the
 * shop's webhooks alike — in the dispatcher's transaction (exactly once in effect: a replayed event
 * finds its grant and entry keys taken).
 */
export const ordersSubscriber: Subscriber = {
  name: 'loyalty-orders',
  types: ['order.placed', 'order.refunded'],
  start: 'now',
  batchSize: 500,
  handle: async (ctx, events) => {
    await handleOrderEvents(ctx, events);
  },
};
