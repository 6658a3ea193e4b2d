import {
  createHash,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { ModuleContext } from '../../kit/context.js';
import { Role } from '../apikeys/schema.js';
import * as repo from './repository.js';
import { Email, Password, type UserInfo } from './schema.js';

/**
 * Users of the web app: passwords hashed with scrypt (N=2^15, r=8, p=1: ~50 ms and 32 MiB per hash,
 * OWASP's minimum is N=2^17 with p=1 — raised once we are off the shared 2-core box), sessions as
 * random 256-bit tokens in an HttpOnly SameSite=Strict cookie, stored as their SHA-256, with a
 * separate CSRF token that unsafe requests must echo in `X-CSRF-Token`.
 */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEYLEN = 32;
export const SESSION_HOURS = 12;

const scrypt = (password: string, salt: Buffer, o: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, KEYLEN, o, (err, key) => (err ? reject(err) : resolve(key))),
  );
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export { Email, Login, Password } from './schema.js';

const info = (u: repo.UserRow): UserInfo => ({
  email: u.email,
  role: u.role,
  createdAt: u.created_at.toISOString(),
  disabledAt: u.disabled_at ? u.disabled_at.toISOString() : null,
});

/** Creates a user (the rules of `CreateUser`); a taken email is a conflict and writes nothing. */
export async function createUser(
  { db, clock }: ModuleContext,
  opts: { email: string; role: string; password: string },
): Promise<UserInfo> {
  const email = Email.safeParse(opts.email);
  if (!email.success)
    throw new AppError('validation', `expected an email address, got '${opts.email}'`, {
      where: { field: 'email' },
    });
  const role = Role.safeParse(opts.role);
  if (!role.success)
    throw new AppError('validation', `expected a role among ${Role.options.join(', ')}, got '${opts.role}'`, {
      where: { field: 'role' },
    });
  const password = Password.safeParse(opts.password);
  if (!password.success)
    throw new AppError('validation', `password: ${password.error.issues[0]?.message}`, {
      where: { field: 'password' },
    });
  const createdAt = clock.now();
  const ok = await repo.insertUser(db, {
    userId: randomBytes(8).toString('hex'),
    email: email.data,
    role: role.data,
    passwordHash: await hashPassword(password.data),
    createdAt,
  });
  if (!ok)
    throw new AppError('conflict', `a user with email ${email.data} exists`, { where: { field: 'email' } });
  return { email: email.data, role: role.data, createdAt: createdAt.toISOString(), disabledAt: null };
}

export async function listUsers({ db }: ModuleContext): Promise<UserInfo[]> {
  return (await repo.listUsers(db)).map(info);
}

const noSuchUser = (email: string) =>
  new AppError('not_found', `no user with email ${email}`, { where: { field: 'email' } });

/**
 * The store keeps one active admin at least: disabling or demoting the last one is a conflict that
 * writes nothing (nobody could manage users or keys from the web app any more).
 */
async function keepAnAdmin(tx: Parameters<typeof repo.activeAdmins>[0], user: repo.UserRow, what: string) {
  if (user.role === 'admin' && !user.disabled_at && (await repo.activeAdmins(tx)) <= 1)
    throw new AppError(
      'conflict',
      `cannot ${what}: ${user.email} is the store's last active admin (make another user admin first)`,
      { where: { field: 'email' } },
    );
}

/** Disables a user and ends their sessions (again: no change); never the last active admin. */
export async function disableUser({ db, clock }: ModuleContext, { email }: { email: string }): Promise<void> {
  const address = email.trim().toLowerCase();
  await db.transaction(async (tx) => {
    const user = await repo.userByEmail(tx, address);
    if (!user) throw noSuchUser(email);
    await keepAnAdmin(tx, user, `disable ${user.email}`);
    await repo.disableUser(tx, address, clock.now());
  });
}

/** Lets a disabled user log in again (their old sessions stay ended). */
export async function enableUser({ db }: ModuleContext, { email }: { email: string }): Promise<UserInfo> {
  const address = email.trim().toLowerCase();
  const user = await repo.userByEmail(db, address);
  if (!user) throw noSuchUser(email);
  await repo.enableUser(db, user.user_id);
  return info({ ...user, disabled_at: null });
}

/**
 * Changes a user's role and/or password (a new password ends their sessions); never demotes the last
 * active admin. The rules of `UpdateUser` (schema.ts).
 */
export async function updateUser(
  { db, clock }: ModuleContext,
  { email, ...change }: { email: string; role?: string | undefined; password?: string | undefined },
): Promise<UserInfo> {
  const address = email.trim().toLowerCase();
  const role = change.role === undefined ? undefined : Role.safeParse(change.role);
  if (role && !role.success)
    throw new AppError(
      'validation',
      `expected a role among ${Role.options.join(', ')}, got '${change.role}'`,
      {
        where: { field: 'role' },
      },
    );
  let hash: string | undefined;
  if (change.password !== undefined) {
    const password = Password.safeParse(change.password);
    if (!password.success)
      throw new AppError('validation', `password: ${password.error.issues[0]?.message}`, {
        where: { field: 'password' },
      });
    hash = await hashPassword(password.data);
  }
  return db.transaction(async (tx) => {
    const user = await repo.userByEmail(tx, address);
    if (!user) throw noSuchUser(email);
    if (role?.data && role.data !== user.role) {
      if (role.data !== 'admin') await keepAnAdmin(tx, user, `make ${user.email} ${role.data}`);
      await repo.setRole(tx, user.user_id, role.data);
    }
    if (hash !== undefined) await repo.setPassword(tx, user.user_id, hash, clock.now());
    return info({ ...user, role: role?.data ?? user.role });
  });
}

// A real hash to verify against when the email is unknown, so both paths cost one scrypt.
let dummy: Promise<string> | undefined;

/** Checks the password and opens a session; the same error whether the email or the password is wrong. */
export async function login(
  { db, clock }: ModuleContext,
  { email, password }: { email: string; password: string },
) {
  const now = clock.now();
  const user = await repo.userByEmail(db, email);
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  const ok = await verifyPassword(password, user?.password_hash ?? (await dummy));
  if (!user || !ok || user.disabled_at) throw new AppError('unauthorized', 'wrong email or password');
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000);
  await repo.insertSession(db, {
    sessionHash: sha256(token),
    userId: user.user_id,
    csrfHash: sha256(csrfToken),
    createdAt: now,
    expiresAt,
  });
  return { token, csrfToken, expiresAt, user: { email: user.email, role: user.role } };
}

export async function sessionOf({ db, clock }: ModuleContext, { token }: { token: string }) {
  return repo.liveSession(db, sha256(token), clock.now());
}

export async function logout({ db, clock }: ModuleContext, { token }: { token: string }): Promise<void> {
  await repo.revokeSession(db, sha256(token), clock.now());
}
