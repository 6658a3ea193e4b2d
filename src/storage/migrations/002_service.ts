import type { Dialect } from '../port.js';

/**
 * Tables of `retain serve`: API keys (stored as SHA-256 of a 256-bit secret, never the key itself)
 * and the durable job queue / outbox that imports, webhooks and later modules run on.
 */
export function serviceSchema(d: Dialect): string[] {
  const index = (sql: string) => (d.secondaryIndexes ? [sql] : []);
  return [
    `CREATE TABLE api_keys (
      key_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'marketer', 'agent')),
      secret_hash TEXT NOT NULL UNIQUE,
      created_at TIMESTAMP NOT NULL,
      revoked_at TIMESTAMP
    )`,
    `CREATE SEQUENCE job_id_seq START 1`,
    // One row per job; idempotency_key is unique so enqueueing the same work twice yields one job.
    `CREATE TABLE jobs (
      job_id BIGINT PRIMARY KEY DEFAULT nextval('job_id_seq'),
      kind TEXT NOT NULL,
      idempotency_key TEXT NOT NULL UNIQUE,
      payload ${d.jsonType},
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
      run_at TIMESTAMP NOT NULL,
      attempts INTEGER NOT NULL,
      max_attempts INTEGER NOT NULL,
      locked_by TEXT,
      locked_until TIMESTAMP,
      last_error TEXT,
      result ${d.jsonType},
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      finished_at TIMESTAMP
    )`,
    ...index(`CREATE INDEX jobs_due_idx ON jobs (status, run_at)`),
  ];
}
