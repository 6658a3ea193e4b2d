import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 21, campaigns (issue 25; docs/campaigns.md):
 * - `campaigns`: a send to a segment (or ad-hoc rule) with A/B/n variants and a holdout, its status and
 *   the outcome window over which its incremental revenue is measured;
 * - `campaign_variants`: each variant's key (A, B, …), template and share of the recipients;
 * - `campaign_recipients`: who was assigned to which arm (a variant or the holdout), by a stable hash of
 *   customer and campaign, written once (the primary key: a relaunch assigns nobody twice).
 */
export const campaignsMigration: Migration = {
  version: 21,
  name: 'campaigns',
  statements: () => [
    `CREATE SEQUENCE campaign_id_seq START 1`,
    `CREATE TABLE campaigns (
      campaign_id BIGINT PRIMARY KEY DEFAULT nextval('campaign_id_seq'),
      name TEXT NOT NULL UNIQUE,
      segment TEXT,
      rule TEXT,
      channel TEXT NOT NULL,
      holdout_share DOUBLE PRECISION NOT NULL,
      window_days INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('draft', 'sending', 'done', 'cancelled')),
      created_at TIMESTAMP NOT NULL,
      created_by TEXT,
      launched_at TIMESTAMP,
      cancelled_at TIMESTAMP
    )`,
    `CREATE TABLE campaign_variants (
      campaign_id BIGINT NOT NULL,
      variant TEXT NOT NULL,
      template TEXT NOT NULL,
      share DOUBLE PRECISION NOT NULL,
      PRIMARY KEY (campaign_id, variant)
    )`,
    `CREATE TABLE campaign_recipients (
      campaign_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      arm TEXT NOT NULL,
      assigned_at TIMESTAMP NOT NULL,
      PRIMARY KEY (campaign_id, customer_id)
    )`,
  ],
};

/**
 * Migration 24, campaigns v2 (issue 25): statuses `scheduled` and `paused`; a schedule (now, one instant,
 * or a local time in each customer's time zone) and the instant the audience is assigned (`send_at`);
 * the click-attribution window; the stop rule; the problem that paused a send (codes ran out); per
 * variant an offer (a unique discount code per recipient, its value and expiry) and its own schedule;
 * and `campaign_codes`, the codes (generated at assignment, or a store's list imported beforehand) with
 * the recipient each went to. `campaigns` and `campaign_variants` are rebuilt (a CHECK constraint cannot
 * be changed in place on DuckDB); their rows are copied.
 */
export const campaignsV2Migration: Migration = {
  version: 24,
  name: 'campaigns-v2',
  statements: (d) => [
    `CREATE TABLE campaigns_v2 (
      campaign_id BIGINT PRIMARY KEY DEFAULT nextval('campaign_id_seq'),
      name TEXT NOT NULL UNIQUE,
      segment TEXT,
      rule TEXT,
      channel TEXT NOT NULL,
      holdout_share DOUBLE PRECISION NOT NULL,
      window_days INTEGER NOT NULL,
      click_days INTEGER NOT NULL,
      stop_rule TEXT NOT NULL,
      schedule TEXT,
      status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'done', 'cancelled')),
      send_at TIMESTAMP,
      problem TEXT,
      created_at TIMESTAMP NOT NULL,
      created_by TEXT,
      launched_at TIMESTAMP,
      paused_at TIMESTAMP,
      done_at TIMESTAMP,
      cancelled_at TIMESTAMP
    )`,
    `INSERT INTO campaigns_v2 (campaign_id, name, segment, rule, channel, holdout_share, window_days, click_days,
       stop_rule, status, created_at, created_by, launched_at, cancelled_at)
     SELECT campaign_id, name, segment, rule, channel, holdout_share, window_days, 5, '{"kind":"fixed"}', status,
       created_at, created_by, launched_at, cancelled_at FROM campaigns`,
    `DROP TABLE campaigns`,
    `ALTER TABLE campaigns_v2 RENAME TO campaigns`,
    `CREATE TABLE campaign_variants_v2 (
      campaign_id BIGINT NOT NULL,
      variant TEXT NOT NULL,
      template TEXT NOT NULL,
      share DOUBLE PRECISION NOT NULL,
      offer TEXT,
      schedule TEXT,
      PRIMARY KEY (campaign_id, variant)
    )`,
    `INSERT INTO campaign_variants_v2 (campaign_id, variant, template, share)
     SELECT campaign_id, variant, template, share FROM campaign_variants`,
    `DROP TABLE campaign_variants`,
    `ALTER TABLE campaign_variants_v2 RENAME TO campaign_variants`,
    `CREATE TABLE campaign_codes (
      code TEXT PRIMARY KEY,
      campaign_id BIGINT NOT NULL,
      variant TEXT NOT NULL,
      customer_id BIGINT,
      expires_at TIMESTAMP,
      imported_at TIMESTAMP,
      assigned_at TIMESTAMP
    )`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX campaign_codes_campaign_idx ON campaign_codes (campaign_id, variant, customer_id)`]
      : []),
  ],
};
