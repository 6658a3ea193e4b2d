import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { Principal, RetainApp, ServerDeps } from '../../kit/http/context.js';
import { ErrorBody } from '../../kit/http/errors.js';
import { documented, json } from '../../kit/http/openapi.js';
import {
  Note,
  NoteInput,
  NoteListQuery,
  NotePage,
  TagsResult,
  TimelinePage,
  TimelineQuery,
} from './schema.js';
import * as service from './service.js';

const tags = ['customers'];
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ description: "the customer's shop id (a merged customer's id reaches the survivor)" }),
});
const NoteParams = IdParam.extend({ noteId: z.string().openapi({ description: 'the note id' }) });
const TagParams = IdParam.extend({ tag: z.string().openapi({ description: 'the tag (1–80 characters)' }) });

/** Who is calling, as the service's actor. */
const actor = (c: { get(k: 'principal'): Principal }): service.Actor => {
  const p = c.get('principal');
  return { id: p.id, name: p.name, role: p.role };
};

/** The customer 360 API (docs/customer360.md): the timeline, notes and tags. */
export function registerCrmRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.get(
    '/v1/customers/:id/timeline',
    documented(app, auth, 'customers:360', {
      method: 'get',
      path: '/v1/customers/{id}/timeline',
      tags,
      summary:
        "A customer's 360: who they are and their figures, and one timeline of orders, refunds, events, messages, consents, points, tasks, notes, tags, flows — newest first",
      description:
        'Every module adds its own entries. `kinds` filters (a name takes the kinds under it: `message` → `message`, `message.open`, …); keyset pages through `cursor`. The header (`customer`) comes with every page: order figures from the stored scores, the latest CLV prediction, loyalty, open tasks, tags.',
      request: { params: IdParam, query: TimelineQuery },
      responses: { 200: json(TimelinePage, 'The header and a page of the timeline') },
    }),
    async (c) =>
      c.json(await service.customerTimeline(deps, { id: c.req.param('id'), query: c.req.query() }), 200),
  );

  app.get(
    '/v1/customers/:id/notes',
    documented(app, auth, 'customers:360', {
      method: 'get',
      path: '/v1/customers/{id}/notes',
      tags,
      summary: "A customer's notes, newest first (deleted ones left out)",
      request: { params: IdParam, query: NoteListQuery },
      responses: { 200: json(NotePage, 'A page of notes') },
    }),
    async (c) => c.json(await service.listNotes(deps, { id: c.req.param('id'), query: c.req.query() }), 200),
  );
  app.post(
    '/v1/customers/:id/notes',
    documented(app, auth, 'notes:write', {
      method: 'post',
      path: '/v1/customers/{id}/notes',
      tags,
      summary: 'Write a note on a customer (the caller is its author)',
      request: {
        params: IdParam,
        body: { required: true, content: { 'application/json': { schema: NoteInput } } },
      },
      responses: { 201: json(Note, 'Written') },
    }),
    async (c) =>
      c.json(
        await service.addNote(deps, { id: c.req.param('id'), body: await c.req.json(), by: actor(c) }),
        201,
      ),
  );
  app.patch(
    '/v1/customers/:id/notes/:noteId',
    documented(app, auth, 'notes:write', {
      method: 'patch',
      path: '/v1/customers/{id}/notes/{noteId}',
      tags,
      summary: "Change a note's text: its author or an admin (others: 403, nothing changed)",
      request: {
        params: NoteParams,
        body: { required: true, content: { 'application/json': { schema: NoteInput } } },
      },
      responses: {
        200: json(Note, 'The note'),
        403: json(ErrorBody, 'Not the note’s author nor an admin (or the role lacks notes:write)'),
      },
    }),
    async (c) =>
      c.json(
        await service.editNote(deps, {
          id: c.req.param('id'),
          noteId: c.req.param('noteId'),
          body: await c.req.json(),
          by: actor(c),
        }),
        200,
      ),
  );
  app.delete(
    '/v1/customers/:id/notes/:noteId',
    documented(app, auth, 'notes:write', {
      method: 'delete',
      path: '/v1/customers/{id}/notes/{noteId}',
      tags,
      summary: 'Delete a note: its author or an admin (others: 403, nothing changed)',
      request: { params: NoteParams },
      responses: {
        200: json(z.object({ id: z.number().int(), deleted: z.literal(true) }), 'Deleted'),
        403: json(ErrorBody, 'Not the note’s author nor an admin (or the role lacks notes:write)'),
      },
    }),
    async (c) =>
      c.json(
        await service.deleteNote(deps, {
          id: c.req.param('id'),
          noteId: c.req.param('noteId'),
          by: actor(c),
        }),
        200,
      ),
  );

  app.put(
    '/v1/customers/:id/tags/:tag',
    documented(app, auth, 'tags:write', {
      method: 'put',
      path: '/v1/customers/{id}/tags/{tag}',
      tags,
      summary: 'Tag a customer (recorded on their timeline; a tag they have already: changed false)',
      request: { params: TagParams },
      responses: { 200: json(TagsResult, 'The tags now') },
    }),
    async (c) =>
      c.json(
        await service.addTag(deps, { id: c.req.param('id'), tag: c.req.param('tag'), by: actor(c) }),
        200,
      ),
  );
  app.delete(
    '/v1/customers/:id/tags/:tag',
    documented(app, auth, 'tags:write', {
      method: 'delete',
      path: '/v1/customers/{id}/tags/{tag}',
      tags,
      summary: 'Untag a customer (recorded on their timeline; a tag they lack: changed false)',
      request: { params: TagParams },
      responses: { 200: json(TagsResult, 'The tags now') },
    }),
    async (c) =>
      c.json(
        await service.removeTag(deps, { id: c.req.param('id'), tag: c.req.param('tag'), by: actor(c) }),
        200,
      ),
  );
}
