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
function jsonObject(d: Dialect, pairs: [string, string][]): string {
  const fn = d.jsonType === 'JSONB' ? 'jsonb_build_object' : 'json_object';
  return `${fn}(${pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')})`;
}

/**
 * Where each payload field is stored: typed columns (cheap to write by the million, compact on disk),
 * `detail` (JSON) only for the few fields that fit no column. Read back as the payload object.
 */
type Column = 'ref_id' | 'ref' | 'parent_id' | 'amount_minor' | 'currency' | 'label' | 'detail';
const PAYLOAD_COLUMNS: Record<DomainEventType, Record<string, Column>> = {
  'customer.created': { external_id: 'ref' },
  'customer.updated': { external_id: 'ref' },
  'customer.erased': { external_id: 'ref', erased_by: 'label' },
  'customer.merged': { external_id: 'ref', merged_customer_id: 'ref_id', merged_external_id: 'label' },
  'consent.changed': { external_id: 'ref', channel: 'label', from: 'detail', to: 'detail' },
  'order.placed': {
    order_id: 'ref_id',
    external_id: 'ref',
    total_minor: 'amount_minor',
    currency: 'currency',
  },
  'order.refunded': {
    refund_id: 'ref_id',
    external_id: 'ref',
    order_id: 'parent_id',
    amount_minor: 'amount_minor',
    currency: 'currency',
  },
  'event.tracked': { event_id: 'ref', event_type: 'label' },
  'store.updated': { currency: 'currency', time_zone: 'detail', locale: 'detail', changed: 'detail' },
  'segment.entered': { external_id: 'ref', segment: 'label', snapshot_id: 'ref_id' },
  'segment.left': { external_id: 'ref', segment: 'label', snapshot_id: 'ref_id' },
  'points.earned': {
    external_id: 'ref',
    grant_id: 'ref_id',
    points: 'amount_minor',
    kind: 'label',
    status: 'detail',
    available_at: 'detail',
    expires_at: 'detail',
  },
  'points.expiring': { external_id: 'ref', points: 'amount_minor', expires_at: 'detail', balance: 'detail' },
  'tier.changed': {
    external_id: 'ref',
    to: 'label',
    from: 'detail',
    direction: 'detail',
    basis_value: 'amount_minor',
  },
};
const PAYLOAD_SQL_COLUMNS: Column[] = [
  'ref_id',
  'ref',
  'parent_id',
  'amount_minor',
  'currency',
  'label',
  'detail',
];

/** The storage columns of one type's payload, as SQL expressions (`detail` as one JSON object). */
function payloadColumns(d: Dialect, type: DomainEventType, payload: Record<string, string>) {
  const cols: Partial<Record<Column, string>> = {};
  const detail: [string, string][] = [];
  for (const [field, col] of Object.entries(PAYLOAD_COLUMNS[type])) {
    const expr = payload[field];
    if (expr === undefined) throw new Error(`${type}: payload field ${field} missing`);
    if (col === 'detail') detail.push([field, expr]);
    else cols[col] = expr;
  }
  if (detail.length) cols.detail = jsonObject(d, detail);
  return cols;
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
  const cols = Object.entries(payloadColumns(d, spec.type, spec.payload));
  return tx.exec(
    `INSERT INTO domain_events (type, customer_id, occurred_at, recorded_at, ${cols.map(([c]) => c).join(', ')})
     SELECT CAST($1 AS TEXT), ${spec.customerId}, ${spec.occurredAt}, $2::timestamp, ${cols.map(([, e]) => e).join(', ')}
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
  const casts: Record<Column, string> = {
    ref_id: 'BIGINT',
    ref: 'TEXT',
    parent_id: 'BIGINT',
    amount_minor: 'BIGINT',
    currency: 'TEXT',
    label: 'TEXT',
    detail: d.jsonType,
  };
  for (let i = 0; i < events.length; i += CHUNK) {
    const params: SqlValue[] = [now];
    const mark = (v: SqlValue, cast: string) => {
      params.push(v);
      return `CAST($${params.length} AS ${cast})`;
    };
    const values = events.slice(i, i + CHUNK).map((e) => {
      const row: Partial<Record<Column, SqlValue>> = {};
      const detail: Record<string, unknown> = {};
      for (const [field, col] of Object.entries(PAYLOAD_COLUMNS[e.type])) {
        const v = (e.payload as Record<string, unknown>)[field];
        if (col === 'detail') detail[field] = v ?? null;
        else row[col] = (v ?? null) as SqlValue;
      }
      if (Object.keys(detail).length) row.detail = JSON.stringify(detail);
      return `(${[
        mark(e.type, 'TEXT'),
        mark(e.customerId, 'BIGINT'),
        mark(e.occurredAt, 'TIMESTAMP'),
        '$1::timestamp',
        ...PAYLOAD_SQL_COLUMNS.map((c) => mark(row[c] ?? null, casts[c])),
      ].join(', ')})`;
    });
    await tx.exec(
      `INSERT INTO domain_events (type, customer_id, occurred_at, recorded_at, ${PAYLOAD_SQL_COLUMNS.join(', ')})
       VALUES ${values.join(', ')}`,
      params,
    );
  }
}

interface EventDbRow {
  event_id: number;
  type: DomainEventType;
  customer_id: number | null;
  occurred_at: Date;
  recorded_at: Date;
  ref_id: number | null;
  ref: string | null;
  parent_id: number | null;
  amount_minor: number | null;
  currency: string | null;
  label: string | null;
  detail: string | null;
  [k: string]: unknown;
}

const COLUMNS = `event_id, type, customer_id, occurred_at, recorded_at, ref_id, ref, parent_id, amount_minor, currency, label,
  CAST(detail AS TEXT) AS detail`;

function toEvent(r: EventDbRow): DomainEvent {
  const detail = r.detail === null ? {} : (JSON.parse(r.detail) as Record<string, unknown>);
  const payload: Record<string, unknown> = {};
  for (const [field, col] of Object.entries(PAYLOAD_COLUMNS[r.type] ?? {}))
    payload[field] = col === 'detail' ? (detail[field] ?? null) : r[col];
  return {
    id: r.event_id,
    type: r.type,
    customer_id: r.customer_id,
    occurred_at: r.occurred_at.toISOString(),
    recorded_at: r.recorded_at.toISOString(),
    payload,
  } as DomainEvent;
}

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

/** One recorded event by id (null: none, or erased). */
export async function eventById(db: Queryable, id: number): Promise<DomainEvent | null> {
  const [r] = await db.query<EventDbRow>(`SELECT ${COLUMNS} FROM domain_events WHERE event_id = $1`, [id]);
  return r ? toEvent(r) : null;
}

/** The customer's events of `type` that occurred at or after `since`, oldest first (at most `limit`). */
export async function customerEventsSince(
  db: Queryable,
  q: { customerId: number; type: DomainEventType; since: Date; limit: number },
): Promise<DomainEvent[]> {
  const rows = await db.query<EventDbRow>(
    `SELECT ${COLUMNS} FROM domain_events WHERE customer_id = $1 AND type = $2 AND occurred_at >= $3::timestamp
     ORDER BY event_id LIMIT ${Math.max(1, Math.floor(q.limit))}`,
    [q.customerId, q.type, q.since],
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

/** Erase hook: the outbox's facts that named the customer by the shop's id name the anonymous id. */
export async function eraseCustomerRefs(tx: Queryable, customerId: number, anonymous: string): Promise<void> {
  await tx.exec(
    `UPDATE domain_events SET ref = $2
     WHERE customer_id = $1 AND type IN ('customer.created', 'customer.updated', 'consent.changed')`,
    [customerId, anonymous],
  );
}
