import { createHash, randomBytes } from 'node:crypto';
import type { ModuleContext } from '../../kit/context.js';
import { issuesError, validationError, type Issue } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import type { Database, Dialect, Queryable, Row, SqlValue } from '../../storage/port.js';
import { ingestEvents } from '../events/service.js';
import { recordEvents } from '../outbox/service.js';
import { cartOf, ShopifyCheckout, ShopifyOrderCheckout } from './mapping.js';
import * as repo from './repository.js';
import {
  CollectBatch,
  CreateSiteKey,
  identityOf,
  SITE_KEY,
  WEB_EVENT_PREFIX,
  type CartWebhookResult,
  type CollectResult,
  type SiteKey,
  type Snippet,
} from './schema.js';

// ---- site keys ----

const info = (r: repo.SiteKeyRow): SiteKey => ({
  key: r.site_key,
  name: r.name,
  origins: JSON.parse(r.origins) as string[],
  requireConsent: r.require_consent,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
});

/**
 * A publishable site key for the snippet: `pk_` and 144 random bits. Stored as is (it is in every page
 * of the shop; it only lets the named origins write site events through `POST /t/collect`).
 */
export async function createSiteKey(ctx: ModuleContext, input: unknown): Promise<SiteKey> {
  const parsed = CreateSiteKey.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, 'site key');
  const key = `pk_${randomBytes(18).toString('base64url')}`;
  const origins = [...new Set(parsed.data.origins)];
  const createdAt = ctx.clock.now();
  const name = parsed.data.name ?? `storefront ${origins[0]}`;
  const requireConsent = parsed.data.requireConsent ?? false;
  await repo.insertSiteKey(ctx.db, { key, name, origins, requireConsent, createdAt });
  return { key, name, origins, requireConsent, createdAt: createdAt.toISOString(), revokedAt: null };
}

export async function listSiteKeys(ctx: ModuleContext): Promise<SiteKey[]> {
  return (await repo.listSiteKeys(ctx.db)).map(info);
}

/** Revokes a key: its batches are refused from then on (within the server's key cache, 5 s). */
export async function revokeSiteKey(ctx: ModuleContext, { key }: { key: string }): Promise<SiteKey> {
  if (!(await repo.revokeSiteKey(ctx.db, key, ctx.clock.now())))
    throw new AppError('not_found', `no site key ${key} (see retain storefront key list)`, {
      where: { field: 'key' },
    });
  return info((await repo.siteKeyRow(ctx.db, key)) as repo.SiteKeyRow);
}

/** The key a collect request names, or undefined when it is malformed or unknown. */
export async function findSiteKey(
  ctx: ModuleContext,
  { key }: { key: string },
): Promise<SiteKey | undefined> {
  if (!SITE_KEY.test(key)) return undefined;
  const row = await repo.siteKeyRow(ctx.db, key);
  return row ? info(row) : undefined;
}

/**
 * Whether a request from `origin` may use `site` (403 otherwise, naming the key and the origin). The
 * Origin header is what a browser sends and a page cannot forge; a program can send any, which is why
 * a site key only ever writes site events (docs/storefront.md#abuse).
 */
export function checkSite(key: string, site: SiteKey | undefined, origin: string | undefined): SiteKey {
  if (!site)
    throw new AppError('forbidden', `unknown site key ${key.slice(0, 40)} (retain storefront key list)`, {
      where: { field: 'key' },
    });
  if (site.revokedAt)
    throw new AppError('forbidden', `site key ${site.key} was revoked at ${site.revokedAt}`, {
      where: { field: 'key' },
    });
  if (!origin)
    throw new AppError(
      'forbidden',
      'no Origin header: batches come from the pages of the site key’s origins',
      {
        where: { field: 'Origin' },
      },
    );
  if (!site.origins.includes(origin))
    throw new AppError(
      'forbidden',
      `origin ${origin.slice(0, 100)} may not use site key ${site.key} (allowed: ${site.origins.join(', ')})`,
      { where: { field: 'Origin' } },
    );
  return site;
}

/** Parses a collect body (JSON, whatever its content type: the snippet sends text/plain). */
export function parseBatch(text: string): CollectBatch {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AppError('validation', `malformed JSON: ${(err as Error).message}`);
  }
  const parsed = CollectBatch.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, 'batch');
  return parsed.data;
}

// ---- collect ----

/**
 * Stores one batch of the snippet's events in one transaction, through the events service: browser
 * event ids become `web-<id>` (idempotent: a retried batch stores nothing twice; a page cannot take
 * another source's ids), times are moved by the browser clock's error (the server's now − `sent_at`,
 * never past now), and `identify` is stored with the customer it names — by shop id, or by email
 * ({@link repo.customerByEmail}; when new, created as a Shopify order of that email would name it) —
 * which links the anonymous id and stitches its history (first link wins, as for `POST /v1/events`).
 * The identify event keeps how the visitor was named (`{"by": "email"}`), never the email.
 */
export async function collect(
  ctx: ModuleContext,
  { site, batch }: { site: SiteKey; batch: CollectBatch },
): Promise<CollectResult> {
  if (batch.consent === false || (site.requireConsent && batch.consent !== true))
    throw new AppError(
      'forbidden',
      batch.consent === false
        ? 'the batch says the visitor did not consent: nothing is stored'
        : `site key ${site.key} requires the visitor’s consent: the batch must carry "consent": true (retain('consent', true))`,
      { where: { field: 'consent' } },
    );
  const now = ctx.clock.now();
  const shift = now.getTime() - batch.sent_at.getTime();
  const at = (d: Date) => new Date(Math.min(now.getTime(), d.getTime() + shift));
  return ctx.db.transaction(async (tx) => {
    const items: Record<string, unknown>[] = [];
    for (const e of batch.events) {
      const item: Record<string, unknown> = {
        event_id: WEB_EVENT_PREFIX + e.event_id,
        type: e.type,
        occurred_at: at(e.occurred_at).toISOString(),
        anonymous_id: batch.anonymous_id,
        properties: e.properties ?? {},
      };
      if (e.type === 'identify') {
        const who = identityOf(e.properties);
        item.customer_id =
          'email' in who
            ? (await customerForEmail(ctx.db.dialect, tx, who.email, at(e.occurred_at), now)).external_id
            : who.id;
        item.properties = { by: 'email' in who ? 'email' : 'id' };
      }
      items.push(item);
    }
    const out = await ingestEvents({ ...ctx, db: within(ctx.db, tx) }, { items });
    if (out.rejected.length > 0)
      throw issuesError(
        out.rejected.flatMap((r) =>
          r.issues.map((i): Issue => ({ path: `events.${r.index}.${i.path}`, message: i.message })),
        ),
        'batch',
      );
    return { received: batch.events.length, stored: out.inserted };
  });
}

/**
 * The customer an email names ({@link repo.customerByEmail}), created when new with the email as its
 * shop id — as a Shopify order import or webhook of that email would — and its `customer.created`
 * domain event, in the caller's transaction.
 */
async function customerForEmail(
  dialect: Dialect,
  tx: Queryable,
  email: string,
  firstSeen: Date,
  now: Date,
): Promise<repo.CustomerRef> {
  const found = await repo.customerByEmail(tx, email);
  if (found) return found;
  const created = await repo.insertEmailCustomer(tx, email, firstSeen, now);
  if (created) {
    await recordEvents(
      tx,
      dialect,
      [
        {
          type: 'customer.created',
          customerId: created.customer_id,
          occurredAt: created.created_at,
          payload: { external_id: created.external_id },
        },
      ],
      now,
    );
    return created;
  }
  const raced = await repo.customerByEmail(tx, email);
  if (raced) return raced;
  throw new AppError('conflict', 'the customer of this email is being created by another request: retry');
}

/**
 * The store as seen from inside one of its transactions: services that open their own transaction
 * (the events service) then write in the caller's, so their rows commit or roll back with it.
 */
function within(db: Database, tx: Queryable): Database {
  return {
    kind: db.kind,
    dialect: db.dialect,
    location: db.location,
    query: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => tx.query<T>(sql, params),
    exec: (sql, params) => tx.exec(sql, params),
    copyRows: (table, columns, rows) => tx.copyRows(table, columns, rows),
    bulkLoad: (table, columns) => tx.bulkLoad(table, columns),
    transaction: (fn) => fn(tx),
    session: () => Promise.reject(new Error('no session inside a transaction')),
    close: () => Promise.reject(new Error('the store is closed by its owner')),
  };
}

// ---- the snippet tag ----

/**
 * The two tags to paste into every page of the shop: the queue stub (calls made before retain.js loads
 * are kept) and retain.js itself, loaded async from `endpoint` with the site key. `key` defaults to
 * the only active key; `endpoint` to the messaging policy's publicUrl, else `fallbackEndpoint` (the
 * server's own address over HTTP).
 */
export async function snippet(
  ctx: ModuleContext,
  input: { key?: string | undefined; endpoint?: string | undefined },
  fallbackEndpoint?: string,
): Promise<Snippet> {
  const active = (await listSiteKeys(ctx)).filter((k) => !k.revokedAt);
  let site: SiteKey | undefined;
  if (input.key !== undefined) {
    site = active.find((k) => k.key === input.key);
    if (!site)
      throw new AppError('not_found', `no active site key ${input.key} (see retain storefront key list)`, {
        where: { field: 'key' },
      });
  } else if (active.length === 1) site = active[0];
  else
    throw new AppError(
      'validation',
      active.length === 0
        ? 'no active site key yet: retain storefront key create --origin https://shop.example'
        : `${active.length} active site keys: name one with key (${active.map((k) => k.key).join(', ')})`,
      { where: { field: 'key' } },
    );
  const chosen = site as SiteKey;
  let base = input.endpoint;
  if (base === undefined) {
    const { getPolicy } = await import('../messaging/service.js');
    base = (await getPolicy(ctx)).publicUrl ?? fallbackEndpoint;
  }
  if (base === undefined)
    throw new AppError(
      'validation',
      'where do shoppers reach retain serve? give the endpoint (https://retain.example) or set the messaging policy’s publicUrl',
      { where: { field: 'endpoint' } },
    );
  let url: URL | undefined;
  try {
    url = new URL(base);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash)
    throw new AppError('validation', `expected the endpoint as an http(s) URL, got '${base.slice(0, 100)}'`, {
      where: { field: 'endpoint' },
    });
  const endpoint = url.href.replace(/\/+$/, '');
  const html =
    `<script>window.retain=window.retain||function(){(retain.q=retain.q||[]).push(arguments)};</script>\n` +
    `<script async src="${endpoint}/retain.js" data-key="${chosen.key}"${chosen.requireConsent ? ' data-require-consent' : ''}></script>`;
  return { key: chosen.key, endpoint, requireConsent: chosen.requireConsent, html };
}

// ---- Shopify checkouts → carts ----

/**
 * One verified Shopify webhook of the carts receiver, in one transaction:
 * - `checkouts/create|update`: the cart upserted by checkout token (an older or repeated delivery
 *   changes nothing), its customer found or created by email; once the cart names a customer or the
 *   snippet's anonymous id (the `_retain_aid` cart attribute), one `checkout_started` event
 *   (`shopify-checkout-<token>`, stored once) — with both, it links the anonymous id to the customer.
 * - `orders/create` with a `checkout_token`: the cart completed by that order (the order itself is
 *   stored by `/webhooks/shopify`).
 * Other topics are acknowledged and ignored.
 */
export async function handleCartWebhook(
  ctx: ModuleContext,
  { topic, payload }: { topic: string; payload: unknown },
): Promise<CartWebhookResult> {
  const base = { source: 'shopify' as const, topic };
  const now = ctx.clock.now();
  if (topic === 'checkouts/create' || topic === 'checkouts/update') {
    const parsed = ShopifyCheckout.safeParse(payload);
    if (!parsed.success) throw validationError(parsed.error, 'checkout');
    const mapped = cartOf(parsed.data);
    if ('issues' in mapped) throw issuesError(mapped.issues, 'checkout');
    const cart = mapped.cart;
    return ctx.db.transaction(async (tx) => {
      const customer = cart.email
        ? await customerForEmail(ctx.db.dialect, tx, cart.email, cart.createdAt, now)
        : undefined;
      const digest = createHash('sha256')
        .update(JSON.stringify({ ...cart, customer: customer?.customer_id ?? null }))
        .digest('hex');
      const outcome = await repo.upsertCart(
        tx,
        ctx.db.dialect.jsonType,
        { ...cart, customerId: customer?.customer_id ?? null, digest },
        now,
      );
      let checkoutStarted = false;
      if (customer || cart.anonymousId) {
        const out = await ingestEvents(
          { ...ctx, db: within(ctx.db, tx) },
          {
            items: [
              {
                event_id: `shopify-checkout-${cart.token}`,
                type: 'checkout_started',
                occurred_at: cart.createdAt.toISOString(),
                customer_id: customer?.external_id,
                anonymous_id: cart.anonymousId ?? undefined,
                properties: {
                  source: 'shopify',
                  checkout_token: cart.token,
                  currency: cart.currency,
                  subtotal_minor: cart.subtotalMinor,
                  items: cart.itemCount,
                },
              },
            ],
          },
        );
        if (out.rejected.length > 0)
          throw issuesError(out.rejected[0]?.issues ?? [], 'checkout_started event');
        checkoutStarted = out.inserted > 0;
      }
      return {
        ...base,
        handled: true,
        entity: 'carts' as const,
        id: cart.token,
        inserted: outcome === 'inserted' ? 1 : 0,
        updated: outcome === 'updated' ? 1 : 0,
        unchanged: outcome === 'unchanged' ? 1 : 0,
        checkoutStarted,
      };
    });
  }
  if (topic === 'orders/create') {
    const parsed = ShopifyOrderCheckout.safeParse(payload);
    if (!parsed.success) throw validationError(parsed.error, 'order');
    const o = parsed.data;
    if (!o.checkout_token) return { ...base, handled: false };
    const orderId = o.name ?? o.id;
    if (!orderId)
      throw new AppError('validation', 'invalid order: name: is required', { where: { field: 'name' } });
    const changed = await ctx.db.transaction((tx) =>
      repo.completeCart(
        tx,
        {
          token: o.checkout_token as string,
          orderId,
          completedAt: o.processed_at ?? o.created_at ?? now,
          currency: o.currency ?? null,
        },
        now,
      ),
    );
    return {
      ...base,
      handled: true,
      entity: 'carts',
      id: o.checkout_token,
      completed: true,
      updated: changed ? 1 : 0,
      unchanged: changed ? 0 : 1,
    };
  }
  return { ...base, handled: false };
}
