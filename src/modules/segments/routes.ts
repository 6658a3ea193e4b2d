import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json, securedRoute } from '../../kit/http/openapi.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { registerAudienceRoutes } from './audienceRoutes.js';
import {
  AsOf,
  EvaluateInput,
  MembersQuery,
  Segment,
  SegmentCount,
  SegmentInput,
  SegmentMember,
  SegmentPreview,
  Snapshot,
  TagsChange,
} from './schema.js';

const SnapshotBody = z.object({ asOf: AsOf }).strict();
const FieldInfo = z
  .object({
    field: z.string(),
    type: z.enum(['text', 'number', 'date', 'flag']),
    ops: z.array(z.string()),
    params: z.array(z.string()),
    values: z.array(z.string()).nullable(),
    doc: z.string(),
  })
  .openapi('SegmentField');
import * as service from './service.js';

const tags = ['segments'];
const NameParam = z.object({ name: z.string().min(1) });

export function registerSegmentRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/segments',
      tags,
      summary: 'Built-in and saved segments',
      responses: { 200: json(z.object({ segments: z.array(Segment) }), 'Segments') },
    }),
    async (c) => c.json(await service.listSegments(deps), 200),
  );
  app.post(
    '/v1/segments',
    documented(app, auth, 'segments:write', {
      method: 'post',
      path: '/v1/segments',
      tags,
      summary: 'Save a segment (replaces one of the same name); a bad rule is a 400 naming its path',
      request: { body: { required: true, content: { 'application/json': { schema: SegmentInput } } } },
      responses: { 201: json(Segment, 'Created'), 200: json(Segment, 'Replaced') },
    }),
    async (c) => {
      const r = await service.saveSegment(deps, {
        body: await c.req.json(),
        by: c.get('principal')?.id ?? null,
      });
      return c.json(r.segment, r.created ? 201 : 200);
    },
  );
  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/segments/fields',
      tags,
      summary: 'The fields a rule can use: type, operators, parameters, fixed values, meaning',
      responses: { 200: json(z.object({ fields: z.array(FieldInfo) }), 'The field catalogue') },
    }),
    (c) => c.json(service.ruleFields(), 200),
  );
  app.post(
    '/v1/segments/count',
    documented(app, auth, 'customers:read', {
      method: 'post',
      path: '/v1/segments/count',
      tags,
      summary: 'Count a segment (by name) or a rule being edited — one SQL statement',
      request: { body: { required: true, content: { 'application/json': { schema: EvaluateInput } } } },
      responses: { 200: json(SegmentCount, 'The count') },
    }),
    async (c) => c.json(await service.countSegment(deps, await c.req.json()), 200),
  );
  app.post(
    '/v1/segments/preview',
    documented(app, auth, 'customers:read', {
      method: 'post',
      path: '/v1/segments/preview',
      tags,
      summary: 'Preview: count, share, revenue share, reachable per consent channel, 20 sample members',
      request: { body: { required: true, content: { 'application/json': { schema: EvaluateInput } } } },
      responses: { 200: json(SegmentPreview, 'The preview') },
    }),
    async (c) => c.json(await service.previewSegment(deps, await c.req.json()), 200),
  );
  app.post(
    '/v1/segments/refresh',
    documented(app, auth, 'segments:write', {
      method: 'post',
      path: '/v1/segments/refresh',
      tags,
      summary: 'Recompute the stored scores (order aggregates, RFM, deciles, the latest predictions)',
      responses: {
        200: json(
          z.object({
            customers: z.number().int(),
            withOrders: z.number().int(),
            withPredictions: z.number().int(),
            refreshedAt: z.string(),
            seconds: z.number(),
          }),
          'Refreshed',
        ),
      },
    }),
    async (c) => c.json(await service.refreshScores(deps), 200),
  );
  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/segments/{name}',
      tags,
      summary: 'A segment and its rule',
      request: { params: NameParam },
      responses: { 200: json(Segment, 'The segment') },
    }),
    async (c) => c.json(await service.getSegment(deps, c.req.valid('param')), 200),
  );
  app.openapi(
    securedRoute(auth, 'segments:write', {
      method: 'delete',
      path: '/v1/segments/{name}',
      tags,
      summary: 'Delete a saved segment',
      request: { params: NameParam },
      responses: { 200: json(z.object({ deleted: z.string() }), 'Deleted') },
    }),
    async (c) => c.json(await service.deleteSegment(deps, c.req.valid('param')), 200),
  );
  app.get(
    '/v1/segments/:name/members',
    documented(app, auth, 'customers:read', {
      method: 'get',
      path: '/v1/segments/{name}/members',
      tags,
      summary: "A segment's members now (cursor pages by customer)",
      request: { params: NameParam, query: MembersQuery },
      responses: {
        200: json(z.object({ items: z.array(SegmentMember), nextCursor: z.string().nullable() }), 'A page'),
      },
    }),
    async (c) =>
      c.json(await service.segmentMembers(deps, { name: c.req.param('name'), query: c.req.query() }), 200),
  );
  app.post(
    '/v1/segments/:name/snapshots',
    documented(app, auth, 'segments:write', {
      method: 'post',
      path: '/v1/segments/{name}/snapshots',
      tags,
      summary:
        'Snapshot a segment: members, who entered / left since the last one (segment.entered|left events)',
      request: {
        params: NameParam,
        body: { required: false, content: { 'application/json': { schema: z.object({ asOf: AsOf }) } } },
      },
      responses: { 201: json(Snapshot, 'The snapshot') },
    }),
    async (c) => {
      const text = await c.req.text();
      const body = SnapshotBody.safeParse(text.trim() === '' ? {} : JSON.parse(text));
      if (!body.success) throw validationError(body.error, 'snapshot');
      return c.json(
        await service.snapshotSegment(deps, { name: c.req.param('name'), asOf: body.data.asOf }),
        201,
      );
    },
  );
  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/segments/{name}/snapshots',
      tags,
      summary: "A segment's snapshots, newest first",
      request: {
        params: NameParam,
        query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(30) }),
      },
      responses: { 200: json(z.object({ snapshots: z.array(Snapshot) }), 'Snapshots') },
    }),
    async (c) =>
      c.json(
        await service.listSnapshots(deps, {
          name: c.req.valid('param').name,
          limit: c.req.valid('query').limit,
        }),
        200,
      ),
  );
  app.get(
    '/v1/segment-snapshots/:id/changes',
    documented(app, auth, 'customers:read', {
      method: 'get',
      path: '/v1/segment-snapshots/{id}/changes',
      tags,
      summary: 'Who entered and who left at a snapshot (cursor pages)',
      request: {
        params: z.object({ id: z.string() }),
        query: MembersQuery.omit({ asOf: true }),
      },
      responses: {
        200: json(
          z.object({
            snapshot: Snapshot,
            items: z.array(z.object({ id: z.string(), change: z.enum(['entered', 'left']), at: z.string() })),
            nextCursor: z.string().nullable(),
          }),
          'Changes',
        ),
      },
    }),
    async (c) => {
      const id = Number(c.req.param('id'));
      if (!Number.isSafeInteger(id))
        throw new AppError('not_found', `no segment snapshot '${c.req.param('id')}'`);
      return c.json(await service.snapshotChanges(deps, { id, query: c.req.query() }), 200);
    },
  );
  app.patch(
    '/v1/customers/:id/tags',
    documented(app, auth, 'segments:write', {
      method: 'patch',
      path: '/v1/customers/{id}/tags',
      tags,
      summary: "Add and remove a customer's tags (rules: tag has …)",
      request: {
        params: z.object({ id: z.string() }),
        body: { required: true, content: { 'application/json': { schema: TagsChange } } },
      },
      responses: { 200: json(z.object({ id: z.string(), tags: z.array(z.string()) }), 'The tags now') },
    }),
    async (c) =>
      c.json(await service.changeTags(deps, { id: c.req.param('id'), body: await c.req.json() }), 200),
  );
  registerAudienceRoutes(app, deps, auth);
}
