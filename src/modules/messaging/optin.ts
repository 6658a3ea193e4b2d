import { randomBytes } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import type { Queryable } from '../../storage/port.js';
import type { ConsentUpdate, Customer } from '../customers/schema.js';
import { applyConsent, getCustomer, updateConsent } from '../customers/service.js';
import { SALE_STATUSES, type OrderLineRow } from '../imports/schema.js';
import * as consentRepo from './consentRepository.js';
import { confirmToken, linkSecretOf, publicBase, requestOfConfirmToken } from './links.js';
import { BUILT_IN_OPTIN, OPTIN_TEMPLATES, type OptInChannel } from './optinTemplates.js';
import * as repo from './repository.js';
import { MessagingPolicy } from './schema.js';

/**
 * Double opt-in (issue 21). On a channel the policy's `doubleOptIn` names, a grant from the API
 * (`PUT /v1/customers/{id}/consents/{channel}`) or a checkout (`POST /v1/orders` with `email_consent`)
 * does not grant: it records a pending request (`consent_requests`) and queues a transactional
 * confirmation through the send path, keyed by the request (`double opt-in/<template>/<customer>/<request>`),
 * in the same transaction. The contact's click on its link (`/c/<token>`, signed, single use, 7 days)
 * records `granted` with source `double opt-in` and the click's IP and user agent. Files (`retain import`,
 * Shopify webhooks) and `retain consent set` are the store's own records and grant directly.
 */

export const OPTIN_SOURCE = 'double opt-in';
export const OPTIN_TTL_MS = 7 * 86_400_000;
const enc = encodeURIComponent;

/** The `messaging.deliver` job (service.ts), named here so an order need not load the send path. */
export const DELIVER_JOB = 'messaging.deliver';

async function policyOf(ctx: ModuleContext): Promise<MessagingPolicy> {
  const value = await repo.readSetting(ctx.db, 'messaging_policy');
  return MessagingPolicy.parse(value ? JSON.parse(value) : {});
}

/** The channels the policy asks confirmation for. */
export async function optInChannels(ctx: ModuleContext): Promise<readonly OptInChannel[]> {
  return (await policyOf(ctx)).doubleOptIn;
}

interface Prepared {
  channel: OptInChannel;
  base: string;
  secret: string;
  /** The built-in template compiled, for when no version is stored yet. */
  builtIn: { source: string; compiled: string };
}

/** What a request needs that is read or computed outside its transaction (the template's MJML). */
async function prepare(ctx: ModuleContext, channel: OptInChannel): Promise<Prepared> {
  const base = publicBase((await policyOf(ctx)).publicUrl);
  if (!base)
    throw new AppError(
      'validation',
      'double opt-in needs the messaging policy publicUrl (the confirmation link points there)',
      { where: { field: 'publicUrl' } },
    );
  const source = BUILT_IN_OPTIN[channel];
  const { compileTemplate } = await import('./templates.js'); // Liquid and MJML: only when needed
  return {
    channel,
    base,
    secret: await linkSecretOf(ctx),
    builtIn: { source: JSON.stringify(source), compiled: JSON.stringify(await compileTemplate(source)) },
  };
}

/** The confirmation template's latest version, storing the built-in one as version 1 when none is. */
async function templateVersionIn(tx: Queryable, p: Prepared, now: Date): Promise<number> {
  const name = OPTIN_TEMPLATES[p.channel];
  const t = await repo.latestTemplate(tx, name);
  if (t) {
    if (t.channel !== p.channel || t.kind !== 'transactional')
      throw new AppError(
        'validation',
        `template '${name}' must be a transactional ${p.channel} template: save it again (docs/messaging.md#double-opt-in)`,
        { where: { field: 'template' } },
      );
    return t.version;
  }
  return repo.insertTemplate(tx, {
    name,
    channel: p.channel,
    kind: 'transactional',
    source: p.builtIn.source,
    compiled: p.builtIn.compiled,
    created_at: now,
    created_by: 'retain (built-in)',
  });
}

export interface OptInRequest {
  requestId: string;
  channel: OptInChannel;
  status: 'pending' | 'confirmed' | 'expired';
  sendKey: string;
  requestedAt: string;
  expiresAt: string;
  /** False when a pending request already stood (no second message). */
  created: boolean;
}

const requestOut = (r: consentRepo.ConsentRequestDbRow, created: boolean): OptInRequest => ({
  requestId: r.request_id,
  channel: r.channel,
  status: r.status,
  sendKey: r.send_key,
  requestedAt: r.requested_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  created,
});

/**
 * Records a request and queues its confirmation, in the caller's transaction. A pending request of the
 * same customer and channel (or a request of the same id: a replayed checkout) is returned instead,
 * and nothing is queued.
 */
async function requestIn(
  tx: Queryable,
  ctx: ModuleContext,
  p: Prepared,
  r: {
    customerId: number;
    source: string;
    requestId?: string;
    proof: { ip?: string | undefined; userAgent?: string | undefined; formText?: string | undefined };
    now: Date;
  },
): Promise<OptInRequest> {
  const pending = await consentRepo.pendingRequest(tx, r.customerId, p.channel, r.now);
  if (pending) return requestOut(pending, false);
  if (r.requestId) {
    const same = await consentRepo.requestById(tx, r.requestId);
    if (same) return requestOut(same, false);
  }
  const requestId = r.requestId ?? randomBytes(16).toString('hex');
  const name = OPTIN_TEMPLATES[p.channel];
  const version = await templateVersionIn(tx, p, r.now);
  const keyPrefix = `${enc(OPTIN_SOURCE)}/${enc(name)}/`;
  const keySuffix = `/${enc(requestId)}`;
  const sendKey = `${keyPrefix}${r.customerId}${keySuffix}`;
  const expiresAt = new Date(r.now.getTime() + OPTIN_TTL_MS);
  await consentRepo.insertRequest(tx, {
    requestId,
    customerId: r.customerId,
    channel: p.channel,
    source: r.source,
    sendKey,
    now: r.now,
    expiresAt,
    ip: r.proof.ip ?? null,
    userAgent: r.proof.userAgent ?? null,
    formText: r.proof.formText ?? null,
  });
  await repo.enqueueSends(
    tx,
    {
      keyPrefix,
      keySuffix,
      channel: p.channel,
      kind: 'transactional',
      source: OPTIN_SOURCE,
      step: name,
      occurrence: requestId,
      template: name,
      templateVersion: version,
      variables: JSON.stringify({ confirm_url: `${p.base}/c/${confirmToken(p.secret, requestId)}` }),
      now: r.now,
      notBefore: r.now,
    },
    [r.customerId],
  );
  await ctx.jobs.enqueueIn(tx, DELIVER_JOB, {}, { idempotencyKey: `${DELIVER_JOB}:optin:${requestId}` });
  return {
    requestId,
    channel: p.channel,
    status: 'pending',
    sendKey,
    requestedAt: r.now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    created: true,
  };
}

/**
 * `PUT /v1/customers/{id}/consents/{channel}`: a grant on a double opt-in channel (not granted yet)
 * becomes a pending request and a confirmation message; anything else is recorded as it is.
 */
export async function putConsent(
  ctx: ModuleContext,
  { id, channel, body }: { id: string; channel: string; body: z.infer<typeof ConsentUpdate> },
): Promise<{ customer: Customer; confirmation: OptInRequest | null }> {
  const channels = await optInChannels(ctx);
  const ch = channels.find((c) => c === channel);
  if (body.status !== 'granted' || !ch)
    return { customer: await updateConsent(ctx, { id, channel, body }), confirmation: null };
  const contact = await consentRepo.contactByExternalId(ctx.db, id);
  if (!contact) throw new AppError('not_found', `no customer with id ${id}`, { where: { field: 'id' } });
  if ((await consentRepo.consentsOf(ctx.db, contact.customer_id)).get(ch) === 'granted')
    return { customer: await updateConsent(ctx, { id, channel, body }), confirmation: null };
  const address = ch === 'email' ? contact.email : contact.phone;
  if (!address || contact.erased_at)
    throw new AppError(
      'validation',
      `customer ${id} has no ${ch === 'email' ? 'email address' : 'phone number'}: the ${ch} channel asks the contact to confirm (double opt-in), and the confirmation cannot be sent`,
      { where: { field: ch === 'email' ? 'email' : 'phone' } },
    );
  const p = await prepare(ctx, ch);
  const now = ctx.clock.now();
  const confirmation = await ctx.db.transaction((tx) =>
    requestIn(tx, ctx, p, {
      customerId: contact.customer_id,
      source: body.source ?? 'api',
      proof: body.proof ?? {},
      now,
    }),
  );
  if (confirmation.created) ctx.jobs.notify(DELIVER_JOB);
  return { customer: await getCustomer(ctx, { id }), confirmation };
}

/**
 * A checkout (`POST /v1/orders`) whose `email_consent` grants, with double opt-in on email: the rows
 * go to the merge without the grant, and `inTx` (run in the merge's transaction, after it) requests
 * the confirmation — only for a sale newer than the stored consent, as the merge itself would apply it.
 */
export async function checkoutOptIn(
  ctx: ModuleContext,
  rows: OrderLineRow[],
): Promise<{ rows: OrderLineRow[]; inTx?: (tx: Queryable) => Promise<void>; after?: () => void }> {
  const head = rows[0];
  if (!head || !rows.some((r) => r.emailConsent === 'granted')) return { rows };
  if (!(await optInChannels(ctx)).includes('email')) return { rows };
  const stripped = rows.map((r) => (r.emailConsent === 'granted' ? { ...r, emailConsent: null } : r));
  const customerExt = head.customerId;
  if (!customerExt || !(SALE_STATUSES as readonly string[]).includes(head.status)) return { rows: stripped };
  const p = await prepare(ctx, 'email');
  let created = false;
  return {
    rows: stripped,
    inTx: async (tx) => {
      const contact = await consentRepo.contactByExternalId(tx, customerExt);
      if (!contact || contact.erased_at || !contact.email) return;
      const current = await consentRepo.consentNow(tx, contact.customer_id, 'email');
      if (current?.status === 'granted') return;
      if (current?.changed_at && current.changed_at >= head.orderedAt) return;
      const now = ctx.clock.now();
      const r = await requestIn(tx, ctx, p, {
        customerId: contact.customer_id,
        source: `order ${head.orderId}`,
        requestId: `order:${head.orderId}`,
        proof: {},
        now,
      });
      created = r.created;
    },
    after: () => {
      if (created) ctx.jobs.notify(DELIVER_JOB);
    },
  };
}

/** What a confirmation link leads to (for the page). Unknown, forged or erased: not found. */
export async function confirmationInfo(ctx: ModuleContext, { token }: { token: string }) {
  const gone = () => new AppError('not_found', 'this link is not valid');
  const requestId = requestOfConfirmToken(await linkSecretOf(ctx), token);
  if (requestId === null) throw gone();
  const request = await consentRepo.requestById(ctx.db, requestId);
  if (!request) throw gone();
  const contact = await consentRepo.contactById(ctx.db, request.customer_id);
  if (!contact || contact.erased_at) throw gone();
  const now = ctx.clock.now();
  const state: 'pending' | 'confirmed' | 'expired' =
    request.status === 'pending' && request.expires_at <= now ? 'expired' : request.status;
  return { request, contact, state, locale: contact.locale, channel: request.channel };
}

/**
 * The contact confirms (the page's button POSTs): `granted` with source `double opt-in` and the click's
 * proof, once. A second click changes nothing; an expired link grants nothing.
 */
export async function confirmOptIn(
  ctx: ModuleContext,
  {
    token,
    ip,
    userAgent,
    formText,
  }: { token: string; ip?: string | undefined; userAgent?: string | undefined; formText: string },
) {
  const info = await confirmationInfo(ctx, { token });
  const now = ctx.clock.now();
  if (info.state === 'confirmed') return { ...info, state: 'confirmed' as const, confirmedNow: false };
  if (info.state === 'expired') {
    await ctx.db.transaction((tx) => consentRepo.decideRequest(tx, info.request.request_id, 'expired', now));
    return { ...info, state: 'expired' as const, confirmedNow: false };
  }
  const moved = await ctx.db.transaction(async (tx) => {
    if (!(await consentRepo.decideRequest(tx, info.request.request_id, 'confirmed', now))) return false;
    await applyConsent(
      tx,
      ctx.db.dialect,
      { customerId: info.contact.customer_id, externalId: info.contact.external_id },
      info.request.channel,
      {
        status: 'granted',
        source: OPTIN_SOURCE,
        proof: {
          ...(ip ? { ip: ip.slice(0, 64) } : {}),
          ...(userAgent ? { userAgent: userAgent.slice(0, 1000) } : {}),
          formText: (info.request.form_text
            ? `${info.request.form_text}\n— confirmed: ${formText}`
            : formText
          ).slice(0, 5000),
        },
      },
      now,
    );
    return true;
  });
  return { ...info, state: 'confirmed' as const, confirmedNow: moved };
}

export const EXPIRE_OPTINS_JOB = 'messaging.expire-opt-ins';

/**
 * The daily sweep: pending double opt-in requests past their 7 days become `expired`, so the state
 * says what happened without waiting for somebody to open the link. Returns how many.
 */
export async function expireOptIns(ctx: ModuleContext): Promise<{ expired: number }> {
  const now = ctx.clock.now();
  const expired = await ctx.db.transaction((tx) => consentRepo.expireRequests(tx, now));
  if (expired > 0) ctx.log.info(`${expired} double opt-in request(s) expired unconfirmed`);
  return { expired };
}
