import { sqlIds } from '../../kit/customerHooks.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import { consentGrantedSql, FIELD_SQL, SEGMENT_BASE, SEGMENT_FROM, type Compiled } from './sql.js';

/** The SQL of audience exports (docs/segments.md#audiences): who goes in a file, and the export history. */

/**
 * The columns a plain export may hold, with their SQL over `customers c LEFT JOIN customer_scores s`
 * (scores as of their last refresh, like the rules read them).
 */
export const PLAIN_COLUMNS = {
  id: 'c.external_id',
  email: FIELD_SQL.email,
  phone: FIELD_SQL.phone,
  first_name: 'c.first_name',
  last_name: 'c.last_name',
  country: FIELD_SQL.country,
  locale: FIELD_SQL.locale,
  acquisition_channel: FIELD_SQL.acquisition_channel,
  birthday: 'c.birthday',
  created_at: FIELD_SQL.created_at,
  orders: FIELD_SQL.orders,
  revenue_minor: FIELD_SQL.revenue_minor,
  aov_minor: FIELD_SQL.aov_minor,
  first_order_at: FIELD_SQL.first_order_at,
  last_order_at: FIELD_SQL.last_order_at,
  favourite_category: FIELD_SQL.favourite_category,
  rfm_segment: FIELD_SQL.rfm_segment,
  rfm_r: FIELD_SQL.rfm_r,
  rfm_f: FIELD_SQL.rfm_f,
  rfm_m: FIELD_SQL.rfm_m,
  p_alive: FIELD_SQL.p_alive,
  expected_purchases: FIELD_SQL.expected_purchases,
  clv_minor: FIELD_SQL.clv_minor,
  clv_decile: FIELD_SQL.clv_decile,
  next_order_at: FIELD_SQL.next_order_at,
} as const;
export type PlainColumn = keyof typeof PLAIN_COLUMNS;

/** One customer's row: internal id, contact fields, and the chosen plain columns (`col_<name>`). */
export type AudienceRow = {
  customer_id: number;
  email: string | null;
  phone: string | null;
  erased_at: Date | null;
} & Record<string, SqlValue>;

const selectList = (columns: readonly PlainColumn[]) =>
  [
    'c.customer_id',
    'c.email',
    'c.phone',
    'c.erased_at',
    ...columns.map((k) => `${PLAIN_COLUMNS[k]} AS col_${k}`),
  ].join(', ');

const ADS_GRANTED = consentGrantedSql('ads');

/**
 * The members of `rule` in customer order — with `adsOnly`, only those whose `ads` consent is
 * granted and who have an email or a phone (the hashed audience's candidates).
 */
export async function audienceRows(
  db: Queryable,
  rule: Compiled,
  o: { adsOnly: boolean; columns: readonly PlainColumn[] },
): Promise<AudienceRow[]> {
  return db.query<AudienceRow>(
    `SELECT ${selectList(o.columns)} FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${rule.where}
     ${o.adsOnly ? `AND ${ADS_GRANTED} AND (c.email IS NOT NULL OR c.phone IS NOT NULL)` : ''}
     ORDER BY c.customer_id`,
    rule.params,
  );
}

// --- export history -------------------------------------------------------------------------------

export type ExportRow = {
  export_id: number;
  segment: string;
  kind: string;
  columns: string | null;
  as_of: Date;
  created_at: Date;
  created_by: string | null;
  members: number;
  exported: number;
  previous_export_id: number | null;
  added: number | null;
  removed: number | null;
};

const EXPORT_COLUMNS = `export_id, segment, kind, columns, as_of, created_at, created_by, members, exported,
  previous_export_id, added, removed`;

/** The latest export of `segment` of this `kind`, or null. */
export async function latestExport(db: Queryable, segment: string, kind: string): Promise<ExportRow | null> {
  const [r] = await db.query<ExportRow>(
    `SELECT ${EXPORT_COLUMNS} FROM audience_exports WHERE segment = $1 AND kind = $2
     ORDER BY export_id DESC LIMIT 1`,
    [segment, kind],
  );
  return r ?? null;
}

/** A segment's exports, newest first (at most `limit`). */
export async function listExports(db: Queryable, segment: string, limit: number): Promise<ExportRow[]> {
  return db.query<ExportRow>(
    `SELECT ${EXPORT_COLUMNS} FROM audience_exports WHERE segment = $1
     ORDER BY export_id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    [segment],
  );
}

/** The customers an export held (those not erased since), in order. */
export async function exportMemberIds(db: Queryable, exportId: number): Promise<number[]> {
  const rows = await db.query<{ customer_id: number }>(
    `SELECT customer_id FROM audience_export_members WHERE export_id = $1 ORDER BY customer_id`,
    [exportId],
  );
  return rows.map((r) => r.customer_id);
}

/** Records an export and its members (in the caller's transaction); returns the export row. */
export async function insertExport(
  tx: Queryable,
  e: Omit<ExportRow, 'export_id'>,
  customerIds: readonly number[],
): Promise<ExportRow> {
  const [row] = await tx.query<ExportRow>(
    `INSERT INTO audience_exports (segment, kind, columns, as_of, created_at, created_by, members, exported,
       previous_export_id, added, removed)
     VALUES ($1, $2, $3, $4::timestamp, $5::timestamp, $6, $7, $8, $9, $10, $11) RETURNING ${EXPORT_COLUMNS}`,
    [
      e.segment,
      e.kind,
      e.columns,
      e.as_of,
      e.created_at,
      e.created_by,
      e.members,
      e.exported,
      e.previous_export_id,
      e.added,
      e.removed,
    ],
  );
  if (customerIds.length > 0)
    await tx.copyRows(
      'audience_export_members',
      ['export_id', 'customer_id'],
      customerIds.map((id) => [row!.export_id, id]),
    );
  return row!;
}

/** Customers by internal id as they are now (contact fields and the chosen columns), in order. */
export async function customersNow(
  db: Queryable,
  ids: readonly number[],
  columns: readonly PlainColumn[],
): Promise<AudienceRow[]> {
  const out: AudienceRow[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    out.push(
      ...(await db.query<AudienceRow>(
        `SELECT ${selectList(columns)} FROM ${SEGMENT_FROM} WHERE c.customer_id IN (${sqlIds(chunk)})
         ORDER BY c.customer_id`,
      )),
    );
  }
  return out;
}

// --- customer hooks -------------------------------------------------------------------------------

/** Erasure: the customer leaves every export's history (removals then count them, unnamed). */
export async function eraseCustomerAudiences(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`DELETE FROM audience_export_members WHERE customer_id = $1`, [customerId]);
}

/** Merge: the merged customers' export memberships become the survivor's (once per export). */
export async function mergeCustomerAudiences(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  const from = sqlIds(fromIds);
  await tx.exec(
    `INSERT INTO audience_export_members (export_id, customer_id)
     SELECT export_id, CAST($1 AS BIGINT) FROM audience_export_members WHERE customer_id IN (${from})
     GROUP BY export_id
     ON CONFLICT DO NOTHING`,
    [intoId],
  );
  await tx.exec(`DELETE FROM audience_export_members WHERE customer_id IN (${from})`);
}
