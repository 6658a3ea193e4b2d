/**
 * "How much more did we earn because we sent it": the difference in mean outcome per recipient between
 * a variant and the holdout (control), with a Welch standard error and a (1 − α) normal interval, and
 * the relative uplift with a delta-method interval. A conversion rate is the 0/1 case. Pure.
 */
import { normalQuantile, normalSf } from './distributions.js';
import { armSummary, checkAlpha, moments, type ArmSummary, type Sample } from './samples.js';

export interface CompareOptions {
  /** Two-sided error rate of the interval, in (0, 1); default 0.05 (a 95 % interval). */
  alpha?: number;
}

/** An estimate with a two-sided (1 − α) interval. `kind` says whether it is valid under peeking. */
export interface DifferenceInterval {
  estimate: number;
  low: number;
  high: number;
  alpha: number;
  kind: 'fixed-horizon' | 'always-valid';
}

/** The absolute difference, variant − control, in the outcome's units (minor units per recipient). */
export interface DifferenceEstimate extends DifferenceInterval {
  kind: 'fixed-horizon';
  /** Welch: √(s²_v/n_v + s²_c/n_c). */
  standardError: number;
  /** estimate / standardError (±∞ when the standard error is 0 and the estimate is not). */
  z: number;
  /** Two-sided normal p-value 2·(1 − Φ(|z|)). */
  pValue: number;
  /** Welch–Satterthwaite degrees of freedom (information only: the interval is the normal one). */
  welchDf: number;
}

/** The relative uplift mean_v/mean_c − 1 (0.12 = +12 %), with its delta-method interval. */
export interface RelativeEstimate {
  estimate: number;
  standardError: number;
  low: number;
  high: number;
}

export interface MeanComparison {
  alpha: number;
  control: ArmSummary;
  variant: ArmSummary;
  difference: DifferenceEstimate;
  /** Null when the control mean is not positive (see `relativeUnavailable`). */
  relative: RelativeEstimate | null;
  /** Why `relative` is null; null when it is not. */
  relativeUnavailable: string | null;
}

/**
 * Compares the mean outcome per recipient of `variant` with that of `control` (each at least 2
 * recipients).
 *
 * - Difference Δ = ȳ_v − ȳ_c, SE = √(s²_v/n_v + s²_c/n_c) (Welch; unbiased s²), interval
 *   Δ ± z_{1−α/2}·SE.
 * - Relative uplift r = ȳ_v/ȳ_c − 1. Delta method for the ratio of two independent means:
 *   Var(ȳ_v/ȳ_c) ≈ SE²_v/ȳ_c² + ȳ_v²·SE²_c/ȳ_c⁴, interval r ± z_{1−α/2}·SE_r. Needs ȳ_c > 0: with a
 *   zero control mean the ratio does not exist; with a negative one (refunds exceeding sales) "+x %"
 *   has no meaning; both give null with the reason.
 */
export function compareMeans(control: Sample, variant: Sample, opts: CompareOptions = {}): MeanComparison {
  const alpha = checkAlpha(opts.alpha ?? 0.05);
  const c = armSummary(moments(control, 'control'));
  const v = armSummary(moments(variant, 'variant'));
  const z = normalQuantile(1 - alpha / 2);

  const estimate = v.mean - c.mean;
  const varC = c.variance / c.n;
  const varV = v.variance / v.n;
  const se = Math.sqrt(varC + varV);
  const zStat = se > 0 ? estimate / se : estimate === 0 ? 0 : estimate > 0 ? Infinity : -Infinity;
  const welchDf =
    se > 0 ? (varC + varV) ** 2 / (varC ** 2 / (c.n - 1) + varV ** 2 / (v.n - 1)) : c.n + v.n - 2;

  let relative: RelativeEstimate | null = null;
  let relativeUnavailable: string | null = null;
  if (c.mean === 0) {
    relativeUnavailable = 'the control mean is 0: a relative uplift does not exist';
  } else if (c.mean < 0) {
    relativeUnavailable = 'the control mean is negative: a relative uplift has no meaning';
  } else {
    const ratio = v.mean / c.mean;
    const seR = Math.sqrt(varV / c.mean ** 2 + (v.mean ** 2 * varC) / c.mean ** 4);
    relative = {
      estimate: ratio - 1,
      standardError: seR,
      low: ratio - 1 - z * seR,
      high: ratio - 1 + z * seR,
    };
  }

  return {
    alpha,
    control: c,
    variant: v,
    difference: {
      kind: 'fixed-horizon',
      estimate,
      standardError: se,
      low: estimate - z * se,
      high: estimate + z * se,
      alpha,
      z: zStat,
      pValue: Math.min(1, 2 * normalSf(Math.abs(zStat))),
      welchDf,
    },
    relative,
    relativeUnavailable,
  };
}
