import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';

/** Messaging's requests and answers (types by z.infer). */

const part = (what: string) =>
  z.string().trim().min(1, `${what} must not be empty`).max(200).openapi({ description: what });

/** `POST /v1/messages` and `retain send`: one template to listed customers, each once per key. */
export const SendRequest = z
  .object({
    template: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .openapi({ description: 'template name (its latest version)' }),
    customers: z
      .array(z.string().min(1).max(500))
      .min(1)
      .max(100_000)
      .openapi({ description: "the shop's customer ids" }),
    source: part('what sends: manual, campaign:<id>, flow:<id>, survey, loyalty …').default('manual'),
    step: part('the step within the source (default: the template name)').optional(),
    occurrence: part(
      'which time this is, e.g. a date or a run id: the same source, step, customer and occurrence is sent at most once',
    ),
    variables: z
      .object({
        discount_code: z.string().max(200).nullable().optional(),
      })
      .catchall(z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .optional()
      .openapi({ description: 'extra template variables, the same for every recipient' }),
  })
  .strict()
  .openapi('SendRequest');
export type SendRequest = z.infer<typeof SendRequest>;

export const SendQueued = z
  .object({
    queued: z.number().int().openapi({ description: 'new ledger rows' }),
    alreadyQueued: z
      .number()
      .int()
      .openapi({ description: 'keys already in the ledger (left as they were)' }),
    template: z.string(),
    templateVersion: z.number().int(),
  })
  .openapi('SendQueued');

export const SEND_STATUSES = ['queued', 'sending', 'sent', 'rejected', 'skipped', 'unknown'] as const;

export const Send = z
  .object({
    key: z.string(),
    customer: z.string(),
    channel: z.string(),
    kind: z.string(),
    source: z.string(),
    step: z.string(),
    occurrence: z.string(),
    template: z.string(),
    templateVersion: z.number().int(),
    status: z.enum(SEND_STATUSES),
    reason: z.string().nullable(),
    address: z.string().nullable(),
    locale: z.string().nullable(),
    attempts: z.number().int(),
    providerId: z.string().nullable(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .openapi('Send');
export type Send = z.infer<typeof Send>;

export const SendListQuery = z.object({
  ...PageQuery,
  source: z.string().optional(),
  status: z.enum(SEND_STATUSES).optional(),
  customer: z
    .string()
    .min(1)
    .optional()
    .openapi({ description: "one customer's sends (the shop's customer id)" }),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM');

/** The store's sending rules (settings key `messaging_policy`). */
export const MessagingPolicy = z
  .object({
    frequencyCap: z
      .object({ max: z.number().int().min(1).max(1000), days: z.number().int().min(1).max(365) })
      .nullable()
      .default({ max: 3, days: 7 })
      .openapi({ description: 'marketing messages per contact per rolling window, all sources; null: none' }),
    quietHours: z
      .object({ start: hhmm, end: hhmm })
      .nullable()
      .default({ start: '21:00', end: '09:00' })
      .openapi({
        description: "no marketing message in these local hours (the contact's time zone): deferred",
      }),
    perSecond: z
      .object({
        email: z.number().int().min(1).max(100_000).default(2000),
        sms: z.number().int().min(1).max(100_000).default(20),
        messenger: z.number().int().min(1).max(100_000).default(25),
      })
      .default({ email: 2000, sms: 20, messenger: 25 })
      .openapi({ description: 'throttle per channel (messages per second)' }),
    publicUrl: z.string().url().nullable().default(null).openapi({
      description: 'the address of `retain serve` contacts reach: unsubscribe and preference links',
    }),
    tracking: z
      .object({ opens: z.boolean().default(true), clicks: z.boolean().default(true) })
      .strict()
      .default({ opens: true, clicks: true })
      .openapi({
        description:
          'marketing email: an open pixel and links through signed redirects (needs publicUrl); the unsubscribe and preference links are never redirected',
      }),
    doubleOptIn: z
      .array(z.enum(['email', 'sms']))
      .default([])
      .openapi({
        description:
          'channels whose grants from the API or a checkout wait for the contact to confirm a link sent to them (needs publicUrl)',
      }),
  })
  .strict()
  .openapi('MessagingPolicy');
export type MessagingPolicy = z.infer<typeof MessagingPolicy>;
