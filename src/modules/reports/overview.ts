import {
  cohortFigures,
  periodFigures,
  relativeChange,
  sliceOffsets,
  type CohortValue,
  type PeriodFigures,
} from '../../analytics/metrics/overview.js';
import { cohortReportFromCells } from '../../analytics/metrics/cohorts.js';
import { roundHalfAway } from '../../analytics/metrics/util.js';
import { invalid } from '../../shared/errors.js';
import { minorDigits } from '../../shared/money.js';
import { DAY_MS, parseDay } from '../../shared/time.js';
import type { ModuleContext } from '../../kit/context.js';
import * as repo from './repository.js';
import type { OverviewInput } from './schema.js';
import { reportContext } from './service.js';

/** One Overview figure: this period, the period before, the change, and the period's sparkline. */
export interface OverviewFigure {
  value: number | null;
  previous: number | null;
  /** Rates: value − previous (points as a fraction); others: (value − previous) / |previous|. */
  change: number | null;
  changeKind: 'relative' | 'points';
  /** The period in equal slices (`series.slices`), or its cohort months (`series.cohorts`) for the LTV figures. */
  series: (number | null)[];
}

const PERIOD_FIGURES = [
  'customers',
  'newCustomers',
  'orders',
  'netRevenue',
  'aov',
  'repeatCustomerRate',
  'retention',
  'churn',
] as const;
type FigureName = (typeof PERIOD_FIGURES)[number] | 'sixMonthLtv' | 'ltvToCac';
const RATES = new Set<FigureName>(['repeatCustomerRate', 'retention', 'churn']);

export interface OverviewOutput {
  report: 'overview';
  asOf: string;
  timeZone?: string;
  currency: string;
  period: { from: string; to: string; days: number };
  previous: { from: string; to: string };
  figures: Record<FigureName, OverviewFigure>;
  series: { slices: { from: string; to: string }[]; cohorts: string[] };
  notes: string[];
  /** Figure → anchor in docs/metrics.md. */
  definitions: Record<FigureName, string>;
}

const dayText = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const dayOf = (text: string) => parseDay(text)!.getTime() / DAY_MS;

/**
 * `report overview`: the store's figures over a period of days (default: the 365 days up to the as-of
 * day) against the period of the same length just before — customers, new customers, orders, net revenue,
 * AOV, repeat-customer rate, retention and churn (from per-slice counts summed in the database), and the
 * 6-month LTV and LTV:CAC of the month cohorts acquired in the period (those whose first day is in it) — each with its sparkline over the
 * period (docs/metrics.md#overview).
 */
export async function overviewReport(ctx: ModuleContext, input: OverviewInput = {}): Promise<OverviewOutput> {
  const { db } = ctx;
  const at = await reportContext(db, input.asOf ?? input.to);
  const cal = at.calendar;
  const asOfDay = dayOf(at.asOfDay);
  const toDay = input.to === undefined ? asOfDay : dayOf(input.to);
  if (toDay > asOfDay)
    throw invalid(`expected --to at or before the as-of day ${at.asOfDay}, got ${input.to}`, {
      field: '--to',
    });
  const fromDay = input.from === undefined ? toDay - 364 : dayOf(input.from);
  if (fromDay > toDay)
    throw invalid(`expected --from (${dayText(fromDay)}) at or before --to (${dayText(toDay)})`, {
      field: '--from',
    });
  const days = toDay - fromDay + 1;
  const start = (day: number) => new Date(cal.dayStartMs(day));

  // This period, the one before, and the one before that (for the previous period's retention).
  const coarse = await repo.sliceFacts(db, at.asOf, at.currency, [
    start(fromDay - 2 * days),
    start(fromDay - days),
    start(fromDay),
    start(toDay + 1),
  ]);
  const current = periodFigures(coarse[2]!, coarse[1]);
  const before = periodFigures(coarse[1]!, coarse[0]);
  // The sparkline: the period in equal slices, with one slice before it for the first one's retention.
  const offsets = sliceOffsets(days, 12);
  const lead = offsets[1]! - offsets[0]!;
  const fine = await repo.sliceFacts(db, at.asOf, at.currency, [
    start(fromDay - lead),
    ...offsets.map((o) => start(fromDay + o)),
  ]);
  const slices = fine.slice(1).map((s, i) => periodFigures(s, fine[i]));

  // Month cohorts acquired in each period: those whose first day lies in it (so none is in both).
  const cells = await repo.cohortCells(db, at.asOf, at.currency, 'month', undefined, at.sqlZone);
  const spend = await repo.spendRows(db, at.asOf, at.currency, cal);
  const all = cohortReportFromCells({ cells, asOf: at.asOf, period: 'month', spend, calendar: cal });
  const cohortsOf = (first: number, last: number) =>
    all.cohorts.filter((c) => {
      const day = dayOf(`${c.cohort}-01`);
      return day >= first && day <= last;
    });
  const cohortsNow = cohortsOf(fromDay, toDay);
  const values = (cohorts: typeof all.cohorts): CohortValue[] =>
    cohorts.map((c) => {
      // Six whole months: the sixth (k = 5) is over unless it is the partial month of the as-of day.
      const whole =
        c.cumulativeRevenuePerCustomer.length > 6 ||
        (c.cumulativeRevenuePerCustomer.length === 6 && !c.lastPeriodPartial);
      return {
        size: c.size,
        sixMonthLtvMinor: whole ? c.sixMonthLtvMinor : null,
        sixMonthMarginMinor: whole ? (c.cumulativeMarginPerCustomer[5] ?? null) : null,
        spendMinor: c.spendMinor,
      };
    });
  const ltvNow = cohortFigures(values(cohortsNow));
  const ltvBefore = cohortFigures(values(cohortsOf(fromDay - days, fromDay - 1)));
  const perCohort = values(cohortsNow).map((c) => cohortFigures([c]));

  const digits = minorDigits(at.currency);
  const money = (m: number | null) => (m === null ? null : roundHalfAway(m) / 10 ** digits);
  const periodValue = (f: PeriodFigures, name: (typeof PERIOD_FIGURES)[number]): number | null => {
    switch (name) {
      case 'netRevenue':
        return money(f.netRevenueMinor);
      case 'aov':
        return money(f.aovMinor);
      default:
        return f[name];
    }
  };
  const figure = (
    name: FigureName,
    value: number | null,
    previous: number | null,
    series: (number | null)[],
  ): OverviewFigure => {
    const points = RATES.has(name);
    return {
      value,
      previous,
      change: points
        ? value === null || previous === null
          ? null
          : value - previous
        : relativeChange(value, previous),
      changeKind: points ? 'points' : 'relative',
      series,
    };
  };
  const figures = {} as Record<FigureName, OverviewFigure>;
  for (const name of PERIOD_FIGURES)
    figures[name] = figure(
      name,
      periodValue(current, name),
      periodValue(before, name),
      slices.map((s) => periodValue(s, name)),
    );
  figures.sixMonthLtv = figure(
    'sixMonthLtv',
    money(ltvNow.sixMonthLtvMinor),
    money(ltvBefore.sixMonthLtvMinor),
    perCohort.map((c) => money(c.sixMonthLtvMinor)),
  );
  figures.ltvToCac = figure(
    'ltvToCac',
    ltvNow.ltvToCac,
    ltvBefore.ltvToCac,
    perCohort.map((c) => c.ltvToCac),
  );

  const notes: string[] = [];
  if (ltvNow.matureCustomers === 0)
    notes.push(
      'no customer acquired in the period is 6 months old by the as-of day: 6-month LTV and LTV:CAC need a period that starts earlier',
    );
  if (spend.length === 0)
    notes.push(
      'no marketing spend data: LTV:CAC is not available (retain import spend <file>, or POST /v1/spend)',
    );
  if (all.marginBasis === 'revenue')
    notes.push('product costs are unknown: LTV:CAC uses net revenue as the margin');
  return {
    report: 'overview',
    asOf: at.asOfDay,
    ...(cal.utc ? {} : { timeZone: cal.zone }),
    currency: at.currency,
    period: { from: dayText(fromDay), to: dayText(toDay), days },
    previous: { from: dayText(fromDay - days), to: dayText(fromDay - 1) },
    figures,
    series: {
      slices: offsets.slice(1).map((o, i) => ({
        from: dayText(fromDay + offsets[i]!),
        to: dayText(fromDay + o - 1),
      })),
      cohorts: cohortsNow.map((c) => c.cohort),
    },
    notes,
    definitions: {
      customers: 'overview.customers',
      newCustomers: 'overview.new_customers',
      orders: 'overview.orders',
      netRevenue: 'overview.net_revenue',
      aov: 'overview.aov',
      repeatCustomerRate: 'overview.repeat_customer_rate',
      retention: 'overview.retention',
      churn: 'overview.churn',
      sixMonthLtv: 'overview.six_month_ltv',
      ltvToCac: 'overview.ltv_to_cac',
    },
  };
}
