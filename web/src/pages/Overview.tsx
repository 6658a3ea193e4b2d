import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';

/** `GET /v1/reports/summary` (docs/metrics.md#summary). */
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

export interface RfmReport {
  segments: { segment: string; customers: number; revenueShare: number | null }[];
}

// ECharts is loaded only when a chart is on screen (its own chunk).
const RfmChart = lazy(() => import('../components/RfmChart'));

type Figure = keyof Omit<Summary, 'asOf' | 'currency'>;

export function OverviewPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const summary = useQuery({ queryKey: ['summary'], queryFn: () => api<Summary>('/v1/reports/summary') });
  const rfm = useQuery({
    queryKey: ['rfm'],
    queryFn: () => api<RfmReport>('/v1/reports/rfm'),
    enabled: !!summary.data,
  });
  if (summary.error instanceof ApiError && summary.error.status === 404)
    return (
      <section aria-labelledby="overview-title">
        <h1 id="overview-title">{t('overview.title')}</h1>
        <p>{t('overview.empty')}</p>
        <pre>
          <code>retain import orders orders.csv</code>
        </pre>
      </section>
    );
  if (!summary.data) return <Status query={summary} />;
  const s = summary.data;
  const show = (key: Figure, value: number | null) => {
    if (value === null) return '—';
    switch (key) {
      case 'netRevenue':
      case 'aov':
        return fmt.money(lang, value, s.currency);
      case 'repeatCustomerRate':
        return fmt.pct(lang, value);
      case 'ordersPerCustomer':
      case 'avgLifespanDays':
        return fmt.dec(lang, value, 1);
      default:
        return fmt.int(lang, value);
    }
  };
  const figures: Figure[] = [
    'customers',
    'orders',
    'netRevenue',
    'aov',
    'repeatCustomerRate',
    'ordersPerCustomer',
    'avgLifespanDays',
  ];
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">{t('overview.title')}</h1>
      <p className="muted">
        {t('overview.asOf', {
          day: new Date(`${s.asOf}T00:00:00Z`).toLocaleDateString(lang, {
            timeZone: 'UTC',
            dateStyle: 'long',
          }),
          currency: s.currency,
        })}
      </p>
      <dl className="cards">
        {figures.map((key) => (
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
                ⓘ
              </span>
            </dt>
            <dd>{show(key, s[key])}</dd>
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
