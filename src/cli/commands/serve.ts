import type { Command } from 'commander';
import { invalid } from '../../shared/errors.js';
import { log } from '../../kit/cli/output.js';
import { background, concurrency } from '../background.js';
import { openGlobalStore, shareWithCommands } from '../db.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw invalid(`expected a port 0–65535, got '${v}'`, { field: '--port' });
  return n;
}

interface ServeOptions {
  port: string;
  host: string;
  jobConcurrency: string;
  /** False with --no-jobs. */
  jobs: boolean;
}

/**
 * `retain serve`: the HTTP API and the job runner (job handlers and cron schedules) in one process,
 * with graceful shutdown; `--no-jobs` serves the API only (jobs run in `retain worker` processes).
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the dashboard (at /), the REST API (OpenAPI at /openapi.json, docs at /docs) and the job runner',
    )
    .option('--port <n>', 'port to listen on', '8080')
    .option('--host <host>', 'interface to bind (127.0.0.1 keeps it local)', '127.0.0.1')
    .option('--job-concurrency <n>', 'jobs run at once by this process', '2')
    .option('--no-jobs', "serve the API only: jobs and schedules run in 'retain worker' processes")
    .addHelpText(
      'after',
      `
Environment: RETAIN_SHOPIFY_SECRET, RETAIN_WOOCOMMERCE_SECRET (webhook HMAC secrets),
RETAIN_RATE_LIMIT (requests/s per key, default 500), RETAIN_LOG_LEVEL (default info),
RETAIN_UPLOAD_DIR (where uploaded imports wait for their job).
On a DuckDB file, other retain commands on the file run through this process (socket <file>.sock).
Create a key first: retain keys create --role admin
API and workers apart (PostgreSQL): retain --database-url $URL serve --no-jobs, plus retain worker`,
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const p = port(opts.port);
      const jobConcurrency = concurrency(opts.jobConcurrency, '--job-concurrency');
      const [{ createApp }, { JobQueue }, { startServer }, { default: pino }] = await Promise.all([
        import('../../server/app.js'),
        import('../../modules/jobs/service.js'),
        import('../../server/serve.js'),
        import('pino'),
      ]);
      const logger = pino({ level: process.env.RETAIN_LOG_LEVEL ?? 'info' });
      const db = await openGlobalStore(cmd, { as: 'server' });
      // CLI commands on the same DuckDB file run through this process (README "Running beside retain serve").
      const socket = await shareWithCommands(db, (err) => logger.warn({ err }, 'database socket'));
      const rate = Number(process.env.RETAIN_RATE_LIMIT ?? 500);
      const jobs = new JobQueue(db);
      const { app } = await createApp({
        db,
        logger,
        jobs,
        config: {
          rateLimit: { perSecond: rate, burst: rate * 2 },
          shopifySecret: process.env.RETAIN_SHOPIFY_SECRET,
          woocommerceSecret: process.env.RETAIN_WOOCOMMERCE_SECRET,
          ...(process.env.RETAIN_UPLOAD_DIR ? { uploadDir: process.env.RETAIN_UPLOAD_DIR } : {}),
        },
      });
      // Jobs, schedules and domain events run here unless --no-jobs leaves them to the workers.
      const bg = opts.jobs ? await background({ db, jobs, logger, concurrency: jobConcurrency }) : undefined;
      const server = await startServer({
        app,
        db,
        ...(bg && { runner: bg.runner, dispatcher: bg.dispatcher }),
        ...(socket && { socket }),
        host: opts.host,
        port: p,
      });
      log(
        `retain serve: listening on http://${opts.host}:${server.port} (${db.kind} ${db.location}); docs at /docs` +
          (socket ? `; commands on this file go through ${socket.path}` : '') +
          (bg ? '' : '; jobs off (--no-jobs)'),
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log(`retain serve: ${signal}, finishing requests and jobs in flight…`);
          void server.shutdown().then(() => {
            log('retain serve: stopped');
            resolve();
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
