import { z } from 'zod';
import { invalid } from '../../shared/errors.js';

/** The models `retain clv fit` knows, by their CLI names. */
export const TRANSACTION_MODELS = ['bgnbd', 'pareto-nbd', 'mbgnbd'] as const;
export const MODELS = [...TRANSACTION_MODELS, 'gamma-gamma', 'sbg'] as const;
export const Model = z.enum(MODELS, { error: `model must be one of ${MODELS.join(', ')}` });
export type Model = z.infer<typeof Model>;
/** The models that fit from stored orders (sBG fits a survivor curve, which only a file gives). */
export const ORDER_MODELS = [...TRANSACTION_MODELS, 'gamma-gamma'] as const;
export const TransactionModelName = z.enum(TRANSACTION_MODELS, {
  error: `model must be one of ${TRANSACTION_MODELS.join(', ')} (a purchase-count model)`,
});
export type TransactionModelName = z.infer<typeof TransactionModelName>;

/** A plain decimal number cell (no thousands separators, no units). */
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const numberCell = (what: string) =>
  z
    .string({ error: `${what} is missing` })
    .trim()
    .regex(NUMBER_RE, { error: `${what} must be a number` })
    .transform(Number)
    .pipe(
      z
        .number()
        .finite({ error: `${what} must be finite` })
        .min(0, { error: `${what} must be ≥ 0` }),
    );

/**
 * One row of a summary CSV (`customer_id,frequency,recency,T[,monetary_value]`, times already in the
 * model's units), as cells. Enforces the BTYD invariants: x an integer, 0 ≤ t_x ≤ T, t_x = 0 when x = 0.
 */
function buildSummaryRow() {
  return z
    .object({
      customer_id: z.string().trim().min(1, { error: 'customer_id is empty' }),
      frequency: numberCell('frequency').pipe(z.number().int({ error: 'frequency must be a whole number' })),
      recency: numberCell('recency'),
      T: numberCell('T'),
      monetary_value: numberCell('monetary_value').optional(),
      frequency_holdout: numberCell('frequency_holdout')
        .pipe(z.number().int({ error: 'frequency_holdout must be a whole number' }))
        .optional(),
      duration_holdout: numberCell('duration_holdout').optional(),
    })
    .superRefine((r, ctx) => {
      if (r.recency > r.T)
        ctx.addIssue({ code: 'custom', path: ['recency'], message: `recency ${r.recency} exceeds T ${r.T}` });
      if (r.frequency === 0 && r.recency !== 0)
        ctx.addIssue({ code: 'custom', path: ['recency'], message: 'recency must be 0 when frequency is 0' });
      if (r.frequency > 0 && r.monetary_value !== undefined && !(r.monetary_value > 0))
        ctx.addIssue({
          code: 'custom',
          path: ['monetary_value'],
          message: 'monetary_value must be > 0 for a repeat buyer (frequency > 0)',
        });
    });
}
let summaryRow: ReturnType<typeof buildSummaryRow> | undefined;
/**
 * The SummaryRow schema, built on first use: the file reader's fast path validates well-formed rows
 * itself and asks for the schema only for a row it does not accept (building it costs start-up time).
 */
export const SummaryRow = (): ReturnType<typeof buildSummaryRow> => (summaryRow ??= buildSummaryRow());
export type SummaryRow = z.infer<ReturnType<typeof buildSummaryRow>>;

/** Column names accepted in a summary CSV header (`ID` is lifetimes' name for the id column). */
export const SUMMARY_COLUMNS = {
  id: ['customer_id', 'ID', 'id'],
  required: ['frequency', 'recency', 'T'],
  optional: ['monetary_value', 'frequency_holdout', 'duration_holdout'],
} as const;

/** One row of an sBG survivor-curve CSV: `period,alive` (built on first use, as SummaryRow). */
function buildSurvivorRow() {
  return z.object({
    period: numberCell('period').pipe(z.number().int({ error: 'period must be a whole number' })),
    alive: numberCell('alive'),
  });
}
let survivorRow: ReturnType<typeof buildSurvivorRow> | undefined;
export const SurvivorRow = (): ReturnType<typeof buildSurvivorRow> => (survivorRow ??= buildSurvivorRow());
export type SurvivorRow = z.infer<ReturnType<typeof buildSurvivorRow>>;

const isoDay = (what: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: `${what} must be a date YYYY-MM-DD` })
    .transform((s) => new Date(`${s}T00:00:00Z`))
    .refine((d) => !Number.isNaN(d.getTime()), { error: `${what} is not a valid date` });

const positive = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .refine((v) => Number.isFinite(v) && v > 0, { error: `${what} must be > 0` });

const TimeUnitOption = z.enum(['day', 'week'], { error: 'time unit must be day or week' });

const Common = z.object({
  summary: z.string().min(1).optional(),
  calibrationEnd: isoDay('calibration end').optional(),
  timeUnit: TimeUnitOption.default('week'),
  force: z.boolean().default(false),
});

/** `retain clv fit` options. */
export const FitOptions = Common.extend({ model: Model });
export type FitOptions = z.infer<typeof FitOptions>;

/** `retain clv predict` options. */
export const PredictOptions = Common.extend({
  model: TransactionModelName.default('bgnbd'),
  horizon: positive('horizon'),
  out: z.string().min(1).optional(),
  clvMonths: positive('CLV months').default(12),
  discountRate: z.coerce
    .number({ error: 'discount rate must be a number' })
    .refine((v) => Number.isFinite(v) && v >= 0 && v < 1, {
      error: 'discount rate must be a monthly rate in [0, 1)',
    })
    .default(0.01),
  margin: z.coerce
    .number({ error: 'margin must be a number' })
    .refine((v) => Number.isFinite(v) && v > 0 && v <= 1, { error: 'margin must be in (0, 1]' })
    .default(1),
  /** Add churn_risk, expected_spend, next_order_in and next_order_date to the --out CSV. */
  details: z.boolean().default(false),
});
export type PredictOptions = z.infer<typeof PredictOptions>;

/** `retain clv validate` options. */
export const ValidateOptions = Common.extend({
  model: TransactionModelName.default('bgnbd'),
  holdoutEnd: isoDay('holdout end').optional(),
});
export type ValidateOptions = z.infer<typeof ValidateOptions>;

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Parses CLI options with a schema; the first issue becomes a validation AppError naming the flag. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path[0];
  throw invalid(issue.message, typeof key === 'string' ? { field: `--${kebab(key)}` } : undefined);
}
