/**
 * Which purchase model `clv predict` uses when no `--model` is given: the holdout rule (where to cut,
 * when the data allow it), the candidates' scores on the held-out weeks and the choice, with the
 * reason in plain words (docs/metrics.md#clv.selection). Pure: summaries in, fits and words out.
 */
import type { TransactionModel } from '../../analytics/btyd/model.js';
import type { RfData } from '../../analytics/btyd/summary.js';
import {
  validateHoldout,
  type HoldoutColumns,
  type ValidationReport,
} from '../../analytics/btyd/validate.js';
import { DAY_MS } from '../../shared/time.js';
import {
  DROPOUT_PARAMS,
  MODEL_LABEL,
  dropoutIdentified,
  fitTransactionModel,
  fitWarnings,
  type AnyFit,
} from './fits.js';
import type { TransactionModelName } from './schema.js';

/** The rule's constants (documented in docs/metrics.md#clv.selection). */
export const SELECTION_RULE = {
  /** The holdout is this share of the history (first order → as-of day), in whole weeks … */
  holdoutShare: 0.25,
  /** … at least this many weeks (a shorter history allows no holdout) … */
  minHoldoutWeeks: 4,
  /** … and at most this many. */
  maxHoldoutWeeks: 52,
  /** Holdout MAEs within this fraction of the best are a tie. */
  tieTolerance: 0.01,
  /** Total errors (percentage points) closer than this do not break a tie. */
  totalTiePoints: 1,
} as const;

/** Models that can give a one-time buyer a churn risk, in the order a tie (or no holdout) prefers. */
export const CHURN_MODELS = ['mbgnbd', 'pareto-nbd'] as const satisfies readonly TransactionModelName[];
/** Scored for comparison only: BG/NBD gives every one-time buyer P(alive) = 1. */
export const REFERENCE_MODEL: TransactionModelName = 'bgnbd';

/** The holdout errors of one model (per-customer purchases in the held-out weeks). */
export interface HoldoutScore {
  mae: number;
  rmse: number;
  correlation: number | null;
  totalActual: number;
  totalPredicted: number;
  totalErrorPct: number | null;
}

export interface CandidateScore {
  model: TransactionModelName;
  /** `candidate`: may be chosen; `reference`: BG/NBD, scored to compare only. */
  role: 'candidate' | 'reference';
  /** Fitted on the calibration weeks, scored on the held-out weeks. */
  holdout: HoldoutScore;
  converged: boolean;
  /** The calibration fit's warnings (parameters the calibration weeks do not pin down). */
  warnings: string[];
  /** The candidates' fit on the whole history (what the predictions would use); null for the reference. */
  wholePeriod: { converged: boolean; dropoutIdentified: boolean; warnings: string[] } | null;
}

export interface ModelSelection {
  /** `holdout`: chosen by holdout fit; `default`: no holdout possible; `explicit`: `--model`. */
  method: 'holdout' | 'default' | 'explicit';
  /** Where the holdout was cut (method `holdout` only). */
  holdout: {
    calibrationEnd: string;
    holdoutEnd: string;
    weeks: number;
    customers: number;
    repeatBuyers: number;
    purchases: number;
  } | null;
  candidates: CandidateScore[];
  chosen: TransactionModelName;
  /** Why, in plain words. */
  reason: string;
}

/** The chosen model fitted on the whole history, with how it was chosen. */
export interface Choice {
  name: TransactionModelName;
  fit: AnyFit;
  model: TransactionModel;
  selection: ModelSelection;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const mae = (v: number) => v.toFixed(3);
const pct = (v: number | null) => (v === null ? 'n/a' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)} %`);
const label = (m: TransactionModelName) => MODEL_LABEL[m];

/** Where the holdout is cut for an as-of day, or why the history allows none. */
export function planHoldout(
  firstOrderDay: Date,
  asOf: Date,
  minCalibrationDays: number,
): { calibrationEnd: Date; holdoutEnd: Date; weeks: number } | { reason: string } {
  const historyDays = Math.floor((asOf.getTime() - firstOrderDay.getTime()) / DAY_MS);
  const R = SELECTION_RULE;
  const weeks = Math.min(R.maxHoldoutWeeks, Math.floor((historyDays * R.holdoutShare) / 7));
  if (weeks < R.minHoldoutWeeks)
    return {
      reason: `the history is ${historyDays} days: a holdout of a quarter of it would be under ${R.minHoldoutWeeks} weeks`,
    };
  const calibrationDays = historyDays - weeks * 7;
  if (calibrationDays < minCalibrationDays)
    return {
      reason: `the history is ${historyDays} days: after holding out ${weeks} weeks, ${calibrationDays} days are left to fit on, under the ${minCalibrationDays} a fit needs`,
    };
  return { calibrationEnd: new Date(asOf.getTime() - weeks * 7 * DAY_MS), holdoutEnd: asOf, weeks };
}

function scoreOf(r: ValidationReport): HoldoutScore {
  return {
    mae: r.mae,
    rmse: r.rmse,
    correlation: r.correlation,
    totalActual: r.totalActual,
    totalPredicted: r.totalPredicted,
    totalErrorPct: r.totalErrorPct,
  };
}

/** With `--model`: that model, fitted on the whole history. */
export function explicitChoice(name: TransactionModelName, whole: RfData): Choice {
  const { fit, model } = fitTransactionModel(name, whole);
  return {
    name,
    fit,
    model,
    selection: {
      method: 'explicit',
      holdout: null,
      candidates: [],
      chosen: name,
      reason: 'chosen with --model',
    },
  };
}

/** No holdout is possible (`why`): MBG/NBD, fitted on the whole history. */
export function defaultChoice(whole: RfData, why: string): Choice {
  const name = CHURN_MODELS[0];
  const { fit, model } = fitTransactionModel(name, whole);
  const reason =
    `No holdout: ${why}. MBG/NBD is the default: unlike BG/NBD it lets a customer leave right after the first ` +
    'purchase, so one-time buyers get a churn risk, and its likelihood is closed-form (quick and steady to fit).';
  return {
    name,
    fit,
    model,
    selection: { method: 'default', holdout: null, candidates: [], chosen: name, reason },
  };
}

/**
 * Chooses by holdout fit: every model is fitted on the calibration weeks and scored on the held-out
 * ones (per-customer MAE, the aggregate error); the candidates that can express churn before a first
 * repeat (MBG/NBD, Pareto/NBD) are fitted on the whole history too. A candidate whose whole-history
 * dropout ran off to zero (churn risk ≈ 0 for everyone) is set aside unless every candidate did. The
 * lowest MAE wins; MAEs within 1 % tie, broken by the smaller total error (by more than a point),
 * then by the order MBG/NBD, Pareto/NBD. BG/NBD is scored for reference and never chosen.
 */
export function holdoutChoice(
  calibration: HoldoutColumns & { rf: RfData },
  whole: RfData,
  cut: {
    calibrationEnd: Date;
    holdoutEnd: Date;
    weeks: number;
    /** The calibration period's length (first order → calibration end), in weeks. */
    calibrationWeeks: number;
    customers: number;
    repeatBuyers: number;
  },
): Choice {
  const R = SELECTION_RULE;
  const models: TransactionModelName[] = [...CHURN_MODELS, REFERENCE_MODEL];
  const wholeFits = new Map<TransactionModelName, ReturnType<typeof fitTransactionModel>>();
  const candidates: CandidateScore[] = models.map((name) => {
    const cal = fitTransactionModel(name, calibration.rf);
    const report = validateHoldout(cal.model, calibration);
    const candidate = name !== REFERENCE_MODEL;
    let wholePeriod: CandidateScore['wholePeriod'] = null;
    if (candidate) {
      const w = fitTransactionModel(name, whole);
      wholeFits.set(name, w);
      wholePeriod = {
        converged: w.fit.converged,
        dropoutIdentified: dropoutIdentified(name, w.fit),
        warnings: fitWarnings(name, w.fit),
      };
    }
    return {
      model: name,
      role: candidate ? 'candidate' : 'reference',
      holdout: scoreOf(report),
      converged: cal.fit.converged,
      warnings: fitWarnings(name, cal.fit),
      wholePeriod,
    };
  });
  const churnModels = candidates.filter((c) => c.role === 'candidate');
  const identified = churnModels.filter((c) => c.wholePeriod!.dropoutIdentified);
  const eligible = identified.length > 0 ? identified : churnModels;
  const best = Math.min(...eligible.map((c) => c.holdout.mae));
  const tied = eligible.filter((c) => c.holdout.mae <= best * (1 + R.tieTolerance));
  let chosen = tied[0]!; // CHURN_MODELS order
  let tieBreak: 'total' | 'order' | null = null;
  if (tied.length > 1) {
    const absTotal = (c: CandidateScore) => Math.abs(c.holdout.totalErrorPct ?? 0);
    const smallest = tied.reduce((a, b) => (absTotal(b) < absTotal(a) ? b : a));
    if (tied.some((c) => absTotal(c) - absTotal(smallest) > R.totalTiePoints)) {
      chosen = smallest;
      tieBreak = 'total';
    } else tieBreak = 'order';
  }

  const calWeeks = cut.calibrationWeeks;
  const parts: string[] = [
    `Held out the last ${cut.weeks} weeks (${day(new Date(cut.calibrationEnd.getTime() + DAY_MS))} … ${day(cut.holdoutEnd)}) ` +
      `and fitted each model on the ${calWeeks} weeks before (${cut.customers} customers, ${cut.repeatBuyers} of them repeat buyers).`,
  ];
  const score = (c: CandidateScore) => `MAE ${mae(c.holdout.mae)}, total ${pct(c.holdout.totalErrorPct)}`;
  for (const c of churnModels)
    if (!eligible.includes(c))
      parts.push(
        `${label(c.model)} was set aside: on the whole history its dropout (${DROPOUT_PARAMS[c.model].join(', ')}) ran off to zero, ` +
          'so it would give every customer a churn risk of about 0.',
      );
  const maeMeans =
    '(MAE = mean absolute error of each customer’s held-out purchases; total = error of their sum)';
  if (tied.length > 1) {
    parts.push(
      `${tied.map((c) => `${label(c.model)} (${score(c)})`).join(' and ')} forecast the held-out purchases equally well ${maeMeans}; ` +
        (tieBreak === 'total'
          ? `${label(chosen.model)} is taken for its smaller error on the total.`
          : `${label(chosen.model)} is taken, the default when they tie.`),
    );
  } else if (eligible.length === 1) {
    parts.push(
      `${label(chosen.model)} is the candidate left: on the held-out weeks ${score(chosen)} ${maeMeans}.`,
    );
  } else {
    const others = eligible.filter((c) => c !== chosen);
    parts.push(
      `${label(chosen.model)} forecast the held-out purchases best: ${score(chosen)}, against ` +
        `${others.map((c) => `${label(c.model)} ${score(c)}`).join('; ')} ${maeMeans}.`,
    );
  }
  if (identified.length === 0)
    parts.push(
      'No model pinned down dropout on the whole history: churn risk is about 0 for everyone (the history shows customers buying on, not leaving).',
    );
  if (candidates.every((c) => c.warnings.some((w) => w.includes('dropout'))))
    parts.push(
      `In the ${calWeeks} calibration weeks no model could see customers leaving, so the holdout compares purchase rates, not dropout.`,
    );
  const ref = candidates.find((c) => c.role === 'reference')!;
  parts.push(
    `BG/NBD is scored for reference only (${score(ref)}): it gives every one-time buyer P(alive) = 1, so it cannot tell which of them are gone` +
      (ref.holdout.mae < chosen.holdout.mae * (1 - R.tieTolerance)
        ? '; it forecast the held-out purchases better, so prefer --model bgnbd for purchase totals, not for churn risk.'
        : '.'),
  );
  const w = wholeFits.get(chosen.model)!;
  return {
    name: chosen.model,
    fit: w.fit,
    model: w.model,
    selection: {
      method: 'holdout',
      holdout: {
        calibrationEnd: day(cut.calibrationEnd),
        holdoutEnd: day(cut.holdoutEnd),
        weeks: cut.weeks,
        customers: cut.customers,
        repeatBuyers: cut.repeatBuyers,
        purchases: ref.holdout.totalActual,
      },
      candidates,
      chosen: chosen.model,
      reason: parts.join(' '),
    },
  };
}
