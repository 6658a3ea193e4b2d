import type { Migration } from '../../storage/migrations/index.js';

/**
 * An upload's progress while its import job runs (`GET /v1/imports/{id}` shows it as a bar): rows read,
 * bytes read of the file, and the phase (`reading`, then `merging`). Written at most once a second by
 * the job (jobs.ts); one row per import job, kept after it ends (the last figures it reached).
 */
export const importProgressMigration: Migration = {
  version: 19,
  name: 'import_progress',
  statements: () => [
    `CREATE TABLE import_progress (
      job_id BIGINT PRIMARY KEY,
      phase TEXT NOT NULL,
      rows_read BIGINT NOT NULL,
      bytes_read BIGINT NOT NULL,
      bytes_total BIGINT NOT NULL,
      updated_at TIMESTAMP NOT NULL
    )`,
  ],
};
