import { AppError } from '../shared/errors.js';
import { DuckDatabase } from './duckdb/adapter.js';
import { migrate, type Migration } from './migrations/index.js';
import type { Database } from './port.js';
import { PgDatabase } from './postgres/adapter.js';

export interface OpenOptions {
  /** DuckDB file path (default `./retain.duckdb`). */
  db?: string;
  /** PostgreSQL URL; when set it wins over `db`. */
  databaseUrl?: string;
  /** Postgres schema for this store (tests use one per run). */
  schema?: string;
  /** Migrations to apply (default: the core schema's; `openStore` adds every module's). */
  migrations?: readonly Migration[];
}

/** Opens the configured store and brings its schema up to date. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  let db: Database;
  try {
    db = opts.databaseUrl
      ? await PgDatabase.open(opts.databaseUrl, opts.schema ? { schema: opts.schema } : {})
      : await DuckDatabase.open(opts.db ?? './retain.duckdb');
  } catch (err) {
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
