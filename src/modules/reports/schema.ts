import { z } from 'zod';
import { Period, SplitBy } from '../../analytics/metrics/types.js';
import type { DigestData } from '../../analytics/metrics/digest.js';
import { RFM_SEGMENTS, type RfmSegment } from '../../analytics/metrics/rfm.js';
import { invalid } from '../../shared/errors.js';
import { parseDay } from '../../shared/time.js';

/**
 * The report services' inputs (`summaryReport(ctx, input)` …; the routes parse them from the query)
 * and the `report` commands' options (an input plus what only a command line offers: `cohorts --show`,
 * `digest --out`). On the command line everything arrives as text; these schemas turn it into checked
 * values and say what was expected. The `.describe()` texts are the commands' help texts.
 */

const Day = z.string().refine((s) => parseDay(s) !== null, { message: 'expected a calendar day YYYY-MM-DD' });

const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month YYYY-MM');

/** `YYYY-MM..YYYY-MM` (inclusive months) or a single `YYYY-MM`. */
const MonthSpan = z
  .string()
  .regex(
    /^\d{4}-(0[1-9]|1[0-2])(\.\.\d{4}-(0[1-9]|1[0-2]))?$/,
    'expected YYYY-MM..YYYY-MM (inclusive months) or one month YYYY-MM',
  )
  .refine(
    (s) => {
      const [a, b] = s.split('..');
      return b === undefined || a! <= b;
    },
    { message: 'expected the first month at or before the last' },
  );

/** The RFM segment `text` names, matched case-insensitively with `-`/`_` read as spaces (`at-risk`), or null. */
export function rfmSegmentOf(text: string): RfmSegment | null {
  const norm = (x: string) =>
    x
      .toLowerCase()
      .replace(/[-_\s]+/g, ' ')
      .trim();
  return RFM_SEGMENTS.find((name) => norm(name) === norm(text)) ?? null;
}

/** A named RFM segment ({@link rfmSegmentOf}). */
const Segment = z.string().transform((s, ctx): RfmSegment => {
  const hit = rfmSegmentOf(s);
  if (!hit) {
    ctx.addIssue({ code: 'custom', message: `expected one of: ${RFM_SEGMENTS.join(', ')}` });
    return z.NEVER;
  }
  return hit;
});

const base = {
  asOf: Day.optional().describe(
    'count data up to and including this day, in the store time zone (default: the last order day)',
  ),
};
const range = {
  from: Day.optional().describe('first day of the range (inclusive)'),
  to: Day.optional().describe('last day of the range (inclusive)'),
};
const period = Period.optional().describe('calendar grain (default: month)');
const segment = Segment.optional().describe(
  'only customers of one RFM segment as of --as-of (e.g. Champions, "At risk", cannot-lose-them)',
);

/** `overviewReport(ctx, input)`: a period against the one before it. */
export const OverviewInput = z.object({
  ...base,
  from: Day.optional().describe('first day of the period (inclusive; default: 364 days before --to)'),
  to: Day.optional().describe('last day of the period (inclusive; default: the as-of day)'),
});
export type OverviewInput = z.infer<typeof OverviewInput>;

/** `summaryReport(ctx, input)`. */
export const SummaryInput = z.object({ ...base });
export type SummaryInput = z.infer<typeof SummaryInput>;

/** `ltvReport(ctx, input)`. */
export const LtvInput = z.object({
  ...base,
  months: z.coerce
    .number()
    .int('expected a whole number of months')
    .min(1, 'expected at least 1 month')
    .max(1200, 'expected at most 1200 months')
    .optional()
    .describe('complete calendar months before the as-of month to measure on (default: 12)'),
  segment: z
    .string()
    .min(1, 'expected a segment name')
    .optional()
    .describe(
      'only customers of one RFM segment as of --as-of (e.g. Champions, at-risk), or the members of a saved or built-in segment (retain segments list)',
    ),
});
export type LtvInput = z.infer<typeof LtvInput>;

/** `retentionReport(ctx, input)`. */
export const RetentionInput = z.object({
  ...base,
  ...range,
  period,
  segment,
});
export type RetentionInput = z.infer<typeof RetentionInput>;

/** `cohortsReport(ctx, input)`. */
export const CohortsInput = z.object({
  ...base,
  ...range,
  period,
  by: SplitBy.optional().describe('split cohorts by channel | first-category | first-product | country'),
  segment,
});
export type CohortsInput = z.infer<typeof CohortsInput>;

/** `rfmReport(ctx, input)`. */
export const RfmInput = z.object({
  ...base,
  customers: z
    .boolean()
    .optional()
    .describe('include every customer’s scores and segment in the JSON output'),
});
export type RfmInput = z.infer<typeof RfmInput>;

/** `channelsReport(ctx, input)`. */
export const ChannelsInput = z.object({
  ...base,
  from: Day.optional().describe('start of the acquisition window (inclusive; default: the first order)'),
  to: Day.optional().describe('end of the acquisition window (inclusive; default: the as-of day)'),
  horizon: z.coerce
    .number()
    .refine((d) => d === 90 || d === 180 || d === 365, 'expected 90, 180 or 365 days')
    .optional()
    .describe('LTV horizon for LTV:CAC and the reallocation: 90, 180 or 365 (default: 365)'),
  segment: z
    .string()
    .min(1, 'expected a segment name')
    .optional()
    .describe('only the members of a saved or built-in segment as of --as-of (retain segments list)'),
});
export type ChannelsInput = z.infer<typeof ChannelsInput>;

/** `diagnoseReport(ctx, input)`. */
export const DiagnoseInput = z.object({
  ...base,
  base: MonthSpan.optional().describe('base period, whole months (default: the month before --current)'),
  current: MonthSpan.optional().describe('current period, whole months (default: the last complete month)'),
  top: z.coerce
    .number()
    .int('expected a whole number')
    .min(1, 'expected at least 1')
    .optional()
    .describe('segments listed per driver dimension (default: 5)'),
});
export type DiagnoseInput = z.infer<typeof DiagnoseInput>;

/** `digestReport(ctx, input)`. */
export const DigestInput = z.object({
  ...base,
  month: Month.optional().describe('the month to report (default: the last complete month)'),
});
export type DigestInput = z.infer<typeof DigestInput>;

// ---- The digest's output: its campaigns section ----

/** An estimate with its 95 % interval, in minor units per recipient. */
const PerRecipient = z.object({ estimate: z.number(), low: z.number(), high: z.number() });

/**
 * One campaign in the monthly digest (docs/metrics.md#digest.campaigns): the campaign report's figures
 * (src/modules/campaigns/report.ts), money in minor units. The digest's JSON gives every `…Minor` field
 * without the suffix, as a decimal in the store currency, like the rest of its data.
 */
export const DigestCampaign = z.object({
  campaign: z.string(),
  /** The campaign's status now: `sending`, `done` or `cancelled`. */
  status: z.string(),
  /** Why it is in this month's digest: launched in the month, its outcome window ended in it, or both. */
  launchedInMonth: z.boolean(),
  windowEndedInMonth: z.boolean(),
  launchedAt: z.string(),
  window: z.object({
    days: z.number().int(),
    /** The end of the outcome window: `launchedAt` + `days` (exclusive). */
    end: z.string(),
    /** The figures count orders up to this instant: `end`, or earlier while the window runs. */
    figuresTo: z.string(),
    complete: z.boolean(),
  }),
  arms: z.array(
    z.object({
      /** `holdout` or a variant key. */
      arm: z.string(),
      template: z.string().nullable(),
      recipients: z.number().int(),
      messagesSent: z.number().int(),
      /** The arm's messages by send status (`queued`, `sent`, `skipped` …); none for the holdout. */
      messages: z.record(z.string(), z.number().int()),
    }),
  ),
  messagesSent: z.number().int(),
  /** Per variant compared with the holdout: the CUPED figure when the campaign report has one. */
  effects: z.array(
    z.object({
      variant: z.string(),
      basis: z.enum(['cuped', 'unadjusted']),
      /** Revenue per recipient, variant − holdout. */
      perRecipientMinor: PerRecipient,
      probabilityToBeatHoldout: z.number(),
      /** Σ over the variant's recipients of `perRecipient.estimate`. */
      incrementalRevenueMinor: z.number().int(),
      verdict: z.string(),
    }),
  ),
  /** Variants not compared: fewer than 2 recipients in them or in the holdout. */
  notCompared: z.array(z.string()),
  /** Σ of the variants' incremental revenue. */
  incrementalRevenueMinor: z.number().int(),
  /** The split's sample-ratio check (χ²); `mismatch` below the threshold p-value. */
  sampleRatio: z.object({ pValue: z.number(), threshold: z.number(), mismatch: z.boolean() }).nullable(),
});
export type DigestCampaign = z.infer<typeof DigestCampaign>;

/** What the digest renders and its JSON holds: buildDigest's figures and the month's campaigns. */
export type DigestDocument = DigestData & { campaigns: DigestCampaign[] };

// ---- The commands' options: an input plus what only a command line offers ----

/** `retain report cohorts`: the input, and which triangle the table shows. */
export const CohortsOptions = CohortsInput.extend({
  show: z
    .enum(['retention', 'revenue', 'margin'], { error: '--show: expected retention, revenue or margin' })
    .default('retention')
    .describe('triangle to print: retention | revenue | margin (JSON has all)'),
});
export type CohortsOptions = z.infer<typeof CohortsOptions>;

/** `retain report digest`: the input, and a file to write the digest to. */
export const DigestOptions = DigestInput.extend({
  out: z
    .string()
    .regex(/\.(html?|md|markdown)$/i, 'expected a file name ending in .html or .md')
    .optional()
    .describe('write self-contained HTML (.html) or Markdown (.md) and print its path'),
});
export type DigestOptions = z.infer<typeof DigestOptions>;

/** CLI spelling of an option field, for error messages (`asOf` → `--as-of`). */
function flag(field: string): string {
  return '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * Parses a command's options, turning the first zod issue into a validation error that names the
 * option and what it expected (`field --from: expected a calendar day YYYY-MM-DD, got '2011-13-01'`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? flag(String(issue.path[0])) : undefined;
  const value =
    issue.path.length && raw && typeof raw === 'object'
      ? (raw as Record<string, unknown>)[String(issue.path[0])]
      : undefined;
  const got = typeof value === 'string' ? `, got '${value}'` : '';
  throw invalid(`${issue.message}${got}`, field ? { field } : undefined);
}
