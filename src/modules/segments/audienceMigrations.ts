import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 17, audience exports (issue 22, docs/segments.md#audiences):
 * - `audience_exports`: one row per export of a segment — its kind (`hashed` for ad platforms,
 *   `plain` for the shop's own use) and columns, the instant the segment was evaluated at, who made
 *   it, how many members the segment held and how many rows the file has, and against which earlier
 *   export (the latest of the same segment and kind) its additions and removals were counted.
 * - `audience_export_members`: the customers each export held (its rows), so the next export of the
 *   segment can say who joined and who left. Customer-owned: erasing a customer deletes their rows,
 *   merging moves them to the survivor.
 */
export const audienceMigration: Migration = {
  version: 17,
  name: 'audience_exports',
  statements: (d) => [
    `CREATE SEQUENCE audience_export_id_seq START 1`,
    `CREATE TABLE audience_exports (
      export_id BIGINT PRIMARY KEY DEFAULT nextval('audience_export_id_seq'),
      segment TEXT NOT NULL,
      kind TEXT NOT NULL,
      columns TEXT,
      as_of TIMESTAMP NOT NULL,
      created_at TIMESTAMP NOT NULL,
      created_by TEXT,
      members INTEGER NOT NULL,
      exported INTEGER NOT NULL,
      previous_export_id BIGINT,
      added INTEGER,
      removed INTEGER
    )`,
    `CREATE TABLE audience_export_members (
      export_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      PRIMARY KEY (export_id, customer_id)
    )`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX audience_export_members_customer ON audience_export_members (customer_id)`]
      : []),
  ],
};
