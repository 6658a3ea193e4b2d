import { sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import type { Queryable, SqlValue } from '../../storage/port.js';

/** The crm module's SQL (docs/customer360.md): notes, the tag changes made here, the 360's counts. */

export interface NoteRow {
  note_id: number;
  customer_id: number;
  body: string;
  author: string;
  author_name: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const NOTE = `note_id, customer_id, body, author, author_name, created_at, updated_at, deleted_at`;

export async function insertNote(
  tx: Queryable,
  n: { customerId: number; body: string; author: string; authorName: string; now: Date },
): Promise<NoteRow> {
  const [row] = await tx.query<NoteRow & Record<string, unknown>>(
    `INSERT INTO customer_notes (customer_id, body, author, author_name, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5::timestamp, $5::timestamp) RETURNING ${NOTE}`,
    [n.customerId, n.body, n.author, n.authorName, n.now],
  );
  return row!;
}

/** A note by id, deleted or not. */
export async function noteById(db: Queryable, noteId: number): Promise<NoteRow | undefined> {
  const [row] = await db.query<NoteRow & Record<string, unknown>>(
    `SELECT ${NOTE} FROM customer_notes WHERE note_id = $1`,
    [noteId],
  );
  return row;
}

/** The customer's notes not deleted, newest first, after the note `beforeId` (keyset). */
export async function listNotes(
  db: Queryable,
  f: { customerId: number; beforeId?: number | undefined; limit: number },
): Promise<NoteRow[]> {
  const params: SqlValue[] = [f.customerId, f.limit];
  let cut = '';
  if (f.beforeId !== undefined) {
    params.push(f.beforeId);
    cut = `AND note_id < $3`;
  }
  return db.query<NoteRow & Record<string, unknown>>(
    `SELECT ${NOTE} FROM customer_notes WHERE customer_id = $1 AND deleted_at IS NULL ${cut}
     ORDER BY note_id DESC LIMIT $2`,
    params,
  );
}

/** A new body for a note not deleted; false when it is gone (deleted meanwhile). */
export async function updateNote(tx: Queryable, noteId: number, body: string, now: Date): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE customer_notes SET body = $2, updated_at = $3::timestamp
     WHERE note_id = $1 AND deleted_at IS NULL RETURNING note_id`,
    [noteId, body, now],
  );
  return rows.length === 1;
}

/** Marks a note deleted; false when it already was. */
export async function deleteNote(tx: Queryable, noteId: number, now: Date): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE customer_notes SET deleted_at = $2::timestamp, updated_at = $2::timestamp
     WHERE note_id = $1 AND deleted_at IS NULL RETURNING note_id`,
    [noteId, now],
  );
  return rows.length === 1;
}

export async function insertTagChange(
  tx: Queryable,
  c: { customerId: number; tag: string; change: 'added' | 'removed'; at: Date; by: string },
): Promise<void> {
  await tx.exec(
    `INSERT INTO customer_tag_changes (customer_id, tag, change, changed_at, changed_by)
     VALUES ($1, $2, $3, $4::timestamp, $5)`,
    [c.customerId, c.tag, c.change, c.at, c.by],
  );
}

/**
 * The customer's tasks open or in progress (the 360's header; reads the tasks module's table, as
 * loyalty reads orders).
 */
export async function openTaskCount(db: Queryable, customerId: number): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM tasks WHERE customer_id = $1 AND status IN ('open', 'in_progress')`,
    [customerId],
  );
  return Number(r?.n ?? 0);
}

/** The first line of a note, cut at 80 characters, for a title. */
function headline(body: string): string {
  const line = body.split('\n', 1)[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/**
 * Timeline source: the customer's notes (`note`, at when written; deleted ones left out) and the tags
 * added and removed through the 360 (`tag.added`, `tag.removed`, with who). A tag added here is also
 * the segments module's `tag.added` with the same `(at, kind, ref)`: the timeline shows it once.
 */
export async function crmTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const parts: string[] = [];
  if (q.kinds.includes('note'))
    parts.push(`SELECT 'note' AS kind, CAST(note_id AS TEXT) AS ref, created_at AS at, body, author, author_name,
        updated_at, CAST(NULL AS TEXT) AS tag
      FROM customer_notes WHERE customer_id = $1 AND deleted_at IS NULL`);
  const changes = q.kinds.filter((k) => k === 'tag.added' || k === 'tag.removed');
  if (changes.length)
    parts.push(`SELECT 'tag.' || change AS kind, tag AS ref, changed_at AS at, CAST(NULL AS TEXT) AS body,
        changed_by AS author, changed_by AS author_name, CAST(NULL AS TIMESTAMP) AS updated_at, tag
      FROM customer_tag_changes WHERE customer_id = $1
        AND change IN (${changes.map((k) => `'${k.slice('tag.'.length)}'`).join(', ')})`);
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    kind: string;
    ref: string;
    at: Date;
    body: string | null;
    author: string;
    author_name: string;
    updated_at: Date | null;
    tag: string | null;
  }>(`SELECT * FROM (${parts.join(' UNION ALL ')}) t ${newestFirst(q, params)}`, params);
  return rows.map((r) =>
    r.kind === 'note'
      ? {
          at: r.at,
          kind: r.kind,
          ref: r.ref,
          title: `note by ${r.author_name}: ${headline(r.body ?? '')}`,
          detail: r.author_name,
          properties: {
            note: Number(r.ref),
            body: r.body,
            author: r.author,
            authorName: r.author_name,
            updatedAt: r.updated_at?.toISOString() ?? null,
          },
        }
      : {
          at: r.at,
          kind: r.kind,
          ref: r.ref,
          title: `${r.kind === 'tag.added' ? 'tagged' : 'untagged'} "${r.tag}"`,
          detail: r.tag,
          properties: { tag: r.tag, by: r.author },
        },
  );
}

/** Erase hook: the customer's notes (they describe the person) and tag changes go. */
export async function eraseCustomerCrm(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`DELETE FROM customer_notes WHERE customer_id = $1`, [customerId]);
  await tx.exec(`DELETE FROM customer_tag_changes WHERE customer_id = $1`, [customerId]);
}

/** Merge hook: the merged customers' notes and tag changes become the survivor's. */
export async function mergeCustomerCrm(tx: Queryable, fromIds: readonly number[], intoId: number) {
  if (fromIds.length === 0) return;
  const from = sqlIds(fromIds);
  await tx.exec(`UPDATE customer_notes SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(`UPDATE customer_tag_changes SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
}
