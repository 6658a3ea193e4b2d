import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 30, surveys (issue 27, docs/surveys.md):
 * - `surveys`: a survey's definition (NPS 0–10 or CSAT 1–5, the "why" question, throttle, the low-score
 *   rule), its invitation template, and the round-robin position of the rule's assignees;
 * - `survey_invitations`: one per survey × customer × occurrence (the unique key: an invite repeated
 *   invites once), with the send key of its message; `open` until the "why" is answered (`closed`) or it
 *   expires;
 * - `survey_answers`: at most one per invitation (a second click on a score updates it), with the
 *   task a low score made;
 * - `survey_throttle`: when each customer was last invited (any survey): the throttle is a compare-and-set
 *   on this row, never a check then an insert.
 */
export const surveysMigration: Migration = {
  version: 30,
  name: 'surveys',
  statements: (d) => [
    `CREATE SEQUENCE survey_id_seq START 1`,
    `CREATE TABLE surveys (
      survey_id BIGINT PRIMARY KEY DEFAULT nextval('survey_id_seq'),
      name TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL CHECK (kind IN ('nps', 'csat')),
      definition TEXT NOT NULL,
      template TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
      rr_next INTEGER NOT NULL,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL
    )`,
    `CREATE TABLE survey_invitations (
      invitation_id TEXT PRIMARY KEY,
      survey_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      occurrence TEXT NOT NULL,
      source TEXT NOT NULL,
      channel TEXT NOT NULL,
      send_key TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
      invited_at TIMESTAMP NOT NULL,
      expires_at TIMESTAMP NOT NULL,
      UNIQUE (survey_id, customer_id, occurrence)
    )`,
    `CREATE TABLE survey_answers (
      invitation_id TEXT PRIMARY KEY,
      survey_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      score INTEGER NOT NULL,
      why TEXT,
      locale TEXT,
      task_id BIGINT,
      answered_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL
    )`,
    `CREATE TABLE survey_throttle (
      customer_id BIGINT PRIMARY KEY,
      last_invited_at TIMESTAMP NOT NULL
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX survey_invitations_customer_idx ON survey_invitations (customer_id)`,
          `CREATE INDEX survey_answers_survey_idx ON survey_answers (survey_id, answered_at)`,
          `CREATE INDEX survey_answers_customer_idx ON survey_answers (customer_id)`,
        ]
      : []),
  ],
};

/**
 * Migration 33 (issue 27, results by product): the order an invitation asks about (the survey after
 * delivery: the order that entered the flow), so an answer counts for that order's products.
 */
export const surveyOrdersMigration: Migration = {
  version: 33,
  name: 'survey-orders',
  statements: () => [`ALTER TABLE survey_invitations ADD COLUMN order_id BIGINT`],
};
