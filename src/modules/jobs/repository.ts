import type { Database, EngineKind, Queryable } from '../../storage/port.js';
import type { Job, JobStatus } from './schema.js';

/**
 * Row locking for the claim. Postgres: several workers claim concurrently and skip each other's
 * rows. DuckDB: one process, one connection with serialised statements, so the plain UPDATE is
 * already exclusive. (Candidate for a `Dialect` field if a second user appears.)
 */
const SKIP_LOCKED: Record<EngineKind, string> = { postgres: 'FOR UPDATE SKIP LOCKED', duckdb: '' };

interface JobRow {
  job_id: number;
  kind: string;
  idempotency_key: string;
  payload: unknown;
  status: JobStatus;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  result: unknown;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

// JSON read back as text and parsed here: the engines' drivers differ (parsed JSONB vs JSON text).
const COLUMNS = `job_id, kind, idempotency_key, CAST(payload AS TEXT) AS payload, status, run_at, attempts, max_attempts, last_error,
  CAST(result AS TEXT) AS result, created_at, updated_at, finished_at`;

const json = (v: unknown): unknown => (typeof v === 'string' ? (JSON.parse(v) as unknown) : null);

function toJob(r: JobRow): Job {
  return {
    jobId: r.job_id,
    kind: r.kind,
    idempotencyKey: r.idempotency_key,
    payload: json(r.payload),
    status: r.status,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    lastError: r.last_error,
    result: json(r.result),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

/** A wake-up job of `kind` unless a queued one is due by `runAt` (see `Jobs.wakeIn`). */
export async function insertWake(
  db: Queryable,
  jsonType: string,
  j: { kind: string; idempotencyKey: string; runAt: Date; now: Date },
): Promise<boolean> {
  const created = await db.exec(
    `INSERT INTO jobs (kind, idempotency_key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
     SELECT $1, $2, CAST('{}' AS ${jsonType}), 'queued', $3::timestamp, 0, 8, $4::timestamp, $4::timestamp
     WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE kind = $1 AND status = 'queued' AND run_at <= $3::timestamp)
     ON CONFLICT DO NOTHING`,
    [j.kind, j.idempotencyKey, j.runAt, j.now],
  );
  return created > 0;
}

/** Inserts a job unless its idempotency key exists; returns the job under that key and whether it is new. */
export async function insertJob(
  db: Queryable,
  jsonType: string,
  j: { kind: string; idempotencyKey: string; payload: unknown; runAt: Date; maxAttempts: number; now: Date },
): Promise<{ job: Job; created: boolean }> {
  const created = await db.exec(
    `INSERT INTO jobs (kind, idempotency_key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
     VALUES ($1, $2, CAST($3 AS ${jsonType}), 'queued', $4::timestamp, 0, $5, $6::timestamp, $6::timestamp)
     ON CONFLICT DO NOTHING`,
    [j.kind, j.idempotencyKey, JSON.stringify(j.payload ?? null), j.runAt, j.maxAttempts, j.now],
  );
  const job = await jobByKey(db, j.idempotencyKey);
  if (!job) throw new Error(`job ${j.idempotencyKey} vanished after insert`);
  return { job, created: created > 0 };
}

export async function jobByKey(db: Queryable, key: string): Promise<Job | undefined> {
  const rows = await db.query<JobRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM jobs WHERE idempotency_key = $1`,
    [key],
  );
  return rows[0] && toJob(rows[0]);
}

export async function jobById(db: Queryable, id: number): Promise<Job | undefined> {
  const rows = await db.query<JobRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM jobs WHERE job_id = $1`,
    [id],
  );
  return rows[0] && toJob(rows[0]);
}

/**
 * Claims up to `limit` due jobs of the given kinds for `workerId` until `leaseUntil`: queued jobs whose
 * time has come, and running jobs whose lease expired (their worker died) with attempts left.
 */
export async function claimDue(
  db: Database,
  c: { workerId: string; kinds: readonly string[]; now: Date; leaseUntil: Date; limit: number },
): Promise<Job[]> {
  if (c.kinds.length === 0) return [];
  const kinds = c.kinds.map((_, i) => `$${i + 5}`).join(', ');
  const rows = await db.query<JobRow & Record<string, unknown>>(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2::timestamp,
            updated_at = $3::timestamp
     WHERE job_id IN (
       SELECT job_id FROM jobs
       WHERE kind IN (${kinds})
         AND ((status = 'queued' AND run_at <= $3::timestamp)
              OR (status = 'running' AND locked_until < $3::timestamp AND attempts < max_attempts))
       ORDER BY run_at, job_id
       LIMIT $4 ${SKIP_LOCKED[db.kind]})
     RETURNING ${COLUMNS}`,
    [c.workerId, c.leaseUntil, c.now, c.limit, ...c.kinds],
  );
  return rows.map(toJob).sort((a, b) => a.jobId - b.jobId);
}

/** Jobs whose worker died on their last attempt go to the dead letter. */
export async function buryExpired(db: Queryable, now: Date): Promise<number> {
  return db.exec(
    `UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL, updated_at = $1::timestamp,
            finished_at = $1::timestamp, last_error = COALESCE(last_error, 'lease expired on the last attempt')
     WHERE status = 'running' AND locked_until < $1::timestamp AND attempts >= max_attempts`,
    [now],
  );
}

/** Extends the lease while the handler runs; false when the lease was lost (another worker took over). */
export async function extendLease(
  db: Queryable,
  id: number,
  workerId: string,
  until: Date,
): Promise<boolean> {
  const n = await db.exec(
    `UPDATE jobs SET locked_until = $3::timestamp WHERE job_id = $1 AND locked_by = $2 AND status = 'running'`,
    [id, workerId, until],
  );
  return n > 0;
}

/** Marks the job done if this worker still holds it; false when the lease had been lost. */
export async function completeJob(
  db: Database,
  id: number,
  workerId: string,
  result: unknown,
  now: Date,
): Promise<boolean> {
  const n = await db.exec(
    `UPDATE jobs SET status = 'done', result = CAST($3 AS ${db.dialect.jsonType}), locked_by = NULL, locked_until = NULL,
            last_error = NULL, updated_at = $4::timestamp, finished_at = $4::timestamp
     WHERE job_id = $1 AND locked_by = $2 AND status = 'running'`,
    [id, workerId, JSON.stringify(result ?? null), now],
  );
  return n > 0;
}

/** Records a failed attempt: back to the queue at `retryAt`, or dead when `retryAt` is null. */
export async function failJob(
  db: Queryable,
  id: number,
  workerId: string,
  error: string,
  retryAt: Date | null,
  now: Date,
): Promise<boolean> {
  const n = await db.exec(
    `UPDATE jobs SET status = $3, run_at = COALESCE($4::timestamp, run_at), last_error = $5, locked_by = NULL,
            locked_until = NULL, updated_at = $6::timestamp, finished_at = CASE WHEN $3 = 'dead' THEN $6::timestamp END
     WHERE job_id = $1 AND locked_by = $2 AND status = 'running'`,
    [id, workerId, retryAt ? 'queued' : 'dead', retryAt, error.slice(0, 2000), now],
  );
  return n > 0;
}

export async function countByStatus(db: Queryable): Promise<Record<JobStatus, number>> {
  const out: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, dead: 0 };
  for (const r of await db.query<{ status: JobStatus; n: number }>(
    `SELECT status, COUNT(*) AS n FROM jobs GROUP BY status`,
  ))
    out[r.status] = r.n;
  return out;
}
