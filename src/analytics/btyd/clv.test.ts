import { describe, expect, it } from 'vitest';
import { bgNbdModel, bgNbdProbabilityAlive } from './bgnbd.js';
import { customerLifetimeValue } from './clv.js';
import { gammaGammaExpectedSpend } from './gammaGamma.js';

// Reference: lifetimes 0.11 (GammaGammaFitter.customer_lifetime_value with BetaGeoFitter, time=12,
// discount_rate=0.01, freq='W') run with these fixed parameters on the same four histories.
const bg = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const gg = { p: 6.25, q: 3.74, v: 15.44 };
const histories: [number, number, number, number][] = [
  [2, 30.43, 38.86, 22.35],
  [0, 0, 38.86, 0],
  [10, 35.0, 38.86, 40.0],
  [1, 1.71, 38.86, 11.77],
];
const lifetimesSpend = [24.663713910761157, 35.21897810218978, 39.79920294297977, 18.91685205784205];
const lifetimesClv = [36.28921112559952, 8.369004358920185, 291.06467352056217, 4.637294659747194];
const lifetimesPAlive = [0.726578570080673, 1.0, 0.8469414075242527, 0.2121009853773791];

describe('customerLifetimeValue (DCF as lifetimes)', () => {
  const model = bgNbdModel(bg);
  it.each(histories.map((h, i) => [i, ...h] as const))(
    'history %d matches lifetimes to 1e-9 relative',
    (i, x, tx, T, m) => {
      // Same closed forms evaluated in double precision: only rounding differences remain.
      const spend = gammaGammaExpectedSpend(gg, x, m);
      expect(spend / lifetimesSpend[i]! - 1).toBeCloseTo(0, 9);
      expect(bgNbdProbabilityAlive(bg, x, tx, T) / lifetimesPAlive[i]! - 1).toBeCloseTo(0, 9);
      const clv = customerLifetimeValue(model, x, tx, T, spend, {
        months: 12,
        monthlyDiscountRate: 0.01,
        margin: 1,
        timeUnit: 'week',
      });
      expect(clv / lifetimesClv[i]! - 1).toBeCloseTo(0, 9);
    },
  );
  it('scales with margin and falls with the discount rate', () => {
    const base = { months: 24, monthlyDiscountRate: 0.01, margin: 1, timeUnit: 'week' as const };
    const v = customerLifetimeValue(model, 2, 30.43, 38.86, 25, base);
    expect(customerLifetimeValue(model, 2, 30.43, 38.86, 25, { ...base, margin: 0.3 })).toBeCloseTo(
      0.3 * v,
      10,
    );
    expect(
      customerLifetimeValue(model, 2, 30.43, 38.86, 25, { ...base, monthlyDiscountRate: 0.05 }),
    ).toBeLessThan(v);
  });
});
