import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 27, tasks (docs/tasks.md):
 * - `tasks`: service tasks for store staff ("call this customer"), one customer each. `source` says what
 *   made the task (`manual`, `flow:<name>`, …) and `source_key` is its creation key, unique: a flow step
 *   or an API retry that creates the same task again finds the first instead;
 * - `task_events`: each task's history (created, status moves, assignee, due date, outcome), who and when.
 */
export const tasksMigration: Migration = {
  version: 27,
  name: 'tasks',
  statements: (d) => [
    `CREATE SEQUENCE task_id_seq START 1`,
    `CREATE TABLE tasks (
      task_id BIGINT PRIMARY KEY DEFAULT nextval('task_id_seq'),
      customer_id BIGINT NOT NULL,
      title TEXT NOT NULL,
      body TEXT,
      -- A user's email (the users module's login), or null while unassigned.
      assignee TEXT,
      status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
      outcome TEXT,
      due_at TIMESTAMP,
      source TEXT NOT NULL,
      source_key TEXT NOT NULL UNIQUE,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      done_at TIMESTAMP
    )`,
    `CREATE SEQUENCE task_event_id_seq START 1`,
    `CREATE TABLE task_events (
      event_id BIGINT PRIMARY KEY DEFAULT nextval('task_event_id_seq'),
      task_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      changed_at TIMESTAMP NOT NULL,
      changed_by TEXT,
      change TEXT NOT NULL
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX tasks_status_due_idx ON tasks (status, due_at)`,
          `CREATE INDEX tasks_assignee_idx ON tasks (assignee, status)`,
          `CREATE INDEX tasks_customer_idx ON tasks (customer_id)`,
          `CREATE INDEX task_events_task_idx ON task_events (task_id)`,
          `CREATE INDEX task_events_customer_idx ON task_events (customer_id)`,
        ]
      : []),
  ],
};

/**
 * Migration 32, overdue alerts (issue 27): one row per task and due time whose assignee was told it is
 * overdue — inserted before the email goes (a crash between loses that alert rather than doubling it);
 * a new due time alerts again.
 */
export const taskAlertsMigration: Migration = {
  version: 32,
  name: 'task-alerts',
  statements: () => [
    `CREATE TABLE task_alerts (
      task_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      due_at TIMESTAMP NOT NULL,
      assignee TEXT NOT NULL,
      sent_at TIMESTAMP NOT NULL,
      outcome TEXT NOT NULL,
      PRIMARY KEY (task_id, due_at)
    )`,
  ],
};
