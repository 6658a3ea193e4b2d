/**
 * The pure pieces of the subscription report (issue 28, docs/subscriptions.md#reports): calendar
 * months in the store zone, churn and retention by start cohort with the shifted-beta-geometric
 * (sBG) model fitted per cohort and pooled, the forecast of a model fitted on the first months
 * against what happened after, cancel reasons, and the net revenue of subscribers against one-off
 * buyers of the same products. Arrays in, numbers out, an explicit `asOf`: no I/O, no clock.
 */
import { invalid } from '../../shared/errors.js';
import { civilFromDays, DAY_MS } from '../../shared/time.js';
import { fitMaximumLikelihood, type FitResult } from '../btyd/model.js';
import { sbgLogLikelihood, sbgSurvival, type SbgParams } from '../btyd/sbg.js';
import type { Calendar } from '../calendar.js';
import { compareMeans } from '../experiments/compare.js';
import { median } from '../metrics/util.js';
import type { Period } from './mrr.js';

// ---- calendar months --------------------------------------------------------------------------

/** `YYYY-MM` of a month index (year × 12 + month − 1). */
export function monthLabel(index: number): string {
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}`;
}

/** The month index of `YYYY-MM` (months 01–12), or null when it is not one. */
export function monthIndexOf(label: string): number | null {
  const m = /^(\d{4})-(\d{2})$/.exec(label);
  if (!m) return null;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  return Number(m[1]) * 12 + month - 1;
}

const daysInMonth = (year: number, month0: number) => {
  const d = new Date(0);
  d.setUTCFullYear(year, month0 + 1, 0);
  return d.getUTCDate();
};

/**
 * The instant `k` calendar months after `ms` in the calendar's zone: the same local wall-clock time on
 * the same day of the month, clamped to the month's length (Jan 31 + 1 month = Feb 28, or 29 in a leap
 * year), turned back into an instant by the zone's rule (a time skipped by a daylight-saving gap moves
 * forward by the gap; a repeated one is the earlier).
 */
export function addCalendarMonths(cal: Calendar, ms: number, k: number): number {
  if (!Number.isInteger(k)) throw invalid(`months must be a whole number, got ${k}`, { field: 'months' });
  const wall = ms + cal.offsetMs(ms);
  const day = Math.floor(wall / DAY_MS);
  const timeOfDay = wall - day * DAY_MS;
  const [y, m, d] = civilFromDays(day);
  const months = y * 12 + (m - 1) + k;
  const year = Math.floor(months / 12);
  const month0 = months - year * 12;
  const date = new Date(0);
  date.setUTCFullYear(year, month0, Math.min(d, daysInMonth(year, month0)));
  return cal.instantOfWall(date.getTime() + timeOfDay);
}

/**
 * The months `first` … `last` (indexes) as periods in the calendar's zone, each `[start, next start)`,
 * an end past `capMs` cut at `capMs` (the month in progress ends at the report instant).
 */
export function monthPeriods(cal: Calendar, first: number, last: number, capMs = Infinity): Period[] {
  const out: Period[] = [];
  for (let m = first; m <= last; m++) {
    const startMs = cal.periodStart(m, 'month').getTime();
    const endMs = Math.min(cal.periodStart(m + 1, 'month').getTime(), capMs);
    out.push({ label: monthLabel(m), startMs, endMs });
  }
  return out;
}

// ---- sBG by cohort ----------------------------------------------------------------------------

/** An sBG fit as the report shows it. */
export interface SbgFit {
  alpha: number;
  beta: number;
  logLikelihood: number;
  /** Subscribers the fit used. */
  subscribers: number;
  /** The longest survivor curve fitted, in months since start. */
  months: number;
}

/** A fit the report can use: converged, finite, no parameter running off to 0 or ∞. */
const usable = (f: FitResult<SbgParams>) =>
  f.converged &&
  f.runaway.length === 0 &&
  Number.isFinite(f.params.alpha) &&
  Number.isFinite(f.params.beta) &&
  Number.isFinite(f.logLikelihood);

/**
 * Maximum-likelihood sBG on several survivor curves at once (each curve alive[t], t = 0 … its own
 * length): the log-likelihood is the sum of each cohort's (Fader & Hardie 2007, appendix B), so
 * cohorts observed for different lengths pool without truncation. Null when no curve has a month to
 * fit, or the fit does not converge to finite parameters (e.g. nobody churned: β runs off to ∞).
 */
export function fitSbgCurves(curves: readonly (readonly number[])[]): SbgFit | null {
  const used = curves.filter((c) => c.length >= 2 && c[0]! > 0);
  if (used.length === 0) return null;
  const weight = used.reduce((s, c) => s + c[0]!, 0);
  const fit = fitMaximumLikelihood({
    names: ['alpha', 'beta'] as const,
    start: [1, 1],
    totalWeight: weight,
    logLikelihood: (q) => {
      const p = { alpha: q[0]!, beta: q[1]! };
      let ll = 0;
      for (const c of used) ll += sbgLogLikelihood(p, c);
      return ll;
    },
    analyticGradient: false,
  });
  if (!usable(fit)) return null;
  return {
    alpha: fit.params.alpha,
    beta: fit.params.beta,
    logLikelihood: fit.logLikelihood,
    subscribers: weight,
    months: Math.max(...used.map((c) => c.length - 1)),
  };
}

/** S(t) of a fit (the share still subscribed t months after starting). */
export const fittedSurvival = (f: Pick<SbgFit, 'alpha' | 'beta'>, t: number): number =>
  sbgSurvival({ alpha: f.alpha, beta: f.beta }, t);

export interface SurvivalForecast {
  /** Months since start. */
  month: number;
  survival: number;
  /** Subscribers expected still subscribed: size × survival. */
  expectedAlive: number;
}

export interface CohortRow {
  cohort: string;
  size: number;
  /** Months every member has been observed through. */
  observedMonths: number;
  /** alive[t]: members not cancelled t months after their start (alive[0] = size). */
  alive: number[];
  /** survival[t] = alive[t] / size. */
  survival: number[];
  /** retention[t] = alive[t] / alive[t − 1] (null at t = 0 and after an empty month). */
  retention: (number | null)[];
  /** churn[t] = 1 − retention[t]. */
  churn: (number | null)[];
  /** The sBG fitted on this cohort (null below `minMonths` observed months or without convergence). */
  sbg: (SbgFit & { forecast: SurvivalForecast[] }) | null;
}

const rates = (alive: readonly number[]) => {
  const retention: (number | null)[] = alive.map((a, t) =>
    t === 0 || alive[t - 1]! === 0 ? null : a / alive[t - 1]!,
  );
  return { retention, churn: retention.map((r) => (r === null ? null : 1 - r)) };
};

/** The forecast months after a fit's `months`: S(t) and size × S(t), t = months + 1 … months + horizon. */
function forecastAfter(fit: SbgFit, size: number, horizon: number): SurvivalForecast[] {
  const out: SurvivalForecast[] = [];
  for (let t = fit.months + 1; t <= fit.months + horizon; t++) {
    const survival = fittedSurvival(fit, t);
    out.push({ month: t, survival, expectedAlive: size * survival });
  }
  return out;
}

/**
 * One row per cohort (survivor curves by `survivorCurves`, in cohort order): size, alive, survival,
 * retention and churn by month since start, and the sBG fitted on the cohort when it has at least
 * `minMonths` observed months and the fit converges, with its forecast for the next `horizon` months.
 */
export function cohortRows(
  curves: ReadonlyMap<string, readonly number[]>,
  o: { minMonths: number; horizon: number },
): CohortRow[] {
  return [...curves].map(([cohort, alive]) => {
    const size = alive[0] ?? 0;
    const observedMonths = alive.length - 1;
    const fit = observedMonths >= o.minMonths && size > 0 ? fitSbgCurves([alive]) : null;
    return {
      cohort,
      size,
      observedMonths,
      alive: [...alive],
      survival: alive.map((a) => (size > 0 ? a / size : 0)),
      ...rates(alive),
      sbg: fit ? { ...fit, forecast: forecastAfter(fit, size, o.horizon) } : null,
    };
  });
}

export interface PooledCohorts {
  cohorts: number;
  subscribers: number;
  /**
   * Pooled survival by month since start: the product of the pooled monthly retention rates, each
   * over the cohorts observed through that month (Σ alive[t] / Σ alive[t − 1], as Kaplan–Meier).
   */
  survival: number[];
  /** The pooled monthly retention rate (null at t = 0). */
  retention: (number | null)[];
  /** Subscribers in the cohorts observed through each month (the rate's base). */
  atRisk: number[];
  /** sBG fitted on all cohorts at once, its forecast beyond the longest observed month. */
  sbg: (SbgFit & { forecast: SurvivalForecast[] }) | null;
}

/** All cohorts together: the pooled survival and one sBG fitted on every cohort's curve. */
export function pooledCohorts(
  curves: ReadonlyMap<string, readonly number[]>,
  o: { minMonths: number; horizon: number },
): PooledCohorts {
  const list = [...curves.values()].filter((c) => (c[0] ?? 0) > 0);
  const longest = Math.max(0, ...list.map((c) => c.length - 1));
  const survival = [1];
  const retention: (number | null)[] = [null];
  const atRisk = [list.reduce((s, c) => s + c[0]!, 0)];
  for (let t = 1; t <= longest; t++) {
    let before = 0;
    let after = 0;
    let base = 0;
    for (const c of list)
      if (c.length > t) {
        before += c[t - 1]!;
        after += c[t]!;
        base += c[0]!;
      }
    const r = before > 0 ? after / before : null;
    retention.push(r);
    survival.push(survival[t - 1]! * (r ?? 0));
    atRisk.push(base);
  }
  const fit = longest >= o.minMonths ? fitSbgCurves(list) : null;
  return {
    cohorts: list.length,
    subscribers: atRisk[0]!,
    survival,
    retention,
    atRisk,
    sbg: fit
      ? {
          ...fit,
          forecast: forecastAfter(fit, atRisk[0]!, o.horizon),
        }
      : null,
  };
}

// ---- forecast against actual --------------------------------------------------------------------

export interface ForecastMonth {
  month: number;
  /** 'train': a month the model was fitted on; 'forecast': a month after it. */
  part: 'train' | 'forecast';
  /** Cohorts observed through this month (only they count in this row). */
  cohorts: number;
  /** Their starting size. */
  subscribers: number;
  actualAlive: number;
  /** Σ size × S(month) of the fitted model. */
  forecastAlive: number;
  actualSurvival: number;
  forecastSurvival: number;
  /** forecastSurvival − actualSurvival (share points as a fraction). */
  error: number;
}

export interface CohortForecast {
  cohort: string;
  size: number;
  fit: SbgFit | null;
  months: { month: number; part: 'train' | 'forecast'; actualSurvival: number; forecastSurvival: number }[];
  /** Mean |forecast − actual| survival over the forecast months (null without a fit). */
  meanAbsoluteError: number | null;
}

export interface ForecastVsActual {
  train: number;
  /** The cohorts observed beyond `train` months. */
  cohorts: string[];
  subscribers: number;
  /** One sBG fitted on the first `train` months of all those cohorts. */
  fit: SbgFit | null;
  months: ForecastMonth[];
  /** Over the forecast months: mean and largest |forecast − actual| survival (null without a fit). */
  meanAbsoluteError: number | null;
  maxAbsoluteError: number | null;
  byCohort: CohortForecast[];
}

/**
 * The honest test of the sBG: for the cohorts observed beyond `train` months, the model fitted on
 * their first `train` months only, against what happened in the months after. Pooled: at each month
 * the cohorts observed through it, forecast Σ size × S(t) against Σ alive[t]; and each cohort with its
 * own fit on its own first `train` months.
 */
export function forecastVsActual(
  curves: ReadonlyMap<string, readonly number[]>,
  train: number,
): ForecastVsActual {
  if (!Number.isInteger(train) || train < 1)
    throw invalid(`train must be a whole number of months of at least 1, got ${train}`, { field: 'train' });
  const beyond = [...curves].filter(([, c]) => c.length - 1 > train && c[0]! > 0);
  const fit = fitSbgCurves(beyond.map(([, c]) => c.slice(0, train + 1)));
  const longest = Math.max(0, ...beyond.map(([, c]) => c.length - 1));
  const months: ForecastMonth[] = [];
  if (fit)
    for (let t = 1; t <= longest; t++) {
      let subscribers = 0;
      let alive = 0;
      let cohorts = 0;
      for (const [, c] of beyond)
        if (c.length > t) {
          cohorts++;
          subscribers += c[0]!;
          alive += c[t]!;
        }
      const s = fittedSurvival(fit, t);
      months.push({
        month: t,
        part: t <= train ? 'train' : 'forecast',
        cohorts,
        subscribers,
        actualAlive: alive,
        forecastAlive: subscribers * s,
        actualSurvival: alive / subscribers,
        forecastSurvival: s,
        error: s - alive / subscribers,
      });
    }
  const errors = months.filter((m) => m.part === 'forecast').map((m) => Math.abs(m.error));
  const byCohort: CohortForecast[] = beyond.map(([cohort, c]) => {
    const own = fitSbgCurves([c.slice(0, train + 1)]);
    const size = c[0]!;
    const rows = own
      ? c.slice(1).map((a, i) => ({
          month: i + 1,
          part: (i + 1 <= train ? 'train' : 'forecast') as 'train' | 'forecast',
          actualSurvival: a / size,
          forecastSurvival: fittedSurvival(own, i + 1),
        }))
      : [];
    const after = rows.filter((r) => r.part === 'forecast');
    return {
      cohort,
      size,
      fit: own,
      months: rows,
      meanAbsoluteError: after.length
        ? after.reduce((s, r) => s + Math.abs(r.forecastSurvival - r.actualSurvival), 0) / after.length
        : null,
    };
  });
  return {
    train,
    cohorts: beyond.map(([k]) => k),
    subscribers: beyond.reduce((s, [, c]) => s + c[0]!, 0),
    fit,
    months,
    meanAbsoluteError: errors.length ? errors.reduce((s, e) => s + e, 0) / errors.length : null,
    maxAbsoluteError: errors.length ? Math.max(...errors) : null,
    byCohort,
  };
}

// ---- cancel reasons ---------------------------------------------------------------------------

export interface CancelReasonRow {
  reason: string;
  count: number;
  /** count / all cancellations. */
  share: number;
  /** The latest distinct notes given with this reason, newest first. */
  notes: { atMs: number; note: string }[];
}

/**
 * Cancellations by reason code (most frequent first, then by code), each with its share and up to
 * `examples` of the latest distinct notes. A cancellation without a reason counts under `unknown`.
 */
export function cancelReasons(
  cancellations: readonly { atMs: number; reason: string | null; note: string | null }[],
  examples = 3,
): { total: number; reasons: CancelReasonRow[] } {
  const by = new Map<string, { count: number; notes: { atMs: number; note: string }[] }>();
  for (const c of cancellations) {
    const reason = c.reason ?? 'unknown';
    let r = by.get(reason);
    if (!r) by.set(reason, (r = { count: 0, notes: [] }));
    r.count++;
    if (c.note !== null && c.note.trim() !== '') r.notes.push({ atMs: c.atMs, note: c.note.trim() });
  }
  /** The latest of each distinct note, newest first. */
  const latest = (notes: { atMs: number; note: string }[]) => {
    const seen = new Set<string>();
    return notes
      .sort((a, b) => b.atMs - a.atMs)
      .filter((n) => !seen.has(n.note) && seen.add(n.note))
      .slice(0, examples);
  };
  const total = cancellations.length;
  const reasons = [...by]
    .map(([reason, r]) => ({
      reason,
      count: r.count,
      share: r.count / total,
      notes: latest(r.notes),
    }))
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
  return { total, reasons };
}

// ---- subscribers against one-off buyers ------------------------------------------------------------

export interface LtvCustomer {
  group: 'subscriber' | 'oneOff';
  /** Subscribers: the first subscription's start; one-off buyers: the first purchase of the products. */
  startMs: number;
  /** The customer's sale orders (any product), net of refunds. */
  orders: readonly { atMs: number; netMinor: number }[];
}

export interface LtvGroup {
  /** Customers observed through the whole window (the ones compared). */
  customers: number;
  /** Customers whose window had not ended by `asOf` (left out). */
  tooRecent: number;
  meanMinor: number | null;
  medianMinor: number | null;
}

export interface LtvComparison {
  subscribers: LtvGroup;
  oneOff: LtvGroup;
  /** Subscribers' mean − one-off buyers' mean with its 95% interval (Welch, skewness-corrected). */
  difference: {
    estimateMinor: number;
    lowMinor: number;
    highMinor: number;
    pValue: number;
    method: 'skewness-corrected' | 'normal';
  } | null;
  /** Why `difference` is null (fewer than 2 customers in a group). */
  differenceUnavailable: string | null;
}

/**
 * Net revenue per customer in the window `[startMs, windowEndMs(startMs))` of each customer observed
 * through it (window end ≤ `asOfMs`), subscribers against one-off buyers: count, mean and median per
 * group, and the difference of means with a 95% interval (compareMeans: Welch standard error, Hall's
 * skewness correction). Descriptive: who subscribes is self-selected.
 */
export function compareLtv(
  customers: readonly LtvCustomer[],
  o: { asOfMs: number; windowEndMs: (startMs: number) => number },
): LtvComparison {
  const values = { subscriber: [] as number[], oneOff: [] as number[] };
  const tooRecent = { subscriber: 0, oneOff: 0 };
  for (const c of customers) {
    const end = o.windowEndMs(c.startMs);
    if (end > o.asOfMs) {
      tooRecent[c.group]++;
      continue;
    }
    let net = 0;
    for (const x of c.orders) if (x.atMs >= c.startMs && x.atMs < end) net += x.netMinor;
    values[c.group].push(net);
  }
  const group = (k: 'subscriber' | 'oneOff'): LtvGroup => {
    const v = values[k];
    return {
      customers: v.length,
      tooRecent: tooRecent[k],
      meanMinor: v.length ? v.reduce((s, x) => s + x, 0) / v.length : null,
      medianMinor: median(v),
    };
  };
  let difference: LtvComparison['difference'] = null;
  let differenceUnavailable: string | null = null;
  if (values.subscriber.length < 2 || values.oneOff.length < 2)
    differenceUnavailable = `each group needs at least 2 customers observed through the window (subscribers ${values.subscriber.length}, one-off buyers ${values.oneOff.length})`;
  else {
    const c = compareMeans(values.oneOff, values.subscriber);
    difference = {
      estimateMinor: c.difference.estimate,
      lowMinor: c.difference.low,
      highMinor: c.difference.high,
      pValue: c.difference.pValue,
      method: c.difference.intervalMethod ?? 'normal',
    };
  }
  return { subscribers: group('subscriber'), oneOff: group('oneOff'), difference, differenceUnavailable };
}
