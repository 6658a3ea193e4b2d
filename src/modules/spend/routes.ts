import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json, page, securedRoute } from '../../kit/http/openapi.js';
import { UpsertOutcome } from '../orders/schema.js';
import { SpendBatchDoc, SpendListQuery, SpendRowOut } from './schema.js';
import * as service from './service.js';

const tags = ['spend'];

export function registerSpendRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'commerce:read', {
      method: 'get',
      path: '/v1/spend',
      tags,
      summary: 'Marketing spend by day, channel and campaign',
      request: { query: SpendListQuery },
      responses: { 200: json(page(SpendRowOut, 'SpendPage'), 'A page of spend rows') },
    }),
    async (c) => c.json(await service.listSpend(deps, c.req.valid('query')), 200),
  );
  app.post(
    '/v1/spend',
    documented(app, auth, 'ingest', {
      method: 'post',
      path: '/v1/spend',
      tags,
      summary: 'Upsert up to 1000 spend rows by (date, channel, campaign)',
      request: { body: { required: true, content: { 'application/json': { schema: SpendBatchDoc } } } },
      responses: { 200: json(UpsertOutcome, 'Merge counts') },
    }),
    async (c) => c.json(await service.upsertSpend(deps, { body: await c.req.json() })),
  );
}
