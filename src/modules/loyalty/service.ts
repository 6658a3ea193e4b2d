import { randomInt } from 'node:crypto';
import { calendarOf } from '../../analytics/calendar.js';
import {
  birthdayOccurrence,
  clawbackTarget,
  orderPoints,
  tierFor,
  tierRank,
  type EarnRules,
} from '../../analytics/loyalty/earn.js';
import { MemberLedger, type Entry, type Grant } from '../../analytics/loyalty/ledger.js';
import type { ModuleContext } from '../../kit/context.js';
import type { DomainEvent, NewDomainEvent, SubscriberContext } from '../../kit/events.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { Database, Queryable } from '../../storage/port.js';
import { recordEvents } from '../outbox/service.js';
import { getStore } from '../settings/service.js';
import * as repo from './repository.js';
import {
  ActionInput,
  AdjustInput,
  EnrolInput,
  ProgramConfig,
  RedeemInput,
  ReverseInput,
  type Member,
  type Program,
  type Redemption,
} from './schema.js';

/**
 * The loyalty programme (issue 24; docs/loyalty.md): the points ledger, earning from orders through
 * the `order.placed` / `order.refunded` domain events, redemptions with an idempotency key, tiers,
 * birthday and action bonuses, the schedule's sweep (release, expiry, notices, downgrades).
 *
 * Every write to a member's points runs `inLedger`: one transaction that locks the members' rows,
 * loads their open grants into the pure `MemberLedger` (src/analytics/loyalty/ledger.ts), settles what
 * is due (releases and expiries up to now), applies the operation and writes the entries, allocations,
 * grants and cached totals together. Exactly-once comes from unique keys written in that transaction:
 * a grant's `grant_key` (`order:<id>`, `birthday:<customer>:<year>`, …), an entry's `entry_key`, a
 * redemption's (customer, idempotency key).
 */

// ---- programme ------------------------------------------------------------------------------------

export interface LoadedProgram extends Program {
  currency: string;
}

function programOf(row: repo.ProgramRow, storeCurrency: string | null): LoadedProgram {
  const config = ProgramConfig.parse(JSON.parse(row.config));
  return {
    version: row.version,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    config,
    currency: config.currency ?? storeCurrency ?? 'XXX',
  };
}

/** The programme in force, or null when none was set (loyalty is off). */
export async function currentProgram(ctx: Pick<ModuleContext, 'db'>): Promise<LoadedProgram | null> {
  const row = await repo.currentProgram(ctx.db);
  if (!row) return null;
  const store = await getStore(ctx as ModuleContext);
  return programOf(row, store.currency);
}

async function requireProgram(ctx: ModuleContext): Promise<LoadedProgram> {
  const p = await currentProgram(ctx);
  if (!p)
    throw new AppError(
      'conflict',
      'no loyalty programme is set: `retain loyalty program set --file program.json` or PUT /v1/loyalty/program',
    );
  return p;
}

/** `GET /v1/loyalty/program`. */
export async function getProgram(ctx: ModuleContext): Promise<Program> {
  const p = await currentProgram(ctx);
  if (!p) throw new AppError('not_found', 'no loyalty programme is set');
  return { version: p.version, createdAt: p.createdAt, createdBy: p.createdBy, config: p.config };
}

export async function programHistory(ctx: ModuleContext): Promise<Program[]> {
  const store = await getStore(ctx);
  return (await repo.programVersions(ctx.db)).map((r) => {
    const p = programOf(r, store.currency);
    return { version: p.version, createdAt: p.createdAt, createdBy: p.createdBy, config: p.config };
  });
}

/**
 * `PUT /v1/loyalty/program`, `retain loyalty program set`: validates the rules and saves them as the next
 * version (grants already made keep theirs). Refused: a programme without a currency in a store without
 * one.
 */
export async function setProgram(
  ctx: ModuleContext,
  input: unknown,
  by: string | null = null,
): Promise<Program> {
  const parsed = ProgramConfig.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'loyalty programme');
  const config = parsed.data;
  const store = await getStore(ctx);
  if (!config.currency && !store.currency)
    throw new AppError(
      'validation',
      'the store has no currency yet: give the programme a currency (e.g. "currency": "GBP")',
      {
        where: { field: 'currency' },
      },
    );
  const now = ctx.clock.now();
  for (let attempt = 0; attempt < 5; attempt++) {
    const latest = await repo.currentProgram(ctx.db);
    const version = (latest?.version ?? 0) + 1;
    const ok = await ctx.db.transaction((tx) =>
      repo.insertProgram(tx, version, JSON.stringify(config), now, by),
    );
    if (ok) return { version, createdAt: now.toISOString(), createdBy: by, config };
  }
  throw new AppError('conflict', 'the programme changed while saving; try again');
}

const earnRules = (p: LoadedProgram): EarnRules => ({
  rate: p.config.earn.rate,
  pointValue: p.config.pointValue,
  rounding: p.config.earn.rounding,
  multipliers: p.config.earn.multipliers,
});

/** Minor units that `points` are worth, or null when not a whole minor unit. */
export function valueOfPoints(p: Pick<ProgramConfig, 'pointValue'>, points: number): number | null {
  const v = points * p.pointValue.minor;
  return v % p.pointValue.points === 0 ? v / p.pointValue.points : null;
}

// ---- the ledger transaction ---------------------------------------------------------------------

interface LedgerScope {
  tx: Queryable;
  now: Date;
  ledgers: Map<number, MemberLedger>;
  writes: repo.EntryWrite[];
  events: NewDomainEvent[];
  externalIds: Map<number, string>;
}

function settleWrites(
  customerId: number,
  l: MemberLedger,
  entries: Entry[],
  writes: repo.EntryWrite[],
): void {
  for (const e of entries) {
    const g = e.grantId === null ? undefined : l.grant(e.grantId);
    if (!g) throw new Error(`settled entry without its grant`);
    writes.push({
      customerId,
      key: `${e.type}:${g.id}`,
      entry: e,
      points: Math.abs(e.availableDelta),
      occurredAt: e.type === 'release' ? g.availableAt : g.expiresAt,
    });
  }
}

/**
 * Runs `fn` on the members' ledgers in one transaction of its own (see the file comment), then writes
 * everything and records the events. Members that are not members are absent from `ledgers`.
 */
async function inLedger<T>(
  ctx: Pick<ModuleContext, 'db'>,
  ids: readonly number[],
  now: Date,
  fn: (s: LedgerScope) => Promise<T>,
  tx?: Queryable,
): Promise<T> {
  const run = async (t: Queryable): Promise<T> => {
    const totals = await repo.lockMembers(t, ids, now);
    const grants = await repo.openGrants(t, [...totals.keys()]);
    const s: LedgerScope = {
      tx: t,
      now,
      ledgers: new Map(),
      writes: [],
      events: [],
      externalIds: new Map(),
    };
    for (const [id, tot] of totals) s.ledgers.set(id, new MemberLedger(grants.get(id) ?? [], tot));
    await voidCancelledOrders(s, grants);
    for (const [id, l] of s.ledgers) settleWrites(id, l, l.settle(now), s.writes);
    const out = await fn(s);
    // Grants credited by `fn` in the past may be due already.
    for (const [id, l] of s.ledgers) settleWrites(id, l, l.settle(now), s.writes);
    await flush(ctx.db, s);
    return out;
  };
  return tx ? run(tx) : ctx.db.transaction(run);
}

/**
 * An order cancelled during its return window (its status no longer a sale: cancelled, failed,
 * unpaid — an `orders/updated` webhook, a re-import) earns nothing: when its pending points fall due,
 * they are clawed back instead of released (key `clawback:cancel:<order>`). Refunds are the other
 * path (`order.refunded`).
 */
async function voidCancelledOrders(s: LedgerScope, grants: Map<number, Grant[]>): Promise<void> {
  const due: number[] = [];
  for (const list of grants.values())
    for (const g of list)
      if (g.status === 'pending' && g.availableAt.getTime() <= s.now.getTime()) due.push(g.id);
  if (due.length === 0) return;
  for (const c of await repo.cancelledOrderGrants(s.tx, due)) {
    const l = s.ledgers.get(c.customerId);
    const g = l?.grant(c.grantId);
    if (!l || !g || g.remaining <= 0) continue;
    const points = g.remaining;
    s.writes.push({
      customerId: c.customerId,
      key: `clawback:cancel:${c.orderId}`,
      entry: l.clawback(g.id, points, 'forgive'),
      points,
      orderId: c.orderId,
      reason: `order ${c.status}`,
      occurredAt: s.now,
    });
  }
}

async function flush(db: Database, s: LedgerScope): Promise<void> {
  const grants: { id: number; remaining: number; status: Grant['status'] }[] = [];
  const members: { customerId: number; totals: MemberLedger['totals'] }[] = [];
  for (const [id, l] of s.ledgers) {
    for (const gid of l.changedGrants) {
      const g = l.grant(gid);
      if (g) grants.push({ id: g.id, remaining: g.remaining, status: g.status });
    }
    members.push({ customerId: id, totals: l.totals });
  }
  await repo.writeLedger(s.tx, db.dialect, s.writes, grants, members, s.now);
  if (s.events.length) await recordEvents(s.tx, db.dialect, s.events, s.now);
}

/** Credits new grants (by unique key: one already made is skipped); returns the new ones' ids by key. */
async function creditGrants(s: LedgerScope, grants: readonly repo.NewGrant[]): Promise<Map<string, number>> {
  const ids = await repo.insertGrants(s.tx, grants, s.now);
  for (const g of grants) {
    const id = ids.get(g.key);
    const l = s.ledgers.get(g.customerId);
    if (id === undefined || !l) continue;
    const entry = l.credit(
      { id, points: g.points, availableAt: g.availableAt, expiresAt: g.expiresAt },
      s.now,
    );
    s.writes.push({
      customerId: g.customerId,
      key: `earn:${g.key}`,
      entry,
      points: g.points,
      orderId: g.orderId,
      reason: g.reason,
      occurredAt: g.earnedAt,
    });
    const ext = s.externalIds.get(g.customerId);
    if (ext !== undefined)
      s.events.push({
        type: 'points.earned',
        customerId: g.customerId,
        occurredAt: g.earnedAt,
        payload: {
          external_id: ext,
          grant_id: id,
          kind: g.kind,
          points: g.points,
          status: g.availableAt.getTime() > s.now.getTime() ? 'pending' : 'available',
          available_at: g.availableAt.toISOString(),
          expires_at: g.expiresAt.toISOString(),
        },
      });
  }
  return ids;
}

const addDays = (d: Date, days: number) => new Date(d.getTime() + days * DAY_MS);

/** The member's ledger in the scope, or a 404 naming the customer. */
function notMember(s: LedgerScope, customerId: number, name: string): MemberLedger {
  const l = s.ledgers.get(customerId);
  if (!l)
    throw new AppError('not_found', `customer '${name}' is not a loyalty member`, {
      where: { field: 'customer' },
    });
  return l;
}

// ---- customers and members ----------------------------------------------------------------------

async function customerOf(db: Queryable, externalId: string, field = 'customer'): Promise<repo.CustomerRow> {
  const c = await repo.customerByExternalId(db, externalId);
  if (!c || c.erased)
    throw new AppError('not_found', `unknown customer '${externalId}'`, { where: { field } });
  return c;
}

/** A 16-digit card number (15 random digits and a Luhn check digit). */
export function newCardNumber(): string {
  let digits = String(randomInt(1, 10));
  for (let i = 0; i < 14; i++) digits += String(randomInt(0, 10));
  return digits + luhnDigit(digits);
}

export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function welcomeGrant(p: LoadedProgram, customerId: number, at: Date): repo.NewGrant | null {
  const w = p.config.welcomeBonus;
  if (!w) return null;
  return {
    customerId,
    key: `welcome:${customerId}`,
    kind: 'welcome',
    orderId: null,
    programVersion: p.version,
    points: w.points,
    baseMinor: null,
    earnedAt: at,
    availableAt: at,
    expiresAt: addDays(at, w.expiryDays ?? p.config.expiryDays),
    reason: 'welcome bonus',
  };
}

/** Enrols members (existing ones are left as they are) with their welcome bonus; returns the new ones. */
async function enrolMany(
  ctx: Pick<ModuleContext, 'db'>,
  tx: Queryable,
  p: LoadedProgram,
  people: readonly { customerId: number; externalId: string; at: Date; source: string }[],
  now: Date,
): Promise<Set<number>> {
  const added = new Set<number>();
  for (const m of people) {
    for (let attempt = 0; ; attempt++) {
      try {
        if (
          await repo.insertMember(tx, {
            customerId: m.customerId,
            cardNumber: newCardNumber(),
            enrolledAt: m.at,
            source: m.source,
            now,
          })
        )
          added.add(m.customerId);
        break;
      } catch (err) {
        // A card number taken (one in 10^15): draw another.
        if (attempt >= 3 || !/card_number|unique|duplicate/i.test(String(err))) throw err;
      }
    }
  }
  const grants = people
    .flatMap((m) => (added.has(m.customerId) ? [welcomeGrant(p, m.customerId, m.at)] : []))
    .filter((g) => g !== null);
  if (grants.length)
    await inLedger(
      ctx,
      grants.map((g) => g.customerId),
      now,
      async (s) => {
        for (const m of people) s.externalIds.set(m.customerId, m.externalId);
        await creditGrants(s, grants);
      },
      tx,
    );
  return added;
}

/** `POST /v1/loyalty/members`, `retain loyalty enrol`: enrols a customer (again: unchanged). */
export async function enrol(
  ctx: ModuleContext,
  input: unknown,
): Promise<{ member: Member; created: boolean }> {
  const parsed = EnrolInput.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'enrolment');
  const p = await requireProgram(ctx);
  const c = await customerOf(ctx.db, parsed.data.customer);
  const now = ctx.clock.now();
  const added = await ctx.db.transaction((tx) =>
    enrolMany(
      ctx,
      tx,
      p,
      [{ customerId: c.customer_id, externalId: c.external_id, at: now, source: parsed.data.source }],
      now,
    ),
  );
  return { member: await memberView(ctx, p, c.customer_id), created: added.has(c.customer_id) };
}

async function requireMember(ctx: ModuleContext, externalId: string): Promise<repo.CustomerRow> {
  const c = await customerOf(ctx.db, externalId);
  const m = await repo.memberById(ctx.db, c.customer_id);
  if (!m)
    throw new AppError('not_found', `customer '${externalId}' is not a loyalty member (enrol them first)`, {
      where: { field: 'customer' },
    });
  return c;
}

async function memberView(ctx: ModuleContext, p: LoadedProgram, customerId: number): Promise<Member> {
  const m = await repo.memberById(ctx.db, customerId);
  if (!m) throw new AppError('not_found', 'not a loyalty member');
  const now = ctx.clock.now();
  const soon = await repo.expiringOf(
    ctx.db,
    customerId,
    addDays(now, Math.max(30, p.config.expiringNoticeDays)),
  );
  const tiers = p.config.tiers;
  const basis = tiers.levels.length
    ? ((
        await repo.tierBasis(ctx.db, {
          basis: tiers.basis,
          currency: p.currency,
          from: monthsBefore(now, tiers.windowMonths),
          to: now,
          customerIds: [customerId],
        })
      ).get(customerId) ?? 0)
    : 0;
  const above = [...tiers.levels].sort((a, b) => a.threshold - b.threshold).find((t) => t.threshold > basis);
  return {
    customer: m.external_id,
    cardNumber: m.card_number,
    enrolledAt: m.enrolled_at.toISOString(),
    tier: m.tier,
    tierSince: m.tier_since?.toISOString() ?? null,
    downgradeAt: m.downgrade_at?.toISOString() ?? null,
    available: m.available,
    pending: m.pending,
    debt: m.debt,
    valueMinor: Math.floor(
      (Math.max(0, m.available) * p.config.pointValue.minor) / p.config.pointValue.points,
    ),
    currency: p.currency,
    expiringSoon: soon.map((r) => ({ points: r.points, expiresAt: r.expires_at.toISOString() })),
    tierBasisValue: basis,
    nextTier: above
      ? { name: above.name, threshold: above.threshold, missing: above.threshold - basis }
      : null,
  };
}

/** `GET /v1/loyalty/members/{customer}`. */
export async function getMember(ctx: ModuleContext, { customer }: { customer: string }): Promise<Member> {
  const p = await requireProgram(ctx);
  const c = await requireMember(ctx, customer);
  return memberView(ctx, p, c.customer_id);
}

export async function listMembers(
  ctx: ModuleContext,
  q: { tier?: string | undefined; limit: number; cursor?: string | undefined },
) {
  const after = q.cursor ? Number(q.cursor) : 0;
  if (!Number.isSafeInteger(after) || after < 0)
    throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
      where: { field: 'cursor' },
    });
  const rows = await repo.listMembers(ctx.db, { tier: q.tier, afterId: after, limit: q.limit + 1 });
  const page = rows.slice(0, q.limit);
  return {
    data: page.map((m) => ({
      customer: m.external_id,
      cardNumber: m.card_number,
      enrolledAt: m.enrolled_at.toISOString(),
      tier: m.tier,
      available: m.available,
      pending: m.pending,
      debt: m.debt,
    })),
    nextCursor: rows.length > q.limit ? String(page[page.length - 1]!.customer_id) : null,
  };
}

export async function memberLedger(
  ctx: ModuleContext,
  q: { customer: string; limit: number; cursor?: string | undefined },
) {
  const c = await requireMember(ctx, q.customer);
  const before = q.cursor ? Number(q.cursor) : Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(before) || before <= 0)
    throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
      where: { field: 'cursor' },
    });
  const rows = await repo.entriesOf(ctx.db, c.customer_id, before, q.limit + 1);
  const page = rows.slice(0, q.limit);
  return {
    data: page.map((e) => ({
      id: e.entry_id,
      type: e.type,
      points: e.points,
      pendingDelta: e.pending_delta,
      availableDelta: e.available_delta,
      order: e.order_external_id,
      redemptionId: e.redemption_id,
      reason: e.reason,
      occurredAt: e.occurred_at.toISOString(),
      createdBy: e.created_by,
    })),
    nextCursor: rows.length > q.limit ? String(page[page.length - 1]!.entry_id) : null,
  };
}

export async function memberTiers(ctx: ModuleContext, { customer }: { customer: string }) {
  const c = await requireMember(ctx, customer);
  return (await repo.tierHistory(ctx.db, c.customer_id)).map((h) => ({
    changedAt: h.changed_at.toISOString(),
    from: h.from_tier,
    to: h.to_tier,
    basisValue: h.basis_value,
    reason: h.reason,
  }));
}

// ---- earning from orders and clawing back on refunds -------------------------------------------

const SALE = new Set(['paid', 'pending', 'refunded', 'partially_refunded']);

const monthsBefore = (d: Date, months: number) => {
  const x = new Date(d.getTime());
  x.setUTCMonth(x.getUTCMonth() - months);
  return x;
};

/**
 * The subscriber's handler: `order.placed` earns (enrolling the customer first under automatic
 * enrolment), `order.refunded` claws back and reverses redemptions against a fully refunded order.
 * Runs in the dispatcher's transaction (`ctx.tx`): a replay finds the grant and entry keys taken and
 * writes nothing.
 */
export async function handleOrderEvents(
  ctx: SubscriberContext,
  events: readonly DomainEvent[],
): Promise<{ earned: number; clawedBack: number }> {
  const p = await currentProgram(ctx);
  if (!p) return { earned: 0, clawedBack: 0 };
  const placed = events
    .filter((e) => e.type === 'order.placed')
    .map((e) => (e.payload as { order_id: number }).order_id);
  const refunded = events.filter((e) => e.type === 'order.refunded');
  let earned = 0;
  let clawedBack = 0;
  if (placed.length) earned = await earnOrders(ctx, ctx.tx, p, placed);
  if (refunded.length) clawedBack = await clawBack(ctx, ctx.tx, p, refunded);
  return { earned, clawedBack };
}

async function earnOrders(
  ctx: ModuleContext,
  tx: Queryable,
  p: LoadedProgram,
  orderIds: readonly number[],
): Promise<number> {
  const now = ctx.clock.now();
  const startsAt = p.config.startsAt ? new Date(p.config.startsAt) : null;
  const orders = (await repo.ordersById(tx, orderIds)).filter(
    (o) =>
      o.customer_id !== null &&
      SALE.has(o.status) &&
      o.currency === p.currency &&
      (!startsAt || o.ordered_at.getTime() >= startsAt.getTime()),
  );
  if (orders.length === 0) return 0;
  const customerIds = [...new Set(orders.map((o) => o.customer_id as number))];
  const ext = new Map<number, string>();
  for (const m of await repo.membersByIds(tx, customerIds)) ext.set(m.customer_id, m.external_id);
  if (p.config.enrollment === 'automatic') {
    const first = new Map<number, Date>();
    for (const o of orders) {
      const id = o.customer_id as number;
      const at = first.get(id);
      if (!at || o.ordered_at < at) first.set(id, o.ordered_at);
    }
    const need = customerIds.filter((id) => !ext.has(id));
    const names = await repo.externalIdsOf(tx, need);
    await enrolMany(
      ctx,
      tx,
      p,
      need.map((id) => ({
        customerId: id,
        externalId: names.get(id) ?? String(id),
        at: first.get(id)!,
        source: 'order',
      })),
      now,
    );
    for (const [id, name] of names) ext.set(id, name);
  }
  const members = new Map((await repo.membersByIds(tx, customerIds)).map((m) => [m.customer_id, m]));
  const lines = await repo.orderLines(
    tx,
    orders.map((o) => o.order_id),
  );
  const rules = earnRules(p);
  const multiplierOf = (tier: string | null) =>
    p.config.tiers.levels.find((t) => t.name === tier)?.multiplier ?? 1;
  const grants: repo.NewGrant[] = [];
  for (const o of orders) {
    const m = members.get(o.customer_id as number);
    // Opt-in members earn on orders from their enrolment on; automatic ones on every order since the start.
    if (!m || (p.config.enrollment === 'opt-in' && o.ordered_at < m.enrolled_at)) continue;
    const b = orderPoints(rules, lines.get(o.order_id) ?? [], o.discount_minor, multiplierOf(m.tier));
    if (b.points <= 0) continue;
    const availableAt = addDays(o.ordered_at, p.config.pendingDays);
    grants.push({
      customerId: m.customer_id,
      key: `order:${o.order_id}`,
      kind: 'order',
      orderId: o.order_id,
      programVersion: p.version,
      points: b.points,
      baseMinor: b.baseMinor,
      earnedAt: o.ordered_at,
      availableAt,
      expiresAt: addDays(availableAt, p.config.expiryDays),
      reason: null,
    });
  }
  let made = 0;
  if (grants.length)
    await inLedger(
      ctx,
      [...new Set(grants.map((g) => g.customerId))],
      now,
      async (s) => {
        for (const [id, name] of ext) s.externalIds.set(id, name);
        made = (await creditGrants(s, grants)).size;
      },
      tx,
    );
  // Tiers follow the orders: up at once; a fall waits for the nightly sweep's grace period.
  if (p.config.tiers.levels.length && members.size) {
    const latest = new Map<number, Date>();
    for (const o of orders) {
      const id = o.customer_id as number;
      if (!members.has(id)) continue;
      const at = o.ordered_at > now ? now : o.ordered_at;
      const seen = latest.get(id);
      if (!seen || at > seen) latest.set(id, at);
    }
    await evaluateTiers(ctx, tx, p, latest, 'order', false);
  }
  return made;
}

async function clawBack(
  ctx: ModuleContext,
  tx: Queryable,
  p: LoadedProgram,
  events: readonly DomainEvent[],
): Promise<number> {
  const now = ctx.clock.now();
  const refunds = events.map((e) => ({
    ...(e.payload as { refund_id: number; order_id: number | null }),
    // The refund's own time (the event's business time): a clawback shows in the refund's month.
    at: e.occurred_at ? new Date(e.occurred_at) : now,
  }));
  const orderIds = [...new Set(refunds.map((r) => r.order_id).filter((id): id is number => id !== null))];
  if (orderIds.length === 0) return 0;
  const grants = await repo.orderGrants(tx, orderIds);
  const refundedTotals = await repo.refundedTotals(tx, orderIds);
  const orders = new Map((await repo.ordersById(tx, orderIds)).map((o) => [o.order_id, o]));
  let clawed = 0;
  const members = [...new Set([...grants.values()].map((g) => g.customerId))];
  if (members.length)
    await inLedger(
      ctx,
      members,
      now,
      async (s) => {
        const seen = new Set<number>();
        for (const r of refunds) {
          if (r.order_id === null || seen.has(r.order_id)) continue;
          seen.add(r.order_id);
          const g = grants.get(r.order_id);
          const o = orders.get(r.order_id);
          const l = g && s.ledgers.get(g.customerId);
          if (!g || !o || !l) continue;
          // The running total: all refunds of the order recorded so far, however many events it took.
          const target = clawbackTarget(
            g.points,
            g.baseMinor,
            o.total_minor,
            refundedTotals.get(r.order_id) ?? 0,
          );
          const delta = target - g.clawed;
          if (delta <= 0) continue;
          const entry = l.clawback(g.grantId, delta, p.config.overdraft);
          s.writes.push({
            customerId: g.customerId,
            key: `clawback:refund:${r.refund_id}`,
            entry,
            points: delta,
            orderId: r.order_id,
            reason: entry.forgiven
              ? `refund; ${entry.forgiven} points already spent were written off`
              : entry.debtAdded
                ? `refund; ${entry.debtAdded} points owed`
                : 'refund',
            occurredAt: r.at,
          });
          clawed += delta;
        }
      },
      tx,
    );
  // Points spent against an order that was refunded in full come back.
  for (const id of orderIds) {
    const o = orders.get(id);
    if (!o || (refundedTotals.get(id) ?? 0) < o.total_minor) continue;
    for (const r of await repo.redemptionsOfOrder(tx, o.external_id))
      await reverseIn(ctx, tx, r, now, 'order refunded in full');
  }
  return clawed;
}

// ---- tiers --------------------------------------------------------------------------------------

/**
 * Re-evaluates members' tiers as of `at`: a higher tier applies at once; a lower one starts the
 * downgrade grace period (`nightly`: and applies when it has run out; a member back above the line
 * keeps the tier).
 */
async function evaluateTiers(
  ctx: Pick<ModuleContext, 'db'>,
  tx: Queryable,
  p: LoadedProgram,
  when: Date | ReadonlyMap<number, Date>,
  reason: string,
  nightly: boolean,
): Promise<{ up: number; down: number }> {
  const t = p.config.tiers;
  const levels = t.levels;
  // Nightly: every member as of now; after orders: each member as of their latest order.
  const basis =
    when instanceof Date
      ? await repo.tierBasis(tx, {
          basis: t.basis,
          currency: p.currency,
          from: monthsBefore(when, t.windowMonths),
          to: when,
        })
      : await repo.tierBasisWindows(tx, {
          basis: t.basis,
          currency: p.currency,
          windows: [...when].map(([customerId, to]) => ({
            customerId,
            from: monthsBefore(to, t.windowMonths),
            to,
          })),
        });
  const atOf = (id: number) => (when instanceof Date ? when : (when.get(id) as Date));
  // After orders only the batch's members are read (not every member, per batch).
  const rows = (await repo.membersForTiers(tx, when instanceof Date ? undefined : [...when.keys()])).filter(
    (m) => basis.has(m.customer_id),
  );
  const events: NewDomainEvent[] = [];
  let up = 0;
  let down = 0;
  for (const m of rows) {
    const at = atOf(m.customer_id);
    const value = basis.get(m.customer_id) ?? 0;
    const want = tierFor(levels, value)?.name ?? null;
    const now = tierRank(levels, m.tier);
    const next = tierRank(levels, want);
    // A tier the programme no longer has counts as none.
    if (next > now) {
      await repo.setTier(tx, {
        customerId: m.customer_id,
        from: m.tier,
        to: want,
        at,
        basisValue: value,
        reason,
      });
      events.push({
        type: 'tier.changed',
        customerId: m.customer_id,
        occurredAt: at,
        payload: { external_id: m.external_id, from: m.tier, to: want, direction: 'up', basis_value: value },
      });
      up++;
    } else if (next < now) {
      if (!nightly) continue;
      if (m.downgrade_at === null && t.downgradeGraceDays > 0)
        await repo.setDowngradeAt(tx, m.customer_id, addDays(at, t.downgradeGraceDays));
      else if (m.downgrade_at === null || m.downgrade_at.getTime() <= at.getTime()) {
        await repo.setTier(tx, {
          customerId: m.customer_id,
          from: m.tier,
          to: want,
          at,
          basisValue: value,
          reason: 'grace period over',
        });
        events.push({
          type: 'tier.changed',
          customerId: m.customer_id,
          occurredAt: at,
          payload: {
            external_id: m.external_id,
            from: m.tier,
            to: want,
            direction: 'down',
            basis_value: value,
          },
        });
        down++;
      }
    } else if (m.downgrade_at !== null) await repo.setDowngradeAt(tx, m.customer_id, null);
  }
  if (events.length)
    await recordEvents(
      tx,
      ctx.db.dialect,
      events,
      when instanceof Date ? when : new Date(Math.max(...[...when.values()].map((d) => d.getTime()))),
    );
  return { up, down };
}

// ---- redemption ---------------------------------------------------------------------------------

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
function newCode(prefix: string): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += CODE_ALPHABET[randomInt(0, CODE_ALPHABET.length)];
  return `${prefix ? `${prefix}-` : ''}${s.slice(0, 5)}-${s.slice(5)}`;
}

const redemptionOut = (r: repo.RedemptionRow): Redemption => ({
  id: r.redemption_id,
  customer: r.external_id,
  kind: r.kind,
  points: r.points,
  valueMinor: r.value_minor,
  currency: r.currency,
  code: r.code,
  order: r.order_ref,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at?.toISOString() ?? null,
  reversedAt: r.reversed_at?.toISOString() ?? null,
});

/**
 * `POST /v1/loyalty/redemptions`, `retain loyalty redeem`: spends points (FIFO by expiry) for a discount
 * code of their value, or against an order. The same idempotency key answers the first redemption and
 * spends nothing more (with other points or order: 409). Refused with nothing written: fewer points
 * available than asked, outside the programme's minimum/maximum, a value that is not a whole minor unit.
 */
export async function redeem(
  ctx: ModuleContext,
  input: unknown,
  by: string | null = null,
): Promise<{ redemption: Redemption; replayed: boolean }> {
  const parsed = RedeemInput.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'redemption');
  const q = parsed.data;
  const p = await requireProgram(ctx);
  const c = await customerOf(ctx.db, q.customer);
  const r = p.config.redemption;
  const value = valueOfPoints(p.config, q.points);
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    // The unique (customer, key) decides a repeat; the member's row lock (in inLedger) orders spending.
    const id = await repo.insertRedemption(tx, {
      customerId: c.customer_id,
      key: q.idempotencyKey,
      kind: q.order ? 'order' : 'code',
      points: q.points,
      valueMinor: value ?? 0,
      currency: p.currency,
      code: q.order ? null : newCode(r.codePrefix),
      orderRef: q.order ?? null,
      now,
      expiresAt: q.order ? null : addDays(now, r.codeDays),
    });
    if (id === null) {
      const first = (await repo.redemptionByKey(tx, c.customer_id, q.idempotencyKey))!;
      if (first.points !== q.points || first.order_ref !== (q.order ?? null))
        throw new AppError(
          'conflict',
          `idempotency key '${q.idempotencyKey}' was used for another redemption (${first.points} points${first.order_ref ? ` on order ${first.order_ref}` : ''})`,
          {
            where: { field: 'idempotencyKey' },
          },
        );
      return { id: first.redemption_id, replayed: true };
    }
    // Checked after the key: a retry of a redemption that succeeded answers it even if the rules changed.
    if (q.points < r.minPoints)
      throw new AppError('validation', `at least ${r.minPoints} points per redemption, asked ${q.points}`, {
        where: { field: 'points' },
      });
    if (r.maxPoints !== null && q.points > r.maxPoints)
      throw new AppError('validation', `at most ${r.maxPoints} points per redemption, asked ${q.points}`, {
        where: { field: 'points' },
      });
    if (value === null)
      throw new AppError(
        'validation',
        `${q.points} points are not worth a whole minor unit (${p.config.pointValue.points} points = ${p.config.pointValue.minor} minor units)`,
        {
          where: { field: 'points' },
        },
      );
    await inLedger(
      ctx,
      [c.customer_id],
      now,
      async (s) => {
        const l = notMember(s, c.customer_id, q.customer);
        const entry = l.debit('redeem', q.points);
        if (!entry)
          throw new AppError(
            'conflict',
            `cannot redeem ${q.points} points: ${Math.max(0, l.totals.available)} available`,
            {
              where: { field: 'points' },
              details: { available: l.totals.available, pending: l.totals.pending },
            },
          );
        s.writes.push({
          customerId: c.customer_id,
          key: `redeem:${id}`,
          entry,
          points: q.points,
          redemptionId: id,
          occurredAt: now,
          createdBy: by,
          reason: q.order ? `order ${q.order}` : 'discount code',
        });
      },
      tx,
    );
    return { id, replayed: false };
  });
  return { redemption: redemptionOut((await repo.redemptionById(ctx.db, out.id))!), replayed: out.replayed };
}

export async function getRedemption(ctx: ModuleContext, { id }: { id: number }): Promise<Redemption> {
  const r = await repo.redemptionById(ctx.db, id);
  if (!r) throw new AppError('not_found', `no redemption ${id}`, { where: { field: 'id' } });
  return redemptionOut(r);
}

export async function memberRedemptions(
  ctx: ModuleContext,
  { customer, limit }: { customer: string; limit: number },
): Promise<Redemption[]> {
  const c = await requireMember(ctx, customer);
  return (await repo.redemptionsOf(ctx.db, c.customer_id, limit)).map(redemptionOut);
}

async function reverseIn(
  ctx: Pick<ModuleContext, 'db'>,
  tx: Queryable,
  r: repo.RedemptionRow,
  now: Date,
  reason: string,
  by: string | null = null,
): Promise<boolean> {
  return inLedger(
    ctx,
    [r.customer_id],
    now,
    async (s) => {
      if (!(await repo.markReversed(tx, r.redemption_id, now, reason))) return false;
      const l = s.ledgers.get(r.customer_id);
      const entryId = await repo.entryIdByKey(tx, `redeem:${r.redemption_id}`);
      if (!l || entryId === null) return true;
      const allocations = await repo.allocationsOf(tx, entryId);
      // The grants it took from, also those spent to 0 (not among the open ones).
      for (const g of await repo.grantsById(
        tx,
        allocations.map((a) => a.grantId),
      ))
        if (!l.grant(g.id)) l.grants.push(g);
      const [back, lapsed] = l.reverse(allocations, now);
      s.writes.push({
        customerId: r.customer_id,
        key: `reverse:${r.redemption_id}`,
        entry: back!,
        points: r.points,
        redemptionId: r.redemption_id,
        reason,
        occurredAt: now,
        createdBy: by,
      });
      if (lapsed)
        s.writes.push({
          customerId: r.customer_id,
          key: `expire:reverse:${r.redemption_id}`,
          entry: lapsed,
          points: -lapsed.availableDelta,
          redemptionId: r.redemption_id,
          reason: 'returned points had expired',
          occurredAt: now,
        });
      return true;
    },
    tx,
  );
}

/**
 * `POST /v1/loyalty/redemptions/{id}/reverse`: a cancelled order or an unused code gives the points back
 * to the grants they came from (points of a grant that has expired meanwhile expire again at once).
 * A second call changes nothing.
 */
export async function reverseRedemption(
  ctx: ModuleContext,
  { id, body, by = null }: { id: number; body: unknown; by?: string | null },
): Promise<{ redemption: Redemption; reversed: boolean }> {
  const parsed = ReverseInput.safeParse(body ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'reversal');
  const r = await repo.redemptionById(ctx.db, id);
  if (!r) throw new AppError('not_found', `no redemption ${id}`, { where: { field: 'id' } });
  const now = ctx.clock.now();
  const reversed = await ctx.db.transaction((tx) => reverseIn(ctx, tx, r, now, parsed.data.reason, by));
  return { redemption: redemptionOut((await repo.redemptionById(ctx.db, id))!), reversed };
}

// ---- adjustments and actions ---------------------------------------------------------------------

/**
 * `POST /v1/loyalty/adjustments`: adds points (a grant expiring after `expiryDays`) or takes them away
 * (FIFO; refused below 0). One per idempotency key.
 */
export async function adjust(ctx: ModuleContext, input: unknown, by: string | null = null) {
  const parsed = AdjustInput.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'adjustment');
  const q = parsed.data;
  const p = await requireProgram(ctx);
  const c = await customerOf(ctx.db, q.customer);
  const now = ctx.clock.now();
  const key = `adjust:${c.customer_id}:${q.idempotencyKey}`;
  const applied = await ctx.db.transaction(async (tx) =>
    inLedger(
      ctx,
      [c.customer_id],
      now,
      async (s) => {
        const l = notMember(s, c.customer_id, q.customer);
        s.externalIds.set(c.customer_id, c.external_id);
        if (q.points > 0) {
          const ids = await creditGrants(s, [
            {
              customerId: c.customer_id,
              key,
              kind: 'adjust',
              orderId: null,
              programVersion: p.version,
              points: q.points,
              baseMinor: null,
              earnedAt: now,
              availableAt: now,
              expiresAt: addDays(now, q.expiryDays ?? p.config.expiryDays),
              reason: q.reason,
            },
          ]);
          const w = s.writes.find((x) => x.key === `earn:${key}`);
          if (w) w.createdBy = by;
          return ids.size === 1;
        }
        // Under the member's lock: the key cannot be taken between this look and the write (whose
        // unique key would refuse it anyway).
        if ((await repo.entryIdByKey(tx, key)) !== null) return false;
        const entry = l.debit('adjust', -q.points);
        if (!entry)
          throw new AppError(
            'conflict',
            `cannot take ${-q.points} points: ${Math.max(0, l.totals.available)} available`,
            { where: { field: 'points' } },
          );
        s.writes.push({
          customerId: c.customer_id,
          key,
          entry,
          points: -q.points,
          reason: q.reason,
          occurredAt: now,
          createdBy: by,
        });
        return true;
      },
      tx,
    ),
  );
  return { applied, member: await memberView(ctx, p, c.customer_id) };
}

/**
 * Points granted by another module inside its own transaction `tx` (a flow's points step), keyed
 * `key` (a second call with the key grants nothing). `program`: the current programme, read before the
 * transaction ({@link currentProgram}). `not_member`: the customer has not joined (nothing written).
 */
export async function grantPointsIn(
  ctx: Pick<ModuleContext, 'db'>,
  tx: Queryable,
  program: LoadedProgram,
  g: {
    customerId: number;
    externalId: string;
    key: string;
    points: number;
    reason: string;
    expiryDays?: number | undefined;
    now: Date;
  },
): Promise<'granted' | 'already' | 'not_member'> {
  return inLedger(
    ctx,
    [g.customerId],
    g.now,
    async (s) => {
      if (!s.ledgers.has(g.customerId)) return 'not_member';
      s.externalIds.set(g.customerId, g.externalId);
      const ids = await creditGrants(s, [
        {
          customerId: g.customerId,
          key: g.key,
          kind: 'action',
          orderId: null,
          programVersion: program.version,
          points: g.points,
          baseMinor: null,
          earnedAt: g.now,
          availableAt: g.now,
          expiresAt: addDays(g.now, g.expiryDays ?? program.config.expiryDays),
          reason: g.reason,
        },
      ]);
      return ids.size === 1 ? 'granted' : 'already';
    },
    tx,
  );
}

/** `POST /v1/loyalty/actions`: points for an action the programme names (one grant per reference). */
export async function rewardAction(ctx: ModuleContext, input: unknown) {
  const parsed = ActionInput.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'action');
  const q = parsed.data;
  const p = await requireProgram(ctx);
  const rule = p.config.actions[q.action];
  if (!rule) {
    const known = Object.keys(p.config.actions);
    throw new AppError(
      'validation',
      `the programme gives no points for '${q.action}'${known.length ? ` (it knows ${known.join(', ')})` : ' (it names no actions)'}`,
      {
        where: { field: 'action' },
      },
    );
  }
  const c = await customerOf(ctx.db, q.customer);
  const now = ctx.clock.now();
  const prefix = `action:${c.customer_id}:${q.action}:`;
  const granted = await ctx.db.transaction(async (tx) =>
    inLedger(
      ctx,
      [c.customer_id],
      now,
      async (s) => {
        notMember(s, c.customer_id, q.customer);
        // Counted under the member's lock: two concurrent actions cannot both pass the limit.
        if (
          rule.perMemberLimit !== null &&
          (await repo.grantCountForAction(tx, c.customer_id, prefix)) >= rule.perMemberLimit
        ) {
          if ((await repo.existingGrantKeys(tx, [prefix + q.reference])).size) return false;
          throw new AppError(
            'conflict',
            `'${q.action}' gives points at most ${rule.perMemberLimit} times per member`,
            { where: { field: 'action' } },
          );
        }
        s.externalIds.set(c.customer_id, c.external_id);
        const ids = await creditGrants(s, [
          {
            customerId: c.customer_id,
            key: prefix + q.reference,
            kind: 'action',
            orderId: null,
            programVersion: p.version,
            points: rule.points,
            baseMinor: null,
            earnedAt: now,
            availableAt: now,
            expiresAt: addDays(now, rule.expiryDays ?? p.config.expiryDays),
            reason: `${q.action} ${q.reference}`,
          },
        ]);
        return ids.size === 1;
      },
      tx,
    ),
  );
  return { granted, points: granted ? rule.points : 0, member: await memberView(ctx, p, c.customer_id) };
}

// ---- the schedule's sweep ----------------------------------------------------------------------

export interface SweepResult {
  settledMembers: number;
  birthdayGrants: number;
  expiringNotices: number;
  tiersUp: number;
  tiersDown: number;
}

/**
 * `loyalty.sweep` (hourly; `retain loyalty sweep`): releases pending points whose return window has
 * passed and expires the unspent remainder of grants past their expiry (in batches of members, each a
 * transaction); grants birthday bonuses in each member's time zone; records `points.expiring` once per
 * member and expiry day; re-evaluates tiers (downgrades after the grace period). Every step is keyed,
 * so a re-run after a crash finds its work done.
 */
export async function sweep(ctx: ModuleContext): Promise<SweepResult> {
  const p = await currentProgram(ctx);
  const out: SweepResult = {
    settledMembers: 0,
    birthdayGrants: 0,
    expiringNotices: 0,
    tiersUp: 0,
    tiersDown: 0,
  };
  if (!p) return out;
  const now = ctx.clock.now();
  for (;;) {
    const due = await repo.membersDue(ctx.db, now, 500);
    if (due.length === 0) break;
    await inLedger(ctx, due, now, async () => undefined);
    out.settledMembers += due.length;
    if (due.length < 500) break;
  }
  out.birthdayGrants = await birthdays(ctx, p, now);
  out.expiringNotices = await expiringNotices(ctx, p, now);
  if (p.config.tiers.levels.length) {
    const t = await ctx.db.transaction((tx) => evaluateTiers(ctx, tx, p, now, 'nightly', true));
    out.tiersUp = t.up;
    out.tiersDown = t.down;
  }
  return out;
}

async function birthdays(ctx: ModuleContext, p: LoadedProgram, now: Date): Promise<number> {
  const b = p.config.birthdayBonus;
  if (!b) return 0;
  const store = await getStore(ctx);
  const candidates: repo.NewGrant[] = [];
  const names = new Map<number, string>();
  for (const m of await repo.membersWithBirthday(ctx.db)) {
    const zone = m.time_zone ?? store.timeZone;
    let cal;
    try {
      cal = calendarOf(zone);
    } catch {
      cal = calendarOf(store.timeZone);
    }
    const year = birthdayOccurrence(
      { month: m.birthday.getUTCMonth() + 1, day: m.birthday.getUTCDate() },
      cal.localDayOfMs(now.getTime()),
      b.daysBefore,
      b.daysAfter,
    );
    if (year === null) continue;
    names.set(m.customer_id, m.external_id);
    candidates.push({
      customerId: m.customer_id,
      key: `birthday:${m.customer_id}:${year}`,
      kind: 'birthday',
      orderId: null,
      programVersion: p.version,
      points: b.points,
      baseMinor: null,
      earnedAt: now,
      availableAt: now,
      expiresAt: addDays(now, b.expiryDays ?? p.config.expiryDays),
      reason: `birthday ${year}`,
    });
  }
  const taken = await repo.existingGrantKeys(
    ctx.db,
    candidates.map((g) => g.key),
  );
  const fresh = candidates.filter((g) => !taken.has(g.key));
  let made = 0;
  for (let i = 0; i < fresh.length; i += 500) {
    const chunk = fresh.slice(i, i + 500);
    await inLedger(
      ctx,
      chunk.map((g) => g.customerId),
      now,
      async (s) => {
        for (const g of chunk) s.externalIds.set(g.customerId, names.get(g.customerId)!);
        made += (await creditGrants(s, chunk)).size;
      },
    );
  }
  return made;
}

async function expiringNotices(ctx: ModuleContext, p: LoadedProgram, now: Date): Promise<number> {
  const days = p.config.expiringNoticeDays;
  if (days <= 0) return 0;
  const rows = await repo.expiringSoon(ctx.db, now, addDays(now, days));
  if (rows.length === 0) return 0;
  return ctx.db.transaction(async (tx) => {
    const notices = rows.map((r) => ({
      key: `expiring:${r.customer_id}:${r.expires_at.toISOString().slice(0, 10)}`,
      customerId: r.customer_id,
      points: r.points,
      expiresAt: r.expires_at,
    }));
    const fresh = await repo.insertNotices(tx, notices, now);
    const events: NewDomainEvent[] = [];
    for (const [i, n] of notices.entries()) {
      if (!fresh.has(n.key)) continue;
      const r = rows[i]!;
      const m = await repo.memberById(tx, n.customerId);
      events.push({
        type: 'points.expiring',
        customerId: n.customerId,
        occurredAt: now,
        payload: {
          external_id: r.external_id,
          points: n.points,
          expires_at: n.expiresAt.toISOString(),
          balance: m?.available ?? 0,
        },
      });
    }
    if (events.length) await recordEvents(tx, ctx.db.dialect, events, now);
    return events.length;
  });
}
