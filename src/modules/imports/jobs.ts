import { rm } from 'node:fs/promises';
import { z } from 'zod';
import type { JobHandler } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { Entity } from './schema.js';
import { importFile } from './service.js';

export const ImportJobPayload = z.object({
  entity: Entity,
  file: z.string(),
  name: z.string(),
  preset: z.string().optional(),
  currency: z.string().optional(),
});
export type ImportJobPayload = z.infer<typeof ImportJobPayload>;

/**
 * An uploaded file's import. Imports are idempotent by construction (merge by external id), so a
 * re-run after a crash re-imports the same file to the same result.
 */
export const IMPORT_JOBS: Record<string, JobHandler> = {
  import: async (ctx) => {
    const { job } = ctx;
    const p = ImportJobPayload.safeParse(job.payload);
    if (!p.success) throw new AppError('validation', `import job ${job.jobId} has an invalid payload`);
    const report = await importFile(ctx, {
      entity: p.data.entity,
      file: p.data.file,
      ...(p.data.preset ? { preset: p.data.preset } : {}),
      ...(p.data.currency ? { currency: p.data.currency } : {}),
    });
    await rm(p.data.file, { force: true });
    return { ...report, file: p.data.name };
  },
};
