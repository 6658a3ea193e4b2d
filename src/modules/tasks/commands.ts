import type { Command } from 'commander';
import { table } from '../../kit/cli/format.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { Task, TaskDetail } from './schema.js';

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : null);

function taskLines(t: TaskDetail): string {
  return [
    `task ${t.id}  ${t.status}${t.overdue ? ' (overdue)' : ''}  ${t.title}`,
    `  customer ${t.customer.id}${t.customer.name ? `  ${t.customer.name}` : ''}${t.customer.email ? `  <${t.customer.email}>` : ''}`,
    `  assignee ${t.assignee ?? '—'}  due ${when(t.dueAt) ?? '—'}${t.dueAt ? ' UTC' : ''}  source ${t.source}`,
    ...(t.body ? [`  ${t.body}`] : []),
    ...(t.outcome ? [`  outcome: ${t.outcome}`] : []),
    ...t.history.map((h) => `  ${when(h.at)}  ${h.by ?? '—'}  ${h.change}`),
  ].join('\n');
}

const listTable = (tasks: Task[]) =>
  table(
    ['id', 'due (UTC)', 'status', 'assignee', 'customer', 'title'],
    tasks.map((t) => [
      t.id,
      t.dueAt ? `${when(t.dueAt)}${t.overdue ? ' !' : ''}` : null,
      t.status,
      t.assignee,
      t.customer.id,
      t.title,
    ]),
  );

/** `none` clears a value (`--assignee none`, `--due none`). */
const orNone = (v: string | undefined) => (v === undefined ? undefined : v.trim() === 'none' ? null : v);

/** `retain tasks list|show|create|update`: service tasks for store staff (docs/tasks.md). */
export function registerTasks(program: Command, cli: CliRuntime): void {
  const tasks = program
    .command('tasks')
    .description('service tasks for store staff ("call this customer"): list, show, create, update');
  tasks
    .command('list', { isDefault: true })
    .description('tasks due soonest first, then those without a due time')
    .option('--status <statuses>', 'open, in_progress, done, cancelled (comma-separated for several)')
    .option('--assignee <email>', "a user's email, or none for the unassigned")
    .option('--customer <id>', "one customer's tasks (the shop id)")
    .option('--overdue', 'only open or in-progress tasks past their due time')
    .option('--limit <n>', 'tasks per page (1–500)', '50')
    .option('--cursor <cursor>', 'the nextCursor of the previous page')
    .action(
      async (
        o: {
          status?: string;
          assignee?: string;
          customer?: string;
          overdue?: boolean;
          limit: string;
          cursor?: string;
        },
        cmd: Command,
      ) => {
        const { listTasks } = await import('./service.js');
        const query: Record<string, string> = { limit: o.limit };
        if (o.status !== undefined) query.status = o.status;
        if (o.assignee !== undefined) query.assignee = o.assignee;
        if (o.customer !== undefined) query.customer = o.customer;
        if (o.overdue) query.overdue = 'true';
        if (o.cursor !== undefined) query.cursor = o.cursor;
        const r = await cli.withContext(cmd, (ctx) => listTasks(ctx, query));
        emit(cmd, r, () =>
          r.data.length === 0
            ? 'no tasks'
            : listTable(r.data) + (r.nextCursor ? `\nmore: --cursor ${r.nextCursor}` : ''),
        );
      },
    );
  tasks
    .command('show <id>')
    .description('one task: its customer, assignee, due time, outcome and history')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { getTask } = await import('./service.js');
      const t = await cli.withContext(cmd, (ctx) => getTask(ctx, { id }));
      emit(cmd, t, () => taskLines(t));
    });
  tasks
    .command('create')
    .description('create a task for a customer')
    .requiredOption('--customer <id>', "the customer's shop id")
    .requiredOption('--title <title>', 'what to do, in a line')
    .option('--body <text>', 'details')
    .option('--due <instant>', 'when it is due: ISO 8601, or a day (midnight UTC)')
    .option('--assignee <email>', "a user's email (retain users list)")
    .option('--key <idempotencyKey>', 'a key of your choosing: the same key creates the task once')
    .action(
      async (
        o: { customer: string; title: string; body?: string; due?: string; assignee?: string; key?: string },
        cmd: Command,
      ) => {
        const body: Record<string, unknown> = { customer: o.customer, title: o.title };
        if (o.body !== undefined) body.body = o.body;
        if (o.due !== undefined) body.dueAt = o.due;
        if (o.assignee !== undefined) body.assignee = o.assignee;
        if (o.key !== undefined) body.idempotencyKey = o.key;
        const { createTask } = await import('./service.js');
        const r = await cli.withContext(cmd, (ctx) => createTask(ctx, body, 'cli'));
        emit(
          cmd,
          r,
          () => `${r.created ? 'created' : 'already created with this key:'}\n${taskLines(r.task)}`,
        );
      },
    );
  tasks
    .command('update <id>')
    .description('move a task (open → in_progress → done, → cancelled), assign it, set its due time')
    .option('--status <status>', 'in_progress, done (needs --outcome) or cancelled')
    .option('--assignee <email>', "a user's email, or none to unassign")
    .option('--outcome <text>', 'what came of it (with --status done or cancelled)')
    .option('--due <instant>', 'ISO 8601 or a day; none clears it')
    .action(
      async (
        id: string,
        o: { status?: string; assignee?: string; outcome?: string; due?: string },
        cmd: Command,
      ) => {
        const body: Record<string, unknown> = {};
        if (o.status !== undefined) body.status = o.status;
        if (o.assignee !== undefined) body.assignee = orNone(o.assignee);
        if (o.outcome !== undefined) body.outcome = o.outcome;
        if (o.due !== undefined) body.dueAt = orNone(o.due);
        const { updateTask } = await import('./service.js');
        const t = await cli.withContext(cmd, (ctx) => updateTask(ctx, { id, body, by: 'cli' }));
        emit(cmd, t, () => taskLines(t));
      },
    );
  tasks
    .command('alert-overdue')
    .description(
      'email the assignees of overdue tasks, once per task and due time (the 15-minute job does this)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const { alertOverdue } = await import('./alerts.js');
      const r = await cli.withContext(cmd, (ctx) => alertOverdue(ctx));
      emit(cmd, r, () => r.skipped ?? `alerted ${r.alerted}${r.failed ? `, failed ${r.failed}` : ''}`);
    });
}
