import { sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import type { TaskStatus } from './schema.js';

export interface TaskRow {
  task_id: number;
  customer_id: number;
  title: string;
  body: string | null;
  assignee: string | null;
  status: TaskStatus;
  outcome: string | null;
  due_at: Date | null;
  source: string;
  source_key: string;
  created_at: Date;
  updated_at: Date;
  done_at: Date | null;
  external_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
}

const COLUMNS = `t.task_id, t.customer_id, t.title, t.body, t.assignee, t.status, t.outcome, t.due_at, t.source,
  t.source_key, t.created_at, t.updated_at, t.done_at, c.external_id, c.email, c.first_name, c.last_name`;

/**
 * Inserts the task unless its `source_key` exists, and only for a customer that exists and is not
 * erased (one statement: no check-then-insert). The new task's id, or null when nothing was inserted.
 */
export async function insertTask(
  tx: Queryable,
  t: {
    customerId: number;
    title: string;
    body: string | null;
    assignee: string | null;
    dueAt: Date | null;
    source: string;
    sourceKey: string;
    now: Date;
  },
): Promise<number | null> {
  const rows = await tx.query<{ task_id: number }>(
    `INSERT INTO tasks (customer_id, title, body, assignee, status, due_at, source, source_key, created_at, updated_at)
     SELECT c.customer_id, $2, $3, $4, 'open', $5::timestamp, $6, $7, $8::timestamp, $8::timestamp
     FROM customers c WHERE c.customer_id = $1 AND c.erased_at IS NULL
     ON CONFLICT (source_key) DO NOTHING RETURNING task_id`,
    [t.customerId, t.title, t.body, t.assignee, t.dueAt, t.source, t.sourceKey, t.now],
  );
  return rows[0]?.task_id ?? null;
}

export async function taskBySourceKey(
  db: Queryable,
  sourceKey: string,
): Promise<{ task_id: number; customer_id: number } | undefined> {
  const rows = await db.query<{ task_id: number; customer_id: number }>(
    `SELECT task_id, customer_id FROM tasks WHERE source_key = $1`,
    [sourceKey],
  );
  return rows[0];
}

export async function taskById(db: Queryable, taskId: number): Promise<TaskRow | undefined> {
  const rows = await db.query<TaskRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM tasks t JOIN customers c ON c.customer_id = t.customer_id WHERE t.task_id = $1`,
    [taskId],
  );
  return rows[0];
}

export interface TaskFilter {
  statuses?: readonly TaskStatus[] | undefined;
  /** An email, or null for the unassigned. */
  assignee?: string | null | undefined;
  customerId?: number | undefined;
  /** Open or in progress with a due time before this instant. */
  overdueAt?: Date | undefined;
  /** Keyset: the last row of the previous page (its due time, null when it had none, and its id). */
  after?: { dueAt: Date | null; taskId: number } | undefined;
  limit: number;
}

/** Tasks due soonest first, then those without a due time; ties (and the undated) in creation order. */
export async function listTasks(db: Queryable, f: TaskFilter): Promise<TaskRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const p = (v: SqlValue) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.statuses?.length) where.push(`t.status IN (${f.statuses.map((s) => p(s)).join(', ')})`);
  if (f.assignee === null) where.push(`t.assignee IS NULL`);
  else if (f.assignee !== undefined) where.push(`t.assignee = ${p(f.assignee)}`);
  if (f.customerId !== undefined) where.push(`t.customer_id = ${p(f.customerId)}`);
  if (f.overdueAt)
    where.push(`t.status IN ('open', 'in_progress') AND t.due_at < ${p(f.overdueAt)}::timestamp`);
  if (f.after) {
    const id = p(f.after.taskId);
    if (f.after.dueAt === null) where.push(`t.due_at IS NULL AND t.task_id > ${id}`);
    else {
      const due = p(f.after.dueAt);
      where.push(
        `(t.due_at IS NULL OR t.due_at > ${due}::timestamp OR (t.due_at = ${due}::timestamp AND t.task_id > ${id}))`,
      );
    }
  }
  return db.query<TaskRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM tasks t JOIN customers c ON c.customer_id = t.customer_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY (t.due_at IS NULL), t.due_at, t.task_id LIMIT ${p(f.limit)}`,
    params,
  );
}

/**
 * Writes the changed columns of a task if its status is still `expected` (a concurrent move wins: false;
 * changes to other columns made meanwhile are kept, as only `set`'s columns are written).
 */
export async function updateTask(
  tx: Queryable,
  taskId: number,
  expected: TaskStatus,
  set: {
    status?: TaskStatus;
    assignee?: string | null;
    outcome?: string | null;
    dueAt?: Date | null;
    doneAt?: Date | null;
  },
  now: Date,
): Promise<boolean> {
  const params: SqlValue[] = [taskId, expected, now];
  const cols: string[] = ['updated_at = $3::timestamp'];
  const put = (col: string, v: SqlValue, cast = '') => {
    params.push(v);
    cols.push(`${col} = $${params.length}${cast}`);
  };
  if (set.status !== undefined) put('status', set.status);
  if (set.assignee !== undefined) put('assignee', set.assignee);
  if (set.outcome !== undefined) put('outcome', set.outcome);
  if (set.dueAt !== undefined) put('due_at', set.dueAt, '::timestamp');
  if (set.doneAt !== undefined) put('done_at', set.doneAt, '::timestamp');
  const rows = await tx.query(
    `UPDATE tasks SET ${cols.join(', ')} WHERE task_id = $1 AND status = $2 RETURNING task_id`,
    params,
  );
  return rows.length === 1;
}

export interface TaskEventRow {
  changed_at: Date;
  changed_by: string | null;
  change: string;
}

export async function insertTaskEvent(
  tx: Queryable,
  e: { taskId: number; customerId: number; at: Date; by: string | null; change: string },
): Promise<void> {
  await tx.exec(
    `INSERT INTO task_events (task_id, customer_id, changed_at, changed_by, change)
     VALUES ($1, $2, $3::timestamp, $4, $5)`,
    [e.taskId, e.customerId, e.at, e.by, e.change],
  );
}

export async function taskEvents(db: Queryable, taskId: number): Promise<TaskEventRow[]> {
  return db.query<TaskEventRow & Record<string, unknown>>(
    `SELECT changed_at, changed_by, change FROM task_events WHERE task_id = $1 ORDER BY changed_at, event_id`,
    [taskId],
  );
}

/** Erase hook: the customer's tasks and their history go (they name and describe the person). */
export async function eraseCustomerTasks(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`DELETE FROM task_events WHERE customer_id = $1`, [customerId]);
  await tx.exec(`DELETE FROM task_alerts WHERE customer_id = $1`, [customerId]);
  await tx.exec(`DELETE FROM tasks WHERE customer_id = $1`, [customerId]);
}

/** Merge hook: the merged customers' tasks and their history become the survivor's. */
export async function mergeCustomerTasks(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  if (fromIds.length === 0) return;
  const from = sqlIds(fromIds);
  await tx.exec(`UPDATE tasks SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(`UPDATE task_events SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(`UPDATE task_alerts SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
}

/**
 * Timeline source: the history of the customer's tasks (`task`: created, moved, assigned, due, outcome
 * — each change with who made it, and the task's title and current status).
 */
export async function taskTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    event_id: number;
    task_id: number;
    at: Date;
    changed_by: string | null;
    change: string;
    title: string;
    status: TaskStatus;
  }>(
    `SELECT * FROM (
       SELECT e.event_id, e.task_id, e.changed_at AS at, e.changed_by, e.change, t.title, t.status
       FROM task_events e JOIN tasks t ON t.task_id = e.task_id WHERE e.customer_id = $1
     ) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: 'task',
    ref: `${r.task_id}.${r.event_id}`,
    title: `task ${r.task_id} "${r.title}": ${r.change}`,
    detail: r.change,
    properties: { task: r.task_id, title: r.title, status: r.status, change: r.change, by: r.changed_by },
  }));
}

/** Open or in-progress tasks past their due time, with an assignee, not yet alerted for that due time. */
export async function overdueToAlert(db: Queryable, now: Date) {
  return db.query<{
    task_id: number;
    customer_id: number;
    title: string;
    assignee: string;
    due_at: Date;
    external_id: string;
    name: string | null;
  }>(
    `SELECT t.task_id, t.customer_id, t.title, t.assignee, t.due_at, c.external_id,
            NULLIF(TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), '') AS name
     FROM tasks t JOIN customers c ON c.customer_id = t.customer_id
     WHERE t.status IN ('open', 'in_progress') AND t.assignee IS NOT NULL AND t.due_at < $1::timestamp
       AND NOT EXISTS (SELECT 1 FROM task_alerts a WHERE a.task_id = t.task_id AND a.due_at = t.due_at)
     ORDER BY t.due_at, t.task_id
     LIMIT 500`,
    [now],
  );
}

/** The alert's row, inserted before its email; false when it was already there. */
export async function recordAlert(
  tx: Queryable,
  a: { taskId: number; customerId: number; dueAt: Date; assignee: string; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO task_alerts (task_id, customer_id, due_at, assignee, sent_at, outcome)
     VALUES ($1, $2, $3::timestamp, $4, $5::timestamp, 'sending')
     ON CONFLICT (task_id, due_at) DO NOTHING RETURNING task_id`,
    [a.taskId, a.customerId, a.dueAt, a.assignee, a.now],
  );
  return rows.length > 0;
}

export async function setAlertOutcome(tx: Queryable, taskId: number, dueAt: Date, outcome: string) {
  await tx.exec(`UPDATE task_alerts SET outcome = $3 WHERE task_id = $1 AND due_at = $2::timestamp`, [
    taskId,
    dueAt,
    outcome.slice(0, 500),
  ]);
}

/** Appends a paragraph to a task's details. */
export async function appendTaskBody(tx: Queryable, taskId: number, text: string, now: Date) {
  await tx.exec(
    `UPDATE tasks SET body = CASE WHEN body IS NULL OR body = '' THEN $2 ELSE body || chr(10) || chr(10) || $2 END,
            updated_at = $3::timestamp
     WHERE task_id = $1`,
    [taskId, text.slice(0, 4000), now],
  );
}
