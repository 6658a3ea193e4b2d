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

const calibrationEnd = isoDay('calibration end').describe(
  'last calibration day YYYY-MM-DD (summary built from stored orders)',
);
const holdoutEnd = isoDay('holdout end').describe('last holdout day YYYY-MM-DD');
const common = {
  timeUnit: TimeUnitOption.default('week').describe('day or week (week = days/7)'),
  force: z.boolean().default(false).describe('fit even when the data-sufficiency check refuses'),
};
const transactionModel = TransactionModelName.default('mbgnbd').describe('bgnbd, pareto-nbd or mbgnbd');
/** `clv predict`'s model: omitted, it is chosen by holdout fit (docs/metrics.md#clv.selection). */
const predictModel = TransactionModelName.optional().describe(
  'bgnbd, pareto-nbd or mbgnbd (default: chosen by holdout fit, else mbgnbd)',
);

/** The models that fit from stored orders, as an input (sBG needs a survivor-curve file). */
const OrderModel = z.enum(ORDER_MODELS, {
  error: `model must be one of ${ORDER_MODELS.join(', ')} (sbg fits a survivor-curve file: CLI only)`,
});

/** `fit(ctx, input)`: fit a model to the stored orders up to the calibration end (`POST /v1/clv/fits`). */
export const FitInput = z.object({
  calibrationEnd,
  ...common,
  model: OrderModel.describe('bgnbd, pareto-nbd, mbgnbd or gamma-gamma'),
});
export type FitInput = z.infer<typeof FitInput>;

/** `predict(ctx, input)`: fit on the stored orders, predict per customer, store the predictions. */
export const PredictInput = z.object({
  calibrationEnd,
  ...common,
  model: predictModel,
  horizon: positive('horizon').describe('prediction horizon in time units'),
  clvMonths: positive('CLV months').default(12).describe('CLV horizon in months'),
  discountRate: z.coerce
    .number({ error: 'discount rate must be a number' })
    .refine((v) => Number.isFinite(v) && v >= 0 && v < 1, {
      error: 'discount rate must be a monthly rate in [0, 1)',
    })
    .optional()
    .describe(
      "monthly discount rate for CLV (default: the store's, retain store set --default-discount-rate; 0.01)",
    ),
  margin: z.coerce
    .number({ error: 'margin must be a number' })
    .refine((v) => Number.isFinite(v) && v > 0 && v <= 1, { error: 'margin must be in (0, 1]' })
    .optional()
    .describe(
      "profit margin applied to CLV, in (0, 1] (default: the store's, retain store set --default-margin; 1)",
    ),
});
export type PredictInput = z.infer<typeof PredictInput>;

/** `validate(ctx, input)`: fit on the calibration period of the stored orders, compare with the holdout. */
export const ValidateInput = z
  .object({ calibrationEnd, ...common, model: transactionModel, holdoutEnd })
  .refine((b) => b.holdoutEnd > b.calibrationEnd, {
    path: ['holdoutEnd'],
    error: 'holdoutEnd must be after calibrationEnd',
  });
export type ValidateInput = z.infer<typeof ValidateInput>;

// ---- The commands' options: the inputs plus what only a command line offers (files) ----

const summary = z
  .string()
  .min(1)
  .optional()
  .describe('summary CSV: customer_id,frequency,recency,T[,monetary_value] (times in model units)');
/** With `--summary` the calibration end is optional (it only dates the next orders). */
const cliPeriod = { summary, calibrationEnd: calibrationEnd.optional(), ...common };

/** `retain clv fit` options: every model, from stored orders or a `--summary` file. */
export const FitOptions = z.object({
  ...cliPeriod,
  model: Model.describe('bgnbd, pareto-nbd, mbgnbd, gamma-gamma or sbg'),
});
export type FitOptions = z.infer<typeof FitOptions>;

/** `retain clv predict` options. */
export const PredictOptions = z.object({
  ...cliPeriod,
  model: PredictInput.shape.model,
  horizon: PredictInput.shape.horizon,
  out: z.string().min(1).optional().describe('write customer_id,expected_purchases,p_alive,clv'),
  /** Add churn_risk, expected_spend, next_order_in and next_order_date to the --out CSV. */
  details: z
    .boolean()
    .default(false)
    .describe('add churn_risk,expected_spend,next_order_in,next_order_date to --out'),
  clvMonths: PredictInput.shape.clvMonths,
  discountRate: PredictInput.shape.discountRate,
  margin: PredictInput.shape.margin,
});
export type PredictOptions = z.infer<typeof PredictOptions>;

/** `retain clv validate` options. */
export const ValidateOptions = z.object({
  ...cliPeriod,
  model: transactionModel,
  holdoutEnd: holdoutEnd.optional(),
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
