import { useMutation, useQuery, useQueryClient, type UseMutationResult } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, errorsByPath, useStoreInfo, type CampaignFormat } from './CampaignCommon';
import { byWhom } from './FlowsCommon';
import {
  CustomerLink,
  OverdueBadge,
  taskPath,
  TaskSource,
  TaskStatusBadge,
  useTaskWrite,
  type TaskDetail,
} from './TasksCommon';

/**
 * One task (`/tasks/:id`, `GET /v1/tasks/{id}`): its customer (linking to their page), status, assignee,
 * due time in the store's zone (overdue marked), what made it, its details and outcome, its history;
 * and for the roles with `tasks:write` the moves (start, mark done with an outcome, cancel after a
 * confirmation) and reassigning, each a `PATCH` whose refusal (a 409 saying why, a 400 naming the
 * field) is shown as the API words it.
 */
export function TaskPage() {
  const id = useParams().id ?? '';
  return <TaskView key={id} id={id} />;
}

function TaskView({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const store = useStoreInfo();
  const write = useTaskWrite();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const task = useQuery({ queryKey: ['task', id], queryFn: () => api<TaskDetail>(taskPath(id)) });
  const update = useTaskUpdate(id);
  // Opened from the list: back to it with its filters.
  const list = (useLocation().state as { list?: string } | null)?.list;
  const x = task.data;
  const closed = x ? x.status === 'done' || x.status === 'cancelled' : false;
  return (
    <section aria-labelledby="task-title" className="campaign-page">
      <h1 id="task-title">{t('tasks.detail.title', { id })}</h1>
      <p>
        <Link to={list ? `/tasks?${list}` : '/tasks'}>{t('tasks.back')}</Link>
      </p>
      {task.error instanceof ApiError && (task.error.status === 404 || task.error.status === 400) ? (
        <p role="alert" data-testid="task-missing">
          {task.error.message}
        </p>
      ) : !x ? (
        <Status query={task} />
      ) : (
        <>
          <h2 data-testid="task-heading">{x.title}</h2>
          <Facts task={x} f={f} />
          <section aria-labelledby="task-body-title">
            <h3 id="task-body-title">{t('tasks.detail.body')}</h3>
            <p data-testid="task-body" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
              {x.body ?? <span className="muted">{t('tasks.detail.noBody')}</span>}
            </p>
          </section>
          {write ? (
            closed ? (
              <p className="muted" data-testid="task-closed">
                {t('tasks.actions.closed')}
              </p>
            ) : (
              <Actions key={x.assignee ?? ''} task={x} update={update} />
            )
          ) : null}
          {write ? <UpdateResult update={update} /> : null}
          <History task={x} f={f} />
        </>
      )}
    </section>
  );
}

function Facts({ task, f }: { task: TaskDetail; f: CampaignFormat }) {
  const { t } = useTranslation();
  const facts: [string, string, ReactNode][] = [
    [
      'customer',
      t('tasks.detail.customer'),
      <>
        <CustomerLink customer={task.customer} />
        {task.customer.email && task.customer.name ? ` (${task.customer.email})` : ''}
      </>,
    ],
    ['status', t('tasks.detail.status'), <TaskStatusBadge status={task.status} />],
    [
      'assignee',
      t('tasks.detail.assignee'),
      task.assignee ?? <span className="muted">{t('tasks.unassigned')}</span>,
    ],
    [
      'due',
      t('tasks.detail.due'),
      <>
        {task.dueAt ? f.when(task.dueAt) : <span className="muted">{t('tasks.noDue')}</span>}
        {task.overdue ? (
          <>
            {' '}
            <OverdueBadge />
          </>
        ) : null}
      </>,
    ],
    ['source', t('tasks.detail.source'), <TaskSource source={task.source} />],
    ['created', t('tasks.detail.created'), f.when(task.createdAt)],
    ['updated', t('tasks.detail.updated'), f.when(task.updatedAt)],
    ...(task.doneAt
      ? ([['done-at', t('tasks.detail.doneAt'), f.when(task.doneAt)]] as [string, string, string][])
      : []),
    ...(task.outcome !== null
      ? ([
          [
            'outcome',
            t('tasks.detail.outcome'),
            <span style={{ whiteSpace: 'pre-wrap' }}>{task.outcome}</span>,
          ],
        ] as [string, string, ReactNode][])
      : []),
  ];
  return (
    <section aria-labelledby="task-facts-title">
      <h3 id="task-facts-title" className="sr-only">
        {t('tasks.detail.facts')}
      </h3>
      <dl className="facts" data-testid="task-facts">
        {facts.map(([k, label, value]) => (
          <div key={k} data-fact={k}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

type Change =
  | { kind: 'start' }
  | { kind: 'done'; outcome: string }
  | { kind: 'cancel'; outcome: string }
  | { kind: 'assign'; assignee: string };

const bodyOf = (c: Change): Record<string, unknown> => {
  const outcome = 'outcome' in c && c.outcome.trim() ? { outcome: c.outcome } : {};
  if (c.kind === 'start') return { status: 'in_progress' };
  if (c.kind === 'done') return { status: 'done', ...outcome };
  if (c.kind === 'cancel') return { status: 'cancelled', ...outcome };
  return { assignee: c.assignee.trim() || null };
};

/** The fields the API may name in a refusal that the form shows its message beside. */
const FIELDS = ['outcome', 'assignee'] as const;

type Update = UseMutationResult<TaskDetail, Error, Change>;

/** The `PATCH /v1/tasks/{id}` of the page: on success the task shown is the one answered. */
function useTaskUpdate(id: string): Update {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (c: Change) => api<TaskDetail>(taskPath(id), { method: 'PATCH', body: bodyOf(c) }),
    onSuccess: async (saved) => {
      queries.setQueryData<TaskDetail>(['task', id], saved);
      await queries.invalidateQueries({ queryKey: ['tasks'] });
    },
    // A 409 (the task moved meanwhile, a move not allowed) is shown as the API words it; the page then
    // shows where the task is.
    onError: () => queries.invalidateQueries({ queryKey: ['task', id] }),
  });
}

/** The field of the form a refusal names (its message shown there), if any. */
function fieldOf(update: Update) {
  const byPath = errorsByPath(update.error);
  const at = FIELDS.find((p) => byPath.has(p));
  return { at, message: at ? byPath.get(at) : undefined };
}

function Actions({ task, update }: { task: TaskDetail; update: Update }) {
  const { t } = useTranslation();
  const [outcome, setOutcome] = useState('');
  const [assignee, setAssignee] = useState(task.assignee ?? '');
  const outcomeRef = useRef<HTMLTextAreaElement>(null);
  const assigneeRef = useRef<HTMLInputElement>(null);
  const { at, message } = fieldOf(update);
  const fieldError = (p: (typeof FIELDS)[number]) => (at === p ? message : undefined);
  // A refusal naming a field puts the focus there.
  useEffect(() => {
    if (at === 'outcome') outcomeRef.current?.focus();
    if (at === 'assignee') assigneeRef.current?.focus();
  }, [update.error, at]);
  return (
    <section className="actions" aria-labelledby="task-actions-title">
      <h3 id="task-actions-title">{t('tasks.actions.title')}</h3>
      {task.status === 'open' ? (
        <p className="toolbar">
          <button
            type="button"
            disabled={update.isPending}
            aria-describedby="task-start-help"
            onClick={() => update.mutate({ kind: 'start' })}
          >
            {t('tasks.actions.start')}
          </button>
          <small id="task-start-help" className="muted">
            {t('tasks.actions.startHelp')}
          </small>
        </p>
      ) : null}
      <form
        className="builder"
        aria-label={t('tasks.actions.done')}
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ kind: 'done', outcome });
        }}
      >
        <div className="cfield wide">
          <label htmlFor="task-outcome">{t('tasks.actions.outcome')}</label>
          <textarea
            id="task-outcome"
            ref={outcomeRef}
            rows={3}
            value={outcome}
            aria-invalid={!!fieldError('outcome')}
            aria-describedby={['task-outcome-help', fieldError('outcome') ? 'task-outcome-error' : '']
              .filter(Boolean)
              .join(' ')}
            onChange={(e) => setOutcome(e.target.value)}
          />
          <small id="task-outcome-help" className="muted">
            {t('tasks.actions.outcomeHelp')}
          </small>
          {fieldError('outcome') ? (
            <span id="task-outcome-error" className="field-error" role="alert" data-error-for="outcome">
              {fieldError('outcome')}
            </span>
          ) : null}
        </div>
        <p className="save">
          <button type="submit" disabled={update.isPending}>
            {t('tasks.actions.done')}
          </button>
          <button
            type="button"
            className="secondary danger"
            disabled={update.isPending}
            onClick={() => {
              if (window.confirm(t('tasks.actions.confirmCancel', { id: task.id })))
                update.mutate({ kind: 'cancel', outcome });
            }}
          >
            {t('tasks.actions.cancel')}
          </button>
        </p>
      </form>
      <form
        className="field-row"
        aria-label={t('tasks.actions.reassign')}
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ kind: 'assign', assignee });
        }}
      >
        <div className="cfield">
          <label htmlFor="task-assignee">{t('tasks.actions.assignee')}</label>
          <input
            id="task-assignee"
            ref={assigneeRef}
            type="email"
            autoComplete="off"
            value={assignee}
            aria-invalid={!!fieldError('assignee')}
            aria-describedby={fieldError('assignee') ? 'task-assignee-error' : undefined}
            onChange={(e) => setAssignee(e.target.value)}
          />
          {fieldError('assignee') ? (
            <span id="task-assignee-error" className="field-error" role="alert" data-error-for="assignee">
              {fieldError('assignee')}
            </span>
          ) : null}
        </div>
        <p className="save">
          <button type="submit" className="secondary" disabled={update.isPending}>
            {t('tasks.actions.reassign')}
          </button>
        </p>
      </form>
    </section>
  );
}

/** What the last change did, or the API's refusal when it names no field of the form. */
function UpdateResult({ update }: { update: Update }) {
  const { t } = useTranslation();
  const { at } = fieldOf(update);
  const done = update.data && !update.error ? update.variables : undefined;
  const saved = update.data;
  return (
    <>
      <div aria-live="polite">
        {done && saved ? (
          <p role="status" data-testid="task-result">
            {done.kind === 'assign'
              ? saved.assignee
                ? t('tasks.actions.assigned', { id: saved.id, who: saved.assignee })
                : t('tasks.actions.unassignedNow', { id: saved.id })
              : t('tasks.actions.moved', { id: saved.id, status: t(`tasks.status.${saved.status}`) })}
          </p>
        ) : null}
      </div>
      {update.error && !at ? (
        <p role="alert" className="field-error" data-testid="task-error">
          {update.error.message}
        </p>
      ) : null}
    </>
  );
}

function History({ task, f }: { task: TaskDetail; f: CampaignFormat }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="task-history-title">
      <h3 id="task-history-title">{t('tasks.history.title')}</h3>
      <div className="table-wrap" role="region" aria-labelledby="task-history-caption" tabIndex={0}>
        <table className="data" data-testid="task-history">
          <caption id="task-history-caption" className="sr-only">
            {t('tasks.history.title')}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t('tasks.history.at')}</th>
              <th scope="col">{t('tasks.history.by')}</th>
              <th scope="col">{t('tasks.history.change')}</th>
            </tr>
          </thead>
          <tbody>
            {task.history.map((h, i) => (
              <tr key={i}>
                <td>{f.when(h.at)}</td>
                <td>{byWhom(h.by)}</td>
                <td style={{ overflowWrap: 'anywhere' }}>{h.change}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
