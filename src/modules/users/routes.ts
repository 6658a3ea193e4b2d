import { z } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SESSION_COOKIE, type Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { ErrorBody, validationError } from '../../kit/http/errors.js';
import { documented, ERROR_RESPONSES, json } from '../../kit/http/openapi.js';
import { RateLimiter } from '../../kit/http/rateLimit.js';
import { AppError } from '../../shared/errors.js';
import { Role } from '../apikeys/schema.js';
import { CreateUser, UpdateUser, UserInfo } from './schema.js';
import {
  createUser,
  disableUser,
  enableUser,
  listUsers,
  Login,
  login,
  logout,
  SESSION_HOURS,
  updateUser,
} from './service.js';

const Session = z
  .object({
    user: z.object({ email: z.string(), role: Role }),
    csrfToken: z
      .string()
      .openapi({ description: 'send as X-CSRF-Token on POST/PUT/DELETE made with the cookie' }),
    expiresAt: z.string(),
  })
  .openapi('Session');

const Me = z
  .object({ kind: z.enum(['key', 'session']), id: z.string(), name: z.string(), role: Role })
  .openapi('Me');

/** Password login for the web app: a session cookie (HttpOnly, SameSite=Strict) plus a CSRF token. */
export function registerSessionRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const tags = ['session'];
  // Password guessing: 10 attempts per email at once, then one every 6 s.
  // Business time (the deps' clock): the budget of guesses is a policy, not a measurement.
  const attempts = new RateLimiter(1 / 6, 10, () => deps.clock.now().getTime());
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/session',
    tags,
    summary: 'Log in with email and password (sets the session cookie)',
    request: { body: { required: true, content: { 'application/json': { schema: Login } } } },
    responses: {
      200: json(Session, 'Logged in; the cookie `retain_session` is set'),
      400: ERROR_RESPONSES[400],
      401: ERROR_RESPONSES[401],
      429: ERROR_RESPONSES[429],
    },
  });
  app.post('/v1/session', async (c) => {
    const body = Login.safeParse(await c.req.json());
    if (!body.success) throw validationError(body.error, 'body');
    const wait = attempts.take(body.data.email);
    if (wait > 0)
      throw new AppError('rate_limited', 'too many login attempts for this email', {
        details: { retryAfterSeconds: wait },
      });
    const s = await login(deps, body.data);
    setCookie(c, SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
      maxAge: SESSION_HOURS * 3600,
    });
    return c.json({ user: s.user, csrfToken: s.csrfToken, expiresAt: s.expiresAt.toISOString() });
  });

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/session',
    tags,
    summary: 'Who am I (session cookie or API key)',
    security: [{ bearer: [] }],
    responses: { 200: json(Me, 'The caller'), 401: ERROR_RESPONSES[401], 403: ERROR_RESPONSES[403] },
  });
  app.get('/v1/session', auth.require(), (c) => c.json(c.get('principal')));

  app.openAPIRegistry.registerPath({
    method: 'delete',
    path: '/v1/session',
    tags,
    summary: 'Log out (needs X-CSRF-Token)',
    security: [{ bearer: [] }],
    responses: {
      200: json(z.object({ loggedOut: z.literal(true) }), 'Session ended'),
      401: ERROR_RESPONSES[401],
      403: ERROR_RESPONSES[403],
    },
  });
  app.delete('/v1/session', auth.require(), async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (c.get('principal').kind !== 'session' || !token)
      throw new AppError('validation', 'no session to end: API keys are revoked with DELETE /v1/keys/{id}');
    await logout(deps, { token });
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ loggedOut: true as const });
  });
}

/** The `{email}` of a path, as stored (trimmed, lower case). */
const emailParam = (raw: string) => raw.trim().toLowerCase();

/**
 * User management for admins (`users:manage`), the HTTP face of `retain users
 * create|list|disable|enable|set-role|set-password`: the same rules (schema.ts); a taken email is a 409
 * that writes nothing, and so is disabling or demoting the last active admin.
 */
export function registerUserRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const tags = ['users'];
  app.get(
    '/v1/users',
    documented(app, auth, 'users:manage', {
      method: 'get',
      path: '/v1/users',
      tags,
      summary: 'List web-app users (never their password hashes)',
      responses: { 200: json(z.object({ data: z.array(UserInfo) }), 'The users, by email') },
    }),
    async (c) => c.json({ data: await listUsers(deps) }),
  );
  app.post(
    '/v1/users',
    documented(app, auth, 'users:manage', {
      method: 'post',
      path: '/v1/users',
      tags,
      summary: 'Create a web-app user (password login); a taken email is a 409',
      request: { body: { required: true, content: { 'application/json': { schema: CreateUser } } } },
      responses: {
        201: json(UserInfo, 'The new user'),
        409: json(ErrorBody, 'A user with this email exists; nothing was written'),
      },
    }),
    async (c) => {
      const body = CreateUser.safeParse(await c.req.json());
      if (!body.success) throw validationError(body.error, 'body');
      return c.json(await createUser(deps, body.data), 201);
    },
  );
  app.post(
    '/v1/users/:email/disable',
    documented(app, auth, 'users:manage', {
      method: 'post',
      path: '/v1/users/{email}/disable',
      tags,
      summary: 'Disable a user and end their sessions at once',
      description: 'The last active admin cannot be disabled (409; nothing is written).',
      request: { params: z.object({ email: z.string() }) },
      responses: {
        200: json(z.object({ email: z.string(), disabled: z.literal(true) }), 'Disabled (again: no change)'),
        404: json(ErrorBody, 'No user with this email'),
        409: json(ErrorBody, "The store's last active admin; nothing was written"),
      },
    }),
    async (c) => {
      const email = emailParam(c.req.param('email'));
      await disableUser(deps, { email });
      return c.json({ email, disabled: true as const });
    },
  );
  app.post(
    '/v1/users/:email/enable',
    documented(app, auth, 'users:manage', {
      method: 'post',
      path: '/v1/users/{email}/enable',
      tags,
      summary: 'Let a disabled user log in again (their old sessions stay ended)',
      request: { params: z.object({ email: z.string() }) },
      responses: {
        200: json(UserInfo, 'The user, enabled (again: no change)'),
        404: json(ErrorBody, 'No user with this email'),
      },
    }),
    async (c) => c.json(await enableUser(deps, { email: emailParam(c.req.param('email')) })),
  );
  app.patch(
    '/v1/users/:email',
    documented(app, auth, 'users:manage', {
      method: 'patch',
      path: '/v1/users/{email}',
      tags,
      summary: "Change a user's role and/or reset their password",
      description:
        'A new password ends the user’s sessions. Demoting the last active admin is a 409 that writes ' +
        'nothing.',
      request: {
        params: z.object({ email: z.string() }),
        body: { required: true, content: { 'application/json': { schema: UpdateUser } } },
      },
      responses: {
        200: json(UserInfo, 'The user after the change'),
        404: json(ErrorBody, 'No user with this email'),
        409: json(ErrorBody, "The store's last active admin; nothing was written"),
      },
    }),
    async (c) => {
      const body = UpdateUser.safeParse(await c.req.json());
      if (!body.success) throw validationError(body.error, 'body');
      return c.json(await updateUser(deps, { email: emailParam(c.req.param('email')), ...body.data }));
    },
  );
}

/** Every route of the module: login sessions and user management. */
export function registerUsersModuleRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  registerSessionRoutes(app, deps, auth);
  registerUserRoutes(app, deps, auth);
}
