/**
 * CLV services: `fit`, `predict` and `validate` build the summary from the stored orders (`ctx.db`);
 * `fitSummary`, `fitSurvivors`, `predictSummary` and `validateSummary` take a summary the caller has
 * read (the CLI's `--summary` file). Each checks the data are sufficient, fits the chosen model and,
 * for predictions, predicts per customer. The math is in src/analytics/btyd; this file only wires it.
 */
import { UNITS_PER_MONTH } from '../../analytics/btyd/clv.js';
import {
  fitGammaGamma,
  gammaGammaExpectedSpend,
  prepareGammaGamma,
} from '../../analytics/btyd/gammaGamma.js';
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
  SUFFICIENCY,
  checkDataSufficiency,
  validateHoldout,
  type SufficiencyResult,
  type ValidationReport,
} from '../../analytics/btyd/validate.js';
import { AppError, invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { ModuleContext } from '../../kit/context.js';
import {
  latestRun,
  loadSales,
  predictJobsSince,
  runPredictions,
  runValues,
  savePredictions,
  type RunSort,
  type StoredPrediction,
} from './repository.js';
import { minorDigits, minorToDecimal } from '../../shared/money.js';
import { DEFAULT_DISCOUNT_RATE, DEFAULT_MARGIN } from '../settings/schema.js';
import { getStore } from '../settings/service.js';
import type { FitInput, Model, PredictInput, TransactionModelName, ValidateInput } from './schema.js';
import type { SummaryColumns } from './summaryCsv.js';
import { fitTransactionModel, fitWarnings, type AnyFit } from './fits.js';
import {
  defaultChoice,
  explicitChoice,
  holdoutChoice,
  planHoldout,
  type Choice,
  type ModelSelection,
} from './selection.js';

export { fitWarnings };
export type { ModelSelection };

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

/** The data-sufficiency check of a summary (customers, repeat buyers, history length). */
function sufficiencyOf(s: SummaryColumns, unit: TimeUnit): SufficiencyResult {
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
  return checkDataSufficiency({
    customers: s.stats?.customers ?? s.rows,
    repeatBuyers: repeat,
    historyDays: maxT * (unit === 'week' ? 7 : 1),
  });
}

/** Runs the data-sufficiency check; refuses unless forced (its messages are the caller's warnings). */
function ensureSufficient(s: SummaryColumns, unit: TimeUnit, force: boolean): SufficiencyResult {
  const result = sufficiencyOf(s, unit);
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
  /** The purchase model's log-likelihood on the whole history (the fit the predictions use). */
  logLikelihood: number;
  spendParams: Record<string, number> | null;
  /** Gamma-Gamma's log-likelihood (repeat buyers' spend); null without a spend model. */
  spendLogLikelihood: number | null;
  clvTotal: number | null;
  /** E[X(horizon)]: expected purchases over the horizon of a customer who buys for the first time now. */
  newCustomerExpectedPurchases: number;
  /** Churn risk (1 − P(alive)) over the customers, and over the one-time buyers (frequency 0). */
  churnRisk: ChurnRiskSummary;
  /** How the purchase model was chosen (by holdout fit, the default, or `--model`) and why. */
  selection: ModelSelection;
  /** Data-sufficiency and model warnings. */
  warnings: string[];
  seconds: number;
}

export interface ChurnRiskSummary {
  customers: number;
  median: number;
  /** null when every customer bought more than once. */
  oneTimeBuyers: { customers: number; min: number; median: number; max: number } | null;
  /** What the figures mean when the model sees little dropout (null otherwise). */
  note: string | null;
}

/** The `retain clv predict --json` document (also the `clv-predict` job's result, with `out: null`). */
export function predictJson(r: PredictOutcome) {
  return {
    customers: r.customers,
    expectedPurchasesTotal: r.expectedPurchasesTotal,
    model: r.model,
    params: r.params,
    logLikelihood: r.logLikelihood,
    spendParams: r.spendParams,
    spendLogLikelihood: r.spendLogLikelihood,
    clvTotal: r.clvTotal,
    newCustomerExpectedPurchases: r.newCustomerExpectedPurchases,
    churnRisk: r.churnRisk,
    selection: r.selection,
    warnings: r.warnings,
    seconds: r.seconds,
  };
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

type PredictOptions = Omit<PredictInput, 'calibrationEnd' | 'model'> & {
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
function predictOn(
  s: SummaryColumns,
  opts: PredictOptions,
  t0: number,
  sufficiency: SufficiencyResult,
  choice: Choice,
): Prediction {
  const { fit, model } = choice;
  const warnings = [...sufficiency.messages, ...fitWarnings(choice.name, fit)];
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
        acc += (cum - prev) / Math.pow(1 + (opts.discountRate ?? DEFAULT_DISCOUNT_RATE), i);
        prev = cum;
      }
      discounted[k] = acc;
    }
  }
  let total = 0;
  let clvTotal = 0;
  const spendOf = (i: number) =>
    gg ? gammaGammaExpectedSpend(gg.params, s.frequency[i]!, s.monetaryValue![i]!) : NaN;
  const clvOf = (i: number) =>
    gg ? (opts.margin ?? DEFAULT_MARGIN) * spendOf(i) * discounted[g.groupOf[i]!]! : NaN;
  const unitDays = opts.timeUnit === 'week' ? 7 : 1;
  const nextOrderAt = (i: number): Date | null => {
    const t = nextIn ? nextIn[g.groupOf[i]!]! : NaN;
    return opts.calibrationEnd && Number.isFinite(t)
      ? new Date(opts.calibrationEnd.getTime() + t * unitDays * DAY_MS)
      : null;
  };
  const risk = new Float64Array(s.rows);
  const oneTime: number[] = [];
  for (let i = 0; i < s.rows; i++) {
    total += expected[g.groupOf[i]!]!;
    if (gg) clvTotal += clvOf(i);
    risk[i] = 1 - pAlive[g.groupOf[i]!]!;
    if (s.frequency[i] === 0) oneTime.push(risk[i]!);
  }
  const churnRisk = churnRiskSummary(risk, Float64Array.from(oneTime));
  const o = churnRisk.oneTimeBuyers;
  if (o && o.max >= 1e-6 && o.max < 0.01)
    churnRisk.note =
      `churn risk is under 1% for every one-time buyer: the fitted ${choice.name} sees little dropout in this history ` +
      'and reads their silence as slow buying rather than leaving; rank a win-back list by expected purchases (low = unlikely to return)';
  // Churn risk below a millionth for every one-time buyer: the model gives them P(alive) = 1.
  if (o && o.max < 1e-6)
    warnings.push(
      choice.name === 'bgnbd'
        ? `bgnbd gives all ${o.customers} one-time buyers P(alive) = 1 (churn risk 0): BG/NBD has no dropout before a ` +
            'first repeat purchase, so it cannot tell which of them are gone; omit --model to choose by holdout fit, or use mbgnbd or pareto-nbd'
        : `${choice.name} gives all ${o.customers} one-time buyers churn risk ≈ 0: the fit sees no dropout in this history`,
    );
  return {
    outcome: {
      customers: s.rows,
      expectedPurchasesTotal: round(total, 6),
      model: choice.name,
      params: fit.params,
      logLikelihood: fit.logLikelihood,
      spendParams: gg ? gg.params : null,
      spendLogLikelihood: gg ? gg.logLikelihood : null,
      clvTotal: gg ? round(clvTotal, 2) : null,
      newCustomerExpectedPurchases: round(model.expectedPurchases(opts.horizon), 6),
      churnRisk,
      selection: choice.selection,
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
    names: gg ? `${choice.name}+gamma-gamma` : choice.name,
    versionParams: { t: fit.params, m: gg?.params ?? null },
  };
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

function churnRiskSummary(all: Float64Array, oneTime: Float64Array): ChurnRiskSummary {
  all.sort();
  oneTime.sort();
  return {
    customers: all.length,
    median: all.length ? round(median(all), 6) : 0,
    oneTimeBuyers: oneTime.length
      ? {
          customers: oneTime.length,
          min: round(oneTime[0]!, 6),
          median: round(median(oneTime), 6),
          max: round(oneTime[oneTime.length - 1]!, 6),
        }
      : null,
    note: null,
  };
}

/**
 * The purchase model for predictions from stored orders: `--model` when given; else chosen by holdout
 * fit when the history allows a holdout (selection.ts: the last quarter of the history, 4 to 52 weeks,
 * with a calibration period that passes the data-sufficiency minimums and purchases in the holdout);
 * else MBG/NBD, saying why.
 */
function chooseFromOrders(orders: readonly Order[], whole: SummaryColumns, input: PredictInput): Choice {
  const rf = rfOf(whole);
  if (input.model) return explicitChoice(input.model, rf);
  let first = Infinity;
  for (const o of orders) first = Math.min(first, o.orderedAt.getTime());
  const firstDay = new Date(Math.floor(first / DAY_MS) * DAY_MS);
  const plan = planHoldout(firstDay, input.calibrationEnd, SUFFICIENCY.refuse.historyDays);
  if ('reason' in plan) return defaultChoice(rf, plan.reason);
  const cal = summariesFromOrders(orders, { ...plan, timeUnit: input.timeUnit });
  const calibrationWeeks = Math.round((plan.calibrationEnd.getTime() - firstDay.getTime()) / (7 * DAY_MS));
  const sufficiency = sufficiencyOf(cal, input.timeUnit);
  if (sufficiency.verdict === 'refuse')
    return defaultChoice(
      rf,
      `the ${calibrationWeeks} weeks before a ${plan.weeks}-week holdout are too little to fit on (${sufficiency.messages.join('; ')})`,
    );
  let purchases = 0;
  let repeatBuyers = 0;
  for (let i = 0; i < cal.rows; i++) {
    purchases += cal.holdoutFrequency![i]!;
    if (cal.frequency[i]! > 0) repeatBuyers++;
  }
  if (purchases === 0)
    return defaultChoice(
      rf,
      `nobody bought in the last ${plan.weeks} weeks, so a holdout has nothing to score`,
    );
  return holdoutChoice(
    {
      frequency: cal.frequency,
      recency: cal.recency,
      T: cal.T,
      holdoutFrequency: cal.holdoutFrequency!,
      holdoutDuration: cal.holdoutDuration!,
      rf: rfOf(cal),
    },
    rf,
    { ...plan, calibrationWeeks, customers: cal.rows, repeatBuyers },
  );
}

/**
 * Predicts from orders (those of the stored store up to the calibration end, or any list): the summary,
 * the data-sufficiency check, the model (chooseFromOrders) and the per-customer predictions. Pure.
 */
export function predictOrders(
  orders: readonly Order[],
  input: PredictInput,
): Prediction & { outcome: PredictOutcome } {
  const t0 = clock();
  const s = summariesFromOrders(orders, input);
  const sufficiency = ensureSufficient(s, input.timeUnit, input.force);
  const choice = chooseFromOrders(orders, s, input);
  return predictOn(s, { ...input, details: true }, t0, sufficiency, choice);
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
  // The margin and discount rate not given are the store's defaults (retain store set).
  if (input.margin === undefined || input.discountRate === undefined) {
    const store = await getStore(ctx);
    input = {
      ...input,
      margin: input.margin ?? store.defaultMargin,
      discountRate: input.discountRate ?? store.defaultDiscountRate,
    };
  }
  const p = predictOrders(await loadSales(ctx.db, input.calibrationEnd), input);
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
      clvMonths: input.clvMonths,
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
  input: PredictOptions & { model?: TransactionModelName | undefined; summary: SummaryColumns },
): PredictOutcome & { predictions: PredictionTable } {
  const t0 = clock();
  const sufficiency = ensureSufficient(input.summary, input.timeUnit, input.force);
  const rf = rfOf(input.summary);
  const choice = input.model
    ? explicitChoice(input.model, rf)
    : defaultChoice(rf, 'a summary file holds one period, so no holdout can be cut from it');
  const p = predictOn(input.summary, input, t0, sufficiency, choice);
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

// ---- The latest stored run (the dashboard's Predictions page) -------------------------------------

/** One bar of a distribution: customers with a value in [from, to) (`to` null: from and above). */
export interface Bin {
  from: number;
  to: number | null;
  customers: number;
}

/** 1, 2 or 5 × a power of ten, at least `v`. */
function niceStep(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= v * (1 - 1e-12))!;
}

/**
 * A CLV histogram: about 20 equal bins of a round width from 0 to the 99th percentile, the rest in a
 * last open bin (CLV is long-tailed: the top few customers would squash every other bar).
 */
export function clvBins(values: readonly number[], bins = 20): Bin[] {
  if (values.length === 0) return [];
  const sorted = Float64Array.from(values).sort();
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
  const step = niceStep(p99 / bins);
  const top = Math.max(step, Math.ceil(p99 / step) * step);
  const n = Math.round(top / step);
  const counts = new Array<number>(n + 1).fill(0);
  for (const v of sorted) counts[v >= top ? n : Math.max(0, Math.floor(v / step))]!++;
  const out: Bin[] = counts.slice(0, n).map((c, i) => ({
    from: round(i * step, 6),
    to: round((i + 1) * step, 6),
    customers: c,
  }));
  if (counts[n]! > 0) out.push({ from: round(top, 6), to: null, customers: counts[n]! });
  return out;
}

/** Churn risk in ten bins of 0.1 (the last includes 1). */
export function riskBins(risks: readonly number[]): Bin[] {
  const counts = new Array<number>(10).fill(0);
  for (const r of risks) counts[Math.min(9, Math.max(0, Math.floor(r * 10)))]!++;
  return counts.map((c, i) => ({ from: i / 10, to: (i + 1) / 10, customers: c }));
}

const noRun = () =>
  new AppError(
    'not_found',
    'no CLV predictions yet: run POST /v1/clv/predictions (or `retain clv predict --calibration-end <last order day> --horizon 12`)',
  );

/**
 * `GET /v1/clv/summary`: the latest stored run — its settings, size and totals, the CLV and churn-risk
 * distributions, and the fit that made it (the `clv-predict` job's result: model, parameters,
 * log-likelihoods, how the model was chosen with the holdout) when it ran as a job (a CLI run keeps none).
 */
export async function latestRunSummary(ctx: ModuleContext) {
  const run = await latestRun(ctx.db);
  if (!run) throw noRun();
  const digits = minorDigits(run.currency);
  const values = await runValues(ctx.db, run);
  const clv = values
    .filter((v) => v.clv_minor !== null)
    .map((v) => minorToDecimal(Number(v.clv_minor), digits));
  const risks = values.map((v) => 1 - v.p_alive);
  let expected = 0;
  for (const v of values) expected += v.expected_purchases;
  const names = run.model_version.split(':')[0]!;
  const [purchaseModel] = names.split('+');
  let fit: { jobId: number; finishedAt: string | null; input: unknown; result: unknown } | null = null;
  for (const id of await predictJobsSince(ctx.db, run.stored_at, 10)) {
    const job = await ctx.jobs.get(id);
    const input = job?.payload as { calibrationEnd?: string } | null;
    const result = job?.result as { model?: string; spendParams?: unknown } | null;
    if (
      job &&
      input?.calibrationEnd === run.as_of.toISOString().slice(0, 10) &&
      result?.model === purchaseModel &&
      (result?.spendParams !== null) === names.includes('+')
    ) {
      fit = { jobId: job.jobId, finishedAt: job.finishedAt?.toISOString() ?? null, input, result };
      break;
    }
  }
  const sortedRisk = Float64Array.from(risks).sort();
  const sortedClv = Float64Array.from(clv).sort();
  return {
    modelVersion: run.model_version,
    models: names.split('+'),
    asOf: run.as_of.toISOString(),
    horizon: run.horizon,
    timeUnit: run.time_unit,
    clvMonths: run.clv_months,
    currency: run.currency,
    storedAt: run.stored_at.toISOString(),
    customers: run.customers,
    withClv: clv.length,
    expectedPurchasesTotal: round(expected, 6),
    clvTotal: clv.length
      ? round(
          clv.reduce((a, b) => a + b, 0),
          digits,
        )
      : null,
    clvMedian: clv.length ? round(median(sortedClv), digits) : null,
    churnRiskMedian: risks.length ? round(median(sortedRisk), 6) : null,
    clvHistogram: clvBins(clv),
    churnRiskHistogram: riskBins(risks),
    fit,
  };
}

export interface RunPredictionsInput {
  sort: RunSort;
  order?: 'asc' | 'desc' | undefined;
  limit: number;
}

/** The latest run's predictions in `sort` order: the first `limit`, or (`all`) every one, for the CSV. */
export async function latestRunPredictions(ctx: ModuleContext, input: RunPredictionsInput, all = false) {
  const run = await latestRun(ctx.db);
  if (!run) throw noRun();
  const digits = minorDigits(run.currency);
  const order = input.order ?? (input.sort === 'nextOrderAt' ? 'asc' : 'desc');
  const rows = await runPredictions(ctx.db, run, {
    sort: input.sort,
    desc: order === 'desc',
    ...(all ? {} : { limit: input.limit }),
  });
  const money = (m: number | null) => (m === null ? null : minorToDecimal(Number(m), digits));
  return {
    run,
    order,
    digits,
    body: {
      modelVersion: run.model_version,
      asOf: run.as_of.toISOString(),
      currency: run.currency,
      total: run.customers,
      sort: input.sort,
      order,
      data: rows.map((r) => ({
        customerId: r.external_id,
        email: r.email,
        firstName: r.first_name,
        lastName: r.last_name,
        pAlive: r.p_alive,
        churnRisk: 1 - r.p_alive,
        expectedPurchases: r.expected_purchases,
        clv: money(r.clv_minor),
        expectedSpend: money(r.expected_spend_minor),
        nextOrderAt: r.next_order_at ? r.next_order_at.toISOString() : null,
      })),
    },
  };
}

/**
 * The latest run's predictions as CSV (`GET /v1/clv/predictions?format=csv`): customer_id, email,
 * first_name, last_name, p_alive, churn_risk, expected_purchases, clv, expected_spend, next_order_date
 * (money in major units; empty where unknown); every prediction of the run, in `sort` order.
 */
export async function latestRunPredictionsCsv(ctx: ModuleContext, input: RunPredictionsInput) {
  const { run, order, digits, body } = await latestRunPredictions(ctx, input, true);
  const cell = (v: string | null) =>
    v === null ? '' : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  const lines = [
    'customer_id,email,first_name,last_name,p_alive,churn_risk,expected_purchases,clv,expected_spend,next_order_date',
  ];
  for (const r of body.data)
    lines.push(
      [
        cell(r.customerId),
        cell(r.email),
        cell(r.firstName),
        cell(r.lastName),
        r.pAlive.toFixed(6),
        r.churnRisk.toFixed(6),
        r.expectedPurchases.toFixed(6),
        r.clv === null ? '' : r.clv.toFixed(digits),
        r.expectedSpend === null ? '' : r.expectedSpend.toFixed(digits),
        r.nextOrderAt ? r.nextOrderAt.slice(0, 10) : '',
      ].join(','),
    );
  return {
    csv: `${lines.join('\n')}\n`,
    filename: `clv-predictions-${run.as_of.toISOString().slice(0, 10)}-${input.sort}-${order}.csv`,
  };
}
