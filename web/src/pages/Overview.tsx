import { EmptyStore } from '../components/EmptyStore';
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useSearchParams } from 'react-router';
import { api, ApiError, type Me } from '../api';
import { Sparkline } from '../components/Sparkline';
import { Status } from '../components/Status';
import { fmt } from '../format';

/** `GET /v1/reports/summary` (docs/metrics.md#summary): all time up to the as-of day. */
export interface Summary {
  asOf: string;
  currency: string;
  customers: number;
  orders: number;
  netRevenue: number;
  aov: number | null;
  ordersPerCustomer: number | null;
  repeatCustomerRate: number | null;
  avgLifespanDays: number | null;
}

interface Figure {
  value: number | null;
  previous: number | null;
  change: number | null;
  changeKind: 'relative' | 'points';
  series: (number | null)[];
}
const PERIOD = [
  'customers',
  'newCustomers',
  'orders',
  'netRevenue',
  'aov',
  'repeatCustomerRate',
  'retention',
  'churn',
  'sixMonthLtv',
  'ltvToCac',
] as const;
type PeriodFigure = (typeof PERIOD)[number];

/** `GET /v1/reports/overview` (docs/metrics.md#overview): a period against the one before. */
export interface OverviewReport {
  asOf: string;
  currency: string;
  period: { from: string; to: string; days: number };
  previous: { from: string; to: string };
  figures: Record<PeriodFigure, Figure>;
  notes: string[];
}

export interface RfmReport {
  segments: { segment: string; customers: number; revenueShare: number | null }[];
}

// ECharts is loaded only when a chart is on screen (its own chunk).
const RfmChart = lazy(() => import('../components/RfmChart'));

type AllTime = keyof Omit<Summary, 'asOf' | 'currency'>;
const ALL_TIME: AllTime[] = [
  'customers',
  'orders',
  'netRevenue',
  'aov',
  'repeatCustomerRate',
  'ordersPerCustomer',
  'avgLifespanDays',
];
const MONEY = new Set<string>(['netRevenue', 'aov', 'sixMonthLtv']);
const RATES = new Set<string>(['repeatCustomerRate', 'retention', 'churn']);
/** Figures where a fall is the good direction. */
const LOWER_IS_BETTER = new Set<string>(['churn']);

const DAY_MS = 86_400_000;
const shiftDay = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const PRESETS = [
  ['last30', 30],
  ['last90', 90],
  ['last365', 365],
] as const;

export function OverviewPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [params, setParams] = useSearchParams();
  const from = params.get('from') ?? undefined;
  const to = params.get('to') ?? undefined;
  // An agent reads no reports: their first page is their tasks.
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  const agent = me.data?.role === 'agent';
  const summary = useQuery({
    queryKey: ['summary'],
    queryFn: () => api<Summary>('/v1/reports/summary'),
    enabled: !!me.data && !agent,
  });
  const query = new URLSearchParams({ ...(from ? { from } : {}), ...(to ? { to } : {}) }).toString();
  const overview = useQuery({
    queryKey: ['overview', from, to],
    queryFn: () => api<OverviewReport>(`/v1/reports/overview${query ? `?${query}` : ''}`),
    enabled: !!summary.data,
  });
  const rfm = useQuery({
    queryKey: ['rfm'],
    queryFn: () => api<RfmReport>('/v1/reports/rfm'),
    enabled: !!summary.data,
  });
  if (agent) return <Navigate to="/tasks" replace />;
  if (summary.error instanceof ApiError && summary.error.status === 404)
    return (
      <section aria-labelledby="overview-title">
        <h1 id="overview-title">{t('overview.title')}</h1>
        <EmptyStore message={t('overview.empty')}>
          <p>
            <Link to="/imports">{t('overview.emptyUpload')}</Link>
          </p>
        </EmptyStore>
      </section>
    );
  if (!summary.data) return <Status query={summary} />;
  const s = summary.data;
  const day = (d: string) =>
    new Date(`${d}T00:00:00Z`).toLocaleDateString(lang, { timeZone: 'UTC', dateStyle: 'medium' });
  const showAllTime = (key: AllTime, value: number | null) => {
    if (value === null) return '—';
    if (MONEY.has(key)) return fmt.money(lang, value, s.currency);
    if (RATES.has(key)) return fmt.pct(lang, value);
    if (key === 'ordersPerCustomer' || key === 'avgLifespanDays') return fmt.dec(lang, value, 1);
    return fmt.int(lang, value);
  };
  const showPeriod = (key: PeriodFigure, value: number | null) => {
    if (value === null) return '—';
    if (MONEY.has(key)) return fmt.money(lang, value, s.currency);
    if (RATES.has(key)) return fmt.pct(lang, value);
    if (key === 'ltvToCac') return fmt.dec(lang, value, 2);
    return fmt.int(lang, value);
  };
  const change = (key: PeriodFigure, f: Figure) => {
    if (f.change === null) return null;
    const sign = f.change > 0 ? '+' : f.change < 0 ? '−' : '±';
    const size =
      f.changeKind === 'points'
        ? t('overview.points', { n: fmt.dec(lang, Math.abs(f.change) * 100, 1) })
        : fmt.pct(lang, Math.abs(f.change));
    const good = f.change === 0 ? 'flat' : f.change > 0 !== LOWER_IS_BETTER.has(key) ? 'up' : 'down';
    return { text: `${sign}${size}`, good };
  };
  const setRange = (next: { from?: string; to?: string }) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) if (v) p.set(k, v);
    setParams(p);
  };
  const o = overview.data;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">{t('overview.title')}</h1>
      <form className="range" aria-label={t('overview.period')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('overview.from')}{' '}
          <input
            type="date"
            value={o?.period.from ?? from ?? ''}
            max={o?.period.to ?? s.asOf}
            onChange={(e) => setRange({ from: e.target.value })}
          />
        </label>
        <label>
          {t('overview.to')}{' '}
          <input
            type="date"
            value={o?.period.to ?? to ?? s.asOf}
            max={s.asOf}
            onChange={(e) => setRange({ to: e.target.value })}
          />
        </label>
        {PRESETS.map(([name, days]) => (
          <button
            type="button"
            key={name}
            className="secondary"
            onClick={() => setParams(new URLSearchParams({ from: shiftDay(s.asOf, 1 - days), to: s.asOf }))}
          >
            {t(`overview.${name}`)}
          </button>
        ))}
      </form>
      {o ? (
        <>
          <p className="muted">
            {t('overview.versus', {
              from: day(o.period.from),
              to: day(o.period.to),
              prevFrom: day(o.previous.from),
              prevTo: day(o.previous.to),
              currency: o.currency,
            })}
          </p>
          <dl className="cards">
            {PERIOD.map((key) => {
              const f = o.figures[key];
              const c = change(key, f);
              return (
                <div className="card" key={key} data-period-figure={key}>
                  <dt>
                    {t(`overview.${key}`)}
                    <span
                      className="info"
                      tabIndex={0}
                      role="note"
                      aria-label={`${t('overview.definition')}: ${t(`definitions.period.${key}`)}`}
                      title={t(`definitions.period.${key}`)}
                    >
                      i
                    </span>
                  </dt>
                  <dd>
                    <span className="value">{showPeriod(key, f.value)}</span>
                    {c ? (
                      <span
                        className={`change ${c.good}`}
                        data-change
                        title={t('overview.previousValue', { value: showPeriod(key, f.previous) })}
                      >
                        {c.text}
                      </span>
                    ) : null}
                    <Sparkline
                      values={f.series}
                      label={t(
                        key === 'sixMonthLtv' || key === 'ltvToCac'
                          ? 'overview.trendCohorts'
                          : 'overview.trend',
                      )}
                    />
                  </dd>
                </div>
              );
            })}
          </dl>
          {o.notes.length ? (
            <ul className="notes">
              {o.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
        </>
      ) : (
        <Status query={overview} />
      )}
      <h2>{t('overview.allTime', { day: day(s.asOf) })}</h2>
      <dl className="cards">
        {ALL_TIME.map((key) => (
          <div className="card" key={key} data-figure={key}>
            <dt>
              {t(`overview.${key}`)}
              <span
                className="info"
                tabIndex={0}
                role="note"
                aria-label={`${t('overview.definition')}: ${t(`definitions.${key}`)}`}
                title={t(`definitions.${key}`)}
              >
                i
              </span>
            </dt>
            <dd>{showAllTime(key, s[key])}</dd>
          </div>
        ))}
      </dl>
      <h2>{t('overview.rfmTitle')}</h2>
      {rfm.data ? (
        <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
          <RfmChart report={rfm.data} lang={lang} />
        </Suspense>
      ) : (
        <Status query={rfm} />
      )}
    </section>
  );
}
