import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { JsonEditor } from '../components/JsonEditor';
import { Status } from '../components/Status';
import { campaignFormat } from './CampaignCommon';
import {
  planPath,
  PlanStatusBadge,
  useIntervalText,
  usePlans,
  useSubscriptionRights,
  type Plan,
} from './SubscriptionsCommon';

/** A starting definition (docs/subscriptions.md, without the templates a fresh store lacks). */
const STARTER = JSON.stringify(
  {
    name: 'coffee-monthly',
    title: 'Coffee every month',
    interval: { every: 1, unit: 'month' },
    discountPercent: 10,
    products: [],
    localTime: '09:00',
    reminderDays: 0,
    reminderTemplate: null,
  },
  null,
  2,
);

/** The plans' queries and the subscriptions' (their counts and filter) after a save or an archive. */
const refresh = (queries: ReturnType<typeof useQueryClient>) =>
  Promise.all([
    queries.invalidateQueries({ queryKey: ['subscription-plans'] }),
    queries.invalidateQueries({ queryKey: ['subscription-plan'] }),
  ]);

/**
 * The plans (`GET /v1/subscription-plans`): interval, discount against the one-off price, the products
 * sold (none: any with a price), delivery time, reminder, subscribers by status. For the roles with
 * `subscriptions:manage` (admin, marketer) each plan's "Edit" (its definition in the JSON editor) and
 * "Archive" (after a confirmation), and the JSON editor (components/JsonEditor.tsx) saving a plan with
 * `PUT /v1/subscription-plans`: a refusal shown beside the paths the API names, with their lines.
 */
export function PlansView() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const f = campaignFormat(lang, null, 'UTC');
  const rights = useSubscriptionRights();
  const interval = useIntervalText();
  const plans = usePlans();
  const queries = useQueryClient();
  /** The plan in the editor (null: a new one) and a counter that reloads the editor's text. */
  const [editing, setEditing] = useState<{ name: string | null; n: number }>({ name: null, n: 0 });
  const [saved, setSaved] = useState<string | null>(null);
  const editorRef = useRef<HTMLElement>(null);
  const archive = useMutation({
    mutationFn: (name: string) => api<Plan>(`${planPath(name)}/archive`, { method: 'POST' }),
    onSettled: () => refresh(queries),
  });
  const edit = (name: string | null) => {
    setSaved(null);
    setEditing((e) => ({ name, n: e.n + 1 }));
    // The editor is below the table: it takes the focus (its textarea).
    setTimeout(() => editorRef.current?.querySelector('textarea')?.focus(), 0);
  };
  const list = plans.data?.data ?? [];
  const inEditor = editing.name === null ? null : list.find((p) => p.name === editing.name);
  return (
    <section aria-labelledby="plans-title">
      <h2 id="plans-title">{t('subscriptions.plans.title')}</h2>
      <p className="muted">{t('subscriptions.plans.intro')}</p>
      {!plans.data ? (
        <Status query={plans} />
      ) : list.length === 0 ? (
        <p data-testid="no-plans">{t('subscriptions.plans.empty')}</p>
      ) : (
        <div className="table-wrap" role="region" aria-labelledby="plans-table-caption" tabIndex={0}>
          <table className="data wide" data-testid="plans">
            <caption id="plans-table-caption" className="sr-only">
              {t('subscriptions.plans.table')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('subscriptions.plans.col.plan')}</th>
                <th scope="col">{t('subscriptions.plans.col.status')}</th>
                <th scope="col">{t('subscriptions.plans.col.interval')}</th>
                <th scope="col">{t('subscriptions.plans.col.discount')}</th>
                <th scope="col">{t('subscriptions.plans.col.products')}</th>
                <th scope="col">{t('subscriptions.plans.col.time')}</th>
                <th scope="col">{t('subscriptions.plans.col.reminder')}</th>
                <th scope="col">{t('subscriptions.plans.col.active')}</th>
                <th scope="col">{t('subscriptions.plans.col.paused')}</th>
                <th scope="col">{t('subscriptions.plans.col.pastDue')}</th>
                {rights.manage ? <th scope="col">{t('subscriptions.plans.col.actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.map((p) => {
                const d = p.definition;
                return (
                  <tr key={p.name} data-plan={p.name}>
                    <th scope="row">
                      {d.title ?? p.name} <span className="muted id">{p.name}</span>
                    </th>
                    <td>
                      <PlanStatusBadge status={p.status} />
                    </td>
                    <td data-part="interval">{interval(d.interval)}</td>
                    <td className="num" data-part="discount">
                      {f.share((d.discountPercent ?? 0) / 100)}
                    </td>
                    <td data-part="products">
                      {d.products?.length ? (
                        d.products.join(', ')
                      ) : (
                        <span className="muted">{t('subscriptions.plans.anyProduct')}</span>
                      )}
                    </td>
                    <td>{d.localTime ?? '—'}</td>
                    <td>
                      {d.reminderDays
                        ? t('subscriptions.plans.reminder', {
                            count: d.reminderDays,
                            template: d.reminderTemplate ?? '—',
                          })
                        : t('subscriptions.plans.noReminder')}
                    </td>
                    <td className="num" data-part="active">
                      {f.int(p.subscribers.active)}
                    </td>
                    <td className="num" data-part="paused">
                      {f.int(p.subscribers.paused)}
                    </td>
                    <td className="num" data-part="past-due">
                      {f.int(p.subscribers.pastDue)}
                    </td>
                    {rights.manage ? (
                      <td>
                        <span className="toolbar" style={{ margin: 0 }}>
                          <button
                            type="button"
                            className="secondary"
                            aria-label={t('subscriptions.plans.editNamed', { name: p.name })}
                            onClick={() => edit(p.name)}
                          >
                            {t('subscriptions.plans.edit')}
                          </button>
                          {p.status === 'active' ? (
                            <button
                              type="button"
                              className="secondary danger"
                              disabled={archive.isPending}
                              aria-label={t('subscriptions.plans.archiveNamed', { name: p.name })}
                              onClick={() => {
                                if (window.confirm(t('subscriptions.plans.confirmArchive', { name: p.name })))
                                  archive.mutate(p.name);
                              }}
                            >
                              {t('subscriptions.plans.archive')}
                            </button>
                          ) : null}
                        </span>
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <div aria-live="polite">
        {archive.data && !archive.error ? (
          <p role="status" data-testid="archive-result">
            {t('subscriptions.plans.archived', { name: archive.data.name })}
          </p>
        ) : null}
      </div>
      {archive.error ? (
        <p role="alert" className="field-error" data-testid="archive-error">
          {archive.error.message}
        </p>
      ) : null}
      {rights.manage && plans.data ? (
        <section aria-labelledby="plan-editor-title" ref={editorRef}>
          <h2 id="plan-editor-title">
            {inEditor
              ? t('subscriptions.editor.titleEdit', { name: inEditor.name })
              : t('subscriptions.editor.titleNew')}
          </h2>
          <p className="toolbar">
            <button type="button" className="secondary" onClick={() => edit(null)}>
              {t('subscriptions.editor.newPlan')}
            </button>
          </p>
          <div aria-live="polite">
            {saved ? (
              <p role="status" data-testid="plan-saved">
                {t('subscriptions.editor.saved', { name: saved })}
              </p>
            ) : null}
          </div>
          <JsonEditor
            key={`${editing.n}`}
            id="plan"
            rows={18}
            initial={inEditor ? JSON.stringify(inEditor.definition, null, 2) : STARTER}
            labels={{
              form: t('subscriptions.editor.form'),
              label: t('subscriptions.editor.label'),
              help: t('subscriptions.editor.help'),
              save: t('subscriptions.editor.save'),
              errors: t('subscriptions.editor.errors'),
            }}
            save={(body) => api<Plan>('/v1/subscription-plans', { method: 'PUT', body })}
            onSaved={async (plan) => {
              await refresh(queries);
              setSaved(plan.name);
              setEditing((e) => ({ name: plan.name, n: e.n }));
            }}
          />
        </section>
      ) : null}
    </section>
  );
}
