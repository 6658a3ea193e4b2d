/**
 * BG/BB model for discrete transaction opportunities (e.g. yearly donations, event attendance):
 * Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual Setting",
 * Marketing Science 29(6), 1086–1108. A customer with x transactions in n opportunities, the last at
 * opportunity t_x, buys with probability p ~ Beta(α, β) while alive and dies with θ ~ Beta(γ, δ).
 */
import { invalid } from '../../shared/errors.js';
import { fitMaximumLikelihood, type FitResult } from './model.js';
import { lbeta, lgamma, logSumExp } from './special.js';

export interface BgBbParams extends Record<string, number> {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

/** (x, t_x, n) patterns with weights. */
export interface BgBbData {
  frequency: readonly number[];
  recency: readonly number[];
  periods: readonly number[];
  weight: readonly number[];
}

/**
 * ln L(α, β, γ, δ | x, t_x, n) (FHS 2010, eq. 5):
 * B(α+x, β+n−x)/B(α,β)·B(γ, δ+n)/B(γ,δ) + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β)·B(γ+1, δ+t_x+i)/B(γ,δ).
 */
export function bgBbIndividualLogLikelihood(p: BgBbParams, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = p;
  const bAB = lbeta(alpha, beta);
  const bGD = lbeta(gamma, delta);
  const terms = [lbeta(alpha + x, beta + n - x) - bAB + lbeta(gamma, delta + n) - bGD];
  for (let i = 0; i < n - tx; i++)
    terms.push(lbeta(alpha + x, beta + tx - x + i) - bAB + lbeta(gamma + 1, delta + tx + i) - bGD);
  return logSumExp(terms);
}

/** Σ w·ln L over patterns. */
export function bgBbLogLikelihood(p: BgBbParams, d: BgBbData): number {
  if (!(p.alpha > 0 && p.beta > 0 && p.gamma > 0 && p.delta > 0)) return -Infinity;
  let ll = 0;
  for (let i = 0; i < d.frequency.length; i++)
    ll += d.weight[i]! * bgBbIndividualLogLikelihood(p, d.frequency[i]!, d.recency[i]!, d.periods[i]!);
  return ll;
}

/** Checks 0 ≤ t_x ≤ n, x ≤ t_x, x = 0 ⇔ t_x = 0, integers, positive weights. */
export function assertBgBbData(d: BgBbData): void {
  if (d.frequency.length === 0) throw invalid('no patterns to fit');
  for (let i = 0; i < d.frequency.length; i++) {
    const x = d.frequency[i]!;
    const tx = d.recency[i]!;
    const n = d.periods[i]!;
    if (![x, tx, n].every((v) => Number.isInteger(v) && v >= 0))
      throw invalid(`row ${i}: x, t_x and n must be non-negative integers`);
    if (x > tx || tx > n) throw invalid(`row ${i}: need x ≤ t_x ≤ n`);
    if ((x === 0) !== (tx === 0)) throw invalid(`row ${i}: t_x must be 0 exactly when x is 0`);
    if (!(d.weight[i]! > 0)) throw invalid(`row ${i}: weight must be positive`);
  }
}

/** Maximum-likelihood fit of the BG/BB. */
export function fitBgBb(d: BgBbData): FitResult<BgBbParams> {
  assertBgBbData(d);
  const W = d.weight.reduce((s, w) => s + w, 0);
  return fitMaximumLikelihood({
    names: ['alpha', 'beta', 'gamma', 'delta'] as const,
    start: [1, 1, 1, 1],
    totalWeight: W,
    logLikelihood: (q) => bgBbLogLikelihood({ alpha: q[0]!, beta: q[1]!, gamma: q[2]!, delta: q[3]! }, d),
    analyticGradient: false,
  });
}

/** P(alive at opportunity n+1 | x, t_x, n) (FHS 2010, eq. 11). */
export function bgBbProbabilityAlive(p: BgBbParams, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = p;
  return Math.exp(
    lbeta(alpha + x, beta + n - x) -
      lbeta(alpha, beta) +
      lbeta(gamma, delta + n + 1) -
      lbeta(gamma, delta) -
      bgBbIndividualLogLikelihood(p, x, tx, n),
  );
}

/** E[X(n, n+n*) | x, t_x, n]: expected transactions in the next n* opportunities (FHS 2010, eq. 13). */
export function bgBbConditionalExpectedPurchases(
  p: BgBbParams,
  future: number,
  x: number,
  tx: number,
  n: number,
): number {
  const { alpha, beta, gamma, delta } = p;
  const logHead =
    lbeta(alpha + x + 1, beta + n - x) -
    lbeta(alpha, beta) +
    lgamma(gamma + delta) -
    lgamma(1 + delta) -
    bgBbIndividualLogLikelihood(p, x, tx, n);
  const a = lgamma(1 + delta + n) - lgamma(gamma + delta + n);
  const b = lgamma(1 + delta + n + future) - lgamma(gamma + delta + n + future);
  // δ/(γ−1)·(eᵃ − eᵇ): both factors change sign together at γ = 1, so the product stays positive.
  return Math.exp(logHead + a) * (delta / (gamma - 1)) * -Math.expm1(b - a);
}

/** E[X(n)]: expected transactions in the first n opportunities for a new customer (FHS 2010, eq. 9). */
export function bgBbExpectedPurchases(p: BgBbParams, n: number): number {
  const { alpha, beta, gamma, delta } = p;
  const head = (alpha / (alpha + beta)) * (delta / (gamma - 1));
  return (
    head *
    (1 -
      Math.exp(lgamma(gamma + delta) - lgamma(1 + delta) + lgamma(1 + delta + n) - lgamma(gamma + delta + n)))
  );
}
