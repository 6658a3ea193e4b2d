import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ModuleContext } from '../../kit/context.js';
import type { Queryable } from '../../storage/port.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { consentStatus, customersByShopIds } from '../customers/repository.js';
import { updateConsent } from '../customers/service.js';
import type { ProductDbRow } from '../products/repository.js';
import { getStore } from '../settings/service.js';
import { openChannels, parseChannelConfig, type ChannelsConfig } from './channels/config.js';
import type { Channel, ChannelKind, SendOutcome } from './channels/port.js';
import { parseDeliveryReport, parseInboundSms } from './channels/sms.js';
import { parseTelegramUpdate } from './channels/telegram.js';
import { preferencesToken, publicBase } from './links.js';
import { keyOfOpenToken, ofClickToken, trackMessage } from './tracking.js';
import { checkOptInTemplate } from './optinTemplates.js';
import { quietUntil } from './policy.js';
import { mentionsRecommendations, recommendationsFor } from './recommendations.js';
import * as repo from './repository.js';
import { MessagingPolicy, SendRequest, type Send } from './schema.js';
import { parseCompiledTemplate, parseTemplateSource, type CompiledTemplate } from './templateSchema.js';
import { compileTemplate, renderTemplate, type RenderedMessage } from './templates.js';

/**
 * The one send path (issue 21). Every module that messages a contact — campaigns, flows, surveys,
 * loyalty — calls {@link queueSend}; {@link deliverDue} (the `messaging.deliver` job, or `retain send
 * --deliver`) delivers. The ledger row, keyed source × step × customer × occurrence, is written before
 * any provider is called; consent, erasure, suppression, the frequency cap and quiet hours are checked
 * when the message is due, not when it was queued. docs/messaging.md tells the whole story, including
 * the crash window.
 */

const enc = encodeURIComponent;

/**
 * The ledger key of a message is `source/step/customer id/occurrence`, each part URL-encoded: the parts
 * around the customer id, which the queueing SQL fills in per customer.
 */
function keyAround(source: string, step: string, occurrence: string) {
  return { keyPrefix: `${enc(source)}/${enc(step)}/`, keySuffix: `/${enc(occurrence)}` };
}

/** The ledger key of one message (what {@link queueSendTo} writes for the customer). */
export function sendKeyOf(source: string, step: string, customerId: number, occurrence: string): string {
  const k = keyAround(source, step, occurrence);
  return `${k.keyPrefix}${customerId}${k.keySuffix}`;
}

// ------------------------------------------------------------------------------------------------
// Templates

export async function saveTemplate(ctx: ModuleContext, { body, by }: { body: unknown; by: string | null }) {
  const source = parseTemplateSource(body);
  checkOptInTemplate(source);
  const compiled = await compileTemplate(source);
  const now = ctx.clock.now();
  const version = await ctx.db.transaction((tx) =>
    repo.insertTemplate(tx, {
      name: source.name,
      channel: source.channel,
      kind: source.kind,
      source: JSON.stringify(source),
      compiled: JSON.stringify(compiled),
      created_at: now,
      created_by: by,
    }),
  );
  return templateOut({ ...source, version, created_at: now, created_by: by });
}

const templateOut = (t: {
  name: string;
  version: number;
  channel: string;
  kind: string;
  variants: { locale: string }[];
  created_at: Date;
  created_by: string | null;
}) => ({
  name: t.name,
  version: t.version,
  channel: t.channel,
  kind: t.kind,
  locales: t.variants.map((v) => v.locale),
  createdAt: t.created_at.toISOString(),
  createdBy: t.created_by,
});

async function templateRow(ctx: ModuleContext, name: string) {
  const t = await repo.latestTemplate(ctx.db, name);
  if (!t) throw new AppError('not_found', `no template named '${name}'`, { where: { field: 'template' } });
  return t;
}

export async function getTemplate(ctx: ModuleContext, { name }: { name: string }) {
  const t = await templateRow(ctx, name);
  const source = JSON.parse(t.source) as { variants: { locale: string }[] };
  return { ...templateOut({ ...t, variants: source.variants }), source: JSON.parse(t.source) as unknown };
}

export async function listTemplates(ctx: ModuleContext) {
  return {
    data: (await repo.listTemplates(ctx.db)).map((t) =>
      templateOut({ ...t, variants: (JSON.parse(t.source) as { variants: { locale: string }[] }).variants }),
    ),
  };
}

/** Renders a template for one real customer, strictly (an unknown variable is an error). */
export async function previewTemplate(
  ctx: ModuleContext,
  { name, customer, locale }: { name: string; customer: string; locale?: string | undefined },
): Promise<RenderedMessage> {
  const t = await templateRow(ctx, name);
  const row = await repo.previewCustomer(ctx.db, customer);
  if (!row)
    throw new AppError('not_found', `no customer with id '${customer}'`, { where: { field: 'customer' } });
  const store = await getStore(ctx);
  const policy = await getPolicy(ctx);
  const base = policy.publicUrl ?? 'http://localhost';
  const compiled = parseCompiledTemplate(JSON.parse(t.compiled));
  return renderTemplate(
    compiled,
    locale ?? row?.locale ?? null,
    {
      customer: { ...row },
      store: { name: store.name ?? null, currency: store.currency, time_zone: store.timeZone },
      unsubscribe_url: `${base}/u/preview`,
      preferences_url: `${base}/p/preview`,
      discount_code: null,
      recommendations: mentionsRecommendations(compiled)
        ? await recommendationsFor(ctx, row.external_id, {
            locale: locale ?? row.locale ?? store.locale ?? 'en',
            currency: store.currency,
          })
        : [],
      points: null,
      tier: null,
    },
    { strict: true, storeLocale: store.locale },
  );
}

// ------------------------------------------------------------------------------------------------
// Policy

export async function getPolicy(ctx: ModuleContext): Promise<MessagingPolicy> {
  const value = await repo.readSetting(ctx.db, 'messaging_policy');
  return MessagingPolicy.parse(value ? JSON.parse(value) : {});
}

export async function setPolicy(ctx: ModuleContext, input: unknown): Promise<MessagingPolicy> {
  const current = await getPolicy(ctx);
  const merged =
    typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...current, ...input } : input;
  const parsed = MessagingPolicy.safeParse(merged);
  if (!parsed.success) throw validationError(parsed.error, 'messaging policy');
  if (parsed.data.doubleOptIn.length > 0 && !parsed.data.publicUrl)
    throw new AppError(
      'validation',
      'doubleOptIn needs publicUrl: the confirmation link points at retain serve',
      { where: { field: 'doubleOptIn' } },
    );
  await repo.writeSetting(ctx.db, 'messaging_policy', JSON.stringify(parsed.data));
  return parsed.data;
}

// ------------------------------------------------------------------------------------------------
// Queueing

/**
 * Queues one template for listed customers: one ledger row per key, in one transaction, with the
 * delivery job. A key already in the ledger is left as it is (the request may be repeated safely).
 * Unknown customers are a 400 naming the first (`customers[3]`), with nothing written.
 */
export async function queueSend(ctx: ModuleContext, input: unknown) {
  const parsed = SendRequest.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, 'send request');
  const req = parsed.data;
  const t = await templateRow(ctx, req.template);
  if (t.kind === 'marketing' && t.channel === 'email' && !(await getPolicy(ctx)).publicUrl)
    throw new AppError(
      'validation',
      'a marketing email needs a one-click unsubscribe link: set the messaging policy publicUrl (the address contacts reach retain serve at) first',
      { where: { field: 'publicUrl' } },
    );
  const ids = await customersByShopIds(ctx.db, req.customers);
  const missing = req.customers.findIndex((c) => !ids.has(c));
  if (missing >= 0)
    throw new AppError('validation', `no customer with id '${req.customers[missing]}'`, {
      where: { field: `customers[${missing}]` },
    });
  const unique = [...new Set(req.customers.map((c) => ids.get(c)!.id))];
  const step = req.step ?? req.template;
  const now = ctx.clock.now();
  const queued = await ctx.db.transaction((tx) =>
    enqueueWithJob(ctx, tx, {
      rows: {
        ...keyAround(req.source, step, req.occurrence),
        channel: t.channel,
        kind: t.kind,
        source: req.source,
        step,
        occurrence: req.occurrence,
        template: t.name,
        templateVersion: t.version,
        variables: req.variables ? JSON.stringify(req.variables) : null,
        now,
        notBefore: now,
      },
      recipients: unique,
    }),
  );
  if (queued > 0) ctx.jobs.notify(DELIVER_JOB);
  return { queued, alreadyQueued: unique.length - queued, template: t.name, templateVersion: t.version };
}

async function enqueueWithJob(
  ctx: ModuleContext,
  tx: Queryable,
  { rows, recipients }: { rows: repo.EnqueueRows; recipients: readonly repo.EnqueueRecipient[] },
): Promise<number> {
  const n = await repo.enqueueSends(tx, rows, recipients);
  if (n > 0) {
    // Due now, or (the earliest of the rows due later) when the first of them is.
    const due = recipients.reduce<number>((at, r) => {
      const t = typeof r === 'number' ? undefined : r.notBefore?.getTime();
      return Math.min(at, t ?? rows.notBefore.getTime());
    }, Infinity);
    // One delivery job for a burst of sends: a queued one due by then delivers these rows too.
    await ctx.jobs.wakeIn(tx, DELIVER_JOB, due > rows.now.getTime() ? { runAt: new Date(due) } : {});
  }
  return n;
}

/** One recipient of {@link queueSendTo}: an internal customer id, its own variables and due time. */
export interface SendRecipient {
  customerId: number;
  variables?: Record<string, unknown>;
  notBefore?: Date;
}

/**
 * For other modules (campaigns, flows): queues one template for internal customer ids, each with its
 * own template variables (a personal discount code) and due time (a local send time), inside the
 * caller's transaction, so the caller's own rows (assignments, codes) and the ledger rows commit
 * together. Keys already in the ledger are left as they are. The caller calls {@link notifyDelivery}
 * after the commit.
 */
export async function queueSendTo(
  ctx: ModuleContext,
  tx: Queryable,
  input: {
    template: { name: string; version: number; channel: string; kind: string };
    source: string;
    step: string;
    occurrence: string;
    recipients: readonly SendRecipient[];
  },
): Promise<number> {
  const now = ctx.clock.now();
  const t = input.template;
  return enqueueWithJob(ctx, tx, {
    rows: {
      ...keyAround(input.source, input.step, input.occurrence),
      channel: t.channel,
      kind: t.kind,
      source: input.source,
      step: input.step,
      occurrence: input.occurrence,
      template: t.name,
      templateVersion: t.version,
      variables: null,
      now,
      notBefore: now,
    },
    recipients: input.recipients.map((r) => ({
      customerId: r.customerId,
      variables: r.variables ? JSON.stringify(r.variables) : null,
      notBefore: r.notBefore && r.notBefore.getTime() > now.getTime() ? r.notBefore : undefined,
    })),
  });
}

/** Wakes the delivery worker after a commit that queued messages. */
export const notifyDelivery = (ctx: ModuleContext) => ctx.jobs.notify(DELIVER_JOB);

/** The latest version of a template, for {@link queueSendTo} (a 404 naming it when there is none). */
export async function templateForSend(ctx: ModuleContext, name: string) {
  const t = await templateRow(ctx, name);
  if (t.kind === 'marketing' && t.channel === 'email' && !(await getPolicy(ctx)).publicUrl)
    throw new AppError(
      'validation',
      'a marketing email needs a one-click unsubscribe link: set the messaging policy publicUrl (the address contacts reach retain serve at) first',
      { where: { field: 'publicUrl' } },
    );
  return { name: t.name, version: t.version, channel: t.channel, kind: t.kind };
}

/** Holds a source's queued messages (a paused campaign): none is claimed until {@link releaseSends}. */
export const holdSends = (tx: Queryable, source: string, at: Date, reason: string) =>
  repo.holdSource(tx, source, at, reason);
export const releaseSends = (tx: Queryable, source: string) => repo.releaseSource(tx, source);
/** Ends a source's queued messages as `skipped` (a cancelled campaign); returns how many. */
export const dropQueuedSends = (tx: Queryable, source: string, at: Date, reason: string) =>
  repo.dropQueued(tx, source, at, reason);
export const pendingSends = (db: Queryable, source: string) => repo.pendingOf(db, source);

export const DELIVER_JOB = 'messaging.deliver';

/** A contact's preference page (`preferences_url`): `<publicUrl>/p/<signed customer id>`. */
const preferencesUrlOf = (publicUrl: string | null, secret: string, customerId: number) =>
  `${(publicUrl ?? '').replace(/\/$/, '')}/p/${preferencesToken(secret, customerId)}`;

// ------------------------------------------------------------------------------------------------
// Links

async function secretOf(ctx: ModuleContext): Promise<string> {
  return repo.linkSecret(ctx.db, randomBytes(32).toString('base64url'));
}

const sign = (secret: string, key: string) =>
  createHmac('sha256', secret).update(`unsubscribe:${key}`).digest('base64url').slice(0, 32);

export function unsubscribeToken(secret: string, key: string): string {
  return `${Buffer.from(key).toString('base64url')}.${sign(secret, key)}`;
}

async function keyOfToken(ctx: ModuleContext, token: string): Promise<string> {
  const [k, mac] = token.split('.');
  const bad = () => new AppError('not_found', 'this link is not valid (or was altered)');
  if (!k || !mac) throw bad();
  const key = Buffer.from(k, 'base64url').toString();
  const want = Buffer.from(sign(await secretOf(ctx), key));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw bad();
  return key;
}

/** What an unsubscribe link leads to: the contact, the channel and its consent now. */
export async function unsubscribeInfo(ctx: ModuleContext, { token }: { token: string }) {
  const key = await keyOfToken(ctx, token);
  const s = await repo.sendByKey(ctx.db, key);
  if (!s) throw new AppError('not_found', 'this link is not valid (or was altered)');
  const consent = await consentStatus(ctx.db, s.customer_id, s.channel);
  return { key, customer: s.external_id, channel: s.channel, consent, locale: s.locale };
}

/**
 * The one-click unsubscribe (RFC 8058 POST, or the page's button): the channel's consent becomes
 * `unsubscribed` with the link as its source and the request's IP and user agent as proof — in the
 * ledger before the next batch is checked. Repeating it changes nothing more.
 */
export async function unsubscribe(
  ctx: ModuleContext,
  { token, ip, userAgent }: { token: string; ip?: string | undefined; userAgent?: string | undefined },
) {
  const info = await unsubscribeInfo(ctx, { token });
  await repo.recordEngagement(ctx.db, {
    key: info.key,
    kind: 'unsubscribe',
    target: '',
    at: ctx.clock.now(),
  });
  if (info.consent !== 'unsubscribed')
    await updateConsent(ctx, {
      id: info.customer,
      channel: info.channel,
      body: {
        status: 'unsubscribed',
        source: 'unsubscribe link',
        proof: { ...(ip ? { ip } : {}), ...(userAgent ? { userAgent: userAgent.slice(0, 1000) } : {}) },
      },
    });
  return { ...info, consent: 'unsubscribed' };
}

/** The open pixel's request: recorded when the token is ours (an altered one records nothing). */
export async function trackOpen(ctx: ModuleContext, { token }: { token: string }): Promise<boolean> {
  const key = keyOfOpenToken(await secretOf(ctx), token);
  return (
    key !== null && repo.recordEngagement(ctx.db, { key, kind: 'open', target: '', at: ctx.clock.now() })
  );
}

/**
 * A tracked link's request: the click recorded, and where to send the contact. An altered token is a
 * 404 with nothing recorded (and no redirect: the link leads only where the store's message pointed).
 */
export async function trackClick(ctx: ModuleContext, { token }: { token: string }): Promise<string> {
  const c = ofClickToken(await secretOf(ctx), token);
  if (!c) throw new AppError('not_found', 'this link is not valid (or was altered)');
  await repo.recordEngagement(ctx.db, { key: c.key, kind: 'click', target: c.url, at: ctx.clock.now() });
  return c.url;
}

// ------------------------------------------------------------------------------------------------
// Delivery

export interface DeliverOptions {
  channels: Partial<Record<ChannelKind, Channel | undefined>>;
  /** Rows read per round (default 1000). */
  batch?: number;
  /** Messages in flight at once (default 10). */
  concurrency?: number;
  /** Results move with each claim, else every `chunk` messages (default 100) or after a second (the
   *  providers' acceptances are stamped sooner, with the hand-overs). */
  chunk?: number;
  /** A handed-over `sending` row older than this is a stopped sender's (default 10 minutes: beyond any
   *  provider timeout); a claimed one is after `claimStaleMs` (default 1 minute). 0 after a crash. */
  staleMs?: number;
  claimStaleMs?: number;
  /** Stop after this many messages sent (default: until nothing is due). */
  max?: number;
  signal?: AbortSignal;
}

export interface DeliverCounts {
  sent: number;
  rejected: number;
  skipped: number;
  deferred: number;
  retried: number;
  unknown: number;
  requeued: number;
  /** Rows a stopped sender had delivered (the provider's acceptance recorded), now marked sent. */
  recoveredSent: number;
}

const RETRY_LIMIT = 6;
/** Rows the ledger writer claims at a time, just ahead of the senders (see deliverDue's pipeline). */
const GROUP_MIN = 20;
export const GROUP_MAX = 200;
const backoffMs = (attempts: number) => Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));

/** Delivers what is due, round after round, until nothing is (or `max`/`signal`). */
export async function deliverDue(ctx: ModuleContext, opts: DeliverOptions): Promise<DeliverCounts> {
  const counts: DeliverCounts = {
    sent: 0,
    rejected: 0,
    skipped: 0,
    deferred: 0,
    retried: 0,
    unknown: 0,
    requeued: 0,
    recoveredSent: 0,
  };
  const kinds = (Object.keys(opts.channels) as ChannelKind[]).filter((k) => opts.channels[k]);
  if (kinds.length === 0)
    throw new AppError('validation', 'no channel is configured (RETAIN_CHANNELS or `retain channels set`)');
  const concurrency = Math.max(1, opts.concurrency ?? 10);
  const policy = await getPolicy(ctx);
  const store = await getStore(ctx);
  const secret = await secretOf(ctx);
  const templates = new Map<string, CompiledTemplate>();
  const products = new Map<string, ProductDbRow | undefined>();
  const compiledOf = async (name: string, version: number) => {
    const id = `${name}@${version}`;
    let c = templates.get(id);
    if (!c) {
      const t = await repo.templateVersion(ctx.db, name, version);
      if (!t) throw new AppError('internal', `template ${id} is gone`);
      c = parseCompiledTemplate(JSON.parse(t.compiled));
      templates.set(id, c);
    }
    return c;
  };
  {
    const now = ctx.clock.now();
    const idempotent = kinds.filter((k) => opts.channels[k]?.idempotent);
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const r = await ctx.db.transaction((tx) =>
      repo.recoverStale(
        tx,
        now,
        {
          claimsBefore: ago(opts.claimStaleMs ?? Math.min(opts.staleMs ?? 60_000, 60_000)),
          handedBefore: ago(opts.staleMs ?? 600_000),
        },
        idempotent,
      ),
    );
    counts.requeued += r.requeued;
    counts.unknown += r.unknown;
    counts.recoveredSent += r.sent;
  }
  /** This run's claims: results and hand-overs apply only to rows it still holds. */
  const claimant = randomBytes(9).toString('base64url');
  const started = Date.now();
  const sentPerChannel: Record<string, number> = {};
  const throttle = async (kind: ChannelKind, n: number) => {
    sentPerChannel[kind] = (sentPerChannel[kind] ?? 0) + n;
    const due = (sentPerChannel[kind] * 1000) / policy.perSecond[kind] - (Date.now() - started);
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  };
  const chunkSize = Math.max(1, opts.chunk ?? 100);
  const trackingOn = !!policy.publicUrl && (policy.tracking.opens || policy.tracking.clicks);
  const linkOf = (key: string) =>
    policy.publicUrl
      ? `${policy.publicUrl.replace(/\/$/, '')}/u/${unsubscribeToken(secret, key)}`
      : undefined;
  interface Results {
    moves: repo.SendMove[];
    suppress: { channel: string; address: string; reason: string; source: string }[];
  }
  const classify = (outcomes: Outcome[], done: Date): Results => {
    const out: Results = { moves: [], suppress: [] };
    for (const [r, o, locale, handed] of outcomes) {
      const move = { key: r.send_key, from: 'sending' as const };
      const to = { address: r.address, locale };
      if (o.status === 'sent') out.moves.push({ ...move, to: 'sent', providerId: o.providerId, ...to });
      else if (o.status === 'rejected') {
        out.moves.push({ ...move, to: 'rejected', reason: o.reason, ...to });
        if (o.suppress)
          out.suppress.push({
            channel: r.channel,
            address: r.address,
            reason: o.reason.slice(0, 500),
            source: 'bounce',
          });
        // Ambiguous only once handed over: a session lost before that never gave the provider the message.
      } else if (o.ambiguous && handed && !opts.channels[r.channel]?.idempotent)
        out.moves.push({ ...move, to: 'unknown', reason: `the provider may have taken it: ${o.reason}` });
      else if (r.attempts + 1 >= RETRY_LIMIT)
        out.moves.push({
          ...move,
          to: 'rejected',
          reason: `gave up after ${RETRY_LIMIT} attempts: ${o.reason}`,
          ...to,
        });
      else
        out.moves.push({
          ...move,
          to: 'queued',
          notBefore: new Date(done.getTime() + Math.max(o.retryAfterMs ?? 0, backoffMs(r.attempts + 1))),
          reason: o.reason,
        });
    }
    return out;
  };
  /** Records results and claims rows in one statement (with the suppressions, a transaction). */
  const record = async (r: Results | null, claims: string[]) => {
    const at = ctx.clock.now();
    const moves: repo.SendMove[] = (r?.moves ?? []).concat(
      claims.map((key) => ({ key, from: 'queued', to: 'sending', claim: true })),
    );
    const moved =
      r && r.suppress.length > 0
        ? await ctx.db.transaction(async (tx) => {
            const m = await repo.advanceSends(tx, ctx.db.dialect, at, claimant, moves);
            await repo.suppress(tx, r.suppress, at);
            return m;
          })
        : await repo.advanceSends(ctx.db, ctx.db.dialect, at, claimant, moves);
    for (const m of r?.moves ?? []) {
      const status = moved.get(m.key);
      if (status === 'sent') counts.sent++;
      else if (status === 'rejected') counts.rejected++;
      else if (status === 'queued') counts.retried++;
      else if (status === 'unknown') counts.unknown++;
    }
    return moved;
  };
  type Due = repo.DueDbRow & { address: string };
  /** A message's result: the row, the provider's answer, the locale used, whether it was handed over. */
  type Outcome = [Due, SendOutcome, string, boolean];
  const rest: Due[] = [];
  let exhausted = false;
  /** One round: the due rows read, checked now, the skipped and deferred closed; the rest queued. */
  const loadRound = async () => {
    const now = ctx.clock.now();
    const capSince = policy.frequencyCap
      ? new Date(now.getTime() - policy.frequencyCap.days * 86_400_000)
      : null;
    const rows = (await repo.dueSends(ctx.db, now, capSince, opts.batch ?? 1000)).filter((r) =>
      kinds.includes(r.channel),
    );
    if (rows.length === 0) {
      exhausted = true;
      return;
    }
    const skip: { key: string; reason: string }[] = [];
    const defer: { key: string; until: Date; reason: string }[] = [];
    const approved = new Map<number, number>();
    for (const r of rows) {
      const address = r.channel === 'email' ? r.email : r.channel === 'sms' ? r.phone : r.chat_id;
      const marketing = r.kind === 'marketing';
      if (r.erased_at) skip.push({ key: r.send_key, reason: 'erased' });
      else if (!address)
        skip.push({
          key: r.send_key,
          reason: `no ${r.channel === 'messenger' ? 'messenger chat' : r.channel === 'sms' ? 'phone' : 'email'}`,
        });
      else if (r.suppressed) skip.push({ key: r.send_key, reason: `suppressed (${r.suppressed})` });
      else if (marketing && r.consent !== 'granted')
        skip.push({ key: r.send_key, reason: `no ${r.channel} consent (${r.consent ?? 'never given'})` });
      else if (
        marketing &&
        policy.frequencyCap &&
        r.recent + (approved.get(r.customer_id) ?? 0) >= policy.frequencyCap.max
      )
        skip.push({
          key: r.send_key,
          reason: `frequency cap (${policy.frequencyCap.max} marketing messages per ${policy.frequencyCap.days} days)`,
        });
      else {
        const until = marketing ? quietUntil(now, r.time_zone ?? store.timeZone, policy.quietHours) : null;
        if (until) defer.push({ key: r.send_key, until, reason: 'quiet hours in the contact’s time zone' });
        else {
          approved.set(r.customer_id, (approved.get(r.customer_id) ?? 0) + 1);
          rest.push({ ...r, address });
        }
      }
    }
    await ctx.db.transaction(async (tx) => {
      await repo.closeSends(tx, now, skip, { from: 'queued', to: 'skipped' });
      await repo.deferSends(tx, now, defer);
    });
    counts.skipped += skip.length;
    counts.deferred += defer.length;
  };
  const renderOne = async (r: Due, link: string | undefined): Promise<RenderedMessage | AppError> => {
    try {
      const compiled = await compiledOf(r.template, r.template_version);
      const recommendations = mentionsRecommendations(compiled)
        ? await recommendationsFor(ctx, r.external_id, {
            locale: r.locale ?? store.locale ?? 'en',
            currency: store.currency,
            products,
          })
        : [];
      return renderTemplate(
        compiled,
        r.locale,
        {
          ...(r.variables ? (JSON.parse(r.variables) as object) : {}),
          customer: {
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            phone: r.phone,
            locale: r.locale,
            external_id: r.external_id,
          },
          store: { name: store.name ?? null, currency: store.currency, time_zone: store.timeZone },
          ...(link
            ? {
                unsubscribe_url: link,
                preferences_url: preferencesUrlOf(policy.publicUrl, secret, r.customer_id),
              }
            : {}),
          recommendations,
          points: null,
          tier: null,
        },
        { storeLocale: store.locale },
      );
    } catch (err) {
      return err instanceof AppError ? err : new AppError('internal', String(err));
    }
  };
  // A pipeline. `concurrency` senders render and call the providers; one ledger writer runs one
  // statement at a time. A sender's adapter awaits the hand-over at its commit point (SMTP: the whole
  // message written, before the end of DATA; HTTP: before the request): the writer stamps the waiting
  // hand-overs, with the acceptances gathered since, in a light statement (no status changes); then, as
  // needed, it claims (`queued` → `sending`, committed) the next group of rows just ahead of the senders
  // and moves the results gathered so far (with each claim, else every `chunk` or after a second). The
  // group covers about four of the writer's round trips at the pace the senders keep
  // (GROUP_MIN..GROUP_MAX rows): a slow store or a fast provider gets a bigger group, not starved
  // senders. A crash leaves `sending` rows that a restart sorts out: claimed and never handed over
  // (queued again: the provider never had them), accepted (sent), and handed over without an answer
  // recorded (`unknown`, never resent): the messages the provider was taking at the crash, and those
  // it had accepted since the writer's last light statement.
  const ready: Due[] = [];
  let results: Outcome[] = [];
  /** When the oldest result not yet recorded came (performance.now()). */
  let resultsSince = 0;
  const resultsDue = () =>
    results.length >= chunkSize || (results.length > 0 && performance.now() - resultsSince >= 1000);
  /** Senders waiting at their commit point for the writer to record the hand-over. */
  let handing: { key: string; done: (held: boolean) => void }[] = [];
  /** The providers' acceptances not yet written (they go with the next hand-overs). */
  let answers: repo.SendAnswer[] = [];
  let failure: unknown = null;
  let group = GROUP_MIN;
  let handedOver = 0;
  const paceSince = performance.now();
  let writing: Promise<void> | null = null;
  let wakeSenders: () => void = () => undefined;
  let woken = new Promise<void>((r) => (wakeSenders = r));
  const wake = () => {
    wakeSenders();
    woken = new Promise<void>((r) => (wakeSenders = r));
  };
  const needsClaim = () => ready.length < group && rest.length > 0 && !opts.signal?.aborted;
  // The next round is read when this one is all claimed and the senders run low: its query then sees
  // every earlier claim committed (the cap counts them), and the senders keep sending meanwhile.
  const needsRound = () =>
    ready.length < group &&
    rest.length === 0 &&
    !exhausted &&
    !opts.signal?.aborted &&
    (opts.max === undefined || counts.sent + results.length + ready.length < opts.max);
  const writeStep = async () => {
    // Senders waiting at their commit point hold a provider connection: their hand-overs go first, in
    // a statement of their own (a light one: no status changes, nothing returned).
    const hand = handing;
    handing = [];
    if (hand.length > 0) {
      const answered = answers;
      answers = [];
      let held: Set<string>;
      try {
        held = await repo.stampSends(
          ctx.db,
          ctx.db.dialect,
          ctx.clock.now(),
          claimant,
          hand.map((h) => h.key),
          answered,
        );
      } catch (err) {
        for (const h of hand) h.done(false);
        throw err;
      }
      // A hand-over that moved nothing: the row is no longer this run's (a restart elsewhere took it).
      for (const h of hand) h.done(held.has(h.key));
    }
    // Then claims and results (with each claim, else once `chunk` have gathered or the oldest waited a
    // second); the next round's read only when nobody waits to hand over.
    if (needsRound() && handing.length === 0) await loadRound();
    const part = needsClaim() ? rest.splice(0, group) : [];
    const withResults = results.length > 0 && (part.length > 0 || resultsDue());
    if (!withResults && part.length === 0) return;
    const batch = withResults ? classify(results, ctx.clock.now()) : null;
    if (withResults) {
      results = [];
      answers = [];
    }
    const t0 = performance.now();
    const moved = await record(
      batch,
      part.map((r) => r.send_key),
    );
    for (const r of part) if (moved.get(r.send_key) === 'sending') ready.push(r);
    if (part.length > 0) {
      // Rows the senders use during four round trips of this writer, at their pace so far.
      const perMs = handedOver / Math.max(1, performance.now() - paceSince);
      group = Math.min(GROUP_MAX, Math.max(GROUP_MIN, Math.ceil(4 * perMs * (performance.now() - t0))));
    }
  };
  const needsWrite = () => handing.length > 0 || needsClaim() || needsRound() || resultsDue();
  const pump = () => {
    if (writing || failure || !needsWrite()) return;
    writing = (async () => {
      try {
        while (!failure && needsWrite()) {
          await writeStep();
          wake();
        }
      } catch (err) {
        failure ??= err;
      } finally {
        writing = null;
        for (const h of handing.splice(0)) h.done(false);
        wake();
      }
    })();
  };
  /** The adapter's commit point for one message: resolves once its hand-over is committed. */
  const handOverOf = (key: string) => () =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(new AppError('internal', 'the send ledger writer stopped'));
      handing.push({
        key,
        done: (held) =>
          held ? resolve() : reject(new AppError('conflict', `send ${key} is no longer this sender's`)),
      });
      pump();
    });
  const sender = async () => {
    for (;;) {
      if (failure) return;
      const r = ready.shift();
      if (!r) {
        pump();
        if (!writing) return;
        await woken;
        continue;
      }
      pump();
      const link = linkOf(r.send_key);
      const rendered = await renderOne(r, link);
      const m =
        rendered instanceof AppError || !trackingOn || r.kind !== 'marketing' || r.channel !== 'email'
          ? rendered
          : trackMessage(rendered, {
              base: publicBase(policy.publicUrl)!,
              secret,
              key: r.send_key,
              opens: policy.tracking.opens,
              clicks: policy.tracking.clicks,
              keep: [link!, preferencesUrlOf(policy.publicUrl, secret, r.customer_id)],
            });
      let outcome: SendOutcome;
      let locale = r.locale ?? '';
      /** Whether the hand-over was asked for, and whether the ledger refused it. */
      let handed = false;
      let refused = false;
      if (m instanceof AppError)
        outcome = { status: 'rejected', reason: `template: ${m.message}`, suppress: false };
      else {
        locale = m.locale;
        const commit = handOverOf(r.send_key);
        try {
          outcome = await (opts.channels[r.channel] as Channel).send({
            key: r.send_key,
            to: r.address,
            ...(m.subject !== undefined ? { subject: m.subject } : {}),
            ...(m.html !== undefined ? { html: m.html } : {}),
            text: m.text,
            ...(link && r.kind === 'marketing' ? { unsubscribeUrl: link } : {}),
            handOver: async () => {
              handed = true;
              try {
                await commit();
              } catch (err) {
                refused = true;
                throw err;
              }
            },
          });
        } catch (err) {
          if (!refused) throw err;
          outcome = { status: 'retry', reason: 'hand-over refused' };
        }
      }
      handedOver++;
      // Refused: not this run's row any more (or the writer stopped), and the message did not go.
      if (!refused) {
        if (results.length === 0) resultsSince = performance.now();
        results.push([r, outcome, locale, handed]);
        if (outcome.status === 'sent' && handed)
          answers.push({ key: r.send_key, providerId: outcome.providerId, address: r.address, locale });
      }
      await throttle(r.channel, 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  while (writing) await writing;
  if (!failure && results.length > 0) {
    const batch = classify(results, ctx.clock.now());
    results = [];
    await record(batch, []);
  }
  if (failure) throw failure;
  return counts;
}

export function sendOut(r: repo.SendDbRow): Send {
  return {
    key: r.send_key,
    customer: r.external_id,
    channel: r.channel,
    kind: r.kind,
    source: r.source,
    step: r.step,
    occurrence: r.occurrence,
    template: r.template,
    templateVersion: r.template_version,
    status: r.status as Send['status'],
    reason: r.reason,
    address: r.address,
    locale: r.locale,
    attempts: r.attempts,
    providerId: r.provider_id,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at ? r.sent_at.toISOString() : null,
  };
}

export async function listSends(
  ctx: ModuleContext,
  q: {
    limit: number;
    cursor?: string | undefined;
    source?: string | undefined;
    status?: string | undefined;
    customer?: string | undefined;
  },
) {
  const after = q.cursor ? Buffer.from(q.cursor, 'base64url').toString() : undefined;
  const rows = await repo.listSends(ctx.db, {
    source: q.source,
    status: q.status,
    customer: q.customer,
    afterKey: after,
    limit: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(sendOut),
    nextCursor: rows.length > q.limit && last ? Buffer.from(last.send_key).toString('base64url') : null,
  };
}

export async function sendSummary(ctx: ModuleContext, { source }: { source?: string | undefined }) {
  const counts = Object.fromEntries((await repo.sendCounts(ctx.db, source)).map((r) => [r.status, r.n]));
  return { source: source ?? null, counts };
}

// ------------------------------------------------------------------------------------------------
// Channel configuration

/**
 * The channels' configuration: `RETAIN_CHANNELS` (JSON) when set, else the store's (`retain channels
 * set`, kept in settings). Secrets are best given as `{"env": "NAME"}` references, read when opened.
 */
export async function channelConfig(ctx: ModuleContext): Promise<ChannelsConfig> {
  const env = process.env.RETAIN_CHANNELS;
  if (env !== undefined && env.trim() !== '') return parseChannelConfig(env, 'RETAIN_CHANNELS');
  const stored = await repo.readSetting(ctx.db, 'channels');
  return parseChannelConfig(stored ?? '{}', 'settings channels');
}

export async function setChannelConfig(
  ctx: ModuleContext,
  json: unknown,
  where: string,
): Promise<ChannelsConfig> {
  const config = parseChannelConfig(json, where);
  await repo.writeSetting(ctx.db, 'channels', JSON.stringify(config));
  return config;
}

/** Opens the configured channels, delivers what is due, closes them. */
export async function deliverConfigured(
  ctx: ModuleContext,
  opts: Omit<DeliverOptions, 'channels'> = {},
): Promise<DeliverCounts> {
  const channels = openChannels(await channelConfig(ctx));
  try {
    return await deliverDue(ctx, { ...opts, channels });
  } finally {
    await Promise.all(Object.values(channels).map((c) => c?.close()));
  }
}

// ------------------------------------------------------------------------------------------------
// Callbacks from the providers: inbound SMS (STOP), delivery reports, Telegram updates

/** The path token of a provider callback (`/hooks/<name>/<token>`): derived from the link secret. */
async function hookToken(ctx: ModuleContext, name: string): Promise<string> {
  return createHmac('sha256', await secretOf(ctx))
    .update(`hook:${name}`)
    .digest('base64url')
    .slice(0, 32);
}

export async function checkHook(ctx: ModuleContext, name: string, token: string): Promise<void> {
  const want = Buffer.from(await hookToken(ctx, name));
  const got = Buffer.from(token);
  if (want.length !== got.length || !timingSafeEqual(want, got))
    throw new AppError('not_found', 'no such callback (the token is wrong: see GET /v1/messaging/hooks)');
}

/** The callback URLs to configure at the providers (secret paths; admins only). */
export async function hookUrls(ctx: ModuleContext) {
  const base = ((await getPolicy(ctx)).publicUrl ?? '').replace(/\/$/, '');
  return {
    smsInbound: `${base}/hooks/sms-inbound/${await hookToken(ctx, 'sms-inbound')}`,
    smsStatus: `${base}/hooks/sms-status/${await hookToken(ctx, 'sms-status')}`,
    telegram: `${base}/hooks/telegram/${await hookToken(ctx, 'telegram')}`,
    emailFeedback: `${base}/hooks/email-feedback/${await hookToken(ctx, 'email-feedback')}`,
    note: base ? null : 'set the messaging policy publicUrl: these paths are relative to it',
  };
}

async function smsConfig(ctx: ModuleContext) {
  const config = (await channelConfig(ctx)).sms;
  if (!config) throw new AppError('not_found', 'no SMS channel is configured');
  return config;
}

/** Withdraws one channel's consent for these customers (a STOP reply, a blocked bot). */
async function withdraw(
  ctx: ModuleContext,
  customers: readonly { external_id: string }[],
  channel: 'sms' | 'messenger',
  source: string,
  text: string,
) {
  for (const c of customers)
    await updateConsent(ctx, {
      id: c.external_id,
      channel,
      body: { status: 'unsubscribed', source, proof: text ? { formText: text.slice(0, 5000) } : {} },
    });
}

/** An SMS a contact sent: a STOP word withdraws the SMS consent of every customer with that number. */
export async function smsInbound(ctx: ModuleContext, { token, body }: { token: string; body: unknown }) {
  await checkHook(ctx, 'sms-inbound', token);
  const msg = parseInboundSms(body, await smsConfig(ctx));
  const customers = msg.isStop ? await repo.customersByPhone(ctx.db, msg.from) : [];
  await withdraw(ctx, customers, 'sms', 'STOP reply', msg.text);
  return { from: msg.from, stop: msg.isStop, unsubscribed: customers.map((c) => c.external_id) };
}

/** A gateway's delivery report: kept on the send; a number reported invalid is suppressed. */
export async function smsStatus(ctx: ModuleContext, { token, body }: { token: string; body: unknown }) {
  await checkHook(ctx, 'sms-status', token);
  const report = parseDeliveryReport(body, await smsConfig(ctx));
  const now = ctx.clock.now();
  const send = await ctx.db.transaction(async (tx) => {
    const row = await repo.recordDelivery(tx, {
      channel: 'sms',
      providerId: report.providerId,
      key: report.key,
      delivery: report.state === 'pending' ? report.status : report.state,
      now,
    });
    if (row?.address && report.suppress)
      await repo.suppress(
        tx,
        [
          {
            channel: 'sms',
            address: row.address,
            reason: report.error ?? report.status,
            source: 'delivery report',
          },
        ],
        now,
      );
    return row;
  });
  return {
    key: send?.send_key ?? null,
    delivery: report.state,
    suppressed: Boolean(send?.address && report.suppress),
  };
}

const chatSign = (secret: string, customerId: number) =>
  createHmac('sha256', secret).update(`chat:${customerId}`).digest('base64url').slice(0, 22);

/** The `/start` payload of a Telegram deep link (`t.me/<bot>?start=<payload>`) that connects a contact. */
export async function messengerLink(ctx: ModuleContext, { id }: { id: string }) {
  const customerId = (await customersByShopIds(ctx.db, [id])).get(id)?.id;
  if (customerId === undefined) throw new AppError('not_found', `no customer with id '${id}'`);
  return {
    customer: id,
    startPayload: `c${customerId.toString(36)}_${chatSign(await secretOf(ctx), customerId)}`,
  };
}

/**
 * A Telegram update: `/start <payload>` from a deep link connects the chat to the contact and records
 * the messenger consent (the contact opened the bot and pressed Start); `/stop`, a STOP word or
 * blocking the bot withdraws it.
 */
export async function telegramUpdate(ctx: ModuleContext, { token, body }: { token: string; body: unknown }) {
  await checkHook(ctx, 'telegram', token);
  const u = parseTelegramUpdate(body);
  if (!u) return { handled: false };
  if (u.startPayload) {
    const m = /^c([0-9a-z]+)_([A-Za-z0-9_-]{22})$/.exec(u.startPayload);
    const customerId = m ? parseInt(m[1] as string, 36) : NaN;
    if (!m || chatSign(await secretOf(ctx), customerId) !== m[2])
      throw new AppError('validation', 'the /start link is not valid (or was altered)', {
        where: { field: 'message.text' },
      });
    const externalId = await repo.externalIdOf(ctx.db, customerId);
    if (externalId === undefined) throw new AppError('not_found', 'the contact of this link is gone');
    await ctx.db.transaction((tx) => repo.setMessengerChat(tx, customerId, u.chatId, ctx.clock.now()));
    await updateConsent(ctx, {
      id: externalId,
      channel: 'messenger',
      body: { status: 'granted', source: 'telegram /start', proof: { formText: u.text.slice(0, 5000) } },
    });
    return { handled: true, connected: externalId };
  }
  if (u.isStop) {
    const customers = await repo.customersByChat(ctx.db, u.chatId);
    await withdraw(ctx, customers, 'messenger', u.blocked ? 'bot blocked' : 'STOP reply', u.text);
    return { handled: true, unsubscribed: customers.map((c) => c.external_id) };
  }
  return { handled: false };
}

/**
 * What an operator decides for the rows a crash (or a lost provider answer) left `unknown`: `resend`
 * queues them again (a message the provider did take is then sent twice), `drop` ends them as rejected.
 */
export async function resolveUnknownSends(
  ctx: ModuleContext,
  { action, source }: { action: 'resend' | 'drop'; source?: string | undefined },
) {
  const now = ctx.clock.now();
  const n = await ctx.db.transaction(async (tx) => {
    const changed = await repo.resolveUnknown(tx, now, action, source);
    if (changed > 0 && action === 'resend')
      await ctx.jobs.enqueueIn(
        tx,
        DELIVER_JOB,
        {},
        {
          idempotencyKey: `${DELIVER_JOB}:${now.toISOString()}:${randomBytes(4).toString('hex')}`,
        },
      );
    return changed;
  });
  if (n > 0 && action === 'resend') ctx.jobs.notify(DELIVER_JOB);
  return { action, source: source ?? null, rows: n };
}
