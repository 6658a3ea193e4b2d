/**
 * CUPED (Deng, Xu, Kohavi & Walker 2013, "Improving the sensitivity of online controlled experiments
 * by utilizing pre-experiment data"): subtract from each recipient's outcome Y the part its
 * pre-period value X predicts, Y' = Y − θ·(X − X̄). X was fixed before the assignment, so X̄ is the same
 * in expectation in every arm and the difference of adjusted means estimates the same effect; its
 * variance is the unadjusted one times (1 − ρ²). Pure.
 */
import { invalid } from '../../shared/errors.js';
import type { SampleStats } from './samples.js';

export interface CupedResult {
  /** θ = pooled within-arm cov(Y, X) / pooled within-arm var(X); 0 when X does not vary. */
  theta: number;
  /** X̄, the mean pre-period value over every recipient of every arm (the common centring). */
  covariateMean: number;
  /** Y' per recipient, per arm, in the order given. */
  adjusted: number[][];
  /** {n, Σy', Σy'², Σy'³} per arm: pass to compareMeans (or any function taking a Sample). */
  stats: SampleStats[];
  /** Pooled within-arm correlation of Y and X. */
  correlation: number;
  /**
   * 1 − (pooled within-arm variance of Y')/(pooled within-arm variance of Y) = ρ² for this θ: the
   * share of the outcome's variance removed (each arm's standard error shrinks by √(1 − this)).
   */
  varianceReduction: number;
}

/**
 * CUPED adjustment of every arm's outcomes (`outcomes[a][i]`: recipient i of arm a) by their pre-period
 * values (`covariates[a][i]`, same shape: e.g. revenue in the same-length window before the send).
 *
 * θ is the within-arm pooled regression slope Σₐ Σᵢ (y − ȳₐ)(x − x̄ₐ) / Σₐ Σᵢ (x − x̄ₐ)² — the
 * coefficient of X in the regression of Y on the arm indicators and X (ANCOVA), so a treatment that
 * moves Y does not leak into θ. Deng et al. pool the arms' data without centring per arm; the two agree
 * up to O(1/n). One θ for all arms and one X̄ keep the adjusted difference unbiased for the effect
 * (up to the O(1/n) from estimating θ on the same data); compareMeans on the adjusted statistics gives
 * the CUPED interval (the uncertainty of θ is ignored, as in the paper: it is O(1/n)).
 */
export function cuped(
  outcomes: readonly (readonly number[])[],
  covariates: readonly (readonly number[])[],
): CupedResult {
  if (!Array.isArray(outcomes) || outcomes.length < 1)
    throw invalid('outcomes must be a non-empty array of arms (arrays of numbers)', { field: 'outcomes' });
  if (!Array.isArray(covariates) || covariates.length !== outcomes.length)
    throw invalid(`covariates must have one array per arm (${outcomes.length}), got ${covariates?.length}`, {
      field: 'covariates',
    });
  const arms = outcomes.length;
  const meanY: number[] = [];
  const meanX: number[] = [];
  let total = 0;
  let sumX = 0;
  for (let a = 0; a < arms; a++) {
    const y = outcomes[a]!;
    const x = covariates[a]!;
    if (!Array.isArray(y) || y.length < 2)
      throw invalid(`outcomes[${a}] needs at least 2 recipients`, { field: `outcomes[${a}]` });
    if (!Array.isArray(x) || x.length !== y.length)
      throw invalid(`covariates[${a}] must have one value per recipient of outcomes[${a}] (${y.length})`, {
        field: `covariates[${a}]`,
      });
    let sy = 0;
    let sx = 0;
    for (let i = 0; i < y.length; i++) {
      const yi = y[i]!;
      const xi = x[i]!;
      if (typeof yi !== 'number' || !Number.isFinite(yi))
        throw invalid(`outcomes[${a}][${i}] must be a finite number`, { field: `outcomes[${a}]` });
      if (typeof xi !== 'number' || !Number.isFinite(xi))
        throw invalid(`covariates[${a}][${i}] must be a finite number`, { field: `covariates[${a}]` });
      sy += yi;
      sx += xi;
    }
    meanY.push(sy / y.length);
    meanX.push(sx / y.length);
    total += y.length;
    sumX += sx;
  }
  const covariateMean = sumX / total;

  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let a = 0; a < arms; a++) {
    const y = outcomes[a]!;
    const x = covariates[a]!;
    const my = meanY[a]!;
    const mx = meanX[a]!;
    for (let i = 0; i < y.length; i++) {
      const dx = x[i]! - mx;
      const dy = y[i]! - my;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
    }
  }
  const theta = sxx > 0 ? sxy / sxx : 0;
  const correlation = sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;

  const adjusted: number[][] = [];
  const stats: SampleStats[] = [];
  let syyAdjusted = 0;
  for (let a = 0; a < arms; a++) {
    const y = outcomes[a]!;
    const x = covariates[a]!;
    const out = new Array<number>(y.length);
    let sum = 0;
    let sumSq = 0;
    let sumCube = 0;
    for (let i = 0; i < y.length; i++) {
      const v = y[i]! - theta * (x[i]! - covariateMean);
      out[i] = v;
      sum += v;
      sumSq += v * v;
      sumCube += v * v * v;
    }
    const mean = sum / y.length;
    for (let i = 0; i < y.length; i++) syyAdjusted += (out[i]! - mean) ** 2;
    adjusted.push(out);
    stats.push({ n: y.length, sum, sumSq, sumCube });
  }
  const varianceReduction = syy > 0 ? Math.max(0, 1 - syyAdjusted / syy) : 0;
  return { theta, covariateMean, adjusted, stats, correlation, varianceReduction };
}
