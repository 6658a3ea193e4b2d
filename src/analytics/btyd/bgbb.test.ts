import { describe, expect, it } from 'vitest';
import {
  bgBbConditionalExpectedPurchases,
  bgBbExpectedPurchases,
  bgBbIndividualLogLikelihood,
  bgBbProbabilityAlive,
  fitBgBb,
  type BgBbData,
} from './bgbb.js';

// Fader, Hardie & Shang (2010): 11,104 first-time donors of 1995, 6 yearly opportunities (1996–2001),
// condensed to 22 (x, t_x) patterns (the paper's Table 1; also lifetimes' donations.csv).
const rows = [
  [0, 0, 3464],
  [1, 1, 1091],
  [1, 2, 277],
  [1, 3, 129],
  [1, 4, 78],
  [1, 5, 119],
  [1, 6, 129],
  [2, 2, 613],
  [2, 3, 255],
  [2, 4, 155],
  [2, 5, 173],
  [2, 6, 234],
  [3, 3, 322],
  [3, 4, 181],
  [3, 5, 225],
  [3, 6, 357],
  [4, 4, 240],
  [4, 5, 284],
  [4, 6, 512],
  [5, 5, 335],
  [5, 6, 728],
  [6, 6, 1203],
] as const;
const donations: BgBbData = {
  frequency: rows.map((r) => r[0]),
  recency: rows.map((r) => r[1]),
  periods: rows.map(() => 6),
  weight: rows.map((r) => r[2]),
};

describe('BG/BB on the donations data (golden)', () => {
  const fit = fitBgBb(donations);
  it('reproduces α = 1.204, β = 0.750, γ = 0.657, δ = 2.783 and LL = −33,225.6', () => {
    // 3-decimal published values (LL to 1 decimal): within 1e-3 (0.05 for LL).
    expect(Math.abs(fit.params.alpha - 1.204)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.beta - 0.75)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.gamma - 0.657)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.delta - 2.783)).toBeLessThan(1e-3);
    expect(Math.abs(fit.logLikelihood - -33225.6)).toBeLessThan(0.05);
    expect(fit.customers).toBe(11104);
  });
  it('matches Hardie’s spreadsheet (note 010): Σ_customers E[X(6, 6+5)] = 12,884.2', () => {
    let total = 0;
    for (let i = 0; i < rows.length; i++)
      total +=
        donations.weight[i]! * bgBbConditionalExpectedPurchases(fit.params, 5, rows[i]![0], rows[i]![1], 6);
    // Spreadsheet values are rounded to 0.1 and computed from 3-decimal parameters: 0.1% tolerance.
    expect(Math.abs(total - 12884.2) / 12884.2).toBeLessThan(1e-3);
    // E[X(n)] for a new donor is increasing and below n.
    expect(bgBbExpectedPurchases(fit.params, 6)).toBeGreaterThan(bgBbExpectedPurchases(fit.params, 1));
    expect(bgBbExpectedPurchases(fit.params, 6)).toBeLessThan(6);
  });
  it('P(alive in 2002) matches FHS 2010 Table 6 for (x, t_x) = (0, 0), (2, 4), (6, 6)', () => {
    // Published to 2 decimals.
    expect(bgBbProbabilityAlive(fit.params, 0, 0, 6)).toBeCloseTo(0.11, 2);
    expect(bgBbProbabilityAlive(fit.params, 2, 4, 6)).toBeCloseTo(0.59, 2);
    expect(bgBbProbabilityAlive(fit.params, 6, 6, 6)).toBeCloseTo(0.93, 2);
  });
  it('is finite at extremes', () => {
    expect(Number.isFinite(bgBbIndividualLogLikelihood(fit.params, 200, 200, 200))).toBe(true);
    expect(Number.isFinite(bgBbIndividualLogLikelihood(fit.params, 0, 0, 1000))).toBe(true);
  });
});
