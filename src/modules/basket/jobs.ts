import { z } from 'zod';
import type { JobHandler } from '../../kit/context.js';
import { debouncedJob, type Subscriber } from '../../kit/events.js';
import { AppError } from '../../shared/errors.js';
import { trainModel } from './model.js';

/** The job that retrains the kept recommendation model. */
export const TRAIN_JOB = 'basket-train';

/**
 * Changes are gathered for this long before a retrain: the first order or refund delivered in a
 * window enqueues the window's job (keyed by the window's start, so the 18,000 events of an import
 * enqueue one), due when the window ends.
 */
export const RETRAIN_DEBOUNCE_MS = 60_000;

const TrainPayload = z.object({ force: z.boolean().optional() }).passthrough();

export const BASKET_JOBS: Record<string, JobHandler> = {
  /**
   * Retrains the model, unless the newest one was trained on the same orders, refunds and catalogue
   * (`force: true` retrains anyway). Training writes in one transaction: a re-run after a crash just
   * trains again.
   */
  [TRAIN_JOB]: async (ctx) => {
    const p = TrainPayload.safeParse(ctx.job.payload ?? {});
    if (!p.success)
      throw new AppError('validation', `${TRAIN_JOB} job ${ctx.job.jobId} has an invalid payload`);
    return trainModel(ctx, { reason: 'job', ifStale: !p.data.force });
  },
};

/** Enqueues the debounced retrain when orders or refunds are recorded (imports, the API, webhooks). */
export const retrainSubscriber: Subscriber = debouncedJob({
  name: 'basket-retrain',
  types: ['order.placed', 'order.refunded'],
  kind: TRAIN_JOB,
  windowMs: RETRAIN_DEBOUNCE_MS,
});
