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
  it('difference, Welch SE, normal interval and p-value match NumPy/SciPy', () => {
    // python3 (numpy as np, scipy.special, scipy.stats), c = CONTROL, v = VARIANT as float arrays:
    //   mc, mv = c.mean(), v.mean(); vc, vv = c.var(ddof=1)/len(c), v.var(ddof=1)/len(v)
    //   se = np.sqrt(vc+vv); z = special.ndtri(0.975); d = mv-mc
    //   → d 59.39583333333337, se 453.0440564676844, d∓z·se −828.5542007532587, 947.3458674199254
    //   2*stats.norm.sf(abs(d/se)) → 0.8956931323516708
    //   (vc+vv)**2/(vc**2/(len(c)-1)+vv**2/(len(v)-1)) → 25.43067604300253
    //   (= stats.ttest_ind(v, c, equal_var=False).df)
    const r = compareMeans(CONTROL, VARIANT);
    close(r.control.mean, 637.4166666666666);
    close(r.variant.mean, 696.8125);
    close(r.difference.estimate, 59.39583333333337);
    close(r.difference.standardError, 453.0440564676844);
    close(r.difference.low, -828.5542007532587);
    close(r.difference.high, 947.3458674199254);
    close(r.difference.pValue, 0.8956931323516708, 1e-10);
    close(r.difference.welchDf, 25.43067604300253);
    expect(r.difference.kind).toBe('fixed-horizon');
    expect(r.alpha).toBe(0.05);
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
    // python3: z90 = special.ndtri(0.95); d∓z90·se → −685.7953261163449, 804.5869927830116
    const r = compareMeans(CONTROL, VARIANT, { alpha: 0.1 });
    close(r.difference.low, -685.7953261163449);
    close(r.difference.high, 804.5869927830116);
  });

  it('sufficient statistics give the same answer as the values', () => {
    const a = compareMeans(CONTROL, VARIANT);
    const b = compareMeans(summarize(CONTROL), summarize(VARIANT));
    close(b.difference.estimate, a.difference.estimate);
    close(b.difference.standardError, a.difference.standardError, 1e-10);
    close(b.relative!.high, a.relative!.high, 1e-10);
    const typed = compareMeans(Float64Array.from(CONTROL), Float64Array.from(VARIANT));
    expect(typed.difference.standardError).toBe(a.difference.standardError);
  });

  it('conversions are the 0/1 case', () => {
    // python3: a, b = 0/1 arrays with 30 and 45 ones of 1000;
    //   d = b.mean()-a.mean(); se = np.sqrt(a.var(ddof=1)/1000 + b.var(ddof=1)/1000)
    //   → 0.015, 0.008493947677443459, d∓z·se −0.0016478315343568216, 0.031647831534356824
    const r = compareMeans(conversions(1000, 30), conversions(1000, 45));
    close(r.difference.estimate, 0.015);
    close(r.difference.standardError, 0.008493947677443459, 1e-10);
    close(r.difference.low, -0.0016478315343568216, 1e-10);
    close(r.difference.high, 0.031647831534356824, 1e-10);
    // 0.045/0.03 − 1 = 0.5 (hand arithmetic)
    close(r.relative!.estimate, 0.5);
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
  });
});
