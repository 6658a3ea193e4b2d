import type { JobHandler } from '../../kit/context.js';
import { loadSales, savePredictions } from './repository.js';
import { parseOptions, PredictOptions } from './schema.js';
import { runPredict } from './service.js';

export const CLV_JOBS: Record<string, JobHandler> = {
  /** `retain clv predict` on the server's store; predictions are upserts, so a re-run is harmless. */
  'clv-predict': async ({ job, db, clock }) => {
    const opts = parseOptions(PredictOptions, job.payload);
    return runPredict(opts, {
      target: {},
      log: () => undefined,
      loadOrders: ({ until }) => loadSales(db, until),
      storePredictions: (_target, rows) =>
        db.transaction(async (tx) => void (await savePredictions(tx, rows, clock.now()))),
    });
  },
};
