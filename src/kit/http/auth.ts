import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';
import type { Permission } from './roles.js';

export { Role, ROLE_PERMISSIONS, rolesWith, type Permission } from './roles.js';

export const SESSION_COOKIE = 'retain_session';

/** What routes get from the server's authentication (implemented in src/server/auth.ts). */
export interface Auth {
  /** Authenticated caller holding `permission` (any caller when omitted), within its rate limit. */
  require(permission?: Permission): MiddlewareHandler<AppEnv>;
  /** Drops cached keys (after a revocation in this process). */
  forget(): void;
}
