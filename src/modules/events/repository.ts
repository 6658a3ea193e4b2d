import type { Database, SqlValue } from '../../storage/port.js';
import type { EventRow } from '../imports/schema.js';

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
  const customers = [...new Set(rows.map((r) => r.customerId).filter((c): c is string => c !== null))].sort();
  const first = new Map<string, Date>();
  for (const r of rows)
    if (r.customerId && (!first.has(r.customerId) || r.occurredAt < (first.get(r.customerId) as Date)))
      first.set(r.customerId, r.occurredAt);
  for (let i = 0; i < customers.length; i += CHUNK) {
    const part = customers.slice(i, i + CHUNK);
    const params: SqlValue[] = [receivedAt];
    const values = part.map((c) => {
      params.push(c, first.get(c) ?? null);
      return `($${params.length - 1}, CAST($${params.length} AS TIMESTAMP))`;
    });
    await db.exec(
      `INSERT INTO customers (external_id, created_at, updated_at)
       SELECT v.external_id, v.first_at, $1::timestamp FROM (VALUES ${values.join(', ')}) AS v(external_id, first_at)
       WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.external_id = v.external_id)
       ON CONFLICT DO NOTHING`,
      params,
    );
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
    inserted += await db.exec(
      `INSERT INTO events (event_id, customer_id, anonymous_id, type, properties, occurred_at, received_at)
       SELECT v.event_id, c.customer_id, v.anonymous_id, v.type, CAST(v.properties AS ${db.dialect.jsonType}), v.occurred_at, $1::timestamp
       FROM (VALUES ${values.join(', ')}) AS v(event_id, customer_ext, anonymous_id, type, properties, occurred_at)
       LEFT JOIN customers c ON c.external_id = v.customer_ext
       ON CONFLICT DO NOTHING`,
      params,
    );
  }
  return inserted;
}

export async function countEvents(db: Database): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events`);
  return r?.n ?? 0;
}
