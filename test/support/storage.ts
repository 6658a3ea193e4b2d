import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore as openDatabase } from '../../src/modules/store.js';
import type { Database, EngineKind } from '../../src/storage/port.js';

/**
 * Test helper: the engines a storage test must run on. DuckDB always; PostgreSQL when
 * RETAIN_TEST_DATABASE_URL is set (`.ci/run` starts a server and sets it). Under CI=true a missing
 * Postgres is an error, so a green CI always means both adapters were tested.
 */
export function testEngines(): EngineKind[] {
  const url = process.env.RETAIN_TEST_DATABASE_URL;
  if (!url && process.env.CI === 'true') {
    throw new Error(
      'CI=true but RETAIN_TEST_DATABASE_URL is not set: storage tests must run on Postgres too',
    );
  }
  return url ? ['duckdb', 'postgres'] : ['duckdb'];
}

let counter = 0;

/** A fresh, migrated, empty store on `engine`; `dispose` drops it. */
export async function freshDatabase(
  engine: EngineKind,
): Promise<{ db: Database; dispose: () => Promise<void> }> {
  if (engine === 'duckdb') {
    const dir = mkdtempSync(join(tmpdir(), 'retain-test-'));
    const db = await openDatabase({ db: join(dir, 'test.duckdb') });
    return {
      db,
      dispose: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = process.env.RETAIN_TEST_DATABASE_URL as string;
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const db = await openDatabase({ databaseUrl: url, schema });
  return {
    db,
    dispose: async () => {
      await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    },
  };
}
