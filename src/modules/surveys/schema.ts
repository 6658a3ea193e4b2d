import { z } from '@hono/zod-openapi';
import { page, PageQuery } from '../../kit/http/openapi.js';

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

/** `GET /v1/surveys/{name}/answers`, `retain surveys answers`. */
export const AnswersQuery = z
  .object({
    ...PageQuery,
    band: z.string().optional().openapi({
      description: 'one score band: detractor, passive, promoter (NPS); unhappy, neutral, happy (CSAT)',
    }),
  })
  .openapi('SurveyAnswersQuery');

export const SurveyAnswer = z
  .object({
    customer: z.string(),
    score: z.number().int(),
    band: z.string(),
    why: z.string().nullable(),
    locale: z.string().nullable(),
    answeredAt: z.string(),
    taskId: z.string().nullable().openapi({ description: 'the call task the answer made' }),
  })
  .openapi('SurveyAnswer');

export const AnswersPage = page(SurveyAnswer, 'SurveyAnswersPage');
export type AnswersPageOut = z.infer<typeof AnswersPage>;

/** `GET /v1/surveys/{name}/results`, `retain surveys results`. */
export const ResultsQuery = z
  .object({
    window: z.coerce
      .number()
      .int()
      .min(7)
      .max(365)
      .default(90)
      .openapi({ description: 'days after (and before) an answer whose purchases count (7–365)' }),
  })
  .openapi('SurveyResultsQuery');

const Theme = z.object({
  kind: z.enum(['term', 'phrase']),
  language: z.enum(['uk', 'ru', 'en']),
  stem: z.string(),
  label: z.string(),
  forms: z.array(z.string()),
  count: z.number().int(),
  share: z.number(),
  examples: z.array(z.string()),
});
const Interval = z.array(z.number()).length(2).openapi({ description: '95 % interval [low, high]' });
const Diff = z
  .object({ estimate: z.number(), low: z.number(), high: z.number() })
  .nullable()
  .openapi({ description: 'difference with its 95 % interval; null when a side has fewer than two' });
const Breakdown = z.object({
  groups: z.array(
    z.object({
      key: z.string(),
      label: z.string().optional(),
      answered: z.number().int(),
      score: z.number().openapi({ description: 'NPS (−100..100) or CSAT (% of 4–5)' }),
      interval95: Interval,
      few: z.boolean().openapi({ description: 'fewer than 30 answers: read with care' }),
    }),
  ),
  more: z.number().int().openapi({ description: 'groups left out (the list keeps 20)' }),
});
const EffectGroup = z.object({
  lowScores: z.number().int(),
  matured: z
    .number()
    .int()
    .openapi({ description: 'low scores at least the window old (the figures are over these)' }),
  repeatRate: z.number().nullable(),
  revenueAfterMinor: z.number().nullable(),
  boughtBefore: z.number().nullable(),
  revenueBeforeMinor: z.number().nullable(),
});

export const SurveyResults = z
  .object({
    survey: z.string(),
    kind: SurveyKind,
    invited: z.number().int(),
    answered: z.number().int(),
    withReason: z.number().int(),
    responseRate: z.number().nullable(),
    nps: z.number().nullable().optional(),
    csat: z.number().nullable().optional(),
    interval95: Interval.nullable(),
    promoters: z.number().int().optional(),
    passives: z.number().int().optional(),
    detractors: z.number().int().optional(),
    happy: z.number().int().optional(),
    neutral: z.number().int().optional(),
    unhappy: z.number().int().optional(),
    tasks: z.number().int(),
    themes: z
      .array(
        z.object({
          band: z.string(),
          answers: z.number().int(),
          withWhy: z.number().int(),
          terms: z.array(Theme),
          phrases: z.array(Theme),
        }),
      )
      .openapi({ description: '"why" themes per score band' }),
    months: z.array(z.object({ month: z.string(), answered: z.number().int(), score: z.number() })),
    by: z.object({ segment: Breakdown, channel: Breakdown, product: Breakdown, cohort: Breakdown }),
    value: z
      .object({
        currency: z.string(),
        windowDays: z.number().int(),
        clv: z
          .object({ asOf: z.string(), horizon: z.number(), timeUnit: z.string(), currency: z.string() })
          .nullable()
          .openapi({ description: 'the CLV prediction run the figures use; null before any' }),
        bands: z.array(
          z.object({
            band: z.string(),
            customers: z.number().int(),
            withClv: z.number().int(),
            meanClvMinor: z.number().nullable(),
            meanNetToDateMinor: z.number().nullable(),
            matured: z.number().int(),
            repeatRate: z.number().nullable(),
            revenueAfterMinor: z.number().nullable(),
          }),
        ),
        topVsBottom: z.object({ clvMinor: Diff, repeatRate: Diff, revenueAfterMinor: Diff }),
        verdict: z.string(),
      })
      .nullable()
      .openapi({
        description: 'NPS next to CLV: each customer once (latest answer); null without a store currency',
      }),
    effect: z
      .object({
        currency: z.string(),
        windowDays: z.number().int(),
        lowScoreAtMost: z.number().int(),
        resolved: EffectGroup,
        unresolved: EffectGroup,
        difference: z.object({ repeatRate: Diff, revenueAfterMinor: Diff }),
        verdict: z.string(),
      })
      .nullable()
      .openapi({ description: 'low scores whose task is done against the others' }),
    notes: z.array(z.string()),
  })
  .openapi('SurveyResults');
export type SurveyResults = z.infer<typeof SurveyResults>;
