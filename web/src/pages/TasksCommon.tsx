import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, type Me } from '../api';

export const TASK_STATUSES = ['open', 'in_progress', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** `GET /v1/tasks` rows (src/modules/tasks/schema.ts `Task`). */
export interface Task {
  id: number;
  customer: { id: string; email: string | null; name: string | null };
  title: string;
  body: string | null;
  assignee: string | null;
  status: TaskStatus;
  outcome: string | null;
  dueAt: string | null;
  overdue: boolean;
  /** What made it: `manual`, `flow:<name>`, `survey:<name>`, … */
  source: string;
  createdAt: string;
  updatedAt: string;
  doneAt: string | null;
}

/** `GET /v1/tasks/{id}`: the task and its history, oldest first. */
export interface TaskDetail extends Task {
  history: { at: string; by: string | null; change: string }[];
}

export const taskPath = (id: number | string) => `/v1/tasks/${encodeURIComponent(String(id))}`;

/** The signed-in user or key (`GET /v1/session`, the cache the frame shares). */
export function useMe(): Me | undefined {
  return useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') }).data;
}

/**
 * May the signed-in role start, finish, cancel and reassign tasks (`tasks:write`: admin, marketer,
 * agent)? The API refuses the rest anyway; the pages do not offer it.
 */
export function useTaskWrite(): boolean {
  const role = useMe()?.role;
  return role === 'admin' || role === 'marketer' || role === 'agent';
}

/** The badge's colour, borrowed from the campaigns' (the word is there too). */
const LOOK: Record<TaskStatus, string> = {
  open: 'scheduled',
  in_progress: 'paused',
  done: 'done',
  cancelled: 'cancelled',
};

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${LOOK[status] ?? 'draft'}`} data-status={status}>
      {t(`tasks.status.${status}`)}
    </span>
  );
}

/** "Overdue", beside a due time: open or in progress past it. */
export function OverdueBadge() {
  const { t } = useTranslation();
  return (
    <span className="badge overdue" data-overdue="true">
      {t('tasks.overdue')}
    </span>
  );
}

/** What made a task, in words, linking to the flow or the survey that did. */
export function TaskSource({ source }: { source: string }) {
  const { t } = useTranslation();
  const m = /^(flow|survey):(.+)$/.exec(source);
  if (source === 'manual') return <>{t('tasks.source.manual')}</>;
  if (!m) return <>{source}</>;
  const [, kind, name] = m as unknown as [string, 'flow' | 'survey', string];
  return (
    <Link to={`/${kind === 'flow' ? 'flows' : 'surveys'}/${encodeURIComponent(name)}`}>
      {t(`tasks.source.${kind}`, { name })}
    </Link>
  );
}

/** A customer as a task shows them: the name (else the email, else the id), linking to their page. */
export function CustomerLink({ customer }: { customer: Task['customer'] }) {
  return (
    <Link to={`/customers/${encodeURIComponent(customer.id)}`}>
      {customer.name ?? customer.email ?? customer.id}
    </Link>
  );
}
