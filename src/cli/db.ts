import type { Command } from 'commander';
import type { ModuleContext } from '../kit/context.js';
import { globalsOf } from '../kit/cli/output.js';
import type { CliRuntime } from '../kit/module.js';
import type { Database } from '../storage/port.js';

/** Opens the store the global options point at (`--database-url`, else the `--db` file), migrated. */
export async function openGlobalStore(cmd: Command): Promise<Database> {
  const g = globalsOf(cmd);
  const { openStore } = await import('../modules/store.js');
  return openStore(g.databaseUrl ? { databaseUrl: g.databaseUrl } : { db: g.db ?? './retain.duckdb' });
}

/** Opens the store the global options point at, runs `fn`, and always closes it. */
export async function withDatabase<T>(cmd: Command, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openGlobalStore(cmd);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A module context on an open store: the wall clock, the job queue, a stderr logger. */
export async function moduleContext(db: Database): Promise<ModuleContext> {
  const [{ systemClock }, { JobQueue }, { default: pino }] = await Promise.all([
    import('../kit/clock.js'),
    import('../modules/jobs/service.js'),
    import('pino'),
  ]);
  return {
    db,
    clock: systemClock,
    jobs: new JobQueue(db, systemClock),
    log: pino({ level: process.env.RETAIN_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
  };
}

/** A module context for one CLI command: the store the global options point at, closed afterwards. */
export async function withContext<T>(cmd: Command, fn: (ctx: ModuleContext) => Promise<T>): Promise<T> {
  return withDatabase(cmd, async (db) => fn(await moduleContext(db)));
}

export const cliRuntime: CliRuntime = { withContext };
