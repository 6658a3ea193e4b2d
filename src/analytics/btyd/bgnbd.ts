/**
 * BG/NBD model: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to
 * the Pareto/NBD Model", Marketing Science 24(2), 275–284; and Fader, Hardie & Lee (2008), "Computing
 * P(alive) using the BG/NBD model" (note 021).
 */
import {
  assertRfData,
  fitMaximumLikelihood,
  fitNewtonMle,
  type FitResult,
  type TransactionModel,
} from './model.js';
import { digamma, lgamma, logHyp2f1, sigmoid, trigamma } from './special.js';
import { indexRf, type RfData, type RfIndex } from './summary.js';

export interface BgNbdParams extends Record<string, number> {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/**
 * Total log-likelihood Σ w·ln L(r, α, a, b | x, t_x, T) (FHL 2005 eq. 6, computed as in §7 with
 * log-sum-exp), and when `grad` is given its gradient with respect to (r, α, a, b).
 */
export function bgNbdLogLikelihood(params: ArrayLike<number>, idx: RfIndex, grad?: Float64Array): number {
  const r = params[0]!;
  const alpha = params[1]!;
  const a = params[2]!;
  const b = params[3]!;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return -Infinity;
  const { data } = idx;
  const xs = idx.x.values;
  const nx = xs.length;
  // Per distinct x: the terms of A₁ + A₂ that do not involve t_x or T, and log(b + x − 1).
  const constX = new Float64Array(nx);
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
    constX[k] = lgamma(r + x) - lgR + r * logAlpha + lgAB + lgamma(b + x) - lgB - lgamma(a + b + x);
    logBX[k] = x > 0 ? Math.log(b + x - 1) : 0;
    const w = idx.weightByX[k]!;
    ll += w * constX[k]!;
    if (grad) {
      const psiABX = digamma(a + b + x);
      const psiAB = digamma(a + b);
      gR += w * (digamma(r + x) - digamma(r) + logAlpha);
      gAlpha += (w * r) / alpha;
      gA += w * (psiAB - psiABX);
      gB += w * (psiAB + digamma(b + x) - digamma(b) - psiABX);
    }
  }
  const Tv = idx.T.values;
  const txv = idx.recency.values;
  const logAT = new Float64Array(Tv.length);
  const logAtx = new Float64Array(txv.length);
  const invAT = grad ? new Float64Array(Tv.length) : logAT;
  const invAtx = grad ? new Float64Array(txv.length) : logAtx;
  for (let j = 0; j < Tv.length; j++) {
    logAT[j] = Math.log(alpha + Tv[j]!);
    if (grad) invAT[j] = 1 / (alpha + Tv[j]!);
  }
  for (let j = 0; j < txv.length; j++) {
    logAtx[j] = Math.log(alpha + txv[j]!);
    if (grad) invAtx[j] = 1 / (alpha + txv[j]!);
  }

  const xOf = idx.x.indexOf;
  const TOf = idx.T.indexOf;
  const txOf = idx.recency.indexOf;
  const weight = data.weight;
  const freq = data.frequency;
  for (let i = 0; i < idx.rows; i++) {
    const w = weight[i]!;
    const x = freq[i]!;
    const rx = r + x;
    const lT = logAT[TOf[i]!]!;
    const A3 = -rx * lT;
    if (x === 0) {
      ll += w * A3;
      if (grad) {
        gR -= w * lT;
        gAlpha -= w * rx * invAT[TOf[i]!]!;
      }
      continue;
    }
    const k = xOf[i]!;
    const lt = logAtx[txOf[i]!]!;
    const A4 = logA - logBX[k]! - rx * lt;
    // ln(e^{A3} + e^{A4}) and π = e^{A4} / (e^{A3} + e^{A4}).
    // One exp serves both the log-sum-exp and π; log(1 + e) has absolute error < 2e-16 here.
    const d = A4 - A3;
    const e = Math.exp(-Math.abs(d));
    const l = Math.log(1 + e);
    ll += w * (d > 0 ? A4 + l : A3 + l);
    if (grad) {
      const pi = d > 0 ? 1 / (1 + e) : e / (1 + e);
      gR -= w * ((1 - pi) * lT + pi * lt);
      gAlpha -= w * rx * ((1 - pi) * invAT[TOf[i]!]! + pi * invAtx[txOf[i]!]!);
      gA += (w * pi) / a;
      gB -= (w * pi) / (b + x - 1);
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

/** LL, gradient and Hessian (natural parameters r, α, a, b), from one pass over the rows. */
export interface BgNbdEvaluation {
  ll: number;
  grad: Float64Array;
  /** Row-major 4×4. */
  hess: Float64Array;
}

/**
 * Σ w·ln L with its analytic gradient and Hessian in (r, α, a, b). Per row, ln L = C_x + ln(e^{A3} + e^{A4})
 * and the Hessian of the log-sum-exp is (1−π)∇²A3 + π∇²A4 + π(1−π)·δδᵀ with δ = ∇A4 − ∇A3, so one exp and
 * one log per row still suffice; the lgamma/digamma/trigamma terms are per distinct x.
 */
export function bgNbdLogLikelihoodHessian(params: ArrayLike<number>, idx: RfIndex): BgNbdEvaluation {
  const r = params[0]!;
  const alpha = params[1]!;
  const a = params[2]!;
  const b = params[3]!;
  const grad = new Float64Array(4);
  const hess = new Float64Array(16);
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return { ll: -Infinity, grad, hess };
  const { data } = idx;
  const xs = idx.x.values;
  const nx = xs.length;
  const logBX = new Float64Array(nx);
  const invBX = new Float64Array(nx);
  const lgR = lgamma(r);
  const lgAB = lgamma(a + b);
  const lgB = lgamma(b);
  const logAlpha = Math.log(alpha);
  const logA = Math.log(a);
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const psiB = digamma(b);
  const triR = trigamma(r);
  const triAB = trigamma(a + b);
  const triB = trigamma(b);
  let ll = 0;
  let gR = 0;
  let gAlpha = 0;
  let gA = 0;
  let gB = 0;
  let hRR = 0;
  let hAA = 0; // ∂²/∂a² of the constant terms (also ∂²/∂a∂b)
  let hBB = 0;
  let wSum = 0;
  for (let k = 0; k < nx; k++) {
    const x = xs[k]!;
    const w = idx.weightByX[k]!;
    wSum += w;
    ll += w * (lgamma(r + x) - lgR + r * logAlpha + lgAB + lgamma(b + x) - lgB - lgamma(a + b + x));
    logBX[k] = x > 0 ? Math.log(b + x - 1) : 0;
    invBX[k] = x > 0 ? 1 / (b + x - 1) : 0;
    const psiABX = digamma(a + b + x);
    const triABX = trigamma(a + b + x);
    gR += w * (digamma(r + x) - psiR + logAlpha);
    gA += w * (psiAB - psiABX);
    gB += w * (psiAB + digamma(b + x) - psiB - psiABX);
    hRR += w * (trigamma(r + x) - triR);
    hAA += w * (triAB - triABX);
    hBB += w * (triAB + trigamma(b + x) - triB - triABX);
  }
  gAlpha += (wSum * r) / alpha;
  let hRAlpha = wSum / alpha;
  let hAlphaAlpha = (-wSum * r) / (alpha * alpha);
  let hAB = hAA;

  const Tv = idx.T.values;
  const txv = idx.recency.values;
  const logAT = new Float64Array(Tv.length);
  const invAT = new Float64Array(Tv.length);
  const logAtx = new Float64Array(txv.length);
  const invAtx = new Float64Array(txv.length);
  for (let j = 0; j < Tv.length; j++) {
    logAT[j] = Math.log(alpha + Tv[j]!);
    invAT[j] = 1 / (alpha + Tv[j]!);
  }
  for (let j = 0; j < txv.length; j++) {
    logAtx[j] = Math.log(alpha + txv[j]!);
    invAtx[j] = 1 / (alpha + txv[j]!);
  }
  // Row sums; q = w·π(1−π), δ = (lT − lt, rx·(iT − it), 1/a, −ib).
  let sRAlpha1 = 0; // Σ w((1−π)iT + π·it)
  let sAlphaAlpha1 = 0; // Σ w·rx((1−π)iT² + π·it²)
  let sRR = 0; // Σ q·δr²
  let sRAlpha2 = 0; // Σ q·δr·δα
  let sAlphaAlpha2 = 0; // Σ q·δα²
  let sRa = 0; // Σ q·δr
  let sRb = 0; // Σ q·δr·ib
  let sAlphaA = 0; // Σ q·δα
  let sAlphaB = 0; // Σ q·δα·ib
  let sAA = 0; // Σ w·π²
  let sAB = 0; // Σ q·ib
  let sBB = 0; // Σ w·π(2−π)·ib²
  let sPi = 0; // Σ w·π
  let sPiB = 0; // Σ w·π·ib
  const xOf = idx.x.indexOf;
  const TOf = idx.T.indexOf;
  const txOf = idx.recency.indexOf;
  const weight = data.weight;
  const freq = data.frequency;
  for (let i = 0; i < idx.rows; i++) {
    const w = weight[i]!;
    const x = freq[i]!;
    const rx = r + x;
    const jT = TOf[i]!;
    const lT = logAT[jT]!;
    const iT = invAT[jT]!;
    const A3 = -rx * lT;
    if (x === 0) {
      ll += w * A3;
      gR -= w * lT;
      gAlpha -= w * rx * iT;
      sRAlpha1 += w * iT;
      sAlphaAlpha1 += w * rx * iT * iT;
      continue;
    }
    const k = xOf[i]!;
    const jt = txOf[i]!;
    const lt = logAtx[jt]!;
    const it = invAtx[jt]!;
    const ib = invBX[k]!;
    const A4 = logA - logBX[k]! - rx * lt;
    const d = A4 - A3;
    const e = Math.exp(-Math.abs(d));
    const l = Math.log(1 + e);
    ll += w * (d > 0 ? A4 + l : A3 + l);
    const pi = d > 0 ? 1 / (1 + e) : e / (1 + e);
    const pi1 = 1 - pi;
    gR -= w * (pi1 * lT + pi * lt);
    gAlpha -= w * rx * (pi1 * iT + pi * it);
    sPi += w * pi;
    sPiB += w * pi * ib;
    sRAlpha1 += w * (pi1 * iT + pi * it);
    sAlphaAlpha1 += w * rx * (pi1 * iT * iT + pi * it * it);
    const q = w * pi * pi1;
    const dr = lT - lt;
    const da = rx * (iT - it);
    const qdr = q * dr;
    const qda = q * da;
    sRR += qdr * dr;
    sRAlpha2 += qdr * da;
    sAlphaAlpha2 += qda * da;
    sRa += qdr;
    sRb += qdr * ib;
    sAlphaA += qda;
    sAlphaB += qda * ib;
    sAA += w * pi * pi;
    sAB += q * ib;
    sBB += w * pi * (1 + pi1) * ib * ib;
  }
  gA += sPi / a;
  gB -= sPiB;
  hRR += sRR;
  hRAlpha += -sRAlpha1 + sRAlpha2;
  hAlphaAlpha += sAlphaAlpha1 + sAlphaAlpha2;
  const hRA = sRa / a;
  const hRB = -sRb;
  const hAlphaA = sAlphaA / a;
  const hAlphaB = -sAlphaB;
  hAA -= sAA / (a * a);
  hAB -= sAB / a;
  hBB += sBB;
  grad[0] = gR;
  grad[1] = gAlpha;
  grad[2] = gA;
  grad[3] = gB;
  const H = [
    [hRR, hRAlpha, hRA, hRB],
    [hRAlpha, hAlphaAlpha, hAlphaA, hAlphaB],
    [hRA, hAlphaA, hAA, hAB],
    [hRB, hAlphaB, hAB, hBB],
  ];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) hess[i * 4 + j] = H[i]![j]!;
  return { ll, grad, hess };
}

/** Mean inter-purchase-scale starting point: r = 1, α = mean T, a = b = 1 (all on the data's time scale). */
function startingValues(idx: RfIndex): number[] {
  let sumT = 0;
  for (let i = 0; i < idx.rows; i++) sumT += idx.data.T[i]! * idx.data.weight[i]!;
  const meanT = Math.max(sumT / idx.totalWeight, 1e-6);
  return [1, meanT, 1, 1];
}

/** Every k-th row (weights kept), as a cheap warm-start sample of a large compressed data set. */
function sampleRows(data: RfData, k: number): RfData {
  const n = Math.ceil(data.frequency.length / k);
  const pick = (col: Float64Array) => {
    const out = new Float64Array(n);
    for (let i = 0, j = 0; j < n; i += k, j++) out[j] = col[i]!;
    return out;
  };
  return {
    frequency: pick(data.frequency),
    recency: pick(data.recency),
    T: pick(data.T),
    weight: pick(data.weight),
  };
}

/** Rows above which the Newton fit is warm-started from a fit on a systematic sample. */
const WARM_START_ROWS = 100_000;

/**
 * Maximum-likelihood fit of the BG/NBD on (compressed) RF data: damped Newton with the analytic Hessian
 * (warm-started from a systematic sample on large inputs, so the full data is passed a few times only),
 * falling back to L-BFGS if Newton does not converge.
 */
export function fitBgNbd(data: RfData, options: { warmStart?: boolean } = {}): FitResult<BgNbdParams> {
  assertRfData(data.frequency, data.recency, data.T, data.weight);
  const idx = indexRf(data);
  const names = ['r', 'alpha', 'a', 'b'] as const;
  let start = startingValues(idx);
  let warmStarted = false;
  if ((options.warmStart ?? true) && idx.rows > WARM_START_ROWS) {
    const sub = indexRf(sampleRows(data, Math.floor(idx.rows / (WARM_START_ROWS / 4))));
    const warm = fitNewtonMle({
      names,
      start,
      totalWeight: sub.totalWeight,
      evaluate: (p) => bgNbdLogLikelihoodHessian(p, sub),
      gradientTolerance: 1e-6,
    });
    if (warm) {
      start = [warm.params.r, warm.params.alpha, warm.params.a, warm.params.b];
      warmStarted = true;
    }
  }
  const newton = fitNewtonMle({
    names,
    start,
    totalWeight: idx.totalWeight,
    evaluate: (p) => bgNbdLogLikelihoodHessian(p, idx),
    ...(warmStarted ? { initialDamping: 1e-9 } : {}),
  });
  if (newton) return newton;
  return fitMaximumLikelihood({
    names,
    start: startingValues(idx),
    totalWeight: idx.totalWeight,
    logLikelihood: (p, grad) => bgNbdLogLikelihood(p, idx, grad),
    analyticGradient: true,
  });
}

/** Per-customer log-likelihood ln L(r, α, a, b | x, t_x, T) (FHL 2005 eq. 6). */
export function bgNbdIndividualLogLikelihood(p: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  const A12 =
    lgamma(r + x) -
    lgamma(r) +
    r * Math.log(alpha) +
    lgamma(a + b) +
    lgamma(b + x) -
    lgamma(b) -
    lgamma(a + b + x);
  const A3 = -(r + x) * Math.log(alpha + T);
  if (x === 0) return A12 + A3;
  const A4 = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  const m = Math.max(A3, A4);
  return A12 + m + Math.log(Math.exp(A3 - m) + Math.exp(A4 - m));
}

/**
 * c·[1 − (1−z)^m·₂F₁(m, β; c; z)] for c > −1, the bracket of FHL 2005 eqs. 9–10 times its prefactor
 * c = a + b + x − 1. For x = 0 and a + b < 1, c is ≤ 0 where ₂F₁ alone is undefined or has a pole, yet
 * the product is finite: with c·(c)ₖ⁻¹ = 1/(c+1)ₖ₋₁ the series c·₂F₁ = c + Σₖ≥₁ (m)ₖ(β)ₖzᵏ/((c+1)ₖ₋₁k!)
 * has no pole (its terms are positive), so small c uses it.
 */
function scaledComplement(m: number, beta: number, c: number, z: number): number {
  const logW = m * Math.log1p(-z);
  if (c >= 0.5) return c * -Math.expm1(logHyp2f1(m, beta, c, z) + logW);
  let term = m * beta * z;
  let sum = term;
  for (let k = 1; k < 1_000_000 && term > 1e-17 * sum; k++) {
    term *= ((m + k) * (beta + k) * z) / ((c + k) * (k + 1));
    sum += term;
  }
  return c * -Math.expm1(logW) - Math.exp(logW) * sum;
}

/** E[X(t)] for a randomly chosen new customer (FHL 2005 eq. 9). */
export function bgNbdExpectedPurchases(p: BgNbdParams, t: number): number {
  const { r, alpha, a, b } = p;
  if (t <= 0) return 0;
  return scaledComplement(r, b, a + b - 1, t / (alpha + t)) / (a - 1);
}

/** P(alive | x, t_x, T) (Fader, Hardie & Lee 2008, note 021, eq. 2). */
export function bgNbdProbabilityAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = p;
  const logOdds = Math.log(a / (b + x - 1)) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return sigmoid(-logOdds);
}

/**
 * E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (FHL 2005 eq. 10). The product
 * ((α+T)/(α+T+t))^{r+x}·₂F₁(r+x, b+x; a+b+x−1; z) is formed in logs so x in the hundreds stays finite.
 */
export function bgNbdConditionalExpectedPurchases(
  p: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  const { r, alpha, a, b } = p;
  if (t <= 0) return 0;
  const z = t / (alpha + T + t);
  const numerator = scaledComplement(r + x, b + x, a + b + x - 1, z) / (a - 1);
  return numerator * bgNbdProbabilityAlive(p, x, tx, T);
}

/**
 * Median time from T to the next purchase: given alive, λ | history ~ Gamma(r + x, α + T) (FHL 2005 §5),
 * so P(next purchase within t | alive) = 1 − ((α+T)/(α+T+t))^{r+x}; solve P(alive)·that = 1/2.
 */
export function bgNbdMedianTimeToNextPurchase(
  p: BgNbdParams,
  x: number,
  tx: number,
  T: number,
): number | null {
  const pAlive = bgNbdProbabilityAlive(p, x, tx, T);
  if (!(pAlive > 0.5)) return null;
  const { r, alpha } = p;
  return (alpha + T) * Math.expm1(-Math.log1p(-0.5 / pAlive) / (r + x));
}

/** The BG/NBD as a TransactionModel for CLV and validation. */
export function bgNbdModel(p: BgNbdParams): TransactionModel {
  return {
    expectedPurchases: (t) => bgNbdExpectedPurchases(p, t),
    conditionalExpectedPurchases: (t, x, tx, T) => bgNbdConditionalExpectedPurchases(p, t, x, tx, T),
    probabilityAlive: (x, tx, T) => bgNbdProbabilityAlive(p, x, tx, T),
    medianTimeToNextPurchase: (x, tx, T) => bgNbdMedianTimeToNextPurchase(p, x, tx, T),
  };
}
