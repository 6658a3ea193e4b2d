import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, type Me } from '../api';
import { ClvRun } from '../components/ClvRun';
import type { FrequencyBucket } from '../components/PredictionValidationChart';
import { Status } from '../components/Status';
import { fmt } from '../format';
import { day, nameOf } from './Customers';

// ECharts is loaded only when a chart is on screen (its own chunk).
const ValidationChart = lazy(() => import('../components/PredictionValidationChart'));
const ClvHistogramChart = lazy(() => import('../components/ClvHistogramChart'));

export interface Bin {
  from: number;
  to: number | null;
  customers: number;
}

/** The label of a CLV bin: "£0.00 – £50.00", or "£1,000.00 and above" for the last, open one. */
export function binLabel(
  t: (k: string, o?: Record<string, unknown>) => string,
  lang: string,
  currency: string,
  b: Bin,
) {
  const m = (v: number) => fmt.money(lang, v, currency);
  return b.to === null ? t('predictions.andAbove', { from: m(b.from) }) : `${m(b.from)} – ${m(b.to)}`;
}

interface HoldoutScore {
  mae: number;
  rmse: number;
  correlation: number | null;
  totalErrorPct: number | null;
}
/** The `retain clv predict --json` document (the clv-predict job's result). */
interface PredictResult {
  model: string;
  params: Record<string, number>;
  logLikelihood?: number;
  spendParams: Record<string, number> | null;
  spendLogLikelihood?: number | null;
  customers: number;
  selection: {
    method: 'holdout' | 'default' | 'explicit';
    holdout: {
      calibrationEnd: string;
      holdoutEnd: string;
      weeks: number;
      customers: number;
      purchases: number;
    } | null;
    candidates: { model: string; role: 'candidate' | 'reference'; holdout: HoldoutScore }[];
    chosen: string;
    reason: string;
  };
  warnings: string[];
}
/** `GET /v1/clv/summary`. */
export interface RunSummary {
  modelVersion: string;
  models: string[];
  asOf: string;
  horizon: number;
  timeUnit: 'week' | 'day';
  clvMonths: number | null;
  currency: string;
  storedAt: string;
  customers: number;
  withClv: number;
  expectedPurchasesTotal: number;
  clvTotal: number | null;
  clvMedian: number | null;
  churnRiskMedian: number | null;
  clvHistogram: Bin[];
  fit: { jobId: number; input: unknown; result: PredictResult } | null;
}
/** `POST /v1/clv/validations`. */
export interface Validation {
  model: string;
  customers: number;
  mae: number;
  rmse: number;
  correlation: number | null;
  totalActual: number;
  totalPredicted: number;
  totalErrorPct: number | null;
  byFrequency: FrequencyBucket[];
}
/** `GET /v1/clv/predictions`. */
interface RunPredictions {
  total: number;
  currency: string;
  data: {
    customerId: string;
    email: string | null;
    firstName: string | null;
    lastName: string | null;
    pAlive: number;
    churnRisk: number;
    expectedPurchases: number;
    clv: number | null;
    nextOrderAt: string | null;
  }[];
}

const MODEL_LABEL: Record<string, string> = {
  bgnbd: 'BG/NBD',
  'pareto-nbd': 'Pareto/NBD',
  mbgnbd: 'MBG/NBD',
  'gamma-gamma': 'Gamma-Gamma',
};
const label = (m: string) => MODEL_LABEL[m] ?? m;
const CHURN_LIST = 50;
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const signedPct = (lang: string, v: number | null) =>
  v === null
    ? '—'
    : new Intl.NumberFormat(lang, {
        style: 'percent',
        signDisplay: 'always',
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }).format(v / 100);

/** The latest CLV run: its fit, a holdout validation, the CLV distribution and the churn-risk list. */
export function PredictionsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const summary = useQuery({
    queryKey: ['clv-summary'],
    queryFn: () => api<RunSummary>('/v1/clv/summary'),
  });
  if (summary.error instanceof ApiError && summary.error.status === 404)
    return (
      <section aria-labelledby="predictions-title">
        <h1 id="predictions-title">{t('predictions.title')}</h1>
        <p>{t('predictions.none')}</p>
        <ClvRun />
      </section>
    );
  if (!summary.data) return <Status query={summary} />;
  const s = summary.data;
  const money = (v: number | null) => (v === null ? '—' : fmt.money(lang, v, s.currency));
  const figures: [string, string][] = [
    ['customers', fmt.int(lang, s.customers)],
    ['withClv', fmt.int(lang, s.withClv)],
    ['clvTotal', money(s.clvTotal)],
    ['clvMedian', money(s.clvMedian)],
    ['expectedPurchasesTotal', fmt.dec(lang, s.expectedPurchasesTotal, 1)],
    ['churnRiskMedian', s.churnRiskMedian === null ? '—' : fmt.pct(lang, s.churnRiskMedian)],
  ];
  return (
    <section aria-labelledby="predictions-title">
      <h1 id="predictions-title">{t('predictions.title')}</h1>
      <p className="muted" data-testid="run">
        {t('predictions.run', {
          models: s.models.map(label).join(' + '),
          day: day(lang, s.asOf),
          horizon: fmt.int(lang, s.horizon),
          unit: t(`predictions.units.${s.timeUnit}`),
          months: s.clvMonths ?? '—',
          stored: new Date(s.storedAt).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }),
        })}
      </p>
      <ClvRun again />
      <dl className="cards">
        {figures.map(([k, v]) => (
          <div className="card" key={k} data-figure={k}>
            <dt>{t(`predictions.${k}`)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <Fit summary={s} lang={lang} />
      <ValidationSection summary={s} lang={lang} />
      <h2 id="distribution-title">{t('predictions.distribution')}</h2>
      {s.clvHistogram.length > 0 && (
        <>
          <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
            <ClvHistogramChart bins={s.clvHistogram} currency={s.currency} lang={lang} />
          </Suspense>
          <details>
            <summary>{t('predictions.showTable')}</summary>
            <table className="data" aria-labelledby="distribution-title">
              <thead>
                <tr>
                  <th scope="col">{t('predictions.range')}</th>
                  <th scope="col">{t('predictions.binCustomers')}</th>
                </tr>
              </thead>
              <tbody>
                {s.clvHistogram.map((b) => (
                  <tr key={b.from}>
                    <th scope="row">{binLabel(t, lang, s.currency, b)}</th>
                    <td className="num">{fmt.int(lang, b.customers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
      <ChurnList lang={lang} />
    </section>
  );
}

/** The fit the run used: the clv-predict job's result (a CLI run keeps none). */
function Fit({ summary: s, lang }: { summary: RunSummary; lang: string }) {
  const { t } = useTranslation();
  const f = s.fit?.result;
  if (!f)
    return (
      <>
        <h2>{t('predictions.fit')}</h2>
        <p>{t('predictions.noFit')}</p>
      </>
    );
  const params = (p: Record<string, number>, id: string, caption: string) => (
    <table className="data" data-testid={id}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('predictions.parameter')}</th>
          <th scope="col">{t('predictions.value')}</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(p).map(([k, v]) => (
          <tr key={k} data-param={k}>
            <th scope="row">{k}</th>
            <td className="num">{fmt.dec(lang, v, 4)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  const sel = f.selection;
  return (
    <>
      <h2>{t('predictions.fit')}</h2>
      <dl className="cards">
        <div className="card" data-figure="model">
          <dt>{t('predictions.model')}</dt>
          <dd>{label(f.model)}</dd>
        </div>
        {f.logLikelihood !== undefined && (
          <div className="card" data-figure="logLikelihood">
            <dt>{t('predictions.logLikelihood')}</dt>
            <dd>{fmt.dec(lang, f.logLikelihood, 2)}</dd>
          </div>
        )}
        <div className="card" data-figure="fitCustomers">
          <dt>{t('predictions.fitCustomers')}</dt>
          <dd>{fmt.int(lang, f.customers)}</dd>
        </div>
        {f.spendParams && f.spendLogLikelihood != null && (
          <div className="card" data-figure="spendLogLikelihood">
            <dt>
              {t('predictions.spendModel')} ({label('gamma-gamma')}): {t('predictions.logLikelihood')}
            </dt>
            <dd>{fmt.dec(lang, f.spendLogLikelihood, 2)}</dd>
          </div>
        )}
      </dl>
      <div className="columns">
        {params(f.params, 'params', `${t('predictions.model')}: ${label(f.model)}`)}
        {f.spendParams &&
          params(f.spendParams, 'spend-params', `${t('predictions.spendModel')}: ${label('gamma-gamma')}`)}
      </div>
      <h3>{t('predictions.selection')}</h3>
      <p>
        <strong>{t(`predictions.method.${sel.method}`)}</strong> — {sel.reason}
      </p>
      {sel.holdout && (
        <p data-testid="holdout">
          {t('predictions.holdout', {
            from: day(lang, `${sel.holdout.calibrationEnd}T00:00:00Z`),
            to: day(lang, `${sel.holdout.holdoutEnd}T00:00:00Z`),
            weeks: fmt.int(lang, sel.holdout.weeks),
            customers: fmt.int(lang, sel.holdout.customers),
            purchases: fmt.int(lang, sel.holdout.purchases),
          })}
        </p>
      )}
      {sel.candidates.length > 0 && (
        <table className="data" data-testid="candidates">
          <caption className="sr-only">{t('predictions.selection')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('predictions.candidate')}</th>
              <th scope="col">{t('predictions.role')}</th>
              <th scope="col">{t('predictions.mae')}</th>
              <th scope="col">{t('predictions.rmse')}</th>
              <th scope="col">{t('predictions.correlation')}</th>
              <th scope="col">{t('predictions.totalError')}</th>
            </tr>
          </thead>
          <tbody>
            {sel.candidates.map((c) => (
              <tr key={c.model}>
                <th scope="row">
                  {label(c.model)} {c.model === sel.chosen && `(${t('predictions.chosen')})`}
                </th>
                <td>{t(`predictions.roles.${c.role}`)}</td>
                <td className="num">{fmt.dec(lang, c.holdout.mae, 3)}</td>
                <td className="num">{fmt.dec(lang, c.holdout.rmse, 3)}</td>
                <td className="num">
                  {c.holdout.correlation === null ? '—' : fmt.dec(lang, c.holdout.correlation, 3)}
                </td>
                <td className="num">{signedPct(lang, c.holdout.totalErrorPct)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {f.warnings.length > 0 && (
        <>
          <h3>{t('predictions.warnings')}</h3>
          <ul>
            {f.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/**
 * A holdout validation (`POST /v1/clv/validations`, answered at once): by default the run's model on
 * the run's own holdout (else the last 13 weeks before its as-of day).
 */
function ValidationSection({ summary: s, lang }: { summary: RunSummary; lang: string }) {
  const { t } = useTranslation();
  const asOf = Date.parse(s.asOf);
  const holdout = s.fit?.result.selection.holdout;
  const initial = {
    model: s.models[0] ?? 'mbgnbd',
    calibrationEnd: holdout?.calibrationEnd ?? isoDay(asOf - 91 * DAY_MS),
    holdoutEnd: holdout?.holdoutEnd ?? isoDay(asOf),
  };
  const [form, setForm] = useState(initial);
  const [asked, setAsked] = useState(initial);
  const validation = useQuery({
    queryKey: ['clv-validation', asked],
    queryFn: () =>
      api<Validation>('/v1/clv/validations', {
        method: 'POST',
        body: { ...asked, timeUnit: s.timeUnit },
      }),
    staleTime: Infinity,
  });
  const v = validation.data;
  return (
    <>
      <h2 id="validation-title">{t('predictions.validation')}</h2>
      <p className="muted">{t('predictions.validationHelp')}</p>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(form);
        }}
      >
        <label>
          {t('predictions.model')}{' '}
          <select value={form.model} onChange={(e) => setForm({ ...form, model: e.target.value })}>
            {['mbgnbd', 'pareto-nbd', 'bgnbd'].map((m) => (
              <option key={m} value={m}>
                {label(m)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('predictions.calibrationEnd')}{' '}
          <input
            type="date"
            required
            value={form.calibrationEnd}
            onChange={(e) => setForm({ ...form, calibrationEnd: e.target.value })}
          />
        </label>
        <label>
          {t('predictions.holdoutEnd')}{' '}
          <input
            type="date"
            required
            value={form.holdoutEnd}
            onChange={(e) => setForm({ ...form, holdoutEnd: e.target.value })}
          />
        </label>
        <button type="submit" disabled={validation.isFetching}>
          {validation.isFetching ? t('predictions.validating') : t('predictions.validate')}
        </button>
      </form>
      {!v ? (
        <Status query={validation} />
      ) : (
        <>
          <dl className="cards" data-testid="validation">
            {(
              [
                ['mae', fmt.dec(lang, v.mae, 3)],
                ['rmse', fmt.dec(lang, v.rmse, 3)],
                ['correlation', v.correlation === null ? '—' : fmt.dec(lang, v.correlation, 3)],
                ['totalError', signedPct(lang, v.totalErrorPct)],
              ] as const
            ).map(([k, text]) => (
              <div className="card" key={k} data-figure={k}>
                <dt>{t(`predictions.${k}`)}</dt>
                <dd>{text}</dd>
              </div>
            ))}
          </dl>
          <p data-testid="validation-totals">
            {t('predictions.totals', {
              customers: fmt.int(lang, v.customers),
              actual: fmt.int(lang, v.totalActual),
              predicted: fmt.dec(lang, v.totalPredicted, 1),
              error: signedPct(lang, v.totalErrorPct),
            })}
          </p>
          <div className="columns">
            <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
              <ValidationChart buckets={v.byFrequency} lang={lang} />
            </Suspense>
            <table className="data" aria-labelledby="validation-title" data-testid="by-frequency">
              <thead>
                <tr>
                  <th scope="col">{t('predictions.frequency')}</th>
                  <th scope="col">{t('predictions.bucketCustomers')}</th>
                  <th scope="col">{t('predictions.meanActual')}</th>
                  <th scope="col">{t('predictions.meanPredicted')}</th>
                </tr>
              </thead>
              <tbody>
                {v.byFrequency.map((b) => (
                  <tr key={b.frequency} data-frequency={b.frequency}>
                    <th scope="row">{b.frequency}</th>
                    <td className="num">{fmt.int(lang, b.customers)}</td>
                    <td className="num">{fmt.dec(lang, b.meanActual, 3)}</td>
                    <td className="num">{fmt.dec(lang, b.meanPredicted, 3)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

/** The customers with the highest churn risk, and every prediction as CSV. */
function ChurnList({ lang }: { lang: string }) {
  const { t } = useTranslation();
  const list = useQuery({
    queryKey: ['clv-predictions', 'churnRisk', CHURN_LIST],
    queryFn: () => api<RunPredictions>(`/v1/clv/predictions?sort=churnRisk&limit=${CHURN_LIST}`),
  });
  // The file is an export (every customer's contact details): the roles holding `export` only.
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  const canExport = me.data?.role === 'admin' || me.data?.role === 'analyst';
  return (
    <>
      <h2 id="churn-title">{t('predictions.churnList')}</h2>
      {!list.data ? (
        <Status query={list} />
      ) : (
        <>
          <p className="toolbar">
            <span>
              {t('predictions.churnListHelp', {
                count: list.data.data.length,
                n: fmt.int(lang, list.data.data.length),
                total: fmt.int(lang, list.data.total),
              })}
            </span>
            {canExport ? (
              <a className="button" href="/v1/clv/predictions?format=csv&sort=churnRisk" download>
                {t('predictions.download', { total: fmt.int(lang, list.data.total) })}
              </a>
            ) : null}
          </p>
          <table className="data" aria-labelledby="churn-title" data-testid="churn-list">
            <thead>
              <tr>
                <th scope="col">{t('predictions.customer')}</th>
                <th scope="col">{t('predictions.email')}</th>
                <th scope="col">{t('predictions.churnRisk')}</th>
                <th scope="col">{t('predictions.pAlive')}</th>
                <th scope="col">{t('predictions.clv')}</th>
                <th scope="col">{t('predictions.expectedPurchases')}</th>
                <th scope="col">{t('predictions.nextOrderAt')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((r) => (
                <tr key={r.customerId} data-customer={r.customerId}>
                  <th scope="row">
                    <Link to={`/customers/${encodeURIComponent(r.customerId)}`}>
                      {nameOf(r) || r.customerId}
                    </Link>
                    {nameOf(r) && <span className="muted id"> {r.customerId}</span>}
                  </th>
                  <td>{r.email ?? '—'}</td>
                  <td className="num" data-col="churnRisk">
                    {fmt.pct(lang, r.churnRisk)}
                  </td>
                  <td className="num">{fmt.pct(lang, r.pAlive)}</td>
                  <td className="num" data-col="clv">
                    {r.clv === null ? '—' : fmt.money(lang, r.clv, list.data!.currency)}
                  </td>
                  <td className="num">{fmt.dec(lang, r.expectedPurchases)}</td>
                  <td>{day(lang, r.nextOrderAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
