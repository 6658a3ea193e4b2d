import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import {
  campaignFormat,
  campaignPath,
  FieldError,
  fieldId,
  StatusBadge,
  useCampaignWrite,
  useOfferText,
  useScheduleText,
  useStoreInfo,
  type Campaign,
  type CampaignFormat,
  type CodeRow,
  type LaunchResult,
  type Plan,
} from './CampaignCommon';
import { CampaignReport } from './CampaignReport';

/** The queries that show a campaign (refreshed after each action). */
const refresh = (queries: ReturnType<typeof useQueryClient>, name: string) =>
  Promise.all(
    [
      ['campaigns'],
      ['campaign', name],
      ['campaign-plan', name],
      ['campaign-report', name],
      ['campaign-codes', name],
    ].map((queryKey) => queries.invalidateQueries({ queryKey })),
  );

/**
 * One campaign (`/campaigns/:name`): its status and settings, the actions the role may take (launch,
 * pause, resume, cancel — launch and cancel confirmed), the codes of its offers (import a store's list,
 * download every code as CSV); before it is assigned, what the send can detect (the plan); after, the
 * report.
 */
export function CampaignPage() {
  const name = useParams().name ?? '';
  return <CampaignView key={name} name={name} />;
}

function CampaignView({ name }: { name: string }) {
  const { t, i18n } = useTranslation();
  const store = useStoreInfo();
  const write = useCampaignWrite();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const campaign = useQuery({
    queryKey: ['campaign', name],
    queryFn: () => api<Campaign>(campaignPath(name)),
    // While it sends, the status and the messages left follow.
    refetchInterval: (q) =>
      q.state.data?.status === 'sending' || q.state.data?.status === 'scheduled' ? 5000 : false,
  });
  const c = campaign.data;
  return (
    <section aria-labelledby="campaign-title" className="campaign-page">
      <h1 id="campaign-title">{t('campaigns.detail.title', { name })}</h1>
      <p>
        <Link to="/campaigns">{t('campaigns.back')}</Link>
      </p>
      {campaign.error instanceof ApiError && campaign.error.status === 404 ? (
        <p role="alert" data-testid="campaign-missing">
          {campaign.error.message}
        </p>
      ) : !c ? (
        <Status query={campaign} />
      ) : (
        <>
          <p className="toolbar">
            <span>
              {t('campaigns.col.status')}: <StatusBadge status={c.status} />
            </span>
            {c.launchedAt ? (
              <span className="muted">{t('campaigns.detail.pendingLine', { n: f.int(c.pending) })}</span>
            ) : null}
          </p>
          {c.problem ? (
            <div className="callout" role="note" data-testid="campaign-problem">
              <h2>{t('campaigns.detail.problem')}</h2>
              <p lang="en">{c.problem}</p>
            </div>
          ) : null}
          {write ? <Actions c={c} f={f} /> : null}
          {!c.launchedAt && c.status !== 'cancelled' ? <PlanPanel c={c} f={f} /> : null}
          {c.launchedAt ? (
            <CampaignReport name={c.name} timeZone={store.timeZone} />
          ) : (
            <p className="muted" data-testid="no-report">
              {c.status === 'scheduled'
                ? t('campaigns.detail.reportScheduled')
                : t('campaigns.detail.reportLater')}
            </p>
          )}
          <Settings c={c} f={f} />
          {write && c.variants.some((v) => v.offer) ? <Codes c={c} /> : null}
        </>
      )}
    </section>
  );
}

function Actions({ c, f }: { c: Campaign; f: CampaignFormat }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [launched, setLaunched] = useState<LaunchResult | null>(null);
  const move = useMutation({
    mutationFn: (action: 'launch' | 'pause' | 'resume' | 'cancel') =>
      api<Campaign | LaunchResult>(`${campaignPath(c.name)}/${action}`, { method: 'POST' }),
    onSuccess: async (r, action) => {
      const campaign = action === 'launch' ? (r as LaunchResult).campaign : (r as Campaign);
      if (action === 'launch') setLaunched(r as LaunchResult);
      queries.setQueryData(['campaign', c.name], campaign);
      await refresh(queries, c.name);
    },
  });
  const canLaunch = c.status === 'draft';
  const canPause = c.status === 'scheduled' || c.status === 'sending';
  const canResume = c.status === 'paused';
  const canCancel = c.status !== 'done' && c.status !== 'cancelled';
  if (!canLaunch && !canPause && !canResume && !canCancel && !launched) return null;
  const arms = launched
    ? Object.entries(launched.arms)
        .filter(([k]) => k !== 'holdout')
        .map(([k, n]) => t('campaigns.actions.arm', { key: k, n: f.int(n) }))
        .join(', ')
    : '';
  return (
    <section className="actions" aria-labelledby="actions-title">
      <h2 id="actions-title" className="sr-only">
        {t('campaigns.actions.title')}
      </h2>
      <div className="toolbar">
        {canLaunch ? (
          <button
            type="button"
            disabled={move.isPending}
            onClick={() => {
              const question =
                c.schedule || c.variants.some((v) => v.schedule)
                  ? t('campaigns.actions.confirmSchedule', { name: c.name })
                  : t('campaigns.actions.confirmLaunch', { name: c.name });
              if (window.confirm(question)) move.mutate('launch');
            }}
          >
            {t('campaigns.actions.launch')}
          </button>
        ) : null}
        {canPause ? (
          <button
            type="button"
            className="secondary"
            disabled={move.isPending}
            onClick={() => move.mutate('pause')}
          >
            {t('campaigns.actions.pause')}
          </button>
        ) : null}
        {canResume ? (
          <button type="button" disabled={move.isPending} onClick={() => move.mutate('resume')}>
            {t('campaigns.actions.resume')}
          </button>
        ) : null}
        {canCancel ? (
          <button
            type="button"
            className="secondary danger"
            disabled={move.isPending}
            onClick={() => {
              if (window.confirm(t('campaigns.actions.confirmCancel', { name: c.name })))
                move.mutate('cancel');
            }}
          >
            {t('campaigns.actions.cancel')}
          </button>
        ) : null}
      </div>
      <div aria-live="polite">
        {launched && !move.error ? (
          <p role="status" data-testid="launch-result">
            {launched.recipients > 0
              ? t('campaigns.actions.launched', {
                  recipients: f.int(launched.recipients),
                  holdout: f.int(launched.arms.holdout ?? 0),
                  arms,
                  queued: f.int(launched.queued + launched.alreadyQueued),
                })
              : t('campaigns.actions.scheduled', {
                  when: launched.campaign.sendAt ? f.when(launched.campaign.sendAt) : '—',
                })}
          </p>
        ) : null}
      </div>
      {move.error ? (
        <p role="alert" className="field-error" data-testid="action-error">
          {move.error.message}
        </p>
      ) : null}
    </section>
  );
}

/** Before the audience is assigned: `GET /v1/campaigns/{name}/plan`, what this send can detect. */
function PlanPanel({ c, f }: { c: Campaign; f: CampaignFormat }) {
  const { t } = useTranslation();
  const plan = useQuery({
    queryKey: ['campaign-plan', c.name],
    queryFn: () => api<Plan>(`${campaignPath(c.name)}/plan`),
  });
  const p = plan.data;
  const smallest = Math.min(...c.variants.map((v) => v.share));
  return (
    <section className="panel plan" aria-labelledby="plan-title" data-testid="plan">
      <h2 id="plan-title">{t('campaigns.plan.title')}</h2>
      {!p ? (
        <Status query={plan} />
      ) : (
        <>
          <p data-testid="plan-sentence">
            {p.minimumDetectableEffectMinor === null
              ? t('campaigns.plan.tooSmall', { audience: f.int(p.audience) })
              : t('campaigns.plan.sentence', {
                  audience: f.int(p.audience),
                  holdout: f.share(c.holdoutShare),
                  mde: f.money(p.minimumDetectableEffectMinor),
                })}
          </p>
          <dl className="cards">
            <div className="card" data-figure="audience">
              <dt>{t('campaigns.plan.audience')}</dt>
              <dd>
                <span data-part="main">{f.int(p.audience)}</span>{' '}
                <small className="sub" data-part="sub">
                  {t('campaigns.plan.split', { holdout: f.int(p.holdout), treatment: f.int(p.treatment) })}
                </small>
              </dd>
            </div>
            <div className="card" data-figure="baseline">
              <dt>{t('campaigns.plan.baseline', { days: f.int(c.windowDays) })}</dt>
              <dd>
                <span data-part="main">{f.money(p.baselineMeanMinor)}</span>{' '}
                <small className="sub" data-part="sub">
                  {t('campaigns.plan.sd', { sd: f.money(p.baselineSdMinor) })}
                </small>
              </dd>
            </div>
            <div className="card" data-figure="mde">
              <dt>{t('campaigns.plan.mde')}</dt>
              <dd>
                <span data-part="main">
                  {p.minimumDetectableEffectMinor === null ? '—' : f.money(p.minimumDetectableEffectMinor)}
                </span>{' '}
                <small className="sub" data-part="sub">
                  {p.minimumDetectableEffectRelative === null
                    ? t('campaigns.plan.noRelative')
                    : t('campaigns.plan.relative', { pct: f.pct(p.minimumDetectableEffectRelative) })}
                </small>
              </dd>
            </div>
            <div className="card" data-figure="needed">
              <dt>{t('campaigns.plan.needed')}</dt>
              <dd>
                <span data-part="main">
                  {p.recipientsFor20Percent === null ? '—' : f.int(p.recipientsFor20Percent)}
                </span>{' '}
                <small className="sub" data-part="sub">
                  {t('campaigns.plan.neededSub', { share: f.share(smallest) })}
                </small>
              </dd>
            </div>
          </dl>
          <p className="notes">{t('campaigns.plan.how')}</p>
        </>
      )}
    </section>
  );
}

/** The campaign's settings and its variants. */
function Settings({ c, f }: { c: Campaign; f: CampaignFormat }) {
  const { t } = useTranslation();
  const scheduleText = useScheduleText();
  const offerText = useOfferText();
  const stop =
    c.stop.kind === 'fixed'
      ? t('campaigns.stopText.fixed', { days: f.int(c.windowDays) })
      : t('campaigns.stopText.sequential', { n: f.int(c.stop.minRecipients) });
  const facts: [string, string, ReactNode][] = [
    [
      'audience',
      t('campaigns.col.audience'),
      c.segment ?? (
        <>
          {t('campaigns.ruleAudience')}: <code>{JSON.stringify(c.rule)}</code>
        </>
      ),
    ],
    ['channel', t('campaigns.detail.channel'), c.channel],
    ['holdout', t('campaigns.col.holdout'), f.share(c.holdoutShare)],
    ['window', t('campaigns.detail.window'), t('campaigns.detail.days', { n: f.int(c.windowDays) })],
    [
      'click-window',
      t('campaigns.detail.clickWindow'),
      t('campaigns.detail.days', { n: f.int(c.clickWindowDays) }),
    ],
    ['stop', t('campaigns.detail.stop'), stop],
    ['schedule', t('campaigns.col.sendTime'), scheduleText(c.schedule, f)],
    ...(c.sendAt
      ? ([['send-at', t('campaigns.detail.sendAt'), f.when(c.sendAt)]] as [string, string, string][])
      : []),
    [
      'created',
      t('campaigns.detail.created'),
      c.createdBy
        ? t('campaigns.detail.createdBy', {
            when: f.when(c.createdAt),
            by: c.createdBy.replace(/^user:/, ''),
          })
        : f.when(c.createdAt),
    ],
    ['launched', t('campaigns.col.launched'), c.launchedAt ? f.when(c.launchedAt) : '—'],
    ...(c.pausedAt
      ? ([['paused', t('campaigns.detail.paused'), f.when(c.pausedAt)]] as [string, string, string][])
      : []),
    ['done', t('campaigns.col.done'), c.doneAt ? f.when(c.doneAt) : '—'],
    ['pending', t('campaigns.col.pending'), f.int(c.pending)],
  ];
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">{t('campaigns.detail.settings')}</h2>
      <div className="columns">
        <dl className="facts" data-testid="campaign-facts">
          {facts.map(([k, label, value]) => (
            <div key={k} data-fact={k}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        <div className="table-wrap" role="region" aria-labelledby="variants-caption" tabIndex={0}>
          <table className="data" data-testid="variants">
            <caption id="variants-caption">{t('campaigns.detail.variants')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('campaigns.form.key')}</th>
                <th scope="col">{t('campaigns.form.template')}</th>
                <th scope="col">{t('campaigns.detail.share')}</th>
                <th scope="col">{t('campaigns.detail.offer')}</th>
                <th scope="col">{t('campaigns.col.sendTime')}</th>
              </tr>
            </thead>
            <tbody>
              {c.variants.map((v) => (
                <tr key={v.key} data-variant={v.key}>
                  <th scope="row">{v.key}</th>
                  <td>{v.template}</td>
                  <td className="num">{f.share(v.share)}</td>
                  <td>{offerText(v.offer, f)}</td>
                  <td>{v.schedule ? scheduleText(v.schedule, f) : t('campaigns.detail.campaignTime')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}

/** CSV of the codes (RFC 4180 quoting where needed). */
export function codesCsv(rows: CodeRow[]): string {
  const cell = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = 'code,variant,customer,kind,value,expiresAt';
  return [
    head,
    ...rows.map((r) => [r.code, r.variant, r.customer, r.kind, r.value, r.expiresAt].map(cell).join(',')),
  ]
    .join('\r\n')
    .concat('\r\n');
}

/** The offers' codes: a store's list imported for a list variant (before the launch), and the CSV of all. */
function Codes({ c }: { c: Campaign }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const codes = useQuery({
    queryKey: ['campaign-codes', c.name],
    queryFn: () => api<{ data: CodeRow[] }>(`${campaignPath(c.name)}/codes`),
  });
  const offered = c.variants.filter((v) => v.offer);
  const importable = !c.launchedAt && c.status !== 'cancelled';
  const count = (key: string, unused = false) =>
    (codes.data?.data ?? []).filter((r) => r.variant === key && (!unused || r.customer === null)).length;
  const download = () => {
    if (!codes.data) return;
    const url = URL.createObjectURL(new Blob([codesCsv(codes.data.data)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${c.name}-codes.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section aria-labelledby="codes-title" data-testid="codes">
      <h2 id="codes-title">{t('campaigns.codes.title')}</h2>
      <p className="muted">{t('campaigns.codes.intro')}</p>
      {codes.data ? (
        <ul data-testid="codes-counts">
          {offered.map((v) => (
            <li key={v.key} data-variant={v.key}>
              {v.offer!.codes === 'list'
                ? t('campaigns.codes.listCount', {
                    key: v.key,
                    n: new Intl.NumberFormat(lang).format(count(v.key)),
                    unused: new Intl.NumberFormat(lang).format(count(v.key, true)),
                  })
                : t('campaigns.codes.generatedCount', {
                    key: v.key,
                    n: new Intl.NumberFormat(lang).format(count(v.key)),
                  })}
            </li>
          ))}
        </ul>
      ) : (
        <Status query={codes} />
      )}
      {importable
        ? offered
            .filter((v) => v.offer!.codes === 'list')
            .map((v) => <ImportCodes key={v.key} name={c.name} variant={v.key} />)
        : null}
      {codes.data?.data.length ? (
        <p>
          <button type="button" className="secondary" onClick={download}>
            {t('campaigns.codes.download')}
          </button>
        </p>
      ) : null}
    </section>
  );
}

/** Codes as typed or read from a file: one a line (or separated by commas), a `code` header dropped. */
export function parseCodes(text: string): string[] {
  const all = text
    .split(/[\r\n,;\t]+/)
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter(Boolean);
  return all[0]?.toLowerCase() === 'code' ? all.slice(1) : all;
}

function ImportCodes({ name, variant }: { name: string; variant: string }) {
  const { t, i18n } = useTranslation();
  const queries = useQueryClient();
  const [text, setText] = useState('');
  const [fileError, setFileError] = useState<string | null>(null);
  const send = useMutation({
    mutationFn: (codes: string[]) =>
      api<{ variant: string; imported: number; available: number }>(`${campaignPath(name)}/codes`, {
        method: 'POST',
        body: { variant, codes },
      }),
    onSuccess: async () => {
      setText('');
      await queries.invalidateQueries({ queryKey: ['campaign-codes', name] });
    },
  });
  const path = `codes-${variant}`;
  const id = fieldId(path);
  const error = fileError ?? send.error?.message;
  const n = (x: number) => new Intl.NumberFormat(i18n.language).format(x);
  return (
    <form
      className="builder import-codes"
      aria-label={t('campaigns.codes.importFor', { key: variant })}
      data-testid={`import-${variant}`}
      onSubmit={(e) => {
        e.preventDefault();
        send.mutate(parseCodes(text));
      }}
    >
      <h3>{t('campaigns.codes.importFor', { key: variant })}</h3>
      <div className="cfield wide">
        <label htmlFor={id}>{t('campaigns.codes.paste')}</label>
        <textarea
          id={id}
          rows={5}
          spellCheck={false}
          value={text}
          aria-invalid={!!error}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(e) => setText(e.target.value)}
        />
        <FieldError path={path} message={error} />
      </div>
      <div className="cfield">
        <label htmlFor={`${id}-file`}>{t('campaigns.codes.file')}</label>
        <input
          id={`${id}-file`}
          type="file"
          accept=".txt,.csv,text/plain,text/csv"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            setFileError(null);
            file.text().then(
              (content) => setText(content),
              (x: unknown) => setFileError((x as Error).message),
            );
          }}
        />
      </div>
      <p className="save">
        <button type="submit" disabled={send.isPending || parseCodes(text).length === 0}>
          {t('campaigns.codes.import', { n: n(parseCodes(text).length) })}
        </button>
        <span aria-live="polite">
          {send.data && !send.error ? (
            <span role="status" data-testid={`imported-${variant}`}>
              {t('campaigns.codes.imported', {
                imported: n(send.data.imported),
                available: n(send.data.available),
                key: send.data.variant,
              })}
            </span>
          ) : null}
        </span>
      </p>
    </form>
  );
}
