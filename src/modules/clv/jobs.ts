import type { JobHandler } from '../../kit/context.js';
import { PredictInput } from './schema.js';
import { predict, predictJson } from './service.js';

export const CLV_JOBS: Record<string, JobHandler> = {
  /**
   * `retain clv predict` on the runner's store (the body of `POST /v1/clv/predictions`, checked there
   * with the same schema); predictions are upserts, so a re-run is harmless.
   */
  'clv-predict': async (ctx) => {
    const r = await predict(ctx, PredictInput.parse(ctx.job.payload));
    // The job's result is the `retain clv predict --json` document (the per-customer table is stored,
    // and served per customer); `out` is the CLI's file, which a job never writes.
    return { ...predictJson(r), out: null };
  },
};
