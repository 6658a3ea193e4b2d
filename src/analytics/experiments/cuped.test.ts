import { describe, expect, it } from 'vitest';
import { Rng } from '../btyd/simulate.js';
import { compareMeans } from './compare.js';
import { cuped } from './cuped.js';
import { errorField } from '../../../test/support/errors.js';

function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

const Y0 = [0, 1200, 0, 3400, 500, 0, 0, 800];
const X0 = [0, 900, 100, 2500, 0, 0, 300, 1000];
const Y1 = [0, 1500, 2000, 0, 4100, 0, 700, 0, 0, 2600];
const X1 = [0, 1000, 1800, 0, 3000, 200, 0, 0, 500, 2000];

describe('cuped', () => {
  it('θ, X̄, adjusted sums and variance reduction match NumPy', () => {
    // python3 (numpy as np), arrays y0, x0, y1, x1 as above:
    //   sxy = Σ_arms ((y-y.mean())*(x-x.mean())).sum(); sxx, syy likewise; theta = sxy/sxx
    //   → 1.2945139557266603 (np.linalg.lstsq on [arm0, arm1, x] gives the same slope, 1.2945139557266643)
    //   xbar = np.r_[x0,x1].mean() → 738.8888888888889
    //   a0 = y0-theta*(x0-xbar); a1 = y1-theta*(x1-xbar)
    //   a0.sum() 7338.348839696289, a1.sum() 9461.65116030371,
    //   (a0**2).sum() 7409266.041988606, (a1**2).sum() 10125369.630787665
    //   rho = sxy/np.sqrt(sxx*syy) → 0.9663431570815104; 1 − Σ_arms within-SS(a)/syy → 0.9338190972382608 (= rho²)
    const r = cuped([Y0, Y1], [X0, X1]);
    close(r.theta, 1.2945139557266603);
    close(r.covariateMean, 738.8888888888889);
    close(r.stats[0]!.sum, 7338.348839696289);
    close(r.stats[1]!.sum, 9461.65116030371);
    close(r.stats[0]!.sumSq, 7409266.041988606);
    close(r.stats[1]!.sumSq, 10125369.630787665);
    //   (a0**3).sum() 8068012769.383151, (a1**3).sum() 11873850177.712902
    close(r.stats[0]!.sumCube!, 8068012769.383151, 1e-10);
    close(r.stats[1]!.sumCube!, 11873850177.712902, 1e-10);
    close(r.correlation, 0.9663431570815104);
    close(r.varianceReduction, 0.9338190972382608, 1e-10);
    expect(r.adjusted[0]).toHaveLength(8);
  });

  it('compareMeans on the adjusted outcomes gives the CUPED interval', () => {
    // python3: d = a1.mean()-a0.mean(); se = np.sqrt(a0.var(ddof=1)/8+a1.var(ddof=1)/10)
    //   → 28.87151106833494, 158.55178073118896, d∓z·se −281.8842688494871, 339.627290986157 (normal)
    //   skewness-corrected, the SciPy snippet of compare.test.ts on a0, a1 (pooled moments, Hall's g,
    //   optimize.brentq for g(t) = ±z): a −0.009029558530532673, interval −283.97718719493764, 337.57605822831175
    //   unadjusted: y1.mean()-y0.mean() 352.5, se 612.4552947728006
    const r = cuped([Y0, Y1], [X0, X1]);
    const adjusted = compareMeans(r.adjusted[0]!, r.adjusted[1]!);
    close(adjusted.difference.estimate, 28.87151106833494, 1e-10);
    close(adjusted.difference.standardError, 158.55178073118896, 1e-10);
    close(adjusted.difference.skewness!, -0.009029558530532673, 1e-9);
    close(adjusted.difference.low, -283.97718719493764, 1e-10);
    close(adjusted.difference.high, 337.57605822831175, 1e-10);
    const normal = compareMeans(r.adjusted[0]!, r.adjusted[1]!, { skewnessCorrection: false });
    close(normal.difference.low, -281.8842688494871, 1e-10);
    close(normal.difference.high, 339.627290986157, 1e-10);
    // The statistics carry Σy'³, so report.ts's CUPED comparison from r.stats is corrected the same way.
    const fromStats = compareMeans(r.stats[0]!, r.stats[1]!);
    close(fromStats.difference.standardError, 158.55178073118896, 1e-9);
    expect(fromStats.difference.intervalMethod).toBe('skewness-corrected');
    close(fromStats.difference.low, -283.97718719493764, 1e-9);
    close(fromStats.difference.high, 337.57605822831175, 1e-9);
    close(compareMeans(Y0, Y1).difference.standardError, 612.4552947728006);
  });

  it('a covariate that does not vary leaves the outcomes as they are', () => {
    const r = cuped(
      [
        [1, 2, 3],
        [4, 5],
      ],
      [
        [7, 7, 7],
        [7, 7],
      ],
    );
    expect(r.theta).toBe(0);
    expect(r.varianceReduction).toBe(0);
    expect(r.adjusted).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('with a correlated X: narrower intervals, the estimate stays unbiased (simulation)', () => {
    // 400 experiments of 300 + 300 recipients; X = pre-period revenue, Y = 0.6·X + noise (+ effect 40 in
    // the variant); corr(Y, X) ≈ 0.8, so the width should shrink by about √(1 − 0.64) = 0.6.
    const rng = new Rng(2013);
    const runs = 400;
    const effect = 40;
    let sumRaw = 0;
    let sumCuped = 0;
    let sumSqCuped = 0;
    let widthRaw = 0;
    let widthCuped = 0;
    let reduction = 0;
    for (let r = 0; r < runs; r++) {
      const ys: number[][] = [[], []];
      const xs: number[][] = [[], []];
      for (let arm = 0; arm < 2; arm++)
        for (let i = 0; i < 300; i++) {
          const x = 500 + 200 * rng.normal();
          xs[arm]!.push(x);
          ys[arm]!.push(100 + 0.6 * x + 90 * rng.normal() + (arm === 1 ? effect : 0));
        }
      const raw = compareMeans(ys[0]!, ys[1]!);
      const c = cuped(ys, xs);
      const adj = compareMeans(c.adjusted[0]!, c.adjusted[1]!);
      sumRaw += raw.difference.estimate;
      sumCuped += adj.difference.estimate;
      sumSqCuped += adj.difference.estimate ** 2;
      widthRaw += raw.difference.high - raw.difference.low;
      widthCuped += adj.difference.high - adj.difference.low;
      reduction += c.varianceReduction;
    }
    const meanCuped = sumCuped / runs;
    const sdCuped = Math.sqrt(sumSqCuped / runs - meanCuped ** 2);
    // Unbiased: within 3 Monte Carlo standard errors of the true effect.
    expect(Math.abs(meanCuped - effect)).toBeLessThan((3 * sdCuped) / Math.sqrt(runs));
    expect(Math.abs(sumRaw / runs - effect)).toBeLessThan(3 * (widthRaw / runs / 3.92 / Math.sqrt(runs)));
    // Narrower: ρ² = 0.6²·200²/(0.6²·200² + 90²) = 14400/22500 = 0.64 (hand arithmetic), width ratio ≈ 0.6.
    expect(reduction / runs).toBeGreaterThan(0.6);
    expect(reduction / runs).toBeLessThan(0.68);
    expect(widthCuped / widthRaw).toBeGreaterThan(0.56);
    expect(widthCuped / widthRaw).toBeLessThan(0.64);
  });

  it('refuses mismatched or short input, naming the field', () => {
    const field = errorField;
    expect(field(() => cuped([], []))).toBe('outcomes');
    expect(field(() => cuped([[1, 2]], []))).toBe('covariates');
    expect(field(() => cuped([[1, 2]], [[1]]))).toBe('covariates[0]');
    expect(field(() => cuped([[1]], [[1]]))).toBe('outcomes[0]');
    expect(field(() => cuped([[1, NaN]], [[1, 2]]))).toBe('outcomes[0]');
    expect(field(() => cuped([[1, 2]], [[1, Infinity]]))).toBe('covariates[0]');
  });
});
