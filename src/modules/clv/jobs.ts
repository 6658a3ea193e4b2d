import type { JobHandler } from '../../kit/context.js';
import { PredictInput } from './schema.js';
import { predict } from './service.js';

export const CLV_JOBS: Record<string, JobHandler> = {
  /**
   * `retain clv predict` on the runner's store (the body of `POST /v1/clv/predictions`, checked there
   * with the same schema); predictions are upserts, so a re-run is harmless.
   */
  'clv-predict': async (ctx) => {
    const r = await predict(ctx, PredictInput.parse(ctx.job.payload));
    // The job's result is the outcome without the per-customer table (stored, and served per customer).
    return {
      customers: r.customers,
      expectedPurchasesTotal: r.expectedPurchasesTotal,
      model: r.model,
      params: r.params,
      spendParams: r.spendParams,
      clvTotal: r.clvTotal,
      newCustomerExpectedPurchases: r.newCustomerExpectedPurchases,
      out: null,
      seconds: r.seconds,
    };
  },
};
