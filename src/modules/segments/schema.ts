import { z } from '@hono/zod-openapi';

/** A segment's name: what CLI commands and URLs call it. */
export const SegmentName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'expected 1–80 lower-case letters, digits, - or _ (e.g. vip-winback)');

/** `POST /v1/segments`, `retain segments create`: a definition (replaces one of the same name). */
export const SegmentInput = z
  .object({
    name: SegmentName,
    description: z.string().max(500).nullable().optional(),
    rule: z.unknown().openapi({
      description:
        'the rule tree: {"all"|"any": [rules]}, {"not": rule} or a condition {field, op, value, …}',
      example: {
        all: [
          { field: 'orders', op: 'gte', value: 2 },
          { field: 'p_alive', op: 'lt', value: 0.5 },
        ],
      },
    }),
  })
  .strict()
  .openapi('SegmentInput');
export type SegmentInput = z.infer<typeof SegmentInput>;

export const Segment = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    rule: z.unknown(),
    builtin: z.boolean(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .openapi('Segment');
export type Segment = z.infer<typeof Segment>;

/** When "now" is for a rule's day counts: YYYY-MM-DD (the end of that day in the store zone) or an instant. */
export const AsOf = z.string().optional().openapi({
  description: 'evaluate as of this day (YYYY-MM-DD, inclusive, store time zone) or instant; default now',
});

/** A rule given inline (count/preview while editing) or a saved/built-in segment by name. */
export const EvaluateInput = z
  .object({
    name: z.string().optional(),
    rule: z.unknown().optional(),
    asOf: AsOf,
  })
  .strict()
  .openapi('SegmentEvaluate');
export type EvaluateInput = z.infer<typeof EvaluateInput>;

export const Reachable = z.object({
  email: z.number().int(),
  sms: z.number().int(),
  messenger: z.number().int(),
  ads: z.number().int(),
});

export const SegmentMember = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    country: z.string().nullable(),
    orders: z.number().int(),
    revenueMinor: z.number().int(),
    lastOrderAt: z.string().nullable(),
    rfmSegment: z.string().nullable(),
    clvMinor: z.number().int().nullable(),
  })
  .openapi('SegmentMember');
export type SegmentMember = z.infer<typeof SegmentMember>;

export const SegmentCount = z
  .object({ count: z.number().int(), asOf: z.string(), scoresRefreshedAt: z.string().nullable() })
  .openapi('SegmentCount');

export const SegmentPreview = z
  .object({
    count: z.number().int(),
    customers: z.number().int(),
    share: z.number().nullable(),
    revenueMinor: z.number().int(),
    revenueShare: z.number().nullable(),
    currency: z.string().nullable(),
    reachable: Reachable,
    sample: z.array(SegmentMember),
    asOf: z.string(),
    scoresRefreshedAt: z.string().nullable(),
  })
  .openapi('SegmentPreview');
export type SegmentPreview = z.infer<typeof SegmentPreview>;

export const MembersQuery = z.object({
  asOf: AsOf,
  after: z.string().optional().openapi({ description: 'cursor from the previous page' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `PATCH /v1/customers/{id}/tags`. */
export const TagsChange = z
  .object({
    add: z.array(z.string().trim().min(1).max(80)).max(100).default([]),
    remove: z.array(z.string().trim().min(1).max(80)).max(100).default([]),
  })
  .strict()
  .openapi('TagsChange');

export const Snapshot = z
  .object({
    id: z.number().int(),
    segment: z.string(),
    asOf: z.string(),
    takenAt: z.string(),
    members: z.number().int(),
    entered: z.number().int(),
    left: z.number().int(),
  })
  .openapi('SegmentSnapshot');
export type Snapshot = z.infer<typeof Snapshot>;
