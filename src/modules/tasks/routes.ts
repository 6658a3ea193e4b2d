import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { ErrorBody } from '../../kit/http/errors.js';
import { documented, json, page } from '../../kit/http/openapi.js';
import { CreateTaskInput, Task, TaskDetail, TaskListQuery, UpdateTaskInput } from './schema.js';
import * as service from './service.js';

const tags = ['tasks'];
const IdParam = z.object({ id: z.string().openapi({ description: 'the task id' }) });
const Created = z.object({ task: TaskDetail, created: z.boolean() }).openapi('TaskCreated');

/** The tasks API (docs/tasks.md). */
export function registerTaskRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const who = (c: { get(k: 'principal'): { id: string } | undefined }) => c.get('principal')?.id ?? null;

  app.get(
    '/v1/tasks',
    documented(app, auth, 'tasks:read', {
      method: 'get',
      path: '/v1/tasks',
      tags,
      summary:
        'Tasks due soonest first (then those without a due time), by status, assignee (`none`: unassigned), customer, overdue',
      request: { query: TaskListQuery },
      responses: { 200: json(page(Task, 'TaskPage'), 'A page of tasks') },
    }),
    async (c) => c.json(await service.listTasks(deps, c.req.query())),
  );
  app.post(
    '/v1/tasks',
    documented(app, auth, 'tasks:write', {
      method: 'post',
      path: '/v1/tasks',
      tags,
      summary:
        'Create a task for a customer (201); the same idempotencyKey (or Idempotency-Key header) answers the first task (200) and creates nothing',
      request: {
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: { required: true, content: { 'application/json': { schema: CreateTaskInput } } },
      },
      responses: {
        200: json(Created, 'A retry: the task the key created'),
        201: json(Created, 'Created'),
      },
    }),
    async (c) => {
      const r = await service.createTask(deps, await c.req.json(), who(c), {
        idempotencyKey: c.req.header('idempotency-key'),
      });
      return c.json(r, r.created ? 201 : 200);
    },
  );
  app.get(
    '/v1/tasks/:id',
    documented(app, auth, 'tasks:read', {
      method: 'get',
      path: '/v1/tasks/{id}',
      tags,
      summary: "One task: its customer's shop id, email and name, and its history",
      request: { params: IdParam },
      responses: { 200: json(TaskDetail, 'The task') },
    }),
    async (c) => c.json(await service.getTask(deps, { id: c.req.param('id') })),
  );
  app.patch(
    '/v1/tasks/:id',
    documented(app, auth, 'tasks:write', {
      method: 'patch',
      path: '/v1/tasks/{id}',
      tags,
      summary:
        'Move a task (open → in_progress → done, open → done, → cancelled; done needs an outcome), assign it, set its due time; a move not allowed is a 409 saying why',
      request: {
        params: IdParam,
        body: { required: true, content: { 'application/json': { schema: UpdateTaskInput } } },
      },
      responses: {
        200: json(TaskDetail, 'The task'),
        409: json(ErrorBody, 'A move not allowed (the message says why), or a closed task'),
      },
    }),
    async (c) =>
      c.json(await service.updateTask(deps, { id: c.req.param('id'), body: await c.req.json(), by: who(c) })),
  );
}
