import { describe, expect, it } from 'vitest';
import { srmCheck } from './srm.js';
import { errorField } from '../../../test/support/errors.js';

describe('srmCheck vs scipy.stats.chisquare', () => {
  // python3: from scipy import stats; N = sum(obs)
  //   r = stats.chisquare(obs, [N*s for s in shares]); float(r.statistic), float(r.pvalue)
  const cases: [number[], number[], number, number, boolean][] = [
    [[1800, 200], [0.9, 0.1], 0.0, 1.0, false],
    [[1830, 170], [0.9, 0.1], 5.0, 0.025347318677468325, false],
    [[1850, 150], [0.9, 0.1], 13.88888888888889, 0.0001939416291037193, true],
    [[620, 700, 680], [1 / 3, 1 / 3, 1 / 3], 5.2, 0.07427357821433386, false],
    [[4500, 4420, 1080], [0.45, 0.45, 0.1], 7.822222222222223, 0.020018246204381352, false],
  ];
  it.each(cases)('%j against %j', (observed, shares, statistic, pValue, mismatch) => {
    const r = srmCheck(observed, shares);
    expect(Math.abs(r.statistic - statistic)).toBeLessThan(1e-10);
    expect(Math.abs(r.pValue - pValue)).toBeLessThanOrEqual(1e-12 * pValue + 1e-15);
    expect(r.degreesOfFreedom).toBe(observed.length - 1);
    expect(r.mismatch).toBe(mismatch);
  });

  it('the threshold is configurable', () => {
    expect(srmCheck([1830, 170], [0.9, 0.1], { threshold: 0.05 }).mismatch).toBe(true);
    expect(srmCheck([1830, 170], [0.9, 0.1]).threshold).toBe(0.001);
  });

  it('refuses bad input, naming the field', () => {
    const field = errorField;
    expect(field(() => srmCheck([10], [1]))).toBe('observedCounts');
    expect(field(() => srmCheck([10, 2.5], [0.5, 0.5]))).toBe('observedCounts');
    expect(field(() => srmCheck([0, 0], [0.5, 0.5]))).toBe('observedCounts');
    expect(field(() => srmCheck([10, 20], [0.5, 0.4]))).toBe('expectedShares');
    expect(field(() => srmCheck([10, 20], [1, 0]))).toBe('expectedShares');
    expect(field(() => srmCheck([10, 20], [0.5, 0.5, 0]))).toBe('expectedShares');
    expect(field(() => srmCheck([10, 20], [0.5, 0.5], { threshold: 2 }))).toBe('threshold');
  });
});
