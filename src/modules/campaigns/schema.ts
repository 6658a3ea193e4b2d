import { z } from '@hono/zod-openapi';

/** Campaigns: a segment's send with A/B/n variants and a holdout (docs/campaigns.md). */

const Share = z.number().gt(0, 'a share must be > 0').lt(1, 'a share must be < 1');

export const VariantInput = z
  .object({
    /** A, B, C …: how the variant is named in reports. */
    key: z.string().regex(/^[A-Z]$/, 'a variant key is one capital letter (A, B, C …)'),
    /** The messaging template the variant sends (its latest version when the campaign is launched). */
    template: z.string().trim().min(1).max(200),
    /** The variant's share of all assigned recipients (the holdout takes the rest). */
    share: Share,
  })
  .strict();

export const CampaignInput = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,79}$/,
        'a campaign name is lower-case letters, digits, - and _ (at most 80)',
      ),
    /** A saved or built-in segment … */
    segment: z.string().trim().min(1).max(200).optional(),
    /** … or an ad-hoc rule (the segments' rule language). */
    rule: z.unknown().optional(),
    variants: z.array(VariantInput).min(1).max(8),
    /** The share that gets nothing (the baseline of the incremental revenue). Default 10 %. */
    holdoutShare: z.number().min(0.01, 'keep at least a 1 % holdout').max(0.9).default(0.1),
    /** Days after the launch over which revenue is compared. */
    windowDays: z.number().int().min(1).max(365).default(30),
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

export const Campaign = z
  .object({
    id: z.number().int(),
    name: z.string(),
    segment: z.string().nullable(),
    rule: z.unknown().nullable(),
    channel: z.string(),
    holdoutShare: z.number(),
    windowDays: z.number().int(),
    status: z.enum(['draft', 'sending', 'done', 'cancelled']),
    variants: z.array(z.object({ key: z.string(), template: z.string(), share: z.number() })),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    launchedAt: z.string().nullable(),
  })
  .openapi('Campaign');
export type Campaign = z.infer<typeof Campaign>;
