import type { DomainEvent, DomainEventType, NewDomainEvent } from '../../kit/events.js';
import type { Dialect, Queryable, SqlValue } from '../../storage/port.js';

/**
 * The outbox's SQL. Writers record events inside their own transaction (`recordFrom` set-based from
 * staging tables, `record` for a few rows); the dispatcher reads them in id order and moves each
 * subscriber's cursor.
 *
 * Id order = commit order: on Postgres several transactions may write at once, and a sequence hands
 * out ids in call order, not commit order — a reader could then see id 11 before 10 commits and move
 * its cursor past 10. So writers take a transaction-scoped advisory lock before their first event
 * insert and hold it to commit: ids are allocated under the lock, so every id below a visible one is
 * already visible (or rolled back). DuckDB has one connection and runs one transaction at a time.
 */

const WRITER_LOCK = 727274002;

/** Engines with concurrent writers (Postgres, the one taking advisory locks). */
const concurrent = (d: Dialect) => d.migrationLock !== null;

async function lockWriters(tx: Queryable, d: Dialect): Promise<void> {
  if (concurrent(d)) await tx.query(`SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
}

/** A JSON object built from SQL expressions (`jsonb_build_object` / DuckDB `json_object`). */
export function jsonObject(d: Dialect, pairs: Record<string, string>): string {
  const fn = d.jsonType === 'JSONB' ? 'jsonb_build_object' : 'json_object';
  return `${fn}(${Object.entries(pairs)
    .map(([k, v]) => `'${k}', ${v}`)
    .join(', ')})`;
}

export interface RecordSpec {
  type: DomainEventType;
  /** `FROM … [WHERE …]` naming the rows, one event each; `$1` is the type, `$2` the recording time. */
  from: string;
  customerId: string;
  occurredAt: string;
  payload: Record<string, string>;
  /** Id order within the statement (e.g. business time). */
  orderBy?: string;
  /** Extra parameters, `$3` on. */
  params?: readonly SqlValue[];
}

/** One INSERT … SELECT of events of one type (set-based: never a statement per row). */
export async function recordFrom(tx: Queryable, d: Dialect, spec: RecordSpec, now: Date): Promise<number> {
  await lockWriters(tx, d);
  return tx.exec(
    `INSERT INTO domain_events (type, customer_id, occurred_at, recorded_at, payload)
     SELECT CAST($1 AS TEXT), ${spec.customerId}, ${spec.occurredAt}, $2::timestamp, ${jsonObject(d, spec.payload)}
     ${spec.from}${spec.orderBy ? `\n     ORDER BY ${spec.orderBy}` : ''}`,
    [spec.type, now, ...(spec.params ?? [])],
  );
}

const CHUNK = 500;

/** Records a few events (HTTP paths), in the caller's transaction. */
export async function record(
  tx: Queryable,
  d: Dialect,
  events: readonly NewDomainEvent[],
  now: Date,
): Promise<void> {
  if (events.length === 0) return;
  await lockWriters(tx, d);
  for (let i = 0; i < events.length; i += CHUNK) {
    const params: SqlValue[] = [now];
    const values = events.slice(i, i + CHUNK).map((e) => {
      params.push(e.type, e.customerId, e.occurredAt, JSON.stringify(e.payload));
      const n = params.length;
      return `($${n - 3}, CAST($${n - 2} AS BIGINT), CAST($${n - 1} AS TIMESTAMP), $1::timestamp, CAST($${n} AS ${d.jsonType}))`;
    });
    await tx.exec(
      `INSERT INTO domain_events (type, customer_id, occurred_at, recorded_at, payload) VALUES ${values.join(', ')}`,
      params,
    );
  }
}

interface EventDbRow {
  event_id: number;
  type: string;
  customer_id: number | null;
  occurred_at: Date;
  recorded_at: Date;
  payload: string;
  [k: string]: unknown;
}

const COLUMNS = `event_id, type, customer_id, occurred_at, recorded_at, CAST(payload AS TEXT) AS payload`;

const toEvent = (r: EventDbRow): DomainEvent =>
  ({
    id: r.event_id,
    type: r.type,
    customer_id: r.customer_id,
    occurred_at: r.occurred_at.toISOString(),
    recorded_at: r.recorded_at.toISOString(),
    payload: JSON.parse(r.payload) as unknown,
  }) as DomainEvent;

function typeFilter(types: readonly string[] | undefined, params: SqlValue[]): string {
  if (!types || types.length === 0) return '';
  const marks = types.map((t) => {
    params.push(t);
    return `$${params.length}`;
  });
  return ` AND type IN (${marks.join(', ')})`;
}

/** Events with ids in (after, upTo], of the given types, in id order. */
export async function eventsAfter(
  db: Queryable,
  q: { after: number; upTo?: number; types?: readonly string[]; limit: number },
): Promise<DomainEvent[]> {
  const params: SqlValue[] = [q.after];
  let where = `event_id > $1`;
  if (q.upTo !== undefined) {
    params.push(q.upTo);
    where += ` AND event_id <= $${params.length}`;
  }
  where += typeFilter(q.types, params);
  params.push(q.limit);
  const rows = await db.query<EventDbRow>(
    `SELECT ${COLUMNS} FROM domain_events WHERE ${where} ORDER BY event_id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toEvent);
}

/** The largest recorded (visible) event id, 0 when none. */
export async function maxEventId(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number | null }>(`SELECT MAX(event_id) AS n FROM domain_events`);
  return r?.n ?? 0;
}

export interface SubscriptionRow {
  name: string;
  types: string;
  last_event_id: number;
  failures: number;
  retry_at: Date | null;
  last_error: string | null;
  [k: string]: unknown;
}

/** Creates the subscription when first seen: its cursor at the current end (`now`) or 0 (`beginning`). */
export async function ensureSubscription(
  db: Queryable,
  s: { name: string; types: readonly string[]; start: 'now' | 'beginning' },
  now: Date,
): Promise<void> {
  await db.exec(
    `INSERT INTO event_subscriptions (name, types, last_event_id, registered_at, updated_at, failures)
     SELECT $1, $2, ${s.start === 'now' ? 'm' : '0'}, $3::timestamp, $3::timestamp, 0
     FROM (SELECT COALESCE(MAX(event_id), 0) AS m FROM domain_events) x
     ON CONFLICT DO NOTHING`,
    [s.name, s.types.join(','), now],
  );
}

/**
 * The subscription row, locked for this delivery on Postgres (`FOR UPDATE SKIP LOCKED`: another
 * process delivering to it makes this one skip); undefined when locked elsewhere or unknown.
 */
export async function lockSubscription(
  tx: Queryable,
  d: Dialect,
  name: string,
): Promise<SubscriptionRow | undefined> {
  const [r] = await tx.query<SubscriptionRow>(
    `SELECT name, types, last_event_id, failures, retry_at, last_error FROM event_subscriptions WHERE name = $1
     ${concurrent(d) ? 'FOR UPDATE SKIP LOCKED' : ''}`,
    [name],
  );
  return r;
}

export async function getSubscription(db: Queryable, name: string): Promise<SubscriptionRow | undefined> {
  const [r] = await db.query<SubscriptionRow>(
    `SELECT name, types, last_event_id, failures, retry_at, last_error FROM event_subscriptions WHERE name = $1`,
    [name],
  );
  return r;
}

/** Moves the cursor (in the delivery transaction) and clears the failure state. */
export async function advance(tx: Queryable, name: string, to: number, now: Date): Promise<void> {
  await tx.exec(
    `UPDATE event_subscriptions SET last_event_id = $2, updated_at = $3::timestamp, failures = 0, retry_at = NULL, last_error = NULL
     WHERE name = $1 AND last_event_id < $2`,
    [name, to, now],
  );
}

/** Records a failed delivery (the cursor stays): retried at `retryAt`. */
export async function recordFailure(
  db: Queryable,
  name: string,
  error: string,
  retryAt: Date,
  now: Date,
): Promise<void> {
  await db.exec(
    `UPDATE event_subscriptions SET failures = failures + 1, retry_at = $2::timestamp, last_error = $3, updated_at = $4::timestamp
     WHERE name = $1`,
    [name, retryAt, error.slice(0, 2000), now],
  );
}

/** A page of events for the read API, in id order. */
export function listEvents(
  db: Queryable,
  q: { after: number; types?: readonly string[]; limit: number },
): Promise<DomainEvent[]> {
  return eventsAfter(db, q);
}
