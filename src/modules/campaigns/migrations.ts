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
