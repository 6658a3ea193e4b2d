/**
 * Planning a send with a holdout: the smallest effect a split can detect, and the recipients needed to
 * detect a given one. Two-sample, two-sided normal (z) test with a common outcome standard deviation σ
 * in both arms — the formulas of statsmodels' NormalIndPower, closed form (the other tail's power,
 * below 1e-6 at α = 0.05 and 80 % power, is ignored). Pure.
 */
import { invalid } from '../../shared/errors.js';
import { normalQuantile } from './distributions.js';
import { checkAlpha, checkFinite, checkPositive } from './samples.js';

interface DesignInput {
  /** Share of recipients held out (the control), in (0, 1): 0.1 for a 90/10 send. */
  holdoutShare: number;
  /** σ of the per-recipient outcome (minor units; √(p(1 − p)) for a conversion rate p). */
  baselineSd: number;
  /** Mean outcome per recipient without the send; only for the relative effect. */
  baselineMean?: number;
  /** Two-sided error rate, default 0.05. */
  alpha?: number;
  /** Probability of detecting the effect, in (0, 1); default 0.8. */
  power?: number;
}

export interface MdeInput extends DesignInput {
  /** Recipients in total (holdout + treatment); the groups are n·h and n·(1 − h), not rounded. */
  n: number;
}

export interface MdeResult {
  /** Smallest true difference in means detected with the stated power: (z_{1−α/2} + z_power)·SE. */
  absolute: number;
  /** absolute / baselineMean; null without a positive baselineMean. */
  relative: number | null;
  holdout: number;
  treatment: number;
  /** σ·√(1/n_holdout + 1/n_treatment). */
  standardError: number;
}

export interface SampleSizeInput extends DesignInput {
  /** Difference in means to detect (outcome units); give this or relativeEffect. */
  effect?: number;
  /** Difference relative to baselineMean (0.05 = 5 %); needs baselineMean. */
  relativeEffect?: number;
}

export interface SampleSizeResult {
  /** holdout + treatment. */
  total: number;
  /** ⌈h·N⌉ and ⌈(1 − h)·N⌉ for the exact N below, so each group is at least what the formula needs. */
  holdout: number;
  treatment: number;
  /** N = ((z_{1−α/2} + z_power)·σ/δ)²·(1/h + 1/(1 − h)), before rounding. */
  exactTotal: number;
  /** The absolute effect δ the size is for. */
  effect: number;
}

function design(input: DesignInput) {
  if (input === null || typeof input !== 'object') throw invalid('the design must be an object', {});
  const h = input.holdoutShare;
  if (typeof h !== 'number' || !(h > 0 && h < 1))
    throw invalid(`holdoutShare must be strictly between 0 and 1, got ${String(h)}`, {
      field: 'holdoutShare',
    });
  const sd = checkPositive(input.baselineSd, 'baselineSd');
  const alpha = checkAlpha(input.alpha ?? 0.05);
  const power = input.power ?? 0.8;
  if (typeof power !== 'number' || !(power > 0 && power < 1))
    throw invalid(`power must be strictly between 0 and 1, got ${String(power)}`, { field: 'power' });
  const baselineMean =
    input.baselineMean === undefined ? undefined : checkFinite(input.baselineMean, 'baselineMean');
  // z_{1−α/2} + z_power: the standardised distance between the null and the detectable effect.
  const zSum = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return { h, sd, zSum, baselineMean };
}

/**
 * Minimum detectable effect of n recipients split into a holdout (share h) and a treatment group:
 * MDE = (z_{1−α/2} + z_power)·σ·√(1/(n·h) + 1/(n·(1 − h))); relative = MDE / baselineMean.
 */
export function minimumDetectableEffect(input: MdeInput): MdeResult {
  const { h, sd, zSum, baselineMean } = design(input);
  const n = input.n;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
    throw invalid(`n must be a positive number of recipients, got ${String(n)}`, { field: 'n' });
  const holdout = n * h;
  const treatment = n * (1 - h);
  if (holdout < 2 || treatment < 2)
    throw invalid(
      `n·holdoutShare and n·(1 − holdoutShare) must each be at least 2 (got ${holdout}, ${treatment})`,
      {
        field: 'n',
      },
    );
  const standardError = sd * Math.sqrt(1 / holdout + 1 / treatment);
  const absolute = zSum * standardError;
  return {
    absolute,
    relative: baselineMean !== undefined && baselineMean > 0 ? absolute / baselineMean : null,
    holdout,
    treatment,
    standardError,
  };
}

/**
 * Recipients needed to detect a difference δ (absolute, or relative·baselineMean) with the stated
 * power: N = ((z_{1−α/2} + z_power)·σ/δ)²·(1/h + 1/(1 − h)), the inverse of minimumDetectableEffect.
 */
export function requiredSampleSize(input: SampleSizeInput): SampleSizeResult {
  const { h, sd, zSum, baselineMean } = design(input);
  const hasAbs = input.effect !== undefined;
  const hasRel = input.relativeEffect !== undefined;
  if (hasAbs === hasRel)
    throw invalid('give exactly one of effect (absolute) and relativeEffect', { field: 'effect' });
  let effect: number;
  if (hasAbs) {
    effect = checkFinite(input.effect!, 'effect');
  } else {
    const rel = checkFinite(input.relativeEffect!, 'relativeEffect');
    if (baselineMean === undefined || !(baselineMean > 0))
      throw invalid('relativeEffect needs a positive baselineMean', { field: 'baselineMean' });
    effect = rel * baselineMean;
  }
  if (effect === 0)
    throw invalid('the effect to detect must not be 0', { field: hasAbs ? 'effect' : 'relativeEffect' });
  const delta = Math.abs(effect);
  const exactTotal = ((zSum * sd) / delta) ** 2 * (1 / h + 1 / (1 - h));
  // Guard the ceilings against exact products landing a hair above an integer (h·N = 200.00000000000003).
  const up = (x: number) => Math.ceil(x - 1e-9 * Math.max(1, x));
  const holdout = Math.max(2, up(h * exactTotal));
  const treatment = Math.max(2, up((1 - h) * exactTotal));
  return { total: holdout + treatment, holdout, treatment, exactTotal, effect: delta };
}
