import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { validationError } from '../../kit/http/errors.js';
import { documented, json } from '../../kit/http/openapi.js';
import { ApiKeyInfo, KeyName, Role } from './schema.js';
import * as service from './service.js';

const tags = ['keys'];
const CreateKey = z.object({ role: Role, name: KeyName.optional() }).openapi('CreateKey');

/**
 * Key management over HTTP for admins (`retain keys …` does the same, beside a running server too).
 * A revocation here takes effect at once in this process.
 */
export function registerKeyRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.get(
    '/v1/keys',
    documented(app, auth, 'keys:manage', {
      method: 'get',
      path: '/v1/keys',
      tags,
      summary: 'List API keys (never their secrets)',
      responses: { 200: json(z.object({ data: z.array(ApiKeyInfo.openapi('ApiKey')) }), 'The keys') },
    }),
    async (c) => c.json({ data: await service.listKeys(deps) }),
  );
  app.post(
    '/v1/keys',
    documented(app, auth, 'keys:manage', {
      method: 'post',
      path: '/v1/keys',
      tags,
      summary: 'Create an API key; the response is the only time the key is shown',
      request: { body: { required: true, content: { 'application/json': { schema: CreateKey } } } },
      responses: { 201: json(ApiKeyInfo.extend({ key: z.string() }), 'The new key') },
    }),
    async (c) => {
      const body = CreateKey.safeParse(await c.req.json());
      if (!body.success) throw validationError(body.error, 'body');
      return c.json(await service.createKey(deps, body.data), 201);
    },
  );
  app.delete(
    '/v1/keys/:keyId',
    documented(app, auth, 'keys:manage', {
      method: 'delete',
      path: '/v1/keys/{keyId}',
      tags,
      summary: 'Revoke an API key',
      request: { params: z.object({ keyId: z.string() }) },
      responses: { 200: json(z.object({ keyId: z.string(), revoked: z.literal(true) }), 'Revoked') },
    }),
    async (c) => {
      const keyId = c.req.param('keyId');
      await service.revokeKey(deps, { keyId });
      auth.forget();
      return c.json({ keyId, revoked: true as const });
    },
  );
}
