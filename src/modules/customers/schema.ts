import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';

export const CONSENT_CHANNELS = ['email', 'sms', 'messenger'] as const;
export const ConsentChannel = z.enum(CONSENT_CHANNELS);
export const ConsentStatus = z.enum(['granted', 'denied', 'unsubscribed', 'unknown']);
export type ConsentStatus = z.infer<typeof ConsentStatus>;

const ConsentState = z.object({
  status: ConsentStatus,
  changedAt: z.string().nullable(),
  source: z.string().nullable(),
});

/** A customer as the API returns it; `id` is the shop's own customer id (external id). */
export const Customer = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    birthday: z.string().nullable().openapi({ description: 'YYYY-MM-DD' }),
    country: z.string().nullable(),
    acquisitionChannel: z.string().nullable(),
    createdAt: z.string().nullable(),
    updatedAt: z.string(),
    consent: z.object({
      email: ConsentState.nullable(),
      sms: ConsentState.nullable(),
      messenger: ConsentState.nullable(),
    }),
  })
  .openapi('Customer');
export type Customer = z.infer<typeof Customer>;

const instant = z
  .string()
  .datetime({ offset: true, message: 'expected an ISO 8601 instant like 2024-01-31T00:00:00Z' });

export const CustomerListQuery = z.object({
  ...PageQuery,
  email: z.string().optional().openapi({ description: 'exact email (case-insensitive)' }),
  country: z.string().optional(),
  acquisitionChannel: z.string().optional(),
  createdFrom: instant.optional().openapi({ description: 'created at or after (ISO 8601)' }),
  createdTo: instant.optional().openapi({ description: 'created before (ISO 8601)' }),
});
export type CustomerListQuery = z.infer<typeof CustomerListQuery>;

/** Body of `PUT /v1/customers/{id}/consents/{channel}`. */
export const ConsentUpdate = z
  .object({
    status: ConsentStatus,
    source: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'where the consent was given, e.g. checkout' }),
    changedAt: instant.optional().openapi({ description: 'when it changed (default: now)' }),
  })
  .openapi('ConsentUpdate');

export const TimelineEntry = z
  .object({
    kind: z.enum(['order', 'refund', 'event']),
    id: z.string(),
    at: z.string(),
    amountMinor: z
      .number()
      .nullable()
      .openapi({ description: 'minor units (orders: total; refunds: amount)' }),
    currency: z.string().nullable(),
    detail: z.string().nullable().openapi({ description: 'order status, refund reason or event type' }),
    properties: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('TimelineEntry');

export const TimelineQuery = z.object({
  ...PageQuery,
  kinds: z
    .string()
    .regex(/^(order|refund|event)(,(order|refund|event))*$/, 'expected a comma list of order, refund, event')
    .optional()
    .openapi({ description: 'e.g. order,refund (default: all)' }),
});
