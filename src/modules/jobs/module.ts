import type { RetainModule } from '../../kit/module.js';
import type { Migration } from '../../storage/migrations/index.js';

/**
 * Per-schedule state: the latest slot decided (run or dropped) for each cron schedule; its job, if
 * it ran, is the one keyed `schedule:<name>:<last_slot ISO instant>`. Runners
 * advance `last_slot` with a compare-and-set in the transaction that enqueues the slot's job, so a
 * slot is enqueued once across workers and restarts. (Version 7 belongs to another change.)
 */
const scheduleStateMigration: Migration = {
  version: 8,
  name: 'schedule_state',
  statements: () => [
    `CREATE TABLE schedule_state (
      name TEXT PRIMARY KEY,
      last_slot TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      updated_by TEXT
    )`,
  ],
};

/** The durable job queue and the cron schedules' state (the runner lives in ./service.ts). */
export const jobsModule: RetainModule = {
  name: 'jobs',
  migrations: [scheduleStateMigration],
};
