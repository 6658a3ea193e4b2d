import { createRoute } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { validationError } from '../../kit/http/errors.js';
import { ERROR_RESPONSES } from '../../kit/http/openapi.js';
import { rolesWith } from '../../kit/http/auth.js';
import { EventBatch, EventBatchDoc, IngestResult, MAX_EVENTS_PER_BATCH } from './schema.js';
import { ingestEvents } from './service.js';

export function registerEventRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  // Documented from the item schema, validated item by item in the handler.
  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: '/v1/events',
      tags: ['ingestion'],
      summary: `Ingest up to ${MAX_EVENTS_PER_BATCH} events`,
      description: `Each event's \`event_id\` is its idempotency key: sending it again stores nothing new. Invalid items are rejected individually with their index; valid ones are stored.\n\nRoles: ${rolesWith('ingest').join(', ')}.`,
      security: [{ bearer: [] }],
      request: { body: { required: true, content: { 'application/json': { schema: EventBatchDoc } } } },
      responses: {
        ...ERROR_RESPONSES,
        200: {
          description: 'Counts and per-item rejections',
          content: { 'application/json': { schema: IngestResult } },
        },
      },
    }),
  );
  app.post('/v1/events', auth.require('ingest'), async (c) => {
    const body = EventBatch.safeParse(await c.req.json());
    if (!body.success) throw validationError(body.error, 'body');
    return c.json(await ingestEvents(deps, { items: body.data.events }));
  });
}
