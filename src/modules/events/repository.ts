import type { NewDomainEvent } from '../../kit/events.js';
import type { Database, Dialect, Queryable, SqlValue } from '../../storage/port.js';
import type { EventRow } from '../imports/schema.js';
import { recordEvents } from '../outbox/service.js';

const CHUNK = 500;

/**
 * Stores events by their client id (`event_id` is the primary key): `ON CONFLICT DO NOTHING` makes a
 * replay a no-op. Customers named by external id are created first (sorted, so concurrent batches
 * take their locks in the same order). Returns how many events were new.
 */
export async function insertEvents(
  db: Database,
  rows: readonly EventRow[],
  receivedAt: Date,
): Promise<number> {
  let known = KNOWN_CUSTOMERS.get(db);
  if (!known) KNOWN_CUSTOMERS.set(db, (known = new Set()));
  const cache = known;
  // New customers, their events and the domain events recording them in one transaction.
  const inserted = await db.transaction((tx) => insertEventsIn(tx, db.dialect, rows, receivedAt, cache));
  if (cache.size > 200_000) cache.clear();
  for (const r of rows) if (r.customerId) cache.add(r.customerId);
  return inserted;
}

/**
 * Customers (by external id) this process has seen stored: customers are never deleted by the
 * ingestion path, so their insert can be skipped (events of returning customers are the common case).
 */
const KNOWN_CUSTOMERS = new WeakMap<Database, Set<string>>();

async function insertEventsIn(
  db: Queryable,
  dialect: Dialect,
  rows: readonly EventRow[],
  receivedAt: Date,
  known: ReadonlySet<string>,
): Promise<number> {
  const customers = [
    ...new Set(rows.map((r) => r.customerId).filter((c): c is string => c !== null && !known.has(c))),
  ].sort();
  const first = new Map<string, Date>();
  for (const r of rows)
    if (r.customerId && (!first.has(r.customerId) || r.occurredAt < (first.get(r.customerId) as Date)))
      first.set(r.customerId, r.occurredAt);
  const jsonType = dialect.jsonType;
  const domain: NewDomainEvent[] = [];
  for (let i = 0; i < customers.length; i += CHUNK) {
    const part = customers.slice(i, i + CHUNK);
    const params: SqlValue[] = [receivedAt];
    const values = part.map((c) => {
      params.push(c, first.get(c) ?? null);
      return `($${params.length - 1}, CAST($${params.length} AS TIMESTAMP))`;
    });
    const created = await db.query<{ customer_id: number; external_id: string; created_at: Date | null }>(
      `INSERT INTO customers (external_id, created_at, updated_at)
       SELECT v.external_id, v.first_at, $1::timestamp FROM (VALUES ${values.join(', ')}) AS v(external_id, first_at)
       WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.external_id = v.external_id)
       ON CONFLICT DO NOTHING
       RETURNING customer_id, external_id, created_at`,
      params,
    );
    for (const c of created)
      domain.push({
        type: 'customer.created',
        customerId: c.customer_id,
        occurredAt: c.created_at ?? receivedAt,
        payload: { external_id: c.external_id },
      });
  }
  let inserted = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const params: SqlValue[] = [receivedAt];
    const values = part.map((r) => {
      const n = params.length;
      params.push(r.eventId, r.customerId, r.anonymousId, r.type, JSON.stringify(r.properties), r.occurredAt);
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, CAST($${n + 6} AS TIMESTAMP))`;
    });
    const stored = await db.query<{
      event_id: string;
      customer_id: number | null;
      type: string;
      occurred_at: Date;
    }>(
      `INSERT INTO events (event_id, customer_id, anonymous_id, type, properties, occurred_at, received_at)
       SELECT v.event_id, c.customer_id, v.anonymous_id, v.type, CAST(v.properties AS ${jsonType}), v.occurred_at, $1::timestamp
       FROM (VALUES ${values.join(', ')}) AS v(event_id, customer_ext, anonymous_id, type, properties, occurred_at)
       LEFT JOIN customers c ON c.external_id = v.customer_ext
       ON CONFLICT DO NOTHING
       RETURNING event_id, customer_id, type, occurred_at`,
      params,
    );
    inserted += stored.length;
    // Batch order (RETURNING's order is not promised): ids follow the request.
    const at = new Map(part.map((r, k) => [r.eventId, k]));
    stored.sort((a, b) => (at.get(a.event_id) ?? 0) - (at.get(b.event_id) ?? 0));
    for (const e of stored)
      domain.push({
        type: 'event.tracked',
        customerId: e.customer_id,
        occurredAt: e.occurred_at,
        payload: { event_id: e.event_id, event_type: e.type },
      });
  }
  await recordEvents(db, dialect, domain, receivedAt);
  return inserted;
}

export async function countEvents(db: Database): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events`);
  return r?.n ?? 0;
}
