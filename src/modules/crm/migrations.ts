import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 31, customer 360 (issue 27, docs/customer360.md):
 * - `customer_notes`: notes staff write on a customer. `author` is who wrote it (a key id, `user:<email>`,
 *   `cli`) — the one who may change it besides an admin — and `author_name` how to show them (the key's
 *   name, the email). Edits replace the body (no history); a deleted note keeps its row with
 *   `deleted_at` and is shown nowhere.
 * - `customer_tag_changes`: the tags added and removed through the customer 360, who and when, so the
 *   timeline shows them (the segments module keeps only the tags a customer has now).
 */
export const crmMigration: Migration = {
  version: 31,
  name: 'crm',
  statements: (d) => [
    `CREATE SEQUENCE customer_note_id_seq START 1`,
    `CREATE TABLE customer_notes (
      note_id BIGINT PRIMARY KEY DEFAULT nextval('customer_note_id_seq'),
      customer_id BIGINT NOT NULL,
      body TEXT NOT NULL,
      author TEXT NOT NULL,
      author_name TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      deleted_at TIMESTAMP
    )`,
    `CREATE SEQUENCE customer_tag_change_id_seq START 1`,
    `CREATE TABLE customer_tag_changes (
      change_id BIGINT PRIMARY KEY DEFAULT nextval('customer_tag_change_id_seq'),
      customer_id BIGINT NOT NULL,
      tag TEXT NOT NULL,
      change TEXT NOT NULL CHECK (change IN ('added', 'removed')),
      changed_at TIMESTAMP NOT NULL,
      changed_by TEXT NOT NULL
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX customer_notes_customer_idx ON customer_notes (customer_id, note_id)`,
          `CREATE INDEX customer_tag_changes_customer_idx ON customer_tag_changes (customer_id, changed_at)`,
        ]
      : []),
  ],
};
