import { realpath } from 'node:fs/promises';
import { AppError } from '../shared/errors.js';
import { DuckDatabase } from './duckdb/adapter.js';
import { migrate, type Migration } from './migrations/index.js';
import type { Database } from './port.js';
import { PgDatabase } from './postgres/adapter.js';
import { nobodyListens, RemoteDatabase } from './remote/client.js';
import { socketPathFor } from './remote/protocol.js';

export interface OpenOptions {
  /** DuckDB file path (default `./retain.duckdb`). */
  db?: string;
  /** PostgreSQL URL; when set it wins over `db`. */
  databaseUrl?: string;
  /** Postgres schema for this store (tests use one per run). */
  schema?: string;
  /** Migrations to apply (default: the core schema's; `openStore` adds every module's). */
  migrations?: readonly Migration[];
  /**
   * DuckDB only: what to do when another process holds the file. `'remote'` (CLI commands): use the
   * database of the retain server holding it through its socket (src/storage/remote/); `'fail'`
   * (the default; `retain serve`, `retain worker`): refuse with `lockedError`.
   */
  whenLocked?: 'remote' | 'fail';
}

/** How long a command waits for the holder of a locked DuckDB file to answer on its socket (it may be starting). */
const SOCKET_WAIT_MS = 2_000;

/** The process DuckDB names as the holder of a file's lock, or null when `err` is not DuckDB's lock error. */
export function lockHolder(err: unknown): { holder: string | null } | null {
  const message = (err as Error)?.message ?? '';
  if (!/Could not set lock on file/i.test(message)) return null;
  const m = /held in (.+?) \(PID (\d+)\)/.exec(message);
  return { holder: m ? `${m[1]} PID ${m[2]}` : null };
}

/**
 * The one message for a DuckDB file held by a process that is not a retain server (exit code 3):
 * names the file, the holder when DuckDB says it, and what to do.
 */
export function lockedError(file: string, holder: string | null, socket: string): AppError {
  return new AppError(
    'unavailable',
    `DuckDB file ${file} is in use by another process${holder ? ` (${holder})` : ''} and no retain server answers on ${socket}: ` +
      `stop that process, or let 'retain serve' hold the file (commands then run through it)`,
  );
}

/** Opens the configured store and brings its schema up to date. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  let db: Database;
  try {
    db = opts.databaseUrl
      ? await PgDatabase.open(opts.databaseUrl, opts.schema ? { schema: opts.schema } : {})
      : await openDuck(opts.db ?? './retain.duckdb', opts.whenLocked ?? 'fail');
  } catch (err) {
    if (err instanceof AppError) throw err;
    const where = opts.databaseUrl
      ? 'PostgreSQL (--database-url)'
      : `DuckDB file ${opts.db ?? './retain.duckdb'}`;
    throw new AppError('internal', `cannot open ${where}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await migrate(db, opts.migrations);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/**
 * Opens the DuckDB file; when another process holds its lock, connects to the retain server on the
 * file's socket (`'remote'`) or says who holds it (`'fail'`). A holder that is still starting gets
 * SOCKET_WAIT_MS to answer; one that lets go of the file meanwhile is replaced by opening it here.
 */
async function openDuck(file: string, whenLocked: 'remote' | 'fail'): Promise<Database> {
  const deadline = Date.now() + SOCKET_WAIT_MS;
  for (;;) {
    let locked;
    try {
      return await DuckDatabase.open(file);
    } catch (err) {
      locked = lockHolder(err);
      if (!locked) throw err;
    }
    const socket = socketPathFor(await realpath(file));
    try {
      const remote = await RemoteDatabase.connect(socket, file);
      if (whenLocked === 'remote') return remote;
      const { pid } = remote.server;
      await remote.close();
      throw new AppError(
        'unavailable',
        `DuckDB file ${file} is already held by a retain server (pid ${pid}, socket ${socket}): ` +
          `one 'retain serve' or 'retain worker' per DuckDB file; run commands beside it, or stop it first`,
      );
    } catch (err) {
      if (!nobodyListens(err)) throw err;
    }
    if (Date.now() >= deadline) throw lockedError(file, locked.holder, socket);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
