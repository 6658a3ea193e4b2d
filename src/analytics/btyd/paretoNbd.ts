/**
 * Pareto/NBD model: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and
 * What Will They Do Next?", Management Science 33(1); likelihood and predictions as in Fader & Hardie
 * (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions" (note 009).
 *
 * Speed: the likelihood's A₀ term (note 009 eqs. 19–20) is a difference F(x, t_x) − F(x, T) of one
 * tail integral F(x, y) = ∫_y^∞ (α+u)^{−(r+x)} (β+u)^{−(s+1)} du, so each evaluation computes ₂F₁ once
 * per distinct (x, t_x) and (x, T) pair rather than twice per customer.
 */
import { assertRfData, fitMaximumLikelihood, type FitResult, type TransactionModel } from './model.js';
import { digamma, lgamma, logAddExp, logHyp2f1A1, logHyp2f1A1Grad, logSubExp, sigmoid } from './special.js';
import { groupRows, indexRf, type RfData, type RfIndex } from './summary.js';

export interface ParetoNbdParams extends Record<string, number> {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

/**
 * ln ∫_y^∞ (α+u)^{−k} (β+u)^{−m} du for k, m > 0, by ₂F₁(k+m−1, ·; k+m; z) with 0 ≤ z < 1 taken
 * about whichever of α, β is larger (note 009 eqs. 19–20 for k = r+x, m = s+1).
 */
export function logTailIntegral(k: number, m: number, y: number, alpha: number, beta: number): number {
  const c = k + m - 1;
  if (alpha >= beta) {
    return -c * Math.log(alpha + y) - Math.log(c) + logHyp2f1A1(c, m, (alpha - beta) / (alpha + y));
  }
  return -c * Math.log(beta + y) - Math.log(c) + logHyp2f1A1(c, k, (beta - alpha) / (beta + y));
}

const hyperGrad = new Float64Array(3);

/**
 * logTailIntegral and its partial derivatives d[0..3] = ∂/∂k, ∂/∂m, ∂/∂α, ∂/∂β of ln F, from one
 * series pass: with F = (α+y)^{−c}/c · ₂F₁(c, m; c+1; z), c = k+m−1, z = (α−β)/(α+y) (α ≥ β; the
 * roles of α, k and β, m swap otherwise), the chain rule needs only ∂₂F₁/∂c, ∂/∂m and ∂/∂z.
 */
export function logTailIntegralGrad(
  k: number,
  m: number,
  y: number,
  alpha: number,
  beta: number,
  d: Float64Array,
): number {
  const c = k + m - 1;
  const h = hyperGrad;
  const big = alpha >= beta ? alpha + y : beta + y;
  const small = alpha >= beta ? beta + y : alpha + y;
  const z = (big - small) / big;
  const L = logHyp2f1A1Grad(c, alpha >= beta ? m : k, z, h);
  const logBig = Math.log(big);
  const common = -logBig - 1 / c + h[0]!;
  // ∂ln F/∂(larger scale) = −c/big + L_z·(small)/big²; ∂/∂(smaller scale) = −L_z/big.
  const dBig = -c / big + (h[2]! * small) / (big * big);
  const dSmall = -h[2]! / big;
  if (alpha >= beta) {
    d[0] = common;
    d[1] = common + h[1]!;
    d[2] = dBig;
    d[3] = dSmall;
  } else {
    d[0] = common + h[1]!;
    d[1] = common;
    d[2] = dSmall;
    d[3] = dBig;
  }
  return -c * logBig - Math.log(c) + L;
}

/** The (x, y) pairs whose tail integrals one likelihood evaluation needs, and each row's two pair ids. */
export interface ParetoNbdIndex extends RfIndex {
  pairX: Float64Array;
  pairY: Float64Array;
  recencyPair: Int32Array;
  agePair: Int32Array;
}

/** Builds the pair index over compressed RF rows (done once per fit). */
export function indexParetoNbd(data: RfData): ParetoNbdIndex {
  const base = indexRf(data);
  const n = base.rows;
  const px = new Float64Array(2 * n);
  const py = new Float64Array(2 * n);
  px.set(data.frequency, 0);
  px.set(data.frequency, n);
  py.set(data.recency, 0);
  py.set(data.T, n);
  const g = groupRows(px, py);
  const pairX = new Float64Array(g.groups);
  const pairY = new Float64Array(g.groups);
  for (let k = 0; k < g.groups; k++) {
    pairX[k] = px[g.firstRow[k]!]!;
    pairY[k] = py[g.firstRow[k]!]!;
  }
  return { ...base, pairX, pairY, recencyPair: g.groupOf.subarray(0, n), agePair: g.groupOf.subarray(n) };
}

/**
 * Total log-likelihood Σ w·ln L(r, α, s, β | x, t_x, T) (note 009 eq. 18) and, when `grad` is given,
 * its gradient. With F = F(k, m, y), k = r+x, m = s+1, ∂ln F/∂(r, s, α, β) come from the same ₂F₁
 * pass as ln F (logTailIntegralGrad), once per distinct pair; the per-customer pass runs once.
 */
export function paretoNbdLogLikelihood(
  params: ArrayLike<number>,
  idx: ParetoNbdIndex,
  grad?: Float64Array,
): number {
  const r = params[0]!;
  const alpha = params[1]!;
  const s = params[2]!;
  const beta = params[3]!;
  if (!(r > 0 && alpha > 0 && s > 0 && beta > 0)) return -Infinity;
  const nPairs = idx.pairX.length;
  const logF = new Float64Array(nPairs);
  const dR = grad ? new Float64Array(nPairs) : logF;
  const dA = grad ? new Float64Array(nPairs) : logF;
  const dS = grad ? new Float64Array(nPairs) : logF;
  const dB = grad ? new Float64Array(nPairs) : logF;
  const m = s + 1;
  const d = new Float64Array(4);
  for (let k = 0; k < nPairs; k++) {
    const kk = r + idx.pairX[k]!;
    const y = idx.pairY[k]!;
    const v = grad ? logTailIntegralGrad(kk, m, y, alpha, beta, d) : logTailIntegral(kk, m, y, alpha, beta);
    if (Number.isNaN(v)) return NaN;
    logF[k] = v;
    if (grad) {
      dR[k] = d[0]!;
      dS[k] = d[1]!;
      dA[k] = d[2]!;
      dB[k] = d[3]!;
    }
  }
  const xs = idx.x.values;
  const lgR = lgamma(r);
  const logAlpha = Math.log(alpha);
  const logBeta = Math.log(beta);
  const head = r * logAlpha + s * logBeta - lgR;
  let ll = 0;
  let gR = 0;
  let gAlpha = 0;
  let gS = 0;
  let gBeta = 0;
  const psiR = grad ? digamma(r) : 0;
  for (let k = 0; k < xs.length; k++) {
    const w = idx.weightByX[k]!;
    ll += w * (lgamma(r + xs[k]!) + head);
    if (grad) {
      gR += w * (digamma(r + xs[k]!) - psiR + logAlpha);
      gAlpha += (w * r) / alpha;
      gS += w * logBeta;
      gBeta += (w * s) / beta;
    }
  }
  const Tv = idx.T.values;
  const logAT = new Float64Array(Tv.length);
  const logBT = new Float64Array(Tv.length);
  for (let j = 0; j < Tv.length; j++) {
    logAT[j] = Math.log(alpha + Tv[j]!);
    logBT[j] = Math.log(beta + Tv[j]!);
  }
  const logS = Math.log(s);
  const { weight, frequency } = idx.data;
  const TOf = idx.T.indexOf;
  for (let i = 0; i < idx.rows; i++) {
    const j = TOf[i]!;
    const w = weight[i]!;
    const rx = r + frequency[i]!;
    const A = -rx * logAT[j]! - s * logBT[j]!;
    const p1 = idx.recencyPair[i]!;
    const p2 = idx.agePair[i]!;
    const lF1 = logF[p1]!;
    const lF2 = logF[p2]!;
    // B = ln s + ln(F₁ − F₂) and total = ln(e^A + e^B) with ρ = F₂/F₁ and e^{−|A−B|} computed once
    // each (they also give the gradient's ρ and π = e^B / e^total).
    const D = lF2 - lF1;
    let rho = 0;
    let B = -Infinity;
    if (D < 0) {
      rho = Math.exp(D);
      B = logS + lF1 + (D > -Math.LN2 ? Math.log(-Math.expm1(D)) : Math.log1p(-rho));
    } else if (lF1 !== lF2) return NaN; // F₂ > F₁ (t_x > T): not evaluable
    const diff = B - A;
    const e = Math.exp(-Math.abs(diff));
    const total = (diff > 0 ? B : A) + Math.log1p(e);
    ll += w * total;
    if (grad) {
      const pi = diff > 0 ? 1 / (1 + e) : e / (1 + e);
      const T = Tv[j]!;
      gR -= w * (1 - pi) * logAT[j]!;
      gAlpha -= (w * (1 - pi) * rx) / (alpha + T);
      gS -= w * (1 - pi) * logBT[j]!;
      gBeta -= (w * (1 - pi) * s) / (beta + T);
      if (pi > 0) {
        // ∂ ln(F₁ − F₂) = (∂lnF₁ − ρ ∂lnF₂)/(1 − ρ), ρ = F₂/F₁ ∈ [0, 1).
        const inv = 1 / (1 - rho);
        const wp = w * pi;
        gR += wp * (dR[p1]! - rho * dR[p2]!) * inv;
        gAlpha += wp * (dA[p1]! - rho * dA[p2]!) * inv;
        gS += wp * (1 / s + (dS[p1]! - rho * dS[p2]!) * inv);
        gBeta += wp * (dB[p1]! - rho * dB[p2]!) * inv;
      }
    }
  }
  if (grad) {
    grad[0] = gR;
    grad[1] = gAlpha;
    grad[2] = gS;
    grad[3] = gBeta;
  }
  return ll;
}

/** Per-customer ln L (note 009 eq. 18). */
export function paretoNbdIndividualLogLikelihood(
  p: ParetoNbdParams,
  x: number,
  tx: number,
  T: number,
): number {
  const { r, alpha, s, beta } = p;
  const first = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  const logA0 = logSubExp(
    logTailIntegral(r + x, s + 1, tx, alpha, beta),
    logTailIntegral(r + x, s + 1, T, alpha, beta),
  );
  return (
    lgamma(r + x) -
    lgamma(r) +
    r * Math.log(alpha) +
    s * Math.log(beta) +
    logAddExp(first, Math.log(s) + logA0)
  );
}

/** Maximum-likelihood fit of the Pareto/NBD. */
export function fitParetoNbd(data: RfData): FitResult<ParetoNbdParams> {
  assertRfData(data.frequency, data.recency, data.T, data.weight);
  const idx = indexParetoNbd(data);
  let sumT = 0;
  for (let i = 0; i < idx.rows; i++) sumT += data.T[i]! * data.weight[i]!;
  const meanT = Math.max(sumT / idx.totalWeight, 1e-6);
  return fitMaximumLikelihood({
    names: ['r', 'alpha', 's', 'beta'] as const,
    start: [1, meanT, 1, meanT],
    totalWeight: idx.totalWeight,
    logLikelihood: (p, grad) => paretoNbdLogLikelihood(p, idx, grad),
    analyticGradient: true,
  });
}

/** P(alive | x, t_x, T) (note 009 eq. 36 with A₀ of eqs. 19–20). */
export function paretoNbdProbabilityAlive(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  const logA0 = logSubExp(
    logTailIntegral(r + x, s + 1, tx, alpha, beta),
    logTailIntegral(r + x, s + 1, T, alpha, beta),
  );
  return sigmoid(-(Math.log(s) + (r + x) * Math.log(alpha + T) + s * Math.log(beta + T) + logA0));
}

/** (1 − (β+T)/(β+T+t))^{s−1})/(s − 1), continuous through s = 1 (where it is ln((β+T+t)/(β+T))). */
function survivalIntegralFactor(s: number, base: number, t: number): number {
  const L = Math.log1p(t / base);
  const e = (s - 1) * L;
  return Math.abs(e) < 1e-12 ? L : -Math.expm1(-e) / (s - 1);
}

/** E[X(t)] for a new customer (note 009 eq. 27). */
export function paretoNbdExpectedPurchases(p: ParetoNbdParams, t: number): number {
  const { r, alpha, s, beta } = p;
  if (t <= 0) return 0;
  return ((r * beta) / alpha) * survivalIntegralFactor(s, beta, t);
}

/** E[Y(t) | x, t_x, T] (note 009 eq. 41): P(alive)·(r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^{s−1}]. */
export function paretoNbdConditionalExpectedPurchases(
  p: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  const { r, alpha, s, beta } = p;
  if (t <= 0) return 0;
  return (
    paretoNbdProbabilityAlive(p, x, tx, T) *
    ((r + x) / (alpha + T)) *
    (beta + T) *
    survivalIntegralFactor(s, beta + T, t)
  );
}

/**
 * Median time from T to the next purchase. Given alive, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T)
 * (note 009 §5); the first purchase density at T+u is E[λe^{−(λ+μ)u}], whose integral over (0, t] is
 * (r+x)(α+T)^{r+x}(β+T)^s [G(T) − G(T+t)], G(y) = ∫_y^∞ (α+v)^{−(r+x+1)}(β+v)^{−s} dv. Solved by bisection.
 */
export function paretoNbdMedianTimeToNextPurchase(
  p: ParetoNbdParams,
  x: number,
  tx: number,
  T: number,
): number | null {
  const { r, alpha, s, beta } = p;
  const pAlive = paretoNbdProbabilityAlive(p, x, tx, T);
  const k = r + x + 1;
  const logScale = Math.log(r + x) + (r + x) * Math.log(alpha + T) + s * Math.log(beta + T);
  const logGT = logTailIntegral(k, s, T, alpha, beta);
  const probWithin = (t: number) =>
    pAlive * Math.exp(logScale + logSubExp(logGT, logTailIntegral(k, s, T + t, alpha, beta)));
  const ever = pAlive * Math.exp(logScale + logGT);
  if (!(ever > 0.5)) return null;
  let lo = 0;
  let hi = Math.max(alpha + T, 1);
  while (probWithin(hi) < 0.5 && hi < 1e15) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (probWithin(mid) < 0.5) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The Pareto/NBD as a TransactionModel for CLV and validation. */
export function paretoNbdModel(p: ParetoNbdParams): TransactionModel {
  return {
    expectedPurchases: (t) => paretoNbdExpectedPurchases(p, t),
    conditionalExpectedPurchases: (t, x, tx, T) => paretoNbdConditionalExpectedPurchases(p, t, x, tx, T),
    probabilityAlive: (x, tx, T) => paretoNbdProbabilityAlive(p, x, tx, T),
    medianTimeToNextPurchase: (x, tx, T) => paretoNbdMedianTimeToNextPurchase(p, x, tx, T),
  };
}
