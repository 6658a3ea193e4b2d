import type { JobHandler } from '../../kit/context.js';
import { debouncedJob, type Subscriber } from '../../kit/events.js';
import { dailySegments, refreshScores } from './service.js';

/** The job that recomputes `customer_scores`. */
export const REFRESH_JOB = 'segments.refresh-scores';

/** Orders and refunds are gathered for this long before a refresh (an import's events enqueue one). */
export const REFRESH_DEBOUNCE_MS = 60_000;

export const SEGMENT_JOBS: Record<string, JobHandler> = {
  // One transaction replaces the table: a re-run after a crash just computes it again.
  [REFRESH_JOB]: async (ctx) => ({ ...(await refreshScores(ctx)) }),
  // Each snapshot is its own transaction: a re-run takes new snapshots (no change: no events).
  'segments.daily': async (ctx) => {
    const r = await dailySegments(ctx);
    return { refreshed: r.refreshed.customers, snapshots: r.snapshots.map((s) => ({ ...s })) };
  },
};

/** Enqueues the debounced refresh when orders or refunds are recorded (imports, the API, webhooks). */
export const refreshSubscriber: Subscriber = debouncedJob({
  name: 'segments-refresh',
  types: ['order.placed', 'order.refunded', 'customer.merged'],
  kind: REFRESH_JOB,
  windowMs: REFRESH_DEBOUNCE_MS,
});
