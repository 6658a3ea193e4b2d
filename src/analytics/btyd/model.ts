/**
 * What every BTYD model shares: the fit result shape, maximum-likelihood fitting on log-parameters,
 * and standard errors from the observed information (inverse numerical Hessian of −LL).
 */
import { invalid } from '../../shared/errors.js';
import {
  invertMatrix,
  minimizeLbfgs,
  minimizeNelderMead,
  numericHessian,
  withNumericGradient,
  type ObjectiveWithGradient,
} from './optimize.js';

/** A fitted model: parameters by the papers' names, the maximised log-likelihood and diagnostics. */
export interface FitResult<P extends Record<string, number>> {
  params: P;
  logLikelihood: number;
  /** Customers the fit used (Σ weights). */
  customers: number;
  /** Standard errors from the observed information; null if the Hessian is not positive definite. */
  standardErrors: P | null;
  /** 95% Wald intervals, params ± 1.96·SE. */
  confidenceIntervals: { [K in keyof P]: [number, number] } | null;
  converged: boolean;
  iterations: number;
  evaluations: number;
  /**
   * Parameters that ran off towards 0 or ∞ (over 10⁴ × or ÷ their start; the optimiser stops them at
   * 10⁶): the data do not identify them — e.g. `a` → 0 in a BG/NBD means no visible dropout.
   */
  runaway: string[];
}

/** A transaction (purchase-count) model's predictions for one customer history. */
export interface TransactionModel {
  /** E[X(t)]: expected repeat purchases in (0, t] for a new customer. */
  expectedPurchases(t: number): number;
  /** E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]. */
  conditionalExpectedPurchases(t: number, frequency: number, recency: number, T: number): number;
  /** P(alive at T | x, t_x, T). */
  probabilityAlive(frequency: number, recency: number, T: number): number;
  /**
   * Time from T until the next purchase becomes more likely than not (the median of the time to the
   * next purchase); null when P(any further purchase) ≤ 1/2.
   */
  medianTimeToNextPurchase(frequency: number, recency: number, T: number): number | null;
}

/**
 * Standard errors from the observed information (the inverse of −H, the Hessian of −LL at the
 * optimum, in the natural parameters) and 95% Wald intervals; both null unless every variance is
 * positive and finite.
 */
export function waldIntervals<N extends string>(
  names: readonly N[],
  best: ArrayLike<number>,
  negHessian: number[][],
): Pick<FitResult<Record<N, number>>, 'standardErrors' | 'confidenceIntervals'> {
  const cov = invertMatrix(negHessian);
  if (!cov || !cov.every((row, i) => row[i]! > 0 && Number.isFinite(row[i]!)))
    return { standardErrors: null, confidenceIntervals: null };
  const se = cov.map((row, i) => Math.sqrt(row[i]!));
  return {
    standardErrors: Object.fromEntries(names.map((k, i) => [k, se[i]!])) as Record<N, number>,
    confidenceIntervals: Object.fromEntries(
      names.map((k, i) => [k, [best[i]! - 1.96 * se[i]!, best[i]! + 1.96 * se[i]!]]),
    ) as Record<N, [number, number]>,
  };
}

export interface MleSpec<N extends string> {
  names: readonly N[];
  /** Starting values on the natural scale (all > 0). */
  start: readonly number[];
  /** Σ weights: the objective is −LL / totalWeight so tolerances do not depend on sample size. */
  totalWeight: number;
  /** Total log-likelihood at natural parameters; when `grad` is given also fills ∂LL/∂params. */
  logLikelihood: (params: Float64Array, grad?: Float64Array) => number;
  /** Whether `logLikelihood` fills the gradient; otherwise central differences are used. */
  analyticGradient: boolean;
  maxIterations?: number;
}

/**
 * How far (in e-folds) a parameter may move from its starting value: 10⁶ either way. When the data
 * do not identify a model (e.g. nobody drops out, or every customer buys at the same rate) the
 * likelihood keeps rising towards a limit at infinity; unbounded, the optimiser follows it until
 * lgamma differences of huge arguments cancel catastrophically and the "log-likelihood" turns into
 * positive garbage. Within 10⁶ of a data-scaled start those differences stay accurate to ~1e-9.
 */
export const LOG_PARAM_RANGE = Math.log(1e6);

/**
 * Parameters more than 10⁴ × or ÷ their start are reported as running off to 0 or ∞: on a flat ridge
 * towards the limit the optimiser stops short of the bound itself. Identified fits land within ~10²
 * of the data-scaled start (CDNOW: 7×).
 */
const RUNAWAY = Math.log(1e4);

/**
 * Maximises LL over positive parameters by L-BFGS on φ, where ln(param) = ln(start) + R·tanh(φ/R)
 * (R = LOG_PARAM_RANGE: the identity near the start, bounded far from it), polishing with
 * Nelder–Mead if needed. Parameters that ran off towards 0 or ∞ are listed in `runaway`.
 */
export function fitMaximumLikelihood<N extends string>(spec: MleSpec<N>): FitResult<Record<N, number>> {
  const n = spec.names.length;
  const W = spec.totalWeight;
  const R = LOG_PARAM_RANGE;
  const center = spec.start.map((v) => Math.log(v));
  const params = new Float64Array(n);
  const slope = new Float64Array(n); // d ln(param) / dφ
  const gradP = new Float64Array(n);
  const toParams = (phi: ArrayLike<number>) => {
    for (let i = 0; i < n; i++) {
      const t = Math.tanh(phi[i]! / R);
      params[i] = Math.exp(center[i]! + R * t);
      slope[i] = 1 - t * t;
    }
    return params;
  };
  const objective = (phi: Float64Array) => {
    const ll = spec.logLikelihood(toParams(phi));
    return Number.isFinite(ll) ? -ll / W : Infinity;
  };
  const fg: ObjectiveWithGradient = spec.analyticGradient
    ? (phi, grad) => {
        const p = toParams(phi);
        const ll = spec.logLikelihood(p, gradP);
        if (!Number.isFinite(ll)) return Infinity;
        for (let i = 0; i < n; i++) grad[i] = (-gradP[i]! * p[i]! * slope[i]!) / W;
        return -ll / W;
      }
    : withNumericGradient(objective, 1e-6);

  const theta0 = new Array<number>(n).fill(0);
  let res = minimizeLbfgs(fg, theta0, { maxIterations: spec.maxIterations ?? 1000, gradientTolerance: 1e-9 });
  let iterations = res.iterations;
  let evaluations = res.evaluations;
  if (!res.converged || !Number.isFinite(res.fx)) {
    const nm = minimizeNelderMead(objective, Number.isFinite(res.fx) ? res.x : theta0, {
      maxEvaluations: 3000 * n,
    });
    const polish = minimizeLbfgs(fg, nm.x, {
      maxIterations: spec.maxIterations ?? 1000,
      gradientTolerance: 1e-9,
    });
    iterations += nm.iterations + polish.iterations;
    evaluations += nm.evaluations + polish.evaluations;
    res = polish.fx <= nm.fx ? polish : { ...nm, converged: nm.converged };
  }

  const best = Float64Array.from(toParams(res.x));
  const runaway = spec.names.filter((_, i) => Math.abs(Math.tanh(res.x[i]! / R)) * R > RUNAWAY);
  const logLikelihood = spec.logLikelihood(Float64Array.from(best));
  const named = (v: ArrayLike<number>) =>
    Object.fromEntries(spec.names.map((k, i) => [k, v[i]!])) as Record<N, number>;

  // Observed information: Hessian of −LL in the natural parameters.
  const negLL = (p: Float64Array) => -spec.logLikelihood(p);
  const negLLGrad: ObjectiveWithGradient | undefined = spec.analyticGradient
    ? (p, grad) => {
        const ll = spec.logLikelihood(p, grad);
        for (let i = 0; i < n; i++) grad[i] = -grad[i]!;
        return -ll;
      }
    : undefined;
  const H = numericHessian(negLL, best, negLLGrad, spec.analyticGradient ? 1e-6 : 1e-3);
  return {
    params: named(best),
    logLikelihood,
    customers: W,
    ...waldIntervals(spec.names, best, H),
    converged: res.converged,
    iterations,
    evaluations,
    runaway,
  };
}

/** LL with its gradient and row-major Hessian in the natural parameters. */
export interface SecondOrderEvaluation {
  ll: number;
  grad: ArrayLike<number>;
  hess: ArrayLike<number>;
}

export interface NewtonSpec<N extends string> {
  names: readonly N[];
  /** Starting values on the natural scale (all > 0). */
  start: readonly number[];
  totalWeight: number;
  evaluate: (params: Float64Array) => SecondOrderEvaluation;
  maxIterations?: number;
  /** Stop when ‖∂(LL/W)/∂ln θ‖∞ is below this (as L-BFGS's gradient tolerance on −LL/W). */
  gradientTolerance?: number;
  /**
   * Initial Levenberg damping (relative to the Hessian's diagonal). Small from a warm start, where full
   * Newton steps converge quadratically; it grows ×10 whenever a step fails to increase LL.
   */
  initialDamping?: number;
}

/**
 * Maximises LL by Levenberg-damped Newton on θ = ln(params) with an analytic Hessian
 * (H_θ = D·H·D + diag(∇_θ), D = diag(params)); standard errors from the Hessian at the optimum, so no
 * extra passes. Returns null if it does not converge (the caller then falls back to L-BFGS).
 */
export function fitNewtonMle<N extends string>(spec: NewtonSpec<N>): FitResult<Record<N, number>> | null {
  const n = spec.names.length;
  const W = spec.totalWeight;
  const tol = spec.gradientTolerance ?? 1e-10;
  const maxIter = spec.maxIterations ?? 100;
  let theta = spec.start.map((v) => Math.log(v));
  const center = [...theta];
  const at = (t: number[]) => spec.evaluate(Float64Array.from(t, Math.exp));
  let cur = at(theta);
  let evaluations = 1;
  if (!Number.isFinite(cur.ll)) return null;
  let lambda = spec.initialDamping ?? 1e-3;
  let converged = false;
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    const P = theta.map(Math.exp);
    const g = P.map((p, i) => (cur.grad[i]! * p) / W);
    if (!g.every(Number.isFinite)) return null;
    if (Math.max(...g.map(Math.abs)) <= tol) {
      converged = true;
      break;
    }
    const negH = P.map((pi, i) =>
      P.map((pj, j) => (-(cur.hess[i * n + j]! * pi * pj) - (i === j ? g[i]! * W : 0)) / W),
    );
    let accepted = false;
    for (let attempt = 0; attempt < 40; attempt++) {
      const damped = negH.map((row, i) =>
        row.map((v, j) => v + (i === j ? lambda * (1 + Math.abs(negH[i]![i]!)) : 0)),
      );
      const inv = invertMatrix(damped);
      const step = inv ? inv.map((row) => row.reduce((s, v, j) => s + v * g[j]!, 0)) : null;
      if (step && step.every(Number.isFinite)) {
        const maxStep = Math.max(...step.map(Math.abs));
        const scale = maxStep > 5 ? 5 / maxStep : 1;
        const next = theta.map((t, i) => t + scale * step[i]!);
        // Heading for a limit at infinity (unidentified data): leave it to the bounded L-BFGS fit.
        if (next.some((t, i) => Math.abs(t - center[i]!) > LOG_PARAM_RANGE)) return null;
        const ev = at(next);
        evaluations++;
        if (Number.isFinite(ev.ll) && ev.ll >= cur.ll - 1e-12 * Math.abs(cur.ll)) {
          theta = next;
          cur = ev;
          lambda = Math.max(lambda / 10, 1e-12);
          accepted = true;
          break;
        }
      }
      lambda *= 10;
    }
    if (!accepted) break;
  }
  if (!converged) return null;
  const best = theta.map(Math.exp);
  const named = (v: ArrayLike<number>) =>
    Object.fromEntries(spec.names.map((k, i) => [k, v[i]!])) as Record<N, number>;
  const negH = best.map((_, i) => best.map((__, j) => -cur.hess[i * n + j]!));
  return {
    params: named(best),
    logLikelihood: cur.ll,
    customers: W,
    ...waldIntervals(spec.names, best, negH),
    converged,
    iterations,
    evaluations,
    runaway: [],
  };
}

/** Throws if a fit input is unusable (no rows, negative or non-finite values, recency > T). */
export function assertRfData(
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
  weight: Float64Array,
): void {
  const n = frequency.length;
  if (n === 0) throw invalid('no customers to fit');
  for (let i = 0; i < n; i++) {
    const x = frequency[i]!;
    const tx = recency[i]!;
    const t = T[i]!;
    if (!(x >= 0 && Number.isInteger(x))) throw invalid(`row ${i}: frequency must be a non-negative integer`);
    if (!(tx >= 0 && t >= 0 && Number.isFinite(t)))
      throw invalid(`row ${i}: recency and T must be finite and ≥ 0`);
    if (tx > t) throw invalid(`row ${i}: recency ${tx} exceeds T ${t}`);
    if (x === 0 && tx !== 0) throw invalid(`row ${i}: frequency 0 requires recency 0`);
    if (!(weight[i]! > 0)) throw invalid(`row ${i}: weight must be positive`);
  }
}
