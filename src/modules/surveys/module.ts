import type { RetainModule } from '../../kit/module.js';
import { registerSurveys } from './commands.js';
import { surveyOrdersMigration, surveysMigration } from './migrations.js';

/**
 * Surveys (docs/surveys.md): NPS or CSAT plus "why", one click from the message; a low score becomes a
 * call task; the customer is asked again when it is done.
 */
export const surveysModule: RetainModule = {
  name: 'surveys',
  migrations: [surveysMigration, surveyOrdersMigration],
  commands: registerSurveys,
  routes: async () => (await import('./routes.js')).registerSurveyRoutes,
  jobs: async () => (await import('./jobs.js')).SURVEY_JOBS,
  customerHooks: {
    tables: ['survey_invitations', 'survey_answers', 'survey_throttle'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerSurveys(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerSurveys(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['survey.invited', 'survey.answered'],
    entries: async (db, q) => (await import('./repository.js')).surveyTimeline(db, q),
  },
  schedules: [
    // Tasks done since: their customers asked again, every hour at :35.
    {
      name: 'surveys.follow-up',
      cron: '35 * * * *',
      timeZone: 'UTC',
      kind: 'surveys.follow-up',
      catchUp: 'skip',
    },
  ],
};
