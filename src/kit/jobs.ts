import { z } from 'zod';
import type { Queryable } from '../storage/port.js';

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

/** The durable job queue as modules see it (implemented by modules/jobs). */
export interface Jobs {
  /** Enqueues once per idempotency key; returns the job under that key and whether it is new. */
  enqueue(kind: string, payload: unknown, opts: EnqueueOptions): Promise<{ job: Job; created: boolean }>;
  /** Enqueues inside the caller's transaction (outbox): the job exists iff the transaction commits. */
  enqueueIn(
    tx: Queryable,
    kind: string,
    payload: unknown,
    opts: EnqueueOptions,
  ): Promise<{ job: Job; created: boolean }>;
  /**
   * A wake-up job of `kind` (no payload; its handler looks for work itself), inside the caller's
   * transaction — unless a queued one of that kind is due by `runAt` already: it will start after this
   * commit and see the work. So a burst of sends or flow entries makes one job, not one each. (A job
   * that starts in the instant between that look and the commit misses the work; the kind's schedule
   * picks it up.)
   */
  wakeIn(tx: Queryable, kind: string, opts?: { runAt?: Date }): Promise<{ created: boolean }>;
  /** Wakes a local runner after a commit that enqueued `kind`. */
  notify(kind: string): void;
  get(jobId: number): Promise<Job | undefined>;
  /** Called when a job is enqueued in this process (a local runner wakes instead of waiting for its poll). */
  onEnqueued(fn: (kind: string) => void): () => void;
}
