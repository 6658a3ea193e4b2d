import { z } from '@hono/zod-openapi';

/** Campaigns: a segment's send with A/B/n variants and a holdout (docs/campaigns.md). */

const Share = z.number().gt(0, 'a share must be > 0').lt(1, 'a share must be < 1');

/**
 * When a campaign (or one variant) sends: omitted, when it is launched; `at`, one instant (ISO 8601
 * with an offset); `localTime`, a wall time read in each customer's own time zone (the store's for a
 * customer without one): 10:00 in Kyiv and 10:00 in Lisbon.
 */
export const CampaignSchedule = z
  .object({
    at: z.string().datetime({ offset: true, message: 'an ISO 8601 instant with an offset' }).optional(),
    localTime: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$/, 'a local date and time YYYY-MM-DDTHH:MM')
      .optional(),
  })
  .strict()
  .refine((s) => (s.at === undefined) !== (s.localTime === undefined), {
    message: 'give either at (an instant) or localTime (a wall time in each customer’s zone)',
  });
export type CampaignSchedule = z.infer<typeof CampaignSchedule>;

/**
 * A variant's offer: one unique discount code per recipient (so an order that uses it is this
 * campaign's, exactly), generated at the send or taken from the store's own list imported beforehand;
 * the code's value (percent off, or an amount in minor units) and its expiry (a date, or days after the
 * send). Retain does not apply discounts: the codes are the shop's (export them to the shop, or import
 * the shop's list).
 */
export const Offer = z
  .object({
    kind: z.enum(['percent', 'amount']),
    /** Percent off (1–100), or an amount off in the store currency's minor units. */
    value: z.number().int('a whole number (an amount is in minor units)').positive(),
    codes: z.enum(['generate', 'list']).default('generate'),
    /** Generated codes start with it: `SPRING-` gives `SPRING-7KQ4M-X2PHT`. */
    prefix: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9-]{0,19}$/, 'capital letters, digits and dashes (at most 20)')
      .optional(),
    expiresAt: z
      .string()
      .datetime({ offset: true, message: 'an ISO 8601 instant with an offset' })
      .optional(),
    validDays: z.number().int().min(1).max(366).optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.kind === 'percent' && o.value > 100)
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `a percentage is at most 100, got ${o.value}`,
      });
    if ((o.expiresAt === undefined) === (o.validDays === undefined))
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'give either expiresAt or validDays' });
    if (o.codes === 'list' && o.prefix !== undefined)
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'a prefix is for generated codes only' });
  });
export type Offer = z.infer<typeof Offer>;

export const VariantInput = z
  .object({
    /** A, B, C …: how the variant is named in reports. */
    key: z.string().regex(/^[A-Z]$/, 'a variant key is one capital letter (A, B, C …)'),
    /** The messaging template the variant sends (its latest version when the campaign is launched). */
    template: z.string().trim().min(1).max(200),
    /** The variant's share of all assigned recipients (the holdout takes the rest). */
    share: Share,
    offer: Offer.optional(),
    /** The variant's own send time (a send-time test); the campaign's otherwise. */
    schedule: CampaignSchedule.optional(),
  })
  .strict();

/**
 * How the comparison may end: `fixed` — read once, when the outcome window is over (the horizon stated
 * up front); `sequential` — an always-valid interval that may be read at any time, and a stop once every
 * arm has `minRecipients` and the interval excludes zero.
 */
export const StopRule = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed') }).strict(),
  z
    .object({
      kind: z.literal('sequential'),
      /** No decision before every arm has this many recipients. */
      minRecipients: z.number().int().min(10).max(10_000_000),
    })
    .strict(),
]);
export type StopRule = z.infer<typeof StopRule>;

export const CampaignInput = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,79}$/,
        'a campaign name is lower-case letters, digits, - and _ (at most 80)',
      )
      .refine((n) => n !== 'new', {
        message: "'new' is reserved (the dashboard's form): choose another name",
      }),
    /** A saved or built-in segment … */
    segment: z.string().trim().min(1).max(200).optional(),
    /** … or an ad-hoc rule (the segments' rule language). */
    rule: z.unknown().optional(),
    variants: z.array(VariantInput).min(1).max(8),
    /** The share that gets nothing (the baseline of the incremental revenue). Default 10 %. */
    holdoutShare: z.number().min(0.01, 'keep at least a 1 % holdout').max(0.9).default(0.1),
    /** Days after the launch over which revenue is compared. */
    windowDays: z.number().int().min(1).max(365).default(30),
    /** Orders within this many days of a recipient's first click are attributed to the click. */
    clickWindowDays: z.number().int().min(1).max(90).default(5),
    schedule: CampaignSchedule.optional(),
    stop: StopRule.default({ kind: 'fixed' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.segment === undefined) === (c.rule === undefined))
      ctx.addIssue({ code: 'custom', path: ['segment'], message: 'give either segment or rule' });
    const keys = c.variants.map((v) => v.key);
    keys.forEach((k, i) => {
      if (keys.indexOf(k) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'key'],
          message: `variant ${k} is named twice`,
        });
    });
    const total = c.variants.reduce((s, v) => s + v.share, 0) + c.holdoutShare;
    if (Math.abs(total - 1) > 1e-9)
      ctx.addIssue({
        code: 'custom',
        path: ['variants'],
        message: `the variants' shares and the holdout share must add up to 1, they add up to ${Number(total.toFixed(6))}`,
      });
  });
export type CampaignInput = z.infer<typeof CampaignInput>;

export const CampaignStatus = z.enum(['draft', 'scheduled', 'sending', 'paused', 'done', 'cancelled']);
export type CampaignStatus = z.infer<typeof CampaignStatus>;

export const Campaign = z
  .object({
    id: z.number().int(),
    name: z.string(),
    segment: z.string().nullable(),
    rule: z.unknown().nullable(),
    channel: z.string(),
    holdoutShare: z.number(),
    windowDays: z.number().int(),
    clickWindowDays: z.number().int(),
    stop: StopRule,
    schedule: CampaignSchedule.nullable(),
    status: CampaignStatus,
    /** When the audience is (or was) assigned: the launch, or the earliest scheduled send. */
    sendAt: z.string().nullable(),
    /** Why a send stopped by itself (e.g. a variant's code list ran out), until it is resumed. */
    problem: z.string().nullable(),
    variants: z.array(
      z.object({
        key: z.string(),
        template: z.string(),
        share: z.number(),
        offer: Offer.nullable(),
        schedule: CampaignSchedule.nullable(),
      }),
    ),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    launchedAt: z.string().nullable(),
    pausedAt: z.string().nullable(),
    doneAt: z.string().nullable(),
    /** Messages not yet finished (queued or being sent). */
    pending: z.number().int(),
  })
  .openapi('Campaign');
export type Campaign = z.infer<typeof Campaign>;

export const CodesInput = z
  .object({
    variant: z.string().regex(/^[A-Z]$/, 'a variant key is one capital letter (A, B, C …)'),
    codes: z.array(z.string()).min(1).max(200_000, 'at most 200,000 codes per request'),
  })
  .strict();
