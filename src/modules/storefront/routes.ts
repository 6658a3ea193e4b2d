import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Auth } from '../../kit/http/auth.js';
import type { AppEnv, RetainApp, ServerDeps } from '../../kit/http/context.js';
import { errorJson } from '../../kit/http/errors.js';
import { parseInput, queryOf } from '../../kit/http/input.js';
import { documented, ERROR_RESPONSES, json } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { verifySignature } from '../webhooks/service.js';
import { snippetAsset } from './asset.js';
import { BucketLimiter, collectLimits } from './limits.js';
import {
  CartWebhookResult,
  CollectBatchDoc,
  CollectResult,
  CreateSiteKey,
  MAX_COLLECT_BYTES,
  MAX_COLLECT_EVENTS,
  SiteKey,
  Snippet,
  SnippetQuery,
} from './schema.js';
import * as service from './service.js';

const tags = ['storefront'];
type C = Context<AppEnv>;

/** The client's address for the per-address limit: the nearest proxy's `X-Forwarded-For` hop, else the socket's. */
function addressOf(c: C): string {
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length > 0) return hops[hops.length - 1] as string;
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

const rateLimited = (message: string, wait: number) =>
  new AppError('rate_limited', message, { details: { retryAfterSeconds: wait } });

/**
 * The storefront's routes: site keys and the snippet tag for admins (`store:manage`); the public
 * `GET /retain.js`, `POST /t/collect` (a site key and its origins are the credential) and the Shopify
 * carts receiver `POST /webhooks/shopify/carts` (HMAC, as `/webhooks/shopify`).
 */
export function registerStorefrontRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const limits = collectLimits();
  const byAddress = new BucketLimiter(limits.perAddress, limits.perAddress * 5);
  const byVisitor = new BucketLimiter(limits.perVisitor, limits.perVisitor * 10);

  // Site keys looked up at most every authCacheMs per key (a revocation here clears the cache).
  const keys = new Map<string, { site: SiteKey | undefined; until: number }>();
  const lookup = async (key: string): Promise<SiteKey | undefined> => {
    const now = Date.now(); // a cache lifetime (a duration), not business time
    const hit = keys.get(key);
    if (hit && hit.until > now) return hit.site;
    const site = await service.findSiteKey(deps, { key });
    if (deps.config.authCacheMs > 0) {
      if (keys.size > 10_000) keys.clear();
      keys.set(key, { site, until: now + deps.config.authCacheMs });
    }
    return site;
  };

  // ---- site keys and the snippet (admins) ----

  app.get(
    '/v1/storefront/keys',
    documented(app, auth, 'store:manage', {
      method: 'get',
      path: '/v1/storefront/keys',
      tags,
      summary: 'List the site keys of the tracking snippet',
      responses: { 200: json(z.object({ data: z.array(SiteKey) }), 'The keys, oldest first') },
    }),
    async (c) => c.json({ data: await service.listSiteKeys(deps) }),
  );
  app.post(
    '/v1/storefront/keys',
    documented(app, auth, 'store:manage', {
      method: 'post',
      path: '/v1/storefront/keys',
      tags,
      summary: 'Create a publishable site key (`pk_…`) for the origins the snippet runs on',
      description:
        'A site key is public (it is in every page of the shop): it lets pages of its origins write site events through `POST /t/collect`, nothing else.',
      request: { body: { required: true, content: { 'application/json': { schema: CreateSiteKey } } } },
      responses: { 201: json(SiteKey, 'The new key') },
    }),
    async (c) => c.json(await service.createSiteKey(deps, await c.req.json()), 201),
  );
  app.delete(
    '/v1/storefront/keys/:key',
    documented(app, auth, 'store:manage', {
      method: 'delete',
      path: '/v1/storefront/keys/{key}',
      tags,
      summary: 'Revoke a site key: its batches are refused (403) from then on',
      request: { params: z.object({ key: z.string() }) },
      responses: { 200: json(SiteKey, 'The revoked key') },
    }),
    async (c) => {
      const revoked = await service.revokeSiteKey(deps, { key: c.req.param('key') });
      keys.clear();
      return c.json(revoked);
    },
  );
  app.get(
    '/v1/storefront/snippet',
    documented(app, auth, 'store:manage', {
      method: 'get',
      path: '/v1/storefront/snippet',
      tags,
      summary: 'The script tags to paste into every page of the shop',
      request: { query: SnippetQuery },
      responses: { 200: json(Snippet, 'The tags') },
    }),
    async (c) => {
      const query = parseInput(SnippetQuery, queryOf(c.req.queries()), 'query');
      return c.json(await service.snippet(deps, query, new URL(c.req.url).origin));
    },
  );

  // ---- the snippet itself ----

  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'get',
      path: '/retain.js',
      tags,
      summary: 'The tracking snippet (public; ETag, gzip when accepted)',
      responses: {
        200: { description: 'retain.js', content: { 'text/javascript': { schema: z.string() } } },
        304: { description: 'Not modified (If-None-Match)' },
        404: ERROR_RESPONSES[404],
      },
    }),
  );
  app.get('/retain.js', (c) => {
    const asset = snippetAsset();
    if (!asset) throw new AppError('not_found', 'retain.js is not built: run npm run build');
    const gz = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    const gzTag = asset.etag.replace(/"$/, '.gz"');
    const headers: Record<string, string> = {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
      etag: gz ? gzTag : asset.etag,
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'cross-origin',
    };
    const given = (c.req.header('if-none-match') ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (given.includes(asset.etag) || given.includes(gzTag)) return c.body(null, 304, headers);
    if (gz) headers['content-encoding'] = 'gzip';
    return c.body(new Uint8Array(gz ? asset.gzip : asset.body), 200, headers);
  });

  // ---- the public collect endpoint ----

  // The guard's key for the handler (by context: the body limit replaces the request object).
  const sites = new WeakMap<C, SiteKey>();
  const allow = (c: C, origin: string) => {
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Vary', 'Origin');
  };

  /** Per-address limit, then the key and the origin; the answer carries CORS for an allowed origin. */
  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    const wait = byAddress.take(addressOf(c));
    if (wait > 0)
      throw rateLimited(`too many requests from this address (at most ${limits.perAddress}/s)`, wait);
    const key = c.req.query('key');
    if (!key)
      throw new AppError('validation', 'the site key is required: POST /t/collect?key=pk_…', {
        where: { field: 'key' },
      });
    const origin = c.req.header('origin');
    const site = service.checkSite(key, await lookup(key), origin);
    allow(c, origin as string);
    sites.set(c, site);
    await next();
  };
  const limit = bodyLimit({
    maxSize: MAX_COLLECT_BYTES,
    onError: (c) =>
      errorJson(
        c as C,
        new AppError(
          'payload_too_large',
          `the batch exceeds ${MAX_COLLECT_BYTES} bytes (64 KiB, the collect limit): send fewer events per request`,
          { details: { limitBytes: MAX_COLLECT_BYTES } },
        ),
      ),
  });

  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: '/t/collect',
      tags,
      summary: `Public: a batch of up to ${MAX_COLLECT_EVENTS} storefront events from the snippet`,
      description:
        'No API key: `?key=` names a site key and the browser’s Origin must be one of its origins (403 otherwise; CORS answers only those origins). The body is JSON, sent as text/plain by the snippet (no preflight), at most 64 KiB (413). Types: view, add_to_cart, checkout_started, identify ({"email"} or {"id"}) or a custom name of lower-case letters, digits and _; properties at most 2,048 characters of JSON. Per-address and per-visitor limits answer 429 with Retry-After. Event ids are made by the browser: a retried batch stores nothing twice. See docs/storefront.md.',
      request: {
        query: z.object({ key: z.string().openapi({ description: 'the site key, pk_…' }) }),
        body: { required: true, content: { 'text/plain': { schema: CollectBatchDoc } } },
      },
      responses: {
        200: json(CollectResult, 'Stored (in one transaction)'),
        400: ERROR_RESPONSES[400],
        403: json(
          ERROR_RESPONSES[403].content['application/json'].schema,
          'Unknown or revoked key, an origin it does not allow, or no consent where the key requires it',
        ),
        413: ERROR_RESPONSES[413],
        429: ERROR_RESPONSES[429],
      },
    }),
  );
  app.options('/t/collect', async (c) => {
    const origin = c.req.header('origin');
    const key = c.req.query('key');
    const site = key ? await lookup(key) : undefined;
    if (!origin || !site || site.revokedAt || !site.origins.includes(origin)) return c.body(null, 403);
    allow(c, origin);
    return c.body(null, 204, {
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'content-type',
      'Access-Control-Max-Age': '86400',
    });
  });
  app.post('/t/collect', guard, limit, async (c) => {
    const site = sites.get(c) as SiteKey;
    const batch = service.parseBatch(await c.req.text());
    const wait = byVisitor.take(batch.anonymous_id);
    if (wait > 0)
      throw rateLimited(`too many batches from this visitor (at most ${limits.perVisitor}/s)`, wait);
    return c.json(await service.collect(deps, { site, batch }));
  });

  // ---- Shopify checkouts → carts ----

  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: '/webhooks/shopify/carts',
      tags: ['webhooks'],
      summary: 'Shopify checkouts/create, checkouts/update and orders/create (cart completion)',
      description:
        'Authenticated by `x-shopify-hmac-sha256` (base64 HMAC-SHA256 of the raw body with RETAIN_SHOPIFY_SECRET), topic from `x-shopify-topic`. Checkouts become carts (by checkout token; a redelivery or an older update changes nothing) and one `checkout_started` event; `orders/create` with a `checkout_token` marks the cart completed. Subscribe `orders/create` here besides `/webhooks/shopify`, which stores the order.',
      request: {
        headers: z.object({ 'x-shopify-hmac-sha256': z.string(), 'x-shopify-topic': z.string() }),
      },
      responses: {
        400: ERROR_RESPONSES[400],
        401: ERROR_RESPONSES[401],
        404: ERROR_RESPONSES[404],
        413: ERROR_RESPONSES[413],
        200: json(CartWebhookResult, 'Applied (or acknowledged and ignored)'),
      },
    }),
  );
  app.post('/webhooks/shopify/carts', async (c) => {
    const secret = deps.config.shopifySecret;
    if (!secret)
      throw new AppError('not_found', 'shopify webhooks are not configured (set RETAIN_SHOPIFY_SECRET)');
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!verifySignature(raw, secret, c.req.header('x-shopify-hmac-sha256')))
      throw new AppError('unauthorized', 'bad or missing x-shopify-hmac-sha256 signature');
    const topic = c.req.header('x-shopify-topic') ?? '';
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      throw new AppError('validation', 'the webhook body is not JSON');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw new AppError('validation', 'the webhook body must be a JSON object');
    const result = await service.handleCartWebhook(deps, { topic, payload });
    c.get('log').info({ source: 'shopify', topic, handled: result.handled, id: result.id }, 'cart webhook');
    return c.json(result);
  });
}
