import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import {
  loyaltyFormat,
  useLoyaltyRights,
  useProgram,
  useStoreZone,
  type MemberRow,
  type Program,
} from './LoyaltyCommon';
import { MemberPanel } from './LoyaltyMember';
import { exampleProgram, ProgramEditor, ProgramPage } from './LoyaltyProgram';

// ECharts is loaded only when the liability chart is on screen (its own chunk).
const LoyaltyChart = lazy(() => import('./LoyaltyChart'));

/** `GET /v1/loyalty/report` (src/modules/loyalty/reports.ts), the parts the page shows. */
interface FlowFigures {
  earned: number;
  released: number;
  redeemed: number;
  reversed: number;
  expired: number;
  clawedBack: number;
  adjusted: number;
}
interface Outcome {
  members: number | null;
  controls: number | null;
  difference: number | null;
  ci95?: { low: number; high: number } | null;
}
export interface LoyaltyReport {
  generatedAt: string;
  timeZone: string;
  from: string;
  to: string;
  currency: string;
  minorDigits: number;
  programVersion: number;
  pointValue: { points: number; minor: number };
  liability: {
    asOf: string;
    availablePoints: number;
    debtPoints: number;
    outstandingPoints: number;
    outstandingValueMinor: number;
    pendingPoints: number;
    pendingValueMinor: number;
    totalPoints: number;
    totalValueMinor: number;
    byExpiryMonth: {
      month: string;
      availablePoints: number;
      pendingPoints: number;
      points: number;
      valueMinor: number;
    }[];
  };
  flows: {
    months: (FlowFigures & { month: string })[];
    totals: FlowFigures;
    burnRate: number | null;
    expiryRate: number | null;
  };
  redemption: {
    members: number;
    membersRedeemed: number;
    shareOfMembers: number | null;
    activeMembers: number;
    activeMembersRedeemed: number;
    shareOfActiveMembers: number | null;
  };
  members: { total: number; byTier: { tier: string | null; members: number }[]; enrolledInPeriod: number };
  membersVsNonMembers: {
    windowDays: number;
    verdict: string;
    method: string;
    notes: string[];
    counts: {
      members: number;
      eligible: number;
      matched: number;
      unmatched: number;
      joinedAtFirstPurchase: number;
      windowIncomplete: number;
      controlsUsed: number;
    };
    raw: { repeatRate: Outcome; revenuePerCustomerMinor: Outcome };
    matched: { repeatRate: Outcome; revenuePerCustomerMinor: Outcome };
  };
  notes: string[];
}

const FLOW_COLUMNS = [
  'earned',
  'released',
  'redeemed',
  'reversed',
  'expired',
  'clawedBack',
  'adjusted',
] as const;
const COUNTS = [
  'members',
  'eligible',
  'matched',
  'unmatched',
  'joinedAtFirstPurchase',
  'windowIncomplete',
  'controlsUsed',
] as const;
const PAGE_SIZE = 25;

/** The report's expiry months with the months between them that have no points (for the chart's axis). */
function monthsOf<T extends { month: string; availablePoints: number; pendingPoints: number }>(
  rows: T[],
): { month: string; availablePoints: number; pendingPoints: number }[] {
  const index = (label: string) => Number(label.slice(0, 4)) * 12 + Number(label.slice(5, 7)) - 1;
  const label = (i: number) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
  const byMonth = new Map(rows.map((r) => [r.month, r]));
  const out = [];
  for (let i = index(rows[0]!.month); i <= index(rows[rows.length - 1]!.month); i++)
    out.push(byMonth.get(label(i)) ?? { month: label(i), availablePoints: 0, pendingPoints: 0 });
  return out;
}

/**
 * The loyalty programme (docs/loyalty.md): `/loyalty` its figures (GET /v1/loyalty/report) and members,
 * or, before a programme exists, what one is and its editor; `/loyalty/program` the editor on the
 * version in force; `/loyalty/members/:customer` one member's panel.
 */
export function LoyaltyPage({ view = 'overview' }: { view?: 'overview' | 'program' | 'member' }) {
  const customer = useParams().customer ?? '';
  if (view === 'member') return <MemberPanel key={customer} customer={customer} />;
  if (view === 'program') return <ProgramPage />;
  return <Overview />;
}

function Overview() {
  const { t } = useTranslation();
  const program = useProgram();
  const rights = useLoyaltyRights();
  const none = program.error instanceof ApiError && program.error.status === 404;
  return (
    <section aria-labelledby="loyalty-title">
      <h1 id="loyalty-title">{t('loyalty.title')}</h1>
      {none ? (
        <div data-testid="no-program">
          <p>{t('loyalty.none.lead')}</p>
          <p>{t('loyalty.none.how')}</p>
          <p>{t('loyalty.none.cli')}</p>
          <pre>
            <code>retain loyalty program set --file program.json</code>
          </pre>
          {rights.manage ? (
            <ProgramEditor initial={exampleProgram(new Date())} />
          ) : (
            <p role="note">{t('loyalty.none.noRights')}</p>
          )}
        </div>
      ) : program.data ? (
        <Programme program={program.data} />
      ) : (
        <Status query={program} />
      )}
    </section>
  );
}

function Programme({ program }: { program: Program }) {
  const { t, i18n } = useTranslation();
  const rights = useLoyaltyRights();
  const f = loyaltyFormat(i18n.language, useStoreZone());
  const report = useQuery({
    queryKey: ['loyalty-report'],
    queryFn: () => api<LoyaltyReport>('/v1/loyalty/report'),
  });
  const r = report.data;
  return (
    <>
      <p className="toolbar">
        <span data-testid="program-line">
          {r
            ? t('loyalty.programLine', {
                name: program.config.name,
                version: program.version,
                points: f.points(r.pointValue.points),
                value: f.money(r.pointValue.minor, r.currency, r.minorDigits),
              })
            : `${program.config.name}, v${program.version}`}
        </span>
        <Link className="button" to="/loyalty/program">
          {rights.manage ? t('loyalty.editProgram') : t('loyalty.viewProgram')}
        </Link>
      </p>
      {r ? <Report r={r} /> : <Status query={report} />}
      <Members program={program} byTier={r?.members.byTier ?? []} />
    </>
  );
}

function Report({ r }: { r: LoyaltyReport }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const f = loyaltyFormat(lang, r.timeZone);
  const money = (minor: number) => f.money(minor, r.currency, r.minorDigits);
  const l = r.liability;
  const v = r.membersVsNonMembers;
  const repeat = (x: number | null) => f.pct(x);
  const pp = (x: number | null) => (x === null ? '—' : t('loyalty.compare.pp', { value: f.pp(x) }));
  const cash = (x: number | null) => (x === null ? '—' : money(x));
  const signedCash = (x: number | null) => (x === null ? '—' : f.signedMoney(x, r.currency, r.minorDigits));
  const ci = (o: Outcome, fmt: (x: number) => string) =>
    o.ci95 ? t('loyalty.compare.ciRange', { low: fmt(o.ci95.low), high: fmt(o.ci95.high) }) : '—';
  const ppOf = (x: number) => t('loyalty.compare.pp', { value: f.pp(x) });
  const rows: [string, Outcome, 'rate' | 'money', boolean][] = [
    ['repeatMatched', v.matched.repeatRate, 'rate', true],
    ['repeatRaw', v.raw.repeatRate, 'rate', false],
    ['revenueMatched', v.matched.revenuePerCustomerMinor, 'money', true],
    ['revenueRaw', v.raw.revenuePerCustomerMinor, 'money', false],
  ];
  return (
    <>
      <h2 className="sr-only">{t('loyalty.report')}</h2>
      <p className="muted" data-testid="period">
        {t('loyalty.period', { from: f.day(r.from), to: f.day(r.to), asOf: f.when(l.asOf) })}
      </p>
      <dl className="cards" data-testid="loyalty-figures">
        <div className="card" data-figure="members">
          <dt>{t('loyalty.figures.members')}</dt>
          <dd>
            <span data-part="main">{f.points(r.members.total)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('loyalty.figures.enrolled', { n: f.points(r.members.enrolledInPeriod) })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="outstanding">
          <dt>{t('loyalty.figures.outstanding')}</dt>
          <dd>
            <span data-part="main">{f.points(l.outstandingPoints)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('loyalty.figures.worth', { value: money(l.outstandingValueMinor) })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="pending">
          <dt>{t('loyalty.figures.pending')}</dt>
          <dd>
            <span data-part="main">{f.points(l.pendingPoints)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('loyalty.figures.worth', { value: money(l.pendingValueMinor) })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="redemption-rate">
          <dt>{t('loyalty.figures.redemptionRate')}</dt>
          <dd>
            <span data-part="main">{f.pct(r.redemption.shareOfMembers)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('loyalty.figures.redeemedOf', {
                redeemed: f.points(r.redemption.membersRedeemed),
                members: f.points(r.redemption.members),
              })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="burn-rate">
          <dt title={t('loyalty.figures.burnHelp')}>{t('loyalty.figures.burnRate')}</dt>
          <dd>
            <span data-part="main">{f.pct(r.flows.burnRate)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('loyalty.figures.expiryRate', { rate: f.pct(r.flows.expiryRate) })}
            </small>
          </dd>
        </div>
      </dl>

      <h2>{t('loyalty.liability.title')}</h2>
      {l.byExpiryMonth.length === 0 ? (
        <p>{t('loyalty.liability.empty')}</p>
      ) : (
        <>
          <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
            <LoyaltyChart
              bars={monthsOf(l.byExpiryMonth).map((m) => ({
                month: f.month(m.month),
                available: m.availablePoints,
                pending: m.pendingPoints,
              }))}
              lang={lang}
              label={t('loyalty.liability.chart')}
              names={{ available: t('loyalty.liability.available'), pending: t('loyalty.liability.pending') }}
            />
          </Suspense>
          <table className="data" data-testid="liability">
            <caption className="sr-only">{t('loyalty.liability.table')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('loyalty.liability.month')}</th>
                <th scope="col">{t('loyalty.liability.available')}</th>
                <th scope="col">{t('loyalty.liability.pending')}</th>
                <th scope="col">{t('loyalty.liability.points')}</th>
                <th scope="col">{t('loyalty.liability.value')}</th>
              </tr>
            </thead>
            <tbody>
              {l.byExpiryMonth.map((m) => (
                <tr key={m.month} data-month={m.month}>
                  <th scope="row">{f.month(m.month)}</th>
                  <td className="num">{f.points(m.availablePoints)}</td>
                  <td className="num">{f.points(m.pendingPoints)}</td>
                  <td className="num">{f.points(m.points)}</td>
                  <td className="num">{money(m.valueMinor)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <p data-testid="liability-summary">
        {t('loyalty.liability.summary', {
          outstanding: f.points(l.outstandingPoints),
          outstandingValue: money(l.outstandingValueMinor),
          pending: f.points(l.pendingPoints),
          pendingValue: money(l.pendingValueMinor),
          total: f.points(l.totalPoints),
          totalValue: money(l.totalValueMinor),
        })}
        {l.debtPoints > 0 ? ` ${t('loyalty.liability.debt', { debt: f.points(l.debtPoints) })}` : ''}
      </p>

      <h2>{t('loyalty.flows.title')}</h2>
      <div className="table-wrap">
        <table className="data" data-testid="flows">
          <caption className="sr-only">{t('loyalty.flows.table')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('loyalty.flows.month')}</th>
              {FLOW_COLUMNS.map((c) => (
                <th scope="col" key={c}>
                  {t(`loyalty.flows.${c}`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {r.flows.months.map((m) => (
              <tr key={m.month} data-month={m.month}>
                <th scope="row">{f.month(m.month)}</th>
                {FLOW_COLUMNS.map((c) => (
                  <td className="num" key={c}>
                    {f.points(m[c])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-month="total">
              <th scope="row">{t('loyalty.flows.total')}</th>
              {FLOW_COLUMNS.map((c) => (
                <td className="num" key={c}>
                  <strong>{f.points(r.flows.totals[c])}</strong>
                </td>
              ))}
            </tr>
          </tfoot>
        </table>
      </div>

      <section className="panel compare" aria-labelledby="compare-title" data-testid="compare">
        <h2 id="compare-title">{t('loyalty.compare.title', { days: f.points(v.windowDays) })}</h2>
        <p data-testid="verdict" lang="en">
          {v.verdict}
        </p>
        {i18n.language !== 'en' ? <p className="notes">{t('loyalty.compare.verdictNote')}</p> : null}
        <table className="data" data-testid="comparison">
          <caption className="sr-only">{t('loyalty.compare.table')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('loyalty.compare.outcome')}</th>
              <th scope="col">{t('loyalty.compare.members')}</th>
              <th scope="col">{t('loyalty.compare.controls')}</th>
              <th scope="col">{t('loyalty.compare.difference')}</th>
              <th scope="col">{t('loyalty.compare.ci')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([key, o, kind, matched]) => (
              <tr key={key} data-row={key}>
                <th scope="row">{t(`loyalty.compare.${key}`)}</th>
                <td className="num">{kind === 'rate' ? repeat(o.members) : cash(o.members)}</td>
                <td className="num">{kind === 'rate' ? repeat(o.controls) : cash(o.controls)}</td>
                <td className="num">{kind === 'rate' ? pp(o.difference) : signedCash(o.difference)}</td>
                <td className="num">
                  {matched
                    ? kind === 'rate'
                      ? ci(o, ppOf)
                      : ci(o, (x) => f.signedMoney(x, r.currency, r.minorDigits))
                    : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>{t('loyalty.compare.counts')}</h3>
        <dl className="facts" data-testid="compare-counts">
          {COUNTS.map((k) => (
            <div key={k} data-count={k}>
              <dt>{t(`loyalty.compare.count.${k}`, { days: f.points(v.windowDays) })}</dt>
              <dd>{f.points(v.counts[k])}</dd>
            </div>
          ))}
        </dl>
        <details data-testid="method">
          <summary>{t('loyalty.compare.method')}</summary>
          <div lang="en" data-part="method">
            {v.method.split('\n\n').map((p, i) => (
              <p key={i}>{p}</p>
            ))}
          </div>
          {v.notes.length ? (
            <>
              <h3>{t('loyalty.compare.notes')}</h3>
              <ul lang="en" data-part="notes">
                {v.notes.map((n, i) => (
                  <li key={i}>{n}</li>
                ))}
              </ul>
            </>
          ) : null}
        </details>
      </section>
    </>
  );
}

/** The members, in customer order, filtered by tier, `PAGE_SIZE` a page (keyset cursors). */
function Members({
  program,
  byTier,
}: {
  program: Program;
  byTier: { tier: string | null; members: number }[];
}) {
  const { t, i18n } = useTranslation();
  const f = loyaltyFormat(i18n.language, useStoreZone());
  const navigate = useNavigate();
  const [tier, setTier] = useState('');
  // The cursors of the pages before this one, for this tier only.
  const [paging, setPaging] = useState<{ tier: string; cursors: string[] }>({ tier: '', cursors: [] });
  const cursors = paging.tier === tier ? paging.cursors : [];
  const cursor = cursors[cursors.length - 1];
  const [typed, setTyped] = useState('');
  const q = new URLSearchParams({
    limit: String(PAGE_SIZE),
    ...(tier ? { tier } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const list = useQuery({
    queryKey: ['loyalty-members', q.toString()],
    queryFn: () =>
      api<{ data: MemberRow[]; nextCursor: string | null }>(`/v1/loyalty/members?${q.toString()}`),
  });
  const count = (name: string) => byTier.find((b) => b.tier === name)?.members;
  const page = list.data;
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">{t('loyalty.members.title')}</h2>
      <div className="toolbar">
        <span>
          <label htmlFor="loyalty-tier">{t('loyalty.members.tier')}</label>{' '}
          <select id="loyalty-tier" value={tier} onChange={(e) => setTier(e.target.value)}>
            <option value="">{t('loyalty.members.allTiers')}</option>
            {program.config.tiers.levels.map((l) => (
              <option key={l.name} value={l.name}>
                {l.name}
                {count(l.name) !== undefined ? ` (${f.points(count(l.name)!)})` : ''}
              </option>
            ))}
          </select>
        </span>
        <form
          className="range"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim()) navigate(`/loyalty/members/${encodeURIComponent(typed.trim())}`);
          }}
        >
          <label>
            {t('loyalty.members.open')}{' '}
            <input value={typed} onChange={(e) => setTyped(e.target.value)} size={14} />
          </label>
          <button type="submit">{t('loyalty.members.go')}</button>
        </form>
      </div>
      {page ? (
        page.data.length === 0 ? (
          <p>{t('loyalty.members.empty')}</p>
        ) : (
          <table className="data" data-testid="members">
            <caption className="sr-only">{t('loyalty.members.table')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('loyalty.members.customer')}</th>
                <th scope="col">{t('loyalty.members.card')}</th>
                <th scope="col">{t('loyalty.members.tier')}</th>
                <th scope="col">{t('loyalty.members.available')}</th>
                <th scope="col">{t('loyalty.members.pending')}</th>
                <th scope="col">{t('loyalty.members.debt')}</th>
                <th scope="col">{t('loyalty.members.enrolled')}</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((m) => (
                <tr key={m.customer} data-customer={m.customer}>
                  <td>
                    <Link to={`/loyalty/members/${encodeURIComponent(m.customer)}`}>{m.customer}</Link>
                  </td>
                  <td className="id">{m.cardNumber}</td>
                  <td>{m.tier ?? t('loyalty.members.noTier')}</td>
                  <td className="num">{f.points(m.available)}</td>
                  <td className="num">{f.points(m.pending)}</td>
                  <td className="num">{f.points(m.debt)}</td>
                  <td>{f.day(m.enrolledAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : (
        <Status query={list} />
      )}
      <nav className="pager" aria-label={t('loyalty.members.pager')}>
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => setPaging({ tier, cursors: cursors.slice(0, -1) })}
        >
          {t('loyalty.members.prev')}
        </button>
        <span>{t('loyalty.members.page', { n: f.points(cursors.length + 1) })}</span>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => page?.nextCursor && setPaging({ tier, cursors: [...cursors, page.nextCursor] })}
        >
          {t('loyalty.members.next')}
        </button>
      </nav>
    </section>
  );
}
