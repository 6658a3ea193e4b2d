import type { Database, Dialect } from '../port.js';
import { coreSchema } from './001_core.js';
import { serviceSchema } from './002_service.js';
import { webhookSchema } from './003_webhooks.js';
import { predictionsSchema } from './004_predictions.js';
import { usersSchema } from './005_users.js';
import { predictionDetailsSchema } from './006_prediction_details.js';

export interface Migration {
  version: number;
  name: string;
  statements: (d: Dialect) => string[];
}

/**
 * The core schema's migrations, in order (modules declare later ones in their `module.ts`). Append
 * only: a released migration never changes.
 */
export const coreMigrations: Migration[] = [
  { version: 1, name: 'core', statements: coreSchema },
  { version: 2, name: 'service', statements: serviceSchema },
  { version: 3, name: 'webhooks', statements: webhookSchema },
  { version: 4, name: 'clv_predictions', statements: predictionsSchema },
  { version: 5, name: 'users', statements: usersSchema },
  { version: 6, name: 'prediction_details', statements: predictionDetailsSchema },
];

/** Applies the migrations the database has not seen yet, each in its own transaction. */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = coreMigrations,
): Promise<number[]> {
  const versions = migrations.map((m) => m.version);
  if (
    new Set(versions).size !== versions.length ||
    versions.some((v, i) => i > 0 && v <= (versions[i - 1] as number))
  ) {
    throw new Error(`migration versions must be unique and increasing, got ${versions.join(', ')}`);
  }
  await db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`,
  );
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      // Postgres: several processes may start at once; the advisory lock makes them take turns.
      if (db.dialect.migrationLock) await tx.query(db.dialect.migrationLock);
      const seen = await tx.query('SELECT 1 AS seen FROM schema_migrations WHERE version = $1', [m.version]);
      if (seen.length > 0) return false;
      for (const sql of m.statements(db.dialect)) await tx.exec(sql);
      await tx.exec(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3::timestamp)',
        [m.version, m.name, new Date()],
      );
      return true;
    });
    if (done) applied.push(m.version);
  }
  // DuckDB: schema changes into the database file now, not left to a replay of the write-ahead log
  // (DuckDB 1.5 could not replay some ALTERs after a kill -9).
  if (applied.length > 0 && db.kind === 'duckdb') await db.exec('CHECKPOINT');
  return applied;
}
