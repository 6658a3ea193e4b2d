import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { rolesWith, type Auth, type Permission } from './auth.js';
import { ErrorBody } from './errors.js';
import { refuseUnknownQuery } from './input.js';

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

/** Error responses every authenticated route can give. */
export const ERROR_RESPONSES = {
  400: error('Validation failed; `details.issues` lists each problem with its path'),
  401: error('Missing, unknown or revoked API key'),
  403: error("The key's role lacks the route's permission"),
  404: error('Not found'),
  413: error('Body larger than the limit'),
  429: error('Rate limit exceeded; see Retry-After'),
} as const;

/**
 * A route behind an API key holding `permission`, documented with its roles and error responses. A
 * route with a query schema refuses query parameters the schema does not declare (after the key is
 * checked, before the query is validated).
 */
export function securedRoute<R extends RouteConfig>(auth: Auth, permission: Permission, route: R) {
  const query = route.request?.query;
  return createRoute({
    ...route,
    security: [{ bearer: [] }],
    middleware: query ? [auth.require(permission), refuseUnknownQuery(query)] : [auth.require(permission)],
    description: `${route.description ?? route.summary ?? ''}\n\nRoles: ${rolesWith(permission).join(', ')}.`,
    responses: { ...ERROR_RESPONSES, ...route.responses },
  });
}

/** Opaque cursor: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (check(v)) return v;
  } catch {
    // fall through
  }
  return undefined;
}

export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: 'page size (1–500)' }),
  cursor: z.string().optional().openapi({ description: '`nextCursor` of the previous page' }),
};

/** `{data, nextCursor}` around an item schema. */
export const page = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

/**
 * For handlers that validate their own body (item-by-item rejections, path ids merged into the body):
 * documents the route and returns the auth middleware to mount it with.
 */
export function documented<R extends RouteConfig>(
  app: { openAPIRegistry: { registerPath(r: RouteConfig): void } },
  auth: Auth,
  permission: Permission,
  route: R,
) {
  // The document gets the route without its middleware (a function, which JSON would print as null).
  const { middleware: _mounted, ...doc } = securedRoute(auth, permission, route);
  app.openAPIRegistry.registerPath(doc as RouteConfig);
  return auth.require(permission);
}

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
