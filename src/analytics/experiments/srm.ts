/**
 * Sample-ratio mismatch: did the arms receive the shares of recipients the design said they would?
 * A mismatch (e.g. 1,850/150 where 90/10 was planned) means the assignment or the logging is broken
 * and the comparison cannot be trusted, whatever its interval says. Pure.
 */
import { invalid } from '../../shared/errors.js';
import { chiSquareSf } from './distributions.js';
import { checkAlpha } from './samples.js';

export interface SrmOptions {
  /** Flag a mismatch when the p-value is below this; default 0.001 (the usual SRM threshold). */
  threshold?: number;
}

export interface SrmResult {
  /** Pearson's χ² = Σ (observed − expected)² / expected. */
  statistic: number;
  degreesOfFreedom: number;
  /** P(χ²_{k−1} ≥ statistic). */
  pValue: number;
  expectedCounts: number[];
  threshold: number;
  /** pValue < threshold. */
  mismatch: boolean;
}

/**
 * Chi-square goodness-of-fit test of the arms' recipient counts against the planned shares: expected
 * count Eᵢ = N·shareᵢ, statistic Σ (Oᵢ − Eᵢ)²/Eᵢ on k − 1 degrees of freedom, p-value from the
 * chi-square survival function (regularized upper incomplete gamma Q((k−1)/2, χ²/2)). Counts are
 * non-negative integers (≥ 2 arms, N > 0), shares are > 0 and sum to 1 (within 1e-9).
 */
export function srmCheck(
  observedCounts: readonly number[],
  expectedShares: readonly number[],
  opts: SrmOptions = {},
): SrmResult {
  const threshold = checkAlpha(opts.threshold ?? 0.001, 'threshold');
  if (!Array.isArray(observedCounts) || observedCounts.length < 2)
    throw invalid('observedCounts must list at least 2 arms', { field: 'observedCounts' });
  if (!Array.isArray(expectedShares) || expectedShares.length !== observedCounts.length)
    throw invalid(
      `expectedShares must have one share per arm (${observedCounts.length}), got ${expectedShares?.length}`,
      { field: 'expectedShares' },
    );
  let total = 0;
  observedCounts.forEach((count, i) => {
    if (!Number.isInteger(count) || count < 0)
      throw invalid(`observedCounts[${i}] must be a non-negative integer, got ${count}`, {
        field: 'observedCounts',
      });
    total += count;
  });
  if (total === 0) throw invalid('observedCounts must not all be 0', { field: 'observedCounts' });
  let shareSum = 0;
  expectedShares.forEach((share, i) => {
    if (typeof share !== 'number' || !(share > 0 && share < 1))
      throw invalid(`expectedShares[${i}] must be strictly between 0 and 1, got ${share}`, {
        field: 'expectedShares',
      });
    shareSum += share;
  });
  if (Math.abs(shareSum - 1) > 1e-9)
    throw invalid(`expectedShares must sum to 1, got ${shareSum}`, { field: 'expectedShares' });

  const expectedCounts = expectedShares.map((s) => total * s);
  let statistic = 0;
  for (let i = 0; i < observedCounts.length; i++) {
    const e = expectedCounts[i]!;
    statistic += (observedCounts[i]! - e) ** 2 / e;
  }
  const degreesOfFreedom = observedCounts.length - 1;
  const pValue = chiSquareSf(statistic, degreesOfFreedom);
  return { statistic, degreesOfFreedom, pValue, expectedCounts, threshold, mismatch: pValue < threshold };
}
