import type { Queryable } from '../../storage/port.js';
import type { Role } from './schema.js';

export interface ApiKeyRow {
  key_id: string;
  name: string;
  role: Role;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export async function insertKey(
  db: Queryable,
  k: { keyId: string; name: string; role: Role; secretHash: string; createdAt: Date },
): Promise<void> {
  await db.exec(
    `INSERT INTO api_keys (key_id, name, role, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5::timestamp)`,
    [k.keyId, k.name, k.role, k.secretHash, k.createdAt],
  );
}

export async function listKeys(db: Queryable): Promise<ApiKeyRow[]> {
  return db.query<ApiKeyRow & Record<string, unknown>>(
    `SELECT key_id, name, role, created_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at, key_id`,
  );
}

export async function findByHash(db: Queryable, secretHash: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.query<ApiKeyRow & Record<string, unknown>>(
    `SELECT key_id, name, role, created_at, revoked_at, last_used_at FROM api_keys WHERE secret_hash = $1`,
    [secretHash],
  );
  return rows[0];
}

/** Marks a key revoked (first revocation time wins); returns whether the key exists. */
export async function revokeKey(db: Queryable, keyId: string, at: Date): Promise<boolean> {
  await db.exec(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2::timestamp) WHERE key_id = $1`, [
    keyId,
    at,
  ]);
  const rows = await db.query(`SELECT 1 AS seen FROM api_keys WHERE key_id = $1`, [keyId]);
  return rows.length > 0;
}

/** Records a use of the key at `at`, unless one was recorded after `since` (at most a write a minute). */
export async function touchKey(db: Queryable, keyId: string, at: Date, since: Date): Promise<void> {
  await db.exec(
    `UPDATE api_keys SET last_used_at = $2::timestamp
     WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < $3::timestamp)`,
    [keyId, at, since],
  );
}
