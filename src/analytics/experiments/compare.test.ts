import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareMeans } from './compare.js';
import { conversions, summarize } from './samples.js';
import { errorField } from '../../../test/support/errors.js';

const CONTROL = [0, 0, 1250, 0, 3400, 0, 0, 899, 0, 0, 0, 2100];
const VARIANT = [0, 1500, 0, 0, 2999, 0, 4200, 0, 0, 650, 0, 0, 1800, 0, 0, 0];

function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('compareMeans', () => {
  it('difference, Welch SE, normal interval and p-value match NumPy/SciPy (skewnessCorrection: false)', () => {
    // python3 (numpy as np, scipy.special, scipy.stats), c = CONTROL, v = VARIANT as float arrays:
    //   mc, mv = c.mean(), v.mean(); vc, vv = c.var(ddof=1)/len(c), v.var(ddof=1)/len(v)
    //   se = np.sqrt(vc+vv); z = special.ndtri(0.975); d = mv-mc
    //   → d 59.39583333333337, se 453.0440564676844, d∓z·se −828.5542007532587, 947.3458674199254
    //   2*stats.norm.sf(abs(d/se)) → 0.8956931323516708
    //   (vc+vv)**2/(vc**2/(len(c)-1)+vv**2/(len(v)-1)) → 25.43067604300253
    //   (= stats.ttest_ind(v, c, equal_var=False).df)
    const r = compareMeans(CONTROL, VARIANT, { skewnessCorrection: false });
    close(r.control.mean, 637.4166666666666);
    close(r.variant.mean, 696.8125);
    close(r.difference.estimate, 59.39583333333337);
    close(r.difference.standardError, 453.0440564676844);
    close(r.difference.low, -828.5542007532587);
    close(r.difference.high, 947.3458674199254);
    close(r.difference.pValue, 0.8956931323516708, 1e-10);
    close(r.difference.welchDf, 25.43067604300253);
    expect(r.difference.intervalMethod).toBe('normal');
    expect(r.difference.skewness).toBe(0);
    expect(r.difference.kind).toBe('fixed-horizon');
    expect(r.alpha).toBe(0.05);
  });

  it('skewness-corrected interval (Hall transformation, skewness under no effect) matches SciPy', () => {
    // python3 (numpy as np, scipy.special, scipy.stats, scipy.optimize), c, v, d, se as above, nc 12, nv 16:
    //   N = nc+nv; m2 = (nc*stats.moment(c,2)+nv*stats.moment(v,2))/N; m3 = likewise with 3
    //   gamma = m3/m2**1.5 → 1.6942263043677057
    //   a = gamma*(1/nv**2-1/nc**2)/(1/nv+1/nc)**1.5 → −0.09242762243036076
    //   g = lambda t: t+a*t**2/3+a**2*t**3/27+a/6   (Hall 1992)
    //   inv = lambda u: optimize.brentq(lambda t: g(t)-u, -60, 60, xtol=1e-15)   (root, not the closed form)
    //   d-se*inv(z), d-se*inv(-z) → −896.3001431566145, 892.2992789969046
    //   2*special.ndtr(-abs(g(d/se))) → 0.9083100337656552
    const r = compareMeans(CONTROL, VARIANT);
    expect(r.difference.intervalMethod).toBe('skewness-corrected');
    close(r.difference.outcomeSkewness!, 1.6942263043677057, 1e-12);
    close(r.difference.skewness!, -0.09242762243036076, 1e-12);
    close(r.difference.low, -896.3001431566145, 1e-12);
    close(r.difference.high, 892.2992789969046, 1e-12);
    close(r.difference.pValue, 0.9083100337656552, 1e-10);
    // The estimate, its SE and the Welch statistic are those of the normal interval.
    close(r.difference.standardError, 453.0440564676844);
    close(r.difference.z, 59.39583333333337 / 453.0440564676844);
    // A skewed holdout (n 12 < 16): its mean is likely too low, so the interval reaches further down.
    expect(r.difference.estimate - r.difference.low).toBeGreaterThan(
      r.difference.high - r.difference.estimate,
    );
  });

  it('relative uplift with the delta-method interval', () => {
    // python3: r = mv/mc; ser = np.sqrt(vv/mc**2 + mv**2*vc/mc**4)
    //   → r−1 0.09318211530919074, ser 0.7444029367294195, r−1∓z·ser −1.36582083066632, 1.5521850612847015
    const r = compareMeans(CONTROL, VARIANT);
    expect(r.relativeUnavailable).toBeNull();
    close(r.relative!.estimate, 0.09318211530919074);
    close(r.relative!.standardError, 0.7444029367294195);
    close(r.relative!.low, -1.36582083066632);
    close(r.relative!.high, 1.5521850612847015);
  });

  it('α sets the level: 90 %', () => {
    // python3: z90 = special.ndtri(0.95); d∓z90·se → −685.7953261163449, 804.5869927830116 (normal);
    //   corrected as above with z90: d-se*inv(z90), d-se*inv(-z90) → −734.9072148281036, 763.3685286534021
    const n = compareMeans(CONTROL, VARIANT, { alpha: 0.1, skewnessCorrection: false });
    close(n.difference.low, -685.7953261163449);
    close(n.difference.high, 804.5869927830116);
    const r = compareMeans(CONTROL, VARIANT, { alpha: 0.1 });
    close(r.difference.low, -734.9072148281036, 1e-12);
    close(r.difference.high, 763.3685286534021, 1e-12);
  });

  it('sufficient statistics give the same answer as the values', () => {
    const a = compareMeans(CONTROL, VARIANT);
    const b = compareMeans(summarize(CONTROL), summarize(VARIANT));
    close(b.difference.estimate, a.difference.estimate);
    close(b.difference.standardError, a.difference.standardError, 1e-10);
    close(b.difference.skewness!, a.difference.skewness!, 1e-10);
    close(b.difference.low, a.difference.low, 1e-10);
    close(b.difference.high, a.difference.high, 1e-10);
    close(b.relative!.high, a.relative!.high, 1e-10);
    const typed = compareMeans(Float64Array.from(CONTROL), Float64Array.from(VARIANT));
    expect(typed.difference.standardError).toBe(a.difference.standardError);
    expect(typed.difference.low).toBe(a.difference.low);
  });

  it('the third central moment of each arm, from values and from Σy³', () => {
    // python3: scipy.stats.moment(c, 3), scipy.stats.moment(v, 3) → 1865689143.1655102, 3333309346.311035
    const r = compareMeans(CONTROL, VARIANT);
    close(r.control.thirdMoment!, 1865689143.1655102, 1e-12);
    close(r.variant.thirdMoment!, 3333309346.311035, 1e-12);
    const s = compareMeans(summarize(CONTROL), summarize(VARIANT));
    close(s.control.thirdMoment!, 1865689143.1655102, 1e-10);
    // A symmetric sample far from 0 (987654.321 + {−0.3, −0.1, 0, 0.1, 0.3}): 0 by hand. From its sums
    // (Σy³ ≈ 4.8·10¹⁸) the cancellation leaves rounding error (4096 in double precision: node -e on the
    // formula), below 1e-10 of the terms, so it is taken as 0.
    const far = [-0.3, -0.1, 0, 0.1, 0.3].map((d) => 987654.321 + d);
    const f = compareMeans(summarize(far), summarize(far));
    expect(f.control.thirdMoment).toBe(0);
    expect(Math.abs(compareMeans(far, far).control.thirdMoment!)).toBeLessThan(1e-9);
  });

  it('statistics without Σy³ give the normal interval, and say so', () => {
    const { sumCube: _c, ...control } = summarize(CONTROL);
    const r = compareMeans(control, summarize(VARIANT));
    expect(r.difference.intervalMethod).toBe('normal');
    expect(r.difference.outcomeSkewness).toBeNull();
    expect(r.difference.skewness).toBe(0);
    close(r.difference.low, -828.5542007532587, 1e-10);
    close(r.difference.high, 947.3458674199254, 1e-10);
  });

  it('conversions are the 0/1 case; equal arms need no correction', () => {
    // python3: a, b = 0/1 arrays with 30 and 45 ones of 1000;
    //   d = b.mean()-a.mean(); se = np.sqrt(a.var(ddof=1)/1000 + b.var(ddof=1)/1000)
    //   → 0.015, 0.008493947677443459, d∓z·se −0.0016478315343568216, 0.031647831534356824
    // With n_c = n_v the skewness of Δ̂ under no effect, γ·(1/n² − 1/n²)/…, is exactly 0 (by hand).
    const r = compareMeans(conversions(1000, 30), conversions(1000, 45));
    expect(r.difference.skewness).toBe(0);
    close(r.difference.estimate, 0.015);
    close(r.difference.standardError, 0.008493947677443459, 1e-10);
    close(r.difference.low, -0.0016478315343568216, 1e-10);
    close(r.difference.high, 0.031647831534356824, 1e-10);
    // 0.045/0.03 − 1 = 0.5 (hand arithmetic)
    close(r.relative!.estimate, 0.5);
  });

  it('a rare conversion with a 10 % holdout: the interval leans down', () => {
    // python3: c = 4 ones in 200, v = 54 ones in 1800 (0/1 arrays), the SciPy snippet of the corrected test:
    //   gamma 5.610887393842981, a −0.33456868337945445, interval −0.019961945035020575,
    //   0.02714659469208263, p 0.4329162722736982 (normal: 0.01 ∓ 1.96·0.010708319917344241)
    const r = compareMeans(conversions(200, 4), conversions(1800, 54));
    close(r.difference.outcomeSkewness!, 5.610887393842981, 1e-10);
    close(r.difference.skewness!, -0.33456868337945445, 1e-10);
    close(r.difference.standardError, 0.010708319917344241, 1e-10);
    close(r.difference.low, -0.019961945035020575, 1e-10);
    close(r.difference.high, 0.02714659469208263, 1e-10);
    close(r.difference.pValue, 0.4329162722736982, 1e-9);
  });

  it('p < α exactly when the interval excludes 0, and the estimate is inside it', () => {
    const arm = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 })), {
      minLength: 2,
      maxLength: 60,
    });
    fc.assert(
      fc.property(arm, arm, fc.constantFrom(0.01, 0.05, 0.1), (c, v, alpha) => {
        const d = compareMeans(c, v, { alpha }).difference;
        if (!(d.standardError > 0)) return;
        expect(d.low).toBeLessThanOrEqual(d.estimate);
        expect(d.estimate).toBeLessThanOrEqual(d.high);
        // Away from the boundary (rounding decides a p-value within 1e-9 of α).
        if (Math.abs(d.pValue - alpha) > 1e-9) expect(d.pValue < alpha).toBe(d.low > 0 || d.high < 0);
      }),
      { seed: 20260325, numRuns: 500 },
    );
  });

  it('a control mean of 0 gives no relative uplift, with the reason', () => {
    const r = compareMeans([0, 0, 0], [0, 500, 0]);
    expect(r.relative).toBeNull();
    expect(r.relativeUnavailable).toMatch(/control mean is 0/);
    const neg = compareMeans([-100, 0, 20], [0, 500, 0]);
    expect(neg.relative).toBeNull();
    expect(neg.relativeUnavailable).toMatch(/negative/);
  });

  it('zero variance in both arms: a point interval and p = 0 or 1', () => {
    const same = compareMeans([5, 5], [5, 5, 5]);
    expect(same.difference.standardError).toBe(0);
    expect(same.difference.pValue).toBe(1);
    const diff = compareMeans([5, 5], [7, 7]);
    expect(diff.difference.z).toBe(Infinity);
    expect(diff.difference.pValue).toBe(0);
    expect(diff.difference.low).toBe(2);
  });

  it('refuses bad input, naming the field', () => {
    const field = errorField;
    expect(field(() => compareMeans([1], [1, 2]))).toBe('control');
    expect(field(() => compareMeans([1, 2], [1, NaN]))).toBe('variant');
    expect(field(() => compareMeans({ n: 1, sum: 1, sumSq: 1 }, [1, 2]))).toBe('control.n');
    expect(field(() => compareMeans({ n: 4, sum: 10, sumSq: 20 }, [1, 2]))).toBe('control.sumSq');
    expect(field(() => compareMeans([1, 2], [1, 2], { alpha: 1 }))).toBe('alpha');
    expect(field(() => compareMeans([1, 2], [1, 2], { alpha: 0 }))).toBe('alpha');
    expect(field(() => compareMeans({ n: 2, sum: 1, sumSq: 1, sumCube: NaN }, [1, 2]))).toBe(
      'control.sumCube',
    );
    const notBoolean = { skewnessCorrection: 'no' } as unknown as { skewnessCorrection: boolean };
    expect(field(() => compareMeans([1, 2], [1, 2], notBoolean))).toBe('skewnessCorrection');
  });
});
