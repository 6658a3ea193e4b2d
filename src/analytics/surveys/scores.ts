/**
 * The figures of a survey's scores (issue 27): NPS of 0–10 answers and CSAT of 1–5 answers, each with
 * a 95 % interval, and the band of one score (detractor/passive/promoter, unhappy/neutral/happy). Pure:
 * lists of integers in, numbers out.
 */
import { invalid } from '../../shared/errors.js';
import { normalQuantile } from '../experiments/distributions.js';

export type SurveyKind = 'nps' | 'csat';
export type NpsBand = 'detractor' | 'passive' | 'promoter';
export type CsatBand = 'unhappy' | 'neutral' | 'happy';
export type ScoreBand = NpsBand | CsatBand;

/** The bands of each kind, worst first (the order reports list them in). */
export const BANDS: { readonly nps: readonly NpsBand[]; readonly csat: readonly CsatBand[] } = {
  nps: ['detractor', 'passive', 'promoter'],
  csat: ['unhappy', 'neutral', 'happy'],
};

/** The lowest and highest score of each kind. */
export const SCORE_RANGE: Readonly<Record<SurveyKind, { min: number; max: number }>> = {
  nps: { min: 0, max: 10 },
  csat: { min: 1, max: 5 },
};

export interface ScoreOptions {
  /** Two-sided confidence of the interval, in (0, 1); default 0.95. */
  confidence?: number;
}

export interface NpsResult {
  /** Number of scores. */
  n: number;
  promoters: number;
  passives: number;
  detractors: number;
  /** %promoters − %detractors, in percentage points (−100..100). */
  nps: number;
  /**
   * Standard error of `nps` in percentage points: 100·√((p_P + p_D − (p_P − p_D)²)/n), the variance of the
   * mean of a score that is +1 for a promoter, 0 for a passive and −1 for a detractor (multinomial).
   */
  standardError: number;
  /** The normal interval nps ± z·SE, clipped to −100..100. */
  low: number;
  high: number;
  confidence: number;
}

export interface CsatResult {
  n: number;
  /** Scores of 4 or 5. */
  satisfied: number;
  /** Share of 4–5 scores in percent (0–100), the unit NPS is reported in. */
  csat: number;
  /** Wilson score interval of the share, in percent (stays within 0..100 and is not empty at 0 or 100). */
  low: number;
  high: number;
  confidence: number;
}

/** The band of one score: NPS 0–6 detractor, 7–8 passive, 9–10 promoter; CSAT 1–2 unhappy, 3 neutral, 4–5 happy. */
export function bandOf(kind: 'nps', score: number): NpsBand;
export function bandOf(kind: 'csat', score: number): CsatBand;
export function bandOf(kind: SurveyKind, score: number): ScoreBand;
export function bandOf(kind: SurveyKind, score: number): ScoreBand {
  checkScore(kind, score);
  if (kind === 'nps') return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
  return score >= 4 ? 'happy' : score === 3 ? 'neutral' : 'unhappy';
}

/** Net Promoter Score of 0–10 scores, with its standard error and interval. Throws on no scores. */
export function nps(scores: readonly number[], options: ScoreOptions = {}): NpsResult {
  const z = zOf(options.confidence);
  checkScores('nps', scores);
  let promoters = 0;
  let detractors = 0;
  for (const s of scores) {
    if (s >= 9) promoters++;
    else if (s <= 6) detractors++;
  }
  const n = scores.length;
  const pP = promoters / n;
  const pD = detractors / n;
  const value = 100 * (pP - pD);
  // Clamp at 0: for p_P + p_D = 1 with one of them 0 the expression is 0 up to rounding, never negative.
  const variance = Math.max(0, pP + pD - (pP - pD) ** 2) / n;
  const standardError = 100 * Math.sqrt(variance);
  return {
    n,
    promoters,
    passives: n - promoters - detractors,
    detractors,
    nps: value,
    standardError,
    low: Math.max(-100, value - z * standardError),
    high: Math.min(100, value + z * standardError),
    confidence: options.confidence ?? 0.95,
  };
}

/**
 * Customer satisfaction of 1–5 scores: the share of 4s and 5s with a Wilson interval. Wilson rather than
 * p ± z·SE because CSAT shares sit near 100 % on small samples, where the normal interval leaves 0..100
 * and collapses to a point at 100 %. Throws on no scores.
 */
export function csat(scores: readonly number[], options: ScoreOptions = {}): CsatResult {
  const z = zOf(options.confidence);
  checkScores('csat', scores);
  let satisfied = 0;
  for (const s of scores) if (s >= 4) satisfied++;
  const n = scores.length;
  const { low, high } = wilson(satisfied, n, z);
  return {
    n,
    satisfied,
    csat: (100 * satisfied) / n,
    low: 100 * low,
    high: 100 * high,
    confidence: options.confidence ?? 0.95,
  };
}

/**
 * Wilson's score interval of a proportion k/n: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
 * Exported for tests and for other shares of answers.
 */
export function wilson(k: number, n: number, z: number): { low: number; high: number } {
  const p = k / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // Rounding can put the ends a hair outside [0, 1] at k = 0 or k = n.
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

function zOf(confidence: number | undefined): number {
  const c = confidence ?? 0.95;
  if (!(c > 0 && c < 1)) throw invalid(`confidence must be between 0 and 1 (exclusive), got ${c}`);
  return normalQuantile(1 - (1 - c) / 2);
}

function checkScores(kind: SurveyKind, scores: readonly number[]): void {
  if (scores.length === 0) throw invalid(`${kind.toUpperCase()} needs at least one score`);
  scores.forEach((s, i) => checkScore(kind, s, `scores[${i}]`));
}

function checkScore(kind: SurveyKind, score: number, field = 'score'): void {
  const range = SCORE_RANGE[kind];
  if (!range) throw invalid(`survey kind must be 'nps' or 'csat', got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(score) || score < range.min || score > range.max) {
    throw invalid(
      `${kind.toUpperCase()} scores are whole numbers from ${range.min} to ${range.max}; ${field} is ${shown(score)}`,
      { field },
    );
  }
}

/** A value as the error shows it: NaN stays NaN (JSON would say null), a string keeps its quotes. */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}
