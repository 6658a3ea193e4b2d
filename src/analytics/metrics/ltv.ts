import { invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { CustomerProfile, MarginBasis, OrderFact, SpendRow } from './types.js';
import {
  DAYS_PER_YEAR,
  UNKNOWN,
  marginBasisOfGroups,
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
}

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

/** All LTV figures of one group of customers (everyone, or one acquisition channel). */
export interface LtvGroup {
  group: string;
  customers: number;
  marginBasis: MarginBasis;
  costCoverage: number;
  cac: Cac;
  formulas: LtvFormula[];
}

export interface LtvReport {
  definition: 'ltv';
  asOf: Date;
  /** The complete calendar months the formulas are measured on. */
  window: { from: Date; to: Date; months: number; firstMonth: string; lastMonth: string };
  overall: LtvGroup;
  byChannel: LtvGroup[];
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
  /** Predicted LTV from the CLV module, shown beside the simple formulas when given. */
  predicted?: { model: string; overallMinor: number | null; byChannelMinor?: Record<string, number> };
}

interface Window {
  first: number;
  last: number;
  from: Date;
  to: Date;
}

function cacOf(byCustomer: readonly (readonly OrderFact[])[], spendMinor: number | null, w: Window): Cac {
  let newCustomers = 0;
  for (const list of byCustomer) {
    const t = list[0]!.orderedAt.getTime();
    if (t >= w.from.getTime() && t < w.to.getTime()) newCustomers++;
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
  };
}

/** Every LTV formula for one group's orders (already cut at asOf). */
function groupLtv(
  group: string,
  byCustomer: readonly (readonly OrderFact[])[],
  spendMinor: number | null,
  w: Window,
  predictedMinor: number | null | undefined,
  predictedModel: string | undefined,
): LtvGroup {
  const { basis, costCoverage } = marginBasisOfGroups(byCustomer);
  const months = w.last - w.first + 1;
  let netAll = 0;
  let marginAll = 0;
  let winOrders = 0;
  let winNet = 0;
  let winMargin = 0;
  let winCustomers = 0;
  let lifespanDays = 0;
  let lifetimeMonths = 0;
  // Per window month: customers active in it, and of those, active in the month before too.
  const active = new Int32Array(months);
  const retainedIn = new Int32Array(months);
  for (const list of byCustomer) {
    const first = list[0]!.orderedAt.getTime();
    const last = list[list.length - 1]!.orderedAt.getTime();
    lifespanDays += (last - first) / DAY_MS;
    lifetimeMonths += monthIndexOfMs(last) - monthIndexOfMs(first) + 1;
    let prevMonth = -Infinity;
    let inWindow = false;
    for (const o of list) {
      const net = netOf(o);
      const margin = marginOf(o, basis);
      netAll += net;
      marginAll += margin;
      const m = monthIndexOfMs(o.orderedAt.getTime());
      if (m < w.first || m > w.last) continue;
      inWindow = true;
      winOrders++;
      winNet += net;
      winMargin += margin;
      if (m !== prevMonth) {
        active[m - w.first]!++;
        if (prevMonth === m - 1) retainedIn[m - w.first]!++;
        prevMonth = m;
      }
    }
    if (inWindow) winCustomers++;
  }
  const customers = byCustomer.length;
  let customerMonths = 0;
  let previousActive = 0;
  let retained = 0;
  for (let k = 0; k < months; k++) {
    customerMonths += active[k]!;
    if (k === 0) continue;
    previousActive += active[k - 1]!;
    retained += retainedIn[k]!;
  }

  const cac = cacOf(byCustomer, spendMinor, w);

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
  return { group, customers, marginBasis: basis, costCoverage, cac, formulas };
}

/**
 * The LTV report (docs/metrics.md#ltv): the seed formulas side by side with observed (and, when
 * given, predicted) LTV, each against CAC, overall and per acquisition channel.
 */
export function ltvReport(input: LtvInput): LtvReport {
  const orders = ordersAsOf(input.orders, input.asOf);
  const windowMonths = input.windowMonths ?? 12;
  if (!Number.isInteger(windowMonths) || windowMonths < 1 || windowMonths > 1200) {
    throw invalid(`expected windowMonths to be an integer in 1..1200, got ${windowMonths}`, {
      field: 'windowMonths',
    });
  }
  const last = periodIndex(input.asOf, 'month') - 1;
  const w: Window = {
    first: last - windowMonths + 1,
    last,
    from: periodStart(last - windowMonths + 1, 'month'),
    to: periodStart(last + 1, 'month'),
  };
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
  const profiles = profileIndex(input.profiles);
  const groups = [...ordersByCustomer(orders)];
  const all = groups.map(([, list]) => list);
  const byChannelOrders = new Map<string, (readonly OrderFact[])[]>();
  for (const [customerId, list] of groups) {
    const ch = profiles.get(customerId)?.channel ?? UNKNOWN;
    let lists = byChannelOrders.get(ch);
    if (!lists) byChannelOrders.set(ch, (lists = []));
    lists.push(list);
  }
  const predicted = input.predicted;
  const overall = groupLtv(
    'all',
    all,
    hasSpend ? spendTotal : null,
    w,
    predicted?.overallMinor,
    predicted?.model,
  );
  const byChannel = [...byChannelOrders.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([ch, list]) =>
      groupLtv(
        ch,
        list,
        hasSpend ? (spendByChannel.get(ch) ?? 0) : null,
        w,
        predicted ? (predicted.byChannelMinor?.[ch] ?? null) : undefined,
        predicted?.model,
      ),
    );
  const notes: string[] = [];
  if (overall.marginBasis === 'revenue') {
    notes.push(
      `product costs unknown for ${((1 - overall.costCoverage) * 100).toFixed(1)}% of orders: margin figures use net revenue`,
    );
  }
  if (!hasSpend) notes.push('no marketing spend data: CAC, LTV − CAC and LTV:CAC are not available');
  if (input.profiles && input.profiles.length > 0 && spend.some((s) => !byChannelOrders.has(s.channel))) {
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
    notes,
  };
}
