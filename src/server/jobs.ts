import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { runPredict } from '../modules/clv/service.js';
import { loadSales, savePredictions } from '../modules/clv/repository.js';
import { parseOptions, PredictOptions } from '../modules/clv/schema.js';
import { importFile } from '../modules/imports/service.js';
import { Entity } from '../modules/imports/schema.js';
import type { JobHandler } from '../modules/jobs/service.js';
import { AppError } from '../shared/errors.js';

export const ImportJobPayload = z.object({
  entity: Entity,
  file: z.string(),
  name: z.string(),
  preset: z.string().optional(),
  currency: z.string().optional(),
});
export type ImportJobPayload = z.infer<typeof ImportJobPayload>;

/**
 * Job handlers run by `retain serve`. Imports are idempotent by construction (merge by external id),
 * so a re-run after a crash re-imports the same file to the same result.
 */
export const JOB_HANDLERS: Record<string, JobHandler> = {
  import: async ({ job, db }) => {
    const p = ImportJobPayload.safeParse(job.payload);
    if (!p.success) throw new AppError('validation', `import job ${job.jobId} has an invalid payload`);
    const report = await importFile(db, {
      entity: p.data.entity,
      file: p.data.file,
      ...(p.data.preset ? { preset: p.data.preset } : {}),
      ...(p.data.currency ? { currency: p.data.currency } : {}),
    });
    await rm(p.data.file, { force: true });
    return { ...report, file: p.data.name };
  },
  /** `retain clv predict` on the server's store; predictions are upserts, so a re-run is harmless. */
  'clv-predict': async ({ job, db }) => {
    const opts = parseOptions(PredictOptions, job.payload);
    return runPredict(opts, {
      target: {},
      log: () => undefined,
      loadOrders: ({ until }) => loadSales(db, until),
      storePredictions: (_target, rows) =>
        db.transaction(async (tx) => void (await savePredictions(tx, rows, new Date()))),
    });
  },
};
