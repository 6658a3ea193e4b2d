import type { ModuleContext } from '../../kit/context.js';
import { issuesError } from '../../kit/http/errors.js';
import { parseInput } from '../../kit/http/input.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import type { Role } from '../../kit/http/roles.js';
import { timelineSources } from '../../kit/timeline.js';
import { AppError } from '../../shared/errors.js';
import type { Queryable } from '../../storage/port.js';
import {
  customerByIdOrAlias,
  latestPredictionOf,
  listCustomers,
  type CustomerDbRow,
} from '../customers/repository.js';
import { memberById } from '../loyalty/repository.js';
import { scoresRefreshedAt, tagsOf } from '../segments/repository.js';
import { changeTagsIn } from '../segments/service.js';
import { getStore } from '../settings/service.js';
import * as repo from './repository.js';
import {
  NoteInput,
  NoteListQuery,
  Tag,
  TimelineQuery,
  type CustomerSummary,
  type Note,
  type TagsResult,
  type TimelineItem,
  type TimelinePage,
} from './schema.js';
import { mergeTimeline, type MergedEntry, type TimelineKey, type WantedSource } from './timeline.js';

/**
 * The customer 360 (docs/customer360.md): one timeline per customer merged from every module's
 * source (src/kit/timeline.ts) under a header of who they are and their figures; notes staff write
 * (changed or deleted by their author or an admin); tags added and removed through the segments
 * module's tag path, recorded so the timeline shows them.
 */

/** Who acts: the API key or web user (the request's principal), or the CLI. */
export interface Actor {
  /** A key id, `user:<email>`, or `cli`: a note's author. */
  id: string;
  /** How to show them: the key's name, the email, `cli`. */
  name: string;
  role: Role;
}

/** The CLI's operator: they hold the database, so they act as an admin. */
export const CLI_ACTOR: Actor = { id: 'cli', name: 'cli', role: 'admin' };

type CustomerRow = CustomerDbRow & { erased_at: Date | null };

/** The customer a shop id names (its own, or a merged customer's alias), else a 404 naming it. */
async function customerOf(db: Queryable, id: string): Promise<CustomerRow> {
  const c = await customerByIdOrAlias(db, id);
  if (!c) throw new AppError('not_found', `no customer '${id}'`, { where: { field: 'id' } });
  return c;
}

/** The same, for writing: an erased customer takes no notes or tags. */
async function liveCustomerOf(db: Queryable, id: string): Promise<CustomerRow> {
  const c = await customerOf(db, id);
  if (c.erased_at)
    throw new AppError('not_found', `customer '${id}' is erased: nothing more is kept about them`, {
      where: { field: 'id' },
    });
  return c;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

// ---- the timeline --------------------------------------------------------------------------------

/**
 * The sources to read for `?kinds=` (all when absent): a name takes that kind and the kinds under it
 * (`message` → `message`, `message.open`, …); a name matching no kind is a 400 naming `kinds`.
 */
function wantedSources(kinds: string | undefined): WantedSource[] {
  const sources = timelineSources();
  if (kinds === undefined) return sources.map((s) => ({ ...s, kinds: [...s.kinds] }));
  const names = [
    ...new Set(
      kinds
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
    ),
  ];
  const known = [...new Set(sources.flatMap((s) => s.kinds))].sort();
  const matches = (name: string, kind: string) => kind === name || kind.startsWith(`${name}.`);
  const bad = names.length === 0 ? kinds : names.find((n) => !known.some((k) => matches(n, k)));
  if (bad !== undefined)
    throw issuesError(
      [
        {
          path: 'kinds',
          message: `unknown kind '${bad}'; known: ${known.join(', ')} (comma-separated; message takes message.open, …)`,
        },
      ],
      'query',
    );
  return sources
    .map((s) => ({ ...s, kinds: s.kinds.filter((k) => names.some((n) => matches(n, k))) }))
    .filter((s) => s.kinds.length > 0);
}

const isCursor = (v: unknown): v is { at: string; kind: string; ref: string } => {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.at === 'string' &&
    !Number.isNaN(Date.parse(c.at)) &&
    typeof c.kind === 'string' &&
    typeof c.ref === 'string'
  );
};

const badCursor = () =>
  new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
    where: { field: 'cursor' },
  });

function itemOf(e: MergedEntry): TimelineItem {
  return {
    kind: e.kind,
    id: e.ref,
    at: e.at.toISOString(),
    module: e.module,
    title: e.title,
    amountMinor: e.amountMinor ?? null,
    currency: e.currency ?? null,
    detail: e.detail ?? null,
    properties: e.properties ?? null,
  };
}

/** The 360's header: who the customer is, their order figures, CLV, loyalty, open tasks and tags. */
export async function customerSummary(ctx: ModuleContext, c: CustomerRow): Promise<CustomerSummary> {
  const { db } = ctx;
  const id = c.customer_id;
  const [[scores], scoresAt, store, prediction, member, openTasks, tags] = await Promise.all([
    listCustomers(db, { limit: 1, customerId: id }),
    scoresRefreshedAt(db),
    getStore(ctx),
    latestPredictionOf(db, id),
    memberById(db, id),
    repo.openTaskCount(db, id),
    tagsOf(db, id),
  ]);
  const name = [c.first_name, c.last_name].filter((s) => s && s.trim() !== '').join(' ');
  // Scores exist for customers with a sale; once computed, a customer without a row has none.
  const counted = scoresAt !== null;
  const n = (v: number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    id: c.external_id,
    name: name || null,
    email: c.email,
    phone: c.phone,
    locale: c.locale,
    timeZone: c.time_zone,
    erasedAt: iso(c.erased_at),
    orders: {
      count: n(scores?.orders) ?? (counted ? 0 : null),
      firstAt: iso(scores?.first_order_at),
      lastAt: iso(scores?.last_order_at),
      netRevenueMinor: n(scores?.revenue_minor) ?? (counted ? 0 : null),
      currency: store.currency ?? null,
      scoresAt: iso(scoresAt),
    },
    clv: prediction
      ? {
          clvMinor: n(prediction.clv_minor),
          pAlive: prediction.p_alive,
          expectedPurchases: prediction.expected_purchases,
          nextOrderAt: iso(prediction.next_order_at),
          currency: prediction.currency,
          modelVersion: prediction.model_version,
          asOf: prediction.as_of.toISOString(),
        }
      : null,
    loyalty: member
      ? {
          tier: member.tier,
          tierSince: iso(member.tier_since),
          points: Number(member.available),
          pending: Number(member.pending),
          enrolledAt: member.enrolled_at.toISOString(),
        }
      : null,
    openTasks,
    tags,
  };
}

/**
 * `GET /v1/customers/{id}/timeline`, `retain customers timeline`: the customer's header and one page of
 * their timeline — every module's entries, newest first (ties: kind, then id, descending), filtered by
 * `kinds`, keyset pages (`cursor` = the previous page's `nextCursor`). Takes the query as sent.
 */
export async function customerTimeline(
  ctx: ModuleContext,
  { id, query }: { id: string; query: Record<string, unknown> },
): Promise<TimelinePage> {
  const q = parseInput(TimelineQuery, query, 'query');
  const sources = wantedSources(q.kinds);
  let after: TimelineKey | undefined;
  if (q.cursor !== undefined && q.cursor !== '') {
    const c = decodeCursor(q.cursor, isCursor);
    if (!c) throw badCursor();
    after = { at: new Date(c.at), kind: c.kind, ref: c.ref };
  }
  const c = await customerOf(ctx.db, id);
  const [page, customer] = await Promise.all([
    mergeTimeline(ctx.db, sources, { customerId: c.customer_id, after, limit: q.limit }),
    customerSummary(ctx, c),
  ]);
  const last = page.entries[page.entries.length - 1];
  return {
    customer,
    data: page.entries.map(itemOf),
    nextCursor:
      page.more && last ? encodeCursor({ at: last.at.toISOString(), kind: last.kind, ref: last.ref }) : null,
  };
}

// ---- notes ---------------------------------------------------------------------------------------

function noteOf(r: repo.NoteRow, customer: string): Note {
  return {
    id: r.note_id,
    customer,
    body: r.body,
    author: { id: r.author, name: r.author_name },
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    edited: r.updated_at.getTime() !== r.created_at.getTime(),
  };
}

/** A note id from a path or an argument: a positive whole number, else a 400 naming `noteId`. */
function noteIdOf(id: string | number): number {
  const n = typeof id === 'number' ? id : /^\s*\d+\s*$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new AppError('validation', `expected a note id (a positive whole number), got '${String(id)}'`, {
      where: { field: 'noteId' },
    });
  return n;
}

/** `GET /v1/customers/{id}/notes`, `retain notes list`: the customer's notes, newest first, keyset pages. */
export async function listNotes(
  ctx: ModuleContext,
  { id, query }: { id: string; query: Record<string, unknown> },
): Promise<{ data: Note[]; nextCursor: string | null }> {
  const q = parseInput(NoteListQuery, query, 'query');
  let beforeId: number | undefined;
  if (q.cursor !== undefined && q.cursor !== '') {
    const c = decodeCursor(q.cursor, (v): v is number => Number.isSafeInteger(v) && (v as number) > 0);
    if (c === undefined) throw badCursor();
    beforeId = c;
  }
  const c = await customerOf(ctx.db, id);
  const rows = await repo.listNotes(ctx.db, { customerId: c.customer_id, beforeId, limit: q.limit + 1 });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => noteOf(r, c.external_id)),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last.note_id) : null,
  };
}

/** `POST /v1/customers/{id}/notes`, `retain notes add`: a note by `by` on a customer not erased. */
export async function addNote(
  ctx: ModuleContext,
  { id, body, by }: { id: string; body: unknown; by: Actor },
): Promise<Note> {
  const input = parseInput(NoteInput, body, 'body');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const c = await liveCustomerOf(tx, id);
    const row = await repo.insertNote(tx, {
      customerId: c.customer_id,
      body: input.body,
      author: by.id,
      authorName: by.name,
      now,
    });
    return noteOf(row, c.external_id);
  });
}

/**
 * The customer's note `noteId` (not deleted), for `by` to change: a 404 when the customer has no such
 * note, a 403 (nothing written) when `by` is neither its author nor an admin.
 */
async function ownNote(tx: Queryable, id: string, noteId: number, by: Actor) {
  const c = await liveCustomerOf(tx, id);
  const note = await repo.noteById(tx, noteId);
  if (!note || note.customer_id !== c.customer_id || note.deleted_at)
    throw new AppError('not_found', `customer '${id}' has no note ${noteId}`, {
      where: { field: 'noteId' },
    });
  if (note.author !== by.id && by.role !== 'admin')
    throw new AppError(
      'forbidden',
      `note ${noteId} was written by ${note.author_name}: only its author or an admin may change it`,
      { where: { field: 'noteId' } },
    );
  return { c, note };
}

/** `PATCH /v1/customers/{id}/notes/{noteId}`: a new body, by its author or an admin. */
export async function editNote(
  ctx: ModuleContext,
  { id, noteId, body, by }: { id: string; noteId: string | number; body: unknown; by: Actor },
): Promise<Note> {
  const n = noteIdOf(noteId);
  const input = parseInput(NoteInput, body, 'body');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const { c, note } = await ownNote(tx, id, n, by);
    // The same text again (a retried request) changes nothing.
    if (note.body === input.body) return noteOf(note, c.external_id);
    if (!(await repo.updateNote(tx, n, input.body, now)))
      throw new AppError('not_found', `customer '${id}' has no note ${n}`, { where: { field: 'noteId' } });
    return noteOf((await repo.noteById(tx, n))!, c.external_id);
  });
}

/** `DELETE /v1/customers/{id}/notes/{noteId}`: by its author or an admin; shown nowhere after. */
export async function deleteNote(
  ctx: ModuleContext,
  { id, noteId, by }: { id: string; noteId: string | number; by: Actor },
): Promise<{ id: number; deleted: true }> {
  const n = noteIdOf(noteId);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await ownNote(tx, id, n, by);
    if (!(await repo.deleteNote(tx, n, now)))
      throw new AppError('not_found', `customer '${id}' has no note ${n}`, { where: { field: 'noteId' } });
    return { id: n, deleted: true as const };
  });
}

// ---- tags ----------------------------------------------------------------------------------------

function tagOf(raw: string): string {
  const parsed = Tag.safeParse(raw);
  if (!parsed.success)
    throw issuesError(
      parsed.error.issues.map((i) => ({ path: 'tag', message: i.message })),
      'tag',
    );
  return parsed.data;
}

async function changeTag(
  ctx: ModuleContext,
  { id, tag, by }: { id: string; tag: string; by: Actor },
  change: 'added' | 'removed',
): Promise<TagsResult> {
  const t = tagOf(tag);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const c = await liveCustomerOf(tx, id);
    const has = (await tagsOf(tx, c.customer_id)).includes(t);
    const changed = change === 'added' ? !has : has;
    if (changed) {
      // The segments module's tag path (a flow's tag step takes it too), and the record of who.
      await changeTagsIn(
        tx,
        c.customer_id,
        change === 'added' ? { add: [t], remove: [] } : { add: [], remove: [t] },
        now,
      );
      await repo.insertTagChange(tx, { customerId: c.customer_id, tag: t, change, at: now, by: by.id });
    }
    return { id: c.external_id, tags: await tagsOf(tx, c.customer_id), changed };
  });
}

/** `PUT /v1/customers/{id}/tags/{tag}`, `retain tags add`: tags the customer (a tag they have: no change). */
export async function addTag(ctx: ModuleContext, input: { id: string; tag: string; by: Actor }) {
  return changeTag(ctx, input, 'added');
}

/** `DELETE /v1/customers/{id}/tags/{tag}`, `retain tags remove`: untags them (a tag they lack: no change). */
export async function removeTag(ctx: ModuleContext, input: { id: string; tag: string; by: Actor }) {
  return changeTag(ctx, input, 'removed');
}
