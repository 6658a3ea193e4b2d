import type { NewDomainEvent } from '../../kit/events.js';
import type { Database, Dialect, Queryable, SqlValue } from '../../storage/port.js';
import type { EventRow } from '../imports/schema.js';
import { recordEvents } from '../outbox/service.js';
import { sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';

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
): Promise<{ inserted: number; identity: IdentityOutcome }> {
  let known = KNOWN_CUSTOMERS.get(db);
  if (!known) KNOWN_CUSTOMERS.set(db, (known = new Set()));
  const cache = known;
  // New customers, their events and the domain events recording them in one transaction.
  const out = await db.transaction((tx) => insertEventsIn(tx, db.dialect, rows, receivedAt, cache));
  if (cache.size > 200_000) cache.clear();
  for (const r of rows) if (r.customerId) cache.add(r.customerId);
  return out;
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
): Promise<{ inserted: number; identity: IdentityOutcome }> {
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
         AND NOT EXISTS (SELECT 1 FROM customer_aliases a WHERE a.external_id = v.external_id)
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
  // Identity stitching before the events go in: events of the batch without a customer then join
  // the customer their anonymous id is linked to (links made by this batch included).
  const identity = await linkBatchIdentities(db, rows, receivedAt);
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
       SELECT v.event_id,
              CASE WHEN v.customer_ext IS NULL THEN l.customer_id ELSE COALESCE(c.customer_id, a.customer_id) END,
              v.anonymous_id, v.type, CAST(v.properties AS ${jsonType}), v.occurred_at, $1::timestamp
       FROM (VALUES ${values.join(', ')}) AS v(event_id, customer_ext, anonymous_id, type, properties, occurred_at)
       LEFT JOIN customers c ON c.external_id = v.customer_ext
       LEFT JOIN customer_aliases a ON a.external_id = v.customer_ext
       LEFT JOIN identity_links l ON l.anonymous_id = v.anonymous_id
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
  return { inserted, identity };
}

/** What stitching did: links made, stored events that joined a customer, and the refused claims. */
export interface IdentityOutcome {
  linked: number;
  stitched: number;
  /** Anonymous ids already linked to another customer (first link wins; nothing applied). */
  conflicts: number;
  /** The first {@link MAX_CONFLICTS_LISTED} of them. */
  refused: IdentityConflict[];
}

export interface IdentityConflict {
  eventId: string;
  anonymousId: string;
  /** The shop id the event named. */
  customerId: string;
  /** The shop id of the customer the anonymous id is linked to. */
  linkedTo: string;
  /** The file line (imports). */
  line?: number;
}

export const MAX_CONFLICTS_LISTED = 100;

const NO_IDENTITY: IdentityOutcome = { linked: 0, stitched: 0, conflicts: 0, refused: [] };

/** The batch's events that carry both ids, as a pairs source for {@link linkIdentities}. */
async function linkBatchIdentities(
  tx: Queryable,
  rows: readonly EventRow[],
  now: Date,
): Promise<IdentityOutcome> {
  const pairs = rows.filter((r) => r.customerId !== null && r.anonymousId !== null);
  if (pairs.length === 0) return NO_IDENTITY;
  const params: SqlValue[] = [];
  const values = pairs.map((r) => {
    params.push(r.anonymousId, r.customerId, r.eventId, r.occurredAt);
    const n = params.length;
    return `($${n - 3}, $${n - 2}, $${n - 1}, CAST($${n} AS TIMESTAMP))`;
  });
  return linkIdentities(
    tx,
    `SELECT v.anonymous_id, COALESCE(c.customer_id, a.customer_id) AS customer_id, v.event_id, v.identified_at,
            CAST(NULL AS BIGINT) AS line_no
     FROM (VALUES ${values.join(', ')}) AS v(anonymous_id, customer_ext, event_id, identified_at)
     LEFT JOIN customers c ON c.external_id = v.customer_ext
     LEFT JOIN customer_aliases a ON a.external_id = v.customer_ext
     WHERE COALESCE(c.customer_id, a.customer_id) IS NOT NULL`,
    params,
    now,
    'api',
  );
}

/**
 * Identity stitching (set-based, in the caller's transaction). `pairs` is a SELECT yielding
 * `anonymous_id, customer_id (internal), event_id, identified_at, line_no` — events that carry both
 * ids. Per anonymous id not linked yet, the earliest pair links it (`identity_links`); pairs naming
 * another customer than the link are conflicts, reported and not applied (the first link wins). Then
 * every stored event of the pairs' anonymous ids that has no customer gets the linked one (the events
 * keep their anonymous id). `pairs` may use `$1…$k` (= `params`).
 */
export async function linkIdentities(
  tx: Queryable,
  pairs: string,
  params: readonly SqlValue[],
  now: Date,
  source: 'api' | 'import',
): Promise<IdentityOutcome> {
  const k = params.length;
  const linked = await tx.exec(
    `INSERT INTO identity_links (anonymous_id, customer_id, event_id, identified_at, source, linked_at)
     SELECT x.anonymous_id, x.customer_id, x.event_id, x.identified_at, CAST($${k + 1} AS TEXT), $${k + 2}::timestamp
     FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.anonymous_id ORDER BY p.identified_at, p.event_id) AS rn
           FROM (${pairs}) p) x
     WHERE x.rn = 1 AND NOT EXISTS (SELECT 1 FROM identity_links l WHERE l.anonymous_id = x.anonymous_id)
     ORDER BY x.anonymous_id
     ON CONFLICT DO NOTHING`,
    [...params, source, now],
  );
  const conflicts = await tx.query<{
    event_id: string;
    anonymous_id: string;
    claimed: string;
    linked_to: string;
    line_no: number | null;
    n: number;
  }>(
    `SELECT p.event_id, p.anonymous_id, c.external_id AS claimed, lc.external_id AS linked_to, p.line_no,
            COUNT(*) OVER () AS n
     FROM (${pairs}) p
     JOIN identity_links l ON l.anonymous_id = p.anonymous_id
     JOIN customers c ON c.customer_id = p.customer_id
     JOIN customers lc ON lc.customer_id = l.customer_id
     WHERE l.customer_id <> p.customer_id
     ORDER BY p.line_no, p.identified_at, p.event_id
     LIMIT ${MAX_CONFLICTS_LISTED}`,
    params,
  );
  const stitched = await tx.exec(
    `UPDATE events SET customer_id = l.customer_id
     FROM identity_links l
     WHERE events.customer_id IS NULL AND events.anonymous_id = l.anonymous_id
       AND l.anonymous_id IN (SELECT anonymous_id FROM (${pairs}) p)`,
    params,
  );
  return {
    linked,
    stitched,
    conflicts: conflicts[0]?.n ?? 0,
    refused: conflicts.map((r) => ({
      eventId: r.event_id,
      anonymousId: r.anonymous_id,
      customerId: r.claimed,
      linkedTo: r.linked_to,
      ...(r.line_no !== null ? { line: r.line_no } : {}),
    })),
  };
}

/**
 * Erase hook: the customer's event properties and anonymous ids removed (the events stay, as
 * anonymous facts of the customer's internal id) and their identity links deleted — a later event of
 * one of those anonymous ids is stored without a customer.
 */
export async function eraseCustomerEvents(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`UPDATE events SET properties = NULL, anonymous_id = NULL WHERE customer_id = $1`, [
    customerId,
  ]);
  await tx.exec(`DELETE FROM identity_links WHERE customer_id = $1`, [customerId]);
}

/** Merge hook: the merged customers' events and identity links become the survivor's. */
export async function mergeCustomerEvents(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  await tx.exec(`UPDATE events SET customer_id = $1 WHERE customer_id IN (${sqlIds(fromIds)})`, [intoId]);
  await tx.exec(`UPDATE identity_links SET customer_id = $1 WHERE customer_id IN (${sqlIds(fromIds)})`, [
    intoId,
  ]);
}

export async function countEvents(db: Database): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events`);
  return r?.n ?? 0;
}

/** Timeline source: the customer's site and storefront events (`event`: type and properties). */
export async function eventTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{ ref: string; at: Date; type: string; properties: string | null }>(
    `SELECT * FROM (
       SELECT event_id AS ref, occurred_at AS at, type, CAST(properties AS TEXT) AS properties
       FROM events WHERE customer_id = $1
     ) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: 'event',
    ref: r.ref,
    title: `event: ${r.type}`,
    detail: r.type,
    properties: r.properties === null ? null : (JSON.parse(r.properties) as Record<string, unknown>),
  }));
}
