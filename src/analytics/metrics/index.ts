/**
 * The pure metrics layer: arrays in, report objects out (docs/metrics.md). No I/O, no clock —
 * every report takes an explicit `asOf`. Feed orders sorted by customer, then time, for speed.
 */
export * from './types.js';
export { summarize, type SummaryInput, type SummaryReport } from './summary.js';
export { ltvReport, type LtvInput, type LtvReport, type LtvGroup, type LtvFormula, type Cac } from './ltv.js';
export {
  retentionReport,
  type RetentionInput,
  type RetentionReport,
  type RetentionPeriod,
} from './retention.js';
export { cohortReport, type CohortInput, type CohortReport, type CohortRow } from './cohorts.js';
export {
  rfmReport,
  rfmScores,
  quintileScores,
  rankScores,
  segmentOf,
  RFM_SEGMENTS,
  type RfmReport,
  type RfmCustomer,
  type RfmSegment,
  type RfmSegmentRow,
} from './rfm.js';
export {
  channelsReport,
  LTV_HORIZONS,
  PAYBACK_CHECKPOINTS,
  type ChannelsInput,
  type ChannelsReport,
  type ChannelRow,
  type Reallocation,
} from './channels.js';
export {
  decomposeRevenuePerCustomer,
  EFFECTS,
  DRIVER_DIMENSIONS,
  type DecompositionInput,
  type DecompositionReport,
  type EffectPart,
  type DriverTable,
} from './decomposition.js';
export { buildDigest, type DigestInput, type DigestData, type MonthHeadline } from './digest.js';
export { monthRange } from './util.js';
