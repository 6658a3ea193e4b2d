import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';

/** Channels with a consent: the three that message a contact, and `ads` (retargeting audiences). */
export const CONSENT_CHANNELS = ['email', 'sms', 'messenger', 'ads'] as const;
export const ConsentChannel = z.enum(CONSENT_CHANNELS);
export type ConsentChannel = z.infer<typeof ConsentChannel>;
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
      ads: ConsentState.nullable(),
    }),
    locale: z.string().nullable().openapi({ description: "the contact's locale (null: the store's)" }),
    timeZone: z
      .string()
      .nullable()
      .openapi({ description: "the contact's IANA time zone (null: the store's)" }),
  })
  .openapi('Customer');
export type Customer = z.infer<typeof Customer>;

/**
 * A customer's figures: order aggregates and RFM from the stored scores (docs/segments.md#stored-inputs,
 * refreshed after orders change and daily), and the latest CLV run's prediction. Money in major units
 * of the store currency; null where there is nothing to say (no orders, no scores yet, no CLV run).
 */
export const CustomerScores = z
  .object({
    orders: z.number().int().nullable().openapi({ description: 'sale orders' }),
    revenue: z.number().nullable().openapi({ description: 'net revenue (refunds taken off)' }),
    aov: z.number().nullable().openapi({ description: 'average order value' }),
    firstOrderAt: z.string().nullable(),
    lastOrderAt: z.string().nullable(),
    rfmSegment: z.string().nullable(),
    rfm: z
      .string()
      .nullable()
      .openapi({ description: 'recency, frequency and monetary scores 1–5, e.g. "545"' }),
    pAlive: z.number().nullable().openapi({ description: 'probability the customer is still active' }),
    churnRisk: z.number().nullable().openapi({ description: '1 − pAlive' }),
    expectedPurchases: z.number().nullable().openapi({ description: "over the CLV run's horizon" }),
    clv: z.number().nullable().openapi({ description: "predicted CLV over the run's CLV months" }),
    nextOrderAt: z.string().nullable().openapi({ description: 'when the next order is due (the model)' }),
  })
  .openapi('CustomerScores');
export type CustomerScores = z.infer<typeof CustomerScores>;

/** Where the figures come from: the store currency, when the scores were computed, the CLV run. */
const ScoresContext = {
  currency: z.string().nullable().openapi({ description: 'the store currency (money is in it)' }),
  scoresAt: z.string().nullable().openapi({
    description: 'when the stored scores were computed (null: never — POST /v1/segments/refresh)',
  }),
  clvRun: z
    .object({ modelVersion: z.string(), asOf: z.string() })
    .nullable()
    .openapi({ description: 'the latest CLV run (null: none — POST /v1/clv/predictions)' }),
};

export const CustomerListItem = Customer.extend({ scores: CustomerScores }).openapi('CustomerListItem');

export const CustomerPage = z
  .object({
    data: z.array(CustomerListItem),
    nextCursor: z.string().nullable(),
    total: z.number().int().openapi({ description: 'customers matching the filters and search' }),
    ...ScoresContext,
  })
  .openapi('CustomerPage');

export const CustomerScoresResult = z
  .object({ customerId: z.string(), scores: CustomerScores, ...ScoresContext })
  .openapi('CustomerScoresResult');

const instant = z
  .string()
  .datetime({ offset: true, message: 'expected an ISO 8601 instant like 2024-01-31T00:00:00Z' });

export const CUSTOMER_SORTS = [
  'id',
  'orders',
  'revenue',
  'lastOrderAt',
  'pAlive',
  'churnRisk',
  'clv',
  'nextOrderAt',
] as const;

export const CustomerListQuery = z.object({
  ...PageQuery,
  email: z.string().optional().openapi({ description: 'exact email (case-insensitive)' }),
  country: z.string().optional(),
  acquisitionChannel: z.string().optional(),
  createdFrom: instant.optional().openapi({ description: 'created at or after (ISO 8601)' }),
  createdTo: instant.optional().openapi({ description: 'created before (ISO 8601)' }),
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .openapi({ description: 'search: part of the shop id, email or name (case-insensitive)' }),
  sort: z.enum(CUSTOMER_SORTS).default('id').openapi({
    description:
      'id (insertion order), orders, revenue, lastOrderAt, pAlive, churnRisk, clv or nextOrderAt; customers without the value come last',
  }),
  order: z
    .enum(['asc', 'desc'])
    .optional()
    .openapi({ description: 'default: asc for id and nextOrderAt, desc for the others' }),
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
    proof: z
      .object({
        ip: z.string().trim().min(1).max(64).optional().openapi({ description: "the contact's IP address" }),
        userAgent: z.string().trim().min(1).max(1000).optional(),
        formText: z
          .string()
          .trim()
          .min(1)
          .max(5000)
          .optional()
          .openapi({ description: 'the wording the contact agreed to, e.g. the checkbox label' }),
      })
      .strict()
      .optional()
      .openapi({ description: 'evidence kept in the consent ledger with the decision' }),
  })
  .strict()
  .openapi('ConsentUpdate');

/** One entry of the consent ledger (append-only; the current state is the latest per channel). */
export const ConsentEntry = z
  .object({
    channel: z.enum(CONSENT_CHANNELS),
    status: ConsentStatus,
    source: z.string(),
    occurredAt: z.string().nullable().openapi({ description: 'when the contact decided' }),
    recordedAt: z
      .string()
      .nullable()
      .openapi({ description: 'when Retain recorded it (null: carried over from before the ledger)' }),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    formText: z.string().nullable(),
  })
  .openapi('ConsentEntry');
export type ConsentEntry = z.infer<typeof ConsentEntry>;

export const ConsentHistoryQuery = z.object({
  channel: z.enum(CONSENT_CHANNELS).optional().openapi({ description: 'one channel only' }),
});

/** Body of `POST /v1/customers/{id}/merge`: the shop ids of the customers merged into `{id}`. */
export const MergeInput = z
  .object({
    from: z
      .array(z.string().trim().min(1, 'is empty'))
      .min(1, 'name at least one customer to merge')
      .max(100, 'at most 100 customers per merge')
      .openapi({ description: "the shop ids of the duplicates merged into the path's customer" }),
  })
  .strict()
  .openapi('MergeInput');
export type MergeInput = z.infer<typeof MergeInput>;

export const MergeResult = z
  .object({
    into: z.string(),
    merged: z.array(z.string()).openapi({ description: 'the merged ids (now aliases of `into`)' }),
    consentsChanged: z
      .array(z.enum(CONSENT_CHANNELS))
      .openapi({ description: 'channels whose current consent a merged customer’s later decision replaced' }),
    filled: z.array(z.string()).openapi({ description: 'empty fields of `into` filled from the merged' }),
    customer: Customer,
  })
  .openapi('MergeResult');

export const DuplicatesQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .openapi({ description: 'at most this many groups per kind, largest first (default 100)' }),
});

const DuplicateGroups = z.object({
  groups: z.number().int().openapi({ description: 'groups of two or more customers' }),
  customers: z.number().int().openapi({ description: 'customers in those groups' }),
  data: z.array(
    z.object({
      key: z.string().openapi({ description: 'the canonical email, or the phone digits' }),
      count: z.number().int(),
      customers: z.array(z.string()).openapi({ description: 'shop ids, oldest customer first' }),
    }),
  ),
});

export const DuplicatesResult = z
  .object({ email: DuplicateGroups, phone: DuplicateGroups })
  .openapi('Duplicates');
export type DuplicatesResult = z.infer<typeof DuplicatesResult>;
