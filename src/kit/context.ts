import type { Logger } from 'pino';
import type { Database } from '../storage/port.js';
import type { Clock } from './clock.js';
import type { Job, Jobs } from './jobs.js';

/**
 * What every service gets as its first argument: `service(ctx, input)`. The same context serves the
 * HTTP routes, the CLI commands and the job handlers; a service never opens or closes the database,
 * reads files or looks at CLI options.
 */
export interface ModuleContext {
  db: Database;
  clock: Clock;
  jobs: Jobs;
  log: Logger;
}

/** What a job handler gets: the module context, its job, and a signal aborted when the lease is lost. */
export interface JobContext extends ModuleContext {
  job: Job;
  signal: AbortSignal;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;
