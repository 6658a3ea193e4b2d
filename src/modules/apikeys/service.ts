import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { ModuleContext } from '../../kit/context.js';
import * as repo from './repository.js';
import { KeyName, Role, type ApiKeyInfo } from './schema.js';

/**
 * API keys: `rk_<keyId>_<secret>`, 256 random bits of secret. Only the SHA-256 of the whole key is
 * stored; a slow hash (scrypt) is for guessable passwords, not for 256-bit random secrets, and would
 * cost milliseconds on every request.
 */
const KEY_RE = /^rk_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const info = (r: repo.ApiKeyRow): ApiKeyInfo => ({
  keyId: r.key_id,
  prefix: `rk_${r.key_id}_`,
  name: r.name,
  role: r.role,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
  lastUsedAt: r.last_used_at ? r.last_used_at.toISOString() : null,
});

/** How stale a key's `lastUsedAt` may get before an authentication writes it again. */
const TOUCH_MS = 60_000;

/** Creates a key; the returned `key` is shown once and cannot be recovered later. */
export async function createKey(
  { db, clock }: ModuleContext,
  opts: { role: string; name?: string },
): Promise<ApiKeyInfo & { key: string }> {
  const role = Role.safeParse(opts.role);
  if (!role.success)
    throw new AppError('validation', `expected a role among ${Role.options.join(', ')}, got '${opts.role}'`, {
      where: { field: '--role' },
    });
  const keyId = randomBytes(8).toString('hex').slice(0, 10);
  const name = KeyName.parse(opts.name ?? `${role.data} key ${keyId}`);
  const key = `rk_${keyId}_${randomBytes(32).toString('base64url')}`;
  const createdAt = clock.now();
  await repo.insertKey(db, { keyId, name, role: role.data, secretHash: hashKey(key), createdAt });
  return {
    key,
    keyId,
    prefix: `rk_${keyId}_`,
    name,
    role: role.data,
    createdAt: createdAt.toISOString(),
    revokedAt: null,
    lastUsedAt: null,
  };
}

export async function listKeys({ db }: ModuleContext): Promise<ApiKeyInfo[]> {
  return (await repo.listKeys(db)).map(info);
}

export async function revokeKey({ db, clock }: ModuleContext, { keyId }: { keyId: string }): Promise<void> {
  if (!(await repo.revokeKey(db, keyId, clock.now())))
    throw new AppError('not_found', `no API key with id ${keyId} (see retain keys list)`, {
      where: { field: 'keyId' },
    });
}

/**
 * The key behind a bearer token, or undefined when the token is malformed or unknown. A live key's use
 * is recorded (`lastUsedAt`, to the minute; the server's auth cache looks keys up every few seconds).
 */
export async function lookupKey(
  { db, clock }: ModuleContext,
  { token }: { token: string },
): Promise<ApiKeyInfo | undefined> {
  if (!KEY_RE.test(token)) return undefined;
  const row = await repo.findByHash(db, hashKey(token));
  if (!row) return undefined;
  if (!row.revoked_at) {
    const now = clock.now();
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= TOUCH_MS) {
      await repo.touchKey(db, row.key_id, now, new Date(now.getTime() - TOUCH_MS));
      row.last_used_at = now;
    }
  }
  return info(row);
}
