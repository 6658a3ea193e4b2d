import { invalid } from '../../shared/errors.js';
import type { Calendar } from '../calendar.js';
import { DAY_MS } from '../../shared/time.js';
import type { CustomerProfile, MarginBasis, OrderFact, SpendRow } from './types.js';
import {
  DAYS_PER_YEAR,
  UNKNOWN,
  marginOf,
  netOf,
  ordersAsOf,
  monthIndexOfMs,
  ordersByCustomer,
  periodIndex,
  periodLabel,
  periodStart,
  profileIndex,
  ratio,
  spendAsOf,
} from './util.js';

export type LtvDefinition =
  | 'ltv.aov_frequency_lifespan'
  | 'ltv.monthly_sales_lifetime'
  | 'ltv.margin_churn'
  | 'ltv.observed_revenue'
  | 'ltv.observed_margin'
  | 'ltv.predicted';

/** One LTV figure with the inputs it was computed from and its comparison with CAC. */
export interface LtvFormula {
  definition: LtvDefinition;
  /** Per-customer value, unrounded minor units; null when an input does not exist. */
  valueMinor: number | null;
  inputs: Record<string, number | string | null>;
  /** valueMinor − CAC (docs/metrics.md#ltv.vs_cac); null without CAC. */
  ltvMinusCacMinor: number | null;
  /** valueMinor / CAC; null without CAC or when CAC is 0. */
  ltvToCac: number | null;
  /** Whether the formula's assumptions hold on this data, and what was checked (docs/metrics.md#ltv.trust). */
  assessment: LtvAssessment;
}

export interface LtvAssessment {
  /** For the observed figures: whether they are close to a lifetime yet (few customers still buying). */
  assumptionsHold: boolean;
  /** Plain words: what fails first, then what holds. */
  reasons: string[];
}

/** What the assessments are computed from (docs/metrics.md#ltv.trust). */
export interface LtvDiagnostics {
  /** Customers with an order in the last 91 days before asOf / customers: lifetimes not over yet. */
  recentlyActiveShare: number | null;
  /** Months with an order / months from first to last order, over customers: how steadily they buy. */
  activityDensity: number | null;
  /** Lowest and highest month-to-month retention in the window (month pairs with ≥ 30 active customers). */
  monthlyRetentionMin: number | null;
  monthlyRetentionMax: number | null;
  /** Of the window's churn events (active in m−1, not in m), the share whose customer ordered again later. */
  reactivatedShare: number | null;
  /** Calendar months from the group's first order to asOf's month. */
  historyMonths: number;
}

/** The thresholds of the assessments (docs/metrics.md#ltv.trust). */
export const LTV_TRUST = {
  recentDays: 91,
  /** More than this share still buying: lifespans and observed values are cut short. */
  maxRecentlyActiveShare: 0.2,
  /** Below this, customers skip months: "every month of the lifetime is a buying month" fails. */
  minActivityDensity: 0.8,
  /** Month pairs with fewer prior-month actives are too noisy to judge steadiness. */
  minPairCustomers: 30,
  /** Month-to-month retention moving more than this (absolute) is not a steady rate. */
  maxRetentionRange: 0.1,
  /** More than this share of "churned" customers coming back: churn counts pauses as leaving. */
  maxReactivatedShare: 0.2,
  /** A lifetime 1/churn beyond this many times the observed history is an extrapolation. */
  maxLifetimeToHistory: 3,
} as const;

/** Customer acquisition cost of a group (docs/metrics.md#cac). */
export interface Cac {
  definition: 'cac';
  /** Spend of the window; null when no spend data exists at all. */
  spendMinor: number | null;
  /** Customers whose first order is in the window. */
  newCustomers: number;
  /** spend / new customers; null without spend data or without new customers. */
  cacMinor: number | null;
  note: string | null;
}

/** All LTV figures of one group of customers (everyone, one acquisition channel or one first category). */
export interface LtvGroup {
  group: string;
  customers: number;
  marginBasis: MarginBasis;
  costCoverage: number;
  cac: Cac;
  formulas: LtvFormula[];
  diagnostics: LtvDiagnostics;
  /** The figure to trust for this group, and why. */
  recommended: { definition: LtvDefinition; reason: string };
}

export interface LtvReport {
  definition: 'ltv';
  asOf: Date;
  /** The complete calendar months the formulas are measured on. */
  window: { from: Date; to: Date; months: number; firstMonth: string; lastMonth: string };
  overall: LtvGroup;
  byChannel: LtvGroup[];
  /**
   * Per category of the customer's first order (its largest line: quantity × unit price, ties to the
   * smallest sku — the cohorts report's `first-category`); `(unknown)` when that product has none.
   * No CAC: spend is recorded per channel.
   */
  byFirstCategory: LtvGroup[];
  notes: string[];
}

export interface LtvInput {
  /** Every order of known customers (the function ignores those at or after `asOf`). */
  orders: readonly OrderFact[];
  /** Acquisition channel per customer; customers without one are grouped as `(unknown)`. */
  profiles?: readonly CustomerProfile[];
  /** Marketing spend per day and channel; omit or pass [] when there is none. */
  spend?: readonly SpendRow[];
  asOf: Date;
  /** Number of complete calendar months before asOf's month to measure on (default 12). */
  windowMonths?: number;
  /** The store calendar months and days are cut in (UTC when not given). */
  calendar?: Calendar;
  /** Predicted LTV from the CLV module, shown beside the simple formulas when given. */
  predicted?: {
    model: string;
    overallMinor: number | null;
    byChannelMinor?: Record<string, number>;
    byFirstCategoryMinor?: Record<string, number>;
  };
}

export interface LtvWindow {
  first: number;
  last: number;
  from: Date;
  to: Date;
  /** asOf, epoch ms. */
  asOf: number;
  /** The calendar the months are cut in (undefined: UTC). */
  calendar?: Calendar;
}

function cacOf(customers: readonly LtvCustomer[], spendMinor: number | null, w: LtvWindow): Cac {
  let newCustomers = 0;
  for (const c of customers) {
    if (c.firstMs >= w.from.getTime() && c.firstMs < w.to.getTime()) newCustomers++;
  }
  if (spendMinor === null) {
    return { definition: 'cac', spendMinor, newCustomers, cacMinor: null, note: 'no marketing spend data' };
  }
  if (newCustomers === 0) {
    return {
      definition: 'cac',
      spendMinor,
      newCustomers,
      cacMinor: null,
      note: 'no new customers in the window',
    };
  }
  return {
    definition: 'cac',
    spendMinor,
    newCustomers,
    cacMinor: spendMinor / newCustomers,
    note: spendMinor === 0 ? 'zero spend: every new customer was free' : null,
  };
}

function withCac(
  definition: LtvDefinition,
  valueMinor: number | null,
  inputs: LtvFormula['inputs'],
  cac: Cac,
): LtvFormula {
  const c = cac.cacMinor;
  return {
    definition,
    valueMinor,
    inputs,
    ltvMinusCacMinor: valueMinor === null || c === null ? null : valueMinor - c,
    ltvToCac: valueMinor === null || c === null ? null : ratio(valueMinor, c),
    assessment: { assumptionsHold: true, reasons: [] },
  };
}

const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

/**
 * Checks each formula's assumptions against the group's data and picks the figure to trust: the
 * predicted LTV when the CLV module stored one, else a simple formula whose assumptions hold, else the
 * observed value to date (a floor). Fills `assessment` in place.
 */
function assess(formulas: LtvFormula[], d: LtvDiagnostics): { definition: LtvDefinition; reason: string } {
  const T = LTV_TRUST;
  const by = (def: LtvDefinition) => formulas.find((f) => f.definition === def);
  const observedRevenue = by('ltv.observed_revenue')?.valueMinor ?? null;
  const observedMargin = by('ltv.observed_margin')?.valueMinor ?? null;
  const censored = d.recentlyActiveShare !== null && d.recentlyActiveShare > T.maxRecentlyActiveShare;
  const stillBuying = censored
    ? `${pct(d.recentlyActiveShare!)} of customers ordered in the last ${T.recentDays} days`
    : null;
  const below = (f: LtvFormula, observed: number | null, what: string) =>
    f.valueMinor !== null && observed !== null && f.valueMinor < observed
      ? `below what customers have already ${what} on average (the observed value to date): a lifetime value cannot be less`
      : null;
  const set = (f: LtvFormula | undefined, fails: (string | null)[], holds: string[]) => {
    if (!f) return;
    const failed = fails.filter((x): x is string => x !== null);
    if (f.valueMinor === null) failed.unshift('not computable on this data');
    f.assessment = { assumptionsHold: failed.length === 0, reasons: failed.length ? failed : holds };
  };
  const lifespan = by('ltv.aov_frequency_lifespan');
  set(
    lifespan,
    [
      stillBuying && `${stillBuying}: their lifespans are not over, so the observed lifespan is cut short`,
      lifespan ? below(lifespan, observedRevenue, 'spent') : null,
    ],
    ['most customers have stopped buying, so the observed lifespan is close to a whole one'],
  );
  const monthly = by('ltv.monthly_sales_lifetime');
  set(
    monthly,
    [
      d.activityDensity !== null && d.activityDensity < T.minActivityDensity
        ? `customers ordered in ${pct(d.activityDensity)} of the months between their first and last order; the formula counts every one as a buying month`
        : null,
      stillBuying && `${stillBuying}: their lifetimes are not over`,
      monthly ? below(monthly, observedRevenue, 'spent') : null,
    ],
    ['customers buy in most months of their lifetime, and most lifetimes are over'],
  );
  const churn = by('ltv.margin_churn');
  const churnRate =
    churn && typeof churn.inputs.monthlyChurnRate === 'number' ? churn.inputs.monthlyChurnRate : null;
  const lo = d.monthlyRetentionMin;
  const hi = d.monthlyRetentionMax;
  set(
    churn,
    [
      lo !== null && hi !== null && hi - lo > T.maxRetentionRange
        ? `month-to-month retention moved between ${pct(lo)} and ${pct(hi)}: not the steady rate the formula assumes`
        : null,
      d.reactivatedShare !== null && d.reactivatedShare > T.maxReactivatedShare
        ? `${pct(d.reactivatedShare)} of the customers counted as churned ordered again later: monthly churn counts pauses as leaving`
        : null,
      churnRate !== null && churnRate > 0 && 1 / churnRate > T.maxLifetimeToHistory * d.historyMonths
        ? `churn of ${(100 * churnRate).toFixed(1)}% a month implies a ${Math.round(1 / churnRate)}-month lifetime, over ${T.maxLifetimeToHistory}× the ${d.historyMonths} months observed: an extrapolation`
        : null,
      churn ? below(churn, observedMargin, 'earned') : null,
    ],
    ['retention is steady month to month and customers who lapse rarely come back'],
  );
  for (const def of ['ltv.observed_revenue', 'ltv.observed_margin'] as const)
    set(
      by(def),
      [stillBuying && `a floor, not a lifetime: ${stillBuying} and will spend more`],
      ['close to a lifetime value: few customers are still buying'],
    );
  const predicted = by('ltv.predicted');
  if (predicted)
    set(
      predicted,
      [below(predicted, observedRevenue, 'spent')],
      [
        "what each customer has spent plus the CLV model's forecast of their own purchases, dropout and spend (retain clv predict)",
      ],
    );

  const holding = (['ltv.margin_churn', 'ltv.monthly_sales_lifetime', 'ltv.aov_frequency_lifespan'] as const)
    .map(by)
    .filter((f): f is LtvFormula => f !== undefined && f.assessment.assumptionsHold);
  if (predicted && predicted.valueMinor !== null && predicted.assessment.assumptionsHold)
    return {
      definition: 'ltv.predicted',
      reason:
        'it adds each customer’s own forecast (the CLV model) to what they have spent' +
        (holding.length
          ? `; ${holding.map((f) => f.definition).join(', ')} also fit this store's data`
          : '; the simple formulas’ assumptions do not hold on this data'),
    };
  if (holding.length)
    return {
      definition: holding[0]!.definition,
      reason: `its assumptions hold on this data: ${holding[0]!.assessment.reasons.join('; ')}`,
    };
  return {
    definition: 'ltv.observed_revenue',
    reason:
      'none of the formulas’ assumptions hold on this data (see each); what customers have spent to date is a firm floor. ' +
      'Run `retain clv predict` for a forward-looking figure',
  };
}

/**
 * One customer's figures the LTV formulas are made of (docs/metrics.md#ltv), for a window of
 * complete months `[first, last]` (month indexes): what the database sums per customer (reports
 * repository `ltvFacts`) or {@link ltvFacts} over the orders.
 */
export interface LtvCustomer {
  customerId: string;
  /** Acquisition channel, `(unknown)` when none. */
  channel: string;
  /** Category of the first order's largest line (as the cohorts' `first-category`), `(unknown)` when none. */
  firstCategory: string;
  firstMs: number;
  lastMs: number;
  orders: number;
  /** Orders with a known cost. */
  costedOrders: number;
  netMinor: number;
  /** Σ net − cost (unknown cost read as 0). */
  netLessCostMinor: number;
  /** Calendar months with an order. */
  activeMonths: number;
  /** Window months (before the last) with an order, followed by a silent month and a later order. */
  reactivated: number;
  windowOrders: number;
  windowNetMinor: number;
  windowNetLessCostMinor: number;
}

/**
 * Customers of a channel and first category active in one window month, and of those, active in
 * the month before.
 */
export interface LtvMonthCounts {
  channel: string;
  firstCategory: string;
  month: number;
  active: number;
  retained: number;
}

/** What the LTV report is computed from: customers in the order their orders are sorted, and the window months' counts. */
export interface LtvFacts {
  customers: LtvCustomer[];
  months: LtvMonthCounts[];
}

/** The window of complete months `[first, last]` before asOf's month, checked. */
export function ltvWindow(asOf: Date, windowMonths = 12, calendar?: Calendar): LtvWindow {
  if (!Number.isInteger(windowMonths) || windowMonths < 1 || windowMonths > 1200) {
    throw invalid(`expected windowMonths to be an integer in 1..1200, got ${windowMonths}`, {
      field: 'windowMonths',
    });
  }
  const last = periodIndex(asOf, 'month', calendar) - 1;
  return {
    first: last - windowMonths + 1,
    last,
    from: periodStart(last - windowMonths + 1, 'month', calendar),
    to: periodStart(last + 1, 'month', calendar),
    asOf: asOf.getTime(),
    ...(calendar ? { calendar } : {}),
  };
}

/** {@link LtvFacts} of the orders before `asOf` (sorted by customer, then time, for speed). */
export function ltvFacts(
  orders: readonly OrderFact[],
  profiles: readonly CustomerProfile[] | undefined,
  asOf: Date,
  windowMonths = 12,
  calendar?: Calendar,
): LtvFacts {
  const w = ltvWindow(asOf, windowMonths, calendar);
  const profileOf = profileIndex(profiles);
  const customers: LtvCustomer[] = [];
  const cells = new Map<string, LtvMonthCounts>();
  for (const [customerId, list] of ordersByCustomer(ordersAsOf(orders, asOf))) {
    const channel = profileOf.get(customerId)?.channel ?? UNKNOWN;
    const firstCategory = list[0]!.category ?? UNKNOWN;
    const c: LtvCustomer = {
      customerId,
      channel,
      firstCategory,
      firstMs: list[0]!.orderedAt.getTime(),
      lastMs: list[list.length - 1]!.orderedAt.getTime(),
      orders: list.length,
      costedOrders: 0,
      netMinor: 0,
      netLessCostMinor: 0,
      activeMonths: 0,
      reactivated: 0,
      windowOrders: 0,
      windowNetMinor: 0,
      windowNetLessCostMinor: 0,
    };
    let prevMonth = -Infinity;
    for (const o of list) {
      const m = monthIndexOfMs(o.orderedAt.getTime(), calendar);
      if (m !== prevMonth) {
        c.activeMonths++;
        if (prevMonth >= w.first && prevMonth < w.last && m > prevMonth + 1) c.reactivated++;
        if (m >= w.first && m <= w.last) {
          const key = `${channel}\u0000${firstCategory}\u0000${m}`;
          let cell = cells.get(key);
          if (!cell) cells.set(key, (cell = { channel, firstCategory, month: m, active: 0, retained: 0 }));
          cell.active++;
          if (prevMonth === m - 1) cell.retained++;
        }
        prevMonth = m;
      }
      const net = netOf(o);
      const netLessCost = marginOf(o, 'margin');
      if (o.costMinor !== null) c.costedOrders++;
      c.netMinor += net;
      c.netLessCostMinor += netLessCost;
      if (m >= w.first && m <= w.last) {
        c.windowOrders++;
        c.windowNetMinor += net;
        c.windowNetLessCostMinor += netLessCost;
      }
    }
    customers.push(c);
  }
  return { customers, months: [...cells.values()] };
}

/** Why the first-category groups have no CAC (as the cohorts report split by first-category). */
const NO_CATEGORY_CAC = 'spend is recorded per channel: no CAC per first category';

/** Every LTV formula for one group's customers. */
function groupLtv(
  group: string,
  customerList: readonly LtvCustomer[],
  monthCounts: readonly LtvMonthCounts[],
  spendMinor: number | null,
  w: LtvWindow,
  predictedMinor: number | null | undefined,
  predictedModel: string | undefined,
  /** When set, no CAC for the group (spend is per channel), with this note. */
  noCacNote?: string,
): LtvGroup {
  let orderCount = 0;
  let known = 0;
  for (const c of customerList) {
    orderCount += c.orders;
    known += c.costedOrders;
  }
  // `margin` only if every order has a known cost (an empty group counts as known).
  const basis: MarginBasis = known === orderCount ? 'margin' : 'revenue';
  const costCoverage = orderCount === 0 ? 1 : known / orderCount;
  const months = w.last - w.first + 1;
  let netAll = 0;
  let marginAll = 0;
  let winOrders = 0;
  let winNet = 0;
  let winMargin = 0;
  let winCustomers = 0;
  let lifespanDays = 0;
  let lifetimeMonths = 0;
  let activeMonthsAll = 0;
  let recentlyActive = 0;
  let churnEvents = 0;
  let reactivated = 0;
  let firstOrder = Infinity;
  const recentFrom = w.asOf - LTV_TRUST.recentDays * DAY_MS;
  for (const c of customerList) {
    const first = c.firstMs;
    const last = c.lastMs;
    lifespanDays += (last - first) / DAY_MS;
    const lastMonth = monthIndexOfMs(last, w.calendar);
    lifetimeMonths += lastMonth - monthIndexOfMs(first, w.calendar) + 1;
    if (first < firstOrder) firstOrder = first;
    if (last >= recentFrom) recentlyActive++;
    activeMonthsAll += c.activeMonths;
    // A churn event of the window: active in a month, not in the next (still in the window) —
    // reactivated when the customer ordered again later, else churned for good so far.
    churnEvents += c.reactivated;
    reactivated += c.reactivated;
    if (lastMonth >= w.first && lastMonth < w.last) churnEvents++;
    netAll += c.netMinor;
    marginAll += basis === 'margin' ? c.netLessCostMinor : c.netMinor;
    winOrders += c.windowOrders;
    winNet += c.windowNetMinor;
    winMargin += basis === 'margin' ? c.windowNetLessCostMinor : c.windowNetMinor;
    if (c.windowOrders > 0) winCustomers++;
  }
  // Per window month: customers active in it, and of those, active in the month before too.
  const active = new Int32Array(months);
  const retainedIn = new Int32Array(months);
  for (const m of monthCounts) {
    active[m.month - w.first]! += m.active;
    retainedIn[m.month - w.first]! += m.retained;
  }
  const customers = customerList.length;
  let customerMonths = 0;
  let previousActive = 0;
  let retained = 0;
  for (let k = 0; k < months; k++) {
    customerMonths += active[k]!;
    if (k === 0) continue;
    previousActive += active[k - 1]!;
    retained += retainedIn[k]!;
  }

  const cac = cacOf(customerList, spendMinor, w);
  if (noCacNote !== undefined) {
    cac.spendMinor = null;
    cac.cacMinor = null;
    cac.note = noCacNote;
  }
  let retentionMin: number | null = null;
  let retentionMax: number | null = null;
  for (let k = 1; k < months; k++) {
    if (active[k - 1]! < LTV_TRUST.minPairCustomers) continue;
    const r = retainedIn[k]! / active[k - 1]!;
    retentionMin = retentionMin === null ? r : Math.min(retentionMin, r);
    retentionMax = retentionMax === null ? r : Math.max(retentionMax, r);
  }
  const diagnostics: LtvDiagnostics = {
    recentlyActiveShare: ratio(recentlyActive, customers),
    activityDensity: ratio(activeMonthsAll, lifetimeMonths),
    monthlyRetentionMin: retentionMin,
    monthlyRetentionMax: retentionMax,
    reactivatedShare: ratio(reactivated, churnEvents),
    historyMonths:
      customers === 0 ? 0 : monthIndexOfMs(w.asOf, w.calendar) - monthIndexOfMs(firstOrder, w.calendar) + 1,
  };

  const aov = ratio(winNet, winOrders);
  const frequency = winCustomers === 0 ? null : winOrders / winCustomers / (months / 12);
  const lifespanYears = ratio(lifespanDays / DAYS_PER_YEAR, customers);
  const ltv1 =
    aov === null || frequency === null || lifespanYears === null ? null : aov * frequency * lifespanYears;

  const monthlySales = ratio(winNet, customerMonths);
  const avgLifetimeMonths = ratio(lifetimeMonths, customers);
  const ltv2 = monthlySales === null || avgLifetimeMonths === null ? null : monthlySales * avgLifetimeMonths;

  const monthlyMargin = ratio(winMargin, customerMonths);
  const monthlyRetention = ratio(retained, previousActive);
  const monthlyChurn = monthlyRetention === null ? null : 1 - monthlyRetention;
  const ltv3 = monthlyMargin === null || monthlyChurn === null ? null : ratio(monthlyMargin, monthlyChurn);

  const formulas: LtvFormula[] = [
    withCac(
      'ltv.aov_frequency_lifespan',
      ltv1,
      {
        averageNetOrderValueMinor: aov,
        ordersPerCustomerPerYear: frequency,
        expectedLifespanYears: lifespanYears,
        windowOrders: winOrders,
        windowCustomers: winCustomers,
      },
      cac,
    ),
    withCac(
      'ltv.monthly_sales_lifetime',
      ltv2,
      {
        monthlySalesPerCustomerMinor: monthlySales,
        averageLifetimeMonths: avgLifetimeMonths,
        customerMonths,
      },
      cac,
    ),
    withCac(
      'ltv.margin_churn',
      ltv3,
      {
        monthlyMarginPerCustomerMinor: monthlyMargin,
        monthlyChurnRate: monthlyChurn,
        marginBasis: basis,
        retainedCustomerMonths: retained,
        previousMonthActive: previousActive,
      },
      cac,
    ),
    withCac('ltv.observed_revenue', ratio(netAll, customers), { netRevenueMinor: netAll, customers }, cac),
    withCac(
      'ltv.observed_margin',
      ratio(marginAll, customers),
      { marginMinor: marginAll, customers, marginBasis: basis },
      cac,
    ),
  ];
  if (predictedMinor !== undefined) {
    formulas.push(withCac('ltv.predicted', predictedMinor, { model: predictedModel ?? null }, cac));
  }
  const recommended = assess(formulas, diagnostics);
  return { group, customers, marginBasis: basis, costCoverage, cac, formulas, diagnostics, recommended };
}

/**
 * The LTV report (docs/metrics.md#ltv): the seed formulas side by side with observed (and, when
 * given, predicted) LTV, each against CAC, overall and per acquisition channel.
 */
export function ltvReport(input: LtvInput): LtvReport {
  const facts = ltvFacts(input.orders, input.profiles, input.asOf, input.windowMonths ?? 12, input.calendar);
  const { orders: _orders, profiles, ...rest } = input;
  return ltvReportFromFacts(facts, { ...rest, hasProfiles: profiles !== undefined && profiles.length > 0 });
}

/** {@link ltvReport} from its {@link LtvFacts} (summed by the database or by {@link ltvFacts}). */
export function ltvReportFromFacts(
  facts: LtvFacts,
  input: Omit<LtvInput, 'orders' | 'profiles'> & {
    /** Whether any customer profile exists (the channels of `facts` come from them). */
    hasProfiles: boolean;
  },
): LtvReport {
  const windowMonths = input.windowMonths ?? 12;
  const w = ltvWindow(input.asOf, windowMonths, input.calendar);
  const spend = input.spend ? spendAsOf(input.spend, input.asOf) : [];
  const hasSpend = spend.length > 0;
  const spendByChannel = new Map<string, number>();
  let spendTotal = 0;
  for (const s of spend) {
    const t = s.date.getTime();
    if (t < w.from.getTime() || t >= w.to.getTime()) continue;
    spendTotal += s.amountMinor;
    spendByChannel.set(s.channel, (spendByChannel.get(s.channel) ?? 0) + s.amountMinor);
  }
  const byChannelCustomers = new Map<string, LtvCustomer[]>();
  const byCategoryCustomers = new Map<string, LtvCustomer[]>();
  for (const c of facts.customers) {
    let list = byChannelCustomers.get(c.channel);
    if (!list) byChannelCustomers.set(c.channel, (list = []));
    list.push(c);
    let inCategory = byCategoryCustomers.get(c.firstCategory);
    if (!inCategory) byCategoryCustomers.set(c.firstCategory, (inCategory = []));
    inCategory.push(c);
  }
  const predicted = input.predicted;
  const overall = groupLtv(
    'all',
    facts.customers,
    facts.months,
    hasSpend ? spendTotal : null,
    w,
    predicted?.overallMinor,
    predicted?.model,
  );
  const byChannel = [...byChannelCustomers.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([ch, list]) =>
      groupLtv(
        ch,
        list,
        facts.months.filter((m) => m.channel === ch),
        hasSpend ? (spendByChannel.get(ch) ?? 0) : null,
        w,
        predicted ? (predicted.byChannelMinor?.[ch] ?? null) : undefined,
        predicted?.model,
      ),
    );
  const noCategoryCac = hasSpend ? NO_CATEGORY_CAC : 'no marketing spend data';
  const byFirstCategory = [...byCategoryCustomers.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cat, list]) =>
      groupLtv(
        cat,
        list,
        facts.months.filter((m) => m.firstCategory === cat),
        null,
        w,
        predicted ? (predicted.byFirstCategoryMinor?.[cat] ?? null) : undefined,
        predicted?.model,
        noCategoryCac,
      ),
    );
  const notes: string[] = [];
  if (overall.marginBasis === 'revenue') {
    notes.push(
      `product costs unknown for ${((1 - overall.costCoverage) * 100).toFixed(1)}% of orders: margin figures use net revenue`,
    );
  }
  if (!hasSpend) notes.push('no marketing spend data: CAC, LTV − CAC and LTV:CAC are not available');
  if (input.hasProfiles && spend.some((s) => !byChannelCustomers.has(s.channel))) {
    notes.push('some spend channels acquired no customers: their spend counts in the overall CAC only');
  }
  return {
    definition: 'ltv',
    asOf: input.asOf,
    window: {
      from: w.from,
      to: w.to,
      months: windowMonths,
      firstMonth: periodLabel(w.first, 'month'),
      lastMonth: periodLabel(w.last, 'month'),
    },
    overall,
    byChannel,
    byFirstCategory,
    notes,
  };
}
