import { z } from 'zod';

export const JobStatus = z.enum(['queued', 'running', 'done', 'dead']);
export type JobStatus = z.infer<typeof JobStatus>;

/** A job as the API and runner see it. */
export interface Job {
  jobId: number;
  kind: string;
  idempotencyKey: string;
  payload: unknown;
  status: JobStatus;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  result: unknown;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export const EnqueueOptions = z.object({
  /** Unique per unit of work: enqueueing the same key again returns the existing job. */
  idempotencyKey: z.string().min(1).max(300),
  runAt: z.date().optional(),
  maxAttempts: z.number().int().min(1).max(100).default(8),
});
export type EnqueueOptions = z.input<typeof EnqueueOptions>;
