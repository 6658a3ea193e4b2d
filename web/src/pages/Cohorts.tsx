import { EmptyStore } from '../components/EmptyStore';
import { useQuery } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';

/** One cohort (or cohort × group when split) of `GET /v1/reports/cohorts` (docs/metrics.md#cohorts). */
export interface Cohort {
  cohort: string;
  segment: string | null;
  size: number;
  activeCustomers: number[];
  retention: number[];
  cumulativeRevenuePerCustomer: number[];
  cumulativeMarginPerCustomer: number[];
  lastPeriodPartial: boolean;
  sixMonthLtv: number | null;
  spend: number | null;
  cac: number | null;
  paybackPeriods: number | null;
}
export interface CohortsReport {
  asOf: string;
  currency: string;
  period: 'month' | 'quarter';
  by: string | null;
  marginBasis: 'margin' | 'revenue';
  costCoverage: number;
  cohorts: Cohort[];
}

export const SPLITS = ['channel', 'first-category', 'country', 'first-product'] as const;
const SPLIT_KEY: Record<(typeof SPLITS)[number], string> = {
  channel: 'channel',
  'first-category': 'firstCategory',
  country: 'country',
  'first-product': 'firstProduct',
};

// ECharts is loaded only when the curves are on screen (its own chunk).
const CohortCurves = lazy(() => import('../components/CohortCurves'));

/** A cohort label (`2011-03`, `2011-Q1`) in the interface language. */
export function cohortLabel(label: string, lang: string, t: TFunction): string {
  const q = /^(\d{4})-Q([1-4])$/.exec(label);
  if (q) return t('cohorts.quarterLabel', { q: q[2], year: q[1] });
  return new Date(`${label}-01T00:00:00Z`).toLocaleDateString(lang, {
    timeZone: 'UTC',
    month: 'short',
    year: 'numeric',
  });
}

/**
 * Light blue for a low share, a deeper blue for the highest of the table (`top`, the largest retention
 * after the first period: k = 0 is always 100 %); dark text stays readable on all.
 */
function heat(share: number, top: number): string {
  const v = Math.max(0, Math.min(1, top > 0 ? share / top : 0));
  return `hsl(218 80% ${Math.round(97 - v * 29)}%)`;
}

function Scroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    // `position: relative` keeps the cells' screen-reader texts (absolutely placed) inside the scroller.
    <div
      role="region"
      aria-label={label}
      tabIndex={0}
      style={{ overflowX: 'auto', maxWidth: '100%', position: 'relative' }}
    >
      {children}
    </div>
  );
}

/**
 * Acquisition cohorts: retention as a heatmap, cumulative value per customer as curves with the CAC
 * payback marker, and each cohort's 6-month LTV, spend and CAC. Period, split, group and curve are
 * search parameters, so a reload or a shared link keeps them.
 */
export function CohortsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [params, setParams] = useSearchParams();
  const period = params.get('period') === 'quarter' ? 'quarter' : 'month';
  const byParam = params.get('by');
  const by = (SPLITS as readonly string[]).includes(byParam ?? '') ? byParam! : '';
  const curve = params.get('curve') === 'margin' ? 'margin' : 'revenue';
  const set = (patch: Record<string, string>) => {
    // From the address bar, not this render: two quick changes must not undo each other.
    const next = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(patch)) {
      if (v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };
  const query = useQuery({
    queryKey: ['cohorts', period, by],
    queryFn: () =>
      api<CohortsReport>(`/v1/reports/cohorts?period=${period}${by ? `&by=${encodeURIComponent(by)}` : ''}`),
  });
  const title = <h1 id="cohorts-title">{t('cohorts.title')}</h1>;
  if (query.error instanceof ApiError && query.error.status === 404)
    return (
      <section aria-labelledby="cohorts-title">
        {title}
        <EmptyStore message={t('cohorts.empty')} />
      </section>
    );

  const controls = (
    <fieldset className="builder" style={{ display: 'flex', gap: '1rem', flexWrap: 'wrap' }}>
      <legend className="sr-only">{t('cohorts.controls')}</legend>
      <label>
        {t('cohorts.period')}{' '}
        <select
          value={period}
          onChange={(e) => set({ period: e.target.value === 'month' ? '' : e.target.value })}
        >
          <option value="month">{t('cohorts.month')}</option>
          <option value="quarter">{t('cohorts.quarter')}</option>
        </select>
      </label>
      <label>
        {t('cohorts.by')}{' '}
        <select value={by} onChange={(e) => set({ by: e.target.value, group: '' })}>
          <option value="">{t('cohorts.none')}</option>
          {SPLITS.map((s) => (
            <option key={s} value={s}>
              {t(`cohorts.${SPLIT_KEY[s]}`)}
            </option>
          ))}
        </select>
      </label>
      {query.data && by !== '' ? (
        <label>
          {t('cohorts.segment')}{' '}
          <select
            value={groupOf(query.data, params.get('group'))}
            onChange={(e) => set({ group: e.target.value })}
          >
            {groups(query.data).map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        {t('cohorts.value')}{' '}
        <select
          value={curve}
          onChange={(e) => set({ curve: e.target.value === 'revenue' ? '' : e.target.value })}
        >
          <option value="revenue">{t('cohorts.revenue')}</option>
          <option value="margin">{t('cohorts.margin')}</option>
        </select>
      </label>
    </fieldset>
  );
  if (!query.data)
    return (
      <section aria-labelledby="cohorts-title">
        {title}
        {controls}
        <Status query={query} />
      </section>
    );

  const r = query.data;
  const group = by === '' ? null : groupOf(r, params.get('group'));
  const rows = r.cohorts.filter((c) => by === '' || c.segment === group);
  const width = Math.max(0, ...rows.map((c) => c.retention.length));
  const ks = Array.from({ length: width }, (_, k) => k);
  const top = Math.max(0, ...rows.flatMap((c) => c.retention.slice(1)));
  const kHead = (k: number) => t(period === 'month' ? 'cohorts.kMonth' : 'cohorts.kQuarter', { k });
  const label = (c: Cohort) => cohortLabel(c.cohort, lang, t);
  const money = (n: number | null) => (n === null ? '—' : fmt.money(lang, n, r.currency));
  const values = (c: Cohort) =>
    curve === 'margin' ? c.cumulativeMarginPerCustomer : c.cumulativeRevenuePerCustomer;
  const cacShown = rows.some((c) => c.cac !== null);
  const spendPerChannel = by !== '' && by !== 'channel';
  const partialMark = (c: Cohort, k: number) =>
    c.lastPeriodPartial && k === c.retention.length - 1 ? (
      <>
        <span aria-hidden="true">*</span>
        <span className="sr-only"> ({t('cohorts.partial')})</span>
      </>
    ) : null;
  const head = (
    <tr>
      <th scope="col">{t('cohorts.cohort')}</th>
      <th scope="col">{t('cohorts.size')}</th>
      {ks.map((k) => (
        <th scope="col" key={k}>
          {kHead(k)}
        </th>
      ))}
    </tr>
  );

  return (
    <section aria-labelledby="cohorts-title">
      {title}
      <p className="muted">
        {t('cohorts.asOf', {
          day: new Date(`${r.asOf}T00:00:00Z`).toLocaleDateString(lang, {
            timeZone: 'UTC',
            dateStyle: 'long',
          }),
          currency: r.currency,
        })}{' '}
        {t('cohorts.cohorts', { count: rows.length })}
      </p>
      {controls}
      {r.marginBasis === 'revenue' ? (
        <p className="muted">{t('cohorts.revenueBasis', { share: fmt.pct(lang, 1 - r.costCoverage) })}</p>
      ) : null}
      {spendPerChannel ? (
        <p data-testid="spend-note">{t('cohorts.spendPerChannel')}</p>
      ) : !cacShown ? (
        <div data-testid="spend-note">
          <p>{t('cohorts.noSpend')}</p>
          <pre>
            <code>retain import spend spend.csv</code>
          </pre>
        </div>
      ) : null}

      <h2 id="heatmap-title">{t('cohorts.heatmapTitle')}</h2>
      <p className="muted">{t('cohorts.heatmapHelp')}</p>
      <Scroll label={t('cohorts.heatmapTitle')}>
        <table className="data compact" data-testid="heatmap" aria-labelledby="heatmap-title">
          <thead>{head}</thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.cohort} ${c.segment ?? ''}`} data-cohort={c.cohort}>
                <th scope="row">{label(c)}</th>
                <td data-size>{fmt.int(lang, c.size)}</td>
                {ks.map((k) =>
                  k < c.retention.length ? (
                    <td
                      key={k}
                      data-k={k}
                      style={{
                        background: k === 0 ? '#e5e7eb' : heat(c.retention[k]!, top),
                        color: '#1d2330',
                      }}
                      title={`${fmt.int(lang, c.activeCustomers[k]!)} / ${fmt.int(lang, c.size)}`}
                    >
                      <span className="v">{fmt.pct(lang, c.retention[k]!)}</span>
                      {partialMark(c, k)}
                    </td>
                  ) : (
                    <td key={k} />
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {rows.some((c) => c.lastPeriodPartial) ? <p className="muted">{t('cohorts.partialNote')}</p> : null}

      <h2 id="curves-title">{t('cohorts.curvesTitle')}</h2>
      <p className="muted">{t('cohorts.curvesHelp')}</p>
      <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
        <CohortCurves
          series={rows.map((c) => ({
            name: label(c),
            values: values(c),
            payback: c.paybackPeriods,
          }))}
          ks={ks.map(kHead)}
          currency={r.currency}
          lang={lang}
          label={t('cohorts.curvesChart')}
          paidBack={t('cohorts.paidBack')}
        />
      </Suspense>
      <Scroll label={t('cohorts.curvesTitle')}>
        <table className="data compact" data-testid="curves" aria-labelledby="curves-title">
          <thead>{head}</thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.cohort} ${c.segment ?? ''}`} data-cohort={c.cohort}>
                <th scope="row">{label(c)}</th>
                <td>{fmt.int(lang, c.size)}</td>
                {ks.map((k) =>
                  k < values(c).length ? (
                    <td
                      key={k}
                      data-k={k}
                      style={c.paybackPeriods === k ? { fontWeight: 700, background: '#fef3c7' } : undefined}
                      {...(c.paybackPeriods === k ? { 'data-payback': '' } : {})}
                    >
                      <span className="v">{money(values(c)[k]!)}</span>
                      {c.paybackPeriods === k ? (
                        <>
                          {' '}
                          <span aria-hidden="true">◆</span>
                          <span className="sr-only">{t('cohorts.paidBack')}</span>
                        </>
                      ) : null}
                      {partialMark(c, k)}
                    </td>
                  ) : (
                    <td key={k} />
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>

      <h2 id="summary-title">{t('cohorts.summaryTitle')}</h2>
      <table className="data compact" data-testid="summary" aria-labelledby="summary-title">
        <thead>
          <tr>
            <th scope="col">{t('cohorts.cohort')}</th>
            <th scope="col">{t('cohorts.size')}</th>
            <th scope="col" title={t('cohorts.definitions.sixMonthLtv')}>
              {t('cohorts.sixMonthLtv')}
            </th>
            {cacShown ? (
              <>
                <th scope="col">{t('cohorts.spend')}</th>
                <th scope="col" title={t('cohorts.definitions.cac')}>
                  {t('cohorts.cac')}
                </th>
                <th scope="col" title={t('cohorts.definitions.payback')}>
                  {t('cohorts.payback')}
                </th>
              </>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={`${c.cohort} ${c.segment ?? ''}`} data-cohort={c.cohort}>
              <th scope="row">{label(c)}</th>
              <td data-col="size">{fmt.int(lang, c.size)}</td>
              <td data-col="sixMonthLtv">{money(c.sixMonthLtv)}</td>
              {cacShown ? (
                <>
                  <td data-col="spend">{money(c.spend)}</td>
                  <td data-col="cac">{money(c.cac)}</td>
                  <td data-col="payback">
                    {c.paybackPeriods === null
                      ? c.cac === null
                        ? '—'
                        : t('cohorts.notYet')
                      : t(period === 'month' ? 'cohorts.paybackMonths' : 'cohorts.paybackQuarters', {
                          count: c.paybackPeriods,
                        })}
                  </td>
                </>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The groups of a split report, the largest (most customers over all cohorts) first. */
function groups(r: CohortsReport): string[] {
  const size = new Map<string, number>();
  for (const c of r.cohorts) size.set(c.segment ?? '', (size.get(c.segment ?? '') ?? 0) + c.size);
  return [...size.keys()].sort((a, b) => size.get(b)! - size.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** The chosen group, or the first when none (or an unknown one) is chosen. */
function groupOf(r: CohortsReport, chosen: string | null): string {
  const all = groups(r);
  return chosen !== null && all.includes(chosen) ? chosen : (all[0] ?? '');
}
