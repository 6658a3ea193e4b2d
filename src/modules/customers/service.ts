import type { ModuleContext } from '../../kit/context.js';
import { encodeCursor, decodeCursor } from '../../kit/http/openapi.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import type { Dialect, Queryable, SqlValue } from '../../storage/port.js';
import { customerHooks } from '../../kit/customerHooks.js';
import { CustomerInput } from '../imports/schema.js';
import { mergeRows, parseJsonBody } from '../ingest/service.js';
import { recordEvents } from '../outbox/service.js';
import type { NewDomainEvent } from '../../kit/events.js';
import * as repo from './repository.js';
import { getStore } from '../settings/service.js';
import { minorDigits, minorToDecimal } from '../../shared/money.js';
import {
  CONSENT_CHANNELS,
  ConsentChannel,
  ConsentUpdate,
  MergeInput,
  type MergeResult,
  type DuplicatesResult,
  type ConsentEntry,
  type ConsentStatus,
  type Customer,
  type CustomerListQuery,
  type CustomerScores,
} from './schema.js';
import type { z } from '@hono/zod-openapi';

type ConsentChannelT = (typeof CONSENT_CHANNELS)[number];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toCustomer(r: repo.CustomerDbRow, consents: repo.ConsentDbRow[]): Customer {
  const consent = Object.fromEntries(
    CONSENT_CHANNELS.map((ch) => {
      const c = consents.find((x) => x.customer_id === r.customer_id && x.channel === ch);
      return [ch, c ? { status: c.status, changedAt: iso(c.changed_at), source: c.source } : null];
    }),
  ) as Customer['consent'];
  return {
    id: r.external_id,
    email: r.email,
    phone: r.phone,
    firstName: r.first_name,
    lastName: r.last_name,
    birthday: r.birthday ? r.birthday.toISOString().slice(0, 10) : null,
    country: r.country,
    acquisitionChannel: r.acquisition_channel,
    createdAt: iso(r.created_at),
    updatedAt: r.updated_at.toISOString(),
    consent,
    locale: r.locale,
    timeZone: r.time_zone,
  };
}

const isId = (v: unknown): v is { id: number } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { id?: unknown }).id);

function badCursor(): AppError {
  return new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
    where: { field: 'cursor' },
  });
}

/** A list cursor: the last row's customer_id and, on a sorted list, its sort, order and sort value. */
interface ListCursor {
  id: number;
  s?: string;
  o?: string;
  v?: number | string | null;
}
const isListCursor = (v: unknown): v is ListCursor =>
  isId(v) &&
  ['string', 'undefined'].includes(typeof (v as ListCursor).s) &&
  ['string', 'undefined'].includes(typeof (v as ListCursor).o) &&
  ((v as ListCursor).v === undefined ||
    (v as ListCursor).v === null ||
    ['string', 'number'].includes(typeof (v as ListCursor).v));

const DEFAULT_ASC = new Set(['id', 'nextOrderAt']);

/** Money in minor units → major units of the currency (null stays null). */
const major = (minor: number | null, currency: string | null) =>
  minor === null ? null : minorToDecimal(Number(minor), minorDigits(currency ?? 'USD'));

function scoresOf(r: repo.CustomerListDbRow, currency: string | null): CustomerScores {
  const n = (v: number | bigint | null) => (v === null ? null : Number(v));
  return {
    orders: n(r.orders),
    revenue: major(r.revenue_minor, currency),
    aov: major(r.aov_minor, currency),
    firstOrderAt: iso(r.first_order_at),
    lastOrderAt: iso(r.last_order_at),
    rfmSegment: r.rfm_segment,
    rfm: r.rfm_r === null ? null : `${r.rfm_r}${r.rfm_f}${r.rfm_m}`,
    pAlive: r.p_alive,
    churnRisk: r.p_alive === null ? null : 1 - r.p_alive,
    expectedPurchases: r.expected_purchases,
    clv: major(r.clv_minor, currency),
    nextOrderAt: iso(r.next_order_at),
  };
}

async function scoresContext(ctx: ModuleContext) {
  const [store, c] = await Promise.all([getStore(ctx), repo.listContext(ctx.db)]);
  return {
    currency: store.currency ?? c.run?.currency ?? null,
    scoresAt: iso(c.scoresAt),
    clvRun: c.run ? { modelVersion: c.run.model_version, asOf: c.run.as_of.toISOString() } : null,
  };
}

/**
 * `GET /v1/customers`: filtered, searched (shop id, email, name), sorted and keyset-paginated, each
 * customer with their scores (order aggregates and RFM stored by segments, the latest CLV run's
 * prediction) and the total matching.
 */
export async function listCustomers(ctx: ModuleContext, q: CustomerListQuery) {
  const { db } = ctx;
  const order = q.order ?? (DEFAULT_ASC.has(q.sort) ? 'asc' : 'desc');
  const after = decodeCursor(q.cursor, isListCursor);
  if (q.cursor && !after) throw badCursor();
  // A cursor continues the list it came from: the same sort and order.
  if (after && q.sort !== 'id' && (after.s !== q.sort || after.o !== order || after.v === undefined))
    throw badCursor();
  if (after && q.sort === 'id' && after.s !== undefined && (after.s !== 'id' || after.o !== order))
    throw badCursor();
  const filter: repo.CustomerFilter = {
    limit: q.limit + 1,
    ...(q.email ? { email: q.email } : {}),
    ...(q.country ? { country: q.country } : {}),
    ...(q.acquisitionChannel ? { acquisitionChannel: q.acquisitionChannel } : {}),
    ...(q.createdFrom ? { createdFrom: new Date(q.createdFrom) } : {}),
    ...(q.createdTo ? { createdTo: new Date(q.createdTo) } : {}),
    ...(q.q ? { search: q.q } : {}),
  };
  const [rows, total, context] = await Promise.all([
    repo.listCustomers(db, {
      ...filter,
      sort: q.sort,
      desc: order === 'desc',
      ...(after ? { after: { id: after.id, value: after.v ?? null } } : {}),
    }),
    repo.countCustomers(db, filter),
    scoresContext(ctx),
  ]);
  const pageRows = rows.slice(0, q.limit);
  const consents = await repo.consentsOf(
    db,
    pageRows.map((r) => r.customer_id),
  );
  const last = pageRows[pageRows.length - 1];
  const cursorOf = (r: repo.CustomerListDbRow) => {
    if (q.sort === 'id' && order === 'asc') return encodeCursor({ id: r.customer_id });
    const v = r.sort_value instanceof Date ? r.sort_value.toISOString() : r.sort_value;
    return encodeCursor({
      id: r.customer_id,
      s: q.sort,
      o: order,
      v: typeof v === 'bigint' ? Number(v) : v,
    });
  };
  return {
    data: pageRows.map((r) => ({ ...toCustomer(r, consents), scores: scoresOf(r, context.currency) })),
    nextCursor: rows.length > q.limit && last ? cursorOf(last) : null,
    total,
    ...context,
  };
}

/** `GET /v1/customers/{id}/scores`: one customer's figures, as the list gives them. */
export async function customerScores(ctx: ModuleContext, { id }: { id: string }) {
  const r = await row(ctx.db, id);
  const [rows, context] = await Promise.all([
    repo.listCustomers(ctx.db, { limit: 1, customerId: r.customer_id }),
    scoresContext(ctx),
  ]);
  return { customerId: id, scores: scoresOf(rows[0]!, context.currency), ...context };
}

/** The customer a shop id names — its own, or that of a customer merged into it (an alias). */
async function row(db: Queryable, id: string, field = 'id') {
  const r = await repo.customerByIdOrAlias(db, id);
  if (!r) throw new AppError('not_found', `no customer with id ${id}`, { where: { field } });
  return r;
}

export async function getCustomer({ db }: ModuleContext, { id }: { id: string }): Promise<Customer> {
  const r = await row(db, id);
  return toCustomer(r, await repo.consentsOf(db, [r.customer_id]));
}

/**
 * Creates or replaces a customer (fields absent from the body become empty; consents absent stay as
 * they are), through the importer's merge. `pathId` wins over the body's customer_id.
 */
export async function upsertCustomer(
  ctx: ModuleContext,
  { body, pathId }: { body: unknown; pathId?: string | undefined },
): Promise<{ customer: Customer; created: boolean; changed: boolean }> {
  const { db } = ctx;
  const now = ctx.clock.now();
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AppError('validation', 'invalid customer: expected a JSON object of customer fields');
  const raw: Record<string, unknown> = { ...body };
  if (pathId !== undefined) {
    const given = (raw as { customer_id?: unknown }).customer_id;
    if (given !== undefined && given !== pathId)
      throw new AppError(
        'validation',
        `customer_id ${String(given)} in the body differs from ${pathId} in the path`,
        {
          where: { field: 'customer_id' },
        },
      );
    (raw as { customer_id?: unknown }).customer_id = pathId;
  }
  const customer = parseJsonBody(CustomerInput, raw, 'customer');
  const out = await mergeRows(db, { entity: 'customers', rows: [customer] }, now);
  return {
    customer: await getCustomer(ctx, { id: customer.customerId }),
    created: out.inserted > 0,
    changed: out.inserted + out.updated > 0,
  };
}

export async function updateConsent(
  ctx: ModuleContext,
  { id, channel, body }: { id: string; channel: string; body: z.infer<typeof ConsentUpdate> },
): Promise<Customer> {
  const { db } = ctx;
  const now = ctx.clock.now();
  const ch = ConsentChannel.safeParse(channel);
  if (!ch.success) throw validationError(ch.error, 'channel');
  const r = await row(db, id);
  await db.transaction((tx) =>
    applyConsent(
      tx,
      db.dialect,
      { customerId: r.customer_id, externalId: r.external_id },
      ch.data,
      body,
      now,
    ),
  );
  return getCustomer(ctx, { id });
}

/**
 * One consent decision in the caller's transaction: the ledger entry, the current state and, when the
 * status changed, a `consent.changed` event. Returns the status before it.
 */
export async function applyConsent(
  tx: Queryable,
  dialect: Dialect,
  who: { customerId: number; externalId: string },
  channel: ConsentChannel,
  body: z.infer<typeof ConsentUpdate>,
  now: Date,
): Promise<string | null> {
  const changedAt = body.changedAt ? new Date(body.changedAt) : now;
  const from = await repo.consentStatus(tx, who.customerId, channel);
  await repo.setConsent(tx, {
    customerId: who.customerId,
    channel,
    status: body.status,
    changedAt,
    source: body.source ?? 'api',
    proof: body.proof ?? {},
    now,
  });
  if (from !== body.status)
    await recordEvents(
      tx,
      dialect,
      [
        {
          type: 'consent.changed',
          customerId: who.customerId,
          occurredAt: changedAt,
          payload: {
            external_id: who.externalId,
            channel,
            from: from as ConsentStatus | null,
            to: body.status,
          },
        },
      ],
      now,
    );
  return from;
}

/** One customer's consent ledger, oldest first (optionally one channel). */
export async function consentHistory(
  { db }: ModuleContext,
  { id, channel }: { id: string; channel?: string | undefined },
): Promise<{ data: ConsentEntry[] }> {
  const r = await row(db, id);
  const rows = await repo.consentHistory(db, r.customer_id, channel);
  return {
    data: rows.map((e) => ({
      channel: e.channel,
      status: e.status,
      source: e.source,
      occurredAt: iso(e.occurred_at),
      recordedAt: iso(e.recorded_at),
      ip: e.ip,
      userAgent: e.user_agent,
      formText: e.form_text,
    })),
  };
}

/** GDPR: everything Retain keeps about one customer, as one JSON document. */
export async function exportCustomer(ctx: ModuleContext, { id }: { id: string }) {
  const r = await row(ctx.db, id);
  const data = await repo.personalData(ctx.db, r.customer_id);
  return { id, exportedAt: ctx.clock.now().toISOString(), ...jsonSafe(data) };
}

/** Dates as ISO strings, the rest as stored (JSON-ready). */
function jsonSafe(
  data: Record<string, Record<string, unknown>[]>,
): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [k, rows] of Object.entries(data))
    out[k] = rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([f, v]) => [f, v instanceof Date ? v.toISOString() : v])),
    );
  return out;
}

/**
 * GDPR erasure (one transaction): the customers module's rows and, through their hooks, every other
 * module's (events, messaging, the outbox's references); personal data removed, orders kept as anonymous facts, the contact
 * never messaged again, and the erasure itself recorded as a `customer.erased` domain event (who, when).
 */
export async function eraseCustomer(ctx: ModuleContext, { id, by }: { id: string; by: string }) {
  const r = await row(ctx.db, id);
  const now = ctx.clock.now();
  const anonymous = await ctx.db.transaction(async (tx) => {
    const anon = await repo.eraseCustomer(tx, r.customer_id, now);
    for (const h of customerHooks()) await h.erase?.(tx, r.customer_id, now);
    await recordEvents(
      tx,
      ctx.db.dialect,
      [
        {
          type: 'customer.erased',
          customerId: r.customer_id,
          occurredAt: now,
          payload: { external_id: anon, erased_by: by },
        },
      ],
      now,
    );
    return anon;
  });
  return { erased: id, nowKnownAs: anonymous, erasedAt: now.toISOString() };
}

/** The customer's latest stored CLV prediction (money in minor units of the store currency). */
export async function customerPrediction({ db }: ModuleContext, { id }: { id: string }) {
  const r = await row(db, id);
  const p = await repo.latestPredictionOf(db, r.customer_id);
  if (!p)
    throw new AppError('not_found', `no CLV prediction for customer ${id}: run POST /v1/clv/predictions`);
  return {
    customerId: id,
    modelVersion: p.model_version,
    asOf: p.as_of.toISOString(),
    horizon: p.horizon,
    timeUnit: p.time_unit,
    expectedPurchases: p.expected_purchases,
    pAlive: p.p_alive,
    churnRisk: 1 - p.p_alive,
    clvMinor: p.clv_minor,
    expectedSpendMinor: p.expected_spend_minor,
    nextOrderAt: p.next_order_at ? p.next_order_at.toISOString() : null,
    currency: p.currency,
  };
}

/** Groups of customers sharing a canonical email, and separately a phone number (GET /v1/customers/duplicates). */
export async function listDuplicates(
  { db }: ModuleContext,
  { limit }: { limit: number },
): Promise<DuplicatesResult> {
  const groupsOf = async (by: 'email' | 'phone') => {
    const r = await repo.duplicateGroups(db, by, limit);
    const data: DuplicatesResult['email']['data'] = [];
    for (const x of r.rows) {
      const last = data[data.length - 1];
      if (last && last.key === x.key) last.customers.push(x.external_id);
      else data.push({ key: x.key, count: x.n, customers: [x.external_id] });
    }
    return { groups: r.groups, customers: r.customers, data };
  };
  return { email: await groupsOf('email'), phone: await groupsOf('phone') };
}

/**
 * Merges duplicates into one customer, in one transaction: every module's rows of the merged
 * customers become the survivor's (or, derived data, are dropped) through their customer hooks; the
 * consent ledgers are joined and each channel's current consent is the latest decision across them
 * (a `merge` ledger entry when that changes the survivor's); the survivor's empty fields are filled
 * from the merged (in the order named); the merged shop ids stay as aliases of the survivor; one
 * `customer.merged` domain event per merged customer. Any bad id fails the whole merge, nothing written.
 */
export async function mergeCustomers(
  ctx: ModuleContext,
  { id, body }: { id: string; body: unknown },
): Promise<z.infer<typeof MergeResult>> {
  const parsed = MergeInput.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'body');
  const { from } = parsed.data;
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    const into = await row(tx, id);
    if (into.erased_at)
      throw new AppError('conflict', `customer ${id} is erased: nothing can be merged into it`, {
        where: { field: 'id' },
      });
    const fromIds: number[] = [];
    for (const [i, ext] of from.entries()) {
      const field = `from[${i}]`;
      const r = await row(tx, ext, field);
      if (r.customer_id === into.customer_id)
        throw new AppError(
          'validation',
          r.alias_of !== null
            ? `${field}: ${ext} was already merged into ${into.external_id}`
            : `${field}: cannot merge customer ${ext} into itself`,
          { where: { field } },
        );
      if (r.alias_of !== null)
        throw new AppError(
          'validation',
          `${field}: ${ext} was merged into ${r.external_id}; name ${r.external_id}`,
          {
            where: { field },
          },
        );
      if (r.erased_at)
        throw new AppError('conflict', `${field}: customer ${ext} is erased`, { where: { field } });
      if (fromIds.includes(r.customer_id))
        throw new AppError('validation', `${field}: ${ext} is named twice`, { where: { field } });
      fromIds.push(r.customer_id);
    }
    const merged = await repo.customersById(tx, fromIds);
    const byId = new Map(merged.map((m) => [m.customer_id, m]));
    const ordered = fromIds.map((f) => byId.get(f) as repo.CustomerDbRow);
    // Empty fields of the survivor, filled from the merged in the order named.
    const filled: string[] = [];
    const fields = {} as Record<(typeof repo.FILLED_FIELDS)[number], SqlValue>;
    for (const f of repo.FILLED_FIELDS) {
      const own = into[f];
      const other = ordered.map((m) => m[f]).find((v) => v !== null && v !== undefined) ?? null;
      fields[f] = own ?? other;
      if (own === null && other !== null) filled.push(f);
    }
    const created = [into, ...ordered]
      .map((m) => m.created_at)
      .filter((d): d is Date => d !== null)
      .sort((a, b) => a.getTime() - b.getTime())[0];
    await repo.fillCustomer(tx, into.customer_id, { ...fields, created_at: created ?? null }, now);
    // The current consent per channel: the latest decision across them (no time: the oldest; ties: the survivor's).
    const order = [into.customer_id, ...fromIds];
    const consents = (await repo.consentsOf(tx, order)).sort(
      (a, b) => order.indexOf(a.customer_id) - order.indexOf(b.customer_id),
    );
    const time = (c: repo.ConsentDbRow) => c.changed_at?.getTime() ?? -Infinity;
    const changed: ConsentChannelT[] = [];
    const domain: NewDomainEvent[] = [];
    for (const ch of CONSENT_CHANNELS) {
      const own = consents.find((c) => c.channel === ch && c.customer_id === into.customer_id);
      let best = own;
      for (const c of consents)
        if (c.channel === ch && c.customer_id !== into.customer_id && (!best || time(c) > time(best)))
          best = c;
      if (!best || best === own) continue;
      await repo.setConsent(tx, {
        customerId: into.customer_id,
        channel: ch,
        status: best.status,
        changedAt: best.changed_at ?? now,
        source: 'merge',
        proof: {},
        now,
      });
      changed.push(ch);
      if (own?.status !== best.status)
        domain.push({
          type: 'consent.changed',
          customerId: into.customer_id,
          occurredAt: best.changed_at ?? now,
          payload: { external_id: into.external_id, channel: ch, from: own?.status ?? null, to: best.status },
        });
    }
    for (const h of customerHooks()) await h.merge?.(tx, fromIds, into.customer_id, now);
    await repo.absorbCustomers(tx, fromIds, into.customer_id, now);
    for (const m of ordered)
      domain.push({
        type: 'customer.merged',
        customerId: into.customer_id,
        occurredAt: now,
        payload: {
          external_id: into.external_id,
          merged_customer_id: m.customer_id,
          merged_external_id: m.external_id,
        },
      });
    await recordEvents(tx, ctx.db.dialect, domain, now);
    return {
      into: into.external_id,
      merged: ordered.map((m) => m.external_id),
      consentsChanged: changed,
      filled,
    };
  });
  return { ...out, customer: await getCustomer(ctx, { id: out.into }) };
}

/**
 * `retain demo`: gives the demo store's customers invented contact details, locales and consent
 * (demoContacts.ts says what is modelled) through the importer's merge, so the consent ledger records
 * them (source `demo generator`). Only into a store where no customer has an email yet: a second run, or
 * a contact who unsubscribed since, is left as it is. Returns how many customers got contacts.
 */
export async function addDemoContacts(ctx: ModuleContext): Promise<number> {
  if (await repo.anyEmail(ctx.db)) return 0;
  const { demoContact } = await import('./demoContacts.js');
  const rows = (await repo.customersWithCountry(ctx.db)).map((c) =>
    CustomerInput.parse(demoContact(c.external_id, c.country)),
  );
  if (rows.length === 0) return 0;
  await mergeRows(ctx.db, { entity: 'customers', rows }, ctx.clock.now());
  return rows.length;
}
