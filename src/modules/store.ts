import { coreMigrations, type Migration } from '../storage/migrations/index.js';
import { openDatabase, type OpenOptions } from '../storage/open.js';
import type { Database } from '../storage/port.js';
import { MODULES } from './registry.js';

/** Every migration: the core schema's, then each module's, by version. */
export function allMigrations(): Migration[] {
  return [...coreMigrations, ...MODULES.flatMap((m) => m.migrations ?? [])].sort(
    (a, b) => a.version - b.version,
  );
}

/** Opens the configured store with every module's schema brought up to date. */
export function openStore(opts: OpenOptions): Promise<Database> {
  return openDatabase({ ...opts, migrations: allMigrations() });
}
