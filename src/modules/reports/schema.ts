import { z } from 'zod';
import { Period, SplitBy } from '../../analytics/metrics/types.js';
import { RFM_SEGMENTS, type RfmSegment } from '../../analytics/metrics/rfm.js';
import { invalid } from '../../shared/errors.js';
import { parseDay } from '../../shared/time.js';

/**
 * Options of the `report` commands (and, later, of the HTTP report routes). Everything arrives as
 * text from the command line; these schemas turn it into checked values and say what was expected.
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

/** A named RFM segment, matched case-insensitively with `-`/`_` read as spaces (`at-risk`). */
const Segment = z.string().transform((s, ctx): RfmSegment => {
  const norm = (x: string) =>
    x
      .toLowerCase()
      .replace(/[-_\s]+/g, ' ')
      .trim();
  const hit = RFM_SEGMENTS.find((name) => norm(name) === norm(s));
  if (!hit) {
    ctx.addIssue({ code: 'custom', message: `expected one of: ${RFM_SEGMENTS.join(', ')}` });
    return z.NEVER;
  }
  return hit;
});

const base = {
  asOf: Day.optional(),
};
const range = {
  from: Day.optional(),
  to: Day.optional(),
};

export const LtvOptions = z.object({
  ...base,
  segment: Segment.optional(),
  months: z.coerce
    .number()
    .int('expected a whole number of months')
    .min(1, 'expected at least 1 month')
    .max(1200, 'expected at most 1200 months')
    .optional(),
});
export type LtvOptions = z.infer<typeof LtvOptions>;

export const RetentionOptions = z.object({
  ...base,
  ...range,
  period: Period.optional(),
  segment: Segment.optional(),
});
export type RetentionOptions = z.infer<typeof RetentionOptions>;

export const CohortOptions = z.object({
  ...base,
  ...range,
  period: Period.optional(),
  by: SplitBy.optional(),
  segment: Segment.optional(),
});
export type CohortOptions = z.infer<typeof CohortOptions>;

export const RfmOptions = z.object({ ...base, customers: z.boolean().optional() });
export type RfmOptions = z.infer<typeof RfmOptions>;

export const ChannelOptions = z.object({
  ...base,
  ...range,
  horizon: z.coerce
    .number()
    .refine((d) => d === 90 || d === 180 || d === 365, 'expected 90, 180 or 365 days')
    .optional(),
});
export type ChannelOptions = z.infer<typeof ChannelOptions>;

export const DiagnoseOptions = z.object({
  ...base,
  base: MonthSpan.optional(),
  current: MonthSpan.optional(),
  top: z.coerce.number().int('expected a whole number').min(1, 'expected at least 1').optional(),
});
export type DiagnoseOptions = z.infer<typeof DiagnoseOptions>;

export const DigestOptions = z.object({
  ...base,
  month: Month.optional(),
  out: z
    .string()
    .regex(/\.(html?|md|markdown)$/i, 'expected a file name ending in .html or .md')
    .optional(),
});
export type DigestOptions = z.infer<typeof DigestOptions>;

/** CLI spelling of an option field, for error messages (`asOf` → `--as-of`). */
function flag(field: string): string {
  return '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * Parses report options, turning the first zod issue into a validation error that names the
 * option and what it expected (`field --from: expected a calendar day YYYY-MM-DD, got '2011-13-01'`),
 * and checks that `from` is not after `to`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) {
    const o = r.data as { from?: unknown; to?: unknown };
    // Days as YYYY-MM-DD compare correctly as text.
    if (typeof o.from === 'string' && typeof o.to === 'string' && o.from > o.to) {
      throw invalid(`expected --from (${o.from}) at or before --to (${o.to})`, { field: '--from' });
    }
    return r.data;
  }
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? flag(String(issue.path[0])) : undefined;
  const value =
    issue.path.length && raw && typeof raw === 'object'
      ? (raw as Record<string, unknown>)[String(issue.path[0])]
      : undefined;
  const got = typeof value === 'string' ? `, got '${value}'` : '';
  throw invalid(`${issue.message}${got}`, field ? { field } : undefined);
}
