import { realpath } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ModuleContext } from '../kit/context.js';
import { globalsOf, log } from '../kit/cli/output.js';
import type { CliRuntime } from '../kit/module.js';
import type { Database } from '../storage/port.js';
import type { DatabaseSocket } from '../storage/remote/server.js';

/**
 * Opens the store the global options point at (`--database-url`, else the `--db` file, or `db` when
 * given), migrated. A command (`as: 'command'`, the default) whose DuckDB file is held by a running
 * `retain serve`/`retain worker` uses that server's database through its socket (one stderr line says
 * so); `as: 'server'` (serve, worker) opens the file itself or fails saying who holds it.
 */
export async function openGlobalStore(
  cmd: Command,
  opts: { db?: string; as?: 'command' | 'server' } = {},
): Promise<Database> {
  const g = globalsOf(cmd);
  const { openStore } = await import('../modules/store.js');
  if (g.databaseUrl) return openStore({ databaseUrl: g.databaseUrl });
  const db = await openStore({
    db: opts.db ?? g.db ?? './retain.duckdb',
    whenLocked: opts.as === 'server' ? 'fail' : 'remote',
  });
  const { RemoteDatabase } = await import('../storage/remote/client.js');
  if (
    db instanceof RemoteDatabase &&
    (!g.json || /^(info|debug|trace)$/.test(process.env.RETAIN_LOG_LEVEL ?? ''))
  )
    log(`retain: using the running server's database (pid ${db.server.pid}) via ${db.server.socket}`);
  return db;
}

/**
 * `retain serve` / `retain worker` on a DuckDB file: serves the store to CLI commands on the file's
 * Unix-domain socket (src/storage/remote/), so they run beside this process. Nothing for PostgreSQL
 * (any number of processes open it) or an in-memory store.
 */
export async function shareWithCommands(
  db: Database,
  onError: (err: unknown) => void,
): Promise<DatabaseSocket | undefined> {
  if (db.kind !== 'duckdb' || db.location === ':memory:') return undefined;
  const [{ listenForClients }, { socketPathFor }] = await Promise.all([
    import('../storage/remote/server.js'),
    import('../storage/remote/protocol.js'),
  ]);
  return listenForClients(db, { path: socketPathFor(await realpath(db.location)), onError });
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
