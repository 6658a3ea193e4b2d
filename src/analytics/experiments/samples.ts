/**
 * Samples of an experiment arm: one outcome per recipient (revenue in minor units over the window,
 * zeros included; 0/1 for a conversion), given either as the values or as their sufficient statistics
 * {n, Σy, Σy²} (what one SQL `GROUP BY arm` returns). Shared validation lives here too, so every
 * function names the field it refuses.
 */
import { invalid } from '../../shared/errors.js';

/** Sufficient statistics of one arm: recipients, Σ outcome, Σ outcome². */
export interface SampleStats {
  n: number;
  sum: number;
  sumSq: number;
}

/** One arm's per-recipient outcomes, as values or as sufficient statistics. */
export type Sample = readonly number[] | Float64Array | SampleStats;

/** What the formulas use: count, mean and the unbiased (n − 1) sample variance. */
export interface Moments {
  n: number;
  mean: number;
  variance: number;
}

/** One arm as reported back: its moments and the standard error of its mean, √(s²/n). */
export interface ArmSummary extends Moments {
  standardError: number;
}

function isStats(sample: Sample): sample is SampleStats {
  return !Array.isArray(sample) && !(sample instanceof Float64Array);
}

/** Σ, Σ² of values (refusing non-finite ones): the statistics form of an array sample. */
export function summarize(values: readonly number[] | Float64Array, field = 'values'): SampleStats {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw invalid(`${field}[${i}] must be a finite number, got ${v}`, { field });
    sum += v;
    sumSq += v * v;
  }
  return { n: values.length, sum, sumSq };
}

/** The statistics of a 0/1 sample with `converted` ones among `n` recipients. */
export function conversions(n: number, converted: number): SampleStats {
  if (!Number.isInteger(n) || n < 0)
    throw invalid(`n must be a non-negative integer, got ${n}`, { field: 'n' });
  if (!Number.isInteger(converted) || converted < 0 || converted > n)
    throw invalid(`converted must be an integer between 0 and n (${n}), got ${converted}`, {
      field: 'converted',
    });
  return { n, sum: converted, sumSq: converted };
}

/**
 * Count, mean and unbiased variance of a sample, refusing fewer than `minN` recipients, non-finite
 * values and statistics that cannot come from one sample (Σy² < (Σy)²/n). Arrays use two passes
 * (no cancellation); statistics use Σy² − (Σy)²/n, clamped at 0 against rounding.
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
    return { n, mean, variance: n > 1 ? m2 / (n - 1) : NaN };
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
  for (let i = 0; i < n; i++) {
    const d = sample[i]! - mean;
    m2 += d * d;
  }
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : NaN };
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
