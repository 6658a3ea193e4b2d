import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { json, page, securedRoute } from '../../kit/http/openapi.js';
import { DomainEventDoc, DomainEventQuery } from './schema.js';
import { listDomainEvents } from './service.js';

export function registerOutboxRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'events:read', {
      method: 'get',
      path: '/v1/domain-events',
      tags: ['events'],
      summary: 'Domain events in id order (cursor pagination, type filter)',
      request: { query: DomainEventQuery },
      responses: { 200: json(page(DomainEventDoc, 'DomainEventPage'), 'A page of domain events') },
    }),
    async (c) => c.json(await listDomainEvents(deps.db, c.req.valid('query')), 200),
  );
}
