import type { Entry, Grant, GrantStatus, MemberTotals } from '../../analytics/loyalty/ledger.js';
import type { Dialect, Queryable, Row, SqlValue } from '../../storage/port.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';

/** The loyalty module's SQL (docs/loyalty.md). */

/** `($1::bigint, $2::text), …` for `rows`, their values appended to `params`. */
function valuesList(
  params: SqlValue[],
  types: readonly string[],
  rows: readonly (readonly SqlValue[])[],
): string {
  return rows
    .map((r) => {
      const at = params.length;
      params.push(...r);
      return `(${r.map((_, i) => `$${at + i + 1}::${types[i]}`).join(', ')})`;
    })
    .join(', ');
}

/**
 * Runs `select` once per chunk of at most 1,000 `keys` (parameter lists stay small on both engines),
 * `list` being the chunk's placeholders `$1, …, $n` and `params` its values; the rows concatenated.
 */
async function byChunks<T extends Row>(
  keys: readonly SqlValue[],
  select: (list: string, params: SqlValue[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const params = keys.slice(i, i + 1000);
    out.push(...(await select(params.map((_, j) => `$${j + 1}`).join(', '), params)));
  }
  return out;
}

// ---- programme ------------------------------------------------------------------------------------

export type ProgramRow = {
  version: number;
  config: string;
  created_at: Date;
  created_by: string | null;
};

export async function currentProgram(db: Queryable): Promise<ProgramRow | null> {
  const rows = await db.query<ProgramRow>(
    `SELECT version, config, created_at, created_by FROM loyalty_programs ORDER BY version DESC LIMIT 1`,
  );
  return rows[0] ?? null;
}

export async function programVersions(db: Queryable): Promise<ProgramRow[]> {
  return db.query<ProgramRow>(
    `SELECT version, config, created_at, created_by FROM loyalty_programs ORDER BY version DESC`,
  );
}

/** Adds version `version`; false when another writer took the number first. */
export async function insertProgram(
  tx: Queryable,
  version: number,
  config: string,
  now: Date,
  by: string | null,
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO loyalty_programs (version, config, created_at, created_by) VALUES ($1, $2, $3::timestamp, $4)
     ON CONFLICT (version) DO NOTHING RETURNING version`,
    [version, config, now, by],
  );
  return rows.length === 1;
}

// ---- customers and members ---------------------------------------------------------------------

export type CustomerRow = {
  customer_id: number;
  external_id: string;
  erased: boolean;
};

export async function customerByExternalId(db: Queryable, externalId: string): Promise<CustomerRow | null> {
  const rows = await db.query<CustomerRow>(
    `SELECT c.customer_id, c.external_id, (c.erased_at IS NOT NULL) AS erased
     FROM customers c WHERE c.external_id = $1
     UNION ALL
     SELECT c.customer_id, c.external_id, (c.erased_at IS NOT NULL) AS erased
     FROM customer_aliases a JOIN customers c ON c.customer_id = a.customer_id
     WHERE a.external_id = $1 AND NOT EXISTS (SELECT 1 FROM customers x WHERE x.external_id = $1)`,
    [externalId],
  );
  return rows[0] ?? null;
}

export type MemberRow = {
  customer_id: number;
  external_id: string;
  card_number: string;
  enrolled_at: Date;
  source: string;
  tier: string | null;
  tier_since: Date | null;
  downgrade_at: Date | null;
  available: number;
  pending: number;
  debt: number;
};

const MEMBER_COLUMNS = `m.customer_id, c.external_id, m.card_number, m.enrolled_at, m.source, m.tier, m.tier_since,
  m.downgrade_at, m.available, m.pending, m.debt`;

export async function memberById(db: Queryable, customerId: number): Promise<MemberRow | null> {
  const rows = await db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM loyalty_members m JOIN customers c ON c.customer_id = m.customer_id
     WHERE m.customer_id = $1`,
    [customerId],
  );
  return rows[0] ?? null;
}

/** The shop ids of customers by internal id. */
export async function externalIdsOf(db: Queryable, ids: readonly number[]): Promise<Map<number, string>> {
  const rows = await byChunks(ids, (list, params) =>
    db.query<{ customer_id: number; external_id: string }>(
      `SELECT customer_id, external_id FROM customers WHERE customer_id IN (${list})`,
      params,
    ),
  );
  return new Map(rows.map((r) => [r.customer_id, r.external_id]));
}

export async function membersByIds(db: Queryable, ids: readonly number[]): Promise<MemberRow[]> {
  return byChunks(ids, (list, params) =>
    db.query<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM loyalty_members m JOIN customers c ON c.customer_id = m.customer_id
       WHERE m.customer_id IN (${list})`,
      params,
    ),
  );
}

export async function memberByCard(db: Queryable, cardNumber: string): Promise<MemberRow | null> {
  const rows = await db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM loyalty_members m JOIN customers c ON c.customer_id = m.customer_id
     WHERE m.card_number = $1`,
    [cardNumber],
  );
  return rows[0] ?? null;
}

export async function listMembers(
  db: Queryable,
  q: { tier?: string | undefined; afterId: number; limit: number },
): Promise<MemberRow[]> {
  const params: SqlValue[] = [q.afterId, q.limit];
  const tier = q.tier === undefined ? '' : (params.push(q.tier), `AND m.tier = $${params.length}`);
  return db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM loyalty_members m JOIN customers c ON c.customer_id = m.customer_id
     WHERE m.customer_id > $1 ${tier} ORDER BY m.customer_id LIMIT $2`,
    params,
  );
}

/** Inserts the member unless it exists; true when this call enrolled them. */
export async function insertMember(
  tx: Queryable,
  m: { customerId: number; cardNumber: string; enrolledAt: Date; source: string; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO loyalty_members (customer_id, card_number, enrolled_at, source, updated_at)
     VALUES ($1, $2, $3::timestamp, $4, $5::timestamp)
     ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id`,
    [m.customerId, m.cardNumber, m.enrolledAt, m.source, m.now],
  );
  return rows.length === 1;
}

/**
 * Locks the member's row for the ledger operation (Postgres: the row lock serialises operations on one
 * balance; DuckDB: its one writer already does) and returns the cached totals, or null if not a member.
 */
export async function lockMember(tx: Queryable, customerId: number, now: Date): Promise<MemberTotals | null> {
  const rows = await tx.query<{ available: number; pending: number; debt: number }>(
    `UPDATE loyalty_members SET updated_at = $2::timestamp WHERE customer_id = $1
     RETURNING available, pending, debt`,
    [customerId, now],
  );
  return rows[0] ?? null;
}

/** Locks several members in id order (a fixed order: two batches never wait on each other in a circle). */
export async function lockMembers(
  tx: Queryable,
  ids: readonly number[],
  now: Date,
): Promise<Map<number, MemberTotals>> {
  if (ids.length === 0) return new Map();
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const out = new Map<number, MemberTotals>();
  for (let i = 0; i < sorted.length; i += 1000) {
    const chunk = sorted.slice(i, i + 1000);
    const params: SqlValue[] = [now];
    const list = chunk.map((id) => (params.push(id), `$${params.length}`)).join(', ');
    const rows = await tx.query<{ customer_id: number; available: number; pending: number; debt: number }>(
      `UPDATE loyalty_members SET updated_at = $1::timestamp WHERE customer_id IN (${list})
       RETURNING customer_id, available, pending, debt`,
      params,
    );
    for (const r of rows)
      out.set(r.customer_id, { available: r.available, pending: r.pending, debt: r.debt });
  }
  return out;
}

type GrantRow = {
  customer_id: number;
  grant_id: number;
  status: GrantStatus;
  points: number;
  remaining: number;
  available_at: Date;
  expires_at: Date;
};

const toGrant = (r: GrantRow): Grant => ({
  id: r.grant_id,
  status: r.status,
  points: r.points,
  remaining: r.remaining,
  availableAt: r.available_at,
  expiresAt: r.expires_at,
});

/** The members' open grants (pending, or available with points left), by member. */
export async function openGrants(db: Queryable, ids: readonly number[]): Promise<Map<number, Grant[]>> {
  const out = new Map<number, Grant[]>();
  for (const id of ids) out.set(id, []);
  const rows = await byChunks([...out.keys()], (list, params) =>
    db.query<GrantRow>(
      `SELECT customer_id, grant_id, status, points, remaining, available_at, expires_at FROM loyalty_grants
       WHERE customer_id IN (${list}) AND (status = 'pending' OR (status = 'available' AND remaining > 0))`,
      params,
    ),
  );
  for (const r of rows) out.get(r.customer_id)?.push(toGrant(r));
  return out;
}

/** Available grants with points left of one member (a reversal gives back to them). */
export async function grantsById(db: Queryable, ids: readonly number[]): Promise<Grant[]> {
  const rows = await byChunks(ids, (list, params) =>
    db.query<GrantRow>(
      `SELECT customer_id, grant_id, status, points, remaining, available_at, expires_at FROM loyalty_grants
       WHERE grant_id IN (${list})`,
      params,
    ),
  );
  return rows.map(toGrant);
}

export interface NewGrant {
  customerId: number;
  key: string;
  kind: 'order' | 'welcome' | 'birthday' | 'action' | 'adjust';
  orderId: number | null;
  programVersion: number;
  points: number;
  baseMinor: number | null;
  earnedAt: Date;
  availableAt: Date;
  expiresAt: Date;
  reason: string | null;
}

/**
 * Inserts grants by their unique key; a key already granted is skipped (a replayed order, a second
 * birthday run). Returns the new grants' ids by key.
 */
export async function insertGrants(
  tx: Queryable,
  grants: readonly NewGrant[],
  now: Date,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < grants.length; i += 500) {
    const params: SqlValue[] = [];
    const values = valuesList(
      params,
      [
        'bigint',
        'text',
        'text',
        'bigint',
        'integer',
        'bigint',
        'bigint',
        'text',
        'timestamp',
        'timestamp',
        'timestamp',
        'text',
      ],
      grants
        .slice(i, i + 500)
        .map((g) => [
          g.customerId,
          g.key,
          g.kind,
          g.orderId,
          g.programVersion,
          g.points,
          g.baseMinor,
          g.availableAt.getTime() > now.getTime() ? 'pending' : 'available',
          g.earnedAt,
          g.availableAt,
          g.expiresAt,
          g.reason,
        ]),
    );
    const rows = await tx.query<{ grant_id: number; grant_key: string }>(
      `INSERT INTO loyalty_grants (customer_id, grant_key, kind, order_id, program_version, points, remaining, base_minor,
         status, earned_at, available_at, expires_at, reason)
       SELECT v.c, v.k, v.kind, v.o, v.pv, v.p, v.p, v.b, v.s, v.e, v.a, v.x, v.r
       FROM (VALUES ${values}) AS v(c, k, kind, o, pv, p, b, s, e, a, x, r)
       ON CONFLICT (grant_key) DO NOTHING RETURNING grant_id, grant_key`,
      params,
    );
    for (const r of rows) out.set(r.grant_key, r.grant_id);
  }
  return out;
}

/** An entry to write: the ledger's entry plus its key and references. */
export interface EntryWrite {
  customerId: number;
  key: string;
  entry: Entry;
  points: number;
  orderId?: number | null;
  redemptionId?: number | null;
  reason?: string | null;
  occurredAt: Date;
  createdBy?: string | null;
}

/**
 * Writes entries and their allocations, the grants' new remaining and status, and the members' totals.
 * An entry key written before aborts the transaction (the unique key is the last guard of
 * exactly-once). Returns the entry ids by key.
 */
export async function writeLedger(
  tx: Queryable,
  dialect: Dialect,
  writes: readonly EntryWrite[],
  grants: readonly { id: number; remaining: number; status: GrantStatus }[],
  members: readonly { customerId: number; totals: MemberTotals }[],
  now: Date,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (let i = 0; i < writes.length; i += 500) {
    const chunk = writes.slice(i, i + 500);
    const params: SqlValue[] = [now];
    const values = valuesList(
      params,
      [
        'bigint',
        'text',
        'text',
        'bigint',
        'bigint',
        'bigint',
        'bigint',
        'bigint',
        'bigint',
        'text',
        'timestamp',
        'text',
      ],
      chunk.map((w) => [
        w.customerId,
        w.key,
        w.entry.type,
        w.points,
        w.entry.pendingDelta,
        w.entry.availableDelta,
        w.entry.grantId,
        w.orderId ?? null,
        w.redemptionId ?? null,
        w.reason ?? null,
        w.occurredAt,
        w.createdBy ?? null,
      ]),
    );
    const rows = await tx.query<{ entry_id: number; entry_key: string }>(
      `INSERT INTO loyalty_entries (customer_id, entry_key, type, points, pending_delta, available_delta, grant_id,
         order_id, redemption_id, reason, occurred_at, created_by, created_at)
       SELECT v.c, v.k, v.t, v.p, v.pd, v.ad, v.g, v.o, v.r, v.why, v.occ, v.who, $1::timestamp
       FROM (VALUES ${values}) AS v(c, k, t, p, pd, ad, g, o, r, why, occ, who)
       RETURNING entry_id, entry_key`,
      params,
    );
    for (const r of rows) ids.set(r.entry_key, r.entry_id);
  }
  const allocations: SqlValue[][] = [];
  for (const w of writes) {
    const id = ids.get(w.key);
    if (id === undefined) throw new Error(`entry ${w.key} was not written`);
    for (const a of w.entry.allocations) allocations.push([id, a.grantId, w.customerId, a.points]);
  }
  for (let i = 0; i < allocations.length; i += 1000) {
    const params: SqlValue[] = [];
    const values = valuesList(
      params,
      ['bigint', 'bigint', 'bigint', 'bigint'],
      allocations.slice(i, i + 1000),
    );
    await tx.exec(
      `INSERT INTO loyalty_allocations (entry_id, grant_id, customer_id, points)
       SELECT v.e, v.g, v.c, v.p FROM (VALUES ${values}) AS v(e, g, c, p)`,
      params,
    );
  }
  for (let i = 0; i < grants.length; i += 1000) {
    const params: SqlValue[] = [];
    const values = valuesList(
      params,
      ['bigint', 'bigint', 'text'],
      grants.slice(i, i + 1000).map((g) => [g.id, g.remaining, g.status]),
    );
    await tx.exec(
      `UPDATE loyalty_grants SET remaining = v.v_remaining, status = v.v_status
       ${dialect.updateFromValues('loyalty_grants', 'grant_id', values, ['v_id', 'v_remaining', 'v_status'], 'v_id')}`,
      params,
    );
  }
  for (let i = 0; i < members.length; i += 1000) {
    const params: SqlValue[] = [];
    const values = valuesList(
      params,
      ['bigint', 'bigint', 'bigint', 'bigint'],
      members
        .slice(i, i + 1000)
        .map((m) => [m.customerId, m.totals.available, m.totals.pending, m.totals.debt]),
    );
    await tx.exec(
      `UPDATE loyalty_members SET available = v.v_available, pending = v.v_pending, debt = v.v_debt
       ${dialect.updateFromValues('loyalty_members', 'customer_id', values, ['v_id', 'v_available', 'v_pending', 'v_debt'], 'v_id')}`,
      params,
    );
  }
  return ids;
}

// ---- orders -----------------------------------------------------------------------------------------

export type OrderForPoints = {
  order_id: number;
  external_id: string;
  customer_id: number | null;
  ordered_at: Date;
  currency: string;
  status: string;
  discount_minor: number;
  total_minor: number;
};

export async function ordersById(db: Queryable, ids: readonly number[]): Promise<OrderForPoints[]> {
  return byChunks(ids, (list, params) =>
    db.query<OrderForPoints>(
      `SELECT order_id, external_id, customer_id, ordered_at, currency, status, discount_minor, total_minor
       FROM orders WHERE order_id IN (${list})`,
      params,
    ),
  );
}

export async function orderLines(
  db: Queryable,
  orderIds: readonly number[],
): Promise<Map<number, { sku: string | null; category: string | null; totalMinor: number }[]>> {
  const out = new Map<number, { sku: string | null; category: string | null; totalMinor: number }[]>();
  const rows = await byChunks(orderIds, (list, params) =>
    db.query<{ order_id: number; sku: string | null; category: string | null; line_total_minor: number }>(
      `SELECT l.order_id, l.sku, p.category, l.line_total_minor FROM order_lines l
       LEFT JOIN products p ON p.sku = l.sku WHERE l.order_id IN (${list}) ORDER BY l.order_id, l.line_no`,
      params,
    ),
  );
  for (const r of rows) {
    const lines = out.get(r.order_id) ?? [];
    lines.push({ sku: r.sku, category: r.category, totalMinor: r.line_total_minor });
    out.set(r.order_id, lines);
  }
  return out;
}

export async function orderByExternalId(db: Queryable, externalId: string): Promise<OrderForPoints | null> {
  const rows = await db.query<OrderForPoints>(
    `SELECT order_id, external_id, customer_id, ordered_at, currency, status, discount_minor, total_minor
     FROM orders WHERE external_id = $1`,
    [externalId],
  );
  return rows[0] ?? null;
}

/** The order grants of these orders, with what clawbacks already targeted. */
export async function orderGrants(
  db: Queryable,
  orderIds: readonly number[],
): Promise<
  Map<number, { grantId: number; customerId: number; points: number; baseMinor: number; clawed: number }>
> {
  const rows = await byChunks(orderIds, (list, params) =>
    db.query<{
      order_id: number;
      grant_id: number;
      customer_id: number;
      points: number;
      base_minor: number | null;
      clawed: number | null;
    }>(
      `SELECT g.order_id, g.grant_id, g.customer_id, g.points, g.base_minor,
         (SELECT SUM(e.points) FROM loyalty_entries e WHERE e.grant_id = g.grant_id AND e.type = 'clawback') AS clawed
       FROM loyalty_grants g WHERE g.kind = 'order' AND g.order_id IN (${list})`,
      params,
    ),
  );
  return new Map(
    rows.map((r) => [
      r.order_id,
      {
        grantId: r.grant_id,
        customerId: r.customer_id,
        points: r.points,
        baseMinor: r.base_minor ?? 0,
        clawed: r.clawed ?? 0,
      },
    ]),
  );
}

/** Of these grants, the order grants whose order is no longer a sale (cancelled, failed, unpaid). */
export async function cancelledOrderGrants(
  db: Queryable,
  grantIds: readonly number[],
): Promise<{ grantId: number; customerId: number; orderId: number; status: string }[]> {
  const rows = await byChunks(grantIds, (list, params) =>
    db.query<{ grant_id: number; customer_id: number; order_id: number; status: string }>(
      `SELECT g.grant_id, g.customer_id, g.order_id, o.status FROM loyalty_grants g JOIN orders o ON o.order_id = g.order_id
       WHERE g.grant_id IN (${list}) AND o.status NOT IN ('paid', 'pending', 'refunded', 'partially_refunded')`,
      params,
    ),
  );
  return rows.map((r) => ({
    grantId: r.grant_id,
    customerId: r.customer_id,
    orderId: r.order_id,
    status: r.status,
  }));
}

/** Refunded so far per order (every refund of it recorded). */
export async function refundedTotals(
  db: Queryable,
  orderIds: readonly number[],
): Promise<Map<number, number>> {
  const rows = await byChunks(orderIds, (list, params) =>
    db.query<{ order_id: number; refunded: number }>(
      `SELECT order_id, SUM(amount_minor) AS refunded FROM refunds WHERE order_id IN (${list}) GROUP BY order_id`,
      params,
    ),
  );
  return new Map(rows.map((r) => [r.order_id, r.refunded]));
}

// ---- tiers ------------------------------------------------------------------------------------------

/**
 * The tier basis of customer `c` over `(from, to]` as one SQL expression: net spend (orders in `cur`
 * that count as sales, minus refunds in the window) or points earned (grants earned in the window
 * minus clawbacks). The arguments are SQL expressions.
 */
function basisSql(basis: 'spend' | 'points', c: string, from: string, to: string, cur: string): string {
  return basis === 'spend'
    ? `COALESCE((SELECT SUM(x.total_minor) FROM orders x WHERE x.customer_id = ${c} AND x.currency = ${cur}
         AND x.status IN ('paid', 'pending', 'refunded', 'partially_refunded')
         AND x.ordered_at > ${from} AND x.ordered_at <= ${to}), 0)
     - COALESCE((SELECT SUM(r.amount_minor) FROM refunds r WHERE r.customer_id = ${c} AND r.currency = ${cur}
         AND r.refunded_at > ${from} AND r.refunded_at <= ${to}), 0)`
    : `COALESCE((SELECT SUM(g.points) FROM loyalty_grants g WHERE g.customer_id = ${c}
         AND g.earned_at > ${from} AND g.earned_at <= ${to}), 0)
     - COALESCE((SELECT SUM(e.points) FROM loyalty_entries e WHERE e.customer_id = ${c} AND e.type = 'clawback'
         AND e.occurred_at > ${from} AND e.occurred_at <= ${to}), 0)`;
}

/** The tier basis over `(from, to]` of every member, or of `customerIds`. */
export async function tierBasis(
  db: Queryable,
  o: { basis: 'spend' | 'points'; currency: string; from: Date; to: Date; customerIds?: readonly number[] },
): Promise<Map<number, number>> {
  // The currency is a parameter only where the expression uses it (an unused one has no type on Postgres).
  const params: SqlValue[] = o.basis === 'spend' ? [o.from, o.to, o.currency] : [o.from, o.to];
  let only = '';
  if (o.customerIds) {
    if (o.customerIds.length === 0) return new Map();
    only = `AND m.customer_id IN (${o.customerIds.map((id) => (params.push(id), `$${params.length}`)).join(', ')})`;
  }
  const rows = await db.query<{ customer_id: number; value: number }>(
    `SELECT m.customer_id, ${basisSql(o.basis, 'm.customer_id', '$1::timestamp', '$2::timestamp', 'CAST($3 AS TEXT)')} AS value
     FROM loyalty_members m WHERE 1 = 1 ${only}`,
    params,
  );
  return new Map(rows.map((r) => [r.customer_id, Math.max(0, r.value)]));
}

/**
 * The tier basis of each member over their own window `(from, to]` (an order batch: each member as of
 * their latest order in it), one statement.
 */
export async function tierBasisWindows(
  db: Queryable,
  o: {
    basis: 'spend' | 'points';
    currency: string;
    windows: readonly { customerId: number; from: Date; to: Date }[];
  },
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < o.windows.length; i += 500) {
    const params: SqlValue[] = o.basis === 'spend' ? [o.currency] : [];
    const values = valuesList(
      params,
      ['bigint', 'timestamp', 'timestamp'],
      o.windows.slice(i, i + 500).map((w) => [w.customerId, w.from, w.to]),
    );
    const rows = await db.query<{ customer_id: number; value: number }>(
      `SELECT v.c AS customer_id, ${basisSql(o.basis, 'v.c', 'v.f', 'v.t', 'CAST($1 AS TEXT)')} AS value
       FROM (VALUES ${values}) AS v(c, f, t)`,
      params,
    );
    for (const r of rows) out.set(r.customer_id, Math.max(0, r.value));
  }
  return out;
}

export async function setTier(
  tx: Queryable,
  c: {
    customerId: number;
    from: string | null;
    to: string | null;
    at: Date;
    basisValue: number;
    reason: string;
  },
): Promise<void> {
  await tx.exec(
    `UPDATE loyalty_members SET tier = $2, tier_since = $3::timestamp, downgrade_at = NULL WHERE customer_id = $1`,
    [c.customerId, c.to, c.at],
  );
  await tx.exec(
    `INSERT INTO loyalty_tier_history (customer_id, changed_at, from_tier, to_tier, basis_value, reason)
     VALUES ($1, $2::timestamp, $3, $4, $5, $6)`,
    [c.customerId, c.at, c.from, c.to, c.basisValue, c.reason],
  );
}

export async function setDowngradeAt(tx: Queryable, customerId: number, at: Date | null): Promise<void> {
  await tx.exec(`UPDATE loyalty_members SET downgrade_at = $2::timestamp WHERE customer_id = $1`, [
    customerId,
    at,
  ]);
}

export async function tierHistory(db: Queryable, customerId: number) {
  return db.query<{
    changed_at: Date;
    from_tier: string | null;
    to_tier: string | null;
    basis_value: number;
    reason: string;
  }>(
    `SELECT changed_at, from_tier, to_tier, basis_value, reason FROM loyalty_tier_history WHERE customer_id = $1
     ORDER BY change_id`,
    [customerId],
  );
}

// ---- redemptions ------------------------------------------------------------------------------------

export type RedemptionRow = {
  redemption_id: number;
  customer_id: number;
  external_id: string;
  idempotency_key: string;
  kind: 'code' | 'order';
  points: number;
  value_minor: number;
  currency: string;
  code: string | null;
  order_ref: string | null;
  status: 'active' | 'reversed';
  created_at: Date;
  expires_at: Date | null;
  reversed_at: Date | null;
};

const REDEMPTION_COLUMNS = `r.redemption_id, r.customer_id, c.external_id, r.idempotency_key, r.kind, r.points, r.value_minor,
  r.currency, r.code, r.order_ref, r.status, r.created_at, r.expires_at, r.reversed_at`;

/** Inserts the redemption unless the member used the key before; its id, or null for a repeat. */
export async function insertRedemption(
  tx: Queryable,
  r: {
    customerId: number;
    key: string;
    kind: 'code' | 'order';
    points: number;
    valueMinor: number;
    currency: string;
    code: string | null;
    orderRef: string | null;
    now: Date;
    expiresAt: Date | null;
  },
): Promise<number | null> {
  const rows = await tx.query<{ redemption_id: number }>(
    `INSERT INTO loyalty_redemptions (customer_id, idempotency_key, kind, points, value_minor, currency, code, order_ref,
       status, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9::timestamp, $10::timestamp)
     ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING redemption_id`,
    [r.customerId, r.key, r.kind, r.points, r.valueMinor, r.currency, r.code, r.orderRef, r.now, r.expiresAt],
  );
  return rows[0]?.redemption_id ?? null;
}

export async function redemptionByKey(
  db: Queryable,
  customerId: number,
  key: string,
): Promise<RedemptionRow | null> {
  const rows = await db.query<RedemptionRow>(
    `SELECT ${REDEMPTION_COLUMNS} FROM loyalty_redemptions r JOIN customers c ON c.customer_id = r.customer_id
     WHERE r.customer_id = $1 AND r.idempotency_key = $2`,
    [customerId, key],
  );
  return rows[0] ?? null;
}

export async function redemptionById(db: Queryable, id: number): Promise<RedemptionRow | null> {
  const rows = await db.query<RedemptionRow>(
    `SELECT ${REDEMPTION_COLUMNS} FROM loyalty_redemptions r JOIN customers c ON c.customer_id = r.customer_id
     WHERE r.redemption_id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export async function redemptionsOf(
  db: Queryable,
  customerId: number,
  limit: number,
): Promise<RedemptionRow[]> {
  return db.query<RedemptionRow>(
    `SELECT ${REDEMPTION_COLUMNS} FROM loyalty_redemptions r JOIN customers c ON c.customer_id = r.customer_id
     WHERE r.customer_id = $1 ORDER BY r.redemption_id DESC LIMIT $2`,
    [customerId, limit],
  );
}

export async function redemptionsOfOrder(db: Queryable, orderRef: string): Promise<RedemptionRow[]> {
  return db.query<RedemptionRow>(
    `SELECT ${REDEMPTION_COLUMNS} FROM loyalty_redemptions r JOIN customers c ON c.customer_id = r.customer_id
     WHERE r.order_ref = $1 AND r.status = 'active'`,
    [orderRef],
  );
}

/** The id of the entry written under `key`, or null. */
export async function entryIdByKey(db: Queryable, key: string): Promise<number | null> {
  const rows = await db.query<{ entry_id: number }>(
    `SELECT entry_id FROM loyalty_entries WHERE entry_key = $1`,
    [key],
  );
  return rows[0]?.entry_id ?? null;
}

/** Marks an active redemption reversed; false when it was not active (reversed before). */
export async function markReversed(tx: Queryable, id: number, now: Date, reason: string): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE loyalty_redemptions SET status = 'reversed', reversed_at = $2::timestamp, reverse_reason = $3
     WHERE redemption_id = $1 AND status = 'active' RETURNING redemption_id`,
    [id, now, reason],
  );
  return rows.length === 1;
}

export async function allocationsOf(
  db: Queryable,
  entryId: number,
): Promise<{ grantId: number; points: number }[]> {
  const rows = await db.query<{ grant_id: number; points: number }>(
    `SELECT grant_id, points FROM loyalty_allocations WHERE entry_id = $1 ORDER BY grant_id`,
    [entryId],
  );
  return rows.map((r) => ({ grantId: r.grant_id, points: r.points }));
}

// ---- reads ------------------------------------------------------------------------------------------

export async function entriesOf(db: Queryable, customerId: number, beforeId: number, limit: number) {
  return db.query<{
    entry_id: number;
    type: string;
    points: number;
    pending_delta: number;
    available_delta: number;
    order_external_id: string | null;
    redemption_id: number | null;
    reason: string | null;
    occurred_at: Date;
    created_by: string | null;
  }>(
    `SELECT e.entry_id, e.type, e.points, e.pending_delta, e.available_delta, o.external_id AS order_external_id,
       e.redemption_id, e.reason, e.occurred_at, e.created_by
     FROM loyalty_entries e LEFT JOIN orders o ON o.order_id = e.order_id
     WHERE e.customer_id = $1 AND e.entry_id < $2 ORDER BY e.entry_id DESC LIMIT $3`,
    [customerId, beforeId, limit],
  );
}

/** Available points expiring by `until`, grouped by expiry instant. */
export async function expiringOf(db: Queryable, customerId: number, until: Date) {
  return db.query<{ expires_at: Date; points: number }>(
    `SELECT expires_at, SUM(remaining) AS points FROM loyalty_grants
     WHERE customer_id = $1 AND status = 'available' AND remaining > 0 AND expires_at <= $2::timestamp
     GROUP BY expires_at ORDER BY expires_at`,
    [customerId, until],
  );
}

export async function grantCountForAction(
  db: Queryable,
  customerId: number,
  prefix: string,
): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM loyalty_grants WHERE customer_id = $1 AND kind = 'action' AND grant_key LIKE $2`,
    [customerId, `${prefix}%`],
  );
  return rows[0]?.n ?? 0;
}

// ---- the schedule's sweeps ------------------------------------------------------------------------

/** Members with a grant due (pending past `available_at`, or points left past `expires_at`) at `now`. */
export async function membersDue(db: Queryable, now: Date, limit: number): Promise<number[]> {
  const rows = await db.query<{ customer_id: number }>(
    `SELECT DISTINCT customer_id FROM loyalty_grants
     WHERE (status = 'pending' AND available_at <= $1::timestamp)
        OR (status = 'available' AND remaining > 0 AND expires_at <= $1::timestamp)
     ORDER BY customer_id LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => r.customer_id);
}

/** Members with a birthday and their zone (the customer's, else null). */
export async function membersWithBirthday(db: Queryable) {
  return db.query<{ customer_id: number; external_id: string; birthday: Date; time_zone: string | null }>(
    `SELECT m.customer_id, c.external_id, c.birthday, c.time_zone FROM loyalty_members m
     JOIN customers c ON c.customer_id = m.customer_id
     WHERE c.birthday IS NOT NULL AND c.erased_at IS NULL`,
  );
}

export async function existingGrantKeys(db: Queryable, keys: readonly string[]): Promise<Set<string>> {
  const rows = await byChunks(keys, (list, params) =>
    db.query<{ grant_key: string }>(
      `SELECT grant_key FROM loyalty_grants WHERE grant_key IN (${list})`,
      params,
    ),
  );
  return new Set(rows.map((r) => r.grant_key));
}

/** Available points expiring in `(now, until]`, per member and expiry day (UTC date). */
export async function expiringSoon(db: Queryable, now: Date, until: Date) {
  return db.query<{ customer_id: number; external_id: string; expires_at: Date; points: number }>(
    `SELECT g.customer_id, c.external_id, MIN(g.expires_at) AS expires_at, SUM(g.remaining) AS points
     FROM loyalty_grants g JOIN customers c ON c.customer_id = g.customer_id
     WHERE g.status = 'available' AND g.remaining > 0 AND g.expires_at > $1::timestamp AND g.expires_at <= $2::timestamp
     GROUP BY g.customer_id, c.external_id, CAST(g.expires_at AS DATE)`,
    [now, until],
  );
}

/** Records notices by key; returns the keys that were new. */
export async function insertNotices(
  tx: Queryable,
  notices: readonly { key: string; customerId: number; points: number; expiresAt: Date }[],
  now: Date,
): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < notices.length; i += 500) {
    const params: SqlValue[] = [now];
    const values = valuesList(
      params,
      ['text', 'bigint', 'bigint', 'timestamp'],
      notices.slice(i, i + 500).map((n) => [n.key, n.customerId, n.points, n.expiresAt]),
    );
    const rows = await tx.query<{ notice_key: string }>(
      `INSERT INTO loyalty_notices (notice_key, customer_id, points, expires_at, created_at)
       SELECT v.k, v.c, v.p, v.x, $1::timestamp FROM (VALUES ${values}) AS v(k, c, p, x)
       ON CONFLICT (notice_key) DO NOTHING RETURNING notice_key`,
      params,
    );
    for (const r of rows) out.add(r.notice_key);
  }
  return out;
}

/** Members' current tiers: all of them, or those of `ids`. */
export async function membersForTiers(db: Queryable, ids?: readonly number[]) {
  type Row = { customer_id: number; external_id: string; tier: string | null; downgrade_at: Date | null };
  const sql = `SELECT m.customer_id, c.external_id, m.tier, m.downgrade_at FROM loyalty_members m
     JOIN customers c ON c.customer_id = m.customer_id`;
  if (!ids) return db.query<Row>(`${sql} ORDER BY m.customer_id`);
  return byChunks(ids, (list, params) => db.query<Row>(`${sql} WHERE m.customer_id IN (${list})`, params));
}

// ---- customers' erasure and merge -------------------------------------------------------------

const LOYALTY_TABLES = [
  'loyalty_allocations',
  'loyalty_entries',
  'loyalty_grants',
  'loyalty_redemptions',
  'loyalty_tier_history',
  'loyalty_notices',
  'loyalty_members',
] as const;

/** Erasure forfeits the membership: its rows go (the liability falls by the member's points). */
export async function eraseCustomerLoyalty(tx: Queryable, customerId: number): Promise<void> {
  for (const t of LOYALTY_TABLES) await tx.exec(`DELETE FROM ${t} WHERE customer_id = $1`, [customerId]);
}

/**
 * A merge moves the merged customers' grants, entries, allocations, redemptions, history and notices
 * to the survivor and adds their totals to its membership (made from the first merged membership when
 * the survivor had none; the survivor's card number wins).
 */
export async function mergeCustomerLoyalty(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  if (fromIds.length === 0) return;
  const params: SqlValue[] = [intoId];
  const list = fromIds.map((id) => (params.push(id), `$${params.length}`)).join(', ');
  type Merged = {
    customer_id: number;
    card_number: string;
    enrolled_at: Date;
    source: string;
    tier: string | null;
    tier_since: Date | null;
    available: number;
    pending: number;
    debt: number;
  };
  const merged = await tx.query<Merged>(
    `SELECT customer_id, card_number, enrolled_at, source, tier, tier_since, available, pending, debt
     FROM loyalty_members WHERE customer_id IN (${fromIds.map((_, i) => `$${i + 1}`).join(', ')})
     ORDER BY enrolled_at, customer_id`,
    [...fromIds],
  );
  for (const t of LOYALTY_TABLES.filter((t) => t !== 'loyalty_members'))
    await tx.exec(`UPDATE ${t} SET customer_id = $1 WHERE customer_id IN (${list})`, params);
  if (merged.length === 0) return;
  const sum = merged.reduce(
    (s, m) => ({
      available: s.available + m.available,
      pending: s.pending + m.pending,
      debt: s.debt + m.debt,
    }),
    {
      available: 0,
      pending: 0,
      debt: 0,
    },
  );
  await tx.exec(`DELETE FROM loyalty_members WHERE customer_id IN (${list})`, params);
  const first = merged[0]!;
  const updated = await tx.query(
    `UPDATE loyalty_members SET available = available + $2, pending = pending + $3, debt = debt + $4,
       enrolled_at = LEAST(enrolled_at, $5::timestamp) WHERE customer_id = $1 RETURNING customer_id`,
    [intoId, sum.available, sum.pending, sum.debt, first.enrolled_at],
  );
  if (updated.length === 0)
    await tx.exec(
      `INSERT INTO loyalty_members (customer_id, card_number, enrolled_at, source, tier, tier_since, available, pending, debt, updated_at)
       VALUES ($1, $2, $3::timestamp, $4, $5, $6::timestamp, $7, $8, $9, $3::timestamp)`,
      [
        intoId,
        first.card_number,
        first.enrolled_at,
        first.source,
        first.tier,
        first.tier_since,
        sum.available,
        sum.pending,
        sum.debt,
      ],
    );
}

// ---- the customer timeline ----------------------------------------------------------------------------

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/**
 * Timeline source: the customer's points ledger (`points`: earn, release, redeem, reverse, expire,
 * adjust, clawback — the points, how available and pending moved, the order, the reason) and tier
 * changes (`tier`: from, to, why).
 */
export async function loyaltyTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const parts: Record<string, string> = {
    points: `SELECT 'points' AS kind, e.entry_id AS id, e.occurred_at AS at, e.type AS detail, e.points,
        e.pending_delta, e.available_delta, o.external_id AS order_ref, e.reason, e.created_by,
        CAST(NULL AS TEXT) AS from_tier, CAST(NULL AS TEXT) AS to_tier
      FROM loyalty_entries e LEFT JOIN orders o ON o.order_id = e.order_id WHERE e.customer_id = $1`,
    tier: `SELECT 'tier' AS kind, h.change_id AS id, h.changed_at AS at, h.reason AS detail,
        CAST(NULL AS BIGINT) AS points, CAST(NULL AS BIGINT) AS pending_delta, CAST(NULL AS BIGINT) AS available_delta,
        CAST(NULL AS TEXT) AS order_ref, h.reason, CAST(NULL AS TEXT) AS created_by, h.from_tier, h.to_tier
      FROM loyalty_tier_history h WHERE h.customer_id = $1`,
  };
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    kind: 'points' | 'tier';
    id: number;
    at: Date;
    detail: string;
    points: number | null;
    pending_delta: number | null;
    available_delta: number | null;
    order_ref: string | null;
    reason: string | null;
    created_by: string | null;
    from_tier: string | null;
    to_tier: string | null;
  }>(
    `SELECT * FROM (${q.kinds
      .filter((k) => k in parts)
      .map((k) => parts[k])
      .join(' UNION ALL ')}) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => {
    if (r.kind === 'tier')
      return {
        at: r.at,
        kind: r.kind,
        ref: String(r.id),
        title: `tier ${r.from_tier ?? 'none'} → ${r.to_tier ?? 'none'} (${r.reason ?? ''})`,
        detail: r.reason,
        properties: { from: r.from_tier, to: r.to_tier, reason: r.reason },
      };
    const moved = [
      r.available_delta ? `${signed(r.available_delta)} available` : '',
      r.pending_delta ? `${signed(r.pending_delta)} pending` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return {
      at: r.at,
      kind: r.kind,
      ref: String(r.id),
      title: `points ${r.detail}: ${r.points ?? 0}${moved ? ` (${moved})` : ''}${r.order_ref ? `, order ${r.order_ref}` : ''}${r.reason ? ` — ${r.reason}` : ''}`,
      detail: r.detail,
      properties: {
        type: r.detail,
        points: r.points,
        availableDelta: r.available_delta,
        pendingDelta: r.pending_delta,
        order: r.order_ref,
        reason: r.reason,
        by: r.created_by,
      },
    };
  });
}
