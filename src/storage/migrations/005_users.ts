import type { Dialect } from '../port.js';

/** Web-app users (scrypt password hashes) and their sessions (SHA-256 of the cookie token, never the token). */
export function usersSchema(_d: Dialect): string[] {
  return [
    `CREATE TABLE users (
      user_id TEXT PRIMARY KEY,
      email TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'marketer', 'agent')),
      password_hash TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      disabled_at TIMESTAMP
    )`,
    `CREATE TABLE sessions (
      session_hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      csrf_hash TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      expires_at TIMESTAMP NOT NULL,
      revoked_at TIMESTAMP
    )`,
  ];
}
