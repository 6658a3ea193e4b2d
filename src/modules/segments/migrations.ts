import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 15, segments (issue 22):
 * - `customer_scores`: what rules read per customer without recomputing it — order aggregates (sale
 *   orders in the store currency, refunds taken off), RFM scores and segment, the favourite category,
 *   and the latest CLV run's prediction with its decile. Replaced whole by each refresh (after an
 *   import, a CLV run, and daily).
 * - `customer_tags`: free-form tags on customers (rules: `tag has …`).
 * - `segments`: saved definitions (the rule tree as JSON).
 */
export const segmentsMigration: Migration = {
  version: 15,
  name: 'segments',
  statements: () => [
    `CREATE TABLE customer_scores (
      customer_id BIGINT PRIMARY KEY,
      orders INTEGER NOT NULL,
      revenue_minor BIGINT NOT NULL,
      aov_minor BIGINT,
      first_order_at TIMESTAMP,
      last_order_at TIMESTAMP,
      favourite_category TEXT,
      rfm_r INTEGER,
      rfm_f INTEGER,
      rfm_m INTEGER,
      rfm_segment TEXT,
      revenue_decile INTEGER,
      orders_decile INTEGER,
      tenure_decile INTEGER,
      usual_next_order_at TIMESTAMP,
      p_alive DOUBLE PRECISION,
      expected_purchases DOUBLE PRECISION,
      clv_minor BIGINT,
      clv_decile INTEGER,
      next_order_at TIMESTAMP,
      refreshed_at TIMESTAMP NOT NULL
    )`,
    `CREATE TABLE customer_tags (
      customer_id BIGINT NOT NULL,
      tag TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      PRIMARY KEY (customer_id, tag)
    )`,
    `CREATE SEQUENCE segment_id_seq START 1`,
    `CREATE TABLE segments (
      segment_id BIGINT PRIMARY KEY DEFAULT nextval('segment_id_seq'),
      name TEXT NOT NULL UNIQUE,
      description TEXT,
      rule TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      created_by TEXT
    )`,
  ],
};

/**
 * Migration 16, segment snapshots (issue 22): a snapshot evaluates a segment and records who entered
 * and who left since the previous one of the same segment (`segment_changes`, with `segment.entered` /
 * `segment.left` domain events in the same transaction); `segment_members` holds the membership as of
 * the latest snapshot. Keyed by the segment's name (built-ins have no row in `segments`).
 */
export const segmentSnapshotsMigration: Migration = {
  version: 16,
  name: 'segment_snapshots',
  statements: () => [
    `CREATE SEQUENCE segment_snapshot_id_seq START 1`,
    `CREATE TABLE segment_snapshots (
      snapshot_id BIGINT PRIMARY KEY DEFAULT nextval('segment_snapshot_id_seq'),
      segment TEXT NOT NULL,
      rule TEXT NOT NULL,
      as_of TIMESTAMP NOT NULL,
      taken_at TIMESTAMP NOT NULL,
      members INTEGER NOT NULL,
      entered INTEGER NOT NULL,
      left_count INTEGER NOT NULL
    )`,
    `CREATE TABLE segment_members (
      segment TEXT NOT NULL,
      customer_id BIGINT NOT NULL,
      entered_at TIMESTAMP NOT NULL,
      PRIMARY KEY (segment, customer_id)
    )`,
    `CREATE TABLE segment_changes (
      snapshot_id BIGINT NOT NULL,
      segment TEXT NOT NULL,
      customer_id BIGINT NOT NULL,
      change TEXT NOT NULL CHECK (change IN ('entered', 'left')),
      changed_at TIMESTAMP NOT NULL
    )`,
  ],
};
