import type { Dialect } from '../port.js';

/**
 * The core data model: one store per database. Every customer-owned table carries `customer_id`
 * (the Citus distribution key, see docs/scale-out.md). Money is BIGINT minor units; times are
 * TIMESTAMP holding UTC.
 */
export function coreSchema(d: Dialect): string[] {
  const index = (sql: string) => (d.secondaryIndexes ? [sql] : []);
  // Surrogate ids come from sequences, unique by construction. Postgres indexes them as primary keys;
  // DuckDB prunes them with zone maps (they are monotonic) and skips the ART index, which halved the
  // time of a 2M-order import (docs/architecture.md). Natural keys (external_id, sku) stay UNIQUE on both.
  const surrogate = d.secondaryIndexes ? 'PRIMARY KEY' : 'NOT NULL';
  return [
    `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE SEQUENCE customer_id_seq START 1`,
    `CREATE TABLE customers (
      customer_id BIGINT ${surrogate} DEFAULT nextval('customer_id_seq'),
      external_id TEXT NOT NULL UNIQUE,
      email TEXT,
      phone TEXT,
      first_name TEXT,
      last_name TEXT,
      birthday DATE,
      country TEXT,
      acquisition_channel TEXT,
      created_at TIMESTAMP,
      updated_at TIMESTAMP NOT NULL
    )`,
    `CREATE TABLE customer_consents (
      customer_id BIGINT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'messenger')),
      status TEXT NOT NULL CHECK (status IN ('granted', 'denied', 'unsubscribed', 'unknown')),
      changed_at TIMESTAMP,
      source TEXT,
      PRIMARY KEY (customer_id, channel)
    )`,
    `CREATE TABLE products (
      sku TEXT PRIMARY KEY,
      title TEXT,
      category TEXT,
      price_minor BIGINT,
      unit_cost_minor BIGINT,
      currency TEXT,
      updated_at TIMESTAMP NOT NULL
    )`,
    `CREATE SEQUENCE order_id_seq START 1`,
    `CREATE TABLE orders (
      order_id BIGINT ${surrogate} DEFAULT nextval('order_id_seq'),
      external_id TEXT NOT NULL UNIQUE,
      customer_id BIGINT,
      ordered_at TIMESTAMP NOT NULL,
      currency TEXT NOT NULL,
      subtotal_minor BIGINT NOT NULL,
      discount_minor BIGINT NOT NULL,
      shipping_minor BIGINT NOT NULL,
      tax_minor BIGINT NOT NULL,
      total_minor BIGINT NOT NULL,
      channel TEXT,
      source TEXT,
      status TEXT NOT NULL,
      line_count INTEGER NOT NULL,
      lines_digest TEXT NOT NULL,
      imported_at TIMESTAMP NOT NULL
    )`,
    ...index(`CREATE INDEX orders_customer_idx ON orders (customer_id)`),
    `CREATE TABLE order_lines (
      order_id BIGINT NOT NULL,
      line_no INTEGER NOT NULL,
      customer_id BIGINT,
      sku TEXT,
      title TEXT,
      quantity INTEGER NOT NULL,
      unit_price_minor BIGINT NOT NULL,
      line_total_minor BIGINT NOT NULL
    )`,
    // (order_id, line_no) is unique by construction: an order's lines are replaced whole, in one transaction.
    ...index(`CREATE UNIQUE INDEX order_lines_pk ON order_lines (order_id, line_no)`),
    `CREATE SEQUENCE refund_id_seq START 1`,
    `CREATE TABLE refunds (
      refund_id BIGINT ${surrogate} DEFAULT nextval('refund_id_seq'),
      external_id TEXT NOT NULL UNIQUE,
      order_id BIGINT,
      customer_id BIGINT,
      amount_minor BIGINT NOT NULL,
      currency TEXT NOT NULL,
      refunded_at TIMESTAMP NOT NULL,
      reason TEXT
    )`,
    ...index(`CREATE INDEX refunds_customer_idx ON refunds (customer_id)`),
    `CREATE TABLE marketing_spend (
      spent_on DATE NOT NULL,
      channel TEXT NOT NULL,
      campaign TEXT NOT NULL DEFAULT '',
      amount_minor BIGINT NOT NULL,
      currency TEXT NOT NULL,
      PRIMARY KEY (spent_on, channel, campaign)
    )`,
    `CREATE TABLE events (
      event_id TEXT PRIMARY KEY,
      customer_id BIGINT,
      anonymous_id TEXT,
      type TEXT NOT NULL,
      properties ${d.jsonType},
      occurred_at TIMESTAMP NOT NULL,
      received_at TIMESTAMP NOT NULL
    )`,
    ...index(`CREATE INDEX events_customer_idx ON events (customer_id)`),
    `CREATE SEQUENCE import_id_seq START 1`,
    `CREATE TABLE import_runs (
      import_id BIGINT ${surrogate} DEFAULT nextval('import_id_seq'),
      entity TEXT NOT NULL,
      file TEXT NOT NULL,
      preset TEXT NOT NULL,
      started_at TIMESTAMP NOT NULL,
      finished_at TIMESTAMP NOT NULL,
      inserted BIGINT NOT NULL,
      updated BIGINT NOT NULL,
      unchanged BIGINT NOT NULL,
      rejected BIGINT NOT NULL,
      report ${d.jsonType}
    )`,
  ];
}
