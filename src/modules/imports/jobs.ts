import { rm } from 'node:fs/promises';
import { z } from 'zod';
import type { JobContext, JobHandler } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { Entity } from './schema.js';
import { saveImportProgress } from './repository.js';
import { importFile, type ImportProgress } from './service.js';

export const ImportJobPayload = z.object({
  entity: Entity,
  file: z.string(),
  name: z.string(),
  preset: z.string().optional(),
  currency: z.string().optional(),
  map: z.record(z.string(), z.string()).optional(),
  encoding: z.string().optional(),
  delimiter: z.string().optional(),
  decimal: z.string().optional(),
  dateFormat: z.string().optional(),
  timeZone: z.string().optional(),
  keepRepeatedRows: z.boolean().optional(),
  /** The request's fingerprint (file SHA-256 and options): a reused Idempotency-Key must match it. */
  request: z.string().optional(),
});
export type ImportJobPayload = z.infer<typeof ImportJobPayload>;

/**
 * The error as the uploader should see it: the server's copy of the upload (its path in the upload
 * folder) named by the name it was uploaded under.
 */
function underName(err: unknown, file: string, name: string): unknown {
  if (!(err instanceof Error)) return err;
  const message = err.message.split(file).join(name);
  if (err instanceof AppError) {
    const where = err.where?.file === file ? { ...err.where, file: name } : err.where;
    return new AppError(err.code, message, { ...(where ? { where } : {}), details: err.details });
  }
  return new Error(message);
}

/** At most one progress write a second (and one when the merge begins). */
const PROGRESS_EVERY_MS = 1000;

/**
 * The job's progress, written to `import_progress` at most once a second, one write at a time; a write
 * that fails is logged and skipped (progress never fails an import). `settled` waits for the last one.
 */
function progressWriter(ctx: JobContext) {
  let last = -Infinity;
  let phase: ImportProgress['phase'];
  let chain: Promise<void> = Promise.resolve();
  return {
    update(p: ImportProgress): void {
      const now = performance.now();
      if (now - last < PROGRESS_EVERY_MS && p.phase === phase) return;
      last = now;
      phase = p.phase;
      const row = {
        phase: p.phase ?? 'reading',
        rowsRead: p.rows,
        bytesRead: p.bytesRead,
        bytesTotal: p.bytesTotal,
        updatedAt: ctx.clock.now(),
      };
      chain = chain
        .then(() => saveImportProgress(ctx.db, ctx.job.jobId, row))
        .catch((err: unknown) => ctx.log.warn({ err }, 'import progress not saved'));
    },
    settled: () => chain,
  };
}

/**
 * An uploaded file's import. Imports are idempotent by construction (merge by external id), so a
 * re-run after a crash re-imports the same file to the same result.
 */
export const IMPORT_JOBS: Record<string, JobHandler> = {
  import: async (ctx) => {
    const { job } = ctx;
    const p = ImportJobPayload.safeParse(job.payload);
    if (!p.success) throw new AppError('validation', `import job ${job.jobId} has an invalid payload`);
    let report;
    const progress = progressWriter(ctx);
    try {
      report = await importFile(ctx, {
        entity: p.data.entity,
        file: p.data.file,
        ...(p.data.preset ? { preset: p.data.preset } : {}),
        ...(p.data.currency ? { currency: p.data.currency } : {}),
        ...(p.data.map ? { map: p.data.map } : {}),
        ...(p.data.encoding ? { encoding: p.data.encoding } : {}),
        ...(p.data.delimiter ? { delimiter: p.data.delimiter } : {}),
        ...(p.data.decimal ? { decimal: p.data.decimal } : {}),
        ...(p.data.dateFormat ? { dateFormat: p.data.dateFormat } : {}),
        ...(p.data.timeZone ? { timeZone: p.data.timeZone } : {}),
        ...(p.data.keepRepeatedRows ? { keepRepeatedRows: true } : {}),
        onProgress: (x) => progress.update(x),
      });
    } catch (err) {
      throw underName(err, p.data.file, p.data.name);
    } finally {
      await progress.settled();
    }
    await rm(p.data.file, { force: true });
    return { ...report, file: p.data.name };
  },
};
