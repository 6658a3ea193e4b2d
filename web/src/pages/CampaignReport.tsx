import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { Status } from '../components/Status';
import {
  campaignFormat,
  campaignPath,
  type ArmReport,
  type CampaignFormat,
  type Effect,
  type Report,
} from './CampaignCommon';

// ECharts is loaded only when the interval chart is on screen (its own chunk).
const CampaignChart = lazy(() => import('./CampaignChart'));

const DAY_MS = 86_400_000;

/** The rows of the per-arm table: a key, its label's catalogue key, and the cell of an arm. */
type Row = [string, string, (a: ArmReport, f: CampaignFormat) => string];

const SENDING: Row[] = [
  ['share', 'share', (a, f) => f.share(a.share)],
  ['recipients', 'recipients', (a, f) => f.int(a.recipients)],
  ['sent', 'sent', (a, f) => f.int(a.engagement.sent)],
  ['delivered', 'delivered', (a, f) => f.int(a.engagement.delivered)],
  ['bounced', 'bounced', (a, f) => f.int(a.engagement.bounced)],
  ['open-rate', 'openRate', (a, f) => f.rate(a.engagement.opened, a.engagement.delivered)],
  ['click-rate', 'clickRate', (a, f) => f.rate(a.engagement.clicked, a.engagement.delivered)],
  [
    'unsubscribe-rate',
    'unsubscribeRate',
    (a, f) => f.rate(a.engagement.unsubscribed, a.engagement.delivered),
  ],
];
const OUTCOME: Row[] = [
  ['orders', 'orders', (a, f) => f.int(a.orders)],
  ['buyers', 'buyers', (a, f) => f.int(a.buyers)],
  ['revenue', 'revenue', (a, f) => f.money(a.revenueMinor)],
  [
    'revenue-per-recipient',
    'revenuePerRecipient',
    (a, f) => (a.revenuePerRecipientMinor === null ? '—' : f.money(a.revenuePerRecipientMinor)),
  ],
];
const ATTRIBUTED: Row[] = [
  ['code-orders', 'codeOrders', (a, f) => f.int(a.attributed.byCode.orders)],
  ['code-revenue', 'codeRevenue', (a, f) => f.money(a.attributed.byCode.revenueMinor)],
  ['click-orders', 'clickOrders', (a, f) => f.int(a.attributed.byClick.orders)],
  ['click-revenue', 'clickRevenue', (a, f) => f.money(a.attributed.byClick.revenueMinor)],
  ['clickers', 'clickers', (a, f) => f.int(a.attributed.byClick.clickers)],
  ['codes', 'codes', (a, f) => f.int(a.codes)],
];

/**
 * A launched campaign's report (`GET /v1/campaigns/{name}/report`): per arm what was sent and what
 * recipients did, the orders and revenue in the outcome window, and what the messages are credited with
 * (attributed, not incremental); per variant the incremental revenue per recipient over the holdout
 * with its 95 % interval (CUPED when the report has it), drawn as intervals around zero, the probability
 * to beat the holdout, the verdict (the API's, in English) and the stop rule's decision; the split's
 * sample-ratio check, what this split can detect and the report's notes.
 */
export function CampaignReport({ name, timeZone }: { name: string; timeZone: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const report = useQuery({
    queryKey: ['campaign-report', name],
    queryFn: () => api<Report>(`${campaignPath(name)}/report`),
  });
  const r = report.data;
  if (!r)
    return (
      <section aria-labelledby="report-title">
        <h2 id="report-title">{t('campaigns.report.title')}</h2>
        <Status query={report} />
      </section>
    );
  const f = campaignFormat(lang, r.currency, timeZone);
  const planned = new Date(new Date(r.launchedAt).getTime() + r.window.days * DAY_MS).toISOString();
  const armName = (arm: string) =>
    arm === 'holdout' ? t('campaigns.report.holdout') : t('campaigns.report.variant', { key: arm });
  const group = (title: string, rows: Row[], note?: ReactNode) => (
    <tbody key={title}>
      <tr className="group-head">
        <th scope="rowgroup" colSpan={r.arms.length + 1}>
          {title}
          {note ? <small className="sub"> {note}</small> : null}
        </th>
      </tr>
      {rows.map(([key, label, cell]) => (
        <tr key={key} data-row={key}>
          <th scope="row">{t(`campaigns.report.rows.${label}`)}</th>
          {r.arms.map((a) => (
            <td key={a.arm} className="num">
              {cell(a, f)}
            </td>
          ))}
        </tr>
      ))}
    </tbody>
  );
  return (
    <section aria-labelledby="report-title" data-testid="report">
      <h2 id="report-title">{t('campaigns.report.title')}</h2>
      <p className="toolbar">
        <span className="muted" data-testid="report-window">
          {t(r.window.complete ? 'campaigns.report.windowDone' : 'campaigns.report.windowSoFar', {
            start: f.when(r.window.start),
            end: f.when(r.window.end),
            planned: f.when(planned),
            days: f.int(r.window.days),
          })}
        </span>
        <button
          type="button"
          className="secondary"
          onClick={() => void report.refetch()}
          disabled={report.isFetching}
        >
          {t('campaigns.report.refresh')}
        </button>
      </p>
      {r.sampleRatio?.mismatch ? (
        <div className="callout" role="alert" data-testid="sample-ratio">
          <strong>{t('campaigns.report.srmTitle')}</strong>{' '}
          {t('campaigns.report.srmMismatch', { p: f.p(r.sampleRatio.pValue) })}
        </div>
      ) : r.sampleRatio ? (
        <p className="muted" data-testid="sample-ratio">
          {t('campaigns.report.srmOk', { p: f.p(r.sampleRatio.pValue) })}
        </p>
      ) : null}

      <h3>{t('campaigns.report.effects')}</h3>
      {r.effects.length === 0 ? (
        <p data-testid="no-effects">{t('campaigns.report.noEffects')}</p>
      ) : (
        <>
          <div className="effects">
            {r.effects.map((e) => (
              <EffectCard key={e.variant} e={e} f={f} planned={planned} />
            ))}
          </div>
          <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
            <CampaignChart
              rows={r.effects.map((e) => {
                const best = e.cuped ?? e.incremental;
                return {
                  label: t('campaigns.report.variant', { key: e.variant }),
                  estimate: best.difference.estimate,
                  low: best.difference.low,
                  high: best.difference.high,
                };
              })}
              scale={10 ** f.digits}
              money={(x) => f.money(x)}
              zero={t('campaigns.report.chartZero')}
              label={t('campaigns.report.chart', {
                list: r.effects
                  .map((e) => {
                    const d = (e.cuped ?? e.incremental).difference;
                    return t('campaigns.report.chartItem', {
                      key: e.variant,
                      estimate: f.signed(d.estimate),
                      low: f.signed(d.low),
                      high: f.signed(d.high),
                    });
                  })
                  .join('; '),
              })}
            />
          </Suspense>
          <p className="notes">{t('campaigns.report.chartHow')}</p>
        </>
      )}
      <p data-testid="report-mde">
        {r.minimumDetectableEffectMinor === null
          ? t('campaigns.report.noMde')
          : t('campaigns.report.mde', { mde: f.money(r.minimumDetectableEffectMinor) })}
      </p>

      <h3 id="arms-title">{t('campaigns.report.arms')}</h3>
      <div className="table-wrap" role="region" aria-labelledby="arms-title" tabIndex={0}>
        <table className="data compact" data-testid="arms">
          <caption className="sr-only">{t('campaigns.report.armsTable')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('campaigns.report.measure')}</th>
              {r.arms.map((a) => (
                <th scope="col" key={a.arm} data-arm={a.arm}>
                  {armName(a.arm)}
                  {a.template ? <small className="sub">{a.template}</small> : null}
                </th>
              ))}
            </tr>
          </thead>
          {group(t('campaigns.report.sending'), SENDING, t('campaigns.report.ratesOf'))}
          {group(t('campaigns.report.outcome', { days: f.int(r.window.days) }), OUTCOME)}
          {group(t('campaigns.report.attributed'), ATTRIBUTED, t('campaigns.report.attributedNote'))}
          <tbody>
            <tr data-row="messages">
              <th scope="row">{t('campaigns.report.rows.messages')}</th>
              {r.arms.map((a) => (
                <td key={a.arm}>{messagesText(a, t, f)}</td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
      <p className="notes">{t('campaigns.report.attributedHelp')}</p>

      {r.notes.length ? (
        <>
          <h3>{t('campaigns.report.notes')}</h3>
          <ul lang="en" data-testid="report-notes">
            {r.notes.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

/** The arm's messages by status ("sent 40 · skipped 2"), in the send ledger's words. */
function messagesText(a: ArmReport, t: (k: string) => string, f: CampaignFormat): string {
  const entries = Object.entries(a.messages);
  if (entries.length === 0) return '—';
  return entries.map(([status, n]) => `${t(`messages.status.${status}`)} ${f.int(n)}`).join(' · ');
}

/** One variant against the holdout. */
function EffectCard({ e, f, planned }: { e: Effect; f: CampaignFormat; planned: string }) {
  const { t, i18n } = useTranslation();
  const best = e.cuped ?? e.incremental;
  const d = best.difference;
  const rel = best.relative;
  const relPct = (x: number) =>
    new Intl.NumberFormat(i18n.language, {
      style: 'percent',
      maximumFractionDigits: 1,
      signDisplay: 'exceptZero',
    }).format(x);
  const decision = t(`campaigns.decision.${e.stop.decision}`, {
    key: e.variant,
    end: f.when(planned),
  });
  return (
    <section className="card effect" aria-labelledby={`effect-${e.variant}`} data-variant={e.variant}>
      <h4 id={`effect-${e.variant}`}>{t('campaigns.report.effectTitle', { key: e.variant })}</h4>
      <p className="effect-label">{t('campaigns.report.perRecipient')}</p>
      <p className="effect-main" data-part="estimate">
        {f.signed(d.estimate)}
      </p>
      <p data-part="interval">{t('campaigns.report.ci', { low: f.signed(d.low), high: f.signed(d.high) })}</p>
      <p className="muted" data-part="method">
        {e.cuped
          ? t('campaigns.report.cuped', { reduction: f.pct(e.cuped.varianceReduction) })
          : t('campaigns.report.plain')}
      </p>
      {e.cuped ? (
        <p className="muted" data-part="unadjusted">
          {t('campaigns.report.unadjusted', {
            estimate: f.signed(e.incremental.difference.estimate),
            low: f.signed(e.incremental.difference.low),
            high: f.signed(e.incremental.difference.high),
          })}
        </p>
      ) : null}
      <dl className="facts">
        <div data-part="relative">
          <dt>{t('campaigns.report.relative')}</dt>
          <dd>
            {rel
              ? t('campaigns.report.relativeValue', {
                  estimate: relPct(rel.estimate),
                  low: relPct(rel.low),
                  high: relPct(rel.high),
                })
              : '—'}
          </dd>
        </div>
        <div data-part="probability">
          <dt>{t('campaigns.report.probability')}</dt>
          <dd>{f.pct(e.probabilityToBeatHoldout)}</dd>
        </div>
        <div data-part="total">
          <dt>{t('campaigns.report.total')}</dt>
          <dd>{f.signed(e.incrementalRevenueMinor)}</dd>
        </div>
      </dl>
      <p className="verdict" lang="en" data-part="verdict">
        {e.verdict}
      </p>
      <div className={`decision decision-${e.stop.decision}`} data-part="stop">
        <p>
          <strong>
            {e.stop.rule === 'fixed' ? t('campaigns.report.ruleFixed') : t('campaigns.report.ruleSequential')}
          </strong>{' '}
          <span data-part="decision">{decision}</span>
        </p>
        {e.stop.alwaysValid ? (
          <p data-part="always-valid">
            {t('campaigns.report.alwaysValid', {
              low: f.signed(e.stop.alwaysValid.low),
              high: f.signed(e.stop.alwaysValid.high),
            })}
          </p>
        ) : null}
        <p className="notes" lang="en" data-part="reason">
          {e.stop.reason}
        </p>
      </div>
    </section>
  );
}
