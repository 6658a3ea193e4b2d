import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';
import { campaignFormat, errorsByPath } from './CampaignCommon';
import { usePlans } from './SubscriptionsCommon';

// ECharts is loaded only when the report's charts are on screen (their own chunk).
const MrrChart = lazy(() => import('./SubscriptionsCharts').then((m) => ({ default: m.MrrChart })));
const SurvivalChart = lazy(() => import('./SubscriptionsCharts').then((m) => ({ default: m.SurvivalChart })));

/**
 * The Subscriptions page's report tab (`/subscriptions/report`, issue 28, docs/subscriptions.md#reports):
 * `GET /v1/subscriptions/report` with the months, the plan and the months the forecast test is fitted
 * on from the address (`from`, `to`, `plan`, `train`). Headline figures; the MRR by month with its
 * movements (chart and table); survival by start cohort with the sBG fitted per cohort and pooled; the
 * sBG fitted on the first months against what happened after (chart and table, each cohort's own fit
 * too); cancel reasons with the latest notes; subscribers against one-off buyers of the same products
 * with the API's verdict; the report's notes. The verdict and the notes are the API's, in English
 * (marked `lang="en"`, and said so on the uk/ru pages), as the other report pages show theirs.
 */

// ---- the API's report (src/modules/subscriptions/reports.ts `SubscriptionReport`) ---------------

interface MonthRow {
  month: string;
  complete: boolean;
  startMrrMinor: number;
  newMinor: number;
  expansionMinor: number;
  contractionMinor: number;
  churnedMinor: number;
  reactivatedMinor: number;
  endMrrMinor: number;
  activeAtEnd: number;
  newCount: number;
  churnedCount: number;
  reactivatedCount: number;
}
interface Fit {
  alpha: number;
  beta: number;
  logLikelihood: number;
  subscribers: number;
  months: number;
}
interface FitWithForecast extends Fit {
  forecast: { month: number; survival: number; expectedAlive: number }[];
}
interface CohortRow {
  cohort: string;
  size: number;
  observedMonths: number;
  alive: number[];
  survival: number[];
  retention: (number | null)[];
  churn: (number | null)[];
  sbg: FitWithForecast | null;
}
type Part = 'train' | 'forecast';
interface ForecastMonth {
  month: number;
  part: Part;
  cohorts: number;
  subscribers: number;
  actualAlive: number;
  forecastAlive: number;
  actualSurvival: number;
  forecastSurvival: number;
  error: number;
}
interface Money {
  customers: number;
  tooRecent: number;
  meanMinor: number | null;
  medianMinor: number | null;
}
export interface SubscriptionReport {
  definition: 'subscriptions.report';
  generatedAt: string;
  asOf: string;
  from: string;
  to: string;
  timeZone: string;
  currency: string;
  minorDigits: number;
  plan: string | null;
  subscriptions: { inScope: number; otherCurrencies: { currency: string; subscriptions: number }[] };
  months: MonthRow[];
  cohorts: {
    rows: CohortRow[];
    pooled: {
      cohorts: number;
      subscribers: number;
      survival: number[];
      retention: (number | null)[];
      atRisk: number[];
      sbg: FitWithForecast | null;
    };
  };
  forecastVsActual: {
    train: number;
    cohorts: string[];
    subscribers: number;
    fit: Fit | null;
    months: ForecastMonth[];
    meanAbsoluteError: number | null;
    maxAbsoluteError: number | null;
    byCohort: {
      cohort: string;
      size: number;
      fit: Fit | null;
      months: { month: number; part: Part; actualSurvival: number; forecastSurvival: number }[];
      meanAbsoluteError: number | null;
    }[];
  };
  cancelReasons: {
    total: number;
    reasons: { reason: string; count: number; share: number; notes: { at: string; note: string }[] }[];
  };
  ltv: {
    months: number;
    products: string[];
    subscribers: Money;
    oneOff: Money;
    difference: {
      estimateMinor: number;
      lowMinor: number;
      highMinor: number;
      pValue: number;
      method: 'skewness-corrected' | 'normal';
    } | null;
    differenceUnavailable: string | null;
    verdict: string;
  };
  notes: string[];
}

// ---- the address --------------------------------------------------------------------------------

/** The report's settings as the address has them ('' = the API's default). */
interface Settings {
  from: string;
  to: string;
  plan: string;
  train: string;
}
const SETTINGS = ['from', 'to', 'plan', 'train'] as const;
/** What the cohort table's cells show (`cells` in the address). */
const CELLS = ['survival', 'retention', 'alive'] as const;
type Cells = (typeof CELLS)[number];

/** The report's query string: each setting the address has, as it has it (the API names a bad one). */
export function reportQuery(s: Settings): string {
  const q = new URLSearchParams();
  for (const k of SETTINGS) if (s[k]) q.set(k, s[k]);
  return q.toString();
}

// ---- formats ------------------------------------------------------------------------------------

/** The report's formatters: the store currency (minor units), shares, points, months, in the page's language. */
function useReportFormat(r: SubscriptionReport) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const f = campaignFormat(lang, r.currency, r.timeZone);
  const points = (x: number, sign: boolean) =>
    t('subscriptions.report.pp', {
      value: new Intl.NumberFormat(lang, {
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
        signDisplay: sign ? 'exceptZero' : 'auto',
      }).format(x * 100),
    });
  const month = (label: string) =>
    new Date(`${label}-01T00:00:00Z`).toLocaleDateString(lang, {
      month: 'short',
      year: 'numeric',
      timeZone: 'UTC',
    });
  return {
    ...f,
    lang,
    /** A 0..1 share with one decimal ("24.5%"), '—' without one. */
    pct: (x: number | null | undefined) => (x === null || x === undefined ? '—' : fmt.pct(lang, x)),
    /** A difference of shares in percentage points, signed ("−0.5 pp"). */
    pp: (x: number) => points(x, true),
    /** An absolute difference of shares in percentage points ("0.5 pp"). */
    ppAbs: (x: number) => points(Math.abs(x), false),
    dec: (x: number, digits: number) => fmt.dec(lang, x, digits),
    /** A p-value: two significant digits, "< 0.0001" below that. */
    pValue: (x: number) => {
      const p2 = new Intl.NumberFormat(lang, { maximumSignificantDigits: 2 });
      return x < 0.0001 ? `< ${p2.format(0.0001)}` : p2.format(x);
    },
    /** A month `YYYY-MM` as it reads ("Nov 2026"). */
    month,
    /** A month of the report: "(so far)" when it is the month in progress. */
    monthOf: (m: MonthRow) =>
      m.complete ? month(m.month) : t('subscriptions.report.soFar', { month: month(m.month) }),
    moneyOrDash: (minor: number | null) => (minor === null ? '—' : f.money(minor)),
  };
}
type ReportFormat = ReturnType<typeof useReportFormat>;

/** A cancel reason's code in the interface language (the code itself when the catalogue lacks it). */
function useReasonName() {
  const { t } = useTranslation();
  return (code: string) =>
    code === 'unknown'
      ? t('subscriptions.report.reasons.unknown')
      : t(`subscriptions.reason.${code}`, { defaultValue: code });
}

// ---- the tab ------------------------------------------------------------------------------------

/** The report tab: its settings in the address, the report below them. */
export function ReportView() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const settings: Settings = {
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    plan: params.get('plan') ?? '',
    train: params.get('train') ?? '',
  };
  const query = reportQuery(settings);
  const report = useQuery({
    queryKey: ['subscription-report', query],
    queryFn: () => api<SubscriptionReport>(`/v1/subscriptions/report${query ? `?${query}` : ''}`),
    retry: false,
  });
  // A bad setting is the API's 400 naming it: shown at its field.
  const refused = errorsByPath(report.error);
  const atField = SETTINGS.some((k) => refused.has(k));
  const apply = (next: Settings) =>
    setParams(
      (p) => {
        const out = new URLSearchParams(p);
        for (const k of SETTINGS) {
          const v = next[k].trim();
          if (v) out.set(k, v);
          else out.delete(k);
        }
        return out;
      },
      { replace: true },
    );
  return (
    <section aria-labelledby="report-title" data-testid="subscription-report">
      <h2 id="report-title">{t('subscriptions.report.title')}</h2>
      <p className="muted">{t('subscriptions.report.intro')}</p>
      <Controls key={query} settings={settings} errors={refused} onApply={apply} />
      {report.data ? <Report r={report.data} /> : atField ? null : <Status query={report} />}
    </section>
  );
}

/** The settings form: months, plan, months fitted; "Show report" puts them in the address. */
function Controls({
  settings,
  errors,
  onApply,
}: {
  settings: Settings;
  errors: Map<string, string>;
  onApply: (s: Settings) => void;
}) {
  const { t } = useTranslation();
  const plans = usePlans();
  const [v, setV] = useState(settings);
  const set = (k: keyof Settings, value: string) => setV((s) => ({ ...s, [k]: value }));
  const described = (k: keyof Settings, help: string | null) =>
    [help, errors.has(k) ? `report-${k}-error` : null].filter(Boolean).join(' ') || undefined;
  const error = (k: keyof Settings) =>
    errors.has(k) ? (
      <span id={`report-${k}-error`} className="field-error" data-error-for={k}>
        {errors.get(k)}
      </span>
    ) : null;
  const list = plans.data?.data ?? [];
  return (
    <form
      className="range"
      aria-label={t('subscriptions.report.controls')}
      onSubmit={(e) => {
        e.preventDefault();
        onApply(v);
      }}
    >
      <span>
        <label htmlFor="report-from">{t('subscriptions.report.from')}</label>{' '}
        <input
          id="report-from"
          type="month"
          value={v.from}
          aria-invalid={errors.has('from')}
          aria-describedby={described('from', 'report-months-help')}
          onChange={(e) => set('from', e.target.value)}
        />
        {error('from')}
      </span>
      <span>
        <label htmlFor="report-to">{t('subscriptions.report.to')}</label>{' '}
        <input
          id="report-to"
          type="month"
          value={v.to}
          aria-invalid={errors.has('to')}
          aria-describedby={described('to', 'report-months-help')}
          onChange={(e) => set('to', e.target.value)}
        />
        {error('to')}
      </span>
      <span>
        <label htmlFor="report-plan">{t('subscriptions.report.plan')}</label>{' '}
        <select
          id="report-plan"
          value={v.plan}
          aria-invalid={errors.has('plan')}
          aria-describedby={described('plan', null)}
          onChange={(e) => set('plan', e.target.value)}
        >
          <option value="">{t('subscriptions.report.allPlans')}</option>
          {list.map((p) => (
            <option key={p.name} value={p.name}>
              {p.definition.title ? `${p.definition.title} (${p.name})` : p.name}
            </option>
          ))}
          {v.plan && plans.data && !list.some((p) => p.name === v.plan) ? (
            <option value={v.plan}>{v.plan}</option>
          ) : null}
        </select>
        {error('plan')}
      </span>
      <span>
        <label htmlFor="report-train">{t('subscriptions.report.train')}</label>{' '}
        <input
          id="report-train"
          type="number"
          inputMode="numeric"
          className="short"
          style={{ width: '5em' }}
          min={3}
          max={120}
          step={1}
          placeholder="12"
          value={v.train}
          aria-invalid={errors.has('train')}
          aria-describedby={described('train', 'report-train-help')}
          onChange={(e) => set('train', e.target.value)}
        />
        {error('train')}
      </span>
      <button type="submit">{t('subscriptions.report.show')}</button>
      <button
        type="button"
        className="secondary"
        onClick={() => {
          const none = { from: '', to: '', plan: '', train: '' };
          setV(none);
          onApply(none);
        }}
      >
        {t('subscriptions.report.reset')}
      </button>
      <small id="report-months-help" className="muted" style={{ flexBasis: '100%' }}>
        {t('subscriptions.report.monthsHelp')}
      </small>
      <small id="report-train-help" className="muted" style={{ flexBasis: '100%' }}>
        {t('subscriptions.report.trainHelp')}
      </small>
    </form>
  );
}

/** A table in its scrolling, focusable region, labelled by its caption. */
function Table({
  id,
  testId,
  caption,
  hiddenCaption = false,
  className = 'data',
  children,
}: {
  id: string;
  testId: string;
  caption: ReactNode;
  hiddenCaption?: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div
      className="table-wrap"
      role="region"
      aria-labelledby={`${id}-caption`}
      tabIndex={0}
      style={{ position: 'relative' }}
    >
      <table className={className} data-testid={testId}>
        <caption id={`${id}-caption`} className={hiddenCaption ? 'sr-only' : undefined}>
          {caption}
        </caption>
        {children}
      </table>
    </div>
  );
}

/** The API's words, in English, said so on the other languages' pages. */
function InEnglish({ note }: { note: string }) {
  const { i18n } = useTranslation();
  return i18n.language === 'en' ? null : <p className="notes">{note}</p>;
}

function Report({ r }: { r: SubscriptionReport }) {
  const { t } = useTranslation();
  const x = useReportFormat(r);
  const scope = (
    <p className="muted" data-testid="report-scope">
      {t('subscriptions.report.scope', {
        from: x.month(r.from),
        to: x.month(r.to),
        zone: r.timeZone,
        currency: r.currency,
        plan: r.plan
          ? t('subscriptions.report.scopePlan', { plan: r.plan })
          : t('subscriptions.report.scopeAll'),
        n: x.int(r.subscriptions.inScope),
        asOf: x.when(r.asOf),
      })}
      {r.subscriptions.otherCurrencies.length ? (
        <>
          {' '}
          <span data-testid="other-currencies">
            {t('subscriptions.report.otherCurrencies', {
              list: r.subscriptions.otherCurrencies
                .map((o) =>
                  t('subscriptions.report.otherCurrency', {
                    n: x.int(o.subscriptions),
                    currency: o.currency,
                  }),
                )
                .join(', '),
            })}
          </span>
        </>
      ) : null}
    </p>
  );
  if (r.subscriptions.inScope === 0)
    return (
      <>
        {scope}
        <p data-testid="report-empty">
          {t('subscriptions.report.empty', {
            to: x.month(r.to),
            plan: r.plan ? t('subscriptions.report.emptyPlan', { plan: r.plan }) : '',
          })}
        </p>
        <Notes notes={r.notes} />
      </>
    );
  return (
    <>
      {scope}
      <Headline r={r} x={x} />
      <Mrr r={r} x={x} />
      <Cohorts r={r} x={x} />
      <ForecastVsActual r={r} x={x} />
      <CancelReasons r={r} x={x} />
      <Ltv r={r} x={x} />
      <Notes notes={r.notes} />
    </>
  );
}

/** A headline card: its label, main figure and the line under it. */
function Card({ id, label, main, sub }: { id: string; label: string; main: string; sub: string }) {
  return (
    <div className="card" data-figure={id}>
      <dt>{label}</dt>
      <dd>
        <span data-part="main">{main}</span>{' '}
        <small className="sub muted" data-part="sub">
          {sub}
        </small>
      </dd>
    </div>
  );
}

function Headline({ r, x }: { r: SubscriptionReport; x: ReportFormat }) {
  const { t } = useTranslation();
  const reason = useReasonName();
  const latest = r.months.at(-1)!;
  // The last complete month (the month in progress when there is none yet).
  const last = r.months.findLast((m) => m.complete) ?? latest;
  const p = r.cohorts.pooled;
  const k = Math.min(12, p.survival.length - 1);
  const f = r.forecastVsActual;
  const forecastMonths = f.months.filter((m) => m.part === 'forecast');
  const d = r.ltv.difference;
  const top = r.cancelReasons.reasons[0];
  const c = (key: string, o?: Record<string, unknown>) => t(`subscriptions.report.cards.${key}`, o);
  return (
    <section aria-labelledby="figures-title">
      <h3 id="figures-title" className="sr-only">
        {t('subscriptions.report.figures')}
      </h3>
      <dl className="cards" data-testid="report-figures">
        <Card
          id="mrr"
          label={c('mrr')}
          main={x.money(latest.endMrrMinor)}
          sub={c(latest.complete ? 'mrrEnd' : 'mrrNow', {
            month: x.month(latest.month),
            change: x.signed(latest.endMrrMinor - latest.startMrrMinor),
          })}
        />
        <Card
          id="active"
          label={c('active')}
          main={x.int(latest.activeAtEnd)}
          sub={latest.complete ? c('activeEnd', { month: x.month(latest.month) }) : c('activeNow')}
        />
        <Card
          id="churned"
          label={c('churned', { month: x.monthOf(last) })}
          main={x.money(last.churnedMinor)}
          sub={c('churnedSub', {
            n: x.int(last.churnedCount),
            rate: last.startMrrMinor > 0 ? x.pct(last.churnedMinor / last.startMrrMinor) : '—',
          })}
        />
        <Card
          id="net"
          label={c('net', { month: x.monthOf(last) })}
          main={x.signed(last.endMrrMinor - last.startMrrMinor)}
          sub={c('netSub', { n: x.int(last.newCount), r: x.int(last.reactivatedCount) })}
        />
        <Card
          id="survival"
          label={c('survival', { k: k >= 1 ? k : 12 })}
          main={k >= 1 ? x.pct(p.survival[k]) : '—'}
          sub={k >= 1 ? c('survivalSub', { n: x.int(p.subscribers) }) : c('noSurvival')}
        />
        <Card
          id="forecast"
          label={c('forecast')}
          main={f.meanAbsoluteError === null ? '—' : x.ppAbs(f.meanAbsoluteError)}
          sub={
            f.meanAbsoluteError === null || f.maxAbsoluteError === null || forecastMonths.length === 0
              ? c('noForecast', { train: f.train })
              : c('forecastSub', {
                  a: forecastMonths[0]!.month,
                  b: forecastMonths.at(-1)!.month,
                  max: x.ppAbs(f.maxAbsoluteError),
                })
          }
        />
        <Card
          id="ltv"
          label={c('ltv', { months: x.int(r.ltv.months) })}
          main={d ? x.signed(d.estimateMinor) : '—'}
          sub={d ? c('ltvSub', { low: x.signed(d.lowMinor), high: x.signed(d.highMinor) }) : c('noLtv')}
        />
        <Card
          id="cancels"
          label={c('cancels')}
          main={x.int(r.cancelReasons.total)}
          sub={
            top ? c('cancelsSub', { reason: reason(top.reason), share: x.share(top.share) }) : c('noCancels')
          }
        />
      </dl>
    </section>
  );
}

/** The MRR columns of the movements table: key, catalogue key, value. */
const MRR_COLUMNS: [string, (m: MonthRow) => number, 'money' | 'signed' | 'int'][] = [
  ['start', (m) => m.startMrrMinor, 'money'],
  ['new', (m) => m.newMinor, 'money'],
  ['expansion', (m) => m.expansionMinor, 'money'],
  ['reactivated', (m) => m.reactivatedMinor, 'money'],
  ['contraction', (m) => m.contractionMinor, 'money'],
  ['churned', (m) => m.churnedMinor, 'money'],
  ['end', (m) => m.endMrrMinor, 'money'],
  ['active', (m) => m.activeAtEnd, 'int'],
  ['newCount', (m) => m.newCount, 'int'],
  ['churnedCount', (m) => m.churnedCount, 'int'],
  ['reactivatedCount', (m) => m.reactivatedCount, 'int'],
];

function Mrr({ r, x }: { r: SubscriptionReport; x: ReportFormat }) {
  const { t } = useTranslation();
  const first = r.months[0]!;
  const last = r.months.at(-1)!;
  const sum = (get: (m: MonthRow) => number) => r.months.reduce((s, m) => s + get(m), 0);
  // The whole period: the first start, the sums of the movements and counts, the last end and active.
  const total: MonthRow = {
    month: '',
    complete: true,
    startMrrMinor: first.startMrrMinor,
    newMinor: sum((m) => m.newMinor),
    expansionMinor: sum((m) => m.expansionMinor),
    reactivatedMinor: sum((m) => m.reactivatedMinor),
    contractionMinor: sum((m) => m.contractionMinor),
    churnedMinor: sum((m) => m.churnedMinor),
    endMrrMinor: last.endMrrMinor,
    activeAtEnd: last.activeAtEnd,
    newCount: sum((m) => m.newCount),
    churnedCount: sum((m) => m.churnedCount),
    reactivatedCount: sum((m) => m.reactivatedCount),
  };
  const cell = (kind: 'money' | 'signed' | 'int', v: number) =>
    kind === 'int' ? x.int(v) : kind === 'signed' ? x.signed(v) : x.money(v);
  const col = (k: string) => t(`subscriptions.report.mrr.col.${k}`);
  return (
    <section aria-labelledby="mrr-title" data-testid="mrr-section">
      <h3 id="mrr-title">{t('subscriptions.report.mrr.title')}</h3>
      <p className="muted">{t('subscriptions.report.mrr.help')}</p>
      <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
        <MrrChart
          months={r.months.map((m) => ({
            month: x.monthOf(m),
            end: m.endMrrMinor,
            new: m.newMinor,
            expansion: m.expansionMinor,
            reactivated: m.reactivatedMinor,
            contraction: m.contractionMinor,
            churned: m.churnedMinor,
          }))}
          scale={10 ** x.digits}
          money={(minor) => x.money(minor)}
          names={{
            end: t('subscriptions.report.mrr.end'),
            new: col('new'),
            expansion: col('expansion'),
            reactivated: col('reactivated'),
            contraction: col('contraction'),
            churned: col('churned'),
          }}
          label={t('subscriptions.report.mrr.chart', {
            list: r.months
              .map((m) =>
                t('subscriptions.report.mrr.chartItem', {
                  month: x.monthOf(m),
                  end: x.money(m.endMrrMinor),
                  net: x.signed(m.endMrrMinor - m.startMrrMinor),
                }),
              )
              .join('; '),
          })}
        />
      </Suspense>
      <Table
        id="mrr-table"
        testId="mrr-table"
        className="data compact"
        hiddenCaption
        caption={t('subscriptions.report.mrr.caption', { currency: r.currency })}
      >
        <thead>
          <tr>
            <th scope="col">{col('month')}</th>
            {MRR_COLUMNS.map(([k]) => (
              <th scope="col" key={k}>
                {col(k)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {r.months.map((m) => (
            <tr key={m.month} data-month={m.month} data-complete={m.complete}>
              <th scope="row">{x.monthOf(m)}</th>
              {MRR_COLUMNS.map(([k, get, kind]) => (
                <td key={k} className="num" data-col={k}>
                  {cell(kind, get(m))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-month="total">
            <th scope="row">{t('subscriptions.report.mrr.total')}</th>
            {MRR_COLUMNS.map(([k, get, kind]) => (
              <td key={k} className="num" data-col={k}>
                <strong>{cell(kind, get(total))}</strong>
              </td>
            ))}
          </tr>
        </tfoot>
      </Table>
      <p className="notes">{t('subscriptions.report.mrr.identity')}</p>
    </section>
  );
}

/** Light blue for a low share, deeper blue for a high one; the dark text stays readable on all. */
const heat = (share: number) => `hsl(218 80% ${Math.round(97 - Math.max(0, Math.min(1, share)) * 29)}%)`;

function Cohorts({ r, x }: { r: SubscriptionReport; x: ReportFormat }) {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const cellsParam = params.get('cells') ?? '';
  const cells: Cells = (CELLS as readonly string[]).includes(cellsParam) ? (cellsParam as Cells) : 'survival';
  const rows = r.cohorts.rows;
  const p = r.cohorts.pooled;
  const width = Math.max(0, ...rows.map((c) => c.observedMonths), p.survival.length - 1);
  const ks = Array.from({ length: width }, (_, i) => i + 1);
  // The pooled subscriptions left: Σ alive[k] over the cohorts observed through k.
  const pooledAlive = ks.map((k) => rows.reduce((s, c) => s + (c.alive.length > k ? c.alive[k]! : 0), 0));
  const shown = (survival: number, retention: number | null, alive: number) =>
    cells === 'survival' ? x.pct(survival) : cells === 'retention' ? x.pct(retention) : x.int(alive);
  const fit = p.sbg;
  const lastForecast = fit?.forecast.at(-1);
  return (
    <section aria-labelledby="cohorts-title" data-testid="cohorts-section">
      <h3 id="cohorts-title">{t('subscriptions.report.cohorts.title')}</h3>
      <p className="muted">{t('subscriptions.report.cohorts.help')}</p>
      {rows.length === 0 ? (
        <p data-testid="no-cohorts">{t('subscriptions.report.cohorts.none')}</p>
      ) : (
        <>
          <form className="range" aria-labelledby="cohorts-title" onSubmit={(e) => e.preventDefault()}>
            <label htmlFor="report-cells">{t('subscriptions.report.cohorts.show')}</label>{' '}
            <select
              id="report-cells"
              value={cells}
              onChange={(e) =>
                setParams(
                  (q) => {
                    const next = new URLSearchParams(q);
                    if (e.target.value === 'survival') next.delete('cells');
                    else next.set('cells', e.target.value);
                    return next;
                  },
                  { replace: true },
                )
              }
            >
              {CELLS.map((c) => (
                <option key={c} value={c}>
                  {t(`subscriptions.report.cohorts.shows.${c}`)}
                </option>
              ))}
            </select>
          </form>
          <Table
            id="cohort-table"
            testId="cohort-table"
            className="data compact"
            caption={t('subscriptions.report.cohorts.caption', {
              what: t(`subscriptions.report.cohorts.shows.${cells}`),
            })}
          >
            <thead>
              <tr>
                <th scope="col">{t('subscriptions.report.cohorts.cohort')}</th>
                <th scope="col">{t('subscriptions.report.cohorts.size')}</th>
                <th scope="col">{t('subscriptions.report.cohorts.observed')}</th>
                {ks.map((k) => (
                  <th scope="col" key={k} data-k={k}>
                    <abbr title={t('subscriptions.report.cohorts.monthLong', { k })}>
                      {t('subscriptions.report.cohorts.month', { k })}
                    </abbr>
                  </th>
                ))}
                <th scope="col">{t('subscriptions.report.cohorts.alpha')}</th>
                <th scope="col">{t('subscriptions.report.cohorts.beta')}</th>
                <th scope="col">{t('subscriptions.report.cohorts.forecast')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => {
                const end = c.sbg?.forecast.at(-1);
                return (
                  <tr key={c.cohort} data-cohort={c.cohort}>
                    <th scope="row">{x.month(c.cohort)}</th>
                    <td className="num" data-col="size">
                      {x.int(c.size)}
                    </td>
                    <td className="num" data-col="observed">
                      {x.int(c.observedMonths)}
                    </td>
                    {ks.map((k) =>
                      k < c.alive.length ? (
                        <td
                          key={k}
                          className="num"
                          data-k={k}
                          style={{ background: heat(c.survival[k]!), color: '#1d2330' }}
                          title={`${x.int(c.alive[k]!)} / ${x.int(c.size)}`}
                        >
                          {shown(c.survival[k]!, c.retention[k] ?? null, c.alive[k]!)}
                        </td>
                      ) : (
                        <td key={k} data-k={k} />
                      ),
                    )}
                    <td className="num" data-col="alpha">
                      {c.sbg ? x.dec(c.sbg.alpha, 3) : '—'}
                    </td>
                    <td className="num" data-col="beta">
                      {c.sbg ? x.dec(c.sbg.beta, 3) : '—'}
                    </td>
                    <td className="num" data-col="forecast">
                      {end
                        ? t('subscriptions.report.cohorts.forecastAt', {
                            value: x.pct(end.survival),
                            k: end.month,
                          })
                        : '—'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
            <tfoot>
              <tr data-cohort="pooled">
                <th scope="row">{t('subscriptions.report.cohorts.pooled')}</th>
                <td className="num" data-col="size">
                  {x.int(p.subscribers)}
                </td>
                <td className="num" data-col="observed">
                  {x.int(p.survival.length - 1)}
                </td>
                {ks.map((k) =>
                  k < p.survival.length ? (
                    <td
                      key={k}
                      className="num"
                      data-k={k}
                      style={{ background: heat(p.survival[k]!), color: '#1d2330', fontWeight: 600 }}
                      title={`${x.int(pooledAlive[k - 1]!)} / ${x.int(p.atRisk[k]!)}`}
                    >
                      {shown(p.survival[k]!, p.retention[k] ?? null, pooledAlive[k - 1]!)}
                    </td>
                  ) : (
                    <td key={k} data-k={k} />
                  ),
                )}
                <td className="num" data-col="alpha">
                  {fit ? x.dec(fit.alpha, 3) : '—'}
                </td>
                <td className="num" data-col="beta">
                  {fit ? x.dec(fit.beta, 3) : '—'}
                </td>
                <td className="num" data-col="forecast">
                  {lastForecast
                    ? t('subscriptions.report.cohorts.forecastAt', {
                        value: x.pct(lastForecast.survival),
                        k: lastForecast.month,
                      })
                    : '—'}
                </td>
              </tr>
            </tfoot>
          </Table>
          <h4 id="pooled-title">{t('subscriptions.report.cohorts.pooledTitle')}</h4>
          {fit ? (
            <dl className="facts" data-testid="pooled-fit">
              <div data-fact="alpha-beta">
                <dt>{t('subscriptions.report.cohorts.alphaBeta')}</dt>
                <dd>
                  α = <span data-part="alpha">{x.dec(fit.alpha, 3)}</span>, β ={' '}
                  <span data-part="beta">{x.dec(fit.beta, 3)}</span>
                </dd>
              </div>
              <div data-fact="fitted">
                <dt>{t('subscriptions.report.cohorts.fitted')}</dt>
                <dd>
                  {t('subscriptions.report.cohorts.fittedValue', {
                    n: x.int(fit.subscribers),
                    cohorts: x.int(p.cohorts),
                    months: x.int(fit.months),
                  })}
                </dd>
              </div>
              <div data-fact="mean-churn">
                <dt>{t('subscriptions.report.cohorts.meanChurn')}</dt>
                <dd>{x.pct(fit.alpha / (fit.alpha + fit.beta))}</dd>
              </div>
              {lastForecast ? (
                <div data-fact="forecast">
                  <dt>{t('subscriptions.report.cohorts.forecastLast', { k: lastForecast.month })}</dt>
                  <dd>{x.pct(lastForecast.survival)}</dd>
                </div>
              ) : null}
            </dl>
          ) : (
            <p data-testid="pooled-fit">{t('subscriptions.report.cohorts.noFit')}</p>
          )}
          <p className="notes">{t('subscriptions.report.cohorts.sbgHelp')}</p>
        </>
      )}
    </section>
  );
}

function ForecastVsActual({ r, x }: { r: SubscriptionReport; x: ReportFormat }) {
  const { t } = useTranslation();
  const f = r.forecastVsActual;
  const k = (key: string, o?: Record<string, unknown>) => t(`subscriptions.report.forecast.${key}`, o);
  const month = (n: number) => t('subscriptions.report.cohorts.month', { k: n });
  return (
    <section aria-labelledby="forecast-title" data-testid="forecast-section">
      <h3 id="forecast-title">{k('title')}</h3>
      {!f.fit ? (
        <p data-testid="no-forecast">{k('none', { train: f.train })}</p>
      ) : (
        <>
          <p className="muted">
            {k('help', {
              train: f.train,
              cohorts: x.int(f.cohorts.length),
              subscribers: x.int(f.subscribers),
            })}
          </p>
          <p data-testid="forecast-fit">
            {k('fit', { train: f.train, alpha: x.dec(f.fit.alpha, 3), beta: x.dec(f.fit.beta, 3) })}
            {f.meanAbsoluteError !== null && f.maxAbsoluteError !== null
              ? ` ${k('errors', { mean: x.ppAbs(f.meanAbsoluteError), max: x.ppAbs(f.maxAbsoluteError) })}`
              : ''}
          </p>
          <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
            <SurvivalChart
              points={f.months.map((m) => ({
                month: m.month,
                actual: m.actualSurvival,
                forecast: m.forecastSurvival,
              }))}
              train={f.train}
              pct={(v) => x.pct(v)}
              names={{ actual: k('actual'), forecast: k('predicted'), fitted: k('fittedArea'), month }}
              label={k('chart', {
                train: f.train,
                list: f.months
                  .map((m) =>
                    k('chartItem', {
                      k: m.month,
                      actual: x.pct(m.actualSurvival),
                      forecast: x.pct(m.forecastSurvival),
                    }),
                  )
                  .join('; '),
              })}
            />
          </Suspense>
          <Table
            id="forecast-table"
            testId="forecast-table"
            className="data compact"
            caption={k('caption', { train: f.train })}
          >
            <thead>
              <tr>
                {[
                  'month',
                  'part',
                  'cohorts',
                  'subscribers',
                  'actualAlive',
                  'forecastAlive',
                  'actual',
                  'forecast',
                  'error',
                ].map((c) => (
                  <th scope="col" key={c}>
                    {k(`col.${c}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {f.months.map((m) => (
                <tr
                  key={m.month}
                  data-month-since={m.month}
                  data-part={m.part}
                  style={m.part === 'train' ? { background: '#f3f4f6' } : undefined}
                >
                  <th scope="row">{month(m.month)}</th>
                  <td data-col="part">{k(`parts.${m.part}`)}</td>
                  <td className="num" data-col="cohorts">
                    {x.int(m.cohorts)}
                  </td>
                  <td className="num" data-col="subscribers">
                    {x.int(m.subscribers)}
                  </td>
                  <td className="num" data-col="actualAlive">
                    {x.int(m.actualAlive)}
                  </td>
                  <td className="num" data-col="forecastAlive">
                    {x.dec(m.forecastAlive, 1)}
                  </td>
                  <td className="num" data-col="actual">
                    {x.pct(m.actualSurvival)}
                  </td>
                  <td className="num" data-col="forecast">
                    {x.pct(m.forecastSurvival)}
                  </td>
                  <td className="num" data-col="error">
                    {x.pp(m.error)}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
          <h4>{k('byCohort')}</h4>
          <Table
            id="forecast-cohorts"
            testId="forecast-cohorts"
            className="data compact"
            hiddenCaption
            caption={k('byCohortCaption', { train: f.train })}
          >
            <thead>
              <tr>
                <th scope="col">{k('cohort')}</th>
                <th scope="col">{k('size')}</th>
                <th scope="col">α</th>
                <th scope="col">β</th>
                <th scope="col">{k('mae')}</th>
              </tr>
            </thead>
            <tbody>
              {f.byCohort.map((c) => (
                <tr key={c.cohort} data-cohort={c.cohort}>
                  <th scope="row">{x.month(c.cohort)}</th>
                  <td className="num">{x.int(c.size)}</td>
                  <td className="num" data-col="alpha">
                    {c.fit ? x.dec(c.fit.alpha, 3) : '—'}
                  </td>
                  <td className="num" data-col="beta">
                    {c.fit ? x.dec(c.fit.beta, 3) : '—'}
                  </td>
                  <td className="num" data-col="mae">
                    {c.meanAbsoluteError === null ? k('noOwnFit') : x.ppAbs(c.meanAbsoluteError)}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      )}
    </section>
  );
}

function CancelReasons({ r, x }: { r: SubscriptionReport; x: ReportFormat }) {
  const { t } = useTranslation();
  const reason = useReasonName();
  const c = r.cancelReasons;
  const k = (key: string) => t(`subscriptions.report.reasons.${key}`);
  return (
    <section aria-labelledby="reasons-title" data-testid="reasons-section">
      <h3 id="reasons-title">{k('title')}</h3>
      <p className="muted">{k('help')}</p>
      {c.total === 0 ? (
        <p data-testid="no-reasons">{k('none')}</p>
      ) : (
        <Table id="reasons-table" testId="reasons-table" hiddenCaption caption={k('caption')}>
          <thead>
            <tr>
              <th scope="col">{k('reason')}</th>
              <th scope="col">{k('count')}</th>
              <th scope="col">{k('share')}</th>
              <th scope="col">{k('notes')}</th>
            </tr>
          </thead>
          <tbody>
            {c.reasons.map((row) => (
              <tr key={row.reason} data-reason={row.reason}>
                <th scope="row">{reason(row.reason)}</th>
                <td className="num" data-col="count">
                  {x.int(row.count)}
                </td>
                <td className="num" data-col="share">
                  {x.share(row.share)}
                </td>
                <td data-col="notes">
                  {row.notes.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    row.notes.map((n, i) => (
                      <span key={i} data-part="note" title={x.when(n.at)}>
                        {i > 0 ? '; ' : ''}“{n.note}”
                      </span>
                    ))
                  )}
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-reason="total">
              <th scope="row">{k('total')}</th>
              <td className="num" data-col="count">
                <strong>{x.int(c.total)}</strong>
              </td>
              <td className="num" data-col="share">
                <strong>{x.share(1)}</strong>
              </td>
              <td />
            </tr>
          </tfoot>
        </Table>
      )}
    </section>
  );
}

function Ltv({ r, x }: { r: SubscriptionReport; x: ReportFormat }) {
  const { t } = useTranslation();
  const l = r.ltv;
  const d = l.difference;
  const k = (key: string, o?: Record<string, unknown>) => t(`subscriptions.report.ltv.${key}`, o);
  const groups: ['subscribers' | 'oneOff', Money][] = [
    ['subscribers', l.subscribers],
    ['oneOff', l.oneOff],
  ];
  return (
    <section aria-labelledby="ltv-title" data-testid="ltv-section">
      <h3 id="ltv-title">{k('title', { months: x.int(l.months) })}</h3>
      <p className="muted">
        {k('help', {
          months: x.int(l.months),
          products: l.products.length ? l.products.join(', ') : k('noProducts'),
        })}
      </p>
      <Table
        id="ltv-table"
        testId="ltv-table"
        hiddenCaption
        caption={k('caption', { months: x.int(l.months) })}
      >
        <thead>
          <tr>
            <th scope="col">{k('group')}</th>
            <th scope="col">{k('customers')}</th>
            <th scope="col">{k('tooRecent')}</th>
            <th scope="col">{k('mean')}</th>
            <th scope="col">{k('median')}</th>
          </tr>
        </thead>
        <tbody>
          {groups.map(([key, g]) => (
            <tr key={key} data-group={key}>
              <th scope="row">{k(key)}</th>
              <td className="num" data-col="customers">
                {x.int(g.customers)}
              </td>
              <td className="num" data-col="tooRecent">
                {x.int(g.tooRecent)}
              </td>
              <td className="num" data-col="mean">
                {x.moneyOrDash(g.meanMinor)}
              </td>
              <td className="num" data-col="median">
                {x.moneyOrDash(g.medianMinor)}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <dl className="facts" data-testid="ltv-difference">
        <div data-fact="difference">
          <dt>{k('difference')}</dt>
          <dd data-part="difference">
            {d ? (
              k('differenceValue', {
                estimate: x.signed(d.estimateMinor),
                low: x.signed(d.lowMinor),
                high: x.signed(d.highMinor),
              })
            ) : (
              <span lang="en">{l.differenceUnavailable ?? '—'}</span>
            )}
          </dd>
        </div>
        {d ? (
          <>
            <div data-fact="p">
              <dt>{k('p')}</dt>
              <dd>{x.pValue(d.pValue)}</dd>
            </div>
            <div data-fact="method">
              <dt>{k('method')}</dt>
              <dd>{k(`methods.${d.method}`)}</dd>
            </div>
          </>
        ) : null}
      </dl>
      <div className="callout" role="note" data-testid="ltv-verdict">
        <p>
          <strong>{k('verdict')}</strong>{' '}
          <span lang="en" data-part="verdict">
            {l.verdict}
          </span>
        </p>
        <InEnglish note={k('inEnglish')} />
      </div>
    </section>
  );
}

/** The report's definitions, as the API words them. */
function Notes({ notes }: { notes: string[] }) {
  const { t } = useTranslation();
  if (notes.length === 0) return null;
  return (
    <section aria-labelledby="report-notes-title" className="notes">
      <h3 id="report-notes-title">{t('subscriptions.report.notes.title')}</h3>
      <InEnglish note={t('subscriptions.report.notes.inEnglish')} />
      <ul lang="en" data-testid="report-notes">
        {notes.map((n, i) => (
          <li key={i}>{n}</li>
        ))}
      </ul>
    </section>
  );
}
