import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';

/** A note's text: 1–5,000 characters (trimmed). */
export const NoteBody = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'is required')
  .max(5000, 'at most 5,000 characters');

/** `POST /v1/customers/{id}/notes`, `PATCH …/notes/{noteId}`, `retain notes add`. */
export const NoteInput = z
  .object({ body: NoteBody.openapi({ example: 'Prefers a call after 6 pm; parcel 2 arrived damaged' }) })
  .strict()
  .openapi('NoteInput');
export type NoteInput = z.infer<typeof NoteInput>;

/** A tag as the segments module keeps it: 1–80 characters (trimmed). */
export const Tag = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'must not be empty')
  .max(80, 'at most 80 characters');

/** `GET /v1/customers/{id}/notes`, `retain notes list`. */
export const NoteListQuery = z.object({ ...PageQuery }).openapi('NoteListQuery');
export type NoteListQuery = z.infer<typeof NoteListQuery>;

/** A note on a customer, as answered. */
export const Note = z
  .object({
    id: z.number().int(),
    customer: z.string().openapi({ description: "the customer's shop id" }),
    body: z.string(),
    author: z.object({
      id: z.string().openapi({ description: 'a key id, user:<email>, or cli' }),
      name: z.string().openapi({ description: "the key's name, the user's email, or cli" }),
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    edited: z.boolean().openapi({ description: 'changed since it was written' }),
  })
  .openapi('CustomerNote');
export type Note = z.infer<typeof Note>;

export const NotePage = z
  .object({ data: z.array(Note), nextCursor: z.string().nullable() })
  .openapi('CustomerNotePage');

/** `GET /v1/customers/{id}/timeline`, `retain customers timeline`. */
export const TimelineQuery = z
  .object({
    ...PageQuery,
    kinds: z.string().optional().openapi({
      description:
        'comma-separated kinds (order,refund,note); a name also takes the kinds under it (message: message, message.open, …). Default: all',
    }),
  })
  .openapi('CustomerTimelineQuery');
export type TimelineQuery = z.infer<typeof TimelineQuery>;

/** One entry of a customer's timeline. */
export const TimelineItem = z
  .object({
    kind: z.string().openapi({ example: 'order' }),
    id: z.string().openapi({ description: "the entry's id within its kind (an order's shop id, …)" }),
    at: z.string(),
    module: z.string().openapi({ description: 'the module that keeps it' }),
    title: z.string().openapi({ description: 'one line for a person', example: 'order 1001: paid, 3 lines' }),
    amountMinor: z
      .number()
      .nullable()
      .openapi({ description: 'minor units of currency (orders: total; refunds: amount)' }),
    currency: z.string().nullable(),
    detail: z
      .string()
      .nullable()
      .openapi({ description: 'a word or two: order status, refund reason, event type, message status, …' }),
    properties: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('CustomerTimelineEntry');
export type TimelineItem = z.infer<typeof TimelineItem>;

/** The header of the customer 360: who they are and their figures. */
export const CustomerSummary = z
  .object({
    id: z.string().openapi({ description: "the customer's shop id" }),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    locale: z.string().nullable().openapi({ description: "null: the store's" }),
    timeZone: z.string().nullable().openapi({ description: "null: the store's" }),
    erasedAt: z.string().nullable(),
    orders: z
      .object({
        count: z.number().int().nullable().openapi({ description: 'sale orders in the store currency' }),
        firstAt: z.string().nullable(),
        lastAt: z.string().nullable(),
        netRevenueMinor: z
          .number()
          .int()
          .nullable()
          .openapi({ description: 'net revenue (refunds taken off), minor units of currency' }),
        currency: z.string().nullable(),
        scoresAt: z.string().nullable().openapi({
          description:
            'when these figures were computed (the stored scores; null: never — POST /v1/segments/refresh)',
        }),
      })
      .openapi({ description: 'order figures from the stored scores, as GET /v1/customers/{id}/scores' }),
    clv: z
      .object({
        clvMinor: z.number().int().nullable(),
        pAlive: z.number(),
        expectedPurchases: z.number(),
        nextOrderAt: z.string().nullable(),
        currency: z.string().nullable(),
        modelVersion: z.string(),
        asOf: z.string(),
      })
      .nullable()
      .openapi({ description: "the latest CLV run's prediction (null: none for this customer)" }),
    loyalty: z
      .object({
        tier: z.string().nullable(),
        tierSince: z.string().nullable(),
        points: z.number().int().openapi({ description: 'available points' }),
        pending: z.number().int(),
        enrolledAt: z.string(),
      })
      .nullable()
      .openapi({ description: 'the loyalty membership (null: not a member)' }),
    openTasks: z.number().int().openapi({ description: 'tasks open or in progress' }),
    tags: z.array(z.string()),
  })
  .openapi('CustomerSummary');
export type CustomerSummary = z.infer<typeof CustomerSummary>;

export const TimelinePage = z
  .object({
    customer: CustomerSummary,
    data: z.array(TimelineItem),
    nextCursor: z.string().nullable(),
  })
  .openapi('CustomerTimelinePage');
export type TimelinePage = z.infer<typeof TimelinePage>;

/** What `PUT`/`DELETE /v1/customers/{id}/tags/{tag}` answer. */
export const TagsResult = z
  .object({
    id: z.string().openapi({ description: "the customer's shop id" }),
    tags: z.array(z.string()).openapi({ description: 'the tags now' }),
    changed: z.boolean().openapi({ description: 'false: the tag was already there (or already gone)' }),
  })
  .openapi('CustomerTagsResult');
export type TagsResult = z.infer<typeof TagsResult>;
