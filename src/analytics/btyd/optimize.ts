/**
 * Unconstrained minimisers for maximum-likelihood fitting on log-parameters: L-BFGS with a
 * strong-Wolfe line search (Nocedal & Wright 2006, Alg. 7.4 and 3.5/3.6) and Nelder–Mead
 * (Gao & Han 2012 adaptive coefficients), plus finite-difference gradients and Hessians for
 * standard errors (observed information).
 */

/** f(x) that also writes ∇f(x) into `grad`. Non-finite f means "outside the feasible region". */
export type ObjectiveWithGradient = (x: Float64Array, grad: Float64Array) => number;
/** f(x) only. */
export type Objective = (x: Float64Array) => number;

export interface MinimizeResult {
  x: Float64Array;
  fx: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  message: string;
}

export interface LbfgsOptions {
  /** Stop when ‖∇f‖∞ ≤ gradientTolerance. */
  gradientTolerance?: number;
  /** Stop when the relative decrease of f over one iteration is below this. */
  functionTolerance?: number;
  maxIterations?: number;
  /** Number of correction pairs kept. */
  memory?: number;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Limited-memory BFGS (Nocedal & Wright, Alg. 7.4 two-loop recursion, 7.5 outer loop). */
export function minimizeLbfgs(
  fg: ObjectiveWithGradient,
  x0: ArrayLike<number>,
  options: LbfgsOptions = {},
): MinimizeResult {
  const n = x0.length;
  const gtol = options.gradientTolerance ?? 1e-9;
  const ftol = options.functionTolerance ?? 1e-15;
  const maxIter = options.maxIterations ?? 1000;
  const m = options.memory ?? 10;

  let x: Float64Array = Float64Array.from(x0);
  let g: Float64Array = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  if (!Number.isFinite(f)) {
    return {
      x,
      fx: f,
      iterations: 0,
      evaluations,
      converged: false,
      message: 'objective not finite at start',
    };
  }
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rhoList: number[] = [];
  const d = new Float64Array(n);
  const alphaTmp = new Float64Array(m);
  let smallDecreases = 0;

  for (let iter = 1; iter <= maxIter; iter++) {
    if (normInf(g) <= gtol)
      return {
        x,
        fx: f,
        iterations: iter - 1,
        evaluations,
        converged: true,
        message: 'gradient tolerance reached',
      };

    // Two-loop recursion: d = −H∇f.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    const k = sList.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rhoList[j]! * dot(sList[j]!, d);
      alphaTmp[j] = a;
      const y = yList[j]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * y[i]!;
    }
    if (k > 0) {
      const gamma = dot(sList[k - 1]!, yList[k - 1]!) / dot(yList[k - 1]!, yList[k - 1]!);
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    }
    for (let j = 0; j < k; j++) {
      const b = rhoList[j]! * dot(yList[j]!, d);
      const s = sList[j]!;
      const a = alphaTmp[j]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! + (a - b) * s[i]!;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      sList.length = yList.length = rhoList.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    // The quasi-Newton step predicts a decrease of about −slope; below rounding of f there is nothing to gain.
    if (k > 0 && -slope <= 1e-14 * Math.max(1, Math.abs(f)))
      return {
        x,
        fx: f,
        iterations: iter,
        evaluations,
        converged: true,
        message: 'predicted decrease below rounding',
      };
    const initialStep = k === 0 ? Math.min(1, 1 / Math.max(normInf(g), 1e-12)) : 1;
    const ls = strongWolfe(fg, x, f, g, d, slope, initialStep);
    evaluations += ls.evaluations;
    if (!ls.ok) {
      // No decrease along a descent direction with a near-zero gradient: f is flat to rounding noise.
      if (normInf(g) <= gtol * 1e3)
        return {
          x,
          fx: f,
          iterations: iter,
          evaluations,
          converged: true,
          message: 'no further decrease (flat to rounding)',
        };
      if (k > 0) {
        sList.length = yList.length = rhoList.length = 0;
        continue;
      }
      return {
        x,
        fx: f,
        iterations: iter,
        evaluations,
        converged: normInf(g) <= gtol * 1e3,
        message: 'line search failed',
      };
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = ls.x[i]! - x[i]!;
      y[i] = ls.g[i]! - g[i]!;
    }
    const sy = dot(s, y);
    const fPrev = f;
    x = ls.x;
    g = ls.g;
    f = ls.f;
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (sList.length === m) {
        sList.shift();
        yList.shift();
        rhoList.shift();
      }
      sList.push(s);
      yList.push(y);
      rhoList.push(1 / sy);
    }
    if ((fPrev - f) / Math.max(Math.abs(f), Math.abs(fPrev), 1) <= ftol) {
      if (++smallDecreases >= 3)
        return {
          x,
          fx: f,
          iterations: iter,
          evaluations,
          converged: true,
          message: 'function tolerance reached',
        };
    } else smallDecreases = 0;
  }
  return {
    x,
    fx: f,
    iterations: maxIter,
    evaluations,
    converged: normInf(g) <= gtol * 1e3,
    message: 'iteration limit',
  };
}

interface LineSearchResult {
  ok: boolean;
  x: Float64Array;
  f: number;
  g: Float64Array;
  evaluations: number;
}

/** Strong-Wolfe line search with cubic interpolation (Nocedal & Wright, Alg. 3.5 and zoom, Alg. 3.6). */
function strongWolfe(
  fg: ObjectiveWithGradient,
  x: Float64Array,
  f0: number,
  g0: Float64Array,
  d: Float64Array,
  slope0: number,
  step0: number,
): LineSearchResult {
  const c1 = 1e-4;
  const c2 = 0.9;
  const n = x.length;
  const dMax = normInf(d);
  const xMax = Math.max(1, normInf(x));
  let evaluations = 0;
  const eval_ = (t: number) => {
    const xt = new Float64Array(n);
    for (let i = 0; i < n; i++) xt[i] = x[i]! + t * d[i]!;
    const gt = new Float64Array(n);
    evaluations++;
    let ft = fg(xt, gt);
    if (Number.isNaN(ft)) ft = Infinity;
    return { t, x: xt, f: ft, g: gt, slope: Number.isFinite(ft) ? dot(gt, d) : NaN };
  };
  type Pt = ReturnType<typeof eval_>;
  const interpolate = (
    lo: { t: number; f: number; slope: number },
    hi: { t: number; f: number; slope: number },
  ) => {
    // Minimiser of the cubic through both end points with their slopes, safeguarded into the interval.
    const d1 = lo.slope + hi.slope - (3 * (lo.f - hi.f)) / (lo.t - hi.t);
    const disc = d1 * d1 - lo.slope * hi.slope;
    let t = NaN;
    if (Number.isFinite(hi.f) && Number.isFinite(hi.slope) && disc >= 0) {
      const d2 = Math.sign(hi.t - lo.t) * Math.sqrt(disc);
      t = hi.t - (hi.t - lo.t) * ((hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2));
    }
    const a = Math.min(lo.t, hi.t);
    const b = Math.max(lo.t, hi.t);
    if (!Number.isFinite(t) || t < a + 0.1 * (b - a) || t > b - 0.1 * (b - a)) t = (lo.t + hi.t) / 2;
    return t;
  };
  const zoom = (
    lo: { t: number; f: number; slope: number; x?: Float64Array; g?: Float64Array },
    hi: { t: number; f: number; slope: number },
  ): LineSearchResult => {
    let best: Pt | undefined;
    for (let i = 0; i < 30; i++) {
      const t = interpolate(lo, hi);
      const p = eval_(t);
      if (!Number.isFinite(p.f) || p.f > f0 + c1 * t * slope0 || p.f >= lo.f) {
        hi = p;
      } else {
        best = p;
        if (Math.abs(p.slope) <= -c2 * slope0) return { ok: true, x: p.x, f: p.f, g: p.g, evaluations };
        if (p.slope * (hi.t - lo.t) >= 0) hi = lo;
        lo = p;
      }
      // Stop once the bracket no longer moves x measurably (f is then flat to rounding noise).
      if (Math.abs(hi.t - lo.t) * dMax < 1e-13 * xMax) break;
    }
    // Sufficient decrease without the curvature condition is still progress.
    if (best) return { ok: true, x: best.x, f: best.f, g: best.g, evaluations };
    if (lo.x && lo.g && lo.f < f0) return { ok: true, x: lo.x, f: lo.f, g: lo.g, evaluations };
    return { ok: false, x, f: f0, g: g0, evaluations };
  };

  let prev: { t: number; f: number; slope: number; x?: Float64Array; g?: Float64Array } = {
    t: 0,
    f: f0,
    slope: slope0,
  };
  let t = step0;
  for (let i = 0; i < 60; i++) {
    const p = eval_(t);
    if (!Number.isFinite(p.f)) {
      // Stepped outside the region where the likelihood is defined: shrink towards the last point.
      t = prev.t + (t - prev.t) * 0.25;
      if (t - prev.t < 1e-20) break;
      continue;
    }
    if (p.f > f0 + c1 * t * slope0 || (i > 0 && p.f >= prev.f)) return zoom(prev, p);
    if (Math.abs(p.slope) <= -c2 * slope0) return { ok: true, x: p.x, f: p.f, g: p.g, evaluations };
    if (p.slope >= 0) return zoom(p, prev);
    prev = p;
    t *= 2;
  }
  if (prev.x && prev.g && prev.f < f0) return { ok: true, x: prev.x, f: prev.f, g: prev.g, evaluations };
  return { ok: false, x, f: f0, g: g0, evaluations };
}

export interface NelderMeadOptions {
  maxEvaluations?: number;
  /** Stop when the simplex's function values and vertices agree to these tolerances. */
  functionTolerance?: number;
  xTolerance?: number;
  initialStep?: number;
}

/** Nelder–Mead simplex with dimension-adaptive coefficients (Gao & Han 2012). */
export function minimizeNelderMead(
  f: Objective,
  x0: ArrayLike<number>,
  options: NelderMeadOptions = {},
): MinimizeResult {
  const n = x0.length;
  const maxEval = options.maxEvaluations ?? 4000 * n;
  const ftol = options.functionTolerance ?? 1e-12;
  const xtol = options.xTolerance ?? 1e-10;
  const step = options.initialStep ?? 0.25;
  const alpha = 1;
  const beta = 1 + 2 / n;
  const gamma = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  let evaluations = 0;
  const F = (x: Float64Array) => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  const simplex: Float64Array[] = [];
  const values: number[] = [];
  const start = Float64Array.from(x0);
  simplex.push(start);
  values.push(F(start));
  for (let i = 0; i < n; i++) {
    const v = Float64Array.from(x0);
    v[i] = v[i]! + step;
    simplex.push(v);
    values.push(F(v));
  }
  const order = () => {
    const idx = simplex.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    const s2 = idx.map((i) => simplex[i]!);
    const v2 = idx.map((i) => values[i]!);
    for (let i = 0; i <= n; i++) {
      simplex[i] = s2[i]!;
      values[i] = v2[i]!;
    }
  };
  let iterations = 0;
  const centroid = new Float64Array(n);
  const along = (coef: number) => {
    const worst = simplex[n]!;
    const p = new Float64Array(n);
    for (let j = 0; j < n; j++) p[j] = centroid[j]! + coef * (centroid[j]! - worst[j]!);
    return p;
  };
  while (evaluations < maxEval) {
    order();
    iterations++;
    const fBest = values[0]!;
    const fWorst = values[n]!;
    let spread = 0;
    for (let i = 1; i <= n; i++)
      for (let j = 0; j < n; j++) spread = Math.max(spread, Math.abs(simplex[i]![j]! - simplex[0]![j]!));
    if (
      Number.isFinite(fWorst) &&
      Math.abs(fWorst - fBest) <= ftol * Math.max(1, Math.abs(fBest)) &&
      spread <= xtol
    ) {
      return {
        x: simplex[0]!,
        fx: fBest,
        iterations,
        evaluations,
        converged: true,
        message: 'simplex converged',
      };
    }
    centroid.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] = centroid[j]! + simplex[i]![j]! / n;
    const xr = along(alpha);
    const fr = F(xr);
    if (fr < values[0]!) {
      const xe = along(alpha * beta);
      const fe = F(xe);
      if (fe < fr) {
        simplex[n] = xe;
        values[n] = fe;
      } else {
        simplex[n] = xr;
        values[n] = fr;
      }
    } else if (fr < values[n - 1]!) {
      simplex[n] = xr;
      values[n] = fr;
    } else {
      const outside = fr < values[n]!;
      const xc = along(outside ? alpha * gamma : -gamma);
      const fc = F(xc);
      if (fc < (outside ? fr : values[n]!)) {
        simplex[n] = xc;
        values[n] = fc;
      } else {
        for (let i = 1; i <= n; i++) {
          const v = new Float64Array(n);
          for (let j = 0; j < n; j++) v[j] = simplex[0]![j]! + delta * (simplex[i]![j]! - simplex[0]![j]!);
          simplex[i] = v;
          values[i] = F(v);
        }
      }
    }
  }
  order();
  return {
    x: simplex[0]!,
    fx: values[0]!,
    iterations,
    evaluations,
    converged: false,
    message: 'evaluation limit',
  };
}

/** Central-difference gradient; steps are relative to |xᵢ| (h = 1e-6·max(1, |xᵢ|)). */
export function numericGradient(f: Objective, x: Float64Array, grad: Float64Array, relStep = 1e-6): number {
  const n = x.length;
  const xt = Float64Array.from(x);
  const f0 = f(xt);
  for (let i = 0; i < n; i++) {
    const h = relStep * Math.max(1, Math.abs(x[i]!));
    xt[i] = x[i]! + h;
    const fp = f(xt);
    xt[i] = x[i]! - h;
    const fm = f(xt);
    xt[i] = x[i]!;
    grad[i] = (fp - fm) / (2 * h);
  }
  return f0;
}

/** Wraps an f-only objective as f+gradient with central differences (2n extra evaluations). */
export function withNumericGradient(f: Objective, relStep = 1e-6): ObjectiveWithGradient {
  return (x, grad) => {
    const f0 = f(x);
    if (!Number.isFinite(f0)) return f0;
    const n = x.length;
    const xt = Float64Array.from(x);
    for (let i = 0; i < n; i++) {
      const h = relStep * Math.max(1, Math.abs(x[i]!));
      xt[i] = x[i]! + h;
      const fp = f(xt);
      xt[i] = x[i]! - h;
      const fm = f(xt);
      xt[i] = x[i]!;
      grad[i] = (fp - fm) / (2 * h);
    }
    return f0;
  };
}

/**
 * Hessian of f at x by finite differences with steps hᵢ = relStep·|xᵢ|: forward differences of the
 * gradient when one is available (n + 1 gradients), else central differences of f (4-point formula).
 */
export function numericHessian(
  f: Objective,
  x: ArrayLike<number>,
  fg?: ObjectiveWithGradient,
  relStep = 1e-4,
): number[][] {
  const n = x.length;
  const h = Array.from({ length: n }, (_, i) => relStep * Math.max(Math.abs(x[i]!), 1e-8));
  const H: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const xt = Float64Array.from(x);
  if (fg) {
    // Forward differences of the gradient (n evaluations): the O(h) error, ~1e-5 relative with the
    // default step, is far below what standard errors need, and each evaluation can cost a data pass.
    const g0 = new Float64Array(n);
    const gp = new Float64Array(n);
    fg(xt, g0);
    for (let j = 0; j < n; j++) {
      xt[j] = x[j]! + h[j]!;
      fg(xt, gp);
      xt[j] = x[j]!;
      for (let i = 0; i < n; i++) H[i]![j] = (gp[i]! - g0[i]!) / h[j]!;
    }
  } else {
    const f0 = f(xt);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let v: number;
        if (i === j) {
          xt[i] = x[i]! + h[i]!;
          const fp = f(xt);
          xt[i] = x[i]! - h[i]!;
          const fm = f(xt);
          xt[i] = x[i]!;
          v = (fp - 2 * f0 + fm) / (h[i]! * h[i]!);
        } else {
          const at = (si: number, sj: number) => {
            xt[i] = x[i]! + si * h[i]!;
            xt[j] = x[j]! + sj * h[j]!;
            const r = f(xt);
            xt[i] = x[i]!;
            xt[j] = x[j]!;
            return r;
          };
          v = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i]! * h[j]!);
        }
        H[i]![j] = v;
        H[j]![i] = v;
      }
    }
  }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = (H[i]![j]! + H[j]![i]!) / 2;
      H[i]![j] = v;
      H[j]![i] = v;
    }
  return H;
}

/** Inverse of a small dense matrix by Gauss–Jordan with partial pivoting; null if singular. */
export function invertMatrix(A: number[][]): number[][] | null {
  const n = A.length;
  const M = A.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (!(Math.abs(M[p]![c]!) > 1e-300)) return null;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const row = M[c]!;
    const piv = row[c]!;
    for (let j = 0; j < 2 * n; j++) row[j] = row[j]! / piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const other = M[r]!;
      const factor = other[c]!;
      if (factor === 0) continue;
      for (let j = 0; j < 2 * n; j++) other[j] = other[j]! - factor * row[j]!;
    }
  }
  return M.map((row) => row.slice(n));
}
