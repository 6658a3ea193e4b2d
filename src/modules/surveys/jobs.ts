import type { JobHandler } from '../../kit/context.js';
import { FOLLOW_UP_JOB, sendFollowUps } from './service.js';

export const SURVEY_JOBS: Record<string, JobHandler> = {
  /** Asks again each customer whose survey task is done (hourly). */
  [FOLLOW_UP_JOB]: async (ctx) => sendFollowUps(ctx),
};
