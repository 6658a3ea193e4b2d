import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 26, flows (issue 26; docs/flows.md):
 * - `flows` and `flow_versions`: a flow's status and its versioned definitions (a save adds a version;
 *   new entries take the newest, runs in flight keep theirs);
 * - `flow_runs`: one customer's pass through one version — where they are (`step`), when it is next due
 *   (`next_at`), how it ended. Unique by flow, customer and occurrence (what entered them: an event, or
 *   `once`): an event delivered twice enters nobody twice;
 * - `flow_steps`: each step a run has taken, keyed by run and step and written in the transaction of the
 *   step's effect (a send's ledger row): a step is taken at most once.
 */
export const flowsMigration: Migration = {
  version: 26,
  name: 'flows',
  statements: (d) => [
    `CREATE SEQUENCE flow_id_seq START 1`,
    `CREATE TABLE flows (
      flow_id BIGINT PRIMARY KEY DEFAULT nextval('flow_id_seq'),
      name TEXT NOT NULL UNIQUE,
      status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
      version INTEGER NOT NULL,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      activated_at TIMESTAMP
    )`,
    `CREATE TABLE flow_versions (
      flow_id BIGINT NOT NULL,
      version INTEGER NOT NULL,
      definition TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      created_by TEXT,
      PRIMARY KEY (flow_id, version)
    )`,
    `CREATE SEQUENCE flow_run_id_seq START 1`,
    `CREATE TABLE flow_runs (
      run_id BIGINT PRIMARY KEY DEFAULT nextval('flow_run_id_seq'),
      flow_id BIGINT NOT NULL,
      version INTEGER NOT NULL,
      customer_id BIGINT NOT NULL,
      occurrence TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'holdout', 'goal', 'completed', 'exited')),
      -- Drawn into the holdout at entry (kept when the run later reaches the goal).
      holdout BOOLEAN NOT NULL,
      step TEXT,
      next_at TIMESTAMP,
      entered_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      ended_at TIMESTAMP,
      reason TEXT,
      UNIQUE (flow_id, customer_id, occurrence)
    )`,
    `CREATE TABLE flow_steps (
      run_id BIGINT NOT NULL,
      step TEXT NOT NULL,
      customer_id BIGINT NOT NULL,
      taken_at TIMESTAMP NOT NULL,
      outcome TEXT NOT NULL,
      PRIMARY KEY (run_id, step)
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX flow_runs_due_idx ON flow_runs (status, next_at)`,
          `CREATE INDEX flow_runs_customer_idx ON flow_runs (customer_id, flow_id, status)`,
        ]
      : []),
  ],
};

/**
 * Migration 28, flows v2 (issue 26): what entered a run (`flow_run_context`: the trigger's event or
 * time condition — the product due again, the points expiring — for the run's templates), and the
 * discount codes a flow's send steps generate (`flow_codes`, one per run and step; orders using one
 * attribute to the flow).
 */
export const flowsV2Migration: Migration = {
  version: 28,
  name: 'flows-v2',
  statements: () => [
    `CREATE TABLE flow_run_context (
      run_id BIGINT PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      context TEXT NOT NULL
    )`,
    `CREATE TABLE flow_codes (
      code TEXT PRIMARY KEY,
      flow_id BIGINT NOT NULL,
      run_id BIGINT NOT NULL,
      step TEXT NOT NULL,
      customer_id BIGINT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('percent', 'amount')),
      value BIGINT NOT NULL,
      expires_at TIMESTAMP NOT NULL,
      created_at TIMESTAMP NOT NULL,
      UNIQUE (run_id, step)
    )`,
  ],
};
