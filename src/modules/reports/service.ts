import { channelsReportFromFacts, type ChannelsReport } from '../../analytics/metrics/channels.js';
import {
  cohortCells,
  cohortReportFromCells,
  type CohortCell,
  type CohortReport,
} from '../../analytics/metrics/cohorts.js';
import {
  decomposeRevenuePerCustomer,
  type DecompositionReport,
} from '../../analytics/metrics/decomposition.js';
import { buildDigest } from '../../analytics/metrics/digest.js';
import {
  ltvFacts,
  ltvReport as computeLtv,
  ltvReportFromFacts,
  ltvWindow,
  type LtvFacts,
  type LtvReport,
} from '../../analytics/metrics/ltv.js';
import {
  retentionCounts,
  retentionReportFromCounts,
  type RetentionReport,
} from '../../analytics/metrics/retention.js';
import {
  RFM_SEGMENTS,
  rfmReportFromValues,
  rfmScores,
  type RfmReport,
  type RfmSegment,
} from '../../analytics/metrics/rfm.js';
import { calendarOf, type Calendar } from '../../analytics/calendar.js';
import { summarize } from '../../analytics/metrics/summary.js';
import type { CustomerProfile, DateRange, OrderFact } from '../../analytics/metrics/types.js';
import {
  monthIndexOfMs,
  monthRange,
  netOf,
  periodLabel,
  roundHalfAway,
} from '../../analytics/metrics/util.js';
import { AppError, invalid } from '../../shared/errors.js';
import { minorDigits, minorToDecimal } from '../../shared/money.js';
import { DAY_MS, parseDay } from '../../shared/time.js';
import type { Database } from '../../storage/port.js';
import type { ModuleContext } from '../../kit/context.js';
import { segmentExists, segmentScope, type SegmentScope } from '../segments/scope.js';
import { renderDigestMarkdown } from './digestFormat.js';
import * as repo from './repository.js';
import type {
  ChannelsInput,
  CohortsInput,
  DiagnoseInput,
  DigestCampaign,
  DigestDocument,
  DigestInput,
  LtvInput,
  RetentionInput,
  RfmInput,
  SummaryInput,
} from './schema.js';
import { rfmSegmentOf } from './schema.js';

/*
 * The report services: `xReport(ctx, input)` with `input` parsed by the report's input schema
 * (schema.ts). They read the store and answer the report's JSON document; they write no files and
 * read no options (`digest --out` is the command's: it renders the file from `digestReport`'s result).
 * Reports run at an explicit as-of day (default: the last order day), not at the clock's time.
 */

/**
 * Report context: the store currency, the store calendar (its time zone, UTC when none is set) and
 * the explicit `asOf` (exclusive) every report runs at.
 */
export interface ReportContext {
  currency: string;
  /** The end of the as-of day in the store time zone (the start of the next local day). */
  asOf: Date;
  /** `YYYY-MM-DD` the user asked for (inclusive), or the last order's day, in the store time zone. */
  asOfDay: string;
  /** Days, months and quarters are cut in the store time zone (docs/metrics.md#conventions). */
  calendar: Calendar;
  /** The calendar for SQL, with the span of the orders (first order to asOf). */
  sqlZone: repo.ZoneSpan;
}

/**
 * Resolves `--as-of YYYY-MM-DD` (inclusive: the whole day counts, in the store time zone) into the
 * exclusive instant reports cut at; without it, the local day of the last order.
 */
export async function reportContext(db: Database, asOfText?: string): Promise<ReportContext> {
  const facts = await repo.storeFacts(db);
  if (!facts.lastOrderAt || !facts.currency)
    throw new AppError('not_found', 'the store has no orders yet: run `retain import orders <file>` first');
  const calendar = calendarOf(facts.timeZone);
  let day: number; // days since 1970-01-01 of the local as-of day
  if (asOfText !== undefined) {
    const d = parseDay(asOfText);
    if (!d) throw invalid(`expected --as-of YYYY-MM-DD, got '${asOfText}'`, { field: '--as-of' });
    day = d.getTime() / DAY_MS;
  } else {
    day = calendar.localDayOfMs(facts.lastOrderAt.getTime());
  }
  const asOf = new Date(calendar.dayStartMs(day + 1));
  return {
    currency: facts.currency,
    asOf,
    asOfDay: new Date(day * DAY_MS).toISOString().slice(0, 10),
    calendar,
    sqlZone: { calendar, from: facts.firstOrderAt ?? facts.lastOrderAt, to: asOf },
  };
}

/** `timeZone` for a report's JSON: present only when the store has a zone other than UTC. */
function zoneField(cal: Calendar): { timeZone?: string } {
  return cal.utc ? {} : { timeZone: cal.zone };
}

/** The `report summary` JSON contract: money as decimals in the store currency. */
export interface SummaryOutput {
  report: 'summary';
  asOf: string;
  /** The store time zone days are cut in; absent for UTC. */
  timeZone?: string;
  currency: string;
  customers: number;
  orders: number;
  grossRevenue: number;
  refunds: number;
  netRevenue: number;
  aov: number | null;
  ordersPerCustomer: number | null;
  repeatCustomerRate: number | null;
  avgLifespanDays: number | null;
  guestOrders: number;
  /**
   * Refunds before `asOf` that reduce no sale in scope (refunds of cancelled orders, of guest orders, of
   * customers without a sale): stored and shown, not subtracted (docs/metrics.md#refund-attribution).
   */
  refundsUnattributed: { refunds: number; amount: number };
  /** Data the figures had to correct (a refund larger than its order, counted as the order). */
  warnings: string[];
  /** Field → anchor in docs/metrics.md. */
  definitions: Record<string, string>;
}

/** `report summary`: the headline figures. */
export async function summaryReport(ctx: ModuleContext, input: SummaryInput = {}): Promise<SummaryOutput> {
  const at = await reportContext(ctx.db, input.asOf);
  const [aggregates, lost, over] = await Promise.all([
    repo.customerAggregates(ctx.db, at.asOf, at.currency),
    repo.unattributedRefunds(ctx.db, at.asOf, at.currency),
    repo.overRefundedOrders(ctx.db, at.asOf, at.currency),
  ]);
  const s = summarize({ ...aggregates, asOf: at.asOf });
  const digits = minorDigits(at.currency);
  const money = (m: number) => minorToDecimal(m, digits);
  return {
    report: 'summary',
    asOf: at.asOfDay,
    ...zoneField(at.calendar),
    currency: at.currency,
    customers: s.customers,
    orders: s.orders,
    grossRevenue: money(s.grossRevenueMinor),
    refunds: money(s.refundsMinor),
    netRevenue: money(s.netRevenueMinor),
    aov: s.aovMinor === null ? null : s.aovMinor / 10 ** digits,
    ordersPerCustomer: s.ordersPerCustomer,
    repeatCustomerRate: s.repeatCustomerRate,
    avgLifespanDays: s.avgLifespanDays,
    guestOrders: s.guestOrders,
    refundsUnattributed: { refunds: lost.refunds, amount: money(lost.amountMinor) },
    warnings: overRefundWarnings(over, at.currency),
    definitions: Object.fromEntries(
      Object.entries(s.definitions).map(([k, v]) => [
        k.replace(/Minor$/, '').replace(/^refunds$/, 'refunds'),
        v,
      ]),
    ),
  };
}

// ---------------------------------------------------------------- analytics reports

/**
 * The JSON form of a metrics-layer report: instants as ISO strings, and every money field
 * (`…Minor`, plus the per-customer cohort curves) renamed without the suffix and expressed as a
 * decimal in the store currency. Derived from the report types so the shape is declared once.
 */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T as K extends `${infer P}Minor` ? P : K]: Json<T[K]> }
      : T;

/** Arrays of money values whose names do not end in `Minor` (cohort curves). */
const MONEY_ARRAYS = new Set(['cumulativeRevenuePerCustomer', 'cumulativeMarginPerCustomer']);

/**
 * Converts a report to its {@link Json} form. Money is rounded half away from zero to the
 * currency's minor unit, except `exact…` figures (diagnosis parts), which keep 6 more decimals so
 * that they still add up.
 */
export function toJson<T>(value: T, digits: number): Json<T> {
  const scale = 10 ** digits;
  const money = (x: number | null, exact: boolean): number | null => {
    if (x === null) return null;
    return exact ? Number((x / scale).toFixed(digits + 6)) : minorToDecimal(roundHalfAway(x), digits);
  };
  const walk = (v: unknown, key: string): unknown => {
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) {
      return MONEY_ARRAYS.has(key) ? v.map((x) => money(x as number, false)) : v.map((x) => walk(x, ''));
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.endsWith('Minor') && k.length > 5) {
          const name = k.slice(0, -5);
          if (typeof x === 'number' || x === null) out[name] = money(x, k.startsWith('exact'));
          else if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
            // A map of money values (`byChannelMinor`).
            out[name] = Object.fromEntries(
              Object.entries(x).map(([kk, xx]) => [kk, typeof xx === 'number' ? money(xx, false) : xx]),
            );
          } else out[name] = x; // a definitions map naming a money field
        } else out[k] = walk(x, k);
      }
      return out;
    }
    return v;
  };
  return walk(value, '') as Json<T>;
}

/** Fields every analytics report output starts with. */
export interface ReportHeader<R extends string> {
  report: R;
  /** The last day counted (inclusive), in the store time zone. */
  asOf: string;
  /** The store time zone days and months are cut in; absent for UTC. */
  timeZone?: string;
  currency: string;
  /** Options that narrowed the data (RFM segment, date range), for the reader. */
  filters: Record<string, string>;
}

type Body<T> = Omit<Json<T>, 'asOf'>;

/** The saved or built-in segment a report is restricted to (`--segment`). */
export interface SegmentCoverage {
  name: string;
  kind: 'built-in' | 'saved';
  /** Its members when evaluated at the end of the as-of day. */
  members: number;
  evaluatedAt: string;
  /** When the stored scores its rule may read were computed. */
  scoresRefreshedAt: string | null;
}

export type LtvOutput = ReportHeader<'ltv'> & { segment?: SegmentCoverage } & Body<LtvReport>;
export type RetentionOutput = ReportHeader<'retention'> & Body<RetentionReport>;
export type CohortsOutput = ReportHeader<'cohorts'> & Body<CohortReport>;
export type RfmOutput = ReportHeader<'rfm'> &
  Omit<Body<RfmReport>, 'customers'> & {
    customers?: Json<RfmReport['customers']>;
    customerCount: number;
  };
export type ChannelsOutput = ReportHeader<'channels'> & { segment?: SegmentCoverage } & Body<ChannelsReport>;
export type DiagnoseOutput = ReportHeader<'diagnose'> &
  Body<DecompositionReport> & { base: { label: string }; current: { label: string }; notes: string[] };
/** `report digest --json` (and `GET /v1/reports/digest`): the Markdown and the data. */
export type DigestOutput = ReportHeader<'digest'> & {
  month: string;
  markdown: string;
  data: Body<DigestDocument>;
};
/**
 * What `digestReport` answers: the digest's data in minor units (buildDigest's figures and the month's
 * campaigns), to render as JSON or as a file.
 */
export type DigestResult = ReportHeader<'digest'> & { month: string; digest: DigestDocument; digits: number };

/** Everything a report reads, loaded once. */
interface Loaded {
  ctx: ReportContext;
  digits: number;
  orders: OrderFact[];
  notes: string[];
}

async function load(
  db: Database,
  asOfText: string | undefined,
  detail: repo.OrderFactDetail,
): Promise<Loaded> {
  const ctx = await reportContext(db, asOfText);
  const orders = await repo.orderFacts(db, ctx.asOf, ctx.currency, detail);
  return { ...(await loaded(db, ctx)), orders };
}

/** The warning lines for sales refunded beyond their revenue (counted as their revenue). */
function overRefundWarnings(
  over: Awaited<ReturnType<typeof repo.overRefundedOrders>>,
  currency: string,
): string[] {
  if (over.count === 0) return [];
  const digits = minorDigits(currency);
  const m = (x: number) => `${minorToDecimal(x, digits).toFixed(digits)} ${currency}`;
  const listed = over.orders.map(
    (o) => `order ${o.orderId}: refunds ${m(o.refundedMinor)} exceed its revenue ${m(o.revenueMinor)}`,
  );
  return [
    `${over.count === 1 ? '1 order has' : `${over.count} orders have`} refunds larger than the order (${m(over.excessMinor)} in excess); ` +
      'each counts as refunded in full, no more (docs/metrics.md#refund-attribution)',
    ...listed,
    ...(over.count > listed.length ? [`… and ${over.count - listed.length} more`] : []),
  ];
}

/** {@link Loaded} without the orders: the context, the currency's digits and the notes every report carries. */
async function loaded(db: Database, ctx: ReportContext): Promise<Omit<Loaded, 'orders'>> {
  const notes: string[] = [];
  const over = await repo.overRefundedOrders(db, ctx.asOf, ctx.currency);
  notes.push(...overRefundWarnings(over, ctx.currency));
  const lost = await repo.unattributedRefunds(db, ctx.asOf, ctx.currency);
  if (lost.refunds > 0) {
    const digits = minorDigits(ctx.currency);
    notes.push(
      `${lost.refunds} refunds (${minorToDecimal(lost.amountMinor, digits).toFixed(digits)} ${ctx.currency}) belong to no sale ` +
        'in scope (cancelled orders, guests, customers without a sale) and are not counted (docs/metrics.md#refund-attribution)',
    );
  }
  return { ctx, digits: minorDigits(ctx.currency), notes };
}

function header<R extends string>(
  report: R,
  l: Pick<Loaded, 'ctx'>,
  filters: Record<string, string | undefined>,
) {
  const f: Record<string, string> = {};
  for (const [k, v] of Object.entries(filters)) if (v !== undefined) f[k] = v;
  return { report, asOf: l.ctx.asOfDay, ...zoneField(l.ctx.calendar), currency: l.ctx.currency, filters: f };
}

function body<T extends { asOf: Date }>(report: T, digits: number): Body<T> {
  const { asOf: _asOf, ...rest } = toJson(report, digits) as Json<T> & { asOf: string };
  return rest as unknown as Body<T>;
}

/** Orders of the customers in one RFM segment (scored as of asOf over all customers). */
function onlySegment(orders: OrderFact[], asOf: Date, segment: RfmSegment | undefined): OrderFact[] {
  if (segment === undefined) return orders;
  const ids = new Set(
    rfmScores(orders, asOf)
      .filter((c) => c.segment === segment)
      .map((c) => c.customerId),
  );
  return orders.filter((o) => ids.has(o.customerId));
}

const SEGMENT_SPEND_NOTE =
  'CAC is not computed for an RFM segment: spend is recorded per channel, not per segment';

/**
 * The members of saved or built-in segment `name` at the end of the as-of day, as the customers a
 * report covers; an unknown name is a bad `--segment` (`rfmToo`: the report also takes RFM segments).
 */
async function segmentMembers(
  ctx: ModuleContext,
  name: string,
  at: ReportContext,
  rfmToo: boolean,
): Promise<SegmentScope> {
  try {
    return await segmentScope(ctx, name, at.asOf);
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found')
      throw invalid(
        rfmToo
          ? `expected an RFM segment (${RFM_SEGMENTS.join(', ')}) or a saved or built-in segment (retain segments list), got '${name}'`
          : `no saved or built-in segment '${name}' (retain segments list)`,
        { field: '--segment' },
      );
    throw err;
  }
}

function coverage(m: SegmentScope): SegmentCoverage {
  return {
    name: m.name,
    kind: m.builtin ? 'built-in' : 'saved',
    members: m.members,
    evaluatedAt: m.asOf.toISOString(),
    scoresRefreshedAt: m.scoresRefreshedAt?.toISOString() ?? null,
  };
}

/** What a report restricted to a segment says about it: who it covers, and what CAC means there. */
function coverageNotes(m: SegmentScope, at: ReportContext, spend: readonly unknown[] | undefined): string[] {
  return [
    `covers the ${m.members} members of the ${m.builtin ? 'built-in' : 'saved'} segment '${m.name}' at the end of ${at.asOfDay}` +
      (m.scoresRefreshedAt ? ` (stored scores as of ${m.scoresRefreshedAt.toISOString()})` : ''),
    ...(spend?.length
      ? [
          `CAC is each channel's whole spend per member of '${m.name}' it acquired: what one such customer cost (spend is recorded per channel, so it also bought the channel's other customers)`,
        ]
      : []),
  ];
}

/** Refuses a range whose first day is after its last (days as YYYY-MM-DD compare correctly as text). */
function checkRange(input: { from?: string | undefined; to?: string | undefined }): void {
  if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
    throw invalid(`expected --from (${input.from}) at or before --to (${input.to})`, { field: '--from' });
  }
}

/** Start of `YYYY-MM-DD` (inclusive `--from`) in the store time zone. */
const dayStart = (text: string, cal: Calendar): Date =>
  new Date(cal.dayStartMs(parseDay(text)!.getTime() / DAY_MS));
/** End of `YYYY-MM-DD` (inclusive `--to`) in the store time zone, as the exclusive instant after it. */
const dayEnd = (text: string, cal: Calendar): Date =>
  new Date(cal.dayStartMs(parseDay(text)!.getTime() / DAY_MS + 1));

/**
 * `ltv.predicted` from the latest stored CLV run: per customer, net revenue before the run's
 * as-of plus the predicted value over its horizon; averaged over the customers in the report that
 * have a prediction, overall, per channel and per first category (from the report's `facts`). Null when the CLV module has stored nothing (its table does not exist).
 */
async function predictedLtv(
  db: Database,
  at: ReportContext,
  digits: number,
  pastOf: (cut: Date) => Promise<ReadonlyMap<string, number>>,
  profilesOf: () => Promise<readonly CustomerProfile[]>,
  facts: LtvFacts,
): Promise<{ predicted: NonNullable<Parameters<typeof computeLtv>[0]['predicted']> | null; note: string }> {
  const rows = await repo.latestPredictions(db, at.asOf);
  if (rows === null) {
    return {
      predicted: null,
      note: `predicted LTV is absent: no CLV predictions are stored before the as-of day; run \`retain clv predict\` with a database to add it`,
    };
  }
  const withValue = rows.filter((r) => r.clv !== null);
  if (withValue.length === 0) {
    return {
      predicted: null,
      note: 'predicted LTV is absent: the latest CLV run has no spend model (no monetary predictions)',
    };
  }
  const run = withValue[0]!;
  const past = await pastOf(run.asOf);
  const channelOf = new Map((await profilesOf()).map((p) => [p.customerId, p.channel ?? '(unknown)']));
  const categoryOf = new Map(facts.customers.map((c) => [c.customerId, c.firstCategory]));
  const scale = 10 ** digits;
  let sum = 0;
  let n = 0;
  const byChannel = new Map<string, { sum: number; n: number }>();
  const byCategory = new Map<string, { sum: number; n: number }>();
  const add = (to: Map<string, { sum: number; n: number }>, key: string, value: number) => {
    const acc = to.get(key) ?? { sum: 0, n: 0 };
    acc.sum += value;
    acc.n++;
    to.set(key, acc);
  };
  for (const r of withValue) {
    const before = past.get(r.customerId);
    if (before === undefined) continue; // not a customer of this report (segment, currency)
    const value = before + r.clv! * scale;
    sum += value;
    n++;
    add(byChannel, channelOf.get(r.customerId) ?? '(unknown)', value);
    add(byCategory, categoryOf.get(r.customerId) ?? '(unknown)', value);
  }
  const means = (m: Map<string, { sum: number; n: number }>) =>
    Object.fromEntries([...m].map(([k, a]) => [k, a.sum / a.n]));
  const over =
    run.clvMonths === null
      ? `the run's CLV horizon`
      : `${run.clvMonths} month${run.clvMonths === 1 ? '' : 's'}`;
  const model = `${run.modelVersion}: net revenue to ${run.asOf.toISOString().slice(0, 10)} + predicted value over ${over}`;
  return {
    predicted: {
      model,
      overallMinor: n === 0 ? null : sum / n,
      byChannelMinor: means(byChannel),
      byFirstCategoryMinor: means(byCategory),
    },
    note: `predicted LTV (${model}) covers ${n} customers with a stored prediction`,
  };
}

/** Net revenue per customer before `cut`, from the order facts (customers with only later orders: 0). */
function netBeforeOf(orders: readonly OrderFact[], cut: Date): Map<string, number> {
  const past = new Map<string, number>();
  for (const o of orders) {
    if (o.orderedAt.getTime() < cut.getTime())
      past.set(o.customerId, (past.get(o.customerId) ?? 0) + netOf(o));
    else if (!past.has(o.customerId)) past.set(o.customerId, 0);
  }
  return past;
}

/**
 * `report ltv`: the seed LTV formulas side by side with observed and (when stored) predicted LTV.
 * The per-customer figures are summed in the database (restricted to a saved or built-in `segment`'s
 * members in SQL); only an RFM `segment` needs every order in the process (scoring the customers
 * first), and then the metrics layer sums them.
 */
export async function ltvReport(ctx: ModuleContext, opts: LtvInput = {}): Promise<LtvOutput> {
  const { db } = ctx;
  const at = await reportContext(db, opts.asOf);
  const windowMonths = opts.months ?? 12;
  // `--segment`: an RFM segment's name first (scored here from the orders), else a saved or built-in one.
  const rfm = opts.segment === undefined ? null : rfmSegmentOf(opts.segment);
  const members =
    opts.segment !== undefined && rfm === null
      ? await segmentMembers(ctx, opts.segment, at, true)
      : undefined;
  // Profiles (one row per customer) only where they are read: a segment's facts, predicted LTV.
  let profiles: readonly CustomerProfile[] | undefined;
  const profilesOf = async () => (profiles ??= await repo.customerProfiles(db));
  let facts: LtvFacts;
  let pastOf: (cut: Date) => Promise<ReadonlyMap<string, number>>;
  if (rfm === null) {
    facts = await repo.ltvFacts(
      db,
      at.asOf,
      at.currency,
      ltvWindow(at.asOf, windowMonths, at.calendar),
      at.sqlZone,
      members?.scope,
    );
    pastOf = (cut) => repo.netBefore(db, at.asOf, at.currency, cut, members?.scope);
  } else {
    const orders = onlySegment(
      await repo.orderFacts(db, at.asOf, at.currency, { cost: true, primaryLine: 'category' }),
      at.asOf,
      rfm,
    );
    facts = ltvFacts(orders, await profilesOf(), at.asOf, windowMonths, at.calendar);
    pastOf = async (cut) => netBeforeOf(orders, cut);
  }
  const l = await loaded(db, at);
  const spend = rfm ? undefined : await repo.spendRows(db, at.asOf, at.currency, at.calendar);
  const { predicted, note } = await predictedLtv(db, at, l.digits, pastOf, profilesOf, facts);
  const report = ltvReportFromFacts(facts, {
    hasProfiles: await repo.hasCustomers(db),
    spend,
    asOf: at.asOf,
    windowMonths,
    predicted: predicted ?? undefined,
    calendar: at.calendar,
  });
  if (rfm) {
    report.notes = report.notes.filter((n) => !n.startsWith('no marketing spend data'));
    report.notes.push(SEGMENT_SPEND_NOTE);
    if (await segmentExists(ctx, opts.segment!))
      report.notes.push(
        `'${opts.segment}' is read as the RFM segment ${rfm}; the saved segment of that name is not used (rename it to report on it)`,
      );
  }
  const out = body(report, l.digits);
  return {
    ...header('ltv', l, { segment: rfm ?? opts.segment }),
    ...(members ? { segment: coverage(members) } : {}),
    ...out,
    notes: [...(members ? coverageNotes(members, at, spend) : []), ...out.notes, note, ...l.notes],
  };
}

/**
 * `report retention`: per-period retention, churn, repeat share, Shopify's rate, time to 2nd order.
 * The per-period counts are summed in the database; only an RFM `segment` needs every order in the
 * process (scoring the customers first), and then the metrics layer counts them.
 */
export async function retentionReport(
  ctx: ModuleContext,
  opts: RetentionInput = {},
): Promise<RetentionOutput> {
  checkRange(opts);
  const { db } = ctx;
  const at = await reportContext(db, opts.asOf);
  const period = opts.period ?? 'month';
  const counts =
    opts.segment === undefined
      ? await repo.retentionCounts(db, at.asOf, at.currency, period, at.sqlZone)
      : retentionCounts(
          onlySegment(await repo.orderFacts(db, at.asOf, at.currency, {}), at.asOf, opts.segment),
          at.asOf,
          period,
          at.calendar,
        );
  const l = { ctx: at, digits: minorDigits(at.currency) };
  const report = retentionReportFromCounts(counts, {
    asOf: at.asOf,
    from: opts.from === undefined ? undefined : dayStart(opts.from, at.calendar),
    to: opts.to === undefined ? undefined : dayEnd(opts.to, at.calendar),
    calendar: at.calendar,
  });
  return {
    ...header('retention', l, { segment: opts.segment, from: opts.from, to: opts.to }),
    ...body(report, l.digits),
  };
}

/**
 * `report cohorts`: acquisition cohorts with retention and cumulative value per customer. The cells
 * (per cohort, segment and period) are summed in the database; only an RFM `segment` needs every
 * order in the process (scoring the customers first), and then the metrics layer sums the cells.
 */
export async function cohortsReport(ctx: ModuleContext, opts: CohortsInput = {}): Promise<CohortsOutput> {
  checkRange(opts);
  const { db } = ctx;
  const at = await reportContext(db, opts.asOf);
  const period = opts.period ?? 'month';
  let cells: CohortCell[];
  if (opts.segment === undefined) {
    cells = await repo.cohortCells(db, at.asOf, at.currency, period, opts.by, at.sqlZone);
  } else {
    const orders = await repo.orderFacts(db, at.asOf, at.currency, {
      cost: true,
      primaryLine:
        opts.by === 'first-product' ? 'sku' : opts.by === 'first-category' ? 'category' : undefined,
    });
    const needsProfiles = opts.by === 'channel' || opts.by === 'country';
    cells = cohortCells({
      orders: onlySegment(orders, at.asOf, opts.segment),
      asOf: at.asOf,
      period,
      by: opts.by,
      profiles: needsProfiles ? await repo.customerProfiles(db) : undefined,
      calendar: at.calendar,
    });
  }
  const l = await loaded(db, at);
  const report = cohortReportFromCells({
    cells,
    asOf: at.asOf,
    period,
    by: opts.by,
    spend: opts.segment ? undefined : await repo.spendRows(db, at.asOf, at.currency, at.calendar),
    from: opts.from === undefined ? undefined : dayStart(opts.from, at.calendar),
    to: opts.to === undefined ? undefined : dayEnd(opts.to, at.calendar),
    calendar: at.calendar,
  });
  if (opts.segment) {
    report.notes = report.notes.filter((n) => !n.startsWith('no marketing spend data'));
    report.notes.push(SEGMENT_SPEND_NOTE);
  }
  const out = body(report, l.digits);
  return {
    ...header('cohorts', l, { segment: opts.segment, from: opts.from, to: opts.to }),
    ...out,
    notes: [...out.notes, ...l.notes],
  };
}

/** `report rfm`: RFM scores and the named segments with counts and revenue (customer aggregates summed in SQL). */
export async function rfmReport(ctx: ModuleContext, opts: RfmInput = {}): Promise<RfmOutput> {
  // One row per customer from the database, not every order.
  const at = await reportContext(ctx.db, opts.asOf);
  const l = { ctx: at, digits: minorDigits(at.currency) };
  const report = rfmReportFromValues(await repo.rfmValues(ctx.db, at.asOf, at.currency), at.asOf);
  const { customers, ...rest } = body(report, l.digits);
  return {
    ...header('rfm', l, {}),
    ...rest,
    customerCount: customers.length,
    ...(opts.customers ? { customers } : {}),
  };
}

/**
 * `report channels`: per acquisition channel CAC, N-day LTV, LTV:CAC, payback, and a reallocation.
 * The per-channel sums are made in the database; a `segment` (saved or built-in) restricts them to
 * its members (CAC then reads as the spend per member acquired).
 */
export async function channelsReport(ctx: ModuleContext, opts: ChannelsInput = {}): Promise<ChannelsOutput> {
  checkRange(opts);
  const { db } = ctx;
  const at = await reportContext(db, opts.asOf);
  const members = opts.segment === undefined ? undefined : await segmentMembers(ctx, opts.segment, at, false);
  const spend = await repo.spendRows(db, at.asOf, at.currency, at.calendar);
  // Default window: all history, from the first order or the first spend, whichever is earlier
  // (spend before the first order — launch marketing — still bought those customers).
  let earliest = at.asOf.getTime();
  const first = await repo.firstSaleAt(db, at.asOf, at.currency, members?.scope);
  if (first !== null) earliest = Math.min(earliest, first.getTime());
  for (const s of spend) earliest = Math.min(earliest, s.date.getTime());
  const window: DateRange = {
    from:
      opts.from === undefined
        ? new Date(at.calendar.startOfDayMs(earliest))
        : dayStart(opts.from, at.calendar),
    to: opts.to === undefined ? at.asOf : dayEnd(opts.to, at.calendar),
  };
  if (window.from.getTime() >= at.asOf.getTime()) {
    throw invalid(`--from ${opts.from ?? ''} is after --as-of ${at.asOfDay}`, { field: '--from' });
  }
  const l = await loaded(db, at);
  const facts = await repo.channelFacts(db, at.asOf, at.currency, window, members?.scope);
  const report = channelsReportFromFacts(facts, {
    spend,
    asOf: at.asOf,
    window,
    ratioHorizonDays: opts.horizon as 90 | 180 | 365 | undefined,
  });
  const out = body(report, l.digits);
  return {
    ...header('channels', l, { segment: opts.segment, from: opts.from, to: opts.to }),
    ...(members ? { segment: coverage(members) } : {}),
    ...out,
    notes: [...(members ? coverageNotes(members, at, spend) : []), ...out.notes, ...l.notes],
  };
}

/** `YYYY-MM..YYYY-MM` (or one month) → the half-open range of those whole months in the store zone. */
function monthSpan(text: string, field: string, cal: Calendar): DateRange & { label: string } {
  const [a, b = a] = text.split('..') as [string, string?];
  return { from: monthRange(a, field, cal).from, to: monthRange(b!, field, cal).to, label: text };
}

/** The last complete calendar month before asOf's month … and the one before (diagnose/digest defaults). */
function lastCompleteMonth(asOf: Date, cal: Calendar): number {
  return monthIndexOfMs(asOf.getTime(), cal) - 1;
}

/** `report diagnose`: why revenue per customer changed between two periods, and who drove it. */
export async function diagnoseReport(ctx: ModuleContext, opts: DiagnoseInput = {}): Promise<DiagnoseOutput> {
  const { db } = ctx;
  const l = await load(db, opts.asOf, { primaryLine: 'category' });
  const cal = l.ctx.calendar;
  const last = lastCompleteMonth(l.ctx.asOf, cal);
  const current = opts.current
    ? monthSpan(opts.current, '--current', cal)
    : monthSpan(periodLabel(last, 'month'), '--current', cal);
  const base = opts.base
    ? monthSpan(opts.base, '--base', cal)
    : (() => {
        // Default: the same number of months right before the current range.
        const first = monthIndexOfMs(current.from.getTime(), cal);
        const months = monthIndexOfMs(current.to.getTime(), cal) - first;
        const label =
          months === 1
            ? periodLabel(first - 1, 'month')
            : `${periodLabel(first - months, 'month')}..${periodLabel(first - 1, 'month')}`;
        return monthSpan(label, '--base', cal);
      })();
  const notes: string[] = [];
  for (const [name, r] of [
    ['--base', base],
    ['--current', current],
  ] as const) {
    if (r.from.getTime() >= l.ctx.asOf.getTime()) {
      throw invalid(`${name} ${r.label} starts after --as-of ${l.ctx.asOfDay}`, { field: name });
    }
    if (r.to.getTime() > l.ctx.asOf.getTime()) {
      r.to = l.ctx.asOf;
      notes.push(`${name} ${r.label} runs past the as-of day: cut at the end of ${l.ctx.asOfDay}`);
    }
  }
  const report = decomposeRevenuePerCustomer({
    orders: l.orders,
    profiles: await repo.customerProfiles(db),
    asOf: l.ctx.asOf,
    base,
    current,
    top: opts.top,
  });
  const out = body(report, l.digits);
  return {
    ...header('diagnose', l, { base: base.label, current: current.label }),
    ...out,
    base: { ...out.base, label: base.label },
    current: { ...out.current, label: current.label },
    notes: [...notes, ...l.notes],
  };
}

/**
 * `report digest`: the monthly digest's data (minor units); {@link digestJson} makes its JSON (the
 * Markdown and the data), the command renders `--out` (Markdown or HTML) from it.
 */
export async function digestReport(ctx: ModuleContext, opts: DigestInput = {}): Promise<DigestResult> {
  const { db } = ctx;
  const l = await load(db, opts.asOf, { cost: true, primaryLine: 'category' });
  const cal = l.ctx.calendar;
  const month = opts.month ?? periodLabel(lastCompleteMonth(l.ctx.asOf, cal), 'month');
  if (monthRange(month, '--month', cal).from.getTime() >= l.ctx.asOf.getTime()) {
    throw invalid(`--month ${month} starts after --as-of ${l.ctx.asOfDay}`, { field: '--month' });
  }
  const digest = buildDigest({
    orders: l.orders,
    profiles: await repo.customerProfiles(db),
    spend: await repo.spendRows(db, l.ctx.asOf, l.ctx.currency, cal),
    guestOrdersByMonth: await repo.guestOrdersByMonth(db, l.ctx.asOf, l.ctx.currency, l.ctx.sqlZone),
    month,
    asOf: l.ctx.asOf,
    currency: l.ctx.currency,
    minorDigits: l.digits,
    calendar: cal,
  });
  digest.notes.push(...l.notes);
  // Campaigns are reported when the digest is made, or at the end of an explicit --as-of day before it.
  const now = ctx.clock.now();
  const campaignsAt = opts.asOf !== undefined && l.ctx.asOf.getTime() < now.getTime() ? l.ctx.asOf : now;
  const campaigns = await digestCampaigns(ctx, monthRange(month, '--month', cal), campaignsAt);
  return {
    ...header('digest', l, { month }),
    month,
    digest: { ...digest, campaigns },
    digits: l.digits,
  };
}

/**
 * The digest's campaigns (docs/metrics.md#digest.campaigns): those launched in the month and those whose
 * outcome window ended in it (the month cut in the store time zone), oldest launch first, each with its
 * campaign report's figures as of `at`. A campaign never launched, or launched after `at`, is left out.
 */
async function digestCampaigns(ctx: ModuleContext, month: DateRange, at: Date): Promise<DigestCampaign[]> {
  // Loaded here, not at the top: the other reports need not load the campaigns and messaging modules.
  const [{ listCampaigns }, { campaignReport }] = await Promise.all([
    import('../campaigns/service.js'),
    import('../campaigns/report.js'),
  ]);
  const from = month.from.getTime();
  const to = month.to.getTime();
  const cut = at.getTime();
  const chosen = (await listCampaigns(ctx))
    .flatMap((c) => {
      if (c.launchedAt === null) return [];
      const launched = Date.parse(c.launchedAt);
      const end = launched + c.windowDays * DAY_MS; // exclusive: a window ending at midnight ended the day before
      const launchedInMonth = launched >= from && launched < to;
      const windowEndedInMonth = end > from && end <= to;
      return launched < cut && (launchedInMonth || windowEndedInMonth)
        ? [{ c, launched, end, launchedInMonth, windowEndedInMonth }]
        : [];
    })
    .sort((a, b) => a.launched - b.launched || a.c.name.localeCompare(b.c.name));
  // The campaign report reads its "now" from the clock: the digest's instant.
  const atCut: ModuleContext = { ...ctx, clock: { now: () => new Date(cut) } };
  const out: DigestCampaign[] = [];
  for (const { c, end, launchedInMonth, windowEndedInMonth } of chosen) {
    let r: Awaited<ReturnType<typeof campaignReport>>;
    try {
      r = await campaignReport(atCut, { name: c.name });
    } catch (err) {
      // The report's answer for a campaign not launched: nothing to put in the digest.
      if (err instanceof AppError && err.code === 'conflict') continue;
      throw err;
    }
    const effects = r.effects.map((e): DigestCampaign['effects'][number] => {
      // The figure the report's verdict is about: CUPED when there is one.
      const { estimate, low, high } = (e.cuped ?? e.incremental).difference;
      return {
        variant: e.variant,
        basis: e.cuped ? 'cuped' : 'unadjusted',
        perRecipientMinor: { estimate, low, high },
        probabilityToBeatHoldout: e.probabilityToBeatHoldout,
        incrementalRevenueMinor: e.incrementalRevenueMinor,
        verdict: e.verdict,
      };
    });
    const arms = r.arms.map((a) => ({
      arm: a.arm,
      template: a.template,
      recipients: a.recipients,
      messagesSent: a.messages.sent ?? 0,
      messages: a.messages,
    }));
    out.push({
      campaign: r.campaign,
      status: c.status,
      launchedInMonth,
      windowEndedInMonth,
      launchedAt: r.launchedAt,
      window: {
        days: r.window.days,
        end: new Date(end).toISOString(),
        figuresTo: r.window.end,
        complete: r.window.complete,
      },
      arms,
      messagesSent: arms.reduce((s, a) => s + a.messagesSent, 0),
      effects,
      notCompared: arms
        .filter((a) => a.arm !== 'holdout' && !effects.some((e) => e.variant === a.arm))
        .map((a) => a.arm),
      incrementalRevenueMinor: effects.reduce((s, e) => s + e.incrementalRevenueMinor, 0),
      sampleRatio: r.sampleRatio && {
        pValue: r.sampleRatio.pValue,
        threshold: r.sampleRatio.threshold,
        mismatch: r.sampleRatio.mismatch,
      },
    });
  }
  return out;
}

/** The digest's JSON document: `report digest --json` and `GET /v1/reports/digest`. */
export function digestJson(r: DigestResult): DigestOutput {
  const { digest, digits, ...head } = r;
  return { ...head, markdown: renderDigestMarkdown(digest), data: body(digest, digits) };
}
