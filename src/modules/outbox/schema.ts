import { z } from '@hono/zod-openapi';
import { DOMAIN_EVENT_TYPES } from '../../kit/events.js';
import { PageQuery } from '../../kit/http/openapi.js';
import type { Dialect } from '../../storage/port.js';

/**
 * Migration 7: the outbox. `domain_events` holds every recorded fact (ids from a sequence: delivery
 * order); `event_subscriptions` holds each subscriber's cursor (the last event id it has handled).
 */
export function outboxSchema(d: Dialect): string[] {
  const index = (sql: string) => (d.secondaryIndexes ? [sql] : []);
  // As for the core tables: Postgres indexes the surrogate key, DuckDB prunes it with zone maps.
  const surrogate = d.secondaryIndexes ? 'PRIMARY KEY' : 'NOT NULL';
  return [
    `CREATE SEQUENCE domain_event_id_seq START 1`,
    `CREATE TABLE domain_events (
      event_id BIGINT ${surrogate} DEFAULT nextval('domain_event_id_seq'),
      type TEXT NOT NULL,
      customer_id BIGINT,
      occurred_at TIMESTAMP NOT NULL,
      recorded_at TIMESTAMP NOT NULL,
      -- The payload, in typed columns (repository.ts maps each type's fields): a 2M-order import
      -- records 2M events, and JSON built per row cost more than the rest of the event insert.
      ref_id BIGINT,
      ref TEXT,
      parent_id BIGINT,
      amount_minor BIGINT,
      currency TEXT,
      label TEXT,
      detail ${d.jsonType}
    )`,
    ...index(`CREATE INDEX domain_events_customer_idx ON domain_events (customer_id, event_id)`),
    ...index(`CREATE INDEX domain_events_type_idx ON domain_events (type, event_id)`),
    `CREATE TABLE event_subscriptions (
      name TEXT PRIMARY KEY,
      types TEXT NOT NULL,
      last_event_id BIGINT NOT NULL,
      registered_at TIMESTAMP NOT NULL,
      updated_at TIMESTAMP NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0,
      retry_at TIMESTAMP,
      last_error TEXT
    )`,
  ];
}

/** GET /v1/domain-events query. */
export const DomainEventQuery = z.object({
  ...PageQuery,
  type: z
    .string()
    .optional()
    .openapi({ description: `comma-separated event types (${DOMAIN_EVENT_TYPES.join(', ')})` }),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: 'only events with a larger id (ignored when `cursor` is given)' }),
});

export const DomainEventDoc = z
  .object({
    id: z.number().int(),
    type: z.enum(DOMAIN_EVENT_TYPES),
    customer_id: z.number().int().nullable(),
    occurred_at: z.string(),
    recorded_at: z.string(),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi('DomainEvent');
