/**
 * Looking at a running experiment every day without inflating the error: an always-valid confidence
 * sequence for the difference in means, and a stop rule built on it. Pure.
 *
 * The normal-mixture confidence sequence (Robbins 1970; Howard, Ramdas, McAuliffe & Sekhon 2021,
 * "Time-uniform, nonparametric, nonasymptotic confidence sequences", §3.5 two-sided normal mixture;
 * it is the interval form of the mixture SPRT of Johari, Koomen, Pekelis & Walsh 2017/2022, "Always
 * valid inference"). With Δ̂ = ȳ_v − ȳ_c and V = s²_v/n_v + s²_c/n_c its estimated variance, mixing the
 * likelihood ratio of Δ̂ ~ N(Δ, V) against Δ₀ over Δ − Δ₀ ~ N(0, τ²) gives
 *
 *   Λ(Δ₀) = √(V/(V + τ²)) · exp( τ²(Δ̂ − Δ₀)² / (2V(V + τ²)) ),
 *
 * a nonnegative martingale under Δ = Δ₀ with mean 1, so by Ville's inequality P(∃ t: Λₜ ≥ 1/α) ≤ α.
 * The values Δ₀ with Λ(Δ₀) < 1/α form the interval Δ̂ ± w,
 *
 *   w = √( V(V + τ²)/τ² · ln((V + τ²)/(V·α²)) ),
 *
 * which covers the true Δ at every look at once with probability ≥ 1 − α. Exact for normal outcomes of
 * known variance; with the variance estimated and non-normal outcomes it holds asymptotically (Waudby-
 * Smith, Arbour, Sinha, Kennedy & Ramdas 2021, "Time-uniform central limit theory and asymptotic
 * confidence sequences") — hence a minimum number of recipients per arm before any decision.
 *
 * The mixing parameter τ (outcome units, e.g. minor units per recipient) must be fixed before the
 * experiment starts; it sets the look at which the sequence is tightest (mixingTau computes it for the
 * planned horizon). A τ chosen from the data voids the guarantee.
 */
import { invalid } from '../../shared/errors.js';
import type { DifferenceInterval } from './compare.js';
import { armSummary, checkAlpha, checkPositive, moments, type ArmSummary, type Sample } from './samples.js';

export interface AlwaysValidOptions {
  /** Error rate over all looks, in (0, 1); default 0.05. */
  alpha?: number;
  /** Mixing standard deviation τ > 0 of the normal mixture, in outcome units; fixed up front. */
  tau: number;
}

export interface AlwaysValidInterval extends DifferenceInterval {
  kind: 'always-valid';
  /** √V: the Welch standard error of the difference. */
  standardError: number;
  halfWidth: number;
  tau: number;
  /** Always-valid p-value for Δ = 0: min(1, 1/Λ(0)) (its running minimum is valid too). */
  pValue: number;
  control: ArmSummary;
  variant: ArmSummary;
}

/**
 * Always-valid (1 − α) interval for the difference in means variant − control at the current look
 * (each arm ≥ 2 recipients). See the module comment for the formula.
 */
export function alwaysValidInterval(
  control: Sample,
  variant: Sample,
  opts: AlwaysValidOptions,
): AlwaysValidInterval {
  if (opts === null || typeof opts !== 'object')
    throw invalid('options { tau, alpha? } are required', { field: 'tau' });
  const alpha = checkAlpha(opts.alpha ?? 0.05);
  const tau = checkPositive(opts.tau, 'tau');
  const c = armSummary(moments(control, 'control'));
  const v = armSummary(moments(variant, 'variant'));
  const estimate = v.mean - c.mean;
  const V = c.variance / c.n + v.variance / v.n;
  const t2 = tau * tau;
  // V → 0: V·ln(1/V) → 0, the interval shrinks to the point (both arms constant).
  const halfWidth = V > 0 ? Math.sqrt(((V * (V + t2)) / t2) * Math.log((V + t2) / (V * alpha * alpha))) : 0;
  let pValue: number;
  if (V > 0) {
    const logLambda = 0.5 * Math.log(V / (V + t2)) + (t2 * estimate * estimate) / (2 * V * (V + t2));
    pValue = Math.min(1, Math.exp(-logLambda));
  } else {
    pValue = estimate === 0 ? 1 : 0;
  }
  return {
    kind: 'always-valid',
    estimate,
    low: estimate - halfWidth,
    high: estimate + halfWidth,
    alpha,
    standardError: Math.sqrt(V),
    halfWidth,
    tau,
    pValue,
    control: c,
    variant: v,
  };
}

export interface MixingTauInput {
  /** Planned recipients in total at the horizon. */
  n: number;
  /** Share held out, in (0, 1). */
  holdoutShare: number;
  /** Planning guess of the per-recipient outcome's σ (e.g. last month's revenue per customer). */
  baselineSd: number;
  alpha?: number;
}

/**
 * The τ that makes the always-valid interval narrowest at the planned horizon, where
 * V* = σ²·(1/(n·h) + 1/(n·(1 − h))). With u = τ²/V, w² = V·(1 + 1/u)·ln((1 + u)/α²); setting the
 * derivative to 0 gives s − ln s = 1 − 2 ln α for s = 1 + u (s > 1; s = −W₋₁(−α²/e)), so τ = √((s − 1)·V*).
 * α = 0.05: s ≈ 9.2, τ ≈ 2.86·√V*, and the interval at the horizon is ≈ 1.55× the fixed-horizon one.
 */
export function mixingTau(input: MixingTauInput): number {
  const alpha = checkAlpha(input.alpha ?? 0.05);
  const n = checkPositive(input.n, 'n');
  const h = input.holdoutShare;
  if (typeof h !== 'number' || !(h > 0 && h < 1))
    throw invalid(`holdoutShare must be strictly between 0 and 1, got ${String(h)}`, {
      field: 'holdoutShare',
    });
  const sd = checkPositive(input.baselineSd, 'baselineSd');
  const vStar = sd * sd * (1 / (n * h) + 1 / (n * (1 - h)));
  const target = 1 - 2 * Math.log(alpha);
  // Newton on f(s) = s − ln s − target from the right of the root (f convex, increasing for s > 1).
  let s = target + Math.log(target) + 1;
  for (let i = 0; i < 50; i++) {
    const step = (s - Math.log(s) - target) / (1 - 1 / s);
    s -= step;
    if (Math.abs(step) < 1e-14 * s) break;
  }
  return Math.sqrt((s - 1) * vStar);
}

export type StopDecisionKind =
  'continue' | 'stop-variant-better' | 'stop-variant-worse' | 'stop-no-difference-detectable';

export interface StopRuleOptions extends AlwaysValidOptions {
  /** No decision before each arm has this many recipients (≥ 2); default 100. */
  minPerArm?: number;
  /**
   * The horizon, stated before the start: once both arms together reach this many recipients and the
   * interval still contains 0, stop with 'no difference detectable'. Without it the rule never says so.
   */
  maxRecipients?: number;
}

export interface StopDecision {
  decision: StopDecisionKind;
  reason: string;
  /** The always-valid interval at this look; null while an arm has fewer than 2 recipients. */
  interval: AlwaysValidInterval | null;
}

/**
 * The stop rule, safe to evaluate at every look: 'continue' until each arm has `minPerArm` recipients;
 * then stop as soon as the always-valid interval excludes 0 (variant better or worse); at the
 * `maxRecipients` horizon with 0 still inside, stop with no detectable difference; otherwise continue.
 * The chance that it ever stops on the wrong side (or on a difference when there is none) is ≤ α.
 */
export function stopDecision(control: Sample, variant: Sample, opts: StopRuleOptions): StopDecision {
  if (opts === null || typeof opts !== 'object')
    throw invalid('options { tau, alpha?, minPerArm?, maxRecipients? } are required', { field: 'tau' });
  const minPerArm = opts.minPerArm ?? 100;
  if (!Number.isInteger(minPerArm) || minPerArm < 2)
    throw invalid(`minPerArm must be an integer of at least 2, got ${minPerArm}`, { field: 'minPerArm' });
  if (
    opts.maxRecipients !== undefined &&
    (!Number.isInteger(opts.maxRecipients) || opts.maxRecipients < 2 * minPerArm)
  )
    throw invalid(
      `maxRecipients must be an integer of at least 2·minPerArm (${2 * minPerArm}), got ${opts.maxRecipients}`,
      {
        field: 'maxRecipients',
      },
    );
  checkAlpha(opts.alpha ?? 0.05);
  checkPositive(opts.tau, 'tau');
  const nC = sampleSize(control, 'control');
  const nV = sampleSize(variant, 'variant');
  const interval = nC >= 2 && nV >= 2 ? alwaysValidInterval(control, variant, opts) : null;
  if (nC < minPerArm || nV < minPerArm || interval === null)
    return {
      decision: 'continue',
      reason: `waiting for ${minPerArm} recipients per arm (control ${nC}, variant ${nV})`,
      interval,
    };
  if (interval.low > 0)
    return { decision: 'stop-variant-better', reason: 'the always-valid interval is above 0', interval };
  if (interval.high < 0)
    return { decision: 'stop-variant-worse', reason: 'the always-valid interval is below 0', interval };
  if (opts.maxRecipients !== undefined && nC + nV >= opts.maxRecipients)
    return {
      decision: 'stop-no-difference-detectable',
      reason: `the horizon of ${opts.maxRecipients} recipients is reached and the interval still contains 0`,
      interval,
    };
  return { decision: 'continue', reason: 'the always-valid interval contains 0', interval };
}

function sampleSize(sample: Sample, field: string): number {
  if (Array.isArray(sample) || sample instanceof Float64Array) return sample.length;
  const n = (sample as { n?: unknown } | null)?.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw invalid(`${field} must be an array of numbers or { n, sum, sumSq }`, { field });
  return n;
}
