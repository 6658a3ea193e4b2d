import type { Queryable } from '../../storage/port.js';
import type { Role } from '../apikeys/schema.js';

export interface UserRow {
  user_id: string;
  email: string;
  role: Role;
  password_hash: string;
  created_at: Date;
  disabled_at: Date | null;
}

export async function insertUser(
  db: Queryable,
  u: { userId: string; email: string; role: Role; passwordHash: string; createdAt: Date },
): Promise<boolean> {
  const n = await db.exec(
    `INSERT INTO users (user_id, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5::timestamp)
     ON CONFLICT DO NOTHING`,
    [u.userId, u.email, u.role, u.passwordHash, u.createdAt],
  );
  return n > 0;
}

export async function userByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const rows = await db.query<UserRow & Record<string, unknown>>(
    `SELECT user_id, email, role, password_hash, created_at, disabled_at FROM users WHERE email = $1`,
    [email],
  );
  return rows[0];
}

export async function listUsers(db: Queryable): Promise<UserRow[]> {
  return db.query<UserRow & Record<string, unknown>>(
    `SELECT user_id, email, role, password_hash, created_at, disabled_at FROM users ORDER BY email`,
  );
}

/** Active (not disabled) admins. */
export async function activeAdmins(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number | bigint }>(
    `SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL`,
  );
  return Number(rows[0]?.n ?? 0);
}

export async function setRole(db: Queryable, userId: string, role: Role): Promise<void> {
  await db.exec(`UPDATE users SET role = $2 WHERE user_id = $1`, [userId, role]);
}

export async function enableUser(db: Queryable, userId: string): Promise<void> {
  await db.exec(`UPDATE users SET disabled_at = NULL WHERE user_id = $1`, [userId]);
}

/** Replaces a user's password hash and ends their sessions. */
export async function setPassword(
  db: Queryable,
  userId: string,
  passwordHash: string,
  at: Date,
): Promise<void> {
  await db.exec(`UPDATE users SET password_hash = $2 WHERE user_id = $1`, [userId, passwordHash]);
  await revokeSessionsOf(db, userId, at);
}

async function revokeSessionsOf(db: Queryable, userId: string, at: Date): Promise<void> {
  await db.exec(`UPDATE sessions SET revoked_at = $2::timestamp WHERE user_id = $1 AND revoked_at IS NULL`, [
    userId,
    at,
  ]);
}

/** Disables a user and ends their sessions; false when there is no such user. */
export async function disableUser(db: Queryable, email: string, at: Date): Promise<boolean> {
  const user = await userByEmail(db, email);
  if (!user) return false;
  await db.exec(`UPDATE users SET disabled_at = COALESCE(disabled_at, $2::timestamp) WHERE user_id = $1`, [
    user.user_id,
    at,
  ]);
  await revokeSessionsOf(db, user.user_id, at);
  return true;
}

export async function insertSession(
  db: Queryable,
  s: { sessionHash: string; userId: string; csrfHash: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.exec(
    `INSERT INTO sessions (session_hash, user_id, csrf_hash, created_at, expires_at) VALUES ($1, $2, $3, $4::timestamp, $5::timestamp)`,
    [s.sessionHash, s.userId, s.csrfHash, s.createdAt, s.expiresAt],
  );
}

export interface SessionUserRow {
  user_id: string;
  email: string;
  role: Role;
  csrf_hash: string;
  expires_at: Date;
}

/** The live session behind a token hash: not expired, not revoked, user not disabled. */
export async function liveSession(
  db: Queryable,
  sessionHash: string,
  now: Date,
): Promise<SessionUserRow | undefined> {
  const rows = await db.query<SessionUserRow & Record<string, unknown>>(
    `SELECT u.user_id, u.email, u.role, s.csrf_hash, s.expires_at
     FROM sessions s JOIN users u ON u.user_id = s.user_id
     WHERE s.session_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2::timestamp AND u.disabled_at IS NULL`,
    [sessionHash, now],
  );
  return rows[0];
}

export async function revokeSession(db: Queryable, sessionHash: string, at: Date): Promise<void> {
  await db.exec(
    `UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2::timestamp) WHERE session_hash = $1`,
    [sessionHash, at],
  );
}
