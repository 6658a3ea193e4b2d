import type { Command } from 'commander';
import { log } from '../../kit/cli/output.js';
import { background, concurrency } from '../background.js';
import { openGlobalStore, shareWithCommands } from '../db.js';

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
'retain serve' (it runs the jobs too) or 'retain worker', not both; other retain commands on the file
run through it (its socket, <file>.sock).
SIGINT/SIGTERM stop claiming and wait for the jobs in flight. Environment: RETAIN_LOG_LEVEL (default info).

Example:
  retain --database-url postgres://retain@db/retain worker --concurrency 4`,
    )
    .action(async (opts: { concurrency: string }, cmd: Command) => {
      const n = concurrency(opts.concurrency, '--concurrency');
      const [{ JobQueue }, { default: pino }] = await Promise.all([
        import('../../modules/jobs/service.js'),
        import('pino'),
      ]);
      const logger = pino({ level: process.env.RETAIN_LOG_LEVEL ?? 'info' });
      const db = await openGlobalStore(cmd, { as: 'server' });
      const socket = await shareWithCommands(db, (err) => logger.warn({ err }, 'database socket'));
      const { runner, dispatcher, counts } = await background({
        db,
        jobs: new JobQueue(db),
        logger,
        concurrency: n,
      });
      runner.start();
      dispatcher.start();
      log(
        `retain worker ${runner.workerId}: ${counts.kinds} job kinds, ${counts.schedules} schedules, ` +
          `${counts.subscribers} event subscribers, ` +
          `concurrency ${n} (${db.kind} ${db.location})` +
          (socket ? `; commands on this file go through ${socket.path}` : ''),
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log(`retain worker: ${signal}, finishing jobs in flight…`);
          void Promise.all([runner.stop(), dispatcher.stop()])
            .then(() => socket?.close())
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
