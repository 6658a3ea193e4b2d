import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { DefinitionSection } from '../components/JsonEditor';
import { Status } from '../components/Status';
import { campaignFormat, errorsByPath, useStoreInfo, type CampaignFormat } from './CampaignCommon';
import {
  bandLabel,
  BANDS,
  headline,
  monthLabel,
  surveyPath,
  SurveyStatusBadge,
  useSurveyWrite,
  type InviteResult,
  type Survey,
  type SurveyAnswersPage,
  type SurveyKind,
  type SurveyResults,
} from './SurveysCommon';
import { SurveyEditor } from './SurveysEditor';
import {
  Breakdowns,
  CallsEffect,
  ResultNotes,
  Themes,
  useSurveyParams,
  ValueNextToClv,
  windowChoices,
} from './SurveysInsight';

const SurveyChart = lazy(() => import('./SurveyChart'));

/** The queries that show a survey (refreshed after each action, invitation and save). */
const refresh = (queries: ReturnType<typeof useQueryClient>, name: string) =>
  Promise.all(
    [['surveys'], ['survey', name], ['survey-results', name], ['survey-answers', name]].map((queryKey) =>
      queries.invalidateQueries({ queryKey }),
    ),
  );

/**
 * One survey (`/surveys/:name`): its status and what it does (kind, throttle, expiry, who gets the
 * call tasks of low scores and how soon, follow-up), its results (NPS or CSAT with its 95 % interval,
 * the bands, response rate, tasks made, the score by month as a line and a table; then, over a purchase
 * window of 30, 90 or 180 days, the score by segment, channel, product and cohort, the "why" themes,
 * NPS next to CLV and the effect of calls: SurveysInsight.tsx), the answers newest first, a page at a
 * time, filtered by band (each with the task it made); for the roles with `surveys:write` the
 * invitation form, archiving after a confirmation and the definition's editor. The window, breakdown
 * and band live in the address (`?window=180&by=channel&band=detractor`).
 */
export function SurveyPage() {
  const name = useParams().name ?? '';
  return <SurveyView key={name} name={name} />;
}

function SurveyView({ name }: { name: string }) {
  const { t, i18n } = useTranslation();
  const store = useStoreInfo();
  const write = useSurveyWrite();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const survey = useQuery({ queryKey: ['survey', name], queryFn: () => api<Survey>(surveyPath(name)) });
  const [saved, setSaved] = useState(false);
  const x = survey.data;
  return (
    <section aria-labelledby="survey-title" className="campaign-page">
      <h1 id="survey-title">{t('surveys.detail.title', { name })}</h1>
      <p>
        <Link to="/surveys">{t('surveys.back')}</Link>
      </p>
      {survey.error instanceof ApiError && (survey.error.status === 404 || survey.error.status === 400) ? (
        <p role="alert" data-testid="survey-missing">
          {survey.error.message}
        </p>
      ) : !x ? (
        <Status query={survey} />
      ) : (
        <>
          <p className="toolbar">
            <span>
              {t('surveys.col.status')}: <SurveyStatusBadge status={x.status} />
            </span>
          </p>
          {x.status === 'archived' ? (
            <p className="callout" role="note" data-testid="archived-note">
              {t('surveys.detail.archivedNote')}
            </p>
          ) : null}
          {write ? <Actions survey={x} /> : null}
          <Facts survey={x} f={f} />
          <Results name={x.name} kind={x.kind} timeZone={store.timeZone} />
          <Answers name={x.name} kind={x.kind} f={f} />
          {write && x.status === 'active' ? <InviteForm name={x.name} /> : null}
          <DefinitionSection
            write={write}
            id="survey"
            title={t('surveys.editor.title')}
            saved={saved ? t('surveys.editor.saved') : null}
            json={t('surveys.editor.json')}
            definition={x.definition}
          >
            <SurveyEditor
              key={x.updatedAt}
              initial={JSON.stringify(x.definition, null, 2)}
              name={x.name}
              title={t('surveys.editor.title')}
              label={t('surveys.editor.label')}
              help={t('surveys.editor.help', { template: x.template })}
              save={t('surveys.editor.save')}
              onSaved={() => setSaved(true)}
            />
          </DefinitionSection>
        </>
      )}
    </section>
  );
}

function Actions({ survey }: { survey: Survey }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const archive = useMutation({
    mutationFn: () => api<Survey>(`${surveyPath(survey.name)}/archive`, { method: 'POST' }),
    onSuccess: async (moved) => {
      queries.setQueryData<Survey>(['survey', survey.name], moved);
      await refresh(queries, survey.name);
    },
    onError: () => refresh(queries, survey.name),
  });
  if (survey.status !== 'active' && !archive.error && !archive.data) return null;
  return (
    <section className="actions" aria-labelledby="survey-actions-title">
      <h2 id="survey-actions-title" className="sr-only">
        {t('surveys.actions.title')}
      </h2>
      {survey.status === 'active' ? (
        <div className="toolbar">
          <button
            type="button"
            className="secondary danger"
            disabled={archive.isPending}
            onClick={() => {
              if (window.confirm(t('surveys.actions.confirmArchive', { name: survey.name })))
                archive.mutate();
            }}
          >
            {t('surveys.actions.archive')}
          </button>
        </div>
      ) : null}
      <div aria-live="polite">
        {archive.data && !archive.error ? (
          <p role="status" data-testid="archive-result">
            {t('surveys.actions.archived', { name: archive.data.name })}
          </p>
        ) : null}
      </div>
      {archive.error ? (
        <p role="alert" className="field-error" data-testid="action-error">
          {archive.error.message}
        </p>
      ) : null}
    </section>
  );
}

interface Definition {
  throttleDays?: number;
  expiresDays?: number;
  lowScore?: { atMost?: number; negativeWords?: boolean; assignees?: string[]; slaHours?: number } | null;
  followUp?: boolean;
}

function Facts({ survey, f }: { survey: Survey; f: CampaignFormat }) {
  const { t } = useTranslation();
  const d = survey.definition as Definition;
  const low = d.lowScore ?? null;
  const days = (n: number) => t('flows.dur.days', { count: n });
  const facts: [string, string, ReactNode][] = [
    ['kind', t('surveys.detail.kind'), t(`surveys.kind.${survey.kind}`)],
    [
      'template',
      t('surveys.detail.template'),
      <Link to="/templates">
        <code>{survey.template}</code>
      </Link>,
    ],
    [
      'throttle',
      t('surveys.detail.throttle'),
      d.throttleDays
        ? t('surveys.detail.throttleText', { days: days(d.throttleDays) })
        : t('surveys.detail.noThrottle'),
    ],
    ['expires', t('surveys.detail.expires'), days(d.expiresDays ?? 14)],
    [
      'low-score',
      t('surveys.detail.lowScore'),
      low
        ? t('surveys.detail.lowScoreText', {
            atMost: f.int(low.atMost ?? 0),
            assignees: (low.assignees ?? []).join(', '),
            hours: t('flows.dur.hours', { count: low.slaHours ?? 24 }),
          }) + (low.negativeWords !== false ? t('surveys.detail.negativeWords') : '')
        : t('surveys.detail.noLowScore'),
    ],
    [
      'follow-up',
      t('surveys.detail.followUp'),
      d.followUp === false ? t('surveys.detail.followUpOff') : t('surveys.detail.followUpOn'),
    ],
    ['created', t('surveys.detail.created'), f.when(survey.createdAt)],
    ['updated', t('surveys.detail.updated'), f.when(survey.updatedAt)],
  ];
  return (
    <section aria-labelledby="survey-facts-title">
      <h2 id="survey-facts-title" className="sr-only">
        {t('surveys.detail.facts')}
      </h2>
      <dl className="facts" data-testid="survey-facts">
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

/**
 * `GET /v1/surveys/{name}/results?window=`: the headline with its interval, the bands, response rate,
 * tasks, and by month; then the results in context (SurveysInsight.tsx) over the chosen window.
 */
function Results({ name, kind, timeZone }: { name: string; kind: SurveyKind; timeZone: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { windowDays, set } = useSurveyParams(kind);
  const results = useQuery({
    queryKey: ['survey-results', name, windowDays],
    queryFn: () => api<SurveyResults>(`${surveyPath(name)}/results?window=${windowDays}`),
    // The figures shown stay while another window's load.
    placeholderData: keepPreviousData,
  });
  const r = results.data;
  const picker = (
    <form className="range" aria-label={t('surveys.insight.windowForm')} onSubmit={(e) => e.preventDefault()}>
      <label htmlFor="results-window">{t('surveys.insight.window')}</label>{' '}
      <select id="results-window" value={windowDays} onChange={(e) => set({ window: e.target.value })}>
        {windowChoices(windowDays).map((d) => (
          <option key={d} value={d}>
            {t('flows.dur.days', { count: d })}
          </option>
        ))}
      </select>{' '}
      <span className="muted">{t('surveys.insight.windowHelp')}</span>
    </form>
  );
  if (!r)
    return (
      <section aria-labelledby="results-title">
        <h2 id="results-title">{t('surveys.results.title')}</h2>
        {picker}
        <Status query={results} />
      </section>
    );
  const int = (n: number) => new Intl.NumberFormat(lang).format(n);
  const pct = (x: number | null) =>
    x === null
      ? '—'
      : new Intl.NumberFormat(lang, {
          style: 'percent',
          minimumFractionDigits: 1,
          maximumFractionDigits: 1,
        }).format(x);
  const kindName = t(`surveys.results.${r.kind}`);
  const score = r.kind === 'nps' ? r.nps : r.csat;
  const format = (s: number) => headline(lang, r.kind, s);
  const bands: [string, number][] =
    r.kind === 'nps'
      ? [
          ['promoters', r.promoters ?? 0],
          ['passives', r.passives ?? 0],
          ['detractors', r.detractors ?? 0],
        ]
      : [
          ['happy', r.happy ?? 0],
          ['neutral', r.neutral ?? 0],
          ['unhappy', r.unhappy ?? 0],
        ];
  const points = r.months.map((m) => ({
    month: monthLabel(lang, m.month),
    score: m.score,
    answered: m.answered,
  }));
  return (
    <section
      aria-labelledby="results-title"
      data-testid="results"
      aria-busy={results.isPlaceholderData}
      data-window={r.value?.windowDays ?? windowDays}
    >
      <h2 id="results-title">{t('surveys.results.title')}</h2>
      {picker}
      <dl className="cards">
        <div className="card" data-figure="headline">
          <dt title={t(`surveys.results.${r.kind}Help`)}>{kindName}</dt>
          <dd>
            <span data-part="main">{headline(lang, r.kind, score)}</span>{' '}
            <small className="sub" data-part="sub">
              {score === null || score === undefined
                ? t('surveys.results.none')
                : t(`surveys.results.${r.kind}Help`)}
            </small>
            {r.interval95 ? (
              <small className="sub" data-part="interval">
                {t('surveys.insight.headlineInterval', {
                  low: format(r.interval95[0]),
                  high: format(r.interval95[1]),
                })}
              </small>
            ) : null}
          </dd>
        </div>
        <div className="card" data-figure="answered">
          <dt>{t('surveys.results.answered')}</dt>
          <dd>
            <span data-part="main">{int(r.answered)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('surveys.results.answeredOf', { invited: int(r.invited) })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="response-rate">
          <dt>{t('surveys.results.responseRate')}</dt>
          <dd>
            <span data-part="main">{pct(r.responseRate)}</span>
          </dd>
        </div>
        <div className="card" data-figure="with-reason">
          <dt>{t('surveys.results.withReason')}</dt>
          <dd>
            <span data-part="main">{int(r.withReason)}</span>
          </dd>
        </div>
        <div className="card" data-figure="tasks">
          <dt>{t('surveys.results.tasks')}</dt>
          <dd>
            <span data-part="main">{int(r.tasks)}</span>
          </dd>
        </div>
      </dl>
      <div className="columns">
        <div className="table-wrap" role="region" aria-labelledby="bands-caption" tabIndex={0}>
          <table className="data" data-testid="bands">
            <caption id="bands-caption">{t('surveys.results.bands')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('surveys.results.band')}</th>
                <th scope="col">{t('surveys.results.count')}</th>
                <th scope="col">{t('surveys.results.share')}</th>
              </tr>
            </thead>
            <tbody>
              {bands.map(([band, n]) => (
                <tr key={band} data-band={band}>
                  <th scope="row">{t(`surveys.results.${r.kind}Bands.${band}`)}</th>
                  <td className="num">{int(n)}</td>
                  <td className="num">{r.answered > 0 ? pct(n / r.answered) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="table-wrap" role="region" aria-labelledby="months-caption" tabIndex={0}>
          <table className="data" data-testid="months">
            <caption id="months-caption">{t('surveys.results.months', { kind: kindName })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('surveys.results.month')}</th>
                <th scope="col">{t('surveys.results.answered')}</th>
                <th scope="col">{t('surveys.results.score')}</th>
              </tr>
            </thead>
            <tbody>
              {r.months.map((m, i) => (
                <tr key={m.month} data-month={m.month}>
                  <th scope="row">{points[i]!.month}</th>
                  <td className="num">{int(m.answered)}</td>
                  <td className="num">{format(m.score)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {points.length === 0 ? (
        <p className="muted" data-testid="no-months">
          {t('surveys.results.noMonths')}
        </p>
      ) : (
        <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
          <SurveyChart
            points={points}
            kind={r.kind}
            format={format}
            label={t('surveys.results.chart', {
              kind: kindName,
              points: points.map((p) => `${p.month} ${format(p.score)}`).join('; '),
            })}
          />
        </Suspense>
      )}
      <Breakdowns r={r} timeZone={timeZone} />
      <Themes r={r} timeZone={timeZone} />
      {r.value || r.effect ? null : (
        <p className="callout" role="note" data-testid="no-currency">
          {t('surveys.insight.noCurrency')}
        </p>
      )}
      <ValueNextToClv r={r} timeZone={timeZone} />
      <CallsEffect r={r} timeZone={timeZone} />
      <ResultNotes notes={r.notes} />
    </section>
  );
}

/** A language code as its name in the interface language ("uk" → "Ukrainian"). */
function languageName(lang: string, code: string | null): string {
  if (!code) return '—';
  try {
    return new Intl.DisplayNames([lang], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * `GET /v1/surveys/{name}/answers`, newest first, 50 a page ("Show more"), optionally one band (`band`
 * in the address): customer, score, why, language, when, and the task it made.
 */
function Answers({ name, kind, f }: { name: string; kind: SurveyKind; f: CampaignFormat }) {
  const { t, i18n } = useTranslation();
  const { band, set } = useSurveyParams(kind);
  const answers = useInfiniteQuery({
    queryKey: ['survey-answers', name, band],
    initialPageParam: '',
    queryFn: ({ pageParam }) => {
      const q = new URLSearchParams({ limit: '50' });
      if (band) q.set('band', band);
      if (pageParam) q.set('cursor', pageParam);
      return api<SurveyAnswersPage>(`${surveyPath(name)}/answers?${q.toString()}`);
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = answers.data?.pages.flatMap((p) => p.data);
  return (
    <section aria-labelledby="answers-title">
      <h2 id="answers-title">{t('surveys.answers.title')}</h2>
      <form className="range" aria-label={t('surveys.answers.filters')} onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="answers-band">{t('surveys.answers.band')}</label>{' '}
        <select id="answers-band" value={band} onChange={(e) => set({ band: e.target.value })}>
          <option value="">{t('surveys.answers.allBands')}</option>
          {BANDS[kind].map((b) => (
            <option key={b} value={b}>
              {t(bandLabel(kind, b))}
            </option>
          ))}
        </select>
      </form>
      {!rows ? (
        <Status query={answers} />
      ) : rows.length === 0 ? (
        <p data-testid="no-answers">{band ? t('surveys.answers.emptyBand') : t('surveys.answers.empty')}</p>
      ) : (
        <>
          <div className="table-wrap" role="region" aria-labelledby="answers-caption" tabIndex={0}>
            <table className="data wide" data-testid="answers" data-band={band || undefined}>
              <caption id="answers-caption" className="sr-only">
                {t('surveys.answers.table')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('surveys.answers.customer')}</th>
                  <th scope="col">{t('surveys.answers.score')}</th>
                  <th scope="col">{t('surveys.answers.why')}</th>
                  <th scope="col">{t('surveys.answers.language')}</th>
                  <th scope="col">{t('surveys.answers.answered')}</th>
                  <th scope="col">{t('surveys.answers.task')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a, i) => (
                  <tr
                    key={`${a.customer}-${a.answeredAt}-${i}`}
                    data-answer={a.customer}
                    data-answer-band={a.band}
                  >
                    <th scope="row">
                      <Link to={`/customers/${encodeURIComponent(a.customer)}`}>{a.customer}</Link>
                    </th>
                    <td className="num">{f.int(a.score)}</td>
                    <td style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                      {a.why ?? t('surveys.answers.noWhy')}
                    </td>
                    <td>{languageName(i18n.language, a.locale)}</td>
                    <td>{f.when(a.answeredAt)}</td>
                    <td>
                      {a.taskId ? (
                        <Link to={`/tasks/${encodeURIComponent(a.taskId)}`}>
                          {t('surveys.answers.taskLink', { id: a.taskId })}
                        </Link>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="pager">
            <span className="muted" data-testid="answers-shown">
              {t('surveys.answers.shown', { n: f.int(rows.length) })}
            </span>
            {answers.hasNextPage ? (
              <button
                type="button"
                onClick={() => void answers.fetchNextPage()}
                disabled={answers.isFetchingNextPage}
              >
                {t('surveys.answers.more')}
              </button>
            ) : null}
          </p>
        </>
      )}
    </section>
  );
}

/** Where a refusal goes: the customers' field (`customers`, `customers[3]`), the occurrence, or above. */
const placeOf = (path: string) =>
  path === 'customers' || path.startsWith('customers[') || path.startsWith('customers.')
    ? 'customers'
    : path === 'occurrence'
      ? 'occurrence'
      : '';

/** `POST /v1/surveys/{name}/invitations`: customer ids pasted, one occurrence; what it did. */
function InviteForm({ name }: { name: string }) {
  const { t, i18n } = useTranslation();
  const queries = useQueryClient();
  const [customers, setCustomers] = useState('');
  const [occurrence, setOccurrence] = useState('');
  const invite = useMutation({
    mutationFn: (body: { customers: string[]; occurrence: string }) =>
      api<InviteResult>(`${surveyPath(name)}/invitations`, { method: 'POST', body }),
    onSuccess: () => refresh(queries, name),
  });
  const placed = new Map<string, string>();
  for (const [path, message] of errorsByPath(invite.error)) {
    const at = placeOf(path);
    placed.set(at, placed.has(at) ? `${placed.get(at)} ${message}` : message);
  }
  // A refusal that names no field of the form is shown above it, as the API words it.
  const top = invite.error && (placed.size === 0 || placed.has('')) ? invite.error.message : null;
  const int = (n: number) => new Intl.NumberFormat(i18n.language).format(n);
  const r = invite.data && !invite.error ? invite.data : null;
  const field = (id: string, at: string) => ({
    'aria-invalid': placed.has(at),
    'aria-describedby': placed.has(at) ? `${id}-error` : undefined,
  });
  return (
    <section className="panel plan" aria-labelledby="invite-title" data-testid="invite">
      <h2 id="invite-title">{t('surveys.invite.title')}</h2>
      <p className="muted">{t('surveys.invite.intro')}</p>
      <form
        aria-labelledby="invite-title"
        onSubmit={(e) => {
          e.preventDefault();
          invite.mutate({
            customers: customers.split(/[\s,;]+/).filter((c) => c !== ''),
            occurrence,
          });
        }}
      >
        <div className="cfield wide">
          <label htmlFor="invite-customers">{t('surveys.invite.customers')}</label>
          <textarea
            id="invite-customers"
            rows={4}
            spellCheck={false}
            value={customers}
            onChange={(e) => setCustomers(e.target.value)}
            {...field('invite-customers', 'customers')}
          />
          {placed.has('customers') ? (
            <span id="invite-customers-error" className="field-error" data-error-for="customers">
              {placed.get('customers')}
            </span>
          ) : null}
        </div>
        <div className="cfield">
          <label htmlFor="invite-occurrence">{t('surveys.invite.occurrence')}</label>
          <input
            id="invite-occurrence"
            value={occurrence}
            onChange={(e) => setOccurrence(e.target.value)}
            {...field('invite-occurrence', 'occurrence')}
          />
          {placed.has('occurrence') ? (
            <span id="invite-occurrence-error" className="field-error" data-error-for="occurrence">
              {placed.get('occurrence')}
            </span>
          ) : null}
        </div>
        <p className="save">
          <button type="submit" disabled={invite.isPending}>
            {t('surveys.invite.submit')}
          </button>
        </p>
      </form>
      <div aria-live="polite">
        {invite.error ? (
          <div role="alert" data-testid="invite-error">
            {top ? <p className="field-error">{top}</p> : <p className="sr-only">{invite.error.message}</p>}
          </div>
        ) : null}
        {r ? (
          <div role="status" data-testid="invite-result">
            <p>
              {t('surveys.invite.result', {
                invited: int(r.invited),
                already: int(r.alreadyInvited),
                throttled: int(r.throttled),
              })}
            </p>
            {r.skipped.length ? (
              <p data-testid="invite-skipped">
                {t('surveys.invite.skipped', {
                  list: r.skipped.map((s) => `${s.customer} (${s.reason})`).join(', '),
                })}
              </p>
            ) : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}
