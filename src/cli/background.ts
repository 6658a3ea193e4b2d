import type { Logger } from 'pino';
import type { Jobs } from '../kit/jobs.js';
import { invalid } from '../shared/errors.js';
import type { Database } from '../storage/port.js';

/** Parses a positive job concurrency (`retain worker --concurrency`, `retain serve --job-concurrency`). */
export function concurrency(v: string, option: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw invalid(`expected a whole number of jobs 1–256, got '${v}'`, { field: option });
  return n;
}

/**
 * The background half of a process (`retain worker`, and `retain serve` unless --no-jobs): the job
 * runner with every module's job handlers and cron schedules, and the domain-event dispatcher with
 * every module's subscribers, on one store and one queue. Neither is started.
 */
export async function background(opts: { db: Database; jobs: Jobs; logger: Logger; concurrency: number }) {
  const [{ JobRunner }, { jobHandlers, moduleSchedules, allSubscribers }, { Dispatcher }, { systemClock }] =
    await Promise.all([
      import('../modules/jobs/service.js'),
      import('../modules/registry.js'),
      import('../modules/outbox/dispatcher.js'),
      import('../kit/clock.js'),
    ]);
  const [handlers, schedules, subscribers] = await Promise.all([
    jobHandlers(),
    moduleSchedules(),
    allSubscribers(),
  ]);
  const { db, jobs, logger } = opts;
  return {
    runner: new JobRunner({ db, queue: jobs, handlers, schedules, logger, concurrency: opts.concurrency }),
    dispatcher: new Dispatcher({ ctx: { db, clock: systemClock, jobs, log: logger }, subscribers }),
    counts: {
      kinds: Object.keys(handlers).length,
      schedules: schedules.length,
      subscribers: subscribers.length,
    },
  };
}
