import type { Command } from 'commander';
import { globalsOf, log } from '../../kit/cli/output.js';
import { invalid } from '../../shared/errors.js';

/** Parses a positive job concurrency (`--concurrency`, `--job-concurrency`). */
export function concurrency(v: string, option: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw invalid(`expected a whole number of jobs 1–256, got '${v}'`, { field: option });
  return n;
}

/**
 * `retain worker`: the job runner alone — every module's job handlers and cron schedules — until
 * SIGINT or SIGTERM, which stop claiming and let the jobs in flight finish.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      "run background jobs, every module's cron schedules and the domain-event subscribers until SIGINT/SIGTERM",
    )
    .option('--concurrency <n>', 'jobs run at once by this process', '2')
    .addHelpText(
      'after',
      `
On PostgreSQL several workers (and 'retain serve' processes) share the queue: each job is claimed by one
of them, each schedule slot is enqueued once. A DuckDB file has one process at a time: there, use
'retain serve' (it runs the jobs too) or 'retain worker', not both.
SIGINT/SIGTERM stop claiming and wait for the jobs in flight. Environment: RETAIN_LOG_LEVEL (default info).

Example:
  retain --database-url postgres://retain@db/retain worker --concurrency 4`,
    )
    .action(async (opts: { concurrency: string }, cmd: Command) => {
      const n = concurrency(opts.concurrency, '--concurrency');
      const g = globalsOf(cmd);
      const [
        { openStore },
        { JobQueue, JobRunner },
        { jobHandlers, moduleSchedules, allSubscribers },
        { Dispatcher },
        { systemClock },
        { default: pino },
      ] = await Promise.all([
        import('../../modules/store.js'),
        import('../../modules/jobs/service.js'),
        import('../../modules/registry.js'),
        import('../../modules/outbox/dispatcher.js'),
        import('../../kit/clock.js'),
        import('pino'),
      ]);
      const logger = pino({ level: process.env.RETAIN_LOG_LEVEL ?? 'info' });
      const [handlers, schedules, subscribers] = await Promise.all([
        jobHandlers(),
        moduleSchedules(),
        allSubscribers(),
      ]);
      const db = await openStore(
        g.databaseUrl ? { databaseUrl: g.databaseUrl } : { db: g.db ?? './retain.duckdb' },
      );
      const jobs = new JobQueue(db);
      const runner = new JobRunner({ db, queue: jobs, handlers, schedules, logger, concurrency: n });
      const dispatcher = new Dispatcher({ ctx: { db, clock: systemClock, jobs, log: logger }, subscribers });
      runner.start();
      dispatcher.start();
      log(
        `retain worker ${runner.workerId}: ${Object.keys(handlers).length} job kinds, ${schedules.length} schedules, ` +
          `${subscribers.length} event subscribers, ` +
          `concurrency ${n} (${db.kind} ${db.location})`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log(`retain worker: ${signal}, finishing jobs in flight…`);
          void Promise.all([runner.stop(), dispatcher.stop()])
            .then(() => db.close())
            .then(() => {
              log('retain worker: stopped');
              resolve();
            });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
