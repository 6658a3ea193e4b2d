/**
 * Samples of an experiment arm: one outcome per recipient (revenue in minor units over the window,
 * zeros included; 0/1 for a conversion), given either as the values or as their sufficient statistics
 * {n, Σy, Σy², Σy³?} (what one SQL `GROUP BY arm` returns). Shared validation lives here too, so every
 * function names the field it refuses.
 */
import { invalid } from '../../shared/errors.js';

/** Sufficient statistics of one arm: recipients, Σ outcome, Σ outcome² and, optionally, Σ outcome³. */
export interface SampleStats {
  n: number;
  sum: number;
  sumSq: number;
  /**
   * Σ outcome³: the third moment compareMeans' skewness correction needs. Without it (a query that sums
   * only y and y²) the arm's skewness is unknown and compareMeans gives the plain normal interval.
   */
  sumCube?: number;
}

/** One arm's per-recipient outcomes, as values or as sufficient statistics. */
export type Sample = readonly number[] | Float64Array | SampleStats;

/** What the formulas use: count, mean and the unbiased (n − 1) sample variance. */
export interface Moments {
  n: number;
  mean: number;
  variance: number;
  /**
   * The third central moment Σ(y − ȳ)³/n (the moment estimator, divisor n); absent when the arm was given
   * as statistics without `sumCube`.
   */
  thirdMoment?: number;
}

/** One arm as reported back: its moments and the standard error of its mean, √(s²/n). */
export interface ArmSummary extends Moments {
  standardError: number;
}

function isStats(sample: Sample): sample is SampleStats {
  return !Array.isArray(sample) && !(sample instanceof Float64Array);
}

/** Σ, Σ², Σ³ of values (refusing non-finite ones): the statistics form of an array sample. */
export function summarize(values: readonly number[] | Float64Array, field = 'values'): SampleStats {
  let sum = 0;
  let sumSq = 0;
  let sumCube = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw invalid(`${field}[${i}] must be a finite number, got ${v}`, { field });
    sum += v;
    sumSq += v * v;
    sumCube += v * v * v;
  }
  return { n: values.length, sum, sumSq, sumCube };
}

/** The statistics of a 0/1 sample with `converted` ones among `n` recipients. */
export function conversions(n: number, converted: number): SampleStats {
  if (!Number.isInteger(n) || n < 0)
    throw invalid(`n must be a non-negative integer, got ${n}`, { field: 'n' });
  if (!Number.isInteger(converted) || converted < 0 || converted > n)
    throw invalid(`converted must be an integer between 0 and n (${n}), got ${converted}`, {
      field: 'converted',
    });
  return { n, sum: converted, sumSq: converted, sumCube: converted };
}

/**
 * Count, mean, unbiased variance and third central moment of a sample, refusing fewer than `minN`
 * recipients, non-finite values and statistics that cannot come from one sample (Σy² < (Σy)²/n). Arrays
 * use two passes (no cancellation); statistics use Σy² − (Σy)²/n, clamped at 0 against rounding, and
 * (Σy³ − 3ȳΣy² + 2ȳ²Σy)/n when Σy³ is given.
 */
export function moments(sample: Sample, field: string, minN = 2): Moments {
  if (isStats(sample)) {
    if (sample === null || typeof sample !== 'object')
      throw invalid(`${field} must be an array of numbers or { n, sum, sumSq }`, { field });
    const { n, sum, sumSq } = sample;
    if (!Number.isInteger(n) || n < minN)
      throw invalid(`${field}.n must be an integer of at least ${minN}, got ${n}`, { field: `${field}.n` });
    if (!Number.isFinite(sum))
      throw invalid(`${field}.sum must be a finite number`, { field: `${field}.sum` });
    if (!Number.isFinite(sumSq) || sumSq < 0)
      throw invalid(`${field}.sumSq must be a finite non-negative number`, { field: `${field}.sumSq` });
    const mean = sum / n;
    let m2 = sumSq - sum * mean;
    if (m2 < 0) {
      // Rounding can leave a constant sample's m2 a few ulps below 0; more than that is wrong input.
      if (-m2 > 1e-9 * sumSq + 1e-12)
        throw invalid(
          `${field}.sumSq (${sumSq}) is below sum²/n (${sum * mean}): not the sums of one sample`,
          {
            field: `${field}.sumSq`,
          },
        );
      m2 = 0;
    }
    const variance = n > 1 ? m2 / (n - 1) : NaN;
    const { sumCube } = sample;
    if (sumCube === undefined) return { n, mean, variance };
    if (typeof sumCube !== 'number' || !Number.isFinite(sumCube))
      throw invalid(`${field}.sumCube must be a finite number`, { field: `${field}.sumCube` });
    return { n, mean, variance, thirdMoment: thirdFromSums(n, sum, sumSq, sumCube, mean, m2) };
  }
  const n = sample.length;
  if (n < minN) throw invalid(`${field} needs at least ${minN} recipients, got ${n}`, { field });
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = sample[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw invalid(`${field}[${i}] must be a finite number, got ${String(v)}`, { field });
    sum += v;
  }
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const d = sample[i]! - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : NaN, thirdMoment: m3 / n };
}

/**
 * Σ(y − ȳ)³/n from raw sums: (Σy³ − 3ȳΣy² + 2ȳ²Σy)/n. The terms cancel when the mean is large against the
 * spread; a result within 1e-10 of the terms' size (their accumulated rounding error) is taken as 0, as is
 * any sample without spread. That loses only skewness below ~6e-10·(ȳ/s)³ — under 0.6 even with the mean
 * 1,000 standard deviations from 0 — which the correction would barely use.
 */
function thirdFromSums(
  n: number,
  sum: number,
  sumSq: number,
  sumCube: number,
  mean: number,
  m2: number,
): number {
  if (!(m2 > 0)) return 0;
  const a = sumCube;
  const b = 3 * mean * sumSq;
  const c = 2 * mean * mean * sum;
  const s3 = a - b + c;
  return Math.abs(s3) <= 1e-10 * (Math.abs(a) + Math.abs(b) + Math.abs(c)) ? 0 : s3 / n;
}

/** Moments plus the standard error of the mean. */
export function armSummary(m: Moments): ArmSummary {
  return { ...m, standardError: Math.sqrt(m.variance / m.n) };
}

/** Refuses α outside (0, 1). Returns it. */
export function checkAlpha(alpha: number, field = 'alpha'): number {
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1))
    throw invalid(`${field} must be a number strictly between 0 and 1, got ${String(alpha)}`, { field });
  return alpha;
}

/** Refuses anything but a finite number. */
export function checkFinite(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(`${field} must be a finite number, got ${String(value)}`, { field });
  return value;
}

/** Refuses anything but a finite number > 0. */
export function checkPositive(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0))
    throw invalid(`${field} must be a finite number greater than 0, got ${String(value)}`, { field });
  return value;
}
