/**
 * MBG/NBD model: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models
 * for customer base analysis", IJRM 24(3), 201–209 — the BG/NBD with a possible drop-out at time zero,
 * so customers without repeat purchases can be inactive. Conditional expectation as in Wagner & Hoppe
 * (2008), "Erratum on the MBG/NBD model".
 */
import { assertRfData, fitMaximumLikelihood, type FitResult, type TransactionModel } from './model.js';
import { digamma, lgamma, log1pExp, logHyp2f1, sigmoid } from './special.js';
import { indexRf, type RfData, type RfIndex } from './summary.js';

export interface MbgNbdParams extends Record<string, number> {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/**
 * Σ w·ln L (Batislam et al. 2007, eq. 5):
 * ln L = A₁ + A₂ − (r+x)ln(α+T) + ln(1 + a/(b+x)·((α+T)/(α+t_x))^{r+x}), with its gradient.
 */
export function mbgNbdLogLikelihood(params: ArrayLike<number>, idx: RfIndex, grad?: Float64Array): number {
  const r = params[0]!;
  const alpha = params[1]!;
  const a = params[2]!;
  const b = params[3]!;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return -Infinity;
  const xs = idx.x.values;
  const nx = xs.length;
  const logBX = new Float64Array(nx);
  const lgR = lgamma(r);
  const lgAB = lgamma(a + b);
  const lgB = lgamma(b);
  const logAlpha = Math.log(alpha);
  const logA = Math.log(a);
  let ll = 0;
  let gR = 0;
  let gAlpha = 0;
  let gA = 0;
  let gB = 0;
  for (let k = 0; k < nx; k++) {
    const x = xs[k]!;
    logBX[k] = Math.log(b + x);
    const w = idx.weightByX[k]!;
    ll += w * (lgamma(r + x) - lgR + r * logAlpha + lgAB + lgamma(b + x + 1) - lgB - lgamma(a + b + x + 1));
    if (grad) {
      const psiAB = digamma(a + b);
      const psiABX = digamma(a + b + x + 1);
      gR += w * (digamma(r + x) - digamma(r) + logAlpha);
      gAlpha += (w * r) / alpha;
      gA += w * (psiAB - psiABX);
      gB += w * (psiAB + digamma(b + x + 1) - digamma(b) - psiABX);
    }
  }
  const Tv = idx.T.values;
  const txv = idx.recency.values;
  const logAT = new Float64Array(Tv.length);
  const logAtx = new Float64Array(txv.length);
  for (let j = 0; j < Tv.length; j++) logAT[j] = Math.log(alpha + Tv[j]!);
  for (let j = 0; j < txv.length; j++) logAtx[j] = Math.log(alpha + txv[j]!);
  const { weight, frequency } = idx.data;
  for (let i = 0; i < idx.rows; i++) {
    const w = weight[i]!;
    const x = frequency[i]!;
    const rx = r + x;
    const jT = idx.T.indexOf[i]!;
    const jt = idx.recency.indexOf[i]!;
    const lT = logAT[jT]!;
    const lt = logAtx[jt]!;
    const A4 = logA - logBX[idx.x.indexOf[i]!]! + rx * (lT - lt);
    // ln(1 + e^{A4}) and π = σ(A4) from one exp.
    const e = Math.exp(-Math.abs(A4));
    ll += w * (-rx * lT + (A4 > 0 ? A4 : 0) + Math.log(1 + e));
    if (grad) {
      const pi = A4 > 0 ? 1 / (1 + e) : e / (1 + e);
      const invT = 1 / (alpha + Tv[jT]!);
      gR += w * (-lT + pi * (lT - lt));
      gAlpha += w * (-rx * invT + pi * rx * (invT - 1 / (alpha + txv[jt]!)));
      gA += (w * pi) / a;
      gB -= (w * pi) / (b + x);
    }
  }
  if (grad) {
    grad[0] = gR;
    grad[1] = gAlpha;
    grad[2] = gA;
    grad[3] = gB;
  }
  return ll;
}

/** Maximum-likelihood fit of the MBG/NBD. */
export function fitMbgNbd(data: RfData): FitResult<MbgNbdParams> {
  assertRfData(data.frequency, data.recency, data.T, data.weight);
  const idx = indexRf(data);
  let sumT = 0;
  for (let i = 0; i < idx.rows; i++) sumT += data.T[i]! * data.weight[i]!;
  return fitMaximumLikelihood({
    names: ['r', 'alpha', 'a', 'b'] as const,
    start: [1, Math.max(sumT / idx.totalWeight, 1e-6), 1, 1],
    totalWeight: idx.totalWeight,
    logLikelihood: (p, grad) => mbgNbdLogLikelihood(p, idx, grad),
    analyticGradient: true,
  });
}

/** Per-customer ln L (Batislam et al. 2007, eq. 5). */
export function mbgNbdIndividualLogLikelihood(p: MbgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  return (
    lgamma(r + x) -
    lgamma(r) +
    r * Math.log(alpha) +
    lgamma(a + b) +
    lgamma(b + x + 1) -
    lgamma(b) -
    lgamma(a + b + x + 1) -
    (r + x) * Math.log(alpha + T) +
    log1pExp(Math.log(a / (b + x)) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx)))
  );
}

/** P(alive | x, t_x, T) = 1 / (1 + a/(b+x)·((α+T)/(α+t_x))^{r+x}) (Batislam et al. 2007, eq. 7). */
export function mbgNbdProbabilityAlive(p: MbgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  return sigmoid(-(Math.log(a / (b + x)) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))));
}

/** E[X(t)] = b/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))] (Batislam et al. 2007, eq. 8). */
export function mbgNbdExpectedPurchases(p: MbgNbdParams, t: number): number {
  const { r, alpha, a, b } = p;
  if (t <= 0) return 0;
  const z = t / (alpha + t);
  return (b / (a - 1)) * -Math.expm1(logHyp2f1(r, b + 1, a + b, z) + r * Math.log1p(-z));
}

/** E[Y(t) | x, t_x, T] (Wagner & Hoppe 2008, eq. 4), the ₂F₁ product formed in logs. */
export function mbgNbdConditionalExpectedPurchases(
  p: MbgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  const { r, alpha, a, b } = p;
  if (t <= 0) return 0;
  const z = t / (alpha + T + t);
  const numerator =
    ((a + b + x) / (a - 1)) *
    -Math.expm1(logHyp2f1(r + x, b + x + 1, a + b + x, z) + (r + x) * Math.log1p(-z));
  return numerator * mbgNbdProbabilityAlive(p, x, tx, T);
}

/** Median time to the next purchase (as for the BG/NBD: λ | alive ~ Gamma(r+x, α+T)). */
export function mbgNbdMedianTimeToNextPurchase(
  p: MbgNbdParams,
  x: number,
  tx: number,
  T: number,
): number | null {
  const pAlive = mbgNbdProbabilityAlive(p, x, tx, T);
  if (!(pAlive > 0.5)) return null;
  return (p.alpha + T) * Math.expm1(-Math.log1p(-0.5 / pAlive) / (p.r + x));
}

/** The MBG/NBD as a TransactionModel. */
export function mbgNbdModel(p: MbgNbdParams): TransactionModel {
  return {
    expectedPurchases: (t) => mbgNbdExpectedPurchases(p, t),
    conditionalExpectedPurchases: (t, x, tx, T) => mbgNbdConditionalExpectedPurchases(p, t, x, tx, T),
    probabilityAlive: (x, tx, T) => mbgNbdProbabilityAlive(p, x, tx, T),
    medianTimeToNextPurchase: (x, tx, T) => mbgNbdMedianTimeToNextPurchase(p, x, tx, T),
  };
}
