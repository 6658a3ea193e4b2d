import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { campaignFormat } from './CampaignCommon';
import {
  bandLabel,
  BANDS,
  BREAKDOWNS,
  DEFAULT_WINDOW,
  headline,
  monthLabel,
  WINDOWS,
  type BandThemes,
  type BreakdownBy,
  type Difference,
  type EffectGroup,
  type Interval95,
  type SurveyKind,
  type SurveyResults,
  type Theme,
} from './SurveysCommon';

/**
 * The survey page's results in context (issue 27), below the headline: the score by segment, channel,
 * product and first-order cohort; the "why" themes per band; NPS next to CLV (do promoters spend more?);
 * the effect of calls (low scores whose task was done against the others); and the report's notes. The
 * verdicts and notes are the API's, in English (marked `lang="en"`), as the campaign report shows its.
 */

/** Themes shown per band and kind (the API sends up to 10). */
const TOP_THEMES = 5;
/** An example answer is cut to this many characters (the whole one is its title). */
const EXAMPLE_CHARS = 140;
/** The API's group names that are no value. */
const NO_CHANNEL = '(unknown)';
const NO_ORDER = '(no order)';

/**
 * The page's state in the address: `window` (days of purchases after an answer: 7–365, default 90),
 * `by` (the breakdown shown) and `band` (the answers' filter). Anything else there reads as the default.
 */
export function useSurveyParams(kind: SurveyKind | undefined) {
  const [params, setParams] = useSearchParams();
  const w = Number(params.get('window'));
  const windowDays = Number.isInteger(w) && w >= 7 && w <= 365 ? w : DEFAULT_WINDOW;
  const byParam = params.get('by');
  const by: BreakdownBy = (BREAKDOWNS as readonly string[]).includes(byParam ?? '')
    ? (byParam as BreakdownBy)
    : 'segment';
  const bandParam = params.get('band') ?? '';
  const band = kind && BANDS[kind].includes(bandParam) ? bandParam : '';
  const set = (patch: Record<string, string>) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        for (const [k, v] of Object.entries(patch)) {
          if (v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );
  return { windowDays, by, band, set };
}

/** The window choices: 30, 90 (the API's default) and 180 days, and the address's own when it is another. */
export const windowChoices = (days: number) =>
  (WINDOWS as readonly number[]).includes(days) ? [...WINDOWS] : [...WINDOWS, days].sort((a, b) => a - b);

/** Formats for one results page: the score, its interval, shares, percentage points, money. */
function useFormats(kind: SurveyKind, currency: string | null, timeZone: string) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const f = campaignFormat(lang, currency, timeZone);
  const score = (x: number) => headline(lang, kind, x);
  const pointsOf = (x: number) =>
    new Intl.NumberFormat(lang, {
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
      signDisplay: 'exceptZero',
    }).format(x * 100);
  return {
    f,
    lang,
    score,
    interval: ([low, high]: Interval95) => t('surveys.insight.range', { low: score(low), high: score(high) }),
    /** A 0..1 share, '—' when there is none. */
    pct: (x: number | null) => f.pct(x),
    money: (minor: number | null) => (minor === null ? '—' : f.money(minor)),
    /** A difference of two shares in percentage points ("+12.5 pp"). */
    pp: (x: number) => t('surveys.insight.pp', { value: pointsOf(x) }),
  };
}
type Formats = ReturnType<typeof useFormats>;

/** A table in its scrolling, focusable region, labelled by its caption. */
function Table({
  id,
  testId,
  caption,
  className = 'data',
  by,
  children,
}: {
  id: string;
  testId: string;
  caption: ReactNode;
  className?: string;
  /** `data-by` of the table (the breakdown shown). */
  by?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap" role="region" aria-labelledby={`${id}-caption`} tabIndex={0}>
      <table className={className} data-testid={testId} data-by={by}>
        <caption id={`${id}-caption`}>{caption}</caption>
        {children}
      </table>
    </div>
  );
}

/** The "few answers" mark of a group below 30 answers (the word is there, not only the colour). */
function FewBadge() {
  const { t } = useTranslation();
  return (
    <span className="badge status-paused" data-few="true" title={t('surveys.insight.fewHelp')}>
      {t('surveys.insight.few')}
    </span>
  );
}

/** The score by segment, acquisition channel, product or first-order cohort (`by` in the address). */
export function Breakdowns({ r, timeZone }: { r: SurveyResults; timeZone: string }) {
  const { t } = useTranslation();
  const { by, set } = useSurveyParams(r.kind);
  const x = useFormats(r.kind, null, timeZone);
  const kindName = t(`surveys.results.${r.kind}`);
  const b = r.by[by];
  const groupName = (key: string, label: string | undefined): ReactNode => {
    if (by === 'channel' && key === NO_CHANNEL) return t('surveys.insight.noChannel');
    if (by === 'cohort')
      return key === NO_ORDER
        ? t('surveys.insight.noOrder')
        : /^\d{4}-\d{2}$/.test(key)
          ? monthLabel(x.lang, key)
          : key;
    if (by === 'product')
      return (
        <>
          {label ?? key}
          {label && label !== key ? <small className="sub">{key}</small> : null}
        </>
      );
    return key;
  };
  return (
    <section aria-labelledby="breakdown-title" data-testid="breakdown-section">
      <h3 id="breakdown-title">{t('surveys.insight.breakdown')}</h3>
      <form className="range" aria-labelledby="breakdown-title" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="breakdown-by">{t('surveys.insight.breakBy')}</label>{' '}
        <select id="breakdown-by" value={by} onChange={(e) => set({ by: e.target.value })}>
          {BREAKDOWNS.map((k) => (
            <option key={k} value={k}>
              {t(`surveys.insight.by.${k}`)}
            </option>
          ))}
        </select>
      </form>
      {b.groups.length === 0 ? (
        <p className="muted" data-testid="no-breakdown" data-by={by}>
          {t(`surveys.insight.none.${by}`)}
        </p>
      ) : (
        <Table
          id="breakdown"
          testId="breakdown"
          by={by}
          caption={t(`surveys.insight.caption.${by}`, { kind: kindName })}
        >
          <thead>
            <tr>
              <th scope="col">{t(`surveys.insight.by.${by}`)}</th>
              <th scope="col">{t('surveys.results.count')}</th>
              <th scope="col">{kindName}</th>
              <th scope="col">{t('surveys.insight.interval')}</th>
              <th scope="col">
                <span className="sr-only">{t('surveys.insight.reliability')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {b.groups.map((g) => (
              <tr key={g.key} data-group={g.key}>
                <th scope="row">{groupName(g.key, g.label)}</th>
                <td className="num">{x.f.int(g.answered)}</td>
                <td className="num">{x.score(g.score)}</td>
                <td className="num">{x.interval(g.interval95)}</td>
                <td>{g.few ? <FewBadge /> : null}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {b.more > 0 ? (
        <p className="notes" data-testid="breakdown-more">
          {t('surveys.insight.more', { n: x.f.int(b.more) })}
        </p>
      ) : null}
      <p className="notes">{t('surveys.insight.fewHelp')}</p>
    </section>
  );
}

/** An example answer, cut short (the whole one is its title). */
function Example({ text, language }: { text: string; language: string }) {
  const short = text.length > EXAMPLE_CHARS ? `${text.slice(0, EXAMPLE_CHARS - 1).trimEnd()}…` : text;
  return (
    <small className="muted" lang={language} title={short === text ? undefined : text} data-part="example">
      “{short}”
    </small>
  );
}

function ThemeList({ themes, x, kind }: { themes: Theme[]; x: Formats; kind: 'term' | 'phrase' }) {
  const { t } = useTranslation();
  if (themes.length === 0) return <p className="muted">{t('surveys.insight.noThemes')}</p>;
  return (
    <ul data-kind={kind}>
      {themes.slice(0, TOP_THEMES).map((m) => (
        <li key={`${m.language}:${m.stem}`} data-theme={m.label}>
          <strong lang={m.language}>{m.label}</strong>{' '}
          <span className="muted" data-part="count">
            {t('surveys.insight.themeCount', { n: x.f.int(m.count), share: x.f.share(m.share) })}
          </span>
          {m.examples[0] ? (
            <>
              <br />
              <Example text={m.examples[0]} language={m.language} />
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** What the "why" answers of each band mention: the top words and two-word phrases, with an example. */
export function Themes({ r, timeZone }: { r: SurveyResults; timeZone: string }) {
  const { t } = useTranslation();
  const x = useFormats(r.kind, null, timeZone);
  return (
    <section aria-labelledby="themes-title" data-testid="themes">
      <h3 id="themes-title">{t('surveys.insight.themes')}</h3>
      <p className="muted">{t('surveys.insight.themesHelp')}</p>
      <div className="columns">
        {r.themes.map((b: BandThemes) => (
          <section
            key={b.band}
            className="card"
            aria-labelledby={`themes-${b.band}`}
            data-theme-band={b.band}
          >
            <h4 id={`themes-${b.band}`}>{t(bandLabel(r.kind, b.band))}</h4>
            <p className="muted" data-part="with-why">
              {t('surveys.insight.withWhy', { n: x.f.int(b.withWhy), of: x.f.int(b.answers) })}
            </p>
            {b.withWhy === 0 ? null : (
              <>
                <h5>{t('surveys.insight.terms')}</h5>
                <ThemeList themes={b.terms} x={x} kind="term" />
                <h5>{t('surveys.insight.phrases')}</h5>
                <ThemeList themes={b.phrases} x={x} kind="phrase" />
              </>
            )}
          </section>
        ))}
      </div>
    </section>
  );
}

/** A difference and its interval as two cells: money or percentage points; '—' without one. */
function DiffCells({ d, show }: { d: Difference; show: (x: number) => string }) {
  const { t } = useTranslation();
  if (!d)
    return (
      <>
        <td className="num">—</td>
        <td className="muted">{t('surveys.insight.tooFew')}</td>
      </>
    );
  return (
    <>
      <td className="num" data-part="estimate">
        {show(d.estimate)}
      </td>
      <td className="num" data-part="interval">
        {t('surveys.insight.range', { low: show(d.low), high: show(d.high) })}
      </td>
    </>
  );
}

/** The API's verdict, in English as it words it. */
function Verdict({ text, testId }: { text: string; testId: string }) {
  const { t, i18n } = useTranslation();
  return (
    <div className="callout" role="note" data-testid={testId}>
      <p>
        <strong>{t('surveys.insight.verdict')}</strong>{' '}
        <span lang="en" data-part="verdict">
          {text}
        </span>
      </p>
      {i18n.language === 'en' ? null : <p className="notes">{t('surveys.insight.inEnglish')}</p>}
    </div>
  );
}

/** NPS next to CLV: per band predicted CLV, sales to date and after the answer; top band − bottom band. */
export function ValueNextToClv({ r, timeZone }: { r: SurveyResults; timeZone: string }) {
  const { t } = useTranslation();
  const v = r.value;
  const x = useFormats(r.kind, v?.currency ?? null, timeZone);
  if (!v) return null;
  const days = { days: x.f.int(v.windowDays) };
  return (
    <section aria-labelledby="value-title" data-testid="value-section">
      <h3 id="value-title">{t(`surveys.insight.valueTitle.${r.kind}`)}</h3>
      <p className="muted" data-testid="clv-run">
        {v.clv
          ? t('surveys.insight.clvRun', { day: x.f.day(v.clv.asOf), currency: v.currency })
          : t('surveys.insight.noClvRun')}
      </p>
      <Table id="value" testId="value" caption={t('surveys.insight.valueCaption')} className="data wide">
        <thead>
          <tr>
            <th scope="col">{t('surveys.results.band')}</th>
            <th scope="col">{t('surveys.insight.customers')}</th>
            <th scope="col">{t('surveys.insight.withClv')}</th>
            <th scope="col">{t('surveys.insight.meanClv')}</th>
            <th scope="col">{t('surveys.insight.netToDate')}</th>
            <th scope="col">{t('surveys.insight.matured', days)}</th>
            <th scope="col">{t('surveys.insight.repeat', days)}</th>
            <th scope="col">{t('surveys.insight.netAfter', days)}</th>
          </tr>
        </thead>
        <tbody>
          {v.bands.map((b) => (
            <tr key={b.band} data-band={b.band}>
              <th scope="row">{t(bandLabel(r.kind, b.band))}</th>
              <td className="num">{x.f.int(b.customers)}</td>
              <td className="num">{x.f.int(b.withClv)}</td>
              <td className="num">{x.money(b.meanClvMinor)}</td>
              <td className="num">{x.money(b.meanNetToDateMinor)}</td>
              <td className="num">{x.f.int(b.matured)}</td>
              <td className="num">{x.pct(b.repeatRate)}</td>
              <td className="num">{x.money(b.revenueAfterMinor)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Table id="top-vs-bottom" testId="top-vs-bottom" caption={t(`surveys.insight.topVsBottom.${r.kind}`)}>
        <thead>
          <tr>
            <th scope="col">{t('surveys.insight.measure')}</th>
            <th scope="col">{t('surveys.insight.difference')}</th>
            <th scope="col">{t('surveys.insight.interval')}</th>
          </tr>
        </thead>
        <tbody>
          <tr data-row="clv">
            <th scope="row">{t('surveys.insight.meanClv')}</th>
            <DiffCells d={v.topVsBottom.clvMinor} show={x.f.signed} />
          </tr>
          <tr data-row="repeat">
            <th scope="row">{t('surveys.insight.repeat', days)}</th>
            <DiffCells d={v.topVsBottom.repeatRate} show={x.pp} />
          </tr>
          <tr data-row="revenue">
            <th scope="row">{t('surveys.insight.netAfter', days)}</th>
            <DiffCells d={v.topVsBottom.revenueAfterMinor} show={x.f.signed} />
          </tr>
        </tbody>
      </Table>
      <Verdict text={v.verdict} testId="value-verdict" />
    </section>
  );
}

/** The effect of calls: low scores whose call task was done against the others, after and before. */
export function CallsEffect({ r, timeZone }: { r: SurveyResults; timeZone: string }) {
  const { t } = useTranslation();
  const e = r.effect;
  const x = useFormats(r.kind, e?.currency ?? null, timeZone);
  if (!e) return null;
  const days = { days: x.f.int(e.windowDays) };
  const rows: [string, string, (g: EffectGroup) => string, ReactNode][] = [
    ['low-scores', t('surveys.insight.lowScores'), (g) => x.f.int(g.lowScores), null],
    ['matured', t('surveys.insight.matured', days), (g) => x.f.int(g.matured), null],
    [
      'repeat',
      t('surveys.insight.repeat', days),
      (g) => x.pct(g.repeatRate),
      <DiffCells d={e.difference.repeatRate} show={x.pp} />,
    ],
    [
      'revenue-after',
      t('surveys.insight.netAfter', days),
      (g) => x.money(g.revenueAfterMinor),
      <DiffCells d={e.difference.revenueAfterMinor} show={x.f.signed} />,
    ],
    ['bought-before', t('surveys.insight.boughtBefore', days), (g) => x.pct(g.boughtBefore), null],
    ['revenue-before', t('surveys.insight.netBefore', days), (g) => x.money(g.revenueBeforeMinor), null],
  ];
  return (
    <section aria-labelledby="effect-title" data-testid="effect-section">
      <h3 id="effect-title">{t('surveys.insight.effectTitle')}</h3>
      <p className="muted">
        {t('surveys.insight.effectHelp', {
          kind: t(`surveys.results.${r.kind}`),
          atMost: x.f.int(e.lowScoreAtMost),
        })}
      </p>
      <Table id="effect" testId="effect" caption={t('surveys.insight.effectCaption')}>
        <thead>
          <tr>
            <th scope="col">{t('surveys.insight.measure')}</th>
            <th scope="col">{t('surveys.insight.resolved')}</th>
            <th scope="col">{t('surveys.insight.unresolved')}</th>
            <th scope="col">{t('surveys.insight.differenceResolved')}</th>
            <th scope="col">{t('surveys.insight.interval')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([key, label, cell, diff]) => (
            <tr key={key} data-row={key}>
              <th scope="row">{label}</th>
              <td className="num">{cell(e.resolved)}</td>
              <td className="num">{cell(e.unresolved)}</td>
              {diff ?? (
                <>
                  <td />
                  <td />
                </>
              )}
            </tr>
          ))}
        </tbody>
      </Table>
      <Verdict text={e.verdict} testId="effect-verdict" />
    </section>
  );
}

/** The report's definitions, as the API words them. */
export function ResultNotes({ notes }: { notes: string[] }) {
  const { t, i18n } = useTranslation();
  if (notes.length === 0) return null;
  return (
    <section aria-labelledby="results-notes-title" className="notes">
      <h3 id="results-notes-title">{t('surveys.insight.notes')}</h3>
      {i18n.language === 'en' ? null : <p>{t('surveys.insight.notesInEnglish')}</p>}
      <ul lang="en" data-testid="results-notes">
        {notes.map((n, i) => (
          <li key={i}>{n}</li>
        ))}
      </ul>
    </section>
  );
}
