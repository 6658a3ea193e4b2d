import {
  addIntervals,
  cycleInstant,
  dayNumber,
  daysBeforeCycle,
  localDate,
  localInstant,
  monthlyMinor,
  type Anchor,
  type Interval,
} from '../../analytics/subscriptions/schedule.js';
import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { parseInput } from '../../kit/http/input.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import type { Queryable } from '../../storage/port.js';
import { customersByShopIds } from '../customers/repository.js';
import { mergeRows } from '../ingest/service.js';
import { getTemplate, notifyDelivery, queueSendTo, templateForSend } from '../messaging/service.js';
import { orderRows, setOrderStatusIn } from '../orders/service.js';
import { getStore } from '../settings/service.js';
import { manageUrl } from './links.js';
import * as repo from './repository.js';
import {
  CreateSubscription,
  PaymentListQuery,
  PaymentResult,
  PlanDefinition,
  PlanName,
  SubscriptionAction,
  SubscriptionListQuery,
  type Payment,
  type PaymentOutcome,
  type PaymentPage,
  type Plan,
  type Subscription,
  type SubscriptionDetail,
  type SubscriptionPage,
} from './schema.js';

/**
 * Subscriptions (issue 28, docs/subscriptions.md): plans, each customer's subscriptions with their
 * schedule on the customer's calendar, the customer's actions (skip, reschedule, pause, resume,
 * quantity, swap, cancel, reactivate) as compare-and-sets, and the recurring orders — exactly one per
 * subscription and cycle, its key claimed in the transaction that writes the order.
 */

export const RENEW_JOB = 'subscriptions.renew';

const planOut = (r: repo.PlanDbRow & { active?: number; paused?: number; past_due?: number }): Plan => ({
  name: r.name,
  status: r.status,
  definition: JSON.parse(r.definition) as Record<string, unknown>,
  subscribers: { active: r.active ?? 0, paused: r.paused ?? 0, pastDue: r.past_due ?? 0 },
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const definitionOf = (r: { definition: string }) => PlanDefinition.parse(JSON.parse(r.definition));

async function planRow(ctx: ModuleContext, name: string, field = 'name') {
  if (!PlanName.safeParse(name).success)
    throw new AppError('validation', `not a plan name: '${name}'`, { where: { field } });
  const r = await repo.planByName(ctx.db, name);
  if (!r) throw new AppError('not_found', `no subscription plan named '${name}'`, { where: { field } });
  return r;
}

/** A product a plan may sell: known, with a one-off price, in the plan's list when it has one. */
async function sellable(ctx: ModuleContext, d: PlanDefinition, sku: string, field: string) {
  const p = await repo.productOf(ctx.db, sku);
  if (!p) throw new AppError('validation', `no product with sku '${sku}'`, { where: { field } });
  if (p.price_minor === null || p.price_minor <= 0)
    throw new AppError(
      'validation',
      `product '${sku}' has no price: give it one to sell it by subscription`,
      {
        where: { field },
      },
    );
  if (d.products.length > 0 && !d.products.includes(sku))
    throw new AppError(
      'validation',
      `plan '${d.name}' does not sell '${sku}' (it sells ${d.products.join(', ')})`,
      {
        where: { field },
      },
    );
  return { ...p, price_minor: p.price_minor };
}

/** The subscription price of one unit: the one-off price less the plan's discount, to the nearest minor unit. */
export const discounted = (priceMinor: number, d: Pick<PlanDefinition, 'discountPercent'>) =>
  Math.round((priceMinor * (100 - d.discountPercent)) / 100);

/** `PUT /v1/subscription-plans`: a new plan or its new definition (subscriptions keep their terms). */
export async function savePlan(ctx: ModuleContext, { body }: { body: unknown }): Promise<Plan> {
  const d = parseInput(PlanDefinition, body, 'body');
  for (const [i, sku] of d.products.entries())
    if (!(await repo.productOf(ctx.db, sku)))
      throw new AppError('validation', `no product with sku '${sku}'`, {
        where: { field: `products[${i}]` },
      });
  for (const [name, field] of [
    [d.reminderTemplate, 'reminderTemplate'],
    [d.dunning.template, 'dunning.template'],
  ] as const)
    if (name !== null)
      await getTemplate(ctx, { name }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found')
          throw new AppError('validation', `no template named '${name}'`, { where: { field } });
        throw err;
      });
  await ctx.db.transaction((tx) =>
    repo.savePlan(tx, { name: d.name, definition: JSON.stringify(d), now: ctx.clock.now() }),
  );
  return getPlan(ctx, { name: d.name });
}

export async function listPlans(ctx: ModuleContext): Promise<Plan[]> {
  return (await repo.listPlans(ctx.db)).map(planOut);
}

export async function getPlan(ctx: ModuleContext, { name }: { name: string }): Promise<Plan> {
  await planRow(ctx, name);
  return (await listPlans(ctx)).find((p) => p.name === name)!;
}

/** Archives a plan: no new subscriptions on it; those on it go on. */
export async function archivePlan(ctx: ModuleContext, { name }: { name: string }): Promise<Plan> {
  await planRow(ctx, name);
  await ctx.db.transaction((tx) => repo.setPlanStatus(tx, name, 'archived', ctx.clock.now()));
  return getPlan(ctx, { name });
}

// ---- one subscription ------------------------------------------------------------------------------

const intervalOf = (r: repo.SubscriptionDbRow): Interval => ({
  every: r.interval_every,
  unit: r.interval_unit,
});
const anchorOf = (r: repo.SubscriptionDbRow): Anchor => ({
  date: r.anchor_date,
  cycle: r.anchor_cycle,
  localTime: r.local_time,
});

/** When cycle `n` is due, and its reminder (null without one) — of a schedule re-anchored or not. */
function scheduleOf(
  r: Pick<repo.SubscriptionDbRow, 'interval_every' | 'interval_unit' | 'local_time' | 'time_zone'>,
  anchor: Anchor,
  n: number,
  reminderDays: number,
) {
  const interval = { every: r.interval_every, unit: r.interval_unit };
  return {
    next_at: cycleInstant(interval, anchor, n, r.time_zone),
    remind_at: reminderDays > 0 ? daysBeforeCycle(interval, anchor, n, reminderDays, r.time_zone) : null,
  };
}

function subscriptionOut(r: repo.SubscriptionDbRow): Subscription {
  const live = r.status === 'active' || r.status === 'past_due';
  return {
    id: String(r.subscription_id),
    customer: r.external_id,
    plan: r.plan,
    status: r.status,
    sku: r.sku,
    title: r.title,
    quantity: r.quantity,
    unitPriceMinor: r.unit_price_minor,
    oneOffPriceMinor: r.one_off_minor,
    currency: r.currency,
    interval: intervalOf(r),
    localTime: r.local_time,
    timeZone: r.time_zone,
    nextCycle: r.next_cycle,
    nextDelivery: r.next_at?.toISOString() ?? null,
    nextDeliveryLocal: r.next_at ? localDate(r.next_at, r.time_zone) : null,
    pausedUntil: r.paused_until,
    mrrMinor: live ? monthlyMinor(r.unit_price_minor, r.quantity, intervalOf(r)) : 0,
    address: r.address === null ? null : (JSON.parse(r.address) as Record<string, string>),
    cancelReason: r.cancel_reason,
    cancelNote: r.cancel_note,
    startedAt: r.started_at.toISOString(),
    cancelledAt: r.cancelled_at?.toISOString() ?? null,
    updatedAt: r.updated_at.toISOString(),
  };
}

const idOf = (id: string | number): number => {
  const n = typeof id === 'number' ? id : /^\d{1,15}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new AppError('validation', `not a subscription id: '${id}'`, { where: { field: 'id' } });
  return n;
};

async function subscriptionRow(db: Queryable, id: number) {
  const r = await repo.subscriptionById(db, id);
  if (!r) throw new AppError('not_found', `no subscription ${id}`, { where: { field: 'id' } });
  return r;
}

/** Today's local date in the subscription's zone. */
const todayIn = (ctx: ModuleContext, zone: string) => localDate(ctx.clock.now(), zone);

/** A date the customer picks: a real date, today or later (their calendar). */
function futureDate(ctx: ModuleContext, date: string, zone: string, field: string): string {
  dayNumber(date, field);
  const today = todayIn(ctx, zone);
  if (date < today)
    throw new AppError('validation', `${field} ${date} is in the past (today is ${today} in ${zone})`, {
      where: { field },
    });
  return date;
}

/**
 * `POST /v1/subscriptions`: subscribes a customer (the store's id; a merged id reaches the survivor) to
 * a product on a plan. The schedule takes the customer's time zone (else the store's); the first
 * delivery is `firstDelivery` (today or later) or one interval from today.
 */
export async function createSubscription(
  ctx: ModuleContext,
  { body, by }: { body: unknown; by: string | null },
): Promise<SubscriptionDetail> {
  const input = parseInput(CreateSubscription, body, 'body');
  const found = (await customersByShopIds(ctx.db, [input.customer])).get(input.customer);
  if (!found)
    throw new AppError('validation', `no customer with id '${input.customer}'`, {
      where: { field: 'customer' },
    });
  if (found.erased)
    throw new AppError('validation', `customer '${input.customer}' was erased`, {
      where: { field: 'customer' },
    });
  const plan = await planRow(ctx, input.plan, 'plan');
  if (plan.status !== 'active')
    throw new AppError('conflict', `plan '${plan.name}' is archived: save it again to sell it`);
  const d = definitionOf(plan);
  const product = await sellable(ctx, d, input.sku, 'sku');
  const store = await getStore(ctx);
  const currency = product.currency ?? store.currency;
  if (!currency)
    throw new AppError('validation', 'set the store currency first (retain store --currency)', {
      where: { field: 'currency' },
    });
  const [who] = await ctx.db.query<{ time_zone: string | null }>(
    `SELECT time_zone FROM customers WHERE customer_id = $1`,
    [found.id],
  );
  const zone = who?.time_zone ?? store.timeZone;
  const today = todayIn(ctx, zone);
  const first =
    input.firstDelivery === undefined
      ? addIntervals(today, d.interval, 1)
      : futureDate(ctx, input.firstDelivery, zone, 'firstDelivery');
  const anchor: Anchor = { date: first, cycle: 1, localTime: d.localTime };
  const shape = {
    interval_every: d.interval.every,
    interval_unit: d.interval.unit,
    local_time: d.localTime,
    time_zone: zone,
  };
  const at = scheduleOf(shape, anchor, 1, d.reminderDays);
  const now = ctx.clock.now();
  const id = await ctx.db.transaction(async (tx) => {
    const id = await repo.insertSubscription(tx, {
      customerId: found.id,
      planId: plan.plan_id,
      sku: product.sku,
      quantity: input.quantity,
      unitPriceMinor: discounted(product.price_minor, d),
      currency,
      every: d.interval.every,
      unit: d.interval.unit,
      localTime: d.localTime,
      timeZone: zone,
      anchorDate: first,
      nextAt: at.next_at,
      remindAt: at.remind_at,
      address: input.address ? JSON.stringify(input.address) : null,
      now,
    });
    await repo.insertEvent(tx, {
      subscriptionId: id,
      customerId: found.id,
      at: now,
      type: 'created',
      cycle: 1,
      mrrMinor: monthlyMinor(discounted(product.price_minor, d), input.quantity, d.interval),
      detail: { plan: plan.name, sku: product.sku, quantity: input.quantity, firstDelivery: first },
      by,
    });
    return id;
  });
  return getSubscription(ctx, { id });
}

export async function getSubscription(
  ctx: ModuleContext,
  { id }: { id: string | number },
): Promise<SubscriptionDetail> {
  const r = await subscriptionRow(ctx.db, idOf(id));
  const out = subscriptionOut(r);
  const upcoming: SubscriptionDetail['upcoming'] = [];
  if (r.status === 'active' || r.status === 'past_due')
    for (let n = r.next_cycle; n < r.next_cycle + 6; n++) {
      const at = cycleInstant(intervalOf(r), anchorOf(r), n, r.time_zone);
      upcoming.push({ cycle: n, at: at.toISOString(), localDate: localDate(at, r.time_zone) });
    }
  return {
    ...out,
    upcoming,
    orders: (await repo.ordersOf(ctx.db, r.subscription_id)).map((o) => ({
      cycle: o.cycle,
      order: o.order_external_id,
      dueAt: o.due_at.toISOString(),
      amountMinor: o.amount_minor,
    })),
    history: (await repo.eventsOf(ctx.db, r.subscription_id)).map((e) => ({
      at: e.at.toISOString(),
      type: e.type,
      cycle: e.cycle,
      detail: e.detail === null ? null : (JSON.parse(e.detail) as Record<string, unknown>),
      by: e.changed_by,
    })),
  };
}

export async function listSubscriptions(
  ctx: ModuleContext,
  { query }: { query: Record<string, unknown> },
): Promise<SubscriptionPage> {
  const q = parseInput(SubscriptionListQuery, query, 'query');
  let after: number | undefined;
  if (q.cursor) {
    after = decodeCursor(q.cursor, (v): v is number => Number.isSafeInteger(v) && (v as number) > 0);
    if (after === undefined)
      throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
        where: { field: 'cursor' },
      });
  }
  const planId = q.plan === undefined ? undefined : (await planRow(ctx, q.plan, 'plan')).plan_id;
  let customerId: number | undefined;
  if (q.customer !== undefined) {
    const c = (await customersByShopIds(ctx.db, [q.customer])).get(q.customer);
    if (!c)
      throw new AppError('validation', `no customer with id '${q.customer}'`, {
        where: { field: 'customer' },
      });
    customerId = c.id;
  }
  const rows = await repo.listSubscriptions(ctx.db, {
    limit: q.limit + 1,
    after,
    status: q.status,
    planId,
    customerId,
  });
  const page = rows.slice(0, q.limit);
  return {
    data: page.map(subscriptionOut),
    nextCursor: rows.length > q.limit ? encodeCursor(page.at(-1)!.subscription_id) : null,
  };
}

const refuse = (message: string, field = 'action') => new AppError('conflict', message, { where: { field } });

/**
 * `POST /v1/subscriptions/{id}/actions`: one customer action, as a compare-and-set on the
 * subscription (a change made meanwhile is a 409: read it again). Skip: the next delivery is not made
 * (the one after it is next). Reschedule: the next delivery moves to a date, later ones follow from it.
 * Pause until a date: nothing is delivered until then; deliveries resume on that date. Resume (a paused
 * one) and reactivate (a cancelled one): deliveries start again on a date (default today). Quantity,
 * swap (another product the plan sells, at its subscription price): from the next delivery. Cancel: with
 * a reason code and an optional note.
 */
export async function actOnSubscription(
  ctx: ModuleContext,
  {
    id,
    body,
    by,
    expectedVersion,
  }: {
    id: string | number;
    body: unknown;
    by: string | null;
    /** The version the caller saw (the customer's page): another is a 409 on `version`, nothing written. */
    expectedVersion?: number;
  },
): Promise<SubscriptionDetail> {
  const parsed = SubscriptionAction.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'body');
  const a = parsed.data;
  const r = await subscriptionRow(ctx.db, idOf(id));
  if (expectedVersion !== undefined && r.version !== expectedVersion)
    throw new AppError('conflict', 'the subscription changed since it was shown: read it again', {
      where: { field: 'version' },
    });
  const plan = (await repo.planById(ctx.db, r.plan_id))!;
  const d = definitionOf(plan);
  const now = ctx.clock.now();
  const zone = r.time_zone;
  const n = r.next_cycle;
  let set: repo.SubscriptionChange;
  let detail: Record<string, unknown> | null = null;
  let cycle: number | null = n;
  const live = r.status === 'active' || r.status === 'past_due';
  switch (a.action) {
    case 'skip': {
      if (!live) throw refuse(`only an active subscription skips a delivery (this one is ${r.status})`);
      set = { next_cycle: n + 1, ...scheduleOf(r, anchorOf(r), n + 1, d.reminderDays) };
      detail = { skipped: localDate(r.next_at!, zone), next: localDate(set.next_at!, zone) };
      break;
    }
    case 'reschedule': {
      if (!live) throw refuse(`only an active subscription is rescheduled (this one is ${r.status})`);
      const date = futureDate(ctx, a.date, zone, 'date');
      const anchor = { date, cycle: n, localTime: r.local_time };
      set = { anchor_date: date, anchor_cycle: n, ...scheduleOf(r, anchor, n, d.reminderDays) };
      detail = { from: localDate(r.next_at!, zone), to: date };
      break;
    }
    case 'pause': {
      if (!live) throw refuse(`only an active subscription is paused (this one is ${r.status})`);
      const until = futureDate(ctx, a.until, zone, 'until');
      if (until === todayIn(ctx, zone))
        throw new AppError('validation', 'until must be after today: a pause until today pauses nothing', {
          where: { field: 'until' },
        });
      set = {
        status: 'paused',
        paused_until: until,
        next_at: localInstant(until, r.local_time, zone),
        remind_at: null,
      };
      detail = { until };
      break;
    }
    case 'resume':
    case 'reactivate': {
      const want = a.action === 'resume' ? 'paused' : 'cancelled';
      if (r.status !== want)
        throw refuse(`only a ${want} subscription is ${a.action}d (this one is ${r.status})`);
      const date = a.date === undefined ? todayIn(ctx, zone) : futureDate(ctx, a.date, zone, 'date');
      set = { ...resumeAt(r, date, d), paused_until: null };
      if (a.action === 'reactivate') {
        if (plan.status !== 'active')
          throw refuse(`plan '${plan.name}' is archived: it takes no subscriptions`);
        const p = await sellable(ctx, d, r.sku, 'sku');
        set = {
          ...set,
          unit_price_minor: discounted(p.price_minor, d),
          cancel_reason: null,
          cancel_note: null,
          cancelled_at: null,
        };
      }
      detail = { from: date };
      break;
    }
    case 'quantity': {
      if (r.status === 'cancelled')
        throw refuse('a cancelled subscription changes nothing: reactivate it first');
      set = { quantity: a.quantity };
      detail = { from: r.quantity, to: a.quantity };
      break;
    }
    case 'swap': {
      if (r.status === 'cancelled')
        throw refuse('a cancelled subscription changes nothing: reactivate it first');
      const p = await sellable(ctx, d, a.sku, 'sku');
      set = { sku: p.sku, unit_price_minor: discounted(p.price_minor, d) };
      detail = { from: r.sku, to: p.sku };
      break;
    }
    case 'cancel': {
      if (r.status === 'cancelled') throw refuse('the subscription is cancelled already');
      set = {
        status: 'cancelled',
        next_at: null,
        remind_at: null,
        paused_until: null,
        cancel_reason: a.reason,
        cancel_note: a.note ?? null,
        cancelled_at: now,
      };
      detail = { reason: a.reason, ...(a.note ? { note: a.note } : {}) };
      cycle = null;
      break;
    }
  }
  const done = await ctx.db.transaction(async (tx) => {
    if (!(await repo.changeSubscription(tx, r.subscription_id, r.version, set, now))) return false;
    await repo.insertEvent(tx, {
      subscriptionId: r.subscription_id,
      customerId: r.customer_id,
      at: now,
      type: eventType(a.action),
      cycle,
      mrrMinor: a.action === 'skip' || a.action === 'reschedule' ? null : mrrAfter(r, set),
      detail,
      by,
    });
    return true;
  });
  if (!done) throw new AppError('conflict', 'the subscription changed meanwhile: read it again and retry');
  return getSubscription(ctx, { id: r.subscription_id });
}

/** The subscription's MRR once `set` is applied (0 unless active or past due). */
function mrrAfter(r: repo.SubscriptionDbRow, set: repo.SubscriptionChange): number {
  const status = set.status ?? r.status;
  if (status !== 'active' && status !== 'past_due') return 0;
  return monthlyMinor(set.unit_price_minor ?? r.unit_price_minor, set.quantity ?? r.quantity, intervalOf(r));
}

const eventType = (action: SubscriptionAction['action']) =>
  ({
    skip: 'skipped',
    reschedule: 'rescheduled',
    pause: 'paused',
    resume: 'resumed',
    reactivate: 'reactivated',
    quantity: 'quantity_changed',
    swap: 'swapped',
    cancel: 'cancelled',
  })[action];

/** Deliveries start again on `date` (the next cycle number, re-anchored there). */
function resumeAt(r: repo.SubscriptionDbRow, date: string, d: PlanDefinition): repo.SubscriptionChange {
  const anchor = { date, cycle: r.next_cycle, localTime: r.local_time };
  return {
    status: 'active',
    anchor_date: date,
    anchor_cycle: r.next_cycle,
    ...scheduleOf(r, anchor, r.next_cycle, d.reminderDays),
  };
}

// ---- the job: renewals and reminders ---------------------------------------------------------------

class Lost extends Error {}

export interface RenewCounts {
  orders: number;
  resumed: number;
  reminded: number;
  /** Subscriptions were still due when the time budget ran out. */
  more: boolean;
}

/**
 * `subscriptions.renew` (every five minutes), `retain subscriptions renew`: reminders that are due
 * (one message per subscription and cycle, the cycle recorded with it), paused subscriptions whose
 * pause is over, and every due delivery's order — one transaction per cycle: the order (through the
 * importer's merge, status pending, ordered at the cycle's due instant), its key (subscription, cycle)
 * and the move to the next cycle, all or nothing. A worker that is down catches up each missed cycle
 * once; two workers never make a cycle's order twice.
 */
export async function renewSubscriptions(
  ctx: ModuleContext,
  opts: { limit?: number; budgetMs?: number } = {},
): Promise<RenewCounts> {
  const counts: RenewCounts = { orders: 0, resumed: 0, reminded: 0, more: false };
  const started = performance.now();
  const over = () => opts.budgetMs !== undefined && performance.now() - started >= opts.budgetMs;
  const limit = opts.limit ?? 200;
  const plans = new Map((await repo.listPlans(ctx.db)).map((p) => [p.plan_id, definitionOf(p)]));
  for (const id of await repo.dueReminders(ctx.db, ctx.clock.now(), limit)) {
    if (over()) return { ...counts, more: true };
    if (await remind(ctx, id, plans)) counts.reminded++;
  }
  if (counts.reminded > 0) notifyDelivery(ctx);
  for (;;) {
    const due = await repo.dueSubscriptions(ctx.db, ctx.clock.now(), limit);
    if (due.length === 0) break;
    let progressed = 0;
    for (const id of due) {
      if (over()) return { ...counts, more: true };
      const r = await repo.subscriptionById(ctx.db, id);
      if (!r || r.next_at === null || r.next_at.getTime() > ctx.clock.now().getTime()) continue;
      const d = plans.get(r.plan_id)!;
      const outcome = r.status === 'paused' ? await resumeDue(ctx, r, d) : await renewCycle(ctx, r, d);
      if (outcome === 'order') counts.orders++;
      if (outcome === 'resumed') counts.resumed++;
      if (outcome !== null) progressed++;
    }
    if (progressed === 0 || opts.limit !== undefined) break;
  }
  return counts;
}

async function resumeDue(ctx: ModuleContext, r: repo.SubscriptionDbRow, d: PlanDefinition) {
  const now = ctx.clock.now();
  const ok = await ctx.db.transaction(async (tx) => {
    if (
      !(await repo.changeSubscription(
        tx,
        r.subscription_id,
        r.version,
        { ...resumeAt(r, r.paused_until!, d), paused_until: null },
        now,
      ))
    )
      return false;
    await repo.insertEvent(tx, {
      subscriptionId: r.subscription_id,
      customerId: r.customer_id,
      at: now,
      type: 'resumed',
      cycle: r.next_cycle,
      mrrMinor: mrrAfter(r, { status: 'active' }),
      detail: { from: r.paused_until, pausedUntil: r.paused_until },
      by: 'schedule',
    });
    return true;
  });
  return ok ? ('resumed' as const) : null;
}

/** The order of the subscription's next cycle, its key and the move to the cycle after, in one transaction. */
async function renewCycle(ctx: ModuleContext, r: repo.SubscriptionDbRow, d: PlanDefinition) {
  const n = r.next_cycle;
  const dueAt = r.next_at!;
  const external = `sub-${r.subscription_id}-${n}`;
  const digits = minorDigits(r.currency);
  const rows = orderRows({
    order_id: external,
    customer_id: r.external_id,
    ordered_at: dueAt.toISOString(),
    currency: r.currency,
    status: 'pending',
    source: 'subscription',
    channel: 'subscription',
    lines: [
      {
        sku: r.sku,
        title: r.title ?? r.sku,
        quantity: r.quantity,
        unit_price: formatMinor(r.unit_price_minor, digits),
      },
    ],
  });
  const now = ctx.clock.now();
  const next = scheduleOf(r, anchorOf(r), n + 1, d.reminderDays);
  try {
    await mergeRows(ctx.db, { entity: 'orders', rows }, now, {
      // The cycle's key and the move to the next cycle first: a second worker waits on them and gives
      // up (writing nothing) instead of racing this one to insert the same order.
      first: async (tx) => {
        const claimed = await repo.claimCycleOrder(tx, {
          subscriptionId: r.subscription_id,
          cycle: n,
          customerId: r.customer_id,
          orderExternalId: external,
          dueAt,
          amountMinor: r.unit_price_minor * r.quantity,
          now,
        });
        if (!claimed) throw new Lost();
        if (
          !(await repo.changeSubscription(
            tx,
            r.subscription_id,
            r.version,
            { next_cycle: n + 1, ...next },
            now,
          ))
        )
          throw new Lost();
        await repo.insertEvent(tx, {
          subscriptionId: r.subscription_id,
          customerId: r.customer_id,
          at: now,
          type: 'order',
          cycle: n,
          detail: {
            order: external,
            amountMinor: r.unit_price_minor * r.quantity,
            dueAt: dueAt.toISOString(),
          },
          by: 'schedule',
        });
        // The order's first payment attempt, due at once (docs/subscriptions.md#payments).
        await repo.insertPayment(tx, {
          subscriptionId: r.subscription_id,
          cycle: n,
          attempt: 1,
          customerId: r.customer_id,
          orderExternalId: external,
          amountMinor: r.unit_price_minor * r.quantity,
          currency: r.currency,
          dueAt,
          now,
        });
      },
    });
    return 'order' as const;
  } catch (err) {
    // Another worker (or an action) changed the subscription first: this transaction wrote nothing.
    if (err instanceof Lost) return null;
    throw err;
  }
}

/** The reminder of the next delivery: one message per subscription and cycle, the cycle recorded with it. */
async function remind(ctx: ModuleContext, id: number, plans: Map<number, PlanDefinition>): Promise<boolean> {
  const r = await repo.subscriptionById(ctx.db, id);
  if (
    !r ||
    (r.status !== 'active' && r.status !== 'past_due') ||
    r.reminded_cycle >= r.next_cycle ||
    !r.next_at
  )
    return false;
  const d = plans.get(r.plan_id)!;
  const now = ctx.clock.now();
  const template = d.reminderTemplate === null ? null : await templateForSend(ctx, d.reminderTemplate);
  const digits = minorDigits(r.currency);
  // Before the transaction: the first link of a store writes its secret.
  const manage = template ? await manageUrl(ctx, r.subscription_id) : null;
  return ctx.db.transaction(async (tx) => {
    if (
      !(await repo.changeSubscription(
        tx,
        r.subscription_id,
        r.version,
        { reminded_cycle: r.next_cycle },
        now,
      ))
    )
      return false;
    if (template)
      await queueSendTo(ctx, tx, {
        template,
        source: `subscription:${r.subscription_id}`,
        step: 'reminder',
        occurrence: `cycle-${r.next_cycle}`,
        recipients: [
          {
            customerId: r.customer_id,
            variables: {
              subscription: {
                id: String(r.subscription_id),
                plan: d.title,
                sku: r.sku,
                title: r.title ?? r.sku,
                quantity: r.quantity,
                amount: formatMinor(r.unit_price_minor * r.quantity, digits),
                currency: r.currency,
                delivery_date: localDate(r.next_at!, r.time_zone),
                manage_url: manage,
              },
            },
          },
        ],
      });
    await repo.insertEvent(tx, {
      subscriptionId: r.subscription_id,
      customerId: r.customer_id,
      at: now,
      type: 'reminded',
      cycle: r.next_cycle,
      detail: { delivery: localDate(r.next_at!, r.time_zone) },
      by: 'schedule',
    });
    return true;
  });
}

// ---- payments and dunning ---------------------------------------------------------------------------

const paymentOut = (p: repo.PaymentDbRow): Payment => ({
  key: p.payment_key,
  subscription: String(p.subscription_id),
  cycle: p.cycle,
  attempt: p.attempt,
  customer: p.external_id,
  order: p.order_external_id,
  amountMinor: p.amount_minor,
  currency: p.currency,
  dueAt: p.due_at.toISOString(),
  status: p.status,
  reason: p.reason,
  reference: p.reference,
  answeredAt: p.answered_at?.toISOString() ?? null,
});

/**
 * `GET /v1/subscription-payments?status=due`: the payment attempts (by key); `due` — those whose time
 * has come and have no result yet: what the store's payment system charges now.
 */
export async function listPayments(
  ctx: ModuleContext,
  { query }: { query: Record<string, unknown> },
): Promise<PaymentPage> {
  const q = parseInput(PaymentListQuery, query, 'query');
  let after: string | undefined;
  if (q.cursor) {
    after = decodeCursor(q.cursor, (v): v is string => typeof v === 'string' && v.length > 0);
    if (after === undefined)
      throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
        where: { field: 'cursor' },
      });
  }
  const rows = await repo.listPayments(ctx.db, {
    status: q.status,
    dueBy: q.status === 'due' ? ctx.clock.now() : undefined,
    subscriptionId: q.subscription === undefined ? undefined : idOf(q.subscription),
    after,
    limit: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  return {
    data: page.map(paymentOut),
    nextCursor: rows.length > q.limit ? encodeCursor(page.at(-1)!.payment_key) : null,
  };
}

class Retry extends Error {}

/** A result posted for an attempt that has one: the same is a replay (nothing written), another a 409. */
async function replayOf(
  ctx: ModuleContext,
  p: repo.PaymentDbRow,
  result: 'succeeded' | 'failed',
): Promise<PaymentOutcome> {
  if (p.status !== result)
    throw new AppError(
      'conflict',
      `payment attempt '${p.payment_key}' is ${p.status === 'void' ? 'void (no longer charged)' : `recorded as ${p.status}`} already`,
      { where: { field: 'result' } },
    );
  const sub = await subscriptionRow(ctx.db, p.subscription_id);
  return {
    payment: paymentOut(p),
    recorded: false,
    next: null,
    subscription: { id: String(sub.subscription_id), status: sub.status },
  };
}

/**
 * `POST /v1/subscription-payments`: the payment system's result of one attempt, recorded once (a
 * compare-and-set on the attempt; the same result posted again answers `recorded: false`, another one
 * is a 409). In the same transaction:
 * - succeeded: the order is paid; a past-due subscription is active again;
 * - failed, retries left: the next attempt is written, due the plan's `retryDays` later (keyed by
 *   subscription, cycle and attempt: once), the subscription is past due, and the customer gets the
 *   dunning message (once per attempt) when the plan names one;
 * - failed, the last retry: the order is failed (no sale) and the plan's final action is taken — skip
 *   (the subscription goes on with its next delivery), pause (for `pauseDays`) or cancel (reason
 *   `payment_failed`).
 */
export async function recordPayment(
  ctx: ModuleContext,
  { body, by }: { body: unknown; by: string | null },
): Promise<PaymentOutcome> {
  const input = parseInput(PaymentResult, body, 'body');
  for (let round = 0; ; round++) {
    try {
      return await recordPaymentOnce(ctx, input, by);
    } catch (err) {
      // The subscription moved meanwhile (a renewal, an action): read it again and redo the whole.
      if (err instanceof Retry && round < 4) continue;
      if (err instanceof Retry)
        throw new AppError('conflict', 'the subscription keeps changing: retry the result');
      throw err;
    }
  }
}

async function recordPaymentOnce(
  ctx: ModuleContext,
  input: { key: string; result: 'succeeded' | 'failed'; reason?: string; reference?: string },
  by: string | null,
): Promise<PaymentOutcome> {
  const p = await repo.paymentByKey(ctx.db, input.key);
  if (!p) throw new AppError('not_found', `no payment attempt '${input.key}'`, { where: { field: 'key' } });
  if (p.status !== 'due') return replayOf(ctx, p, input.result);
  const r = await subscriptionRow(ctx.db, p.subscription_id);
  const d = definitionOf((await repo.planById(ctx.db, r.plan_id))!);
  const dunning = d.dunning;
  const template =
    input.result === 'failed' && dunning.template !== null
      ? await templateForSend(ctx, dunning.template)
      : null;
  const now = ctx.clock.now();
  const last = p.attempt > dunning.retryDays.length;
  const result = await ctx.db.transaction(async (tx) => {
    if (
      !(await repo.answerPayment(tx, {
        key: p.payment_key,
        status: input.result,
        reason: input.reason ?? null,
        reference: input.reference ?? null,
        now,
      }))
    )
      return null; // another post recorded it first
    let set: repo.SubscriptionChange | null = null;
    let type: string;
    let detail: Record<string, unknown> = {
      key: p.payment_key,
      attempt: p.attempt,
      ...(input.reason ? { reason: input.reason } : {}),
    };
    let next: { dueAt: Date } | null = null;
    if (input.result === 'succeeded') {
      await setOrderStatusIn(tx, p.order_external_id, 'paid');
      type = 'payment_succeeded';
      if (r.status === 'past_due') set = { status: 'active' };
    } else if (!last) {
      const dueAt = new Date(now.getTime() + dunning.retryDays[p.attempt - 1]! * 86_400_000);
      await repo.insertPayment(tx, {
        subscriptionId: p.subscription_id,
        cycle: p.cycle,
        attempt: p.attempt + 1,
        customerId: p.customer_id,
        orderExternalId: p.order_external_id,
        amountMinor: p.amount_minor,
        currency: p.currency,
        dueAt,
        now,
      });
      next = { dueAt };
      type = 'payment_failed';
      detail = { ...detail, nextAttemptAt: dueAt.toISOString() };
      if (r.status === 'active') set = { status: 'past_due' };
      if (template)
        await queueSendTo(ctx, tx, {
          template,
          source: `subscription:${p.subscription_id}`,
          step: 'dunning',
          occurrence: `cycle-${p.cycle}-attempt-${p.attempt}`,
          recipients: [
            {
              customerId: p.customer_id,
              variables: {
                subscription: {
                  id: String(p.subscription_id),
                  plan: d.title,
                  title: r.title ?? r.sku,
                  amount: formatMinor(p.amount_minor, minorDigits(p.currency)),
                  currency: p.currency,
                  attempt: p.attempt,
                  next_attempt_date: localDate(dueAt, r.time_zone),
                },
              },
            },
          ],
        });
    } else {
      await setOrderStatusIn(tx, p.order_external_id, 'failed');
      type = 'dunning_exhausted';
      detail = { ...detail, finalAction: dunning.finalAction };
      if (dunning.finalAction === 'skip') {
        if (r.status === 'past_due') set = { status: 'active' };
      } else if (dunning.finalAction === 'pause') {
        if (r.status === 'active' || r.status === 'past_due') {
          const until = localDate(new Date(now.getTime() + dunning.pauseDays * 86_400_000), r.time_zone);
          set = {
            status: 'paused',
            paused_until: until,
            next_at: localInstant(until, r.local_time, r.time_zone),
            remind_at: null,
          };
          detail = { ...detail, pausedUntil: until };
        }
      } else if (r.status !== 'cancelled') {
        set = {
          status: 'cancelled',
          next_at: null,
          remind_at: null,
          paused_until: null,
          cancel_reason: 'payment_failed',
          cancel_note: input.reason ?? null,
          cancelled_at: now,
        };
      }
    }
    if (set && !(await repo.changeSubscription(tx, r.subscription_id, r.version, set, now)))
      throw new Retry();
    await repo.insertEvent(tx, {
      subscriptionId: r.subscription_id,
      customerId: r.customer_id,
      at: now,
      type,
      cycle: p.cycle,
      detail,
      mrrMinor: set?.status !== undefined ? mrrAfter(r, set) : null,
      by,
    });
    return { next, status: set?.status ?? r.status };
  });
  if (result === null) {
    // Another post recorded it in between: the same result is a replay.
    const again = (await repo.paymentByKey(ctx.db, input.key))!;
    return replayOf(ctx, again, input.result);
  }
  if (template) notifyDelivery(ctx);
  const after = (await repo.paymentByKey(ctx.db, input.key))!;
  const nextRow = result.next
    ? await repo.paymentByKey(ctx.db, `${p.order_external_id}-${p.attempt + 1}`)
    : undefined;
  return {
    payment: paymentOut(after),
    recorded: true,
    next: nextRow ? paymentOut(nextRow) : null,
    subscription: { id: String(p.subscription_id), status: result.status },
  };
}
