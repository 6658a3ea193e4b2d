import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, useStoreInfo } from './CampaignCommon';
import {
  CustomerLink,
  OverdueBadge,
  TASK_STATUSES,
  TaskSource,
  TaskStatusBadge,
  useMe,
  type Task,
} from './TasksCommon';

/** The status filter's choices: the open ones (the default), each status, any. */
const STATUS_CHOICES = ['open,in_progress', ...TASK_STATUSES, ''] as const;

/**
 * Tasks (docs/tasks.md) as `GET /v1/tasks` lists them, due soonest first: mine (assigned to the
 * signed-in user) or all, by status (open or in progress unless asked), overdue only; due times in the
 * store's time zone, the overdue marked. The filters live in the address (a task's page links back to
 * the list as it was).
 */
export function TasksPage() {
  const { t, i18n } = useTranslation();
  const store = useStoreInfo();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const scope = params.get('scope') === 'all' ? 'all' : 'mine';
  const status = params.get('status') ?? 'open,in_progress';
  const overdue = params.get('overdue') === 'true';
  const set = (k: string, v: string | null) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (v === null) next.delete(k);
        else next.set(k, v);
        return next;
      },
      { replace: true },
    );
  // Mine: the signed-in user's email (a session's name); an API key has no tasks of its own.
  const assignee = scope === 'mine' && me?.kind === 'session' ? me.name : null;
  const tasks = useInfiniteQuery({
    queryKey: ['tasks', { assignee, status, overdue }],
    enabled: me !== undefined,
    initialPageParam: '',
    queryFn: ({ pageParam }) => {
      const q = new URLSearchParams({ limit: '50' });
      if (status) q.set('status', status);
      if (assignee) q.set('assignee', assignee);
      if (overdue) q.set('overdue', 'true');
      if (pageParam) q.set('cursor', pageParam);
      return api<{ data: Task[]; nextCursor: string | null }>(`/v1/tasks?${q.toString()}`);
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = tasks.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section aria-labelledby="tasks-title" className="campaign-page">
      <h1 id="tasks-title">{t('tasks.title')}</h1>
      <p className="muted">{t('tasks.intro')}</p>
      <form className="range" aria-label={t('tasks.filters')} onSubmit={(e) => e.preventDefault()}>
        <fieldset className="choices">
          <legend className="sr-only">{t('tasks.scope')}</legend>
          {(['mine', 'all'] as const).map((s) => (
            <label key={s} className="choice">
              <input
                type="radio"
                name="scope"
                value={s}
                checked={scope === s}
                onChange={() => set('scope', s === 'all' ? 'all' : null)}
              />
              {t(`tasks.${s}`)}
            </label>
          ))}
        </fieldset>
        <label>
          {t('tasks.statusLabel')}{' '}
          <select
            value={status}
            onChange={(e) => set('status', e.target.value === 'open,in_progress' ? null : e.target.value)}
          >
            {STATUS_CHOICES.map((s) => (
              <option key={s || 'any'} value={s}>
                {s === 'open,in_progress'
                  ? t('tasks.statusOpen')
                  : s === ''
                    ? t('tasks.statusAny')
                    : t(`tasks.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="choice">
          <input
            type="checkbox"
            checked={overdue}
            onChange={(e) => set('overdue', e.target.checked ? 'true' : null)}
          />
          {t('tasks.overdueOnly')}
        </label>
      </form>
      <p className="muted" data-testid="tasks-zone">
        {t('tasks.zone', { zone: store.timeZone })}
      </p>
      {tasks.data ? (
        rows.length === 0 ? (
          <p data-testid="no-tasks">{assignee ? t('tasks.emptyMine') : t('tasks.empty')}</p>
        ) : (
          <>
            <div className="table-wrap" role="region" aria-labelledby="tasks-table-caption" tabIndex={0}>
              <table className="data wide" data-testid="tasks">
                <caption id="tasks-table-caption" className="sr-only">
                  {t('tasks.table')}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{t('tasks.col.task')}</th>
                    <th scope="col">{t('tasks.col.customer')}</th>
                    <th scope="col">{t('tasks.col.status')}</th>
                    <th scope="col">{t('tasks.col.assignee')}</th>
                    <th scope="col">{t('tasks.col.due')}</th>
                    <th scope="col">{t('tasks.col.source')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((x) => (
                    <tr key={x.id} data-task={x.id}>
                      <th scope="row">
                        <Link to={`/tasks/${x.id}`} state={{ list: params.toString() }}>
                          {x.title}
                        </Link>
                      </th>
                      <td>
                        <CustomerLink customer={x.customer} />
                      </td>
                      <td>
                        <TaskStatusBadge status={x.status} />
                      </td>
                      <td>{x.assignee ?? <span className="muted">{t('tasks.unassigned')}</span>}</td>
                      <td data-part="due">
                        {x.dueAt ? f.when(x.dueAt) : <span className="muted">{t('tasks.noDue')}</span>}
                        {x.overdue ? (
                          <>
                            {' '}
                            <OverdueBadge />
                          </>
                        ) : null}
                      </td>
                      <td>
                        <TaskSource source={x.source} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {tasks.hasNextPage ? (
              <button
                type="button"
                onClick={() => void tasks.fetchNextPage()}
                disabled={tasks.isFetchingNextPage}
              >
                {t('tasks.more')}
              </button>
            ) : null}
          </>
        )
      ) : (
        <Status query={tasks} />
      )}
    </section>
  );
}
