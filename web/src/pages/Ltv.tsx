import { EmptyStore } from '../components/EmptyStore';
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';
import { cohortLabel } from './Cohorts';

/** One LTV formula of `GET /v1/reports/ltv` (docs/metrics.md#ltv). */
export interface LtvFormula {
  definition: string;
  value: number | null;
  inputs: Record<string, number | string | null>;
  ltvMinusCac: number | null;
  ltvToCac: number | null;
  assessment: { assumptionsHold: boolean; reasons: string[] };
}
export interface LtvGroup {
  group: string;
  customers: number;
  marginBasis: 'margin' | 'revenue';
  cac: { spend: number | null; newCustomers: number; cac: number | null; note: string | null };
  formulas: LtvFormula[];
  diagnostics: {
    recentlyActiveShare: number | null;
    activityDensity: number | null;
    monthlyRetentionMin: number | null;
    monthlyRetentionMax: number | null;
    reactivatedShare: number | null;
  };
  recommended: { definition: string; reason: string };
}
export interface LtvReport {
  asOf: string;
  currency: string;
  window: { firstMonth: string; lastMonth: string; months: number };
  overall: LtvGroup;
  byChannel: LtvGroup[];
  /** Per category of the first order's largest line; no CAC (spend is per channel). */
  byFirstCategory: LtvGroup[];
}
/** `GET /v1/reports/diagnose` (docs/metrics.md#diagnose). */
export interface DiagnoseReport {
  currency: string;
  filters: { base: string; current: string };
  base: { label: string; customers: number; revenuePerCustomer: number | null };
  current: { label: string; customers: number; revenuePerCustomer: number | null };
  change: { rounded: number | null; relative: number | null };
  parts: { effect: string; rounded: number }[];
}

const WaterfallChart = lazy(() => import('../components/WaterfallChart'));
const LtvChart = lazy(() => import('../components/LtvChart'));

/** The inputs shown as money, as a share, or with two decimals; other numbers are counts. */
const MONEY_INPUTS = new Set([
  'averageNetOrderValue',
  'monthlySalesPerCustomer',
  'monthlyMarginPerCustomer',
  'netRevenue',
  'margin',
]);
const SHARE_INPUTS = new Set(['monthlyChurnRate']);
const DECIMAL_INPUTS = new Set([
  'ordersPerCustomerPerYear',
  'expectedLifespanYears',
  'averageLifetimeMonths',
]);
const SIMPLE = ['ltv.margin_churn', 'ltv.monthly_sales_lifetime', 'ltv.aov_frequency_lifespan'];
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
/** The report's group of customers without a value (no channel, no first category). */
const UNKNOWN = '(unknown)';

/** `ltv.margin_churn` → its catalogue key. */
const key = (definition: string) => definition.replace(/^ltv\./, '');

/**
 * Lifetime value: the seed formulas side by side with their inputs and a sentence (from the report's
 * assessments) on which to trust; CAC; observed against predicted per channel and per the first
 * order's category (the report's `byFirstCategory`); and why revenue per customer moved between two
 * months, as a waterfall. The group shown (`group`: a channel, or `category`: a first category) and
 * the two months are search parameters.
 */
export function LtvPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [params, setParams] = useSearchParams();
  const set = (patch: Record<string, string>) => {
    // From the address bar, not this render: two quick changes must not undo each other.
    const next = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(patch)) {
      if (v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };
  const ltv = useQuery({ queryKey: ['ltv'], queryFn: () => api<LtvReport>('/v1/reports/ltv') });
  const base = MONTH.test(params.get('base') ?? '') ? params.get('base')! : '';
  const current = MONTH.test(params.get('current') ?? '') ? params.get('current')! : '';
  const diagnose = useQuery({
    queryKey: ['diagnose', base, current],
    queryFn: () => {
      const q = new URLSearchParams();
      if (base) q.set('base', base);
      if (current) q.set('current', current);
      return api<DiagnoseReport>(`/v1/reports/diagnose${q.size ? `?${q}` : ''}`);
    },
  });

  const title = <h1 id="ltv-title">{t('ltv.title')}</h1>;
  if (ltv.error instanceof ApiError && ltv.error.status === 404)
    return (
      <section aria-labelledby="ltv-title">
        {title}
        <EmptyStore message={t('ltv.empty')} />
      </section>
    );
  if (!ltv.data)
    return (
      <section aria-labelledby="ltv-title">
        {title}
        <Status query={ltv} />
      </section>
    );

  const r = ltv.data;
  const money = (n: number | null) => (n === null ? '—' : fmt.money(lang, n, r.currency));
  const month = (label: string) => cohortLabel(label, lang, t);
  const name = (definition: string) => t(`ltv.formulas.${key(definition)}`, { defaultValue: definition });
  const chosenCategory = params.has('category')
    ? r.byFirstCategory.find((g) => g.group === params.get('category'))
    : undefined;
  const chosenChannel = chosenCategory ? undefined : r.byChannel.find((g) => g.group === params.get('group'));
  const g = chosenCategory ?? chosenChannel ?? r.overall;
  const formulaOf = (grp: LtvGroup, def: string) => grp.formulas.find((f) => f.definition === def);
  const recommended = formulaOf(g, g.recommended.definition);
  const input = (k: string, v: number | string | null) => {
    if (v === null) return '—';
    if (typeof v === 'string') return k === 'marginBasis' ? t(`ltv.basis.${v}`, { defaultValue: v }) : v;
    if (MONEY_INPUTS.has(k)) return money(v);
    if (SHARE_INPUTS.has(k)) return fmt.pct(lang, v);
    if (DECIMAL_INPUTS.has(k)) return fmt.dec(lang, v, 2);
    return fmt.int(lang, v);
  };
  // A first category has no CAC (spend is per channel): said apart from "no spend data".
  const noSpend = g.cac.spend === null;
  const hasPredicted = r.overall.formulas.some((f) => f.definition === 'ltv.predicted');

  // The sentence on which figure to trust: from the report's recommendation and assessments.
  const holding = SIMPLE.map((d) => formulaOf(g, d)).filter((f) => f?.assessment.assumptionsHold);
  const d = g.diagnostics;
  const trust = (() => {
    const value = money(recommended?.value ?? null);
    if (g.recommended.definition === 'ltv.predicted')
      return (
        <p data-testid="trust">
          {t('ltv.trust.predicted', { value })}{' '}
          {holding.length
            ? t('ltv.trust.predictedAlso', { formulas: holding.map((f) => name(f!.definition)).join(', ') })
            : t('ltv.trust.predictedAlone')}
        </p>
      );
    if (g.recommended.definition === 'ltv.observed_revenue')
      return (
        <div data-testid="trust">
          <p>{t('ltv.trust.observed', { value })}</p>
          <pre>
            <code>retain clv predict</code>
          </pre>
        </div>
      );
    return (
      <p data-testid="trust">{t('ltv.trust.simple', { formula: name(g.recommended.definition), value })}</p>
    );
  })();

  const groupsRows = [r.overall, ...r.byChannel];
  const chartRow = (grp: LtvGroup) => ({
    name: grp === r.overall ? t('ltv.all') : grp.group,
    observed: formulaOf(grp, 'ltv.observed_revenue')?.value ?? null,
    predicted: formulaOf(grp, 'ltv.predicted')?.value ?? null,
  });
  const chartRows = groupsRows.map(chartRow);
  const categoryRows = r.byFirstCategory.map(chartRow);
  // Every first order's largest line without a category: nothing to split by yet.
  const noCategories = r.byFirstCategory.every((c) => c.group === UNKNOWN);

  return (
    <section aria-labelledby="ltv-title">
      {title}
      <p className="muted">
        {t('ltv.asOf', {
          day: new Date(`${r.asOf}T00:00:00Z`).toLocaleDateString(lang, {
            timeZone: 'UTC',
            dateStyle: 'long',
          }),
          currency: r.currency,
          from: month(r.window.firstMonth),
          to: month(r.window.lastMonth),
        })}
      </p>
      <fieldset className="builder">
        <legend className="sr-only">{t('ltv.customersOf')}</legend>
        <label>
          {t('ltv.customersOf')}{' '}
          <select
            value={
              chosenCategory
                ? `category:${chosenCategory.group}`
                : chosenChannel
                  ? `channel:${chosenChannel.group}`
                  : ''
            }
            onChange={(e) => {
              const [kind, ...rest] = e.target.value.split(':');
              const value = rest.join(':');
              set({ group: kind === 'channel' ? value : '', category: kind === 'category' ? value : '' });
            }}
          >
            <option value="">{t('ltv.all')}</option>
            <optgroup label={t('ltv.byChannel')}>
              {r.byChannel.map((c) => (
                <option key={c.group} value={`channel:${c.group}`}>
                  {c.group}
                </option>
              ))}
            </optgroup>
            {noCategories ? null : (
              <optgroup label={t('ltv.byFirstCategory')}>
                {r.byFirstCategory.map((c) => (
                  <option key={c.group} value={`category:${c.group}`}>
                    {c.group}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
      </fieldset>

      <h2>{t('ltv.trustTitle')}</h2>
      <div className="card">
        {trust}
        <p>{t('ltv.trust.checked')}</p>
        <ul data-testid="checks">
          {d.recentlyActiveShare !== null ? (
            <li>{t('ltv.trust.recent', { share: fmt.pct(lang, d.recentlyActiveShare) })}</li>
          ) : null}
          {d.activityDensity !== null ? (
            <li>{t('ltv.trust.density', { share: fmt.pct(lang, d.activityDensity) })}</li>
          ) : null}
          {d.monthlyRetentionMin !== null && d.monthlyRetentionMax !== null ? (
            <li>
              {t('ltv.trust.retention', {
                min: fmt.pct(lang, d.monthlyRetentionMin),
                max: fmt.pct(lang, d.monthlyRetentionMax),
              })}
            </li>
          ) : null}
          {d.reactivatedShare !== null ? (
            <li>{t('ltv.trust.reactivated', { share: fmt.pct(lang, d.reactivatedShare) })}</li>
          ) : null}
        </ul>
      </div>

      <h2 id="formulas-title">{t('ltv.formulasTitle')}</h2>
      <table className="data wide" data-testid="formulas" aria-labelledby="formulas-title">
        <thead>
          <tr>
            <th scope="col">{t('ltv.formula')}</th>
            <th scope="col">{t('ltv.value')}</th>
            <th scope="col">{t('ltv.inputs')}</th>
            {noSpend ? null : (
              <>
                <th scope="col">{t('ltv.ltvMinusCac')}</th>
                <th scope="col">{t('ltv.ltvToCac')}</th>
              </>
            )}
            <th scope="col">{t('ltv.holds')}</th>
          </tr>
        </thead>
        <tbody>
          {g.formulas.map((f) => (
            <tr key={f.definition} data-formula={f.definition}>
              <th scope="row" style={{ textAlign: 'left' }}>
                {name(f.definition)}
                {f.definition === g.recommended.definition ? (
                  <strong style={{ color: '#166534' }}> ({t('ltv.recommended')})</strong>
                ) : null}
                <div className="muted" style={{ fontWeight: 400, fontSize: '0.85rem' }}>
                  {t(`ltv.formulaHelp.${key(f.definition)}`, { defaultValue: '' })}
                </div>
              </th>
              <td data-col="value">{money(f.value)}</td>
              <td>
                <dl style={{ margin: 0, display: 'grid', gridTemplateColumns: 'auto auto', gap: '0 0.6rem' }}>
                  {Object.entries(f.inputs).map(([k, v]) => (
                    <div key={k} data-input={k} style={{ display: 'contents' }}>
                      <dt className="muted">{t(`ltv.input.${k}`, { defaultValue: k })}</dt>
                      <dd style={{ margin: 0 }}>{input(k, v)}</dd>
                    </div>
                  ))}
                </dl>
              </td>
              {noSpend ? null : (
                <>
                  <td data-col="ltvMinusCac">{money(f.ltvMinusCac)}</td>
                  <td data-col="ltvToCac">{f.ltvToCac === null ? '—' : fmt.dec(lang, f.ltvToCac, 2)}</td>
                </>
              )}
              <td data-col="holds">
                <strong>{f.assessment.assumptionsHold ? t('ltv.holdsYes') : t('ltv.holdsNo')}</strong>
                {lang === 'en' ? null : (
                  <div className="muted" style={{ fontSize: '0.85rem' }}>
                    {t('ltv.reasonsLang')}
                  </div>
                )}
                <ul lang="en" style={{ margin: '0.2rem 0 0', paddingLeft: '1.1rem', fontSize: '0.85rem' }}>
                  {f.assessment.reasons.map((x) => (
                    <li key={x}>{x}</li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>{t('ltv.cacTitle')}</h2>
      {chosenCategory && r.overall.cac.spend !== null ? (
        <p data-testid="spend-note">{t('ltv.noCategoryCac')}</p>
      ) : noSpend ? (
        <div data-testid="spend-note">
          <p>{t('ltv.noSpend')}</p>
          <pre>
            <code>retain import spend spend.csv</code>
          </pre>
        </div>
      ) : (
        <dl className="cards" data-testid="cac">
          <div className="card" data-figure="spend">
            <dt>{t('ltv.spend')}</dt>
            <dd>{money(g.cac.spend)}</dd>
          </div>
          <div className="card" data-figure="newCustomers">
            <dt>{t('ltv.newCustomers')}</dt>
            <dd>{fmt.int(lang, g.cac.newCustomers)}</dd>
          </div>
          <div className="card" data-figure="cac">
            <dt>{t('ltv.cac')}</dt>
            <dd>{money(g.cac.cac)}</dd>
          </div>
        </dl>
      )}

      <h2 id="groups-title">{t('ltv.groupsTitle')}</h2>
      {hasPredicted ? null : (
        <div data-testid="predicted-note">
          <p>{t('ltv.noPredicted')}</p>
          <pre>
            <code>retain clv predict</code>
          </pre>
        </div>
      )}
      <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
        <LtvChart
          rows={chartRows}
          currency={r.currency}
          lang={lang}
          label={t('ltv.groupsChart')}
          observed={t('ltv.observed')}
          predicted={t('ltv.predicted')}
        />
      </Suspense>
      <table className="data wide" data-testid="groups" aria-labelledby="groups-title">
        <thead>
          <tr>
            <th scope="col">{t('ltv.group')}</th>
            <th scope="col">{t('ltv.customersOf')}</th>
            <th scope="col">{t('ltv.observed')}</th>
            <th scope="col">{t('ltv.predicted')}</th>
            <th scope="col">{t('ltv.trusted')}</th>
            <th scope="col">{t('ltv.cac')}</th>
            <th scope="col">{t('ltv.ltvToCac')}</th>
          </tr>
        </thead>
        <tbody>
          {groupsRows.map((grp, i) => {
            const rec = formulaOf(grp, grp.recommended.definition);
            return (
              <tr key={i === 0 ? '' : grp.group} data-group={i === 0 ? '' : grp.group}>
                <th scope="row" style={{ textAlign: 'left' }}>
                  {chartRows[i]!.name}
                </th>
                <td data-col="customers">{fmt.int(lang, grp.customers)}</td>
                <td data-col="observed">{money(chartRows[i]!.observed)}</td>
                <td data-col="predicted">{money(chartRows[i]!.predicted)}</td>
                <td data-col="trusted">
                  {name(grp.recommended.definition)}: {money(rec?.value ?? null)}
                </td>
                <td data-col="cac">{money(grp.cac.cac)}</td>
                <td data-col="ltvToCac">{rec?.ltvToCac == null ? '—' : fmt.dec(lang, rec.ltvToCac, 2)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <h2 id="category-title">{t('ltv.categoryTitle')}</h2>
      <p className="muted">{t('ltv.categoryHelp')}</p>
      {noCategories ? (
        <div data-testid="category-note">
          <p>{t('ltv.noCategories')}</p>
          <pre>
            <code>retain import products products.csv</code>
          </pre>
        </div>
      ) : (
        <>
          <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
            <LtvChart
              rows={categoryRows}
              currency={r.currency}
              lang={lang}
              label={t('ltv.categoryChart')}
              observed={t('ltv.observed')}
              predicted={t('ltv.predicted')}
              testId="ltv-category-chart"
            />
          </Suspense>
          <table className="data wide" data-testid="categories" aria-labelledby="category-title">
            <thead>
              <tr>
                <th scope="col">{t('ltv.category')}</th>
                <th scope="col">{t('ltv.customersOf')}</th>
                <th scope="col">{t('ltv.observed')}</th>
                <th scope="col">{t('ltv.predicted')}</th>
                <th scope="col">{t('ltv.trusted')}</th>
              </tr>
            </thead>
            <tbody>
              {r.byFirstCategory.map((grp, i) => {
                const rec = formulaOf(grp, grp.recommended.definition);
                return (
                  <tr key={grp.group} data-category={grp.group}>
                    <th scope="row" style={{ textAlign: 'left' }}>
                      {grp.group}
                    </th>
                    <td data-col="customers">{fmt.int(lang, grp.customers)}</td>
                    <td data-col="observed">{money(categoryRows[i]!.observed)}</td>
                    <td data-col="predicted">{money(categoryRows[i]!.predicted)}</td>
                    <td data-col="trusted">
                      {name(grp.recommended.definition)}: {money(rec?.value ?? null)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}

      <h2 id="diagnose-title">{t('ltv.diagnoseTitle')}</h2>
      <p className="muted">{t('ltv.diagnoseHelp')}</p>
      <fieldset className="builder" style={{ display: 'flex', gap: '1rem', flexWrap: 'wrap' }}>
        <legend className="sr-only">{t('ltv.diagnoseTitle')}</legend>
        <label>
          {t('ltv.base')}{' '}
          <input
            type="month"
            value={base || diagnose.data?.filters.base || ''}
            max={r.asOf.slice(0, 7)}
            onChange={(e) => MONTH.test(e.target.value) && set({ base: e.target.value })}
          />
        </label>
        <label>
          {t('ltv.current')}{' '}
          <input
            type="month"
            value={current || diagnose.data?.filters.current || ''}
            max={r.asOf.slice(0, 7)}
            onChange={(e) => MONTH.test(e.target.value) && set({ current: e.target.value })}
          />
        </label>
      </fieldset>
      {diagnose.data ? <Waterfall report={diagnose.data} /> : <Status query={diagnose} />}
    </section>
  );
}

/** The diagnosis as a waterfall (chart and table): base revenue per customer, each effect, current. */
function Waterfall({ report }: { report: DiagnoseReport }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const money = (n: number | null) => (n === null ? '—' : fmt.money(lang, n, report.currency));
  const signed = (n: number) =>
    new Intl.NumberFormat(lang, {
      style: 'currency',
      currency: report.currency,
      signDisplay: 'exceptZero',
    }).format(n);
  // `2011-10` or `2011-08..2011-10`.
  const month = (label: string) =>
    label
      .split('..')
      .map((m) => cohortLabel(m, lang, t))
      .join(' – ');
  const customers = (n: number) => t('ltv.customersIn', { count: n, n: fmt.int(lang, n) });
  const steps = [
    {
      id: 'base',
      name: t('ltv.baseRpc', { label: month(report.base.label) }),
      value: report.base.revenuePerCustomer ?? 0,
      total: true,
    },
    ...report.parts.map((p) => ({
      id: p.effect,
      name: t(`ltv.effect.${p.effect}`, { defaultValue: p.effect }),
      value: p.rounded,
      total: false,
    })),
    {
      id: 'current',
      name: t('ltv.currentRpc', { label: month(report.current.label) }),
      value: report.current.revenuePerCustomer ?? 0,
      total: true,
    },
  ];
  return (
    <>
      <p data-testid="change">
        {t('ltv.change', {
          amount: report.change.rounded === null ? '—' : signed(report.change.rounded),
          relative:
            report.change.relative === null
              ? '—'
              : new Intl.NumberFormat(lang, {
                  style: 'percent',
                  minimumFractionDigits: 1,
                  maximumFractionDigits: 1,
                  signDisplay: 'exceptZero',
                }).format(report.change.relative),
        })}
      </p>
      <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
        <WaterfallChart
          steps={steps}
          currency={report.currency}
          lang={lang}
          label={t('ltv.waterfallChart')}
          names={{ increase: t('ltv.increase'), decrease: t('ltv.decrease'), total: t('ltv.total') }}
        />
      </Suspense>
      <table className="data wide" data-testid="waterfall" aria-label={t('ltv.waterfallChart')}>
        <thead>
          <tr>
            <th scope="col">{t('ltv.step')}</th>
            <th scope="col">{t('ltv.amount')}</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.id} data-step={s.id}>
              <th scope="row" style={{ textAlign: 'left', fontWeight: s.total ? 700 : 400 }}>
                {s.name}
                {s.total ? (
                  <span className="muted">
                    {' '}
                    ({customers(s.id === 'base' ? report.base.customers : report.current.customers)})
                  </span>
                ) : null}
              </th>
              <td style={{ fontWeight: s.total ? 700 : 400 }} data-col="amount">
                {s.total ? money(s.value) : signed(s.value)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
