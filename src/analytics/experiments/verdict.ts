/**
 * The answer in one sentence for the store owner: how much more (or less) each recipient of the variant
 * earned than the holdout, with the interval, and optionally the probability the variant is better.
 * Money is formatted by the caller (no currency logic here). Pure.
 */
import { invalid } from '../../shared/errors.js';
import type { DifferenceInterval } from './compare.js';

export interface VerdictInput {
  /** The difference variant − holdout with its interval: compareMeans(...).difference or alwaysValidInterval(...). */
  interval: DifferenceInterval;
  /** How the sentence names the variant, e.g. 'Variant B' (starts the sentence). */
  variantName: string;
  /** Its short name in the probability clause, e.g. 'B'; default variantName. */
  variantShortName?: string;
  /** Default 'the holdout'. */
  controlName?: string;
  /** Formats an amount in minor units (may be negative), e.g. 41 → '£0.41', −20 → '−£0.20'. */
  formatMoney: (minor: number) => string;
  /** P(variant beats the holdout), e.g. probabilityToBeatControl(...).probability; omitted: no clause. */
  probabilityToBeat?: number;
}

/** '95', '97.5', '90': the confidence level 1 − α in percent, at most one decimal. */
function confidencePercent(alpha: number): string {
  return String(Number(((1 - alpha) * 100).toFixed(1)));
}

/** A probability as a whole percent, never claiming certainty: '> 99 %' and '< 1 %' at the ends. */
export function formatProbability(p: number): string {
  if (p >= 0.995) return '> 99 %';
  if (p < 0.005) return '< 1 %';
  return `${Math.round(p * 100)} %`;
}

/**
 * - Interval excluding 0: "Variant B earned £0.41 more per recipient than the holdout (95 % CI £0.05 to
 *   £0.77); probability B beats the holdout: 99 %." ("less" when below 0).
 * - Interval containing 0: "Variant B was not distinguishable from the holdout: £0.12 more per
 *   recipient (95 % CI −£0.20 to £0.44); probability B beats the holdout: 72 %."
 * An always-valid interval is labelled "always-valid CI".
 */
export function verdict(input: VerdictInput): string {
  const { interval, formatMoney } = input;
  if (interval === null || typeof interval !== 'object')
    throw invalid('interval must be the result of compareMeans(...).difference or alwaysValidInterval', {
      field: 'interval',
    });
  for (const key of ['estimate', 'low', 'high'] as const)
    if (typeof interval[key] !== 'number' || !Number.isFinite(interval[key]))
      throw invalid(`interval.${key} must be a finite number`, { field: `interval.${key}` });
  if (!(interval.low <= interval.estimate && interval.estimate <= interval.high))
    throw invalid('interval must satisfy low ≤ estimate ≤ high', { field: 'interval' });
  if (!(interval.alpha > 0 && interval.alpha < 1))
    throw invalid('interval.alpha must be strictly between 0 and 1', { field: 'interval.alpha' });
  if (typeof formatMoney !== 'function')
    throw invalid('formatMoney must be a function', { field: 'formatMoney' });
  if (typeof input.variantName !== 'string' || input.variantName.trim() === '')
    throw invalid('variantName must be a non-empty string', { field: 'variantName' });
  const p = input.probabilityToBeat;
  if (p !== undefined && (typeof p !== 'number' || !(p >= 0 && p <= 1)))
    throw invalid(`probabilityToBeat must be between 0 and 1, got ${String(p)}`, {
      field: 'probabilityToBeat',
    });

  const variant = input.variantName;
  const short = input.variantShortName ?? variant;
  const control = input.controlName ?? 'the holdout';
  const label = interval.kind === 'always-valid' ? 'always-valid CI' : 'CI';
  const ci = `${confidencePercent(interval.alpha)} % ${label} ${formatMoney(interval.low)} to ${formatMoney(interval.high)}`;
  const d = interval.estimate;
  const amount = `${formatMoney(Math.abs(d))} ${d < 0 ? 'less' : 'more'}`;
  const probability =
    p === undefined ? '' : `; probability ${short} beats ${control}: ${formatProbability(p)}`;
  if (interval.low > 0 || interval.high < 0)
    return `${variant} earned ${amount} per recipient than ${control} (${ci})${probability}.`;
  return `${variant} was not distinguishable from ${control}: ${amount} per recipient (${ci})${probability}.`;
}
