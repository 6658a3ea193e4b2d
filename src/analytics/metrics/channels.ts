import { invalid } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import type { CustomerProfile, DateRange, MarginBasis, OrderFact, SpendRow } from './types.js';
import {
  UNKNOWN,
  assertRange,
  marginOf,
  netOf,
  ordersAsOf,
  ordersByCustomer,
  profileIndex,
  ratio,
  spendAsOf,
} from './util.js';

/** Horizons of the N-day LTVs, in days. */
export const LTV_HORIZONS = [90, 180, 365] as const;
/** Checkpoints (days after the first order) at which payback is tested. */
export const PAYBACK_CHECKPOINTS = [0, 30, 60, 90, 120, 150, 180, 270, 365] as const;

/** N-day LTV of a channel's customers (docs/metrics.md#channels.ltv_n_days). */
export interface HorizonLtv {
  days: number;
  /** Customers acquired at least `days` before asOf (the only ones averaged). */
  matureCustomers: number;
  revenueMinor: number | null;
  marginMinor: number | null;
}

export interface ChannelRow {
  channel: string;
  /** Customers acquired in the window (first order in the window). */
  customers: number;
  spendMinor: number | null;
  cacMinor: number | null;
  ltv: HorizonLtv[];
  /** Margin LTV at `ratioHorizonDays` / CAC. */
  ltvToCac: number | null;
  /** First checkpoint (days) where mean cumulative margin of mature customers ≥ CAC. */
  paybackDays: number | null;
  /** Acquired customers with ≥ 2 orders before asOf / acquired customers. */
  repeatRate: number | null;
}

export interface ReallocationEstimate {
  customersLost: number;
  customersGained: number;
  /** Expected change of acquired margin LTV (at the ratio horizon), unrounded minor units. */
  valueChangeMinor: number;
}

export interface Reallocation {
  definition: 'channels.reallocation';
  fromChannel: string;
  toChannel: string;
  movedSpendMinor: number;
  shareMoved: number;
  elasticity: number;
  /** Constant CAC in both channels (upper bound). */
  linear: ReallocationEstimate;
  /** Customers ∝ spend^elasticity in each channel. */
  diminishingReturns: ReallocationEstimate;
  assumptions: string[];
}

export interface ChannelsReport {
  definition: 'channels';
  asOf: Date;
  window: DateRange;
  marginBasis: MarginBasis;
  costCoverage: number;
  ratioHorizonDays: number;
  channels: ChannelRow[];
  reallocation: Reallocation | null;
  /** Why there is no reallocation suggestion, when there is none. */
  reallocationNote: string | null;
  notes: string[];
  definitions: Record<string, string>;
}

export interface ChannelsInput {
  orders: readonly OrderFact[];
  /** Acquisition channel per customer; customers without one are `(unknown)`. */
  profiles: readonly CustomerProfile[];
  spend?: readonly SpendRow[];
  asOf: Date;
  /** Acquisition window (first orders and spend in `[from, to)`); default: all history before asOf. */
  window?: DateRange;
  /** LTV horizon used for LTV:CAC, payback value and reallocation (one of 90, 180, 365; default 365). */
  ratioHorizonDays?: (typeof LTV_HORIZONS)[number];
  /** Share of the weakest channel's spend to move (default 0.1). */
  shareMoved?: number;
  /** Exponent of customers ∝ spend^e for the diminishing-returns estimate (default 0.7). */
  elasticity?: number;
}

/**
 * The channels report (docs/metrics.md#channels): per acquisition channel customers, CAC, N-day
 * LTVs, LTV:CAC, payback and repeat rate, and a budget reallocation suggestion.
 */
export function channelsReport(input: ChannelsInput): ChannelsReport {
  const orders = ordersAsOf(input.orders, input.asOf);
  const asOfT = input.asOf.getTime();
  const byCustomer = ordersByCustomer(orders);
  let earliest = asOfT;
  for (const list of byCustomer.values()) earliest = Math.min(earliest, list[0]!.orderedAt.getTime());
  const window = input.window ?? { from: new Date(earliest), to: input.asOf };
  assertRange(window, 'window');
  const facts = channelFacts(orders, input.profiles, input.asOf, window);
  return channelsReportFromFacts(facts, { ...input, window });
}

/** The days after the first order that N-day LTVs and payback look at. */
export const CHANNEL_DAYS: readonly number[] = [
  ...new Set<number>([...LTV_HORIZONS, ...PAYBACK_CHECKPOINTS]),
].sort((a, b) => a - b);

/** One channel's customers acquired in the window, and per {@link CHANNEL_DAYS} day what they are worth. */
export interface ChannelAcquired {
  channel: string;
  customers: number;
  /** … with ≥ 2 orders before asOf. */
  repeaters: number;
  /** Per day of {@link CHANNEL_DAYS}, in that order: customers acquired ≥ that many days before asOf … */
  mature: number[];
  /** … their net revenue in the orders within that many days of their first … */
  netMinor: number[];
  /** … and net − cost (unknown cost read as 0). */
  netLessCostMinor: number[];
}

/**
 * What the channels report is computed from: every order before asOf (counted for the margin
 * basis) and the channels of the customers acquired in the window — summed by the database
 * (reports repository `channelFacts`) or by {@link channelFacts} over the orders.
 */
export interface ChannelFacts {
  orders: number;
  costedOrders: number;
  channels: ChannelAcquired[];
}

/** {@link ChannelFacts} of the orders before `asOf` for an acquisition window. */
export function channelFacts(
  orders: readonly OrderFact[],
  profileList: readonly CustomerProfile[],
  asOf: Date,
  window: DateRange,
): ChannelFacts {
  const cut = ordersAsOf(orders, asOf);
  const asOfT = asOf.getTime();
  const fromT = window.from.getTime();
  const toT = Math.min(window.to.getTime(), asOfT);
  const profiles = profileIndex(profileList);
  let costed = 0;
  for (const o of cut) if (o.costMinor !== null) costed++;
  const accs = new Map<string, ChannelAcquired>();
  const days = CHANNEL_DAYS;
  for (const [customerId, list] of ordersByCustomer(cut)) {
    const t0 = list[0]!.orderedAt.getTime();
    if (t0 < fromT || t0 >= toT) continue;
    const channel = profiles.get(customerId)?.channel ?? UNKNOWN;
    let a = accs.get(channel);
    if (!a) {
      const zeros = () => days.map(() => 0);
      a = {
        channel,
        customers: 0,
        repeaters: 0,
        mature: zeros(),
        netMinor: zeros(),
        netLessCostMinor: zeros(),
      };
      accs.set(channel, a);
    }
    a.customers++;
    if (list.length >= 2) a.repeaters++;
    days.forEach((d, i) => {
      if (t0 + d * DAY_MS >= asOfT) return; // not mature for this horizon
      a.mature[i]!++;
      for (const o of list) {
        if (o.orderedAt.getTime() - t0 > d * DAY_MS) break;
        a.netMinor[i]! += netOf(o);
        a.netLessCostMinor[i]! += marginOf(o, 'margin');
      }
    });
  }
  return { orders: cut.length, costedOrders: costed, channels: [...accs.values()] };
}

/** {@link channelsReport} from its {@link ChannelFacts} over `input.window` (required here). */
export function channelsReportFromFacts(
  facts: ChannelFacts,
  input: Omit<ChannelsInput, 'orders' | 'profiles' | 'window'> & { window: DateRange },
): ChannelsReport {
  const asOfT = input.asOf.getTime();
  const horizon = input.ratioHorizonDays ?? 365;
  if (!LTV_HORIZONS.includes(horizon)) {
    throw invalid(`expected ratioHorizonDays in ${LTV_HORIZONS.join(', ')}`, { field: 'ratioHorizonDays' });
  }
  const shareMoved = input.shareMoved ?? 0.1;
  if (!(shareMoved > 0 && shareMoved <= 1))
    throw invalid('expected 0 < shareMoved ≤ 1', { field: 'shareMoved' });
  const elasticity = input.elasticity ?? 0.7;
  if (!(elasticity > 0 && elasticity <= 1))
    throw invalid('expected 0 < elasticity ≤ 1', { field: 'elasticity' });
  const window = input.window;
  assertRange(window, 'window');
  const fromT = window.from.getTime();
  const toT = Math.min(window.to.getTime(), asOfT);

  // `margin` only if every order has a known cost (no orders counts as known).
  const basis: MarginBasis = facts.costedOrders === facts.orders ? 'margin' : 'revenue';
  const costCoverage = facts.orders === 0 ? 1 : facts.costedOrders / facts.orders;
  const spend = input.spend ? spendAsOf(input.spend, input.asOf) : [];
  const hasSpend = spend.length > 0;
  const spendBy = new Map<string, number>();
  for (const s of spend) {
    const t = s.date.getTime();
    if (t >= fromT && t < toT) spendBy.set(s.channel, (spendBy.get(s.channel) ?? 0) + s.amountMinor);
  }

  interface Acc {
    customers: number;
    repeaters: number;
    // per checkpoint / horizon: Σ value and mature count
    horizonRev: Map<number, number>;
    horizonMargin: Map<number, number>;
    mature: Map<number, number>;
  }
  const accs = new Map<string, Acc>();
  const accOf = (ch: string): Acc => {
    let a = accs.get(ch);
    if (!a) {
      a = { customers: 0, repeaters: 0, horizonRev: new Map(), horizonMargin: new Map(), mature: new Map() };
      accs.set(ch, a);
    }
    return a;
  };
  for (const ch of spendBy.keys()) accOf(ch);
  for (const c of facts.channels) {
    const a = accOf(c.channel);
    a.customers += c.customers;
    a.repeaters += c.repeaters;
    CHANNEL_DAYS.forEach((d, i) => {
      if (c.mature[i]! === 0) return;
      a.mature.set(d, (a.mature.get(d) ?? 0) + c.mature[i]!);
      a.horizonRev.set(d, (a.horizonRev.get(d) ?? 0) + c.netMinor[i]!);
      a.horizonMargin.set(
        d,
        (a.horizonMargin.get(d) ?? 0) + (basis === 'margin' ? c.netLessCostMinor[i]! : c.netMinor[i]!),
      );
    });
  }

  const channels: ChannelRow[] = [...accs.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([channel, a]) => {
      const spendMinor = hasSpend ? (spendBy.get(channel) ?? 0) : null;
      const cacMinor = spendMinor === null ? null : ratio(spendMinor, a.customers);
      const marginAt = (d: number) => {
        const n = a.mature.get(d) ?? 0;
        return n === 0 ? null : (a.horizonMargin.get(d) ?? 0) / n;
      };
      const ltv = LTV_HORIZONS.map((d): HorizonLtv => {
        const n = a.mature.get(d) ?? 0;
        return {
          days: d,
          matureCustomers: n,
          revenueMinor: n === 0 ? null : (a.horizonRev.get(d) ?? 0) / n,
          marginMinor: marginAt(d),
        };
      });
      const ratioLtv = marginAt(horizon);
      let paybackDays: number | null = null;
      if (cacMinor !== null) {
        for (const d of PAYBACK_CHECKPOINTS) {
          const v = marginAt(d);
          if (v !== null && v >= cacMinor) {
            paybackDays = d;
            break;
          }
        }
      }
      return {
        channel,
        customers: a.customers,
        spendMinor,
        cacMinor,
        ltv,
        ltvToCac: ratioLtv === null || cacMinor === null ? null : ratio(ratioLtv, cacMinor),
        paybackDays,
        repeatRate: ratio(a.repeaters, a.customers),
      };
    });

  const { reallocation, note } = suggestReallocation(channels, horizon, shareMoved, elasticity);
  const notes: string[] = [];
  if (!hasSpend)
    notes.push('no marketing spend data: CAC, LTV:CAC, payback and reallocation are not available');
  if (basis === 'revenue') {
    notes.push(
      `product costs unknown for ${((1 - costCoverage) * 100).toFixed(1)}% of orders: margin figures use net revenue`,
    );
  }
  for (const c of channels) {
    const h = c.ltv.find((x) => x.days === horizon)!;
    if (c.customers > 0 && h.matureCustomers < 30) {
      notes.push(
        `${c.channel}: only ${h.matureCustomers} customers are ${horizon} days old; its LTV:CAC is fragile`,
      );
    }
  }
  return {
    definition: 'channels',
    asOf: input.asOf,
    window: { from: window.from, to: new Date(toT) },
    marginBasis: basis,
    costCoverage,
    ratioHorizonDays: horizon,
    channels,
    reallocation,
    reallocationNote: note,
    notes,
    definitions: {
      customers: 'channels.customers',
      cacMinor: 'cac',
      ltv: 'channels.ltv_n_days',
      ltvToCac: 'channels.ltv_to_cac',
      paybackDays: 'channels.payback',
      repeatRate: 'channels.repeat_rate',
      reallocation: 'channels.reallocation',
    },
  };
}

function suggestReallocation(
  channels: readonly ChannelRow[],
  horizon: number,
  shareMoved: number,
  elasticity: number,
): { reallocation: Reallocation | null; note: string | null } {
  const eligible = channels.filter(
    (c) => c.ltvToCac !== null && c.spendMinor !== null && c.spendMinor > 0 && c.customers > 0,
  );
  if (eligible.length < 2) {
    return {
      reallocation: null,
      note: 'needs two channels with spend, acquired customers and a mature LTV to compare',
    };
  }
  const sorted = [...eligible].sort((a, b) => a.ltvToCac! - b.ltvToCac! || (a.channel < b.channel ? -1 : 1));
  const from = sorted[0]!;
  const to = sorted[sorted.length - 1]!;
  if (from.ltvToCac === to.ltvToCac) {
    return { reallocation: null, note: 'all comparable channels have the same LTV:CAC' };
  }
  const ltvOf = (c: ChannelRow) => c.ltv.find((x) => x.days === horizon)!.marginMinor!;
  const moved = Math.round(shareMoved * from.spendMinor!);
  const lostLinear = moved / from.cacMinor!;
  const gainedLinear = moved / to.cacMinor!;
  const lostDr = from.customers * (1 - ((from.spendMinor! - moved) / from.spendMinor!) ** elasticity);
  const gainedDr = to.customers * (((to.spendMinor! + moved) / to.spendMinor!) ** elasticity - 1);
  return {
    note: null,
    reallocation: {
      definition: 'channels.reallocation',
      fromChannel: from.channel,
      toChannel: to.channel,
      movedSpendMinor: moved,
      shareMoved,
      elasticity,
      linear: {
        customersLost: lostLinear,
        customersGained: gainedLinear,
        valueChangeMinor: gainedLinear * ltvOf(to) - lostLinear * ltvOf(from),
      },
      diminishingReturns: {
        customersLost: lostDr,
        customersGained: gainedDr,
        valueChangeMinor: gainedDr * ltvOf(to) - lostDr * ltvOf(from),
      },
      assumptions: [
        `each channel's ${horizon}-day margin LTV per acquired customer stays as measured`,
        `linear: CAC stays constant as spend moves (an upper bound on the gain)`,
        `diminishing returns: customers acquired ∝ spend^${elasticity} within each channel`,
        'channels do not cannibalise each other and acquisition channels are attributed correctly',
        'the measured window is representative of the coming one',
      ],
    },
  };
}
