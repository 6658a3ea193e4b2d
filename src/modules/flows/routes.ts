import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';
import { Flow, FlowDefinition } from './schema.js';
import * as service from './service.js';

const tags = ['flows'];
const NameParam = z.object({ name: z.string() });

/** The flows API (docs/flows.md). */
export function registerFlowRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const who = (c: { get(k: 'principal'): { id: string } | undefined }) => c.get('principal')?.id ?? null;
  app.get(
    '/v1/flows',
    documented(app, auth, 'messaging:read', {
      method: 'get',
      path: '/v1/flows',
      tags,
      summary: 'Flows with their status, version and runs',
      responses: { 200: json(z.object({ data: z.array(Flow) }), 'The flows') },
    }),
    async (c) => c.json({ data: await service.listFlows(deps) }),
  );
  app.get(
    '/v1/flows/:name',
    documented(app, auth, 'messaging:read', {
      method: 'get',
      path: '/v1/flows/{name}',
      tags,
      summary: 'One flow: its newest definition, versions and runs',
      request: { params: NameParam },
      responses: { 200: json(Flow.extend({ versions: z.array(z.unknown()) }), 'The flow') },
    }),
    async (c) => c.json(await service.getFlow(deps, { name: c.req.param('name') })),
  );
  app.get(
    '/v1/flow-templates',
    documented(app, auth, 'messaging:read', {
      method: 'get',
      path: '/v1/flow-templates',
      tags,
      summary: 'The built-in flows (welcome, abandoned checkout, win-back, birthday …) with their messages',
      responses: {
        200: json(z.object({ data: z.array(z.record(z.string(), z.unknown())) }), 'The built-in flows'),
      },
    }),
    (c) => c.json({ data: service.listBuiltins() }),
  );
  app.post(
    '/v1/flow-templates/:key/install',
    documented(app, auth, 'campaigns:write', {
      method: 'post',
      path: '/v1/flow-templates/{key}/install',
      tags,
      summary:
        'Install a built-in flow as a draft with its messages and surveys (templates and surveys the store already has by those names are kept)',
      request: {
        params: z.object({ key: z.string() }),
        body: {
          required: false,
          content: {
            'application/json': {
              schema: z
                .object({ name: z.string().optional(), shopUrl: z.string().optional() })
                .openapi('FlowInstall'),
            },
          },
        },
      },
      responses: {
        201: json(
          z.record(z.string(), z.unknown()).openapi('FlowInstalled'),
          'The flow, its messages and surveys',
        ),
      },
    }),
    async (c) => {
      const text = await c.req.text();
      const body = (text.trim() ? JSON.parse(text) : {}) as { name?: string; shopUrl?: string };
      return c.json(
        await service.installBuiltin(deps, {
          key: c.req.param('key'),
          name: body.name,
          shopUrl: body.shopUrl,
          by: who(c),
        }),
        201,
      );
    },
  );
  app.put(
    '/v1/flows/:name',
    documented(app, auth, 'campaigns:write', {
      method: 'put',
      path: '/v1/flows/{name}',
      tags,
      summary:
        'Save a flow: a new one (a draft) or its next version — customers in flight finish on the version they entered',
      request: {
        params: NameParam,
        body: { required: true, content: { 'application/json': { schema: FlowDefinition } } },
      },
      responses: { 200: json(Flow, 'The flow') },
    }),
    async (c) => {
      const body = (await c.req.json()) as Record<string, unknown>;
      return c.json(
        await service.saveFlow(deps, {
          body: { ...body, name: body.name ?? c.req.param('name') },
          by: who(c),
        }),
      );
    },
  );
  app.get(
    '/v1/flows/:name/report',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/flows/{name}/report',
      tags,
      summary:
        "Entries, messages, conversions of the treated and the holdout, and the incremental revenue per entrant over the holdout's in the `days` after entering (default 30)",
      request: { params: NameParam, query: z.object({ days: z.string().optional() }) },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('FlowReport'), 'The report') },
    }),
    async (c) => {
      const { flowReport } = await import('./report.js');
      const days = c.req.query('days');
      return c.json(
        await flowReport(deps, {
          name: c.req.param('name'),
          ...(days !== undefined ? { days: Number(days) } : {}),
        }),
      );
    },
  );
  app.get(
    '/v1/flows/:name/simulate',
    documented(app, auth, 'messaging:read', {
      method: 'get',
      path: '/v1/flows/{name}/simulate',
      tags,
      summary:
        'Who would have entered the newest version over the last `days` (default 7): the trigger’s recorded events against the re-entry rules and the holdout',
      request: { params: NameParam, query: z.object({ days: z.string().optional() }) },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('FlowSimulation'), 'The simulation') },
    }),
    async (c) => {
      const days = c.req.query('days');
      return c.json(
        await service.simulateFlow(deps, {
          name: c.req.param('name'),
          ...(days !== undefined ? { days: Number(days) } : {}),
        }),
      );
    },
  );
  for (const action of ['activate', 'pause', 'archive'] as const)
    app.post(
      `/v1/flows/:name/${action}`,
      documented(app, auth, 'campaigns:write', {
        method: 'post',
        path: `/v1/flows/{name}/${action}`,
        tags,
        summary:
          action === 'activate'
            ? 'Activate (or resume) a flow: customers enter from now on'
            : action === 'pause'
              ? 'Pause a flow: nobody enters, runs wait where they are'
              : 'Archive a flow for good',
        request: { params: NameParam },
        responses: { 200: json(Flow, 'The flow') },
      }),
      async (c) => c.json(await service.moveFlow(deps, { name: c.req.param('name'), action })),
    );
}
