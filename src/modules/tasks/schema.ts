import { z } from '@hono/zod-openapi';
import { queryFlag } from '../../kit/http/input.js';
import { PageQuery } from '../../kit/http/openapi.js';
import { parseInstant } from '../../shared/time.js';
import { Email } from '../users/schema.js';

/** Where a task is: `open` → `in_progress` → `done`, or `cancelled` from either (docs/tasks.md). */
export const TASK_STATUSES = ['open', 'in_progress', 'done', 'cancelled'] as const;
export const TaskStatus = z.enum(TASK_STATUSES, {
  error: `expected one of ${TASK_STATUSES.join(', ')}`,
});
export type TaskStatus = z.infer<typeof TaskStatus>;

const show = (s: unknown) => `'${String(s).length > 40 ? String(s).slice(0, 40) + '…' : String(s)}'`;

export const Title = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'is required')
  .max(200, 'at most 200 characters');
export const Body = z.string({ error: 'expected text' }).trim().max(5000, 'at most 5,000 characters');
export const Outcome = z
  .string({ error: 'expected text' })
  .trim()
  .min(1, 'must not be empty')
  .max(2000, 'at most 2,000 characters');
/** Who does the task: a user's email (the users module's login), stored lower-case. */
export const Assignee = Email;

/** An instant: ISO 8601 with an offset, `2026-03-05 14:00` (UTC) or a day (`2026-03-05`: midnight UTC). */
export const Instant = z.string({ error: 'expected an ISO 8601 instant' }).transform((s, ctx) => {
  const d = parseInstant(s.trim());
  if (!d) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an ISO 8601 instant like 2026-03-05T14:00:00Z, got ${show(s)}`,
    });
    return z.NEVER;
  }
  return d;
});

const IdempotencyKey = z
  .string({ error: 'expected text' })
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters');

/** `POST /v1/tasks`, `retain tasks create`: a task made by hand. */
export const CreateTaskInput = z
  .object({
    customer: z
      .string({ error: 'is required' })
      .trim()
      .min(1, 'is required')
      .openapi({ description: "the customer's shop id (a merged customer's id reaches the survivor)" }),
    title: Title.openapi({ example: 'Call about the late delivery' }),
    body: Body.nullish().openapi({ description: 'details for whoever does it' }),
    assignee: Assignee.nullish().openapi({ description: "a user's email (retain users list)" }),
    dueAt: Instant.nullish().openapi({
      type: 'string',
      description: 'ISO 8601; a day alone is midnight UTC',
    }),
    idempotencyKey: IdempotencyKey.optional().openapi({
      description:
        'a key of your choosing (or the Idempotency-Key header): the same key answers the first task (200) and creates nothing',
    }),
  })
  .openapi('CreateTask');
export type CreateTaskInput = z.infer<typeof CreateTaskInput>;

/** `PATCH /v1/tasks/{id}`, `retain tasks update`: a move, a new assignee or due date, the outcome. */
export const UpdateTaskInput = z
  .object({
    status: TaskStatus.optional(),
    assignee: Assignee.nullable().optional().openapi({ description: "a user's email; null unassigns" }),
    outcome: Outcome.optional().openapi({
      description: 'what came of it: required to move to done, allowed when cancelling',
    }),
    dueAt: Instant.nullable()
      .optional()
      .openapi({ type: 'string', description: 'ISO 8601; null clears the due date' }),
  })
  .refine(
    (b) =>
      b.status !== undefined || b.assignee !== undefined || b.outcome !== undefined || b.dueAt !== undefined,
    { error: 'give status, assignee, outcome or dueAt', path: ['status'] },
  )
  .openapi('UpdateTask');
export type UpdateTaskInput = z.infer<typeof UpdateTaskInput>;

/** `GET /v1/tasks`, `retain tasks list`. */
export const TaskListQuery = z
  .object({
    status: z
      .string()
      .transform((s, ctx) => {
        const list = s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
        const bad = list.find((x) => !(TASK_STATUSES as readonly string[]).includes(x));
        if (bad !== undefined || list.length === 0) {
          ctx.addIssue({
            code: 'custom',
            message: `expected statuses among ${TASK_STATUSES.join(', ')} (comma-separated), got ${show(bad ?? s)}`,
          });
          return z.NEVER;
        }
        return [...new Set(list)] as TaskStatus[];
      })
      .optional()
      .openapi({ type: 'string', description: 'one status or several, comma-separated (open,in_progress)' }),
    assignee: z
      .union([z.literal('none'), Assignee], { error: "expected a user's email, or none (unassigned)" })
      .optional()
      .openapi({ type: 'string', description: "a user's email, or `none`: the unassigned" }),
    customer: z.string().trim().min(1, 'must not be empty').optional().openapi({
      description: "one customer's tasks (the shop id)",
    }),
    overdue: queryFlag.optional().openapi({
      type: 'string',
      enum: ['true', 'false'],
      description: 'true: open or in progress past their due time',
    }),
    ...PageQuery,
  })
  .openapi('TaskListQuery');
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** A task as answered (lists and one task alike). */
export const Task = z
  .object({
    id: z.number().int(),
    customer: z.object({
      id: z.string().openapi({ description: "the customer's shop id" }),
      email: z.string().nullable(),
      name: z.string().nullable(),
    }),
    title: z.string(),
    body: z.string().nullable(),
    assignee: z.string().nullable(),
    status: TaskStatus,
    outcome: z.string().nullable(),
    dueAt: z.string().nullable(),
    overdue: z.boolean().openapi({ description: 'open or in progress past its due time' }),
    source: z.string().openapi({ description: 'what made it: manual, flow:<name>, …', example: 'manual' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    doneAt: z.string().nullable(),
  })
  .openapi('Task');
export type Task = z.infer<typeof Task>;

export const TaskChange = z
  .object({
    at: z.string(),
    by: z.string().nullable().openapi({ description: 'a key id, user:<email>, cli, or the source' }),
    change: z.string(),
  })
  .openapi('TaskChange');
export type TaskChange = z.infer<typeof TaskChange>;

/** One task with its history, oldest first. */
export const TaskDetail = Task.extend({ history: z.array(TaskChange) }).openapi('TaskDetail');
export type TaskDetail = z.infer<typeof TaskDetail>;
