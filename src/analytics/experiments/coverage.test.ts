/**
 * The headline question on a small store: 2,000 recipients, 90 % sent the campaign, 10 % held out;
 * revenue per recipient over the window has a heavy right tail (most recipients buy nothing, buyers
 * spend lognormal amounts). Does the 95 % interval of compareMeans cover the true uplift, and how much
 * does CUPED with the pre-period revenue narrow it?
 *
 * Generating process (per recipient, fixed before the runs were looked at):
 * - purchase rate λ ~ Gamma(shape 0.5, scale 0.25) per window (mean 0.125; heterogeneous customers);
 * - spend level m = 4000·e^{0.5·Z − 0.125} minor units (mean 4000), each order m·e^{0.5·Z' − 0.125},
 *   rounded to whole minor units;
 * - outcome window: buys with probability q = 1 − e^{−λ} (held out) or 1 − e^{−1.25·λ} (sent: +25 % rate);
 * - pre-period X: the same, unsent, over the 6 windows before (so X is correlated with the outcome).
 * True uplift per recipient = 4000·(E[e^{−λ}] − E[e^{−1.25λ}]) = 4000·((1 + 0.25)^{−0.5} − (1 + 1.25·0.25)^{−0.5}):
 *   python3 -c "print(4000*((1+0.25)**-0.5 - (1+1.25*0.25)**-0.5))" → 86.22252022378518
 * (rounding the amounts to integers shifts the mean by far less than 0.01).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../btyd/simulate.js';
import { compareMeans } from './compare.js';
import { cuped } from './cuped.js';

const RECIPIENTS = 2000;
const HOLDOUT = 200;
const TRUE_UPLIFT = 86.22252022378518;

function simulateSend(rng: Rng): { outcomes: number[][]; covariates: number[][] } {
  const outcomes: number[][] = [[], []];
  const covariates: number[][] = [[], []];
  for (let i = 0; i < RECIPIENTS; i++) {
    const arm = i < HOLDOUT ? 0 : 1;
    const lambda = rng.gamma(0.5, 4);
    const q = -Math.expm1(-lambda);
    const level = 4000 * Math.exp(0.5 * rng.normal() - 0.125);
    const order = () => Math.round(level * Math.exp(0.5 * rng.normal() - 0.125));
    let pre = 0;
    for (let w = 0; w < 6; w++) if (rng.uniform() < q) pre += order();
    const qOutcome = arm === 1 ? -Math.expm1(-1.25 * lambda) : q;
    outcomes[arm]!.push(rng.uniform() < qOutcome ? order() : 0);
    covariates[arm]!.push(pre);
  }
  return { outcomes, covariates };
}

describe('coverage of the 95 % interval on a small store (simulation)', () => {
  it('100 seeded sends of 2,000 recipients, 90/10: covers the true uplift in ≥ 93 runs', () => {
    // Seed 25 (the original seed, chosen before its first run; kept, not re-picked). The skewness-corrected
    // interval (compareMeans' default) covers in 96/100 runs, with CUPED in 93/100; average width 570.0
    // minor units, 533.6 with CUPED (−6.4 %; mean variance reduction ρ² ≈ 0.09). The plain normal interval
    // Δ̂ ± 1.96·SE on the same runs: 93/100 and 94/100, widths 465.7 and 449.7.
    //
    // Long run over 2,000 seeds × 100 sends (200,000 sends, this code; docs/experiments.md): corrected
    // 95.3 % (CUPED 95.4 %), mean width 544.2 (510.0); normal 92.7 % (93.2 %), 463.7 (445.8). One seed's
    // 100 runs reach ≥ 93 for 89.6 % of seeds (CUPED 89.9 %; normal: 54.7 % and 63.8 %). So seed 25's
    // CUPED 93 is at the threshold by the draw — a tenth of seeds fall below 93 with an honest 95 %
    // interval — not a sign of under-coverage; the plain 96 clears it by 3.
    const rng = new Rng(25);
    const runs = 100;
    const sum = { covered: 0, coveredCuped: 0, width: 0, widthCuped: 0 };
    const normal = { covered: 0, coveredCuped: 0, width: 0, widthCuped: 0 };
    let sumCuped = 0;
    let seCuped = 0;
    let reduction = 0;
    const covers = (d: { low: number; high: number }) =>
      d.low <= TRUE_UPLIFT && TRUE_UPLIFT <= d.high ? 1 : 0;
    for (let r = 0; r < runs; r++) {
      const { outcomes, covariates } = simulateSend(rng);
      const c = cuped(outcomes, covariates);
      const plain = compareMeans(outcomes[0]!, outcomes[1]!).difference;
      const adjusted = compareMeans(c.adjusted[0]!, c.adjusted[1]!).difference;
      expect(plain.intervalMethod).toBe('skewness-corrected');
      sum.covered += covers(plain);
      sum.coveredCuped += covers(adjusted);
      sum.width += plain.high - plain.low;
      sum.widthCuped += adjusted.high - adjusted.low;
      const off = { skewnessCorrection: false };
      const plainN = compareMeans(outcomes[0]!, outcomes[1]!, off).difference;
      const adjustedN = compareMeans(c.adjusted[0]!, c.adjusted[1]!, off).difference;
      normal.covered += covers(plainN);
      normal.coveredCuped += covers(adjustedN);
      normal.width += plainN.high - plainN.low;
      normal.widthCuped += adjustedN.high - adjustedN.low;
      sumCuped += adjusted.estimate;
      seCuped += adjusted.standardError;
      reduction += c.varianceReduction;
    }
    const w = (x: number) => (x / runs).toFixed(1);
    console.log(
      `[coverage] seed 25, ${runs} sends 90/10: skewness-corrected ${sum.covered}/${runs} (CUPED ${sum.coveredCuped}/${runs}), ` +
        `mean width ${w(sum.width)} (CUPED ${w(sum.widthCuped)}); normal ${normal.covered}/${runs} ` +
        `(CUPED ${normal.coveredCuped}/${runs}), ${w(normal.width)} (CUPED ${w(normal.widthCuped)}); ` +
        `mean ρ² ${(reduction / runs).toFixed(3)}`,
    );
    expect(sum.covered).toBeGreaterThanOrEqual(93);
    expect(sum.coveredCuped).toBeGreaterThanOrEqual(93);
    // CUPED narrows the interval, corrected or not.
    expect(sum.widthCuped).toBeLessThan(sum.width);
    expect(normal.widthCuped).toBeLessThan(normal.width);
    expect(reduction / runs).toBeGreaterThan(0.05);
    // The correction buys its coverage with width, but not absurdly: < 1.3× the normal interval's.
    expect(sum.width).toBeLessThan(1.3 * normal.width);
    // CUPED's estimate is unbiased: within 3 Monte Carlo standard errors (mean SE per run / √runs).
    expect(Math.abs(sumCuped / runs - TRUE_UPLIFT)).toBeLessThan((3 * (seCuped / runs)) / Math.sqrt(runs));
  });
});
