import type { Migration } from '../../storage/migrations/index.js';

export const CONSENT_LEDGER_CHANNELS = ['email', 'sms', 'messenger', 'ads'] as const;
const channels = CONSENT_LEDGER_CHANNELS.map((c) => `'${c}'`).join(', ');
const statuses = `'granted', 'denied', 'unsubscribed', 'unknown'`;

/**
 * Migration 11, the contact base (issue 21):
 * - customers get a locale and a time zone (null: the store's) and `erased_at` (GDPR erasure);
 * - `consent_ledger`: the append-only history of consent decisions per channel — status, source, when,
 *   and the proof (IP, user agent, the form's text). `customer_consents` stays as the current state,
 *   written in the same transaction as each ledger entry, and now also holds `ads` (retargeting
 *   audiences). The current rows are carried into the ledger (recorded_at null: they predate it).
 * DuckDB cannot alter a CHECK constraint, so `customer_consents` is rebuilt (the same SQL on both engines);
 * `customers` is rebuilt too (see below).
 */
export const contactsMigration: Migration = {
  version: 11,
  name: 'contacts',
  statements: (d) => [
    // Rebuilt rather than altered: DuckDB cannot replay an ADD COLUMN on a table whose default calls
    // nextval() from its write-ahead log (a kill -9 before the next checkpoint left the file unopenable).
    `CREATE TABLE customers_next (
      customer_id BIGINT ${d.secondaryIndexes ? 'PRIMARY KEY' : 'NOT NULL'} DEFAULT nextval('customer_id_seq'),
      external_id TEXT NOT NULL UNIQUE,
      email TEXT,
      phone TEXT,
      first_name TEXT,
      last_name TEXT,
      birthday DATE,
      country TEXT,
      acquisition_channel TEXT,
      created_at TIMESTAMP,
      updated_at TIMESTAMP NOT NULL,
      locale TEXT,
      time_zone TEXT,
      erased_at TIMESTAMP
    )`,
    `INSERT INTO customers_next (customer_id, external_id, email, phone, first_name, last_name, birthday, country,
       acquisition_channel, created_at, updated_at)
     SELECT customer_id, external_id, email, phone, first_name, last_name, birthday, country, acquisition_channel,
            created_at, updated_at
     FROM customers ORDER BY customer_id`,
    `DROP TABLE customers`,
    `ALTER TABLE customers_next RENAME TO customers`,
    `CREATE SEQUENCE consent_entry_id_seq START 1`,
    `CREATE TABLE consent_ledger (
      entry_id BIGINT ${d.secondaryIndexes ? 'PRIMARY KEY' : 'NOT NULL'} DEFAULT nextval('consent_entry_id_seq'),
      customer_id BIGINT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN (${channels})),
      status TEXT NOT NULL CHECK (status IN (${statuses})),
      source TEXT NOT NULL,
      occurred_at TIMESTAMP,
      recorded_at TIMESTAMP,
      ip TEXT,
      user_agent TEXT,
      form_text TEXT
    )`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX consent_ledger_customer_idx ON consent_ledger (customer_id, entry_id)`]
      : []),
    `INSERT INTO consent_ledger (customer_id, channel, status, source, occurred_at)
     SELECT customer_id, channel, status, COALESCE(source, 'before the ledger'), changed_at
     FROM customer_consents ORDER BY customer_id, channel`,
    `CREATE TABLE customer_consents_next (
      customer_id BIGINT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN (${channels})),
      status TEXT NOT NULL CHECK (status IN (${statuses})),
      changed_at TIMESTAMP,
      source TEXT,
      PRIMARY KEY (customer_id, channel)
    )`,
    `INSERT INTO customer_consents_next SELECT customer_id, channel, status, changed_at, source FROM customer_consents`,
    `DROP TABLE customer_consents`,
    `ALTER TABLE customer_consents_next RENAME TO customer_consents`,
  ],
};

/**
 * Migration 13, identity (issue 21):
 * - `identity_links`: an anonymous id (a browser's, an app install's) → the customer it was seen
 *   with, set by the first event carrying both (`event_id`, its time, `source` api|import). The first
 *   link of an anonymous id wins; later claims by another customer are reported and not applied.
 * - `customer_aliases`: the shop ids of customers merged into another (`POST /v1/customers/{id}/merge`)
 *   → the survivor, so later imports and API calls naming a merged id reach the survivor.
 * - `events (anonymous_id)` indexed on Postgres: stitching back-fills an anonymous id's stored events.
 */
export const identityMigration: Migration = {
  version: 13,
  name: 'identity',
  statements: (d) => [
    `CREATE TABLE identity_links (
      anonymous_id TEXT PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      event_id TEXT,
      identified_at TIMESTAMP,
      source TEXT NOT NULL,
      linked_at TIMESTAMP NOT NULL
    )`,
    `CREATE TABLE customer_aliases (
      external_id TEXT PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      merged_at TIMESTAMP NOT NULL
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX identity_links_customer_idx ON identity_links (customer_id)`,
          `CREATE INDEX customer_aliases_customer_idx ON customer_aliases (customer_id)`,
          `CREATE INDEX events_anonymous_idx ON events (anonymous_id)`,
        ]
      : []),
  ],
};
