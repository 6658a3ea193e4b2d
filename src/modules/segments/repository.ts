import { sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import type { Dialect } from '../../storage/port.js';
import { recordFrom } from '../outbox/repository.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import { REFUNDS_BY_ORDER_CTE, SALE_ORDERS_CTE } from '../reports/repository.js';
import { consentGrantedSql, SEGMENT_BASE, SEGMENT_FROM, type Compiled } from './sql.js';

/** The SQL of segments: stored scores, saved definitions, tags, and the one statement per question. */

export type ScoreInputRow = {
  customer_id: number;
  first_at: Date;
  last_at: Date;
  orders: number;
  net_minor: number;
  favourite_category: string | null;
};

/**
 * Per customer with a sale before `now` in `currency`: first and last sale, number of sales, net
 * revenue (refunds attributed as the reports do) and the category with the most spend (ties: the
 * first name in order).
 */
export async function scoreInputs(db: Queryable, now: Date, currency: string): Promise<ScoreInputRow[]> {
  return db.query<ScoreInputRow>(
    `WITH ${SALE_ORDERS_CTE},
     ${REFUNDS_BY_ORDER_CTE},
     per_customer AS (
       SELECT s.customer_id, MIN(s.ordered_at) AS first_at, MAX(s.ordered_at) AS last_at, COUNT(*) AS orders,
         SUM(s.revenue_minor - CAST(COALESCE(r.refund_minor, 0) AS BIGINT)) AS net_minor
       FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
       GROUP BY s.customer_id
     ),
     category_spend AS (
       SELECT s.customer_id, p.category, SUM(l.line_total_minor) AS spend
       FROM sale s JOIN order_lines l ON l.order_id = s.order_id JOIN products p ON p.sku = l.sku
       WHERE p.category IS NOT NULL AND p.category <> ''
       GROUP BY s.customer_id, p.category
     ),
     favourite AS (
       SELECT customer_id, category FROM (
         SELECT customer_id, category,
           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) AS rn
         FROM category_spend
       ) ranked WHERE rn = 1
     )
     SELECT a.customer_id, a.first_at, a.last_at, a.orders, a.net_minor, f.category AS favourite_category
     FROM per_customer a LEFT JOIN favourite f ON f.customer_id = a.customer_id
     JOIN customers c ON c.customer_id = a.customer_id
     ORDER BY a.customer_id`,
    [now, currency],
  );
}

export type PredictionInputRow = {
  customer_id: number;
  p_alive: number;
  expected_purchases: number;
  clv_minor: number | null;
  next_order_at: Date | null;
};

/** The latest CLV run's predictions (largest as_of, then the last model version), or none. */
export async function latestPredictionInputs(db: Queryable): Promise<PredictionInputRow[]> {
  return db.query<PredictionInputRow>(
    `WITH run AS (
       SELECT model_version, as_of FROM clv_predictions ORDER BY as_of DESC, model_version DESC LIMIT 1
     )
     SELECT p.customer_id, p.p_alive, p.expected_purchases, p.clv_minor, p.next_order_at
     FROM clv_predictions p JOIN run ON run.model_version = p.model_version AND run.as_of = p.as_of
     JOIN customers c ON c.customer_id = p.customer_id
     ORDER BY p.customer_id`,
  );
}

export const SCORE_COLUMNS = [
  'customer_id',
  'orders',
  'revenue_minor',
  'aov_minor',
  'first_order_at',
  'last_order_at',
  'favourite_category',
  'rfm_r',
  'rfm_f',
  'rfm_m',
  'rfm_segment',
  'revenue_decile',
  'orders_decile',
  'tenure_decile',
  'usual_next_order_at',
  'p_alive',
  'expected_purchases',
  'clv_minor',
  'clv_decile',
  'next_order_at',
  'refreshed_at',
] as const;
export type ScoreColumn = (typeof SCORE_COLUMNS)[number];

/** Replaces every stored score (in the caller's transaction). */
export async function replaceScores(tx: Queryable, rows: readonly (readonly SqlValue[])[]): Promise<number> {
  await tx.exec(`DELETE FROM customer_scores`);
  return rows.length === 0 ? 0 : tx.copyRows('customer_scores', SCORE_COLUMNS, rows);
}

/** The categories that are customers' favourites, the most common first (ties by name). */
export async function favouriteCategories(db: Queryable, limit: number): Promise<string[]> {
  const rows = await db.query<{ category: string }>(
    `SELECT favourite_category AS category FROM customer_scores WHERE favourite_category IS NOT NULL
     GROUP BY favourite_category ORDER BY COUNT(*) DESC, favourite_category LIMIT ${Math.max(1, Math.floor(limit))}`,
  );
  return rows.map((r) => r.category);
}

export async function scoresRefreshedAt(db: Queryable): Promise<Date | null> {
  const [r] = await db.query<{ at: Date | null }>(`SELECT MAX(refreshed_at) AS at FROM customer_scores`);
  return r?.at ?? null;
}

// --- saved segments -------------------------------------------------------------------------------

export type SegmentRow = {
  segment_id: number;
  name: string;
  description: string | null;
  rule: string;
  created_at: Date;
  updated_at: Date;
  created_by: string | null;
};

const SEGMENT_COLUMNS = 'segment_id, name, description, rule, created_at, updated_at, created_by';

export async function listSegments(db: Queryable): Promise<SegmentRow[]> {
  return db.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM segments ORDER BY name`);
}

export async function segmentByName(db: Queryable, name: string): Promise<SegmentRow | null> {
  const [r] = await db.query<SegmentRow>(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE name = $1`, [name]);
  return r ?? null;
}

/** Inserts or replaces a definition by name; says whether it was new. */
export async function saveSegment(
  tx: Queryable,
  s: { name: string; description: string | null; rule: string; by: string | null },
  now: Date,
): Promise<{ row: SegmentRow; created: boolean }> {
  const updated = await tx.query<SegmentRow>(
    `UPDATE segments SET description = $2, rule = $3, updated_at = $4::timestamp WHERE name = $1
     RETURNING ${SEGMENT_COLUMNS}`,
    [s.name, s.description, s.rule, now],
  );
  if (updated[0]) return { row: updated[0], created: false };
  const [row] = await tx.query<SegmentRow>(
    `INSERT INTO segments (name, description, rule, created_at, updated_at, created_by)
     VALUES ($1, $2, $3, $4::timestamp, $4::timestamp, $5) RETURNING ${SEGMENT_COLUMNS}`,
    [s.name, s.description, s.rule, now, s.by],
  );
  return { row: row!, created: true };
}

export async function deleteSegment(tx: Queryable, id: number): Promise<void> {
  await tx.exec(`DELETE FROM segments WHERE segment_id = $1`, [id]);
}

// --- evaluating a rule ----------------------------------------------------------------------------

/** How many live customers the rule holds (one statement). */
export async function countMembers(db: Queryable, rule: Compiled): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${rule.where}`,
    rule.params,
  );
  return r?.n ?? 0;
}

export type PreviewStats = {
  members: number;
  customers: number;
  revenue_minor: number;
  store_revenue_minor: number;
  email: number;
  sms: number;
  messenger: number;
  ads: number;
};

/**
 * The preview's figures in one statement: members, all live customers, the members' net revenue and
 * the store's, and per channel the members who can be reached (consent granted and an address).
 */
export async function previewStats(db: Queryable, rule: Compiled): Promise<PreviewStats> {
  const [r] = await db.query<PreviewStats>(
    `WITH base AS (
       SELECT c.customer_id, COALESCE(s.revenue_minor, 0) AS revenue_minor, (${rule.where}) AS member,
         c.email IS NOT NULL AND ${consentGrantedSql('email')} AS email,
         c.phone IS NOT NULL AND ${consentGrantedSql('sms')} AS sms,
         EXISTS (SELECT 1 FROM messenger_chats m WHERE m.customer_id = c.customer_id) AND ${consentGrantedSql('messenger')} AS messenger,
         (c.email IS NOT NULL OR c.phone IS NOT NULL) AND ${consentGrantedSql('ads')} AS ads
       FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE}
     )
     SELECT COUNT(*) FILTER (WHERE member) AS members, COUNT(*) AS customers,
       COALESCE(SUM(revenue_minor) FILTER (WHERE member), 0) AS revenue_minor,
       COALESCE(SUM(revenue_minor), 0) AS store_revenue_minor,
       COUNT(*) FILTER (WHERE member AND email) AS email, COUNT(*) FILTER (WHERE member AND sms) AS sms,
       COUNT(*) FILTER (WHERE member AND messenger) AS messenger, COUNT(*) FILTER (WHERE member AND ads) AS ads
     FROM base`,
    rule.params,
  );
  return r!;
}

export type MemberRow = {
  customer_id: number;
  external_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  country: string | null;
  orders: number;
  revenue_minor: number;
  last_order_at: Date | null;
  rfm_segment: string | null;
  clv_minor: number | null;
};

const MEMBER_COLUMNS = `c.customer_id, c.external_id, c.email, c.first_name, c.last_name, c.country,
  COALESCE(s.orders, 0) AS orders, COALESCE(s.revenue_minor, 0) AS revenue_minor, s.last_order_at,
  s.rfm_segment, s.clv_minor`;

/** A sample of members: the highest revenue first (ties by id). */
export async function sampleMembers(db: Queryable, rule: Compiled, limit: number): Promise<MemberRow[]> {
  return db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${rule.where}
     ORDER BY COALESCE(s.revenue_minor, 0) DESC, c.customer_id LIMIT ${Math.max(0, Math.floor(limit))}`,
    rule.params,
  );
}

/** Members by internal id after `after` (keyset pages). */
export async function memberPage(
  db: Queryable,
  rule: Compiled,
  after: number,
  limit: number,
): Promise<MemberRow[]> {
  const at = rule.params.length + 1;
  return db.query<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${rule.where}
       AND c.customer_id > $${at} ORDER BY c.customer_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    [...rule.params, after],
  );
}

/** Whether one customer is a member (a flow's branch, at this moment). */
export async function isMember(db: Queryable, rule: Compiled, customerId: number): Promise<boolean> {
  const at = rule.params.length + 1;
  const rows = await db.query(
    `SELECT 1 AS one FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${rule.where} AND c.customer_id = $${at} LIMIT 1`,
    [...rule.params, customerId],
  );
  return rows.length > 0;
}

/** Every member's internal id, in order. */
export async function memberIds(db: Queryable, rule: Compiled): Promise<number[]> {
  const rows = await db.query<{ customer_id: number }>(
    `SELECT c.customer_id FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${rule.where} ORDER BY c.customer_id`,
    rule.params,
  );
  return rows.map((r) => r.customer_id);
}

// --- snapshots ----------------------------------------------------------------------------------

export type SnapshotRow = {
  snapshot_id: number;
  segment: string;
  rule: string;
  as_of: Date;
  taken_at: Date;
  members: number;
  entered: number;
  left_count: number;
};

/**
 * Takes a snapshot of `segment` in the caller's transaction: the members now (one evaluation, into a
 * temporary table), who entered and who left since the previous snapshot (`segment_changes`), the
 * membership replaced, and a `segment.entered` / `segment.left` domain event per change.
 */
export async function takeSnapshot(
  tx: Queryable,
  dialect: Dialect,
  s: { segment: string; rule: string; asOf: Date; now: Date; compiled: Compiled },
): Promise<SnapshotRow> {
  await tx.exec(`DROP TABLE IF EXISTS seg_snapshot_now`);
  await tx.exec(
    `CREATE TEMP TABLE seg_snapshot_now AS
     SELECT c.customer_id FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${s.compiled.where}`,
    s.compiled.params,
  );
  const [snap] = await tx.query<{ snapshot_id: number }>(
    `INSERT INTO segment_snapshots (segment, rule, as_of, taken_at, members, entered, left_count)
     VALUES ($1, $2, $3::timestamp, $4::timestamp, 0, 0, 0) RETURNING snapshot_id`,
    [s.segment, s.rule, s.asOf, s.now],
  );
  const id = snap!.snapshot_id;
  const entered = await tx.exec(
    `INSERT INTO segment_changes (snapshot_id, segment, customer_id, change, changed_at)
     SELECT $1, $2, n.customer_id, 'entered', $3::timestamp FROM seg_snapshot_now n
     WHERE NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment = $2 AND m.customer_id = n.customer_id)`,
    [id, s.segment, s.now],
  );
  const left = await tx.exec(
    `INSERT INTO segment_changes (snapshot_id, segment, customer_id, change, changed_at)
     SELECT $1, $2, m.customer_id, 'left', $3::timestamp FROM segment_members m
     WHERE m.segment = $2 AND NOT EXISTS (SELECT 1 FROM seg_snapshot_now n WHERE n.customer_id = m.customer_id)`,
    [id, s.segment, s.now],
  );
  if (left > 0)
    await tx.exec(
      `DELETE FROM segment_members WHERE segment = $1 AND customer_id IN
         (SELECT customer_id FROM segment_changes WHERE snapshot_id = $2 AND change = 'left')`,
      [s.segment, id],
    );
  if (entered > 0)
    await tx.exec(
      `INSERT INTO segment_members (segment, customer_id, entered_at)
       SELECT segment, customer_id, changed_at FROM segment_changes WHERE snapshot_id = $1 AND change = 'entered'`,
      [id],
    );
  for (const change of ['entered', 'left'] as const)
    if ((change === 'entered' ? entered : left) > 0)
      await recordFrom(
        tx,
        dialect,
        {
          type: `segment.${change}`,
          from: `FROM segment_changes x JOIN customers c ON c.customer_id = x.customer_id
                 WHERE x.snapshot_id = $3 AND x.change = '${change}'`,
          customerId: 'x.customer_id',
          occurredAt: 'x.changed_at',
          payload: { external_id: 'c.external_id', segment: 'x.segment', snapshot_id: 'x.snapshot_id' },
          orderBy: 'x.customer_id',
          params: [id],
        },
        s.now,
      );
  const [members] = await tx.query<{ n: number }>(`SELECT COUNT(*) AS n FROM seg_snapshot_now`);
  await tx.exec(`DROP TABLE seg_snapshot_now`);
  const [row] = await tx.query<SnapshotRow>(
    `UPDATE segment_snapshots SET members = $2, entered = $3, left_count = $4 WHERE snapshot_id = $1
     RETURNING snapshot_id, segment, rule, as_of, taken_at, members, entered, left_count`,
    [id, members!.n, entered, left],
  );
  return row!;
}

export async function snapshotsOf(db: Queryable, segment: string, limit: number): Promise<SnapshotRow[]> {
  return db.query<SnapshotRow>(
    `SELECT snapshot_id, segment, rule, as_of, taken_at, members, entered, left_count FROM segment_snapshots
     WHERE segment = $1 ORDER BY snapshot_id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    [segment],
  );
}

export async function snapshotById(db: Queryable, id: number): Promise<SnapshotRow | null> {
  const [r] = await db.query<SnapshotRow>(
    `SELECT snapshot_id, segment, rule, as_of, taken_at, members, entered, left_count FROM segment_snapshots
     WHERE snapshot_id = $1`,
    [id],
  );
  return r ?? null;
}

export type ChangeRow = { customer_id: number; external_id: string; change: string; changed_at: Date };

/** A snapshot's changes by customer, after `after` (keyset pages). */
export async function changesOf(
  db: Queryable,
  snapshotId: number,
  after: number,
  limit: number,
): Promise<ChangeRow[]> {
  return db.query<ChangeRow>(
    `SELECT x.customer_id, c.external_id, x.change, x.changed_at FROM segment_changes x
     JOIN customers c ON c.customer_id = x.customer_id
     WHERE x.snapshot_id = $1 AND x.customer_id > $2 ORDER BY x.customer_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    [snapshotId, after],
  );
}

/** A deleted segment's membership and history go with it. */
export async function dropSegmentHistory(tx: Queryable, segment: string): Promise<void> {
  for (const t of ['segment_members', 'segment_changes', 'segment_snapshots'])
    await tx.exec(`DELETE FROM ${t} WHERE segment = $1`, [segment]);
}

// --- tags -----------------------------------------------------------------------------------------

export async function tagsOf(db: Queryable, customerId: number): Promise<string[]> {
  const rows = await db.query<{ tag: string }>(
    `SELECT tag FROM customer_tags WHERE customer_id = $1 ORDER BY tag`,
    [customerId],
  );
  return rows.map((r) => r.tag);
}

export async function addTags(tx: Queryable, customerId: number, tags: readonly string[], now: Date) {
  for (const tag of tags)
    await tx.exec(
      `INSERT INTO customer_tags (customer_id, tag, created_at) VALUES ($1, $2, $3::timestamp)
       ON CONFLICT DO NOTHING`,
      [customerId, tag, now],
    );
}

export async function removeTags(tx: Queryable, customerId: number, tags: readonly string[]) {
  for (const tag of tags)
    await tx.exec(`DELETE FROM customer_tags WHERE customer_id = $1 AND tag = $2`, [customerId, tag]);
}

/**
 * Timeline source: the customer's tags (`tag.added`, at when each was added). Tags keep no history
 * here: a tag removed is gone from this source (the crm module records the additions and removals made
 * through it, with who; an addition both record is one entry, `(at, kind, ref)` being the same).
 */
export async function tagTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{ tag: string; at: Date }>(
    `SELECT * FROM (SELECT tag, created_at AS at FROM customer_tags WHERE customer_id = $1) t
     ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: 'tag.added',
    ref: r.tag,
    title: `tagged "${r.tag}"`,
    detail: r.tag,
    properties: { tag: r.tag },
  }));
}

// --- customer hooks -------------------------------------------------------------------------------

export async function eraseCustomerSegments(tx: Queryable, customerId: number): Promise<void> {
  for (const t of ['customer_scores', 'customer_tags', 'segment_members', 'segment_changes'])
    await tx.exec(`DELETE FROM ${t} WHERE customer_id = $1`, [customerId]);
}

/** Merge: tags join the survivor's; the merged customers' scores go (the next refresh recomputes). */
export async function mergeCustomerSegments(tx: Queryable, fromIds: readonly number[], intoId: number) {
  const from = sqlIds(fromIds);
  await tx.exec(
    `INSERT INTO customer_tags (customer_id, tag, created_at)
     SELECT $1, tag, MIN(created_at) FROM customer_tags WHERE customer_id IN (${from}) GROUP BY tag
     ON CONFLICT DO NOTHING`,
    [intoId],
  );
  await tx.exec(`DELETE FROM customer_tags WHERE customer_id IN (${from})`);
  await tx.exec(`DELETE FROM customer_scores WHERE customer_id IN (${from}, ${Number(intoId)})`);
  // Membership: the survivor keeps its own, else takes the earliest of the merged; history moves.
  await tx.exec(
    `INSERT INTO segment_members (segment, customer_id, entered_at)
     SELECT segment, $1, MIN(entered_at) FROM segment_members WHERE customer_id IN (${from}) GROUP BY segment
     ON CONFLICT DO NOTHING`,
    [intoId],
  );
  await tx.exec(`DELETE FROM segment_members WHERE customer_id IN (${from})`);
  await tx.exec(`UPDATE segment_changes SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
}
