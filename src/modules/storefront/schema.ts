import { z } from '@hono/zod-openapi';
import { jsonValueIssue } from '../../shared/json.js';
import { parseInstant } from '../../shared/time.js';
import { canonicalEmail } from '../imports/schema.js';

// ---- limits of the public collect endpoint (docs/storefront.md#limits) ----

/** Largest collect body, in bytes (413 beyond, naming it). The snippet's batches stay far below. */
export const MAX_COLLECT_BYTES = 64 * 1024;
/** Events per collect batch (the snippet sends at most this many per request). */
export const MAX_COLLECT_EVENTS = 50;
/** An event's `properties` as JSON text, at most this many characters. */
export const MAX_PROPERTIES_CHARS = 2048;
/** How long before its batch's `sent_at` an event may have happened (the snippet keeps unsent events a week). */
export const MAX_EVENT_AGE_MS = 7 * 24 * 3600 * 1000;
/** How far after its batch's `sent_at` an event may claim to have happened (clock jitter within a page). */
const MAX_EVENT_LEAD_MS = 60 * 1000;

/** The standard storefront event types; any other `track` name must match {@link EVENT_NAME}. */
export const STANDARD_EVENTS = ['view', 'add_to_cart', 'checkout_started', 'identify'] as const;
/** A custom event name: lower-case letters, digits and `_`, starting with a letter, at most 40. */
export const EVENT_NAME = /^[a-z][a-z0-9_]{0,39}$/;
/** Browser-made ids (anonymous ids, event ids): 8–64 URL-safe characters. */
const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Site keys: `pk_` and 24 URL-safe characters. */
export const SITE_KEY = /^pk_[A-Za-z0-9_-]{24}$/;
/** What a browser-made event id becomes in the events table: ids the snippet sends cannot take another source's. */
export const WEB_EVENT_PREFIX = 'web-';

const show = (s: unknown) => `'${String(s).length > 40 ? String(s).slice(0, 40) + '…' : String(s)}'`;

// ---- site keys ----

/** An origin the snippet may run on: scheme and host (and port), nothing else. */
export const Origin = z.string().transform((s, ctx) => {
  const text = s.trim();
  let origin: string | undefined;
  if (/^https?:\/\/[^/?#@\s]+\/?$/i.test(text)) {
    try {
      origin = new URL(text).origin;
    } catch {
      origin = undefined;
    }
  }
  if (!origin) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an origin like https://shop.example (scheme, host and port only), got ${show(s)}`,
    });
    return z.NEVER;
  }
  return origin;
});

export const KeyName = z.string().trim().min(1, 'is required').max(100, 'at most 100 characters');

export const CreateSiteKey = z
  .object({
    origins: z
      .array(Origin)
      .min(1, 'name at least one origin the snippet runs on')
      .max(20, 'at most 20 origins')
      .openapi({ example: ['https://shop.example'] }),
    name: KeyName.optional(),
    requireConsent: z.boolean().optional().openapi({
      description:
        'the store asks visitors first: batches must carry `consent: true`, and the snippet sets no cookie and sends nothing until `retain("consent", true)`',
    }),
  })
  .strict()
  .openapi('CreateSiteKey');
export type CreateSiteKey = z.infer<typeof CreateSiteKey>;

export const SiteKey = z
  .object({
    key: z.string().openapi({ example: 'pk_3q2Zb0mY6cRkWfJ1aXo8HnLs' }),
    name: z.string(),
    origins: z.array(z.string()),
    requireConsent: z.boolean(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('SiteKey');
export type SiteKey = z.infer<typeof SiteKey>;

export const SnippetQuery = z
  .object({
    key: z.string().optional().openapi({ description: 'the site key (default: the only active one)' }),
    endpoint: z
      .string()
      .optional()
      .openapi({ description: 'where retain serve answers the shop (default: publicUrl, else this server)' }),
  })
  .strict();

export const Snippet = z
  .object({
    key: z.string(),
    endpoint: z.string(),
    requireConsent: z.boolean(),
    html: z.string().openapi({ description: 'the two script tags to paste into every page' }),
  })
  .openapi('StorefrontSnippet');
export type Snippet = z.infer<typeof Snippet>;

// ---- the collect batch ----

const instant = z.string({ error: 'is required' }).transform((s, ctx) => {
  const d = parseInstant(s);
  if (!d) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 instant, got ${show(s)}` });
    return z.NEVER;
  }
  return d;
});

const clientId = z
  .string({ error: 'is required' })
  .regex(CLIENT_ID, 'expected 8–64 letters, digits, - or _ (as the snippet makes them)');

/** Who `identify` names: `{email}` (canonical) or `{id}` (the shop's customer id). */
const Identity = z.union([
  z
    .object({ email: z.string().transform(canonicalEmail).pipe(z.email('expected an email address')) })
    .strict(),
  z
    .object({
      id: z
        .union([z.string(), z.number().int().nonnegative()])
        .transform((v) => String(v).trim())
        .pipe(z.string().min(1, 'is required').max(200, 'at most 200 characters')),
    })
    .strict(),
]);
export type Identity = { email: string } | { id: string };

export const CollectEvent = z
  .object({
    event_id: clientId,
    type: z
      .string({ error: 'is required' })
      .regex(
        EVENT_NAME,
        `expected ${STANDARD_EVENTS.join(', ')} or a name of lower-case letters, digits and _ (at most 40)`,
      ),
    occurred_at: instant,
    properties: z
      .record(z.string(), z.unknown(), { error: 'expected a JSON object' })
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined) return;
        const issue = jsonValueIssue(v);
        if (issue) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
        const size = JSON.stringify(v).length;
        if (size > MAX_PROPERTIES_CHARS)
          ctx.addIssue({
            code: 'custom',
            message: `has ${size} characters as JSON; at most ${MAX_PROPERTIES_CHARS}`,
          });
      }),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.type !== 'identify') return;
    const who = Identity.safeParse(e.properties ?? {});
    if (!who.success)
      ctx.addIssue({
        code: 'custom',
        path: ['properties'],
        message: 'identify takes {"email": …} or {"id": …} (one of them, nothing else)',
      });
  });

export const CollectBatch = z
  .object({
    anonymous_id: clientId,
    consent: z.boolean().optional(),
    sent_at: instant,
    events: z
      .array(CollectEvent)
      .min(1, 'send at least one event')
      .max(MAX_COLLECT_EVENTS, `at most ${MAX_COLLECT_EVENTS} events per batch`),
  })
  .strict()
  .superRefine((b, ctx) => {
    b.events.forEach((e, i) => {
      const ahead = b.sent_at.getTime() - e.occurred_at.getTime();
      if (ahead > MAX_EVENT_AGE_MS)
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'occurred_at'],
          message: 'is more than 7 days before the batch’s sent_at',
        });
      else if (-ahead > MAX_EVENT_LEAD_MS)
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'occurred_at'],
          message: 'is after the batch’s sent_at',
        });
    });
  });
export type CollectBatch = z.infer<typeof CollectBatch>;

/** The identity an identify event's (validated) properties name. */
export function identityOf(properties: Record<string, unknown> | undefined): Identity {
  return Identity.parse(properties ?? {});
}

/** For the OpenAPI document (the body is sent as text/plain by the snippet and parsed by the handler). */
export const CollectBatchDoc = z
  .object({
    anonymous_id: z.string().openapi({ description: 'the visitor’s id (the `_retain_aid` cookie)' }),
    consent: z
      .boolean()
      .optional()
      .openapi({ description: 'required true when the site key requires consent' }),
    sent_at: z
      .string()
      .openapi({ description: 'the browser’s clock when sending: event times are read relative to it' }),
    events: z
      .array(
        z.object({
          event_id: z
            .string()
            .openapi({ description: 'made by the browser; a retried batch stores nothing twice' }),
          type: z.string().openapi({ example: 'add_to_cart' }),
          occurred_at: z.string(),
          properties: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .max(MAX_COLLECT_EVENTS),
  })
  .openapi('CollectBatch');

export const CollectResult = z
  .object({
    received: z.number().int(),
    stored: z
      .number()
      .int()
      .openapi({ description: 'events new to the store (a retry stores nothing twice)' }),
  })
  .openapi('CollectResult');
export type CollectResult = z.infer<typeof CollectResult>;

// ---- carts (Shopify checkouts) ----

export const CartWebhookResult = z
  .object({
    source: z.literal('shopify'),
    topic: z.string(),
    handled: z
      .boolean()
      .openapi({ description: 'false for topics this receiver does not use (acknowledged)' }),
    entity: z.literal('carts').optional(),
    id: z.string().optional().openapi({ description: 'the checkout token' }),
    inserted: z.number().optional(),
    updated: z.number().optional(),
    unchanged: z.number().optional(),
    completed: z.boolean().optional().openapi({ description: 'orders/create: the cart is now completed' }),
    checkoutStarted: z
      .boolean()
      .optional()
      .openapi({ description: 'a checkout_started event was stored by this delivery' }),
  })
  .openapi('CartWebhookResult');
export type CartWebhookResult = z.infer<typeof CartWebhookResult>;
