/**
 * The Bayesian reading of a comparison: the probability that the variant's true mean outcome per
 * recipient exceeds the control's, given the data and a stated prior. Pure, deterministic (no Monte
 * Carlo).
 */
import { invalid } from '../../shared/errors.js';
import { lbeta, logSumExp } from '../btyd/special.js';
import { normalCdf } from './distributions.js';
import { checkFinite, moments, type Sample } from './samples.js';

/** Normal prior on each arm's mean, in the outcome's units; sd = ∞ (the default) is the flat prior. */
export interface NormalPrior {
  mean: number;
  sd: number;
}

/** Beta(alpha, beta) prior on each arm's conversion rate; integers (Beta(1, 1), uniform, by default). */
export interface BetaPrior {
  alpha: number;
  beta: number;
}

export type BeatControlOptions =
  { kind?: 'mean'; prior?: NormalPrior } | { kind: 'conversion'; prior?: BetaPrior };

/** An arm's posterior: a normal (mean, sd) or a Beta (alpha, beta, with its mean and sd). */
export interface ArmPosterior {
  mean: number;
  sd: number;
  alpha?: number;
  beta?: number;
}

export interface BeatControlResult {
  /** P(variant's true mean > control's | data). */
  probability: number;
  method: 'normal-approximation' | 'beta-exact';
  control: ArmPosterior;
  variant: ArmPosterior;
}

/**
 * P(variant beats control).
 *
 * `kind: 'mean'` (default; revenue per recipient): each arm's mean μ has the normal approximation of
 * its likelihood, ȳ ~ N(μ, s²/n) (central limit theorem; s² the sample variance), and prior
 * N(m₀, σ₀²); the posterior is normal with precision 1/σ₀² + n/s² and mean (m₀/σ₀² + n·ȳ/s²)/precision
 * (with the default flat prior, σ₀ = ∞: N(ȳ, s²/n)). The arms are independent, so
 * P(μ_v > μ_c) = Φ((m_v − m_c)/√(sd_v² + sd_c²)). Each arm needs ≥ 2 recipients.
 *
 * `kind: 'conversion'`: 0/1 outcomes (arrays of 0 and 1, or statistics with sum = sumSq = conversions),
 * prior Beta(α₀, β₀) (default Beta(1, 1)), posteriors Beta(α₀ + k, β₀ + n − k). With integer α, the
 * exact closed form (Miller 2015, after Cook 2005):
 * P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A + i, β_A + β_B) / ((β_B + i)·B(1 + i, β_B)·B(α_A, β_A)),
 * summed in log space over the arm with the smaller α (P(B > A) = 1 − P(A > B), ties have probability 0).
 */
export function probabilityToBeatControl(
  control: Sample,
  variant: Sample,
  options: BeatControlOptions = {},
): BeatControlResult {
  if (options.kind === 'conversion') return conversionProbability(control, variant, options.prior);
  if (options.kind !== undefined && options.kind !== 'mean')
    throw invalid(`kind must be 'mean' or 'conversion', got ${String(options.kind)}`, { field: 'kind' });
  const prior = options.prior ?? { mean: 0, sd: Infinity };
  checkFinite(prior.mean, 'prior.mean');
  if (typeof prior.sd !== 'number' || !(prior.sd > 0))
    throw invalid(`prior.sd must be greater than 0 (Infinity: flat), got ${String(prior.sd)}`, {
      field: 'prior.sd',
    });
  const c = normalPosterior(control, 'control', prior);
  const v = normalPosterior(variant, 'variant', prior);
  const diff = v.mean - c.mean;
  const sd = Math.sqrt(v.sd ** 2 + c.sd ** 2);
  const probability = sd > 0 ? normalCdf(diff / sd) : diff > 0 ? 1 : diff < 0 ? 0 : 0.5;
  return { probability, method: 'normal-approximation', control: c, variant: v };
}

function normalPosterior(sample: Sample, field: string, prior: NormalPrior): ArmPosterior {
  const m = moments(sample, field);
  const dataVar = m.variance / m.n;
  if (prior.sd === Infinity) return { mean: m.mean, sd: Math.sqrt(dataVar) };
  const priorPrecision = 1 / prior.sd ** 2;
  if (dataVar === 0) return { mean: m.mean, sd: 0 };
  const precision = priorPrecision + 1 / dataVar;
  return { mean: (prior.mean * priorPrecision + m.mean / dataVar) / precision, sd: Math.sqrt(1 / precision) };
}

/** Conversions k out of n from a 0/1 sample, refusing anything else. */
function conversionCounts(sample: Sample, field: string): { n: number; k: number } {
  if (Array.isArray(sample) || sample instanceof Float64Array) {
    let k = 0;
    for (let i = 0; i < sample.length; i++) {
      const v = sample[i];
      if (v !== 0 && v !== 1)
        throw invalid(`${field}[${i}] must be 0 or 1 for a conversion, got ${v}`, { field });
      k += v;
    }
    if (sample.length < 1) throw invalid(`${field} needs at least 1 recipient`, { field });
    return { n: sample.length, k };
  }
  const s = sample as { n: number; sum: number; sumSq: number };
  if (s === null || typeof s !== 'object')
    throw invalid(`${field} must be an array or { n, sum, sumSq }`, { field });
  if (!Number.isInteger(s.n) || s.n < 1)
    throw invalid(`${field}.n must be a positive integer, got ${s.n}`, { field: `${field}.n` });
  if (!Number.isInteger(s.sum) || s.sum < 0 || s.sum > s.n || s.sumSq !== s.sum)
    throw invalid(
      `${field} must be 0/1 outcomes for a conversion: sum an integer in [0, n] and sumSq equal to sum`,
      { field: `${field}.sum` },
    );
  return { n: s.n, k: s.sum };
}

function betaPosterior(a: number, b: number): ArmPosterior {
  return { alpha: a, beta: b, mean: a / (a + b), sd: Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1))) };
}

function conversionProbability(control: Sample, variant: Sample, prior?: BetaPrior): BeatControlResult {
  const p = prior ?? { alpha: 1, beta: 1 };
  for (const key of ['alpha', 'beta'] as const) {
    const v = p[key];
    if (!Number.isInteger(v) || v < 1)
      throw invalid(`prior.${key} must be a positive integer (the exact formula needs integers), got ${v}`, {
        field: `prior.${key}`,
      });
  }
  const c = conversionCounts(control, 'control');
  const v = conversionCounts(variant, 'variant');
  const aA = p.alpha + c.k;
  const bA = p.beta + c.n - c.k;
  const aB = p.alpha + v.k;
  const bB = p.beta + v.n - v.k;
  const probability = aB <= aA ? probBGreater(aA, bA, aB, bB) : 1 - probBGreater(aB, bB, aA, bA);
  return {
    probability: Math.min(1, Math.max(0, probability)),
    method: 'beta-exact',
    control: betaPosterior(aA, bA),
    variant: betaPosterior(aB, bB),
  };
}

/** P(p_B > p_A) for p_A ~ Beta(aA, bA), p_B ~ Beta(aB, bB), aB a positive integer: aB terms. */
function probBGreater(aA: number, bA: number, aB: number, bB: number): number {
  const terms = new Float64Array(aB);
  const base = lbeta(aA, bA);
  for (let i = 0; i < aB; i++) terms[i] = lbeta(aA + i, bA + bB) - Math.log(bB + i) - lbeta(1 + i, bB) - base;
  return Math.exp(logSumExp(terms));
}
