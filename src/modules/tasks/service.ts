import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { parseInput } from '../../kit/http/input.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import type { Queryable } from '../../storage/port.js';
import { customerByIdOrAlias } from '../customers/repository.js';
import { userByEmail } from '../users/repository.js';
import * as repo from './repository.js';
import {
  Assignee,
  Body,
  CreateTaskInput,
  TaskListQuery,
  Title,
  UpdateTaskInput,
  type Task,
  type TaskDetail,
  type TaskStatus,
} from './schema.js';

/**
 * Service tasks for store staff (docs/tasks.md): made by hand (API, CLI) or by automated flows
 * (`createTaskIn`, inside the flow runner's transaction), worked through `open` → `in_progress` →
 * `done` (with an outcome) or `cancelled`, each change kept in the task's history.
 */

// ---- creating ------------------------------------------------------------------------------------

/** What `createTaskIn` takes: the customer by internal id, and the key that makes creation exactly-once. */
export interface NewTask {
  /** The customer's internal id (`customers.customer_id`). */
  customerId: number;
  title: string;
  body?: string | null | undefined;
  /** A user's email; only its form is checked here (`checkAssignee` checks the user). */
  assignee?: string | null | undefined;
  dueAt?: Date | null | undefined;
  /** What makes the task: `manual`, `flow:<name>`, … */
  source: string;
  /** Unique across tasks: the same key creates one task, whoever asks and however often. */
  sourceKey: string;
  now: Date;
  /** Who the history names as the creator (default: the source). */
  by?: string | null | undefined;
}

const Source = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'is required')
  .max(200, 'at most 200 characters');

const NewTaskSchema = z.object({
  customerId: z
    .number({ error: 'expected an internal customer id' })
    .int('expected an internal customer id')
    .positive('expected an internal customer id'),
  title: Title,
  body: Body.nullish(),
  assignee: Assignee.nullish(),
  dueAt: z.date({ error: 'expected a Date' }).nullish(),
  source: Source,
  sourceKey: z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'is required')
    .max(300, 'at most 300 characters'),
  now: z.date({ error: 'expected a Date' }),
  by: z.string().nullish(),
});

/**
 * Creates a task exactly once per `sourceKey`, in the caller's transaction `tx` (the flow runner's, or
 * the manual path's): `INSERT … ON CONFLICT (source_key) DO NOTHING`, then the key read back. A second
 * call with the key (a retried step, a replayed event, a concurrent writer) answers the first task with
 * `created: false` and writes nothing. Errors (AppError, naming the field): bad input (400), a customer
 * that does not exist or is erased (404), a key that already made a task for another customer (409).
 */
export async function createTaskIn(
  tx: Queryable,
  input: NewTask,
): Promise<{ taskId: number; created: boolean }> {
  const parsed = NewTaskSchema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, 'task');
  const t = parsed.data;
  const body = t.body ? t.body : null;
  const assignee = t.assignee ?? null;
  const dueAt = t.dueAt ?? null;
  const taskId = await repo.insertTask(tx, {
    customerId: t.customerId,
    title: t.title,
    body,
    assignee,
    dueAt,
    source: t.source,
    sourceKey: t.sourceKey,
    now: t.now,
  });
  if (taskId !== null) {
    const change = [
      `created (${t.source})`,
      ...(assignee ? [`assigned to ${assignee}`] : []),
      ...(dueAt ? [`due ${dueAt.toISOString()}`] : []),
    ].join('; ');
    await repo.insertTaskEvent(tx, {
      taskId,
      customerId: t.customerId,
      at: t.now,
      by: t.by ?? t.source,
      change,
    });
    return { taskId, created: true };
  }
  const existing = await repo.taskBySourceKey(tx, t.sourceKey);
  if (!existing)
    throw new AppError('not_found', `no customer with internal id ${t.customerId} (unknown or erased)`, {
      where: { field: 'customerId' },
    });
  if (existing.customer_id !== t.customerId)
    throw new AppError(
      'conflict',
      `the key '${t.sourceKey}' already created task ${existing.task_id}, for another customer`,
      { where: { field: 'sourceKey' } },
    );
  return { taskId: existing.task_id, created: false };
}

/**
 * Adds to a task what its source learned since (a survey's reason, say), inside the caller's transaction:
 * appended to the task's details and kept in its history.
 */
export async function addToTaskIn(
  tx: Queryable,
  a: { taskId: number; customerId: number; text: string; by: string; now: Date },
): Promise<void> {
  await repo.appendTaskBody(tx, a.taskId, a.text, a.now);
  await repo.insertTaskEvent(tx, {
    taskId: a.taskId,
    customerId: a.customerId,
    at: a.now,
    by: a.by,
    change: a.text.slice(0, 1000),
  });
}

/**
 * The user an assignee names, checked: a user of the store (`retain users list`) who is not disabled.
 * Answers the stored (lower-case) email. For the manual paths; flows check their assignee when saved.
 */
export async function checkAssignee(db: Queryable, email: string, field = 'assignee'): Promise<string> {
  const u = await userByEmail(db, email.trim().toLowerCase());
  if (!u)
    throw new AppError('validation', `no user '${email}' to assign the task to (see retain users list)`, {
      where: { field },
    });
  if (u.disabled_at)
    throw new AppError('validation', `user '${u.email}' is disabled: tasks go to active users`, {
      where: { field },
    });
  return u.email;
}

async function customerOf(db: Queryable, externalId: string, field = 'customer') {
  const c = await customerByIdOrAlias(db, externalId);
  if (!c || c.erased_at) throw new AppError('not_found', `no customer '${externalId}'`, { where: { field } });
  return c;
}

/**
 * `POST /v1/tasks`, `retain tasks create`: a task made by hand, for `by` (a key id, `user:<email>`,
 * `cli`). With an idempotency key the same key answers the first task and creates nothing
 * (`created: false`); without, every call creates one.
 */
export async function createTask(
  ctx: ModuleContext,
  body: unknown,
  by: string | null,
  opts: { idempotencyKey?: string | undefined } = {},
): Promise<{ task: TaskDetail; created: boolean }> {
  const input = parseInput(CreateTaskInput, body, 'body');
  const header = opts.idempotencyKey?.trim();
  if (header !== undefined && header !== '' && input.idempotencyKey && input.idempotencyKey !== header)
    throw new AppError(
      'validation',
      'the Idempotency-Key header and idempotencyKey in the body differ: send one',
      { where: { field: 'idempotencyKey' } },
    );
  const key = input.idempotencyKey ?? (header || undefined);
  if (key !== undefined && key.length > 200)
    throw new AppError('validation', 'the idempotency key is at most 200 characters', {
      where: { field: 'idempotencyKey' },
    });
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const c = await customerOf(tx, input.customer);
    const assignee = input.assignee ? await checkAssignee(tx, input.assignee) : null;
    const r = await createTaskIn(tx, {
      customerId: c.customer_id,
      title: input.title,
      body: input.body ?? null,
      assignee,
      dueAt: input.dueAt ?? null,
      source: 'manual',
      sourceKey: `manual:${key ?? randomUUID()}`,
      now,
      by,
    });
    return { task: await detail(tx, r.taskId, now), created: r.created };
  });
}

// ---- reading -------------------------------------------------------------------------------------

const OPEN: readonly TaskStatus[] = ['open', 'in_progress'];

function taskOf(r: repo.TaskRow, now: Date): Task {
  const name = [r.first_name, r.last_name].filter((s) => s && s.trim() !== '').join(' ');
  return {
    id: r.task_id,
    customer: { id: r.external_id, email: r.email, name: name || null },
    title: r.title,
    body: r.body,
    assignee: r.assignee,
    status: r.status,
    outcome: r.outcome,
    dueAt: r.due_at ? r.due_at.toISOString() : null,
    overdue: r.due_at !== null && OPEN.includes(r.status) && r.due_at.getTime() < now.getTime(),
    source: r.source,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    doneAt: r.done_at ? r.done_at.toISOString() : null,
  };
}

async function detail(db: Queryable, taskId: number, now: Date): Promise<TaskDetail> {
  const r = await repo.taskById(db, taskId);
  if (!r) throw new AppError('not_found', `no task ${taskId}`, { where: { field: 'id' } });
  const history = (await repo.taskEvents(db, taskId)).map((e) => ({
    at: e.changed_at.toISOString(),
    by: e.changed_by,
    change: e.change,
  }));
  return { ...taskOf(r, now), history };
}

/** A task id from a path or an argument: a positive whole number, else a 400 naming `id`. */
function taskIdOf(id: string | number): number {
  const n = typeof id === 'number' ? id : /^\s*\d+\s*$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new AppError('validation', `expected a task id (a positive whole number), got '${String(id)}'`, {
      where: { field: 'id' },
    });
  return n;
}

/** `GET /v1/tasks/{id}`, `retain tasks show`: the task, its customer (shop id, email, name) and history. */
export async function getTask(ctx: ModuleContext, { id }: { id: string | number }): Promise<TaskDetail> {
  return detail(ctx.db, taskIdOf(id), ctx.clock.now());
}

type ListCursor = [string | null, number];
const isListCursor = (v: unknown): v is ListCursor =>
  Array.isArray(v) &&
  v.length === 2 &&
  (v[0] === null || (typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])))) &&
  Number.isSafeInteger(v[1]);

/**
 * `GET /v1/tasks`, `retain tasks list`: tasks due soonest first (then those without a due time, in
 * creation order), filtered by status (one or several), assignee (`none`: the unassigned), customer
 * and overdue; keyset pages. Takes the query as sent (strings) and parses it.
 */
export async function listTasks(
  ctx: ModuleContext,
  query: Record<string, unknown>,
): Promise<{ data: Task[]; nextCursor: string | null }> {
  const q = parseInput(TaskListQuery, query, 'query');
  const now = ctx.clock.now();
  let after: repo.TaskFilter['after'];
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, isListCursor);
    if (!c)
      throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
        where: { field: 'cursor' },
      });
    after = { dueAt: c[0] === null ? null : new Date(c[0]), taskId: c[1] };
  }
  const customerId =
    q.customer !== undefined ? (await customerOf(ctx.db, q.customer)).customer_id : undefined;
  const rows = await repo.listTasks(ctx.db, {
    statuses: q.status,
    assignee: q.assignee === 'none' ? null : q.assignee,
    customerId,
    overdueAt: q.overdue ? now : undefined,
    after,
    limit: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => taskOf(r, now)),
    nextCursor:
      rows.length > q.limit && last
        ? encodeCursor([last.due_at ? last.due_at.toISOString() : null, last.task_id] satisfies ListCursor)
        : null,
  };
}

// ---- changing ------------------------------------------------------------------------------------

/** The moves a status may make (docs/tasks.md#moves); staying put is no move. */
const MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  open: ['in_progress', 'done', 'cancelled'],
  in_progress: ['done', 'cancelled'],
  done: [],
  cancelled: [],
};

function refuseMove(id: number, from: TaskStatus, to: TaskStatus): never {
  const why =
    from === 'done' || from === 'cancelled'
      ? `task ${id} is ${from}: a closed task does not move again`
      : from === 'in_progress' && to === 'open'
        ? `task ${id} is in progress: it goes on to done or cancelled, not back to open`
        : `task ${id} cannot move from ${from} to ${to}`;
  throw new AppError('conflict', why, { where: { field: 'status' } });
}

const shown = (v: string | null) => v ?? '—';

/**
 * `PATCH /v1/tasks/{id}`, `retain tasks update`: a move (open → in_progress → done, open → done, open or
 * in_progress → cancelled; any other is a 409 saying why), a new assignee (a user; null unassigns), a
 * new due time (null clears it), the outcome (required to reach done, allowed when cancelling). A closed
 * task (done, cancelled) changes no more (409). One transaction: the task and its history line; a move
 * made meanwhile by someone else is a 409 and nothing is written.
 */
export async function updateTask(
  ctx: ModuleContext,
  { id, body, by }: { id: string | number; body: unknown; by: string | null },
): Promise<TaskDetail> {
  const taskId = taskIdOf(id);
  const input = parseInput(UpdateTaskInput, body, 'body');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const t = await repo.taskById(tx, taskId);
    if (!t) throw new AppError('not_found', `no task ${taskId}`, { where: { field: 'id' } });
    const to = input.status ?? t.status;
    const moves = to !== t.status;
    if (moves && !MOVES[t.status].includes(to)) refuseMove(taskId, t.status, to);
    const closes = moves && (to === 'done' || to === 'cancelled');
    // The outcome sent again unchanged (a retried request) is no change.
    const outcome = input.outcome !== undefined && input.outcome !== t.outcome ? input.outcome : undefined;
    if (outcome !== undefined && !closes)
      throw new AppError(
        'validation',
        'an outcome is recorded when the task moves to done or cancelled (send it with that status)',
        { where: { field: 'outcome' } },
      );
    if (moves && to === 'done' && outcome === undefined)
      throw new AppError('validation', 'a task is done with an outcome: say what came of it', {
        where: { field: 'outcome' },
      });

    const set: Parameters<typeof repo.updateTask>[3] = {};
    const changes: string[] = [];
    const changed: string[] = [];
    if (moves) {
      set.status = to;
      changes.push(`status ${t.status} → ${to}`);
      changed.push('status');
      if (to === 'done') set.doneAt = now;
    }
    if (input.assignee !== undefined && input.assignee !== t.assignee) {
      const assignee = input.assignee === null ? null : await checkAssignee(tx, input.assignee);
      set.assignee = assignee;
      changes.push(`assignee ${shown(t.assignee)} → ${shown(assignee)}`);
      changed.push('assignee');
    }
    if (input.dueAt !== undefined && (input.dueAt?.getTime() ?? null) !== (t.due_at?.getTime() ?? null)) {
      set.dueAt = input.dueAt;
      changes.push(
        `due ${shown(t.due_at?.toISOString() ?? null)} → ${shown(input.dueAt?.toISOString() ?? null)}`,
      );
      changed.push('dueAt');
    }
    if (outcome !== undefined) {
      set.outcome = outcome;
      changes.push(`outcome: ${outcome}`);
    }
    // Nothing to change (a retry of a request already applied): the task as it is.
    if (changes.length === 0) return detail(tx, taskId, now);
    if (t.status === 'done' || t.status === 'cancelled')
      throw new AppError('conflict', `task ${taskId} is ${t.status}: a closed task does not change`, {
        where: { field: changed[0] ?? 'status' },
      });

    if (!(await repo.updateTask(tx, taskId, t.status, set, now)))
      throw new AppError('conflict', `task ${taskId} moved meanwhile: read it again and retry`, {
        where: { field: 'status' },
      });
    await repo.insertTaskEvent(tx, {
      taskId,
      customerId: t.customer_id,
      at: now,
      by,
      change: changes.join('; '),
    });
    return detail(tx, taskId, now);
  });
}
