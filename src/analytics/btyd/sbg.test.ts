import { describe, expect, it } from 'vitest';
import {
  fitSbg,
  sbgDiscountedExpectedResidualLifetime,
  sbgRetentionRate,
  sbgSurvival,
  survivorCurveFromTenures,
} from './sbg.js';

// Fader & Hardie (2007), "How to Project Customer Retention", Table 1: "regular" customers alive at the
// start of years 0..12. The paper fits years 0..7 and reports α = 0.704, β = 1.182.
const regular = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173];

describe('sBG on Fader & Hardie (2007) regular customers (golden)', () => {
  const fit = fitSbg(regular.slice(0, 8));
  it('reproduces α = 0.704, β = 1.182', () => {
    // 3-decimal published values: within 1e-3.
    expect(Math.abs(fit.params.alpha - 0.704)).toBeLessThan(1e-3);
    expect(Math.abs(fit.params.beta - 1.182)).toBeLessThan(1e-3);
    expect(fit.standardErrors).not.toBeNull();
  });
  it('projects the hold-out years 8..12 within 2% (the paper’s Figure 3 shows a close fit)', () => {
    for (let t = 8; t <= 12; t++) {
      const projected = 1000 * sbgSurvival(fit.params, t);
      expect(Math.abs(projected - regular[t]!) / regular[t]!).toBeLessThan(0.02);
    }
  });
  it('has retention rates increasing with tenure', () => {
    expect(sbgRetentionRate(fit.params, 1)).toBeLessThan(sbgRetentionRate(fit.params, 5));
  });
  it('DERL is finite and grows with renewals (Fader & Hardie 2010)', () => {
    const d0 = sbgDiscountedExpectedResidualLifetime(fit.params, 0, 0.1);
    const d5 = sbgDiscountedExpectedResidualLifetime(fit.params, 5, 0.1);
    expect(Number.isFinite(d0)).toBe(true);
    expect(d5).toBeGreaterThan(d0);
    // With no heterogeneity (huge α, β) DERL tends to the geometric value r(1+d)/(1+d−r).
    const r = 0.8;
    const homogeneous = sbgDiscountedExpectedResidualLifetime({ alpha: 2e4, beta: 8e4 }, 3, 0.1);
    expect(Math.abs(homogeneous - (r * 1.1) / (1.1 - r))).toBeLessThan(1e-3);
  });
  it('builds a survivor curve from tenures', () => {
    const curve = survivorCurveFromTenures([
      { periods: 0, churned: true },
      { periods: 2, churned: true },
      { periods: 3, churned: false },
    ]);
    expect(curve).toEqual([3, 2, 2, 1]);
  });
});
