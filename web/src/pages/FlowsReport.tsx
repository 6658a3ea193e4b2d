import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, type CampaignFormat } from './CampaignCommon';
import { flowPath, type FlowReport, type MeanComparison } from './FlowsCommon';

// ECharts is loaded only when the interval chart is on screen (the campaigns' chart, its own chunk).
const IntervalChart = lazy(() => import('./CampaignChart'));

const RUN_STATUSES = ['active', 'holdout', 'goal', 'completed', 'exited'];

/**
 * A flow's report (`GET /v1/flows/{name}/report?days=N`, src/modules/flows/report.ts): entries (treated
 * and holdout), runs by status, messages by step and status, conversions (the goal reached) of both, and
 * the incremental net revenue per entrant over the holdout in the `days` after entering with its
 * interval, standard error, p-value, relative uplift, each arm's mean and the verdict (the API's, in
 * English), drawn as an interval around zero; the report's notes.
 */
export function FlowReportView({ name, timeZone }: { name: string; timeZone: string }) {
  const { t, i18n } = useTranslation();
  const [days, setDays] = useState('30');
  const [asked, setAsked] = useState('30');
  const report = useQuery({
    queryKey: ['flow-report', name, asked],
    queryFn: () => api<FlowReport>(`${flowPath(name)}/report?days=${encodeURIComponent(asked)}`),
  });
  const r = report.data;
  const f = campaignFormat(i18n.language, r?.currency ?? null, timeZone);
  const error = report.error?.message;
  return (
    <section aria-labelledby="flow-report-title" data-testid="flow-report">
      <h2 id="flow-report-title">{t('flows.report.title')}</h2>
      <form
        className="field-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (asked === days) void report.refetch();
          else setAsked(days);
        }}
      >
        <div className="cfield">
          <label htmlFor="report-days">{t('flows.report.days')}</label>
          <input
            id="report-days"
            className="short"
            type="number"
            min={1}
            max={365}
            step={1}
            value={days}
            aria-invalid={!!error}
            aria-describedby={error ? 'report-days-error' : undefined}
            onChange={(e) => setDays(e.target.value)}
          />
          {error ? (
            <span id="report-days-error" className="field-error" role="alert" data-error-for="days">
              {error}
            </span>
          ) : null}
        </div>
        <p className="save">
          <button type="submit" className="secondary" disabled={report.isFetching}>
            {t('flows.report.refresh')}
          </button>
        </p>
      </form>
      {!r ? report.isPending ? <Status query={report} /> : null : <ReportBody r={r} f={f} />}
    </section>
  );
}

function ReportBody({ r, f }: { r: FlowReport; f: CampaignFormat }) {
  const { t } = useTranslation();
  const messages = r.messages.reduce((s, m) => s + m.n, 0);
  const entrants = { treated: r.entered.treated, holdout: r.entered.holdout };
  const runStatuses = [
    ...RUN_STATUSES.filter((s) => s in r.runs),
    ...Object.keys(r.runs).filter((s) => !RUN_STATUSES.includes(s)),
  ];
  const runLabel = (s: string) => (RUN_STATUSES.includes(s) ? t(`flows.report.runStatus.${s}`) : s);
  const stepLabel = (step: string) => {
    // A survey step's message is the survey's invitation, its step `invite` (src/modules/flows/runner.ts).
    if (step === 'invite') return t('flows.report.invite');
    const m = /^v(\d+):(.+)$/.exec(step);
    return m ? t('flows.report.stepText', { version: f.int(Number(m[1])), step: m[2] }) : step;
  };
  const messageStatus = (s: string) => {
    const key = `messages.status.${s}`;
    const word = t(key);
    return word === key ? s : word;
  };
  return (
    <div data-testid="report-body">
      <dl className="cards" data-testid="report-cards">
        <div className="card" data-figure="entered">
          <dt>{t('flows.report.entered')}</dt>
          <dd>
            <span data-part="main">{f.int(r.entered.treated + r.entered.holdout)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('flows.report.enteredSub', {
                treated: f.int(r.entered.treated),
                holdout: f.int(r.entered.holdout),
              })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="in-progress">
          <dt>{t('flows.report.inProgress')}</dt>
          <dd>
            <span data-part="main">{f.int(r.runs.active ?? 0)}</span>
          </dd>
        </div>
        <div className="card" data-figure="goal">
          <dt>{t('flows.report.goal')}</dt>
          <dd>
            <span data-part="main">{f.int(r.runs.goal ?? 0)}</span>
          </dd>
        </div>
        <div className="card" data-figure="messages">
          <dt>{t('flows.report.messages')}</dt>
          <dd>
            <span data-part="main">{f.int(messages)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('flows.report.messagesSub')}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="conversions">
          <dt>{t('flows.report.conversions')}</dt>
          <dd>
            <span data-part="main">{f.int(r.conversions.treated + r.conversions.holdout)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('flows.report.conversionsSub', {
                treated: f.pct(r.conversions.treatedRate),
                holdout: f.pct(r.conversions.holdoutRate),
              })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="revenue">
          <dt>{t('flows.report.revenueSoFar')}</dt>
          <dd>
            <span data-part="main">
              {f.money(r.revenue.totalMinor.treated + r.revenue.totalMinor.holdout)}
            </span>{' '}
            <small className="sub" data-part="sub">
              {t('flows.report.revenueSoFarSub', {
                treated: f.money(r.revenue.totalMinor.treated),
                holdout: f.money(r.revenue.totalMinor.holdout),
              })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="codes">
          <dt>{t('flows.report.codes')}</dt>
          <dd>
            <span data-part="main">{f.int(r.codes.issued)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('flows.report.codesSub', {
                orders: f.int(r.codes.orders),
                revenue: f.money(r.codes.revenueMinor),
              })}
            </small>
          </dd>
        </div>
      </dl>

      <div className="columns">
        <div className="table-wrap" role="region" aria-labelledby="runs-caption" tabIndex={0}>
          <table className="data" data-testid="report-runs">
            <caption id="runs-caption">{t('flows.report.runs')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('flows.col.status')}</th>
                <th scope="col">{t('flows.report.count')}</th>
              </tr>
            </thead>
            <tbody>
              {runStatuses.map((s) => (
                <tr key={s} data-run-status={s}>
                  <th scope="row">{runLabel(s)}</th>
                  <td className="num">{f.int(r.runs[s] ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="table-wrap" role="region" aria-labelledby="conversions-caption" tabIndex={0}>
          <table className="data" data-testid="report-conversions">
            <caption id="conversions-caption">{t('flows.report.conversionsTable')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('flows.report.arm')}</th>
                <th scope="col">{t('flows.report.entrants')}</th>
                <th scope="col">{t('flows.report.converted')}</th>
                <th scope="col">{t('flows.report.rate')}</th>
              </tr>
            </thead>
            <tbody>
              {(['treated', 'holdout'] as const).map((arm) => (
                <tr key={arm} data-arm={arm}>
                  <th scope="row">{t(`flows.report.${arm}`)}</th>
                  <td className="num">{f.int(entrants[arm])}</td>
                  <td className="num">{f.int(r.conversions[arm])}</td>
                  <td className="num">
                    {f.pct(arm === 'treated' ? r.conversions.treatedRate : r.conversions.holdoutRate)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      {r.messages.length === 0 ? (
        <p data-testid="report-no-messages">{t('flows.report.noMessages')}</p>
      ) : (
        <div className="table-wrap" role="region" aria-labelledby="messages-caption" tabIndex={0}>
          <table className="data" data-testid="report-messages">
            <caption id="messages-caption">{t('flows.report.messagesTable')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('flows.report.step')}</th>
                <th scope="col">{t('flows.report.messageStatus')}</th>
                <th scope="col">{t('flows.report.messageCount')}</th>
              </tr>
            </thead>
            <tbody>
              {r.messages.map((m) => (
                <tr key={`${m.step}/${m.status}`} data-step={m.step} data-status={m.status}>
                  <th scope="row">{stepLabel(m.step)}</th>
                  <td>{messageStatus(m.status)}</td>
                  <td className="num">{f.int(m.n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Revenue r={r} f={f} />

      {r.notes.length ? (
        <>
          <h3>{t('flows.report.notes')}</h3>
          <ul lang="en" data-testid="report-notes">
            {r.notes.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/** The incremental net revenue per entrant over the holdout, with everything the comparison holds. */
function Revenue({ r, f }: { r: FlowReport; f: CampaignFormat }) {
  const { t, i18n } = useTranslation();
  const v = r.revenue;
  const inc = v.incremental;
  const money = (x: number | null) => (x === null ? '—' : f.money(x));
  return (
    <section aria-labelledby="flow-revenue-title" data-testid="report-revenue">
      <h3 id="flow-revenue-title">{t('flows.report.revenue')}</h3>
      <p data-testid="revenue-intro">
        {t('flows.report.revenueIntro', {
          days: f.int(r.days),
          treated: f.int(v.runs.treated),
          holdout: f.int(v.runs.holdout),
        })}
      </p>
      <dl className="facts" data-testid="per-entrant">
        <div data-part="treated">
          <dt>
            {t('flows.report.perEntrant')} — {t('flows.report.treated')}
          </dt>
          <dd>{money(v.perEntrantMinor.treated)}</dd>
        </div>
        <div data-part="holdout">
          <dt>
            {t('flows.report.perEntrant')} — {t('flows.report.holdout')}
          </dt>
          <dd>{money(v.perEntrantMinor.holdout)}</dd>
        </div>
      </dl>
      {inc ? (
        <Comparison inc={inc} verdict={v.verdict} f={f} lang={i18n.language} />
      ) : (
        <p data-testid="no-comparison">{t('flows.report.noComparison')}</p>
      )}
    </section>
  );
}

function Comparison({
  inc,
  verdict,
  f,
  lang,
}: {
  inc: MeanComparison;
  verdict: string | null;
  f: CampaignFormat;
  lang: string;
}) {
  const { t } = useTranslation();
  const d = inc.difference;
  const confidence = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format((1 - d.alpha) * 100);
  const relPct = (x: number) =>
    new Intl.NumberFormat(lang, {
      style: 'percent',
      maximumFractionDigits: 1,
      signDisplay: 'exceptZero',
    }).format(x);
  const arm = (a: MeanComparison['control']) =>
    t('flows.report.armMean', { mean: f.money(a.mean), se: f.money(a.standardError), n: f.int(a.n) });
  return (
    <>
      <div className="effects">
        <section className="card effect" aria-labelledby="flow-effect-title" data-testid="flow-effect">
          <h4 id="flow-effect-title">{t('flows.report.incremental')}</h4>
          <p className="effect-main" data-part="estimate">
            {f.signed(d.estimate)}
          </p>
          <p data-part="interval">
            {t('flows.report.ci', { confidence, low: f.signed(d.low), high: f.signed(d.high) })}
          </p>
          <dl className="facts">
            <div data-part="se">
              <dt>{t('flows.report.se')}</dt>
              <dd>{f.money(d.standardError)}</dd>
            </div>
            <div data-part="p">
              <dt>{t('flows.report.p')}</dt>
              <dd>{f.p(d.pValue)}</dd>
            </div>
            {d.intervalMethod ? (
              <div data-part="method">
                <dt>{t('flows.report.method')}</dt>
                <dd>{t(`flows.report.methods.${d.intervalMethod}`)}</dd>
              </div>
            ) : null}
            <div data-part="relative">
              <dt>{t('flows.report.relative')}</dt>
              <dd>
                {inc.relative ? (
                  t('flows.report.relativeValue', {
                    estimate: relPct(inc.relative.estimate),
                    low: relPct(inc.relative.low),
                    high: relPct(inc.relative.high),
                  })
                ) : (
                  <span lang="en">{inc.relativeUnavailable ?? '—'}</span>
                )}
              </dd>
            </div>
            <div data-part="treated">
              <dt>{t('flows.report.treated')}</dt>
              <dd>{arm(inc.variant)}</dd>
            </div>
            <div data-part="holdout">
              <dt>{t('flows.report.holdout')}</dt>
              <dd>{arm(inc.control)}</dd>
            </div>
          </dl>
          {verdict ? (
            <p className="verdict" lang="en" data-part="verdict">
              {verdict}
            </p>
          ) : null}
        </section>
      </div>
      <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
        <IntervalChart
          rows={[{ label: t('flows.report.chartLabel'), estimate: d.estimate, low: d.low, high: d.high }]}
          scale={10 ** f.digits}
          money={(x) => f.money(x)}
          zero={t('flows.report.chartZero')}
          label={t('flows.report.chart', {
            estimate: f.signed(d.estimate),
            confidence,
            low: f.signed(d.low),
            high: f.signed(d.high),
          })}
        />
      </Suspense>
      <p className="notes">{t('flows.report.chartHow')}</p>
    </>
  );
}
