/**
 * Test helper: a seeded subscriber history (issue 28's reports), written into a store.
 *
 * What it models:
 * - a coffee shop (store currency USD, store zone Europe/Kyiv, customers without a zone of their own)
 *   selling COFFEE and DECAF on `coffee-monthly` (every month, 10% off) and TEA on `tea-fortnightly`
 *   (every 2 weeks, 5% off); MUG is sold one-off only; MATE is priced in GBP (its subscriptions are in
 *   another currency, which the report leaves out and counts);
 * - subscribers starting at a uniformly drawn instant of their start month: `early.perMonth` in each of
 *   the first `early.months` months (the cohorts that are observed long), then `laterPerMonth`;
 * - churn by the sBG process (Fader & Hardie 2007), so the sBG is the true model: each subscriber draws
 *   a monthly cancel probability θ ~ Beta(`churn.alpha`, `churn.beta`) and in each month since the
 *   start (a calendar month from the start instant, in the store zone) cancels with probability θ, at
 *   a uniform instant of that month; the cancel reason is drawn from a fixed mix, some with a note;
 * - a few quantity changes, swaps (COFFEE ↔ DECAF), pauses (resumed after 30–45 days, or cancelled
 *   while paused) and reactivations (20–150 days after cancelling, then churning again with the same θ);
 * - the recurring orders of every due cycle (status pending, ordered at the cycle's due instant) with
 *   their first payment attempt (never answered: no payment results, so no dunning), a few of them
 *   partly refunded; some subscribers bought the product one-off before subscribing;
 * - `oneOffBuyers` customers who buy the same products one-off and never subscribe: a first purchase
 *   at a uniform instant of the history, then repeat purchases every ~Exponential(mean 2.5 months),
 *   stopping after each with probability p ~ Beta(2, 4); 3% of their orders are refunded in full.
 *
 * Two writers of one plan: `via: 'sql'` (default) writes the subscriptions, their history and their
 * recurring-order keys in bulk, exactly as the service would have written them — the state machine of
 * src/modules/subscriptions/service.ts mirrored by {@link simulateSubscriber}; `via: 'service'` drives
 * the real service (createSubscription, actOnSubscription and the renewal job renewSubscriptions at
 * each due instant) on a ManualClock: slow (a recurring order is a transaction of its own: ~75 ms on
 * DuckDB), so for small plans — subscriptionHistory.test.ts writes one plan both ways and compares
 * every row. Customers, products, plans and orders go through the real services and the importer's
 * merge either way (orders and refunds in one merge).
 *
 * Not modelled: payment results and dunning, reminders (the plans have none), skips and reschedules
 * (they move no MRR), customers in zones of their own.
 */
import { Rng } from '../../src/analytics/btyd/simulate.js';
import { calendarOf } from '../../src/analytics/calendar.js';
import { addCalendarMonths } from '../../src/analytics/subscriptions/report.js';
import {
  addIntervals,
  cycleInstant,
  localDate,
  localInstant,
  monthlyMinor,
  type Anchor,
  type Interval,
} from '../../src/analytics/subscriptions/schedule.js';
import type { ManualClock } from '../../src/kit/clock.js';
import type { ModuleContext } from '../../src/kit/context.js';
import { CustomerInput, RefundInput } from '../../src/modules/imports/schema.js';
import { mergeRows, parseJsonBody } from '../../src/modules/ingest/service.js';
import { orderRows } from '../../src/modules/orders/service.js';
import { upsertProduct } from '../../src/modules/products/service.js';
import { updateStore } from '../../src/modules/settings/service.js';
import {
  actOnSubscription,
  createSubscription,
  renewSubscriptions,
  savePlan,
} from '../../src/modules/subscriptions/service.js';
import type { SqlValue } from '../../src/storage/port.js';

const DAY = 86_400_000;
/** The renewal job runs every five minutes: an order due at once (a restart after its due time) is made by the next run. */
const JOB_EVERY = 5 * 60_000;
/** Planned actions are at least this far apart. */
const GAP = 10 * 60_000;

export const HISTORY_ZONE = 'Europe/Kyiv';
export const HISTORY_CURRENCY = 'USD';

/** The catalogue: one-off price in minor units, currency. */
export const PRODUCTS = {
  COFFEE: { title: 'House coffee 1 kg', priceMinor: 1500, currency: 'USD' },
  DECAF: { title: 'Decaf 1 kg', priceMinor: 1600, currency: 'USD' },
  TEA: { title: 'Green tea', priceMinor: 800, currency: 'USD' },
  MUG: { title: 'Mug', priceMinor: 1200, currency: 'USD' },
  MATE: { title: 'Yerba mate', priceMinor: 900, currency: 'GBP' },
} as const;
export type Sku = keyof typeof PRODUCTS;

export const PLANS = {
  'coffee-monthly': {
    title: 'Coffee every month',
    interval: { every: 1, unit: 'month' } as Interval,
    discountPercent: 10,
    products: ['COFFEE', 'DECAF'] as Sku[],
  },
  'tea-fortnightly': {
    title: 'Tea every two weeks',
    interval: { every: 2, unit: 'week' } as Interval,
    discountPercent: 5,
    products: ['TEA', 'MATE'] as Sku[],
  },
} as const;
export type PlanName = keyof typeof PLANS;

const LOCAL_TIME = '09:00';

export const REASONS: [string, number, string[]][] = [
  ['too_expensive', 0.25, ['Cheaper at the supermarket', 'Money is tight this year']],
  ['too_much_product', 0.2, ['Piling up in the cupboard', 'We drink less than we thought']],
  ['not_needed', 0.15, ['Stopped drinking coffee']],
  ['quality', 0.1, ['The last bag tasted burnt']],
  ['delivery', 0.08, ['Arrived late twice']],
  ['switching', 0.1, ['Found a local roaster']],
  ['moving', 0.07, ['Moving abroad']],
  ['other', 0.05, ['Just taking a break']],
];

export interface HistoryOptions {
  seed?: number;
  /** The first month, `YYYY-MM` (store zone). */
  start?: string;
  /** Months of history: it ends at the start of the month after (store zone). */
  months?: number;
  early?: { months: number; perMonth: number };
  laterPerMonth?: number;
  churn?: { alpha: number; beta: number };
  oneOffBuyers?: number;
  /** Subscriptions to MATE, in GBP. */
  otherCurrency?: number;
  /** The share of subscribers who change quantity, swap, pause, and of cancellers who reactivate. */
  rates?: { quantity: number; swap: number; pause: number; reactivate: number };
}

export type PlannedAction =
  | { action: 'quantity'; quantity: number }
  | { action: 'swap'; sku: Sku }
  | { action: 'pause'; until: string }
  | { action: 'resume' }
  | { action: 'cancel'; reason: string; note?: string }
  | { action: 'reactivate' };

export interface PlannedSubscriber {
  customer: string;
  plan: PlanName;
  sku: Sku;
  quantity: number;
  startMs: number;
  /** The subscriber's monthly cancel probability (sBG's θ). */
  theta: number;
  /** After the creation, in time order. */
  actions: { atMs: number; body: PlannedAction }[];
  /** The first cancellation (what the survivor curves count); null: not by the end. */
  firstCancelMs: number | null;
}

export interface PlannedOrder {
  id: string;
  customer: string;
  atMs: number;
  lines: { sku: Sku; quantity: number }[];
  /** Refunded in full at this instant (null: not refunded). */
  refundedMs: number | null;
}

export interface HistoryPlan {
  zone: string;
  currency: string;
  startMs: number;
  /** The end of the history (exclusive): the start of the month after the last. */
  endMs: number;
  churn: { alpha: number; beta: number };
  subscribers: PlannedSubscriber[];
  /** One-off orders (subscribers' before they subscribed, and one-off buyers'). */
  orders: PlannedOrder[];
  /** Customers who never subscribe. */
  oneOffBuyers: string[];
  /** Recurring orders refunded in part: subscriber index and cycle → refunded share. */
  recurringRefunds: { subscriber: number; cycle: number; share: number }[];
}

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng.uniform() * list.length)]!;

function weighted<T>(rng: Rng, list: readonly [T, number, ...unknown[]][]): [T, number, ...unknown[]] {
  let u = rng.uniform() * list.reduce((s, x) => s + x[1], 0);
  for (const x of list) if ((u -= x[1]) < 0) return x;
  return list.at(-1)!;
}

/** A whole second in [a, b) (b − a ≥ 2 s), away from its ends by `margin` of the span. */
const between = (rng: Rng, a: number, b: number, margin = 0.02) =>
  Math.floor((a + (margin + (1 - 2 * margin) * rng.uniform()) * (b - a)) / 1000) * 1000;

/**
 * The plan of a history (pure, seeded): who subscribes when, to what, what they do and when they
 * cancel; the one-off orders. See the file comment for what it models.
 */
export function planSubscriptionHistory(o: HistoryOptions = {}): HistoryPlan {
  const rng = new Rng(o.seed ?? 28);
  const cal = calendarOf(HISTORY_ZONE);
  const [y, m] = (o.start ?? '2024-01').split('-').map(Number) as [number, number];
  const first = y * 12 + m - 1;
  const months = o.months ?? 30;
  const startMs = cal.periodStart(first, 'month').getTime();
  const endMs = cal.periodStart(first + months, 'month').getTime();
  const early = o.early ?? { months: 6, perMonth: 50 };
  const later = o.laterPerMonth ?? 12;
  const churn = o.churn ?? { alpha: 1.1, beta: 5 };
  const months1 = (ms: number, k: number) => addCalendarMonths(cal, ms, k);
  const rates = o.rates ?? { quantity: 0.12, swap: 0.06, pause: 0.07, reactivate: 0.12 };

  /** The instant of a cancellation in the spell from `from`: month t with probability θ(1 − θ)^(t−1). */
  const cancelAfter = (from: number, theta: number): number | null => {
    for (let t = 1; ; t++) {
      const a = months1(from, t - 1);
      if (a >= endMs) return null;
      if (rng.uniform() < theta) {
        const at = between(rng, a, months1(from, t));
        return at < endMs ? at : null;
      }
    }
  };
  const reason = (): { action: 'cancel'; reason: string; note?: string } => {
    const [code, , notes] = weighted(rng, REASONS) as [string, number, string[]];
    return rng.uniform() < 0.3
      ? { action: 'cancel', reason: code, note: pick(rng, notes) }
      : { action: 'cancel', reason: code };
  };

  const subscribers: PlannedSubscriber[] = [];
  const orders: PlannedOrder[] = [];
  const recurringRefunds: HistoryPlan['recurringRefunds'] = [];
  let customerNo = 0;
  let orderNo = 0;
  const newOrder = (customer: string, atMs: number, lines: PlannedOrder['lines'], refundP: number) =>
    orders.push({
      id: `shop-${String(++orderNo).padStart(5, '0')}`,
      customer,
      atMs,
      lines,
      refundedMs: rng.uniform() < refundP ? atMs + Math.floor(1 + rng.uniform() * 20) * DAY : null,
    });

  for (let k = 0; k < months; k++) {
    const mStart = cal.periodStart(first + k, 'month').getTime();
    const mEnd = cal.periodStart(first + k + 1, 'month').getTime();
    const n = k < early.months ? early.perMonth : later;
    const gbp = k === 0 ? (o.otherCurrency ?? 2) : 0;
    for (let i = 0; i < n + gbp; i++) {
      const customer = `c${String(++customerNo).padStart(5, '0')}`;
      const other = i >= n;
      const plan: PlanName = other
        ? 'tea-fortnightly'
        : rng.uniform() < 0.8
          ? 'coffee-monthly'
          : 'tea-fortnightly';
      const sku: Sku = other
        ? 'MATE'
        : plan === 'tea-fortnightly'
          ? 'TEA'
          : rng.uniform() < 0.85
            ? 'COFFEE'
            : 'DECAF';
      const quantity = weighted(rng, [
        [1, 0.8],
        [2, 0.15],
        [3, 0.05],
      ])[0];
      const start = between(rng, mStart, mEnd);
      const theta = rng.beta(churn.alpha, churn.beta);
      const firstCancel = cancelAfter(start, theta);
      const spanEnd = firstCancel ?? endMs;
      const actions: PlannedSubscriber['actions'] = [];
      if (rng.uniform() < rates.quantity && spanEnd - start > 2 * DAY) {
        const q = quantity === 1 ? 2 : rng.uniform() < 0.5 ? quantity - 1 : quantity + 1;
        actions.push({ atMs: between(rng, start + DAY, spanEnd), body: { action: 'quantity', quantity: q } });
      }
      if (
        sku !== 'MATE' &&
        plan === 'coffee-monthly' &&
        rng.uniform() < rates.swap &&
        spanEnd - start > 2 * DAY
      )
        actions.push({
          atMs: between(rng, start + DAY, spanEnd),
          body: { action: 'swap', sku: sku === 'COFFEE' ? 'DECAF' : 'COFFEE' },
        });
      if (rng.uniform() < rates.pause && spanEnd - start > 3 * DAY) {
        const p = between(rng, start + DAY, spanEnd);
        const resume = p + Math.floor(30 + rng.uniform() * 15) * DAY;
        actions.push({
          atMs: p,
          body: { action: 'pause', until: localDate(new Date(p + 60 * DAY), HISTORY_ZONE) },
        });
        if (resume < spanEnd) actions.push({ atMs: resume, body: { action: 'resume' } });
      }
      if (firstCancel !== null) {
        actions.push({ atMs: firstCancel, body: reason() });
        if (rng.uniform() < rates.reactivate) {
          const back = firstCancel + Math.floor(20 + rng.uniform() * 130) * DAY + 3_600_000;
          if (back < endMs) {
            actions.push({ atMs: back, body: { action: 'reactivate' } });
            const again = cancelAfter(back, theta);
            if (again !== null) actions.push({ atMs: again, body: reason() });
          }
        }
      }
      actions.sort((a, b) => a.atMs - b.atMs);
      // Actions at least GAP apart (and after the creation), so that the renewal job's run after a
      // restart (within five minutes) comes before the next action.
      const kept: PlannedSubscriber['actions'] = [];
      let last = start;
      for (const a of actions) {
        const atMs = Math.max(a.atMs, last + GAP);
        if (atMs >= endMs) break;
        kept.push({ atMs, body: a.body });
        last = atMs;
      }
      subscribers.push({
        customer,
        plan,
        sku,
        quantity,
        startMs: start,
        theta,
        actions: kept,
        firstCancelMs: kept.find((a) => a.body.action === 'cancel')?.atMs ?? null,
      });
      // Some bought the product one-off before subscribing.
      if (!other && rng.uniform() < 0.3) {
        const before = start - Math.floor(10 + rng.uniform() * 80) * DAY;
        if (before > startMs) newOrder(customer, before, [{ sku, quantity: 1 }], 0);
      }
      // And a mug during the subscription.
      if (!other && rng.uniform() < 0.15 && spanEnd - start > 2 * DAY)
        newOrder(customer, between(rng, start + DAY, spanEnd), [{ sku: 'MUG', quantity: 1 }], 0);
    }
  }
  subscribers.sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < subscribers.length; i++)
    if (subscribers[i]!.startMs === subscribers[i - 1]!.startMs) subscribers[i]!.startMs += 1000;

  // One-off buyers of the same products.
  const oneOffBuyers: string[] = [];
  for (let i = 0; i < (o.oneOffBuyers ?? 350); i++) {
    const customer = `c${String(++customerNo).padStart(5, '0')}`;
    oneOffBuyers.push(customer);
    const sku: Sku = weighted(rng, [
      ['COFFEE', 0.55],
      ['DECAF', 0.15],
      ['TEA', 0.3],
    ])[0] as Sku;
    const stop = rng.beta(2, 4);
    let at = between(rng, startMs, endMs);
    for (;;) {
      const lines: PlannedOrder['lines'] = [{ sku, quantity: rng.uniform() < 0.75 ? 1 : 2 }];
      if (rng.uniform() < 0.1) lines.push({ sku: 'MUG', quantity: 1 });
      newOrder(customer, at, lines, 0.03);
      if (rng.uniform() < stop) break;
      at += Math.floor(rng.exponential(1 / (2.5 * 30.4)) * DAY) + 3_600_000;
      if (at >= endMs) break;
    }
  }
  // A few recurring orders refunded in part (a damaged bag): drawn by subscriber and cycle.
  for (let s = 0; s < subscribers.length; s++)
    if (rng.uniform() < 0.05)
      recurringRefunds.push({ subscriber: s, cycle: 1 + Math.floor(rng.uniform() * 3), share: 0.5 });
  orders.sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : 1));
  return {
    zone: HISTORY_ZONE,
    currency: HISTORY_CURRENCY,
    startMs,
    endMs,
    churn,
    subscribers,
    orders,
    oneOffBuyers,
    recurringRefunds,
  };
}

// ---- the service's state machine, mirrored -----------------------------------------------------------

/** A subscription's row as the service keeps it (the columns the service writes). */
export interface SimulatedRow {
  sku: Sku;
  quantity: number;
  unit_price_minor: number;
  currency: string;
  interval_every: number;
  interval_unit: Interval['unit'];
  local_time: string;
  time_zone: string;
  anchor_date: string;
  anchor_cycle: number;
  next_cycle: number;
  next_at: Date | null;
  remind_at: Date | null;
  reminded_cycle: number;
  status: 'active' | 'paused' | 'cancelled';
  paused_until: string | null;
  cancel_reason: string | null;
  cancel_note: string | null;
  started_at: Date;
  cancelled_at: Date | null;
  updated_at: Date;
  version: number;
}

export interface SimulatedEvent {
  at: Date;
  type: string;
  cycle: number | null;
  detail: Record<string, unknown>;
  mrrMinor: number | null;
  by: string | null;
}

export interface SimulatedSubscriber {
  row: SimulatedRow;
  events: SimulatedEvent[];
  /**
   * The recurring orders: cycle, due instant, when the job made it (the due instant, or the job's next
   * run when the cycle was due at once), product, quantity and unit price then.
   */
  orders: {
    cycle: number;
    dueMs: number;
    renewMs: number;
    sku: Sku;
    quantity: number;
    unitPriceMinor: number;
  }[];
}

const discounted = (sku: Sku, plan: PlanName) =>
  Math.round((PRODUCTS[sku].priceMinor * (100 - PLANS[plan].discountPercent)) / 100);

/**
 * What createSubscription, actOnSubscription and renewSubscriptions (run at each due instant) write for
 * one planned subscriber, up to `endMs`: its row, its history and its recurring orders. Mirrors
 * src/modules/subscriptions/service.ts (no reminders: the plans have none); subscriptionHistory.test.ts
 * checks it against the service row by row.
 */
export function simulateSubscriber(
  s: PlannedSubscriber,
  endMs: number,
  by: string | null = null,
): SimulatedSubscriber {
  const plan = PLANS[s.plan];
  const interval = plan.interval;
  const zone = HISTORY_ZONE;
  const live = () => row.status === 'active';
  const mrr = () => (live() ? monthlyMinor(row.unit_price_minor, row.quantity, interval) : 0);
  const anchor = (): Anchor => ({ date: row.anchor_date, cycle: row.anchor_cycle, localTime: LOCAL_TIME });
  const start = new Date(s.startMs);
  const today = (ms: number) => localDate(new Date(ms), zone);
  const first = addIntervals(today(s.startMs), interval, 1);
  const row: SimulatedRow = {
    sku: s.sku,
    quantity: s.quantity,
    unit_price_minor: discounted(s.sku, s.plan),
    currency: PRODUCTS[s.sku].currency,
    interval_every: interval.every,
    interval_unit: interval.unit,
    local_time: LOCAL_TIME,
    time_zone: zone,
    anchor_date: first,
    anchor_cycle: 1,
    next_cycle: 1,
    next_at: cycleInstant(interval, { date: first, cycle: 1, localTime: LOCAL_TIME }, 1, zone),
    remind_at: null,
    reminded_cycle: 0,
    status: 'active',
    paused_until: null,
    cancel_reason: null,
    cancel_note: null,
    started_at: start,
    cancelled_at: null,
    updated_at: start,
    version: 1,
  };
  const events: SimulatedEvent[] = [
    {
      at: start,
      type: 'created',
      cycle: 1,
      detail: { plan: s.plan, sku: s.sku, quantity: s.quantity, firstDelivery: first },
      mrrMinor: mrr(),
      by,
    },
  ];
  const orders: SimulatedSubscriber['orders'] = [];
  const change = (at: number, set: Partial<SimulatedRow>) => {
    Object.assign(row, set);
    row.updated_at = new Date(at);
    row.version++;
  };
  /** When the schedule last (re)started: a cycle due before it is made by the job's next run. */
  let since = s.startMs;
  /** The renewal job at each due instant (or its next run after a restart) up to `t` (inclusive). */
  const renewUntil = (t: number) => {
    for (;;) {
      if (row.status !== 'active' || row.next_at === null) return;
      const due = row.next_at.getTime();
      const at = due > since ? due : since + JOB_EVERY;
      if (at > t) return;
      const n = row.next_cycle;
      orders.push({
        cycle: n,
        dueMs: due,
        renewMs: at,
        sku: row.sku,
        quantity: row.quantity,
        unitPriceMinor: row.unit_price_minor,
      });
      events.push({
        at: new Date(at),
        type: 'order',
        cycle: n,
        detail: {
          order: `{id}-${n}`,
          amountMinor: row.unit_price_minor * row.quantity,
          dueAt: new Date(due).toISOString(),
        },
        mrrMinor: null,
        by: 'schedule',
      });
      change(at, {
        next_cycle: n + 1,
        next_at: cycleInstant(interval, anchor(), n + 1, zone),
        remind_at: null,
      });
    }
  };
  const restart = (at: number) => {
    since = at;
    const date = today(at);
    const a = { date, cycle: row.next_cycle, localTime: LOCAL_TIME };
    return {
      date,
      set: {
        status: 'active' as const,
        anchor_date: date,
        anchor_cycle: row.next_cycle,
        next_at: cycleInstant(interval, a, row.next_cycle, zone),
        remind_at: null,
      },
    };
  };
  for (const { atMs, body } of s.actions) {
    renewUntil(atMs);
    const n = row.next_cycle;
    const at = new Date(atMs);
    let type: string;
    let detail: Record<string, unknown>;
    let cycle: number | null = n;
    switch (body.action) {
      case 'quantity':
        detail = { from: row.quantity, to: body.quantity };
        change(atMs, { quantity: body.quantity });
        type = 'quantity_changed';
        break;
      case 'swap':
        detail = { from: row.sku, to: body.sku };
        change(atMs, { sku: body.sku, unit_price_minor: discounted(body.sku, s.plan) });
        type = 'swapped';
        break;
      case 'pause':
        detail = { until: body.until };
        change(atMs, {
          status: 'paused',
          paused_until: body.until,
          next_at: localInstant(body.until, LOCAL_TIME, zone),
          remind_at: null,
        });
        type = 'paused';
        break;
      case 'resume': {
        const r = restart(atMs);
        detail = { from: r.date };
        change(atMs, { ...r.set, paused_until: null });
        type = 'resumed';
        break;
      }
      case 'reactivate': {
        const r = restart(atMs);
        detail = { from: r.date };
        change(atMs, {
          ...r.set,
          paused_until: null,
          unit_price_minor: discounted(row.sku, s.plan),
          cancel_reason: null,
          cancel_note: null,
          cancelled_at: null,
        });
        type = 'reactivated';
        break;
      }
      case 'cancel':
        detail = { reason: body.reason, ...(body.note ? { note: body.note } : {}) };
        change(atMs, {
          status: 'cancelled',
          next_at: null,
          remind_at: null,
          paused_until: null,
          cancel_reason: body.reason,
          cancel_note: body.note ?? null,
          cancelled_at: at,
        });
        type = 'cancelled';
        cycle = null;
        break;
    }
    events.push({ at, type, cycle, detail, mrrMinor: mrr(), by });
  }
  renewUntil(endMs - 1);
  return { row, events, orders };
}

// ---- writing it ------------------------------------------------------------------------------------------

export interface WrittenHistory {
  plan: HistoryPlan;
  /** Subscription ids by planned subscriber (same index). */
  ids: number[];
}

/** The store: currency, zone, products and plans, through the services. */
async function setUpStore(ctx: ModuleContext): Promise<void> {
  await updateStore(ctx, { currency: HISTORY_CURRENCY, timeZone: HISTORY_ZONE });
  for (const [sku, p] of Object.entries(PRODUCTS))
    await upsertProduct(ctx, {
      sku,
      body: { title: p.title, price: (p.priceMinor / 100).toFixed(2), currency: p.currency },
    });
  for (const [name, p] of Object.entries(PLANS))
    await savePlan(ctx, {
      body: {
        name,
        title: p.title,
        interval: p.interval,
        discountPercent: p.discountPercent,
        products: p.products,
        localTime: LOCAL_TIME,
        reminderDays: 0,
      },
    });
}

const iso = (ms: number) => new Date(ms).toISOString();
const price = (minor: number) => (minor / 100).toFixed(2);

/**
 * Writes a planned history into a fresh store (its clock a ManualClock at or before the history's
 * start; it ends at the history's end). `via: 'sql'` (default) writes subscriptions in bulk as the
 * service would; `via: 'service'` through the service and its renewal job (slow: small plans).
 */
export async function writeSubscriptionHistory(
  ctx: ModuleContext & { clock: ManualClock },
  plan: HistoryPlan,
  o: { via?: 'sql' | 'service' } = {},
): Promise<WrittenHistory> {
  const { db } = ctx;
  ctx.clock.set(new Date(plan.startMs - DAY));
  await setUpStore(ctx);
  const customers = [...plan.subscribers.map((s) => s.customer), ...plan.oneOffBuyers].sort();
  await mergeRows(
    db,
    {
      entity: 'customers',
      rows: customers.map((id) =>
        parseJsonBody(CustomerInput, { customer_id: id, email: `${id}@example.test` }, 'customer'),
      ),
    },
    ctx.clock.now(),
  );
  const sims = plan.subscribers.map((s) => simulateSubscriber(s, plan.endMs));
  const ids = o.via === 'service' ? await viaService(ctx, plan, sims) : await viaSql(ctx, plan, sims);
  ctx.clock.set(new Date(plan.endMs));
  await writeOrders(ctx, plan, sims, ids, o.via === 'service');
  // As a file import does after its merge: fresh planner statistics (Postgres) for what was loaded.
  const analyze = db.dialect.refreshStatistics([
    'customers',
    'orders',
    'order_lines',
    'refunds',
    'subscriptions',
    'subscription_events',
    'subscription_orders',
    'subscription_payments',
  ]);
  if (analyze) await db.exec(analyze);
  return { plan, ids };
}

/** Plans a history with `options` and writes it (SQL writer). */
export async function generateSubscriptionHistory(
  ctx: ModuleContext & { clock: ManualClock },
  options: HistoryOptions = {},
): Promise<WrittenHistory> {
  return writeSubscriptionHistory(ctx, planSubscriptionHistory(options));
}

async function viaService(
  ctx: ModuleContext & { clock: ManualClock },
  plan: HistoryPlan,
  sims: SimulatedSubscriber[],
): Promise<number[]> {
  type Step = { atMs: number; rank: number; run: () => Promise<void> };
  const steps: Step[] = [];
  const ids: number[] = [];
  const dues = new Set<number>();
  for (const s of sims) for (const x of s.orders) dues.add(x.renewMs);
  for (const at of dues)
    steps.push({ atMs: at, rank: 0, run: async () => void (await renewSubscriptions(ctx)) });
  plan.subscribers.forEach((s, i) => {
    steps.push({
      atMs: s.startMs,
      rank: 1,
      run: async () => {
        const d = await createSubscription(ctx, {
          body: { customer: s.customer, plan: s.plan, sku: s.sku, quantity: s.quantity },
          by: null,
        });
        ids[i] = Number(d.id);
      },
    });
    for (const a of s.actions)
      steps.push({
        atMs: a.atMs,
        rank: 2,
        run: async () => void (await actOnSubscription(ctx, { id: ids[i]!, body: a.body, by: null })),
      });
  });
  steps.sort((a, b) => a.atMs - b.atMs || a.rank - b.rank);
  for (const step of steps) {
    ctx.clock.set(new Date(step.atMs));
    await step.run();
  }
  return ids;
}

async function viaSql(ctx: ModuleContext, plan: HistoryPlan, sims: SimulatedSubscriber[]): Promise<number[]> {
  const { db } = ctx;
  const idRows = await db.query<{ id: number }>(
    `SELECT nextval('subscription_id_seq') AS id FROM generate_series(1, ${sims.length}) ORDER BY 1`,
  );
  const ids = idRows.map((r) => Number(r.id)).sort((a, b) => a - b);
  const people = await db.query<{ customer_id: number; external_id: string }>(
    `SELECT customer_id, external_id FROM customers`,
  );
  const internal = new Map(people.map((p) => [p.external_id, Number(p.customer_id)]));
  const plans = await db.query<{ plan_id: number; name: string }>(
    `SELECT plan_id, name FROM subscription_plans`,
  );
  const planId = new Map(plans.map((p) => [p.name, Number(p.plan_id)]));
  const subRows: SqlValue[][] = [];
  const eventRows: (SqlValue[] & { 0: number })[] = [];
  const keyRows: SqlValue[][] = [];
  const paymentRows: SqlValue[][] = [];
  sims.forEach((sim, i) => {
    const s = plan.subscribers[i]!;
    const r = sim.row;
    const id = ids[i]!;
    const customerId = internal.get(s.customer)!;
    subRows.push([
      id,
      customerId,
      planId.get(s.plan)!,
      r.sku,
      r.quantity,
      r.unit_price_minor,
      r.currency,
      r.interval_every,
      r.interval_unit,
      r.local_time,
      r.time_zone,
      r.anchor_date,
      r.anchor_cycle,
      r.next_cycle,
      r.next_at,
      r.remind_at,
      r.reminded_cycle,
      r.status,
      r.paused_until,
      null,
      r.cancel_reason,
      r.cancel_note,
      r.started_at,
      r.cancelled_at,
      r.started_at,
      r.updated_at,
      r.version,
    ]);
    for (const e of sim.events) {
      const detail = e.type === 'order' ? { ...e.detail, order: `sub-${id}-${e.cycle}` } : e.detail;
      eventRows.push([
        e.at.getTime(),
        id,
        customerId,
        e.at,
        e.type,
        e.cycle,
        JSON.stringify(detail),
        e.mrrMinor,
        e.by,
      ]);
    }
    for (const x of sim.orders) {
      // The order's first payment attempt, due at once (no result: the payment system never answers).
      paymentRows.push([
        id,
        x.cycle,
        1,
        customerId,
        `sub-${id}-${x.cycle}-1`,
        `sub-${id}-${x.cycle}`,
        x.unitPriceMinor * x.quantity,
        r.currency,
        new Date(x.dueMs),
        'due',
        new Date(x.renewMs),
      ]);
      keyRows.push([
        id,
        x.cycle,
        customerId,
        `sub-${id}-${x.cycle}`,
        new Date(x.dueMs),
        x.unitPriceMinor * x.quantity,
        new Date(x.renewMs),
      ]);
    }
  });
  // Events in time order (event ids as the service would have given them).
  eventRows.sort((a, b) => a[0] - b[0] || (a[1] as number) - (b[1] as number));
  await db.transaction(async (tx) => {
    await tx.copyRows(
      'subscriptions',
      [
        'subscription_id',
        'customer_id',
        'plan_id',
        'sku',
        'quantity',
        'unit_price_minor',
        'currency',
        'interval_every',
        'interval_unit',
        'local_time',
        'time_zone',
        'anchor_date',
        'anchor_cycle',
        'next_cycle',
        'next_at',
        'remind_at',
        'reminded_cycle',
        'status',
        'paused_until',
        'address',
        'cancel_reason',
        'cancel_note',
        'started_at',
        'cancelled_at',
        'created_at',
        'updated_at',
        'version',
      ],
      subRows,
    );
    const eventIds = await tx.query<{ id: number }>(
      `SELECT nextval('subscription_event_id_seq') AS id FROM generate_series(1, ${eventRows.length}) ORDER BY 1`,
    );
    const sortedIds = eventIds.map((r) => Number(r.id)).sort((a, b) => a - b);
    await tx.copyRows(
      'subscription_events',
      [
        'event_id',
        'subscription_id',
        'customer_id',
        'happened_at',
        'type',
        'cycle',
        'detail',
        'mrr_minor',
        'changed_by',
      ],
      eventRows.map((r, i) => [sortedIds[i]!, ...r.slice(1)]),
    );
    await tx.copyRows(
      'subscription_orders',
      [
        'subscription_id',
        'cycle',
        'customer_id',
        'order_external_id',
        'due_at',
        'amount_minor',
        'created_at',
      ],
      keyRows,
    );
    await tx.copyRows(
      'subscription_payments',
      [
        'subscription_id',
        'cycle',
        'attempt',
        'customer_id',
        'payment_key',
        'order_external_id',
        'amount_minor',
        'currency',
        'due_at',
        'status',
        'created_at',
      ],
      paymentRows,
    );
  });
  return ids;
}

/**
 * The orders through the importer's merge, in one: the one-off orders with their refunds, the
 * recurring orders (unless the service's job made them) and the partial refunds of a few of them.
 */
async function writeOrders(
  ctx: ModuleContext,
  plan: HistoryPlan,
  sims: SimulatedSubscriber[],
  ids: number[],
  recurringWritten: boolean,
): Promise<void> {
  const rows = plan.orders.flatMap((o) =>
    orderRows({
      order_id: o.id,
      customer_id: o.customer,
      ordered_at: iso(o.atMs),
      currency: HISTORY_CURRENCY,
      status: 'paid',
      source: 'web',
      lines: o.lines.map((l) => ({
        sku: l.sku,
        title: PRODUCTS[l.sku].title,
        quantity: l.quantity,
        unit_price: price(PRODUCTS[l.sku].priceMinor),
      })),
    }),
  );
  if (!recurringWritten)
    sims.forEach((sim, i) => {
      const s = plan.subscribers[i]!;
      for (const x of sim.orders)
        rows.push(
          ...orderRows({
            order_id: `sub-${ids[i]}-${x.cycle}`,
            customer_id: s.customer,
            ordered_at: iso(x.dueMs),
            currency: sim.row.currency,
            status: 'pending',
            source: 'subscription',
            channel: 'subscription',
            lines: [
              {
                sku: x.sku,
                title: PRODUCTS[x.sku].title,
                quantity: x.quantity,
                unit_price: price(x.unitPriceMinor),
              },
            ],
          }),
        );
    });
  const refunds = plan.orders
    .filter((o) => o.refundedMs !== null && o.refundedMs < plan.endMs)
    .map((o) =>
      parseJsonBody(
        RefundInput,
        {
          refund_id: `r-${o.id}`,
          order_id: o.id,
          amount: price(o.lines.reduce((s, l) => s + l.quantity * PRODUCTS[l.sku].priceMinor, 0)),
          currency: HISTORY_CURRENCY,
          refunded_at: iso(o.refundedMs!),
        },
        'refund',
      ),
    );
  for (const r of plan.recurringRefunds) {
    const x = sims[r.subscriber]!.orders.find((o) => o.cycle === r.cycle);
    if (!x || x.dueMs + 5 * DAY >= plan.endMs) continue;
    refunds.push(
      parseJsonBody(
        RefundInput,
        {
          refund_id: `r-sub-${ids[r.subscriber]}-${r.cycle}`,
          order_id: `sub-${ids[r.subscriber]}-${r.cycle}`,
          amount: price(Math.round(x.unitPriceMinor * x.quantity * r.share)),
          currency: sims[r.subscriber]!.row.currency,
          refunded_at: iso(x.dueMs + 5 * DAY),
        },
        'refund',
      ),
    );
  }
  await mergeRows(ctx.db, { entity: 'orders', rows, refunds }, ctx.clock.now());
}
