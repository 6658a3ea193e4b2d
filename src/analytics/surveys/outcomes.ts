/**
 * What survey answers say about money (issue 27), pure:
 * - {@link scoresBy}: NPS or CSAT per group (segment, channel, product, first-order cohort), each with
 *   its 95 % interval and a flag when the group is too small to read;
 * - {@link windowOutcome}: a customer's purchases in the `windowDays` after an answer (and before it, for
 *   comparison), and whether that window is over yet;
 * - {@link valueByBand}: "do promoters really spend more?" — predicted CLV, net sales to date and
 *   purchases after the answer per score band, top band against bottom band with 95 % intervals;
 * - {@link lowScoreEffect}: repeat rate and revenue after low scores whose call task was done against
 *   those whose was not, with the same window before the answer to show whether the groups were alike.
 * Differences use compareMeans (Welch, skewness-corrected: revenue is skewed). Observational: a done task
 * is not a random draw (reachable customers get called), and the texts say so.
 */
import { compareMeans } from '../experiments/compare.js';
import { conversions } from '../experiments/samples.js';
import { BANDS, bandOf, csat, nps, type ScoreBand, type SurveyKind } from './scores.js';

const DAY_MS = 86_400_000;

// ---- scores per group ------------------------------------------------------------------------------

/** Below this many answers a group's figure is flagged `few` (its interval is wide). */
export const FEW_ANSWERS = 30;

export interface GroupScore {
  key: string;
  answered: number;
  /** NPS (−100..100) or CSAT (0..100, % of 4–5). */
  score: number;
  low: number;
  high: number;
  /** Fewer than {@link FEW_ANSWERS} answers. */
  few: boolean;
}

/**
 * The score of each group of `rows` (one row per answer and group: an answer may count in several
 * groups — each product of its order, each segment of its customer), largest group first, then by key.
 */
export function scoresBy(kind: SurveyKind, rows: readonly { key: string; score: number }[]): GroupScore[] {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const g = groups.get(r.key);
    if (g) g.push(r.score);
    else groups.set(r.key, [r.score]);
  }
  const out: GroupScore[] = [];
  for (const [key, scores] of groups) {
    const r = kind === 'nps' ? nps(scores) : csat(scores);
    out.push({
      key,
      answered: scores.length,
      score: 'nps' in r ? r.nps : r.csat,
      low: r.low,
      high: r.high,
      few: scores.length < FEW_ANSWERS,
    });
  }
  return out.sort((a, b) => b.answered - a.answered || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// ---- purchases around an answer ---------------------------------------------------------------------

export interface NetOrder {
  atMs: number;
  /** The order's revenue net of its refunds, minor units. */
  netMinor: number;
}

export interface WindowOutcome {
  /** The window after the answer is over at `asOf` (only those count in the after-answer figures). */
  matured: boolean;
  /** Orders in (answer, answer + window]. */
  ordersAfter: number;
  netAfterMinor: number;
  /** Orders in [answer − window, answer). */
  ordersBefore: number;
  netBeforeMinor: number;
  /** All orders before `asOf`. */
  netToDateMinor: number;
}

/** A customer's purchases around one answer, from their orders (any order; times in ms). */
export function windowOutcome(
  answeredMs: number,
  orders: readonly NetOrder[],
  asOfMs: number,
  windowDays: number,
): WindowOutcome {
  const w = windowDays * DAY_MS;
  const o: WindowOutcome = {
    matured: answeredMs + w <= asOfMs,
    ordersAfter: 0,
    netAfterMinor: 0,
    ordersBefore: 0,
    netBeforeMinor: 0,
    netToDateMinor: 0,
  };
  for (const x of orders) {
    if (x.atMs >= asOfMs) continue;
    o.netToDateMinor += x.netMinor;
    if (x.atMs > answeredMs && x.atMs <= answeredMs + w) {
      o.ordersAfter++;
      o.netAfterMinor += x.netMinor;
    } else if (x.atMs < answeredMs && x.atMs >= answeredMs - w) {
      o.ordersBefore++;
      o.netBeforeMinor += x.netMinor;
    }
  }
  return o;
}

/** A difference (variant − control) with its 95 % interval; null below two customers a side. */
export interface Difference {
  estimate: number;
  low: number;
  high: number;
}

function difference(control: readonly number[], variant: readonly number[]): Difference | null {
  if (control.length < 2 || variant.length < 2) return null;
  const d = compareMeans(control, variant).difference;
  if (!Number.isFinite(d.low) || !Number.isFinite(d.high)) return null;
  return { estimate: d.estimate, low: d.low, high: d.high };
}

function shareDifference(control: readonly boolean[], variant: readonly boolean[]): Difference | null {
  if (control.length < 2 || variant.length < 2) return null;
  const k = (xs: readonly boolean[]) => xs.filter(Boolean).length;
  const d = compareMeans(
    conversions(control.length, k(control)),
    conversions(variant.length, k(variant)),
  ).difference;
  if (!Number.isFinite(d.low) || !Number.isFinite(d.high)) return null;
  return { estimate: d.estimate, low: d.low, high: d.high };
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);
const share = (xs: readonly boolean[]) => (xs.length === 0 ? null : xs.filter(Boolean).length / xs.length);

// ---- value by band ---------------------------------------------------------------------------------

export interface BandValue {
  band: ScoreBand;
  customers: number;
  /** Customers with a CLV prediction, and their mean predicted CLV (minor units). */
  withClv: number;
  meanClvMinor: number | null;
  /** Mean net sales to date per customer. */
  meanNetToDateMinor: number | null;
  /** Customers whose window after the answer is over. */
  matured: number;
  /** Of them: the share who bought in the window, and their mean net sales in it. */
  repeatRate: number | null;
  revenueAfterMinor: number | null;
}

export interface ValueByBand {
  windowDays: number;
  bands: BandValue[];
  /** Top band (promoters / happy) − bottom band (detractors / unhappy). */
  topVsBottom: {
    clvMinor: Difference | null;
    repeatRate: Difference | null;
    revenueAfterMinor: Difference | null;
  };
  verdict: string;
}

/**
 * Per score band, each customer once (their latest answer): predicted CLV, net sales to date, and what
 * they bought in the window after answering; the top band against the bottom one.
 */
export function valueByBand(
  kind: SurveyKind,
  customers: readonly { score: number; clvMinor: number | null; outcome: WindowOutcome }[],
  opts: { windowDays: number; formatMoney: (minor: number) => string },
): ValueByBand {
  const of = new Map<ScoreBand, (typeof customers)[number][]>();
  for (const c of customers) {
    const b = bandOf(kind, c.score);
    of.set(b, [...(of.get(b) ?? []), c]);
  }
  const bands = BANDS[kind].map((band): BandValue => {
    const cs = of.get(band) ?? [];
    const clv = cs.flatMap((c) => (c.clvMinor === null ? [] : [c.clvMinor]));
    const m = cs.filter((c) => c.outcome.matured);
    return {
      band,
      customers: cs.length,
      withClv: clv.length,
      meanClvMinor: mean(clv),
      meanNetToDateMinor: mean(cs.map((c) => c.outcome.netToDateMinor)),
      matured: m.length,
      repeatRate: share(m.map((c) => c.outcome.ordersAfter > 0)),
      revenueAfterMinor: mean(m.map((c) => c.outcome.netAfterMinor)),
    };
  });
  const [bottomBand, , topBand] = BANDS[kind];
  const bottom = of.get(bottomBand!) ?? [];
  const top = of.get(topBand!) ?? [];
  const clvs = (cs: typeof customers) => cs.flatMap((c) => (c.clvMinor === null ? [] : [c.clvMinor]));
  const mat = (cs: typeof customers) => cs.filter((c) => c.outcome.matured);
  const topVsBottom = {
    clvMinor: difference(clvs(bottom), clvs(top)),
    repeatRate: shareDifference(
      mat(bottom).map((c) => c.outcome.ordersAfter > 0),
      mat(top).map((c) => c.outcome.ordersAfter > 0),
    ),
    revenueAfterMinor: difference(
      mat(bottom).map((c) => c.outcome.netAfterMinor),
      mat(top).map((c) => c.outcome.netAfterMinor),
    ),
  };
  const names = kind === 'nps' ? ['promoters', 'detractors'] : ['happy customers', 'unhappy customers'];
  const parts: string[] = [];
  const say = (what: string, d: Difference | null, fmt: (x: number) => string) => {
    if (!d) return;
    const reading =
      d.low > 0
        ? 'more than chance explains'
        : d.high < 0
          ? 'less, beyond chance'
          : 'not distinguishable from no difference';
    parts.push(`${what}: ${fmt(d.estimate)} (95% CI ${fmt(d.low)} to ${fmt(d.high)}), ${reading}`);
  };
  const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pp`;
  const money = (x: number) => `${x >= 0 ? '+' : '−'}${opts.formatMoney(Math.round(Math.abs(x)))}`;
  say('predicted CLV', topVsBottom.clvMinor, money);
  say(`bought again within ${opts.windowDays} days`, topVsBottom.repeatRate, pp);
  say(`net sales within ${opts.windowDays} days`, topVsBottom.revenueAfterMinor, money);
  const verdict =
    parts.length === 0
      ? `Too few ${names[0]} or ${names[1]} yet to compare what they are worth (at least two of each, and for purchases after the answer, ${opts.windowDays} days since answering).`
      : `${names[0]![0]!.toUpperCase()}${names[0]!.slice(1)} against ${names[1]}: ${parts.join('; ')}.`;
  return { windowDays: opts.windowDays, bands, topVsBottom, verdict };
}

// ---- low scores: resolved against unresolved -------------------------------------------------------

export interface EffectGroup {
  lowScores: number;
  /** Whose window after the answer is over (the figures below are over these). */
  matured: number;
  repeatRate: number | null;
  revenueAfterMinor: number | null;
  /** The same window before the answer: were the groups alike? */
  boughtBefore: number | null;
  revenueBeforeMinor: number | null;
}

export interface LowScoreEffect {
  windowDays: number;
  resolved: EffectGroup;
  unresolved: EffectGroup;
  /** Resolved − unresolved. */
  difference: { repeatRate: Difference | null; revenueAfterMinor: Difference | null };
  verdict: string;
}

/** Below this many matured low scores on a side the verdict says there are too few to tell. */
export const FEW_LOW_SCORES = 20;

function effectGroup(rows: readonly { outcome: WindowOutcome }[]): EffectGroup {
  const m = rows.filter((r) => r.outcome.matured);
  return {
    lowScores: rows.length,
    matured: m.length,
    repeatRate: share(m.map((r) => r.outcome.ordersAfter > 0)),
    revenueAfterMinor: mean(m.map((r) => r.outcome.netAfterMinor)),
    boughtBefore: share(m.map((r) => r.outcome.ordersBefore > 0)),
    revenueBeforeMinor: mean(m.map((r) => r.outcome.netBeforeMinor)),
  };
}

/**
 * Low scores whose call task was done (`resolved`) against the others (task open, cancelled, or none):
 * repeat rate and net sales in the window after the answer, with the window before it for comparison.
 */
export function lowScoreEffect(
  rows: readonly { resolved: boolean; outcome: WindowOutcome }[],
  opts: { windowDays: number; formatMoney: (minor: number) => string },
): LowScoreEffect {
  const yes = rows.filter((r) => r.resolved);
  const no = rows.filter((r) => !r.resolved);
  const resolved = effectGroup(yes);
  const unresolved = effectGroup(no);
  const mat = (rs: typeof rows) => rs.filter((r) => r.outcome.matured);
  const diff = {
    repeatRate: shareDifference(
      mat(no).map((r) => r.outcome.ordersAfter > 0),
      mat(yes).map((r) => r.outcome.ordersAfter > 0),
    ),
    revenueAfterMinor: difference(
      mat(no).map((r) => r.outcome.netAfterMinor),
      mat(yes).map((r) => r.outcome.netAfterMinor),
    ),
  };
  const w = opts.windowDays;
  const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  const money = (x: number | null) => (x === null ? '–' : opts.formatMoney(Math.round(x)));
  let verdict: string;
  if (rows.length === 0) verdict = 'No low scores yet.';
  else if (resolved.matured + unresolved.matured === 0)
    verdict = `No low score is ${w} days old yet: what customers bought after it cannot be seen.`;
  else if (resolved.matured < FEW_LOW_SCORES || unresolved.matured < FEW_LOW_SCORES)
    verdict =
      `Too few to tell: ${resolved.matured} resolved and ${unresolved.matured} unresolved low scores are ${w} days old ` +
      `(at least ${FEW_LOW_SCORES} of each are needed). So far: ${pct(resolved.repeatRate)} against ${pct(unresolved.repeatRate)} bought again.`;
  else {
    const d = diff.repeatRate;
    const r = diff.revenueAfterMinor;
    const reading = (x: Difference | null) =>
      !x
        ? 'no interval could be estimated'
        : x.low > 0
          ? 'more than chance explains'
          : x.high < 0
            ? 'less, beyond chance'
            : 'not distinguishable from no difference';
    verdict =
      `Within ${w} days of a low score, ${pct(resolved.repeatRate)} of customers whose call task was done bought again, ` +
      `against ${pct(unresolved.repeatRate)} of the others` +
      (d
        ? ` (${(d.estimate * 100).toFixed(1)} pp, 95% CI ${(d.low * 100).toFixed(1)} to ${(d.high * 100).toFixed(1)}: ${reading(d)})`
        : '') +
      `; net sales per customer ${money(resolved.revenueAfterMinor)} against ${money(unresolved.revenueAfterMinor)}` +
      (r ? ` (${reading(r)})` : '') +
      `. Before the answer the groups bought ${pct(resolved.boughtBefore)} and ${pct(unresolved.boughtBefore)}. ` +
      `Calls are not assigned at random (customers who can be reached get called), so this is an association, not proof that the calls caused it.`;
  }
  return { windowDays: w, resolved, unresolved, difference: diff, verdict };
}
