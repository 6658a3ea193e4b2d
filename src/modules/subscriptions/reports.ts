import { z } from '@hono/zod-openapi';
import { calendarOf } from '../../analytics/calendar.js';
import { mrrMovements, survivorCurves, type MrrChange } from '../../analytics/subscriptions/mrr.js';
import {
  addCalendarMonths,
  cancelReasons,
  cohortRows,
  compareLtv,
  forecastVsActual,
  monthIndexOf,
  monthLabel,
  monthPeriods,
  pooledCohorts,
  type LtvComparison,
  type LtvCustomer,
} from '../../analytics/subscriptions/report.js';
import type { ModuleContext } from '../../kit/context.js';
import { parseInput } from '../../kit/http/input.js';
import { AppError } from '../../shared/errors.js';
import { minorDigits } from '../../shared/money.js';
import { formatMoney } from '../reports/digestFormat.js';
import { getStore } from '../settings/service.js';
import * as repo from './reportsRepository.js';

/**
 * The subscription report (issue 28, docs/subscriptions.md#reports): `subscriptionReport(ctx, input)`
 * behind `GET /v1/subscriptions/report` and `retain subscriptions report` (Markdown by
 * {@link subscriptionReportMarkdown}). MRR and its movements by month, active subscribers, churn and
 * retention by start cohort with the sBG model fitted per cohort and pooled, the forecast of a model
 * fitted on the first months against what happened after, cancel reasons, and the net revenue of
 * subscribers against one-off buyers of the same products. Months are cut in the store time zone; the
 * figures are in the store currency (subscriptions in another currency are left out and counted).
 */

// ---- input ------------------------------------------------------------------------------------

const Month = (what: string) =>
  z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month YYYY-MM (01–12)')
    .optional()
    .describe(what);

export const SubscriptionReportInput = z
  .object({
    from: Month('first month, YYYY-MM in the store time zone (default: the month of the first subscription)'),
    to: Month('last month, YYYY-MM (default: the current month; later months are left out)'),
    plan: z.string().trim().min(1).optional().describe('one plan by name (default: every plan)'),
    train: z.coerce
      .number()
      .int('a whole number of months')
      .min(3, 'at least 3 months')
      .max(120, 'at most 120 months')
      .default(12)
      .describe('months the forecast-vs-actual model is fitted on (default: 12)'),
    ltvMonths: z.coerce
      .number()
      .int('a whole number of months')
      .min(1, 'at least 1 month')
      .max(60, 'at most 60 months')
      .default(12)
      .describe(
        'months after the start over which subscribers and one-off buyers are compared (default: 12)',
      ),
  })
  .openapi('SubscriptionReportQuery');
export type SubscriptionReportInput = z.input<typeof SubscriptionReportInput>;

// ---- output -----------------------------------------------------------------------------------

const Minor = z.number().int();
const Share = z.number();

const MonthRow = z.object({
  month: z.string().openapi({ description: 'YYYY-MM in the store time zone' }),
  complete: z
    .boolean()
    .openapi({ description: 'false for the month in progress (its end is the report instant)' }),
  startMrrMinor: Minor,
  newMinor: Minor,
  expansionMinor: Minor,
  contractionMinor: Minor,
  churnedMinor: Minor,
  reactivatedMinor: Minor,
  endMrrMinor: Minor.openapi({
    description: 'start + new + reactivated + expansion − contraction − churned, exactly',
  }),
  activeAtEnd: z.number().int().openapi({ description: 'subscriptions with MRR above 0 at the month end' }),
  newCount: z.number().int(),
  churnedCount: z.number().int(),
  reactivatedCount: z.number().int(),
});

const Forecast = z.object({ month: z.number().int(), survival: Share, expectedAlive: z.number() });

const Fit = z.object({
  alpha: z.number(),
  beta: z.number(),
  logLikelihood: z.number(),
  subscribers: z.number().int(),
  months: z.number().int().openapi({ description: 'the longest survivor curve fitted (months since start)' }),
});
const FitWithForecast = Fit.extend({
  forecast: z
    .array(Forecast)
    .openapi({ description: 'S(t) and size × S(t) for the months after the fitted ones' }),
});

const CohortRow = z.object({
  cohort: z.string().openapi({ description: 'the start month, YYYY-MM' }),
  size: z.number().int(),
  observedMonths: z.number().int(),
  alive: z
    .array(z.number().int())
    .openapi({ description: 'alive[t]: not cancelled t months after the start' }),
  survival: z.array(Share),
  retention: z.array(Share.nullable()),
  churn: z.array(Share.nullable()),
  sbg: FitWithForecast.nullable(),
});

const ForecastMonth = z.object({
  month: z.number().int(),
  part: z.enum(['train', 'forecast']),
  cohorts: z.number().int(),
  subscribers: z.number().int(),
  actualAlive: z.number().int(),
  forecastAlive: z.number(),
  actualSurvival: Share,
  forecastSurvival: Share,
  error: z.number().openapi({ description: 'forecastSurvival − actualSurvival' }),
});

export const SubscriptionReport = z
  .object({
    definition: z.literal('subscriptions.report'),
    generatedAt: z.string(),
    asOf: z.string().openapi({ description: 'the instant the figures are taken at (exclusive)' }),
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    currency: z.string(),
    minorDigits: z.number().int(),
    plan: z.string().nullable(),
    subscriptions: z.object({
      inScope: z.number().int(),
      otherCurrencies: z.array(z.object({ currency: z.string(), subscriptions: z.number().int() })),
    }),
    months: z.array(MonthRow),
    cohorts: z.object({
      rows: z.array(CohortRow),
      pooled: z.object({
        cohorts: z.number().int(),
        subscribers: z.number().int(),
        survival: z.array(Share),
        retention: z.array(Share.nullable()),
        atRisk: z.array(z.number().int()),
        sbg: FitWithForecast.nullable(),
      }),
    }),
    forecastVsActual: z.object({
      train: z.number().int(),
      cohorts: z.array(z.string()),
      subscribers: z.number().int(),
      fit: Fit.nullable(),
      months: z.array(ForecastMonth),
      meanAbsoluteError: z.number().nullable(),
      maxAbsoluteError: z.number().nullable(),
      byCohort: z.array(
        z.object({
          cohort: z.string(),
          size: z.number().int(),
          fit: Fit.nullable(),
          months: z.array(
            z.object({
              month: z.number().int(),
              part: z.enum(['train', 'forecast']),
              actualSurvival: Share,
              forecastSurvival: Share,
            }),
          ),
          meanAbsoluteError: z.number().nullable(),
        }),
      ),
    }),
    cancelReasons: z.object({
      total: z.number().int(),
      reasons: z.array(
        z.object({
          reason: z.string(),
          count: z.number().int(),
          share: Share,
          notes: z.array(z.object({ at: z.string(), note: z.string() })),
        }),
      ),
    }),
    ltv: z.object({
      months: z.number().int(),
      products: z.array(z.string()),
      subscribers: z.object({
        customers: z.number().int(),
        tooRecent: z.number().int(),
        meanMinor: z.number().nullable(),
        medianMinor: z.number().nullable(),
      }),
      oneOff: z.object({
        customers: z.number().int(),
        tooRecent: z.number().int(),
        meanMinor: z.number().nullable(),
        medianMinor: z.number().nullable(),
      }),
      difference: z
        .object({
          estimateMinor: z.number(),
          lowMinor: z.number(),
          highMinor: z.number(),
          pValue: z.number(),
          method: z.enum(['skewness-corrected', 'normal']),
        })
        .nullable(),
      differenceUnavailable: z.string().nullable(),
      verdict: z.string(),
    }),
    notes: z.array(z.string()),
  })
  .openapi('SubscriptionReport');
export type SubscriptionReport = z.infer<typeof SubscriptionReport>;

// ---- the service ------------------------------------------------------------------------------

/** Cohorts need this many observed months for their own sBG fit. */
export const MIN_FIT_MONTHS = 3;
/** Months forecast after the fitted ones. */
export const FORECAST_MONTHS = 12;
/** The longest report: 50 years of months. */
const MAX_MONTHS = 600;

const field = (name: string, message: string) =>
  new AppError('validation', message, { where: { field: name } });

/**
 * `subscriptionReport(ctx, input)`: the months `[from, to]` (store calendar), the figures taken at the
 * end of `to` or now, whichever is earlier. Refused with the field: a month that is not YYYY-MM, `from`
 * after `to`, a plan that does not exist; 409 when the store has no currency and no subscription says one.
 */
export async function subscriptionReport(ctx: ModuleContext, input: unknown): Promise<SubscriptionReport> {
  const q = parseInput(SubscriptionReportInput, input ?? {}, 'query');
  const now = ctx.clock.now();
  const store = await getStore(ctx);
  const cal = calendarOf(store.timeZone);
  const planId = q.plan === undefined ? null : await repo.planIdByName(ctx.db, q.plan);
  if (q.plan !== undefined && planId === null) throw field('plan', `no subscription plan named '${q.plan}'`);

  const current = cal.monthIndexOfMs(now.getTime());
  const asked = q.to === undefined ? current : monthIndexOf(q.to)!;
  const last = Math.min(asked, current);
  // Everything up to now counts (an action stamped at this very instant too).
  const asOfMs = Math.min(now.getTime() + 1, cal.periodStart(last + 1, 'month').getTime());
  const asOf = new Date(asOfMs);
  if (q.from !== undefined && monthIndexOf(q.from)! > last)
    throw field(
      'from',
      asked > current && monthIndexOf(q.from)! <= asked
        ? `from ${q.from} is after the current month ${monthLabel(current)}: there is nothing to report yet`
        : `from ${q.from} is after to ${monthLabel(asked)}`,
    );

  const byCurrency = await repo.subscriptionsByCurrency(ctx.db, asOf, planId);
  const currency = store.currency ?? byCurrency[0]?.currency;
  if (!currency)
    throw new AppError(
      'conflict',
      'the store has no currency and no subscriptions: set it first (retain store set --currency)',
    );
  const scope: repo.Scope = { asOf, currency, planId };
  const started = await repo.firstStart(ctx.db, scope);
  const first =
    q.from !== undefined
      ? monthIndexOf(q.from)!
      : started
        ? Math.min(cal.monthIndexOfMs(started.getTime()), last)
        : last;
  if (last - first + 1 > MAX_MONTHS)
    throw field(
      'from',
      `at most ${MAX_MONTHS} months at once (from ${monthLabel(first)} to ${monthLabel(last)})`,
    );
  const periods = monthPeriods(cal, first, last, asOfMs);
  const fromMs = periods[0]!.startMs;

  // MRR and its movements.
  const changes: MrrChange[] = (await repo.mrrChanges(ctx.db, scope)).map((r) => ({
    subscription: String(r.subscription_id),
    atMs: r.at.getTime(),
    mrrMinor: r.mrr_minor,
  }));
  const months = mrrMovements(changes, periods).map((m, i) => ({
    month: m.label,
    complete: cal.periodStart(first + i + 1, 'month').getTime() <= asOfMs,
    startMrrMinor: m.startMrrMinor,
    newMinor: m.newMinor,
    expansionMinor: m.expansionMinor,
    contractionMinor: m.contractionMinor,
    churnedMinor: m.churnedMinor,
    reactivatedMinor: m.reactivatedMinor,
    endMrrMinor: m.endMrrMinor,
    activeAtEnd: m.activeAtEnd,
    newCount: m.newCount,
    churnedCount: m.churnedCount,
    reactivatedCount: m.reactivatedCount,
  }));

  // Cancellations: the customer's, and dunning's final action `cancel` (reason payment_failed).
  const cancelled = (await repo.stopEvents(ctx.db, scope)).flatMap((e) => {
    const d = detailOf(e.detail);
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    if (e.type === 'cancelled')
      return [{ id: e.subscription_id, atMs: e.at.getTime(), reason: text(d.reason), note: text(d.note) }];
    if (e.mrr_minor === 0 && d.finalAction === 'cancel')
      return [
        { id: e.subscription_id, atMs: e.at.getTime(), reason: 'payment_failed', note: text(d.reason) },
      ];
    return [];
  });
  const firstCancel = new Map<number, number>();
  for (const c of cancelled) if (!firstCancel.has(c.id)) firstCancel.set(c.id, c.atMs);

  // Survival by start cohort (the cohorts starting in the months reported): the first cancellation
  // ends a subscriber; one cancelled without a history entry (an erased customer's) at cancelled_at.
  const subs = await repo.subscribers(ctx.db, scope);
  const cohortSubs = subs
    .filter((s) => s.started_at.getTime() >= fromMs)
    .map((s) => ({
      startMs: s.started_at.getTime(),
      endMs:
        firstCancel.get(s.subscription_id) ??
        (s.status === 'cancelled' && s.cancelled_at !== null && s.cancelled_at.getTime() < asOfMs
          ? s.cancelled_at.getTime()
          : null),
    }));
  const curves = survivorCurves(cohortSubs, {
    asOfMs,
    cohortOf: (ms) => monthLabel(cal.monthIndexOfMs(ms)),
    periodEndMs: (start, t) => addCalendarMonths(cal, start, t),
    maxPeriods: MAX_MONTHS,
  });
  const fitOptions = { minMonths: MIN_FIT_MONTHS, horizon: FORECAST_MONTHS };
  const rows = cohortRows(curves, fitOptions);
  const pooled = pooledCohorts(curves, fitOptions);
  const fva = forecastVsActual(curves, q.train);

  const reasons = cancelReasons(
    cancelled.filter((c) => c.atMs >= fromMs),
    3,
  );

  // Subscribers against one-off buyers of the same products.
  const skus = await repo.subscribedSkus(ctx.db, scope);
  const [groups, orders] = await Promise.all([
    repo.ltvGroups(ctx.db, scope, skus, new Date(fromMs)),
    repo.ltvOrders(ctx.db, scope, skus, new Date(fromMs)),
  ]);
  const byCustomer = new Map<number, { atMs: number; netMinor: number }[]>();
  for (const o of orders) {
    let list = byCustomer.get(o.customer_id);
    if (!list) byCustomer.set(o.customer_id, (list = []));
    list.push({ atMs: o.ordered_at.getTime(), netMinor: o.net_minor });
  }
  const ltvCustomers: LtvCustomer[] = groups.map((g) => ({
    group: g.grp,
    startMs: g.start_at.getTime(),
    orders: byCustomer.get(g.customer_id) ?? [],
  }));
  const ltv = compareLtv(ltvCustomers, {
    asOfMs,
    windowEndMs: (start) => addCalendarMonths(cal, start, q.ltvMonths),
  });
  const digits = minorDigits(currency);

  const others = byCurrency.filter((c) => c.currency !== currency);
  const notes = [
    `Months are calendar months in ${cal.zone}, ${monthLabel(first)} to ${monthLabel(last)}; the figures are taken at ${asOf.toISOString()}` +
      (asked > current ? ` (months after the current one, ${monthLabel(current)}, are left out)` : '') +
      '.',
    `Money is in ${currency} minor units (${digits} decimal digits).` +
      (others.length
        ? ` Left out: ${others.map((o) => `${o.subscriptions} subscription${o.subscriptions === 1 ? '' : 's'} in ${o.currency}`).join(', ')}.`
        : ''),
    'MRR: each subscription’s price per delivery × quantity normalised to a month (a month is 52/12 weeks or 365/12 days), while it is active or past due (0 paused or cancelled), as recorded on its history at each change. A month’s movement compares each subscription’s MRR at the month’s start with its MRR at its end: new (0 → x, never paying before), reactivated (0 → x, paying some time before: a reactivation or the end of a pause), expansion and contraction (x → y, both above 0), churned (x → 0: a cancellation or a pause). start + new + reactivated + expansion − contraction − churned = end, exactly; a subscription that starts and stops within one month moves nothing. Active = MRR above 0 at the month’s end.',
    'Cohorts: subscriptions by the month they started. A month since start is a calendar month from the start instant (a start on Jan 31 reaches month 1 on Feb 28/29), in the store zone. alive[t] = subscriptions not cancelled t months after their start; a cohort is counted only through the months every member has reached. Survival counts the first cancellation (the customer’s, or dunning’s after the last failed payment): a reactivation is not a survival (it shows as reactivated MRR); a pause is not a cancellation. Retention[t] = alive[t] / alive[t − 1], churn = 1 − retention.',
    `sBG (shifted-beta-geometric, Fader & Hardie 2007): each subscriber cancels in any month with their own probability θ, θ ~ Beta(α, β) across subscribers, so S(t) = B(α, β + t) / B(α, β) — the falling churn of a cohort is heterogeneity, not subscribers growing loyal. Fitted by maximum likelihood per cohort with at least ${MIN_FIT_MONTHS} observed months, and on all cohorts at once (pooled: the sum of the cohorts’ likelihoods); a fit that does not converge (e.g. nobody cancelled) is left out. Very large α and β (hundreds and more) mean no visible heterogeneity: a constant monthly churn α / (α + β). Forecasts cover the ${FORECAST_MONTHS} months after the fitted ones.`,
    `Forecast vs actual: the cohorts observed beyond ${q.train} months, the sBG fitted on their first ${q.train} months only, against their survival in the months after; at each month only the cohorts observed through it count (pooled), and each cohort also with its own fit.`,
    'Cancel reasons: the cancellations in the months reported, by reason code (a subscription cancelled twice counts twice), with the latest distinct notes customers left (up to three). A subscription cancelled by dunning (its last payment attempt failed) counts under payment_failed, the payment system’s reason as its note.',
    `LTV, subscribers vs one-off buyers: for the products subscribed to (${skus.join(', ') || 'none'}), net revenue (sale orders in ${currency} of any product, less their refunds) per customer over the ${q.ltvMonths} months after the start — a subscriber’s first subscription, a one-off buyer’s first purchase of one of these products (not a recurring order; one-off buyers never subscribed) — for customers starting in the months reported and observed that long. Difference of means with a 95% interval (Welch standard error, Hall’s skewness correction). Not causal: who subscribes is self-selected.`,
  ];
  return {
    definition: 'subscriptions.report',
    generatedAt: now.toISOString(),
    asOf: asOf.toISOString(),
    from: monthLabel(first),
    to: monthLabel(last),
    timeZone: cal.zone,
    currency,
    minorDigits: digits,
    plan: q.plan ?? null,
    subscriptions: { inScope: subs.length, otherCurrencies: others },
    months,
    cohorts: { rows, pooled },
    forecastVsActual: fva,
    cancelReasons: {
      total: reasons.total,
      reasons: reasons.reasons.map((r) => ({
        ...r,
        notes: r.notes.map((n) => ({ at: new Date(n.atMs).toISOString(), note: n.note })),
      })),
    },
    ltv: {
      months: q.ltvMonths,
      products: skus,
      ...ltv,
      verdict: ltvVerdict(ltv, q.ltvMonths, currency, digits),
    },
    notes,
  };
}

function detailOf(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Below this many customers in a group the verdict says there are too few to tell. */
export const FEW_CUSTOMERS = 30;

/** The LTV comparison in plain words: the difference, its interval, what it allows one to say, not causal. */
export function ltvVerdict(l: LtvComparison, months: number, currency: string, digits: number): string {
  const money = (minor: number) => formatMoney(minor, digits, currency);
  const s = l.subscribers;
  const o = l.oneOff;
  if (s.customers === 0 && o.customers === 0)
    return `No subscriber or one-off buyer has been observed for ${months} months yet: nothing to compare.`;
  if (!l.difference || s.customers < FEW_CUSTOMERS || o.customers < FEW_CUSTOMERS)
    return (
      `Too few customers to tell: ${s.customers} subscribers and ${o.customers} one-off buyers observed for ${months} ` +
      `months (at least ${FEW_CUSTOMERS} in each group are needed for a usable interval).`
    );
  const d = l.difference;
  const reading =
    d.lowMinor > 0
      ? 'more than chance alone would explain'
      : d.highMinor < 0
        ? 'less, by more than chance alone would explain'
        : 'not distinguishable from no difference';
  return (
    `Over the ${months} months after they started, subscribers brought ${money(s.meanMinor!)} net per customer ` +
    `(median ${money(s.medianMinor!)}, ${s.customers} customers) and one-off buyers of the same products ` +
    `${money(o.meanMinor!)} (median ${money(o.medianMinor!)}, ${o.customers} customers): a difference of ` +
    `${money(d.estimateMinor)} (95% CI ${money(d.lowMinor)} to ${money(d.highMinor)}), ${reading}. ` +
    `This describes how the two groups differ, not what subscribing causes: customers chose to subscribe.`
  );
}

// ---- Markdown -----------------------------------------------------------------------------------

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function mdTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

const int = (n: number) => (n < 0 ? '−' : '') + Math.abs(Math.round(n)).toLocaleString('en-US');
const pct = (x: number | null, digits = 1) => (x === null ? '–' : `${(x * 100).toFixed(digits)}%`);
const num = (x: number, digits = 3) => x.toFixed(digits);

/** The forecast-vs-actual table (pooled) as Markdown: month, cohorts, subscribers, actual, forecast, error. */
export function forecastTable(r: SubscriptionReport, part: 'forecast' | 'all' = 'forecast'): string {
  const f = r.forecastVsActual;
  return mdTable(
    ['Month', 'Cohorts', 'Subscribers', 'Actual alive', 'Forecast alive', 'Actual', 'Forecast', 'Error (pp)'],
    f.months
      .filter((m) => part === 'all' || m.part === 'forecast')
      .map((m) => [
        `${m.month}${m.part === 'train' ? ' (fitted)' : ''}`,
        int(m.cohorts),
        int(m.subscribers),
        int(m.actualAlive),
        m.forecastAlive.toFixed(1),
        pct(m.actualSurvival),
        pct(m.forecastSurvival),
        (m.error * 100).toFixed(1),
      ]),
  );
}

/** The report as Markdown (the command's human output). */
export function subscriptionReportMarkdown(r: SubscriptionReport): string {
  const money = (minor: number | null) => formatMoney(minor, r.minorDigits, null);
  const out: string[] = [];
  out.push('# Subscription report', '');
  out.push(
    `${r.from} to ${r.to} (${r.timeZone}), ${r.currency}${r.plan ? `, plan ${r.plan}` : ', all plans'}; ` +
      `figures at ${r.asOf}. ${int(r.subscriptions.inScope)} subscriptions.`,
    '',
  );

  out.push('## MRR', '');
  out.push(
    mdTable(
      [
        'Month',
        'Start',
        'New',
        'Reactivated',
        'Expansion',
        'Contraction',
        'Churned',
        'End',
        'Active',
        'New #',
        'Churned #',
        'Reactivated #',
      ],
      r.months.map((m) => [
        `${m.month}${m.complete ? '' : ' (so far)'}`,
        money(m.startMrrMinor),
        money(m.newMinor),
        money(m.reactivatedMinor),
        money(m.expansionMinor),
        money(m.contractionMinor),
        money(m.churnedMinor),
        money(m.endMrrMinor),
        int(m.activeAtEnd),
        int(m.newCount),
        int(m.churnedCount),
        int(m.reactivatedCount),
      ]),
    ),
    '',
  );

  out.push('## Survival by start cohort', '');
  const marks = [1, 3, 6, 12, 24];
  out.push(
    mdTable(
      ['Cohort', 'Size', 'Observed', ...marks.map((t) => `M${t}`), 'sBG α', 'sBG β', 'Forecast +12'],
      r.cohorts.rows.map((c) => [
        c.cohort,
        int(c.size),
        int(c.observedMonths),
        ...marks.map((t) => (t < c.survival.length ? pct(c.survival[t]!) : '–')),
        c.sbg ? num(c.sbg.alpha) : '–',
        c.sbg ? num(c.sbg.beta) : '–',
        c.sbg ? pct(c.sbg.forecast.at(-1)?.survival ?? null) : '–',
      ]),
    ),
    '',
  );
  const p = r.cohorts.pooled;
  out.push(
    `Pooled: ${int(p.subscribers)} subscriptions in ${int(p.cohorts)} cohorts; survival ` +
      marks
        .filter((t) => t < p.survival.length)
        .map((t) => `M${t} ${pct(p.survival[t]!)}`)
        .join(', ') +
      (p.sbg
        ? `. sBG α = ${num(p.sbg.alpha)}, β = ${num(p.sbg.beta)}; forecast ` +
          p.sbg.forecast
            .filter((_, i) => i === 0 || i === p.sbg!.forecast.length - 1)
            .map((f) => `M${f.month} ${pct(f.survival)}`)
            .join(', ')
        : '; no sBG fit') +
      '.',
    '',
  );

  const f = r.forecastVsActual;
  out.push(`## sBG forecast vs actual (fitted on months 1–${f.train})`, '');
  if (!f.fit)
    out.push(`No cohort has been observed beyond ${f.train} months (or the fit did not converge).`, '');
  else {
    out.push(
      `${f.cohorts.length} cohorts (${f.cohorts[0]} to ${f.cohorts.at(-1)}), ${int(f.subscribers)} subscriptions; ` +
        `α = ${num(f.fit.alpha)}, β = ${num(f.fit.beta)}. Mean |error| ${pct(f.meanAbsoluteError)}, ` +
        `largest ${pct(f.maxAbsoluteError)} (survival points).`,
      '',
      forecastTable(r),
      '',
    );
  }

  const c = r.cancelReasons;
  out.push('## Cancel reasons', '');
  if (c.total === 0) out.push('No cancellations in the months reported.', '');
  else
    out.push(
      mdTable(
        ['Reason', 'Cancellations', 'Share', 'Latest notes'],
        c.reasons.map((x) => [
          x.reason,
          int(x.count),
          pct(x.share),
          x.notes.map((n) => `“${n.note}”`).join('; '),
        ]),
      ),
      '',
    );

  const l = r.ltv;
  out.push(`## Subscribers vs one-off buyers (${l.months} months)`, '');
  out.push(l.verdict, '');
  out.push(
    mdTable(
      ['', 'Customers', 'Too recent', 'Mean', 'Median'],
      [
        [
          'Subscribers',
          int(l.subscribers.customers),
          int(l.subscribers.tooRecent),
          money(l.subscribers.meanMinor),
          money(l.subscribers.medianMinor),
        ],
        [
          'One-off buyers',
          int(l.oneOff.customers),
          int(l.oneOff.tooRecent),
          money(l.oneOff.meanMinor),
          money(l.oneOff.medianMinor),
        ],
      ],
    ),
    '',
  );

  out.push('## Notes', '');
  for (const n of r.notes) out.push(`- ${n}`);
  out.push('');
  return out.join('\n');
}
