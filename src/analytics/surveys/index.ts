/**
 * The analytics of survey results (issue 27): NPS and CSAT with their intervals, score bands, the themes
 * of the "why" answers per band, and the unhappy words that turn an answer into a call task. Pure: no
 * I/O, no clock.
 */
export { BANDS, SCORE_RANGE, bandOf, csat, nps, wilson } from './scores.js';
export type {
  CsatBand,
  CsatResult,
  NpsBand,
  NpsResult,
  ScoreBand,
  ScoreOptions,
  SurveyKind,
} from './scores.js';
export {
  SURVEY_LANGUAGES,
  analyze,
  answerLanguage,
  detectLanguage,
  isNegative,
  languageOfTag,
  negativeTerms,
  stemOf,
  surveyThemes,
  tokenize,
} from './themes.js';
export type { BandThemes, SurveyAnswer, SurveyLanguage, Theme, ThemeOptions, Token } from './themes.js';
export {
  FEW_ANSWERS,
  FEW_LOW_SCORES,
  lowScoreEffect,
  scoresBy,
  valueByBand,
  windowOutcome,
} from './outcomes.js';
export type {
  BandValue,
  Difference,
  EffectGroup,
  GroupScore,
  LowScoreEffect,
  NetOrder,
  ValueByBand,
  WindowOutcome,
} from './outcomes.js';
