import type { Command } from 'commander';
import type { Database } from '../storage/port.js';
import { globalsOf } from './output.js';

/** Opens the store the global options point at, runs `fn`, and always closes it. */
export async function withDatabase<T>(cmd: Command, fn: (db: Database) => Promise<T>): Promise<T> {
  const g = globalsOf(cmd);
  const { openDatabase } = await import('../storage/open.js');
  const db = await openDatabase(
    g.databaseUrl ? { databaseUrl: g.databaseUrl } : { db: g.db ?? './retain.duckdb' },
  );
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
