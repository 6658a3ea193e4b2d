import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 20, loyalty (issue 24; docs/loyalty.md):
 * - `loyalty_programs`: the programme's rules, versioned (a change adds a version; each grant names the
 *   version that computed it);
 * - `loyalty_members`: one row per member: card number, tier, and the cached totals (`available`,
 *   `pending`, `debt`) — each equal to its sum over the ledger, updated in the ledger's transaction;
 * - `loyalty_grants`: each credit of points with its own expiry; `remaining = points − Σ allocations`;
 * - `loyalty_entries`: the append-only ledger (`entry_key` unique: replaying a fact writes nothing);
 * - `loyalty_allocations`: which grants each entry took points from (spending FIFO, clawbacks, expiry,
 *   debt repaid) or gave back to (a reversal, negative);
 * - `loyalty_redemptions`: points spent on a discount code or an order, unique per member and
 *   idempotency key;
 * - `loyalty_tier_history`, `loyalty_notices` (the `points.expiring` notices sent, one per key).
 */
export const loyaltyMigration: Migration = {
  version: 20,
  name: 'loyalty',
  statements: (d) => [
    `CREATE TABLE loyalty_programs (
      version INTEGER PRIMARY KEY,
      config TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      created_by TEXT
    )`,
    `CREATE TABLE loyalty_members (
      customer_id BIGINT PRIMARY KEY,
      card_number TEXT NOT NULL UNIQUE,
      enrolled_at TIMESTAMP NOT NULL,
      source TEXT NOT NULL,
      tier TEXT,
      tier_since TIMESTAMP,
      downgrade_at TIMESTAMP,
      available BIGINT NOT NULL DEFAULT 0,
      pending BIGINT NOT NULL DEFAULT 0,
      debt BIGINT NOT NULL DEFAULT 0,
      updated_at TIMESTAMP NOT NULL
    )`,
    `CREATE SEQUENCE loyalty_grant_seq START 1`,
    `CREATE TABLE loyalty_grants (
      grant_id BIGINT PRIMARY KEY DEFAULT nextval('loyalty_grant_seq'),
      customer_id BIGINT NOT NULL,
      grant_key TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL CHECK (kind IN ('order', 'welcome', 'birthday', 'action', 'adjust')),
      order_id BIGINT,
      program_version INTEGER NOT NULL,
      points BIGINT NOT NULL CHECK (points > 0),
      remaining BIGINT NOT NULL CHECK (remaining >= 0),
      status TEXT NOT NULL CHECK (status IN ('pending', 'available', 'expired')),
      base_minor BIGINT,
      earned_at TIMESTAMP NOT NULL,
      available_at TIMESTAMP NOT NULL,
      expires_at TIMESTAMP NOT NULL,
      reason TEXT
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX loyalty_grants_customer_idx ON loyalty_grants (customer_id, status)`,
          `CREATE INDEX loyalty_grants_due_idx ON loyalty_grants (status, available_at, expires_at)`,
          `CREATE INDEX loyalty_grants_order_idx ON loyalty_grants (order_id)`,
        ]
      : []),
    `CREATE SEQUENCE loyalty_entry_seq START 1`,
    `CREATE TABLE loyalty_entries (
      entry_id BIGINT PRIMARY KEY DEFAULT nextval('loyalty_entry_seq'),
      customer_id BIGINT NOT NULL,
      entry_key TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL CHECK (type IN ('earn', 'release', 'redeem', 'reverse', 'expire', 'adjust', 'clawback')),
      -- The points the operation concerned (a clawback's target includes any shortfall written off).
      points BIGINT NOT NULL,
      pending_delta BIGINT NOT NULL,
      available_delta BIGINT NOT NULL,
      grant_id BIGINT,
      order_id BIGINT,
      redemption_id BIGINT,
      reason TEXT,
      occurred_at TIMESTAMP NOT NULL,
      created_at TIMESTAMP NOT NULL,
      created_by TEXT
    )`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX loyalty_entries_customer_idx ON loyalty_entries (customer_id, entry_id)`]
      : []),
    `CREATE TABLE loyalty_allocations (
      entry_id BIGINT NOT NULL,
      grant_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      points BIGINT NOT NULL,
      PRIMARY KEY (entry_id, grant_id)
    )`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX loyalty_allocations_grant_idx ON loyalty_allocations (grant_id)`]
      : []),
    `CREATE SEQUENCE loyalty_redemption_seq START 1`,
    `CREATE TABLE loyalty_redemptions (
      redemption_id BIGINT PRIMARY KEY DEFAULT nextval('loyalty_redemption_seq'),
      customer_id BIGINT NOT NULL,
      idempotency_key TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('code', 'order')),
      points BIGINT NOT NULL CHECK (points > 0),
      value_minor BIGINT NOT NULL,
      currency TEXT NOT NULL,
      code TEXT UNIQUE,
      order_ref TEXT,
      status TEXT NOT NULL CHECK (status IN ('active', 'reversed')),
      created_at TIMESTAMP NOT NULL,
      expires_at TIMESTAMP,
      reversed_at TIMESTAMP,
      reverse_reason TEXT,
      UNIQUE (customer_id, idempotency_key)
    )`,
    `CREATE SEQUENCE loyalty_tier_seq START 1`,
    `CREATE TABLE loyalty_tier_history (
      change_id BIGINT PRIMARY KEY DEFAULT nextval('loyalty_tier_seq'),
      customer_id BIGINT NOT NULL,
      changed_at TIMESTAMP NOT NULL,
      from_tier TEXT,
      to_tier TEXT,
      basis_value BIGINT NOT NULL,
      reason TEXT NOT NULL
    )`,
    `CREATE TABLE loyalty_notices (
      notice_key TEXT PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      points BIGINT NOT NULL,
      expires_at TIMESTAMP NOT NULL,
      created_at TIMESTAMP NOT NULL
    )`,
  ],
};
