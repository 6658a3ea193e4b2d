import { z } from '@hono/zod-openapi';

/** Survey names: lower-case words joined by hyphens, as in URLs and CLI arguments. */
export const SurveyName = z
  .string({ error: 'is required' })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case letters, digits and hyphens (e.g. after-delivery)')
  .max(60, 'at most 60 characters');

const Email = z.string().trim().toLowerCase().email('expected a user email');

const Wording = z.object({
  question: z.string().trim().min(1, 'is required').max(300, 'at most 300 characters'),
  why: z.string().trim().min(1, 'is required').max(300, 'at most 300 characters'),
});

export const SurveyKind = z.enum(['nps', 'csat']);
export type SurveyKind = z.infer<typeof SurveyKind>;

/** A survey as saved (`PUT /v1/surveys`, `retain surveys save`). */
export const SurveyDefinition = z
  .strictObject({
    name: SurveyName,
    kind: SurveyKind,
    /** Per language (uk, ru, en): the score question and the "why" question; defaults per kind. */
    wording: z.partialRecord(z.enum(['en', 'uk', 'ru']), Wording).optional(),
    /** At most one invitation (any survey) per customer per this many days (0: no throttle). */
    throttleDays: z.number().int().min(0).max(365).default(30),
    /** An invitation's links stop working after this many days. */
    expiresDays: z.number().int().min(1).max(90).default(14),
    /** A low score (or unhappy words in "why") becomes a call task. */
    lowScore: z
      .strictObject({
        /** Scores up to this one (NPS 0–10, CSAT 1–5) make a task. */
        atMost: z.number().int().min(0).max(10),
        /** Unhappy words in "why" make a task whatever the score. */
        negativeWords: z.boolean().default(true),
        /** Users (emails) the tasks go to in turn (round robin). */
        assignees: z.array(Email).min(1, 'name at least one assignee').max(50),
        /** The task is due this many hours after the answer. */
        slaHours: z.number().int().min(1).max(720).default(24),
      })
      .nullable()
      .default(null),
    /** After a survey's task is done, the customer is asked again (the throttle does not apply). */
    followUp: z.boolean().default(true),
  })
  .superRefine((d, ctx) => {
    if (d.lowScore && d.kind === 'csat' && d.lowScore.atMost > 5)
      ctx.addIssue({ code: 'custom', path: ['lowScore', 'atMost'], message: 'a CSAT score is 1–5' });
  })
  .openapi('SurveyDefinition');
export type SurveyDefinition = z.infer<typeof SurveyDefinition>;

export const Survey = z
  .object({
    name: z.string(),
    kind: SurveyKind,
    status: z.enum(['active', 'archived']),
    template: z.string().openapi({ description: 'the messaging template of the invitation' }),
    definition: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Survey');
export type Survey = z.infer<typeof Survey>;

export const InviteInput = z
  .strictObject({
    customers: z.array(z.string().min(1)).min(1, 'name at least one customer').max(10_000),
    /** What this round of invitations is (an order id, a month): the same occurrence invites once. */
    occurrence: z.string().trim().min(1, 'is required').max(200),
    /** The store's id of the order the survey asks about (with one customer: theirs). */
    order: z.string().trim().min(1).max(200).optional(),
  })
  .refine((b) => b.order === undefined || b.customers.length === 1, {
    path: ['order'],
    message: 'an order belongs to one customer: name only that customer',
  })
  .openapi('SurveyInvite');

export const InviteResult = z
  .object({
    invited: z.number().int(),
    alreadyInvited: z.number().int(),
    throttled: z.number().int(),
    skipped: z.array(z.object({ customer: z.string(), reason: z.string() })),
  })
  .openapi('SurveyInviteResult');
export type InviteResult = z.infer<typeof InviteResult>;
