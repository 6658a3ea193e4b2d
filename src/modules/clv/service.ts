/**
 * CLV services: `fit`, `predict` and `validate` build the summary from the stored orders (`ctx.db`);
 * `fitSummary`, `fitSurvivors`, `predictSummary` and `validateSummary` take a summary the caller has
 * read (the CLI's `--summary` file). Each checks the data are sufficient, fits the chosen model and,
 * for predictions, predicts per customer. The math is in src/analytics/btyd; this file only wires it.
 */
import { fitBgNbd, bgNbdModel } from '../../analytics/btyd/bgnbd.js';
import { UNITS_PER_MONTH } from '../../analytics/btyd/clv.js';
import {
  fitGammaGamma,
  gammaGammaExpectedSpend,
  prepareGammaGamma,
} from '../../analytics/btyd/gammaGamma.js';
import { fitMbgNbd, mbgNbdModel } from '../../analytics/btyd/mbgnbd.js';
import type { FitResult, TransactionModel } from '../../analytics/btyd/model.js';
import { fitParetoNbd, paretoNbdModel } from '../../analytics/btyd/paretoNbd.js';
import { fitSbg } from '../../analytics/btyd/sbg.js';
import {
  buildSummary,
  compressRf,
  groupRows,
  type Order,
  type RfData,
  type TimeUnit,
} from '../../analytics/btyd/summary.js';
import {
  checkDataSufficiency,
  validateHoldout,
  type SufficiencyResult,
  type ValidationReport,
} from '../../analytics/btyd/validate.js';
import { AppError, invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { ModuleContext } from '../../kit/context.js';
import { loadSales, savePredictions, type StoredPrediction } from './repository.js';
import type { FitInput, Model, PredictInput, TransactionModelName, ValidateInput } from './schema.js';
import type { SummaryColumns } from './summaryCsv.js';

/** Wall-time seconds, for the `seconds` durations of the results (not business time). */
const clock = () => performance.now() / 1000;

/** Summary columns from orders (pure): the database path's equivalent of reading `--summary`. */
export function summariesFromOrders(
  orders: readonly Order[],
  opts: { calibrationEnd: Date; holdoutEnd?: Date; timeUnit: TimeUnit; minorPerUnit?: number },
): SummaryColumns {
  const rows = buildSummary(orders, opts);
  const n = rows.length;
  const hold = opts.holdoutEnd !== undefined;
  const out: SummaryColumns = {
    rows: n,
    ids: rows.map((r) => r.customerId),
    frequency: Float64Array.from(rows, (r) => r.frequency),
    recency: Float64Array.from(rows, (r) => r.recency),
    T: Float64Array.from(rows, (r) => r.T),
    monetaryValue: Float64Array.from(rows, (r) => r.monetaryValue),
    holdoutFrequency: hold ? Float64Array.from(rows, (r) => r.holdoutFrequency ?? 0) : null,
    holdoutDuration: hold ? Float64Array.from(rows, (r) => r.holdoutDuration ?? 0) : null,
  };
  return out;
}

/** The summary of the stored orders up to the holdout end (else the calibration end). */
async function summaryOf(
  ctx: ModuleContext,
  opts: { calibrationEnd: Date; holdoutEnd?: Date; timeUnit: TimeUnit },
): Promise<SummaryColumns> {
  const orders = await loadSales(ctx.db, opts.holdoutEnd ?? opts.calibrationEnd);
  return summariesFromOrders(orders, opts);
}

/** Runs the data-sufficiency check; refuses unless forced (its messages are the caller's warnings). */
function ensureSufficient(s: SummaryColumns, unit: TimeUnit, force: boolean): SufficiencyResult {
  let repeat = s.stats?.repeatBuyers ?? 0;
  let maxT = s.stats?.maxT ?? 0;
  if (!s.stats) {
    const { frequency, T, rows } = s;
    for (let i = 0; i < rows; i++) {
      if (frequency[i]! > 0) repeat++;
      const t = T[i]!;
      if (t > maxT) maxT = t;
    }
  }
  const result = checkDataSufficiency({
    customers: s.stats?.customers ?? s.rows,
    repeatBuyers: repeat,
    historyDays: maxT * (unit === 'week' ? 7 : 1),
  });
  if (result.verdict === 'refuse' && !force)
    throw new AppError(
      'validation',
      `not enough data for a BTYD model: ${result.messages.join('; ')} (use --force to fit anyway)`,
      {
        details: result,
      },
    );
  return result;
}

/** Puts a result's warnings in the context's log (the result carries them too). */
function logWarnings(ctx: ModuleContext, warnings: readonly string[]): void {
  for (const w of warnings) ctx.log.info({ clv: w }, 'clv warning');
}

function rfOf(s: SummaryColumns): RfData {
  return compressRf(s.frequency, s.recency, s.T);
}

type AnyFit = FitResult<Record<string, number>>;

function fitTransactionModel(
  name: TransactionModelName,
  data: RfData,
): { fit: AnyFit; model: TransactionModel } {
  switch (name) {
    case 'bgnbd': {
      const fit = fitBgNbd(data);
      return { fit, model: bgNbdModel(fit.params) };
    }
    case 'pareto-nbd': {
      const fit = fitParetoNbd(data);
      return { fit, model: paretoNbdModel(fit.params) };
    }
    case 'mbgnbd': {
      const fit = fitMbgNbd(data);
      return { fit, model: mbgNbdModel(fit.params) };
    }
  }
}

/** Result of `retain clv fit`; the JSON contract is the first five fields. */
export interface FitOutcome {
  model: Model;
  params: Record<string, number>;
  logLikelihood: number;
  customers: number;
  seconds: number;
  standardErrors: Record<string, number> | null;
  confidenceIntervals: Record<string, [number, number]> | null;
  converged: boolean;
  sufficiency: SufficiencyResult | null;
  /** What the user should know about the fit (e.g. parameters the data do not identify). */
  warnings: string[];
}

/** The `retain clv fit --json` document (also the API's `POST /v1/clv/fits` answer). */
export function fitJson(r: FitOutcome) {
  return {
    model: r.model,
    params: r.params,
    logLikelihood: r.logLikelihood,
    customers: r.customers,
    seconds: r.seconds,
    warnings: r.warnings,
  };
}

const DROPOUT = 'the history shows too little dropout to estimate how customers leave';
const SAME_RATE = 'purchase rates look the same for every customer (no heterogeneity to estimate)';
/** What a runaway parameter means, per purchase model. */
const RUNAWAY_MEANING: Partial<Record<Model, [params: string[], meaning: string][]>> = {
  bgnbd: [
    [['a', 'b'], DROPOUT],
    [['r', 'alpha'], SAME_RATE],
  ],
  mbgnbd: [
    [['a', 'b'], DROPOUT],
    [['r', 'alpha'], SAME_RATE],
  ],
  'pareto-nbd': [
    [['s', 'beta'], DROPOUT],
    [['r', 'alpha'], SAME_RATE],
  ],
};

/** Plain-language warnings for a fit that did not converge or whose parameters ran off to 0 or ∞. */
export function fitWarnings(model: Model, fit: AnyFit): string[] {
  if (fit.runaway.length > 0) {
    const meanings = (RUNAWAY_MEANING[model] ?? [])
      .filter(([params]) => params.some((k) => fit.runaway.includes(k)))
      .map(([, meaning]) => meaning);
    return [
      `${model}: ${fit.runaway.join(', ')} ran off towards 0 or ∞ (the data do not pin them down)` +
        (meanings.length ? ` — ${meanings.join('; ')}` : '') +
        '. The fit is the limiting model; collect a longer history or use a simpler model before relying on it.',
    ];
  }
  if (!fit.converged)
    return [`${model}: the optimiser stopped before meeting its tolerance; estimates may be imprecise`];
  return [];
}

/** What every fit, prediction and validation of a summary needs besides the summary. */
interface SummaryFitOptions {
  timeUnit: TimeUnit;
  force: boolean;
}

/** Fits a purchase or spend model to a summary; the time is measured from `t0`. */
function fitOn(
  model: Exclude<Model, 'sbg'>,
  s: SummaryColumns,
  opts: SummaryFitOptions,
  t0: number,
): FitOutcome {
  const sufficiency = ensureSufficient(s, opts.timeUnit, opts.force);
  let fit: AnyFit;
  if (model === 'gamma-gamma') {
    if (!s.monetaryValue)
      throw invalid('gamma-gamma needs a monetary_value column in the summary', { field: '--summary' });
    fit = fitGammaGamma(prepareGammaGamma(s.frequency, s.monetaryValue, undefined, s.stats?.spend));
  } else {
    fit = fitTransactionModel(model, rfOf(s)).fit;
  }
  return outcomeOf(model, fit, sufficiency, t0);
}

function outcomeOf(model: Model, fit: AnyFit, sufficiency: SufficiencyResult | null, t0: number): FitOutcome {
  // The warnings carry the data-sufficiency messages too (with force they include the reasons the fit
  // would have been refused), then the model's.
  const warnings = [...(sufficiency?.messages ?? []), ...fitWarnings(model, fit)];
  return {
    model,
    params: fit.params,
    logLikelihood: fit.logLikelihood,
    customers: fit.customers,
    seconds: round(clock() - t0, 3),
    standardErrors: fit.standardErrors,
    confidenceIntervals: fit.confidenceIntervals,
    converged: fit.converged,
    sufficiency,
    warnings,
  };
}

/** Fits one model to the stored orders up to the calibration end (`retain clv fit`, `POST /v1/clv/fits`). */
export async function fit(ctx: ModuleContext, input: FitInput): Promise<FitOutcome> {
  const t0 = clock();
  const s = await summaryOf(ctx, input);
  const r = fitOn(input.model, s, input, t0);
  logWarnings(ctx, r.warnings);
  return r;
}

/**
 * Fits one model to a summary the caller read (`retain clv fit --summary`). Pure: no database, no
 * files. Gamma-Gamma is fitted on repeat buyers (the reader need not keep the other rows).
 */
export function fitSummary(
  input: SummaryFitOptions & { model: Exclude<Model, 'sbg'>; summary: SummaryColumns },
): FitOutcome {
  return fitOn(input.model, input.summary, input, clock());
}

/** Fits the sBG to a survivor curve (`alive` per period, from period 0). Pure. */
export function fitSurvivors(input: { alive: readonly number[] }): FitOutcome {
  const t0 = clock();
  return outcomeOf('sbg', fitSbg(input.alive), null, t0);
}

export interface PredictOutcome {
  customers: number;
  expectedPurchasesTotal: number;
  model: TransactionModelName;
  params: Record<string, number>;
  spendParams: Record<string, number> | null;
  clvTotal: number | null;
  /** E[X(horizon)]: expected purchases over the horizon of a customer who buys for the first time now. */
  newCustomerExpectedPurchases: number;
  /** Data-sufficiency and model warnings. */
  warnings: string[];
  seconds: number;
}

/** The predictions per customer (per group of equal (x, t_x, T) where they only depend on it). */
export interface PredictionTable {
  rows: number;
  ids: readonly string[];
  groupOf: Int32Array;
  expected: Float64Array;
  pAlive: Float64Array;
  /** NaN without a spend model. */
  clvOf: (i: number) => number;
  /** Expected spend per future order; NaN without a spend model. */
  spendOf: (i: number) => number;
  /** Median time to the next order in time units per group (NaN: more likely never); with details only. */
  nextIn: Float64Array | null;
  /** The calibration end plus the median time to the next order; null when unknown. */
  nextOrderAt: (i: number) => Date | null;
}

function round(v: number, digits: number): number {
  const f = Math.pow(10, digits);
  return Math.round(v * f) / f;
}

async function modelVersion(names: string, params: unknown): Promise<string> {
  // Loaded here: only storing predictions needs it, and every `retain clv` command loads this module.
  const { createHash } = await import('node:crypto');
  return `${names}:${createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 12)}`;
}

type PredictOptions = Omit<PredictInput, 'calibrationEnd'> & {
  calibrationEnd?: Date | undefined;
  /** Compute the median time to the next order (and its date). */
  details: boolean;
};

interface Prediction {
  outcome: PredictOutcome;
  predictions: PredictionTable;
  names: string;
  versionParams: unknown;
}

/**
 * Fits the transaction model (and Gamma-Gamma when spend is known) and predicts per customer:
 * expected purchases over the horizon, P(alive), and CLV over `clvMonths` (DCF, monthly discount, margin);
 * with `details` also expected spend per order and when the next order is due (the median time to it).
 * Work is done once per distinct (x, t_x, T).
 */
function predictOn(s: SummaryColumns, opts: PredictOptions, t0: number): Prediction {
  const sufficiency = ensureSufficient(s, opts.timeUnit, opts.force);
  const { fit, model } = fitTransactionModel(opts.model, rfOf(s));
  const warnings = [...sufficiency.messages, ...fitWarnings(opts.model, fit)];
  const gg = s.monetaryValue ? fitGammaGamma(prepareGammaGamma(s.frequency, s.monetaryValue)) : null;

  const g = groupRows(s.frequency, s.recency, s.T);
  const expected = new Float64Array(g.groups);
  const pAlive = new Float64Array(g.groups);
  // Median time to the next order in time units (NaN: more likely never than not); only when asked.
  const nextIn = opts.details ? new Float64Array(g.groups) : null;
  const discounted = new Float64Array(g.groups); // Σ ΔE[Y] / (1+d)^i over the CLV months
  const u = UNITS_PER_MONTH[opts.timeUnit];
  for (let k = 0; k < g.groups; k++) {
    const r = g.firstRow[k]!;
    const x = s.frequency[r]!;
    const tx = s.recency[r]!;
    const T = s.T[r]!;
    expected[k] = model.conditionalExpectedPurchases(opts.horizon, x, tx, T);
    pAlive[k] = model.probabilityAlive(x, tx, T);
    if (nextIn) nextIn[k] = model.medianTimeToNextPurchase(x, tx, T) ?? NaN;
    if (gg) {
      let prev = 0;
      let acc = 0;
      for (let i = 1; i <= opts.clvMonths; i++) {
        const cum = model.conditionalExpectedPurchases(i * u, x, tx, T);
        acc += (cum - prev) / Math.pow(1 + opts.discountRate, i);
        prev = cum;
      }
      discounted[k] = acc;
    }
  }
  let total = 0;
  let clvTotal = 0;
  const spendOf = (i: number) =>
    gg ? gammaGammaExpectedSpend(gg.params, s.frequency[i]!, s.monetaryValue![i]!) : NaN;
  const clvOf = (i: number) => (gg ? opts.margin * spendOf(i) * discounted[g.groupOf[i]!]! : NaN);
  const unitDays = opts.timeUnit === 'week' ? 7 : 1;
  const nextOrderAt = (i: number): Date | null => {
    const t = nextIn ? nextIn[g.groupOf[i]!]! : NaN;
    return opts.calibrationEnd && Number.isFinite(t)
      ? new Date(opts.calibrationEnd.getTime() + t * unitDays * DAY_MS)
      : null;
  };
  for (let i = 0; i < s.rows; i++) {
    total += expected[g.groupOf[i]!]!;
    if (gg) clvTotal += clvOf(i);
  }
  return {
    outcome: {
      customers: s.rows,
      expectedPurchasesTotal: round(total, 6),
      model: opts.model,
      params: fit.params,
      spendParams: gg ? gg.params : null,
      clvTotal: gg ? round(clvTotal, 2) : null,
      newCustomerExpectedPurchases: round(model.expectedPurchases(opts.horizon), 6),
      warnings,
      seconds: round(clock() - t0, 3),
    },
    predictions: {
      rows: s.rows,
      ids: s.ids ?? [],
      groupOf: g.groupOf,
      expected,
      pAlive,
      clvOf,
      spendOf,
      nextIn,
      nextOrderAt,
    },
    names: gg ? `${opts.model}+gamma-gamma` : opts.model,
    versionParams: { t: fit.params, m: gg?.params ?? null },
  };
}

/**
 * Predicts from the stored orders up to the calibration end and stores the predictions per customer
 * (as of the calibration end, with the details) for segments to use (`retain clv predict`, the
 * `clv-predict` job). Returns the outcome and the table (the CLI writes it with `--out`).
 */
export async function predict(
  ctx: ModuleContext,
  input: PredictInput,
): Promise<PredictOutcome & { predictions: PredictionTable }> {
  const t0 = clock();
  const s = await summaryOf(ctx, input);
  const p = predictOn(s, { ...input, details: true }, t0);
  logWarnings(ctx, p.outcome.warnings);
  const version = await modelVersion(p.names, p.versionParams);
  const t = p.predictions;
  const rows: StoredPrediction[] = [];
  for (let i = 0; i < t.rows; i++) {
    const k = t.groupOf[i]!;
    const clv = t.clvOf(i);
    rows.push({
      customerId: t.ids[i]!,
      modelVersion: version,
      asOf: input.calibrationEnd,
      horizon: input.horizon,
      timeUnit: input.timeUnit,
      expectedPurchases: t.expected[k]!,
      pAlive: t.pAlive[k]!,
      clv: p.outcome.spendParams === null ? null : clv,
      expectedSpend: p.outcome.spendParams === null ? null : t.spendOf(i),
      nextOrderAt: t.nextOrderAt(i),
    });
  }
  await ctx.db.transaction(async (tx) => void (await savePredictions(tx, rows, ctx.clock.now())));
  return { ...p.outcome, seconds: round(clock() - t0, 3), predictions: t };
}

/**
 * Predicts per customer from a summary the caller read (`retain clv predict --summary`); nothing is
 * stored (its customers may be unknown to the store). Pure.
 */
export function predictSummary(
  input: PredictOptions & { summary: SummaryColumns },
): PredictOutcome & { predictions: PredictionTable } {
  const p = predictOn(input.summary, input, clock());
  return { ...p.outcome, predictions: p.predictions };
}

export interface ValidateOutcome extends ValidationReport {
  model: TransactionModelName;
  params: Record<string, number>;
  holdoutDuration: number;
  sufficiency: SufficiencyResult;
  warnings: string[];
  seconds: number;
}

function validateOn(
  s: SummaryColumns,
  opts: SummaryFitOptions & { model: TransactionModelName },
  t0: number,
): ValidateOutcome {
  if (!s.holdoutFrequency || !s.holdoutDuration)
    throw invalid('the summary needs frequency_holdout and duration_holdout columns to validate', {
      field: '--summary',
    });
  const sufficiency = ensureSufficient(s, opts.timeUnit, opts.force);
  const { fit, model } = fitTransactionModel(opts.model, rfOf(s));
  const warnings = fitWarnings(opts.model, fit);
  const report = validateHoldout(model, {
    frequency: s.frequency,
    recency: s.recency,
    T: s.T,
    holdoutFrequency: s.holdoutFrequency,
    holdoutDuration: s.holdoutDuration,
  });
  return {
    model: opts.model,
    params: fit.params,
    holdoutDuration: s.holdoutDuration[0] ?? 0,
    ...report,
    sufficiency,
    warnings,
    seconds: round(clock() - t0, 3),
  };
}

/** Fits on the calibration period of the stored orders and compares predicted with actual holdout purchases. */
export async function validate(ctx: ModuleContext, input: ValidateInput): Promise<ValidateOutcome> {
  const t0 = clock();
  if (input.holdoutEnd <= input.calibrationEnd)
    throw invalid('--holdout-end must be after --calibration-end', { field: '--holdout-end' });
  const s = await summaryOf(ctx, input);
  const r = validateOn(s, input, t0);
  logWarnings(ctx, [...r.sufficiency.messages, ...r.warnings]);
  return r;
}

/** Validates on a calibration/holdout summary the caller read (with the holdout columns). Pure. */
export function validateSummary(
  input: SummaryFitOptions & { model: TransactionModelName; summary: SummaryColumns },
): ValidateOutcome {
  return validateOn(input.summary, input, clock());
}
