import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 12, messaging (issue 21):
 * - `message_templates`: a template's source and its compiled form (MJML compiled once, when saved),
 *   versioned: a save adds a version, a send names the version it rendered;
 * - `message_sends`: the send ledger. One row per unique key (source × step × customer × occurrence),
 *   inserted before any provider is called, so a key is delivered at most once; its status moves
 *   queued → sending → sent | rejected | skipped, or queued again (deferred by quiet hours, a retry);
 *   a row found `sending` after a crash becomes `unknown` (docs/messaging.md: the crash window);
 * - `suppressions`: addresses never to message on a channel (hard bounces, complaints, STOP replies,
 *   erasure), checked at send time.
 */
export const messagingMigration: Migration = {
  version: 12,
  name: 'messaging',
  statements: (d) => [
    `CREATE TABLE message_templates (
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'messenger')),
      kind TEXT NOT NULL CHECK (kind IN ('marketing', 'transactional')),
      source TEXT NOT NULL,
      compiled TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      created_by TEXT,
      PRIMARY KEY (name, version)
    )`,
    `CREATE TABLE message_sends (
      send_key TEXT PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'messenger')),
      kind TEXT NOT NULL CHECK (kind IN ('marketing', 'transactional')),
      source TEXT NOT NULL,
      step TEXT NOT NULL,
      occurrence TEXT NOT NULL,
      template TEXT NOT NULL,
      template_version INTEGER NOT NULL,
      variables TEXT,
      status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'rejected', 'skipped', 'unknown')),
      reason TEXT,
      address TEXT,
      locale TEXT,
      not_before TIMESTAMP NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      provider_id TEXT,
      -- The provider's delivery report (SMS gateways): delivered, failed, or its own status word.
      delivery TEXT,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      sent_at TIMESTAMP
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX message_sends_due_idx ON message_sends (status, not_before)`,
          `CREATE INDEX message_sends_customer_idx ON message_sends (customer_id, sent_at)`,
        ]
      : []),
    `CREATE TABLE suppressions (
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'messenger')),
      address TEXT NOT NULL,
      reason TEXT NOT NULL,
      source TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      PRIMARY KEY (channel, address)
    )`,
    // The messenger chat a contact connected (Telegram `/start <link payload>`).
    `CREATE TABLE messenger_chats (
      customer_id BIGINT PRIMARY KEY,
      chat_id TEXT NOT NULL,
      linked_at TIMESTAMP NOT NULL
    )`,
  ],
};

/**
 * Migration 14, double opt-in (issue 21): `consent_requests` keeps each pending confirmation — a grant
 * asked for through the API or at a checkout on a channel the policy's `doubleOptIn` names. The grant
 * itself is not in the consent ledger until the contact confirms (the ledger holds decisions, and
 * `requested` is not one); the confirmation then writes a `granted` entry with source `double opt-in`.
 * `status`: pending → confirmed (the link was used: single use) or expired (seen after `expires_at`).
 */
export const consentRequestsMigration: Migration = {
  version: 14,
  name: 'consent_requests',
  statements: (d) => [
    `CREATE TABLE consent_requests (
      request_id TEXT PRIMARY KEY,
      customer_id BIGINT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
      source TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'expired')),
      send_key TEXT NOT NULL,
      requested_at TIMESTAMP NOT NULL,
      expires_at TIMESTAMP NOT NULL,
      decided_at TIMESTAMP,
      ip TEXT,
      user_agent TEXT,
      form_text TEXT
    )`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX consent_requests_customer_idx ON consent_requests (customer_id, channel, status)`]
      : []),
  ],
};

/**
 * Migration 23, engagement and holds (issue 25):
 * - `message_events`: what contacts did with a message — `open` (the tracking pixel), `click` (a signed
 *   redirect link; `target` is the URL), `unsubscribe` (the message's own unsubscribe link). One row per
 *   send, kind and target with the first and last time and a count, so a contact who opens ten times is
 *   one row, not ten.
 * - `send_holds`: sources whose queued messages must not go out now (a paused campaign or flow). The
 *   delivery query and the claim skip them; releasing the hold sends the rest.
 * - Postgres: an index of the sends by source and status (a campaign's figures, pending count, pause, cancel).
 */
export const engagementMigration: Migration = {
  version: 23,
  name: 'message-engagement',
  statements: (d) => [
    `CREATE TABLE message_events (
      send_key TEXT NOT NULL,
      customer_id BIGINT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('open', 'click', 'unsubscribe')),
      target TEXT NOT NULL,
      first_at TIMESTAMP NOT NULL,
      last_at TIMESTAMP NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (send_key, kind, target)
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX message_events_customer_idx ON message_events (customer_id, kind, first_at)`,
          // A source's messages (a campaign's report, its pending count, pause and cancel).
          `CREATE INDEX message_sends_source_idx ON message_sends (source, status)`,
        ]
      : []),
    `CREATE TABLE send_holds (
      source TEXT PRIMARY KEY,
      held_at TIMESTAMP NOT NULL,
      reason TEXT NOT NULL
    )`,
  ],
};

/**
 * Migration 29, hand-over (issue 26: a kill -9 during delivery must skip nothing). A `sending` row was
 * one state for two things: claimed by a deliverer (not yet given to the provider) and handed over (the
 * provider may have it). A crash could not tell them apart, so both became `unknown`. Now:
 * - `claimed_by`: the deliverer run that claimed the row (results and hand-overs of another run's claim
 *   do nothing);
 * - `handed_at`: when the row was handed over — committed right before the point after which the
 *   provider may have the message (SMTP: before the end of DATA; HTTP: before the request). A `sending`
 *   row without it is only claimed: a restart queues it again.
 * - `answered_at`: when the provider accepted it (with `provider_id`), written in the same light
 *   statement as hand-overs, ahead of the batched move to `sent`: a restart finishes such rows as sent.
 * Rows `sending` at the upgrade were written by the old deliverer: treated as handed over.
 */
export const handOverMigration: Migration = {
  version: 29,
  name: 'message-hand-over',
  statements: () => [
    `ALTER TABLE message_sends ADD COLUMN claimed_by TEXT`,
    `ALTER TABLE message_sends ADD COLUMN handed_at TIMESTAMP`,
    `ALTER TABLE message_sends ADD COLUMN answered_at TIMESTAMP`,
    `UPDATE message_sends SET handed_at = updated_at WHERE status = 'sending'`,
  ],
};
