/**
 * Shifted-beta-geometric (sBG) model of contractual retention: Fader & Hardie (2007), "How to Project
 * Customer Retention", Journal of Interactive Marketing 21(1), 76–90; discounted expected residual
 * lifetime from Fader & Hardie (2010), "Customer-Base Valuation in a Contractual Setting: The Perils
 * of Ignoring Heterogeneity", Marketing Science 29(1).
 */
import { invalid } from '../../shared/errors.js';
import { fitMaximumLikelihood, type FitResult } from './model.js';
import { lbeta, logHyp2f1 } from './special.js';

export interface SbgParams extends Record<string, number> {
  alpha: number;
  beta: number;
}

/** ln P(T = t) = ln B(α+1, β+t−1) − ln B(α, β), t = 1, 2, … (Fader & Hardie 2007, eq. 7). */
export function sbgLogChurnProbability(p: SbgParams, t: number): number {
  return lbeta(p.alpha + 1, p.beta + t - 1) - lbeta(p.alpha, p.beta);
}

/** S(t) = B(α, β+t)/B(α, β): share still active after t periods (Fader & Hardie 2007, eq. 8). */
export function sbgSurvival(p: SbgParams, t: number): number {
  return Math.exp(lbeta(p.alpha, p.beta + t) - lbeta(p.alpha, p.beta));
}

/** Retention rate in period t, r_t = (β+t−1)/(α+β+t−1) (Fader & Hardie 2007, eq. 6). */
export function sbgRetentionRate(p: SbgParams, t: number): number {
  return (p.beta + t - 1) / (p.alpha + p.beta + t - 1);
}

/**
 * Log-likelihood of a survivor curve: alive[t] customers still active at the start of period t
 * (alive[0] = cohort size). LL = Σ_{t=1}^{n} (alive[t−1] − alive[t])·ln P(T=t) + alive[n]·ln S(n)
 * (Fader & Hardie 2007, appendix B).
 */
export function sbgLogLikelihood(p: SbgParams, alive: readonly number[]): number {
  if (!(p.alpha > 0 && p.beta > 0)) return -Infinity;
  const n = alive.length - 1;
  let ll = 0;
  for (let t = 1; t <= n; t++) {
    const churned = alive[t - 1]! - alive[t]!;
    if (churned > 0) ll += churned * sbgLogChurnProbability(p, t);
  }
  if (alive[n]! > 0) ll += alive[n]! * (lbeta(p.alpha, p.beta + n) - lbeta(p.alpha, p.beta));
  return ll;
}

/** Checks a survivor curve: at least two points, non-negative, non-increasing. */
export function assertSurvivorCurve(alive: readonly number[]): void {
  if (alive.length < 2) throw invalid('the survivor curve needs at least periods 0 and 1');
  for (let t = 0; t < alive.length; t++) {
    const v = alive[t]!;
    if (!(v >= 0 && Number.isFinite(v))) throw invalid(`period ${t}: alive must be a non-negative number`);
    if (t > 0 && v > alive[t - 1]!)
      throw invalid(`period ${t}: alive (${v}) exceeds the previous period (${alive[t - 1]})`);
  }
  if (!(alive[0]! > 0)) throw invalid('period 0: the cohort must not be empty');
}

/** Maximum-likelihood fit of the sBG to a survivor curve. */
export function fitSbg(alive: readonly number[]): FitResult<SbgParams> {
  assertSurvivorCurve(alive);
  return fitMaximumLikelihood({
    names: ['alpha', 'beta'] as const,
    start: [1, 1],
    totalWeight: alive[0]!,
    logLikelihood: (q) => sbgLogLikelihood({ alpha: q[0]!, beta: q[1]! }, alive),
    analyticGradient: false,
  });
}

/**
 * Survivor curve from individual tenures: `periods` completed by each customer and whether they have
 * churned (a customer who churned after 3 periods is alive at t = 0..3, not at 4).
 */
export function survivorCurveFromTenures(
  tenures: readonly { periods: number; churned: boolean }[],
): number[] {
  let maxT = 0;
  for (const c of tenures) maxT = Math.max(maxT, c.periods);
  const alive = new Array<number>(maxT + 1).fill(0);
  // Censored (still active) customers only inform periods they have reached; the curve is for a cohort
  // observed to the same horizon, so we require every tenure to be observed to the same horizon.
  for (const c of tenures) {
    if (!c.churned && c.periods !== maxT)
      throw invalid('active customers must all be observed to the same horizon');
    for (let t = 0; t <= c.periods; t++) alive[t]! += 1;
  }
  return alive;
}

/**
 * DERL: discounted expected residual lifetime (in periods) of a customer who has made n−1 renewals,
 * with per-period discount rate d: (β+n−1)/(α+β+n−1)·₂F₁(1, β+n; α+β+n; 1/(1+d)) (Fader & Hardie 2010, eq. 6).
 * Multiply by the per-period margin for the customer's residual value.
 */
export function sbgDiscountedExpectedResidualLifetime(
  p: SbgParams,
  renewals: number,
  discountRate: number,
): number {
  const n = renewals + 1;
  const { alpha, beta } = p;
  return (
    ((beta + n - 1) / (alpha + beta + n - 1)) *
    Math.exp(logHyp2f1(1, beta + n, alpha + beta + n, 1 / (1 + discountRate)))
  );
}
