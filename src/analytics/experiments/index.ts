/**
 * Statistics of campaigns and experiments (issue 25): a variant against its holdout. See
 * docs/experiments.md for the formulas and their references. Pure math: no I/O, no clock.
 */
export { compareMeans } from './compare.js';
export type {
  CompareOptions,
  DifferenceEstimate,
  DifferenceInterval,
  MeanComparison,
  RelativeEstimate,
} from './compare.js';
export { cuped } from './cuped.js';
export type { CupedResult } from './cuped.js';
export { probabilityToBeatControl } from './bayes.js';
export type { ArmPosterior, BeatControlOptions, BeatControlResult, BetaPrior, NormalPrior } from './bayes.js';
export { srmCheck } from './srm.js';
export type { SrmOptions, SrmResult } from './srm.js';
export { minimumDetectableEffect, requiredSampleSize } from './power.js';
export type { MdeInput, MdeResult, SampleSizeInput, SampleSizeResult } from './power.js';
export { alwaysValidInterval, mixingTau, stopDecision } from './sequential.js';
export type {
  AlwaysValidInterval,
  AlwaysValidOptions,
  MixingTauInput,
  StopDecision,
  StopDecisionKind,
  StopRuleOptions,
} from './sequential.js';
export { formatProbability, verdict } from './verdict.js';
export type { VerdictInput } from './verdict.js';
export { conversions, summarize } from './samples.js';
export type { ArmSummary, Sample, SampleStats } from './samples.js';
export {
  chiSquareSf,
  normalCdf,
  normalQuantile,
  regularizedGammaP,
  regularizedGammaQ,
} from './distributions.js';
