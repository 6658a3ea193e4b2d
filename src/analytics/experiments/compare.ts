/**
 * "How much more did we earn because we sent it": the difference in mean outcome per recipient between
 * a variant and the holdout (control), with a Welch standard error and a (1 − α) interval corrected for
 * the skewness of revenue (Hall's 1992 transformation of the t statistic), and the relative uplift with
 * a delta-method interval. A conversion rate is the 0/1 case. Pure.
 */
import { invalid } from '../../shared/errors.js';
import { normalQuantile, normalSf } from './distributions.js';
import { armSummary, checkAlpha, moments, type ArmSummary, type Sample } from './samples.js';

export interface CompareOptions {
  /** Two-sided error rate of the interval, in (0, 1); default 0.05 (a 95 % interval). */
  alpha?: number;
  /**
   * Correct the difference's interval and p-value for skewness (default true). False gives the plain
   * normal interval Δ̂ ± z·SE, which under-covers on skewed revenue with a small holdout.
   */
  skewnessCorrection?: boolean;
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
  /** estimate / standardError, the Welch statistic (±∞ when the standard error is 0 and the estimate is not). */
  z: number;
  /**
   * Two-sided p-value of Δ = 0: 2·(1 − Φ(|g(z)|)) with g Hall's transformation (below), so p < α exactly
   * when the interval excludes 0; 2·(1 − Φ(|z|)) for the normal interval.
   */
  pValue: number;
  /** Welch–Satterthwaite degrees of freedom (information only: the interval uses normal quantiles). */
  welchDf: number;
  /**
   * 'skewness-corrected' (default): Hall's transformation with the skewness of Δ̂ estimated under the
   * null hypothesis of no effect (see compareMeans). 'normal': Δ̂ ± z·SE — asked for, or an arm was
   * given as statistics without `sumCube`.
   */
  intervalMethod?: 'skewness-corrected' | 'normal';
  /** The skewness of Δ̂ the correction used (0 for the normal interval; negative: a long left tail). */
  skewness?: number;
  /**
   * The pooled within-arm skewness of one recipient's outcome, Σ_arms Σ(y − ȳ_arm)³/N ÷ (Σ_arms Σ(y −
   * ȳ_arm)²/N)^{3/2}; null when an arm's third moment is unknown.
   */
  outcomeSkewness?: number | null;
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
 * Hall's (1992) transformation g(t) = t + a·t²/3 + a²·t³/27 + a/6 = ((1 + a·t/3)³ − 1)/a + a/6 of a
 * studentized statistic whose estimate has skewness a: increasing in t, and g(T) is N(0, 1) to o(n^{-1/2}).
 */
function hallTransform(t: number, a: number): number {
  if (a === 0) return t;
  return t + (a * t * t) / 3 + (a * a * t * t * t) / 27 + a / 6;
}

/**
 * The inverse of hallTransform: with r = ∛(1 + a(u − a/6)), t = 3(r − 1)/a, written as
 * 3(u − a/6)/(r² + r + 1) (r³ − 1 = (r − 1)(r² + r + 1)) so it has no cancellation as a → 0 (t = u at a = 0).
 */
function hallInverse(u: number, a: number): number {
  const v = u - a / 6;
  const r = Math.cbrt(1 + a * v);
  return (3 * v) / (r * r + r + 1);
}

/**
 * Compares the mean outcome per recipient of `variant` with that of `control` (each at least 2
 * recipients).
 *
 * - Difference Δ̂ = ȳ_v − ȳ_c, SE = √(s²_v/n_v + s²_c/n_c) (Welch; unbiased s²).
 * - Interval (default, `skewnessCorrection`): the studentized T = (Δ̂ − Δ)/SE of a skewed outcome is
 *   itself skewed: its Edgeworth expansion is P(T ≤ x) = Φ(x) + a(2x² + 1)φ(x)/6 + O(1/n), with a the
 *   skewness of Δ̂, κ₃(Δ̂)/Var(Δ̂)^{3/2} — the one-sample expansion of the t statistic (Hall 1992) with
 *   γ/√n replaced by a, since E[T] ≈ −a/2 and κ₃(T) ≈ −2a as for one mean. Hall's transformation g
 *   (above) removes that term: g(T) ≈ N(0, 1), so the interval is
 *   [Δ̂ − SE·g⁻¹(z₁₋α/₂), Δ̂ − SE·g⁻¹(−z₁₋α/₂)] (Zhou & Dinh 2005 carry the one-sample intervals of Johnson
 *   1978 and Hall 1992 to a difference of means the same way). The skewness a is estimated under the null
 *   hypothesis of no effect — one distribution in both arms — from the pooled within-arm moments:
 *   γ̂ = (Σ_arms Σ(y − ȳ_arm)³/N)/(Σ_arms Σ(y − ȳ_arm)²/N)^{3/2}, N = n_c + n_v, and
 *   a = γ̂·(1/n_v² − 1/n_c²)/(1/n_v + 1/n_c)^{3/2} (κ₃(ȳ) = μ₃/n²). A small holdout's own third moment
 *   rests on its few buyers and is low exactly when it drew no big spender, which is when the plain
 *   interval misses; the pooled one is steady. Equal arms give a = 0: the normal interval, unchanged.
 *   Whatever a is, the interval is first-order right (the Welch SE); a only moves the O(n^{-1/2}) term.
 *   See docs/experiments.md for the measured coverage.
 * - Interval (`skewnessCorrection: false`, or an arm given as statistics without `sumCube`):
 *   Δ̂ ± z₁₋α/₂·SE.
 * - Relative uplift r = ȳ_v/ȳ_c − 1. Delta method for the ratio of two independent means:
 *   Var(ȳ_v/ȳ_c) ≈ SE²_v/ȳ_c² + ȳ_v²·SE²_c/ȳ_c⁴, interval r ± z₁₋α/₂·SE_r. Needs ȳ_c > 0: with a
 *   zero control mean the ratio does not exist; with a negative one (refunds exceeding sales) "+x %"
 *   has no meaning; both give null with the reason.
 */
export function compareMeans(control: Sample, variant: Sample, opts: CompareOptions = {}): MeanComparison {
  const alpha = checkAlpha(opts.alpha ?? 0.05);
  const correct = opts.skewnessCorrection ?? true;
  if (typeof correct !== 'boolean')
    throw invalid(`skewnessCorrection must be true or false, got ${String(correct)}`, {
      field: 'skewnessCorrection',
    });
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

  // Pooled within-arm skewness of one outcome, and the skewness of Δ̂ under "no effect".
  let outcomeSkewness: number | null = null;
  if (c.thirdMoment !== undefined && v.thirdMoment !== undefined) {
    const total = c.n + v.n;
    const m2 = ((c.n - 1) * c.variance + (v.n - 1) * v.variance) / total;
    const m3 = (c.n * c.thirdMoment + v.n * v.thirdMoment) / total;
    outcomeSkewness = m2 > 0 ? m3 / m2 ** 1.5 : 0;
  }
  const corrected = correct && outcomeSkewness !== null;
  const skew = corrected
    ? (outcomeSkewness! * (1 / v.n ** 2 - 1 / c.n ** 2)) / (1 / v.n + 1 / c.n) ** 1.5
    : 0;

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
      low: estimate - se * hallInverse(z, skew),
      high: estimate - se * hallInverse(-z, skew),
      alpha,
      z: zStat,
      pValue: Math.min(1, 2 * normalSf(Math.abs(hallTransform(zStat, skew)))),
      welchDf,
      intervalMethod: corrected ? 'skewness-corrected' : 'normal',
      skewness: skew,
      outcomeSkewness,
    },
    relative,
    relativeUnavailable,
  };
}
