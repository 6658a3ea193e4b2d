/**
 * CLV orchestration: gets a summary (a `--summary` CSV, or orders from storage through
 * `summariesFromOrders`), checks it is sufficient, fits the chosen model and predicts per customer.
 * The math is in src/analytics/btyd; this file only wires it.
 */
import { createWriteStream } from 'node:fs';
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
import type { ClvStorage, DatabaseTarget, StoredPrediction } from './repository.js';
import type { FitOptions, Model, PredictOptions, TransactionModelName, ValidateOptions } from './schema.js';
import { readSummaryCsv, readSurvivorCsv, type SummaryColumns } from './summaryCsv.js';

export interface ClvDeps extends ClvStorage {
  target: DatabaseTarget;
  log: (message: string) => void;
  /** Monotonic seconds (injected so results are reproducible in tests). */
  now?: () => number;
}

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

interface SummarySource {
  summary?: string | undefined;
  calibrationEnd?: Date | undefined;
  timeUnit: TimeUnit;
}

/** Reads `--summary`, or builds the summary from stored orders when storage is wired. */
async function loadSummary(
  opts: SummarySource & { holdoutEnd?: Date | undefined },
  deps: ClvDeps,
  needIds: boolean,
  repeatBuyersOnly = false,
): Promise<SummaryColumns> {
  if (opts.summary) return readSummaryCsv(opts.summary, { ids: needIds, repeatBuyersOnly });
  if (!deps.loadOrders)
    throw invalid('give --summary <csv>: reading orders from the database is not available in this build', {
      field: '--summary',
    });
  if (!opts.calibrationEnd)
    throw invalid('--calibration-end is required when the summary is built from orders', {
      field: '--calibration-end',
    });
  const until = opts.holdoutEnd ?? opts.calibrationEnd;
  const orders = await deps.loadOrders({ ...deps.target, until });
  return summariesFromOrders(orders, {
    calibrationEnd: opts.calibrationEnd,
    ...(opts.holdoutEnd ? { holdoutEnd: opts.holdoutEnd } : {}),
    timeUnit: opts.timeUnit,
  });
}

/** Runs the data-sufficiency check; refuses (unless forced) or logs warnings. */
function ensureSufficient(
  s: SummaryColumns,
  unit: TimeUnit,
  force: boolean,
  deps: ClvDeps,
): SufficiencyResult {
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
  for (const m of result.messages) deps.log(`warning: ${m}`);
  return result;
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

/** Fits one model to the summary (or, for sBG, to a `period,alive` survivor curve). */
export async function runFit(opts: FitOptions, deps: ClvDeps): Promise<FitOutcome> {
  const now = deps.now ?? clock;
  const t0 = now();
  let fit: AnyFit;
  let sufficiency: SufficiencyResult | null = null;
  if (opts.model === 'sbg') {
    if (!opts.summary)
      throw invalid('the sBG model needs --summary <csv> with header period,alive (a survivor curve)', {
        field: '--summary',
      });
    fit = fitSbg(readSurvivorCsv(opts.summary));
  } else {
    // Gamma-Gamma is fitted on repeat buyers only: the reader need not keep the other rows.
    const s = await loadSummary(opts, deps, false, opts.model === 'gamma-gamma');
    sufficiency = ensureSufficient(s, opts.timeUnit, opts.force, deps);
    if (opts.model === 'gamma-gamma') {
      if (!s.monetaryValue)
        throw invalid('gamma-gamma needs a monetary_value column in the summary', { field: '--summary' });
      fit = fitGammaGamma(prepareGammaGamma(s.frequency, s.monetaryValue, undefined, s.stats?.spend));
    } else {
      fit = fitTransactionModel(opts.model, rfOf(s)).fit;
    }
  }
  const modelWarnings = fitWarnings(opts.model, fit);
  for (const w of modelWarnings) deps.log(`warning: ${w}`);
  // The JSON document carries the data-sufficiency warnings too (logged when checked; with --force
  // they include the reasons the fit would have been refused).
  const warnings = [...(sufficiency?.messages ?? []), ...modelWarnings];
  return {
    model: opts.model,
    params: fit.params,
    logLikelihood: fit.logLikelihood,
    customers: fit.customers,
    seconds: round(now() - t0, 3),
    standardErrors: fit.standardErrors,
    confidenceIntervals: fit.confidenceIntervals,
    converged: fit.converged,
    sufficiency,
    warnings,
  };
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
  out: string | null;
  seconds: number;
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

/**
 * Fits the transaction model (and Gamma-Gamma when spend is known) and predicts per customer:
 * expected purchases over the horizon, P(alive), and CLV over `clvMonths` (DCF, monthly discount, margin);
 * with `details` (and for stored predictions) also expected spend per order and when the next order is
 * due (the median time to it). Work is done once per distinct (x, t_x, T).
 */
export async function runPredict(opts: PredictOptions, deps: ClvDeps): Promise<PredictOutcome> {
  const now = deps.now ?? clock;
  const t0 = now();
  const s = await loadSummary(opts, deps, true);
  ensureSufficient(s, opts.timeUnit, opts.force, deps);
  const { fit, model } = fitTransactionModel(opts.model, rfOf(s));
  for (const w of fitWarnings(opts.model, fit)) deps.log(`warning: ${w}`);
  const gg = s.monetaryValue ? fitGammaGamma(prepareGammaGamma(s.frequency, s.monetaryValue)) : null;
  if (!gg) deps.log('note: no monetary_value column, so the clv column is left empty');

  const storing = deps.storePredictions !== undefined && !opts.summary;
  const g = groupRows(s.frequency, s.recency, s.T);
  const expected = new Float64Array(g.groups);
  const pAlive = new Float64Array(g.groups);
  // Median time to the next order in time units (NaN: more likely never than not); only when asked.
  const nextIn = opts.details || storing ? new Float64Array(g.groups) : null;
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

  if (opts.out)
    await writePredictions(opts.out, s, {
      groupOf: g.groupOf,
      expected,
      pAlive,
      clvOf,
      details: nextIn ? { nextIn, spendOf, nextOrderAt } : null,
    });

  // Predictions from stored orders are stored (as of the calibration end) for segments to use; those
  // from a --summary file belong to customers the database may not know and go to --out only.
  if (storing && deps.storePredictions) {
    if (!opts.calibrationEnd)
      throw invalid('--calibration-end is required to store predictions (it is their as-of date)', {
        field: '--calibration-end',
      });
    const version = await modelVersion(gg ? `${opts.model}+gamma-gamma` : opts.model, {
      t: fit.params,
      m: gg?.params ?? null,
    });
    const rows: StoredPrediction[] = [];
    for (let i = 0; i < s.rows; i++) {
      const k = g.groupOf[i]!;
      rows.push({
        customerId: s.ids![i]!,
        modelVersion: version,
        asOf: opts.calibrationEnd,
        horizon: opts.horizon,
        timeUnit: opts.timeUnit,
        expectedPurchases: expected[k]!,
        pAlive: pAlive[k]!,
        clv: gg ? clvOf(i) : null,
        expectedSpend: gg ? spendOf(i) : null,
        nextOrderAt: nextOrderAt(i),
      });
    }
    await deps.storePredictions(deps.target, rows);
  }
  return {
    customers: s.rows,
    expectedPurchasesTotal: round(total, 6),
    model: opts.model,
    params: fit.params,
    spendParams: gg ? gg.params : null,
    clvTotal: gg ? round(clvTotal, 2) : null,
    newCustomerExpectedPurchases: round(model.expectedPurchases(opts.horizon), 6),
    out: opts.out ?? null,
    seconds: round(now() - t0, 3),
  };
}

/** What writePredictions writes per customer (by group where it is per distinct (x, t_x, T)). */
interface PredictionColumns {
  groupOf: Int32Array;
  expected: Float64Array;
  pAlive: Float64Array;
  clvOf: (i: number) => number;
  /** With --details: churn_risk, expected_spend, next_order_in and next_order_date columns. */
  details: {
    nextIn: Float64Array;
    spendOf: (i: number) => number;
    nextOrderAt: (i: number) => Date | null;
  } | null;
}

async function writePredictions(file: string, s: SummaryColumns, c: PredictionColumns): Promise<void> {
  const stream = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '');
  const d = c.details;
  let chunk = `customer_id,expected_purchases,p_alive,clv${d ? ',churn_risk,expected_spend,next_order_in,next_order_date' : ''}\n`;
  for (let i = 0; i < s.rows; i++) {
    const k = c.groupOf[i]!;
    chunk += `${csvCell(s.ids![i]!)},${c.expected[k]!.toFixed(6)},${c.pAlive[k]!.toFixed(6)},${fixed(c.clvOf(i), 2)}`;
    if (d) {
      const at = d.nextOrderAt(i);
      chunk += `,${(1 - c.pAlive[k]!).toFixed(6)},${fixed(d.spendOf(i), 2)},${fixed(d.nextIn[k]!, 3)},${at ? at.toISOString().slice(0, 10) : ''}`;
    }
    chunk += '\n';
    if (chunk.length > 1 << 20) {
      if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()));
      chunk = '';
    }
  }
  stream.end(chunk);
  await done;
}

export interface ValidateOutcome extends ValidationReport {
  model: TransactionModelName;
  params: Record<string, number>;
  holdoutDuration: number;
  sufficiency: SufficiencyResult;
  warnings: string[];
  seconds: number;
}

/** Fits on the calibration period and compares predicted with actual holdout purchases. */
export async function runValidate(opts: ValidateOptions, deps: ClvDeps): Promise<ValidateOutcome> {
  const now = deps.now ?? clock;
  const t0 = now();
  if (!opts.summary && !opts.holdoutEnd)
    throw invalid('--holdout-end is required', { field: '--holdout-end' });
  if (opts.calibrationEnd && opts.holdoutEnd && opts.holdoutEnd <= opts.calibrationEnd)
    throw invalid('--holdout-end must be after --calibration-end', { field: '--holdout-end' });
  const s = await loadSummary(opts, deps, false);
  if (!s.holdoutFrequency || !s.holdoutDuration)
    throw invalid('the summary needs frequency_holdout and duration_holdout columns to validate', {
      field: '--summary',
    });
  const sufficiency = ensureSufficient(s, opts.timeUnit, opts.force, deps);
  const { fit, model } = fitTransactionModel(opts.model, rfOf(s));
  const warnings = fitWarnings(opts.model, fit);
  for (const w of warnings) deps.log(`warning: ${w}`);
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
    seconds: round(now() - t0, 3),
  };
}
