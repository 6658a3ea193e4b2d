import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 34, subscriptions (issue 28, docs/subscriptions.md):
 * - `subscription_plans`: how a product is sold by subscription — its interval, the discount against the
 *   one-off price, which products it takes (none listed: any), the reminder before each delivery;
 * - `subscriptions`: one customer's subscription to one product on a plan. The schedule is an anchor
 *   (the local date of cycle `anchor_cycle`) plus the interval and local time, in the customer's zone;
 *   `next_cycle` is the next delivery's number and `next_at` its instant (a paused one's: when it
 *   resumes) — the due index; `remind_at` when the next reminder is due (`reminded_cycle`: the last
 *   cycle reminded). Every change is a compare-and-set on `version`;
 * - `subscription_events`: each subscription's history (created, skipped, rescheduled, paused, resumed,
 *   quantity, swapped, cancelled, reactivated, order, reminder), who and when; `mrr_minor`: the
 *   subscription's monthly recurring revenue from then on, on each event that may change it (the MRR
 *   report's history);
 * - `subscription_orders`: the recurring orders, keyed by subscription and cycle — the key that makes a
 *   cycle's order exactly once, written in the transaction that writes the order.
 */
export const subscriptionsMigration: Migration = {
  version: 34,
  name: 'subscriptions',
  statements: (d) => [
    `CREATE SEQUENCE subscription_plan_id_seq START 1`,
    `CREATE TABLE subscription_plans (
      plan_id BIGINT PRIMARY KEY DEFAULT nextval('subscription_plan_id_seq'),
      name TEXT NOT NULL UNIQUE,
      definition TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL
    )`,
    `CREATE SEQUENCE subscription_id_seq START 1`,
    `CREATE TABLE subscriptions (
      subscription_id BIGINT PRIMARY KEY DEFAULT nextval('subscription_id_seq'),
      customer_id BIGINT NOT NULL,
      plan_id BIGINT NOT NULL,
      sku TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      unit_price_minor BIGINT NOT NULL,
      currency TEXT NOT NULL,
      interval_every INTEGER NOT NULL,
      interval_unit TEXT NOT NULL CHECK (interval_unit IN ('day', 'week', 'month')),
      local_time TEXT NOT NULL,
      time_zone TEXT NOT NULL,
      anchor_date TEXT NOT NULL,
      anchor_cycle INTEGER NOT NULL,
      next_cycle INTEGER NOT NULL,
      next_at TIMESTAMP,
      remind_at TIMESTAMP,
      reminded_cycle INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'past_due', 'cancelled')),
      paused_until TEXT,
      address TEXT,
      cancel_reason TEXT,
      cancel_note TEXT,
      started_at TIMESTAMP NOT NULL,
      cancelled_at TIMESTAMP,
      created_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      version INTEGER NOT NULL
    )`,
    `CREATE SEQUENCE subscription_event_id_seq START 1`,
    `CREATE TABLE subscription_events (
      event_id BIGINT PRIMARY KEY DEFAULT nextval('subscription_event_id_seq'),
      subscription_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      happened_at TIMESTAMP NOT NULL,
      type TEXT NOT NULL,
      cycle INTEGER,
      detail TEXT,
      mrr_minor BIGINT,
      changed_by TEXT
    )`,
    `CREATE TABLE subscription_orders (
      subscription_id BIGINT NOT NULL,
      cycle INTEGER NOT NULL,
      customer_id BIGINT NOT NULL,
      order_external_id TEXT NOT NULL,
      due_at TIMESTAMP NOT NULL,
      amount_minor BIGINT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      PRIMARY KEY (subscription_id, cycle)
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX subscriptions_due_idx ON subscriptions (status, next_at)`,
          `CREATE INDEX subscriptions_remind_idx ON subscriptions (remind_at)`,
          `CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id)`,
          `CREATE INDEX subscription_events_sub_idx ON subscription_events (subscription_id)`,
          `CREATE INDEX subscription_events_customer_idx ON subscription_events (customer_id)`,
          `CREATE INDEX subscription_orders_customer_idx ON subscription_orders (customer_id)`,
        ]
      : []),
  ],
};

/**
 * Migration 35, payments and dunning (issue 28): one row per payment attempt of a recurring order,
 * keyed by subscription, cycle and attempt — the first written with the order, each retry written when
 * the attempt before it failed (so a retry exists once, whatever replays the failure). The store's
 * payment system takes the attempts that are due and posts each result (docs/subscriptions.md#payments).
 */
export const subscriptionPaymentsMigration: Migration = {
  version: 35,
  name: 'subscription-payments',
  statements: (d) => [
    `CREATE TABLE subscription_payments (
      subscription_id BIGINT NOT NULL,
      cycle INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      customer_id BIGINT NOT NULL,
      payment_key TEXT NOT NULL UNIQUE,
      order_external_id TEXT NOT NULL,
      amount_minor BIGINT NOT NULL,
      currency TEXT NOT NULL,
      due_at TIMESTAMP NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('due', 'succeeded', 'failed', 'void')),
      reason TEXT,
      reference TEXT,
      created_at TIMESTAMP NOT NULL,
      answered_at TIMESTAMP,
      PRIMARY KEY (subscription_id, cycle, attempt)
    )`,
    ...(d.secondaryIndexes
      ? [
          `CREATE INDEX subscription_payments_due_idx ON subscription_payments (status, due_at)`,
          `CREATE INDEX subscription_payments_customer_idx ON subscription_payments (customer_id)`,
        ]
      : []),
  ],
};
