import { calendarOf } from '../../analytics/calendar.js';
import { rankScores, rfmFromValues } from '../../analytics/metrics/rfm.js';
import type { ModuleContext } from '../../kit/context.js';
import type { ZodError } from 'zod';
import { validationError } from '../../kit/http/errors.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { AppError, invalid } from '../../shared/errors.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import { customerByIdOrAlias } from '../customers/repository.js';
import { getStore } from '../settings/service.js';
import { BUILTIN_SEGMENTS, builtinSegment, favouriteSegment, type BuiltinSegment } from './builtins.js';
import * as repo from './repository.js';
import { FIELDS, FLAG_OPS, instantOf, OPS, parseRule, type FieldSpec, type Rule } from './rules.js';
import {
  EvaluateInput,
  MembersQuery,
  SegmentInput,
  TagsChange,
  type Segment,
  type SegmentMember,
  type SegmentPreview,
  type Snapshot,
} from './schema.js';
import { compileRule, type Compiled } from './sql.js';

/** Segments (docs/segments.md): rule trees over customers, compiled to one SQL statement. */

// --- stored inputs --------------------------------------------------------------------------------

export interface RefreshResult {
  customers: number;
  withOrders: number;
  withPredictions: number;
  refreshedAt: string;
  seconds: number;
}

/**
 * Recomputes `customer_scores` as of now: order aggregates, RFM (analytics/metrics/rfm.ts, the same
 * scores as `report rfm`), revenue / frequency / tenure deciles, the favourite category, and the
 * latest CLV run with its decile. One transaction replaces the table.
 */
export async function refreshScores(ctx: ModuleContext): Promise<RefreshResult> {
  const started = performance.now();
  const now = ctx.clock.now();
  const store = await getStore(ctx);
  const orders = store.currency ? await repo.scoreInputs(ctx.db, now, store.currency) : [];
  const predictions = await repo.latestPredictionInputs(ctx.db);
  const ids = orders.map((r) => String(r.customer_id));
  const rfm = rfmFromValues(
    {
      ids,
      lastOrderMs: orders.map((r) => r.last_at.getTime()),
      frequency: orders.map((r) => r.orders),
      monetaryMinor: orders.map((r) => r.net_minor),
    },
    now,
  );
  const rfmById = new Map(rfm.map((c) => [Number(c.customerId), c]));
  const revenueDecile = rankScores(
    orders.map((r) => r.net_minor),
    10,
  );
  const ordersDecile = rankScores(
    orders.map((r) => r.orders),
    10,
  );
  // Longer tenure is "more": an earlier first order ranks higher.
  const tenureDecile = rankScores(
    orders.map((r) => -r.first_at.getTime()),
    10,
  );
  const withClv = predictions.filter((p) => p.clv_minor !== null);
  const clvDecile = new Map<number, number>();
  rankScores(
    withClv.map((p) => p.clv_minor!),
    10,
  ).forEach((d, i) => clvDecile.set(withClv[i]!.customer_id, d));

  // One row per customer with orders or a prediction, by column name (repo.SCORE_COLUMNS orders them).
  type ScoreRow = Partial<Record<repo.ScoreColumn, SqlValue>>;
  const rows = new Map<number, ScoreRow>();
  orders.forEach((r, i) => {
    const s = rfmById.get(r.customer_id)!;
    rows.set(r.customer_id, {
      orders: r.orders,
      revenue_minor: r.net_minor,
      aov_minor: Math.round(r.net_minor / r.orders),
      first_order_at: r.first_at,
      last_order_at: r.last_at,
      favourite_category: r.favourite_category,
      rfm_r: s.r,
      rfm_f: s.f,
      rfm_m: s.m,
      rfm_segment: s.segment,
      revenue_decile: revenueDecile[i]!,
      orders_decile: ordersDecile[i]!,
      tenure_decile: tenureDecile[i]!,
      // The customer's own rhythm: the last order plus their average gap between orders.
      usual_next_order_at:
        r.orders >= 2
          ? new Date(
              r.last_at.getTime() + Math.round((r.last_at.getTime() - r.first_at.getTime()) / (r.orders - 1)),
            )
          : null,
    });
  });
  for (const p of predictions) {
    const row = rows.get(p.customer_id) ?? { orders: 0, revenue_minor: 0 };
    rows.set(p.customer_id, {
      ...row,
      p_alive: p.p_alive,
      expected_purchases: p.expected_purchases,
      clv_minor: p.clv_minor,
      clv_decile: clvDecile.get(p.customer_id) ?? null,
      next_order_at: p.next_order_at,
    });
  }
  const all = [...rows].map(([customerId, row]) =>
    repo.SCORE_COLUMNS.map((c) =>
      c === 'customer_id' ? customerId : c === 'refreshed_at' ? now : (row[c] ?? null),
    ),
  );
  await ctx.db.transaction((tx) => repo.replaceScores(tx, all));
  return {
    customers: all.length,
    withOrders: orders.length,
    withPredictions: predictions.length,
    refreshedAt: now.toISOString(),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Refreshes the scores when they have never been computed and the store has orders or predictions. */
async function ensureScores(ctx: ModuleContext): Promise<Date | null> {
  const at = await repo.scoresRefreshedAt(ctx.db);
  if (at) return at;
  const r = await refreshScores(ctx);
  return r.customers > 0 ? new Date(r.refreshedAt) : null;
}

// --- definitions ----------------------------------------------------------------------------------

async function calendar(ctx: ModuleContext) {
  const store = await getStore(ctx);
  return { store, calendar: calendarOf(store.timeZone) };
}

function segmentOut(r: repo.SegmentRow): Segment {
  return {
    name: r.name,
    description: r.description,
    rule: JSON.parse(r.rule) as unknown,
    builtin: false,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Saves a definition (replacing one of the same name); the rule is checked first, nothing written if bad. */
export async function saveSegment(
  ctx: ModuleContext,
  { body, by }: { body: unknown; by: string | null },
): Promise<{ segment: Segment; created: boolean }> {
  const input = parseInput(SegmentInput, body, 'segment');
  if (builtinSegment(input.name))
    throw invalid(`'${input.name}' is a built-in segment's name; choose another`, { field: 'name' });
  const { calendar: cal } = await calendar(ctx);
  parseRule(input.rule, cal);
  const r = await ctx.db.transaction((tx) =>
    repo.saveSegment(
      tx,
      { name: input.name, description: input.description ?? null, rule: JSON.stringify(input.rule), by },
      ctx.clock.now(),
    ),
  );
  return { segment: segmentOut(r.row), created: r.created };
}

const builtinOut = (b: BuiltinSegment): Segment => ({
  name: b.name,
  description: b.description,
  rule: b.rule,
  builtin: true,
  createdAt: null,
  updatedAt: null,
});

export async function listSegments(ctx: ModuleContext): Promise<{ segments: Segment[] }> {
  const saved = (await repo.listSegments(ctx.db)).map(segmentOut);
  // By favourite category: one per category that is someone's favourite, the most common first.
  const favourites = (await repo.favouriteCategories(ctx.db, 20)).map((c) => builtinOut(favouriteSegment(c)));
  return { segments: [...BUILTIN_SEGMENTS.map(builtinOut), ...favourites, ...saved] };
}

export async function getSegment(ctx: ModuleContext, { name }: { name: string }): Promise<Segment> {
  const b = builtinSegment(name);
  if (b) return builtinOut(b);
  const r = await repo.segmentByName(ctx.db, name);
  if (!r) throw new AppError('not_found', `no segment '${name}' (retain segments list)`);
  return segmentOut(r);
}

export async function deleteSegment(
  ctx: ModuleContext,
  { name }: { name: string },
): Promise<{ deleted: string }> {
  if (builtinSegment(name)) throw invalid(`'${name}' is built in and cannot be deleted`, { field: 'name' });
  const r = await repo.segmentByName(ctx.db, name);
  if (!r) throw new AppError('not_found', `no segment '${name}'`);
  await ctx.db.transaction(async (tx) => {
    await repo.deleteSegment(tx, r.segment_id);
    await repo.dropSegmentHistory(tx, name);
  });
  return { deleted: name };
}

// --- evaluating ----------------------------------------------------------------------------------

interface Prepared {
  /** The rule as saved or given (JSON), and checked. */
  raw: unknown;
  rule: Rule;
  compiled: Compiled;
  asOf: Date;
  currency: string | null;
  scoresRefreshedAt: Date | null;
}

/**
 * The rule (inline or by name), checked and compiled at `asOf` with placeholders from `$first`; the
 * scores computed if they never were.
 */
async function prepare(
  ctx: ModuleContext,
  input: { name?: string | undefined; rule?: unknown; asOf?: string | undefined },
  first = 1,
): Promise<Prepared> {
  const { store, calendar: cal } = await calendar(ctx);
  if ((input.name === undefined) === (input.rule === undefined))
    throw invalid('give a segment name or a rule (not both)', { field: input.name ? 'rule' : 'name' });
  const raw = input.name !== undefined ? (await getSegment(ctx, { name: input.name })).rule : input.rule;
  const rule = parseRule(raw, cal);
  let asOf = ctx.clock.now();
  if (input.asOf !== undefined) {
    const at = instantOf(input.asOf, cal, true);
    if (!at)
      throw invalid(`expected asOf as YYYY-MM-DD or an ISO 8601 instant, got '${input.asOf}'`, {
        field: 'asOf',
      });
    asOf = at;
  }
  const scoresRefreshedAt = await ensureScores(ctx);
  return {
    raw,
    rule,
    compiled: compileRule(rule, { now: asOf, currency: store.currency }, first),
    asOf,
    currency: store.currency,
    scoresRefreshedAt,
  };
}

export async function countSegment(ctx: ModuleContext, body: unknown) {
  const p = await prepare(ctx, parseInput(EvaluateInput, body, 'request'));
  const count = await repo.countMembers(ctx.db, p.compiled);
  return { count, asOf: p.asOf.toISOString(), scoresRefreshedAt: p.scoresRefreshedAt?.toISOString() ?? null };
}

function memberOut(r: repo.MemberRow): SegmentMember {
  return {
    id: r.external_id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    country: r.country,
    orders: r.orders,
    revenueMinor: r.revenue_minor,
    lastOrderAt: r.last_order_at?.toISOString() ?? null,
    rfmSegment: r.rfm_segment,
    clvMinor: r.clv_minor,
  };
}

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** The live preview while editing: count, share, revenue share, reachable per channel, 20 members. */
export async function previewSegment(ctx: ModuleContext, body: unknown): Promise<SegmentPreview> {
  const p = await prepare(ctx, parseInput(EvaluateInput, body, 'request'));
  const [stats, sample] = await Promise.all([
    repo.previewStats(ctx.db, p.compiled),
    repo.sampleMembers(ctx.db, p.compiled, 20),
  ]);
  return {
    count: stats.members,
    customers: stats.customers,
    share: ratio(stats.members, stats.customers),
    revenueMinor: stats.revenue_minor,
    revenueShare: ratio(stats.revenue_minor, stats.store_revenue_minor),
    currency: p.currency,
    reachable: { email: stats.email, sms: stats.sms, messenger: stats.messenger, ads: stats.ads },
    sample: sample.map(memberOut),
    asOf: p.asOf.toISOString(),
    scoresRefreshedAt: p.scoresRefreshedAt?.toISOString() ?? null,
  };
}

/** A page of a segment's members, by customer, with a cursor for the next. */
export async function segmentMembers(ctx: ModuleContext, { name, query }: { name: string; query: unknown }) {
  const q = parseInput(MembersQuery, query, 'query');
  const after = decodeCursor(q.after, (v): v is number => Number.isSafeInteger(v)) ?? 0;
  const p = await prepare(ctx, { name, asOf: q.asOf });
  const rows = await repo.memberPage(ctx.db, p.compiled, after, q.limit + 1);
  const page = rows.slice(0, q.limit);
  return {
    items: page.map(memberOut),
    nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.customer_id) : null,
  };
}

/** Whether one customer matches a rule now (for other modules: a flow's branch). */
export async function matchesRule(ctx: ModuleContext, rule: unknown, customerId: number): Promise<boolean> {
  const p = await prepare(ctx, { rule });
  return repo.isMember(ctx.db, p.compiled, customerId);
}

/** Every member's internal customer id, in order (for other modules: a campaign's audience). */
export async function memberIdsOf(
  ctx: ModuleContext,
  input: { name?: string; rule?: unknown; asOf?: string },
): Promise<number[]> {
  const p = await prepare(ctx, input);
  return repo.memberIds(ctx.db, p.compiled);
}

/** Every member (the CLI's `members --all` and exports): internal ids with their rows, in pages. */
export async function* allMembers(
  ctx: ModuleContext,
  input: { name?: string; rule?: unknown; asOf?: string },
): AsyncGenerator<SegmentMember> {
  const p = await prepare(ctx, input);
  let after = 0;
  for (;;) {
    const rows = await repo.memberPage(ctx.db, p.compiled, after, 5000);
    for (const r of rows) yield memberOut(r);
    if (rows.length < 5000) return;
    after = rows[rows.length - 1]!.customer_id;
  }
}

// --- snapshots ---------------------------------------------------------------------------------

const snapshotOut = (r: repo.SnapshotRow): Snapshot => ({
  id: r.snapshot_id,
  segment: r.segment,
  asOf: r.as_of.toISOString(),
  takenAt: r.taken_at.toISOString(),
  members: r.members,
  entered: r.entered,
  left: r.left_count,
});

/**
 * Snapshots a segment now (or as of `asOf`): its members, who entered and who left since its previous
 * snapshot, with a `segment.entered` / `segment.left` event per change — one transaction.
 */
export async function snapshotSegment(
  ctx: ModuleContext,
  input: { name: string; asOf?: string | undefined },
): Promise<Snapshot> {
  const p = await prepare(ctx, input);
  const row = await ctx.db.transaction((tx) =>
    repo.takeSnapshot(tx, ctx.db.dialect, {
      segment: input.name,
      rule: JSON.stringify(p.raw),
      asOf: p.asOf,
      now: ctx.clock.now(),
      compiled: p.compiled,
    }),
  );
  return snapshotOut(row);
}

export async function listSnapshots(ctx: ModuleContext, { name, limit }: { name: string; limit?: number }) {
  await getSegment(ctx, { name });
  return { snapshots: (await repo.snapshotsOf(ctx.db, name, limit ?? 30)).map(snapshotOut) };
}

/** Who entered and who left at one snapshot (cursor pages by customer). */
export async function snapshotChanges(ctx: ModuleContext, { id, query }: { id: number; query: unknown }) {
  const q = parseInput(MembersQuery.omit({ asOf: true }), query, 'query');
  const snap = await repo.snapshotById(ctx.db, id);
  if (!snap) throw new AppError('not_found', `no segment snapshot ${id}`);
  const after = decodeCursor(q.after, (v): v is number => Number.isSafeInteger(v)) ?? 0;
  const rows = await repo.changesOf(ctx.db, id, after, q.limit + 1);
  const page = rows.slice(0, q.limit);
  return {
    snapshot: snapshotOut(snap),
    items: page.map((r) => ({ id: r.external_id, change: r.change, at: r.changed_at.toISOString() })),
    nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.customer_id) : null,
  };
}

/** The daily job: scores refreshed, then every saved segment snapshotted. */
export async function dailySegments(ctx: ModuleContext) {
  const refreshed = await refreshScores(ctx);
  const snapshots: Snapshot[] = [];
  for (const s of await repo.listSegments(ctx.db))
    snapshots.push(await snapshotSegment(ctx, { name: s.name }));
  return { refreshed, snapshots };
}

/** The rule language's fields (the dashboard's builder; `retain segments fields`). */
export function ruleFields() {
  return {
    fields: Object.entries(FIELDS).map(([field, f]) => {
      const spec: FieldSpec = f;
      return {
        field,
        type: spec.type,
        ops: spec.type === 'flag' ? [...FLAG_OPS[field]!] : [...OPS[spec.type]],
        params: [...(spec.params ?? [])],
        values: spec.values ? [...spec.values] : null,
        doc: spec.doc,
      };
    }),
  };
}

// --- tags ----------------------------------------------------------------------------------------

export async function changeTags(ctx: ModuleContext, { id, body }: { id: string; body: unknown }) {
  const change = parseInput(TagsChange, body, 'tags');
  return ctx.db.transaction(async (tx) => {
    const c = await customerByIdOrAlias(tx, id);
    if (!c || c.erased_at) throw new AppError('not_found', `no customer '${id}'`);
    await repo.addTags(tx, c.customer_id, change.add, ctx.clock.now());
    await repo.removeTags(tx, c.customer_id, change.remove);
    return { id: c.external_id, tags: await repo.tagsOf(tx, c.customer_id) };
  });
}

/** Tags added and removed inside another module's transaction (a flow's tag step). */
export async function changeTagsIn(
  tx: Queryable,
  customerId: number,
  change: { add: readonly string[]; remove: readonly string[] },
  now: Date,
): Promise<void> {
  await repo.addTags(tx, customerId, change.add, now);
  await repo.removeTags(tx, customerId, change.remove);
}

function parseInput<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  body: unknown,
  what: string,
): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw validationError(r.error, what);
  return r.data;
}

/**
 * A saved or built-in segment by name, checked and compiled at `asOf` (YYYY-MM-DD or an instant;
 * default now) with placeholders from `$first`: for exports and reports restricted to its members.
 */
export async function compiledSegment(
  ctx: ModuleContext,
  input: { name: string; asOf?: string | undefined },
  first = 1,
) {
  return prepare(ctx, { name: input.name, asOf: input.asOf }, first);
}
