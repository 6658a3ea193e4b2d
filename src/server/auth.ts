import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { lookupKey } from '../modules/apikeys/service.js';
import type { ApiKeyInfo } from '../modules/apikeys/schema.js';
import { sessionOf } from '../modules/users/service.js';
import { AppError } from '../shared/errors.js';
import { ROLE_PERMISSIONS, rolesWith, SESSION_COOKIE, type Auth, type Permission } from '../kit/http/auth.js';
import type { AppEnv, Principal, ServerDeps } from '../kit/http/context.js';
import { RateLimiter } from '../kit/http/rateLimit.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Bearer-key authentication with a short positive cache (a key revoked by another process stops
 * working within `authCacheMs`; revocations through this process's `forget` are immediate),
 * then the per-key rate limit, then the route's permission.
 */
export function createAuth(deps: ServerDeps): Auth {
  const cache = new Map<string, { key: ApiKeyInfo; until: number }>();
  const limiter = new RateLimiter(deps.config.rateLimit.perSecond, deps.config.rateLimit.burst);

  async function authenticate(header: string | undefined): Promise<ApiKeyInfo> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m?.[1])
      throw new AppError(
        'unauthorized',
        'send an API key as `Authorization: Bearer <key>` (retain keys create)',
      );
    const token = m[1];
    const now = Date.now(); // a cache lifetime (a duration), not business time
    const hit = cache.get(token);
    let key = hit && hit.until > now ? hit.key : undefined;
    if (!key) {
      key = await lookupKey(deps, { token });
      if (!key) throw new AppError('unauthorized', 'unknown API key');
      if (deps.config.authCacheMs > 0) {
        if (cache.size > 10_000) cache.clear();
        cache.set(token, { key, until: now + deps.config.authCacheMs });
      }
    }
    if (key.revokedAt)
      throw new AppError('unauthorized', `API key ${key.keyId} was revoked at ${key.revokedAt}`);
    return key;
  }

  /**
   * Web-app users: the session cookie, and for unsafe methods the session's CSRF token in
   * `X-CSRF-Token` (the cookie is SameSite=Strict too; the token also covers older browsers).
   */
  async function fromSession(c: Context<AppEnv>, token: string): Promise<Principal> {
    const s = await sessionOf(deps, { token });
    if (!s) throw new AppError('unauthorized', 'the session expired or was ended: log in again');
    if (!SAFE_METHODS.has(c.req.method)) {
      const given = createHash('sha256')
        .update(c.req.header('x-csrf-token') ?? '')
        .digest();
      if (!timingSafeEqual(given, Buffer.from(s.csrf_hash, 'hex')))
        throw new AppError('forbidden', 'missing or wrong X-CSRF-Token for a cookie-authenticated request', {
          details: { required: 'X-CSRF-Token' },
        });
    }
    return { kind: 'session', id: `user:${s.email}`, name: s.email, role: s.role };
  }

  async function principalOf(c: Context<AppEnv>): Promise<Principal> {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (!c.req.header('authorization') && cookie) return fromSession(c, cookie);
    const key = await authenticate(c.req.header('authorization'));
    return { kind: 'key', id: key.keyId, name: key.name, role: key.role };
  }

  /** Authenticated caller holding `permission` (any caller when omitted), within its rate limit. */
  const require = (permission?: Permission) =>
    createMiddleware<AppEnv>(async (c, next) => {
      const key = await principalOf(c);
      c.set('principal', key);
      const wait = limiter.take(key.id);
      if (wait > 0)
        throw new AppError(
          'rate_limited',
          `rate limit of ${deps.config.rateLimit.perSecond} requests/s exceeded`,
          {
            details: { retryAfterSeconds: wait },
          },
        );
      if (permission && !ROLE_PERMISSIONS[key.role].includes(permission))
        throw new AppError('forbidden', `role ${key.role} may not ${permission}`, {
          details: { required: permission, allowedRoles: rolesWith(permission) },
        });
      await next();
    });

  return { require, forget: () => cache.clear() };
}
