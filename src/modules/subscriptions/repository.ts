import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import type { Queryable, SqlValue } from '../../storage/port.js';

/** The SQL of subscriptions (docs/subscriptions.md), and only that. */

export interface PlanDbRow {
  plan_id: number;
  name: string;
  definition: string;
  status: 'active' | 'archived';
  created_at: Date;
  updated_at: Date;
}

const PLAN_COLUMNS = 'plan_id, name, definition, status, created_at, updated_at';

export async function planByName(db: Queryable, name: string): Promise<PlanDbRow | undefined> {
  const [r] = await db.query<PlanDbRow & Record<string, unknown>>(
    `SELECT ${PLAN_COLUMNS} FROM subscription_plans WHERE name = $1`,
    [name],
  );
  return r && { ...r, plan_id: Number(r.plan_id) };
}

export async function planById(db: Queryable, planId: number): Promise<PlanDbRow | undefined> {
  const [r] = await db.query<PlanDbRow & Record<string, unknown>>(
    `SELECT ${PLAN_COLUMNS} FROM subscription_plans WHERE plan_id = $1`,
    [planId],
  );
  return r && { ...r, plan_id: Number(r.plan_id) };
}

export async function listPlans(
  db: Queryable,
): Promise<(PlanDbRow & { active: number; paused: number; past_due: number })[]> {
  const rows = await db.query<
    PlanDbRow & { active: number; paused: number; past_due: number } & Record<string, unknown>
  >(
    `SELECT p.plan_id, p.name, p.definition, p.status, p.created_at, p.updated_at,
       CAST(COALESCE(SUM(CASE WHEN s.status = 'active' THEN 1 ELSE 0 END), 0) AS INTEGER) AS active,
       CAST(COALESCE(SUM(CASE WHEN s.status = 'paused' THEN 1 ELSE 0 END), 0) AS INTEGER) AS paused,
       CAST(COALESCE(SUM(CASE WHEN s.status = 'past_due' THEN 1 ELSE 0 END), 0) AS INTEGER) AS past_due
     FROM subscription_plans p LEFT JOIN subscriptions s ON s.plan_id = p.plan_id
     GROUP BY p.plan_id, p.name, p.definition, p.status, p.created_at, p.updated_at
     ORDER BY p.name`,
  );
  return rows.map((r) => ({ ...r, plan_id: Number(r.plan_id) }));
}

export async function savePlan(
  tx: Queryable,
  p: { name: string; definition: string; now: Date },
): Promise<void> {
  await tx.exec(
    `INSERT INTO subscription_plans (name, definition, status, created_at, updated_at)
     VALUES ($1, $2, 'active', $3::timestamp, $3::timestamp)
     ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, status = 'active',
       updated_at = excluded.updated_at`,
    [p.name, p.definition, p.now],
  );
}

export async function setPlanStatus(tx: Queryable, name: string, status: string, now: Date): Promise<void> {
  await tx.exec(`UPDATE subscription_plans SET status = $2, updated_at = $3::timestamp WHERE name = $1`, [
    name,
    status,
    now,
  ]);
}

export interface ProductDbRow {
  sku: string;
  title: string | null;
  price_minor: number | null;
  currency: string | null;
}

export async function productOf(db: Queryable, sku: string): Promise<ProductDbRow | undefined> {
  const [r] = await db.query<ProductDbRow & Record<string, unknown>>(
    `SELECT sku, title, price_minor, currency FROM products WHERE sku = $1`,
    [sku],
  );
  return r && { ...r, price_minor: r.price_minor === null ? null : Number(r.price_minor) };
}

export interface SubscriptionDbRow {
  subscription_id: number;
  customer_id: number;
  external_id: string;
  plan_id: number;
  plan: string;
  sku: string;
  title: string | null;
  one_off_minor: number | null;
  quantity: number;
  unit_price_minor: number;
  currency: string;
  interval_every: number;
  interval_unit: 'day' | 'week' | 'month';
  local_time: string;
  time_zone: string;
  anchor_date: string;
  anchor_cycle: number;
  next_cycle: number;
  next_at: Date | null;
  remind_at: Date | null;
  reminded_cycle: number;
  status: 'active' | 'paused' | 'past_due' | 'cancelled';
  paused_until: string | null;
  address: string | null;
  cancel_reason: string | null;
  cancel_note: string | null;
  started_at: Date;
  cancelled_at: Date | null;
  updated_at: Date;
  version: number;
}

const SUBSCRIPTION_SELECT = `SELECT s.subscription_id, s.customer_id, c.external_id, s.plan_id, p.name AS plan, s.sku,
       pr.title, pr.price_minor AS one_off_minor, s.quantity, s.unit_price_minor, s.currency, s.interval_every,
       s.interval_unit, s.local_time, s.time_zone, s.anchor_date, s.anchor_cycle, s.next_cycle, s.next_at,
       s.remind_at, s.reminded_cycle, s.status, s.paused_until, s.address, s.cancel_reason, s.cancel_note,
       s.started_at, s.cancelled_at, s.updated_at, s.version
     FROM subscriptions s
     JOIN customers c ON c.customer_id = s.customer_id
     JOIN subscription_plans p ON p.plan_id = s.plan_id
     LEFT JOIN products pr ON pr.sku = s.sku`;

const subscriptionOut = (r: SubscriptionDbRow): SubscriptionDbRow => ({
  ...r,
  subscription_id: Number(r.subscription_id),
  customer_id: Number(r.customer_id),
  plan_id: Number(r.plan_id),
  one_off_minor: r.one_off_minor === null ? null : Number(r.one_off_minor),
  unit_price_minor: Number(r.unit_price_minor),
});

export async function subscriptionById(db: Queryable, id: number): Promise<SubscriptionDbRow | undefined> {
  const [r] = await db.query<SubscriptionDbRow & Record<string, unknown>>(
    `${SUBSCRIPTION_SELECT} WHERE s.subscription_id = $1`,
    [id],
  );
  return r && subscriptionOut(r);
}

/** A page of subscriptions by id (`after`: the last id of the previous page), filtered. */
export async function listSubscriptions(
  db: Queryable,
  q: { limit: number; after?: number; status?: string; planId?: number; customerId?: number },
): Promise<SubscriptionDbRow[]> {
  const params: SqlValue[] = [];
  const where: string[] = [];
  if (q.after !== undefined) where.push(`s.subscription_id > $${params.push(q.after)}`);
  if (q.status !== undefined) where.push(`s.status = $${params.push(q.status)}`);
  if (q.planId !== undefined) where.push(`s.plan_id = $${params.push(q.planId)}`);
  if (q.customerId !== undefined) where.push(`s.customer_id = $${params.push(q.customerId)}`);
  params.push(q.limit);
  const rows = await db.query<SubscriptionDbRow & Record<string, unknown>>(
    `${SUBSCRIPTION_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.subscription_id LIMIT $${params.length}`,
    params,
  );
  return rows.map(subscriptionOut);
}

export interface NewSubscription {
  customerId: number;
  planId: number;
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  currency: string;
  every: number;
  unit: string;
  localTime: string;
  timeZone: string;
  anchorDate: string;
  nextAt: Date;
  remindAt: Date | null;
  address: string | null;
  now: Date;
}

export async function insertSubscription(tx: Queryable, s: NewSubscription): Promise<number> {
  const [r] = await tx.query<{ subscription_id: number }>(
    `INSERT INTO subscriptions (customer_id, plan_id, sku, quantity, unit_price_minor, currency, interval_every,
       interval_unit, local_time, time_zone, anchor_date, anchor_cycle, next_cycle, next_at, remind_at,
       reminded_cycle, status, address, started_at, created_at, updated_at, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, 1, $12::timestamp, $13::timestamp, 0, 'active', $14,
       $15::timestamp, $15::timestamp, $15::timestamp, 1)
     RETURNING subscription_id`,
    [
      s.customerId,
      s.planId,
      s.sku,
      s.quantity,
      s.unitPriceMinor,
      s.currency,
      s.every,
      s.unit,
      s.localTime,
      s.timeZone,
      s.anchorDate,
      s.nextAt,
      s.remindAt,
      s.address,
      s.now,
    ],
  );
  return Number(r!.subscription_id);
}

/** The columns a change may set. */
export interface SubscriptionChange {
  sku?: string;
  quantity?: number;
  unit_price_minor?: number;
  anchor_date?: string;
  anchor_cycle?: number;
  next_cycle?: number;
  next_at?: Date | null;
  remind_at?: Date | null;
  reminded_cycle?: number;
  status?: string;
  paused_until?: string | null;
  cancel_reason?: string | null;
  cancel_note?: string | null;
  cancelled_at?: Date | null;
}

const TIMESTAMPS = new Set(['next_at', 'remind_at', 'cancelled_at']);

/** A compare-and-set on the subscription's version: false when another change came first. */
export async function changeSubscription(
  tx: Queryable,
  id: number,
  version: number,
  set: SubscriptionChange,
  now: Date,
): Promise<boolean> {
  const params: SqlValue[] = [id, version, now];
  const sets = Object.entries(set).map(([k, v]) => {
    params.push(v as SqlValue);
    return `${k} = $${params.length}${TIMESTAMPS.has(k) ? '::timestamp' : ''}`;
  });
  const rows = await tx.query<{ subscription_id: number }>(
    `UPDATE subscriptions SET ${[...sets, 'updated_at = $3::timestamp', 'version = version + 1'].join(', ')}
     WHERE subscription_id = $1 AND version = $2 RETURNING subscription_id`,
    params,
  );
  return rows.length === 1;
}

export async function insertEvent(
  tx: Queryable,
  e: {
    subscriptionId: number;
    customerId: number;
    at: Date;
    type: string;
    cycle: number | null;
    detail: Record<string, unknown> | null;
    /** The MRR from now on, when the event may change it. */
    mrrMinor?: number | null;
    by: string | null;
  },
): Promise<void> {
  await tx.exec(
    `INSERT INTO subscription_events (subscription_id, customer_id, happened_at, type, cycle, detail, changed_by,
       mrr_minor)
     VALUES ($1, $2, $3::timestamp, $4, $5, $6, $7, $8)`,
    [
      e.subscriptionId,
      e.customerId,
      e.at,
      e.type,
      e.cycle,
      e.detail === null ? null : JSON.stringify(e.detail),
      e.by,
      e.mrrMinor ?? null,
    ],
  );
}

export async function eventsOf(
  db: Queryable,
  id: number,
): Promise<
  { at: Date; type: string; cycle: number | null; detail: string | null; changed_by: string | null }[]
> {
  return db.query(
    `SELECT happened_at AS at, type, cycle, detail, changed_by FROM subscription_events
     WHERE subscription_id = $1 ORDER BY happened_at, event_id`,
    [id],
  );
}

export async function ordersOf(
  db: Queryable,
  id: number,
): Promise<{ cycle: number; order_external_id: string; due_at: Date; amount_minor: number }[]> {
  const rows = await db.query<{
    cycle: number;
    order_external_id: string;
    due_at: Date;
    amount_minor: number;
  }>(
    `SELECT cycle, order_external_id, due_at, amount_minor FROM subscription_orders WHERE subscription_id = $1
     ORDER BY cycle`,
    [id],
  );
  return rows.map((r) => ({ ...r, amount_minor: Number(r.amount_minor) }));
}

/** Subscriptions due now: an active (or past due) one's next delivery, a paused one's resumption; soonest first. */
export async function dueSubscriptions(db: Queryable, now: Date, limit: number): Promise<number[]> {
  const rows = await db.query<{ subscription_id: number }>(
    `SELECT subscription_id FROM subscriptions
     WHERE status IN ('active', 'past_due', 'paused') AND next_at <= $1::timestamp
     ORDER BY next_at, subscription_id LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => Number(r.subscription_id));
}

/** Active (or past due) subscriptions whose reminder of the next delivery is due and not yet sent. */
export async function dueReminders(db: Queryable, now: Date, limit: number): Promise<number[]> {
  const rows = await db.query<{ subscription_id: number }>(
    `SELECT subscription_id FROM subscriptions
     WHERE status IN ('active', 'past_due') AND remind_at <= $1::timestamp AND reminded_cycle < next_cycle
     ORDER BY remind_at, subscription_id LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => Number(r.subscription_id));
}

/** The cycle's order key, claimed in the order's transaction: false when the cycle already has one. */
export async function claimCycleOrder(
  tx: Queryable,
  o: {
    subscriptionId: number;
    cycle: number;
    customerId: number;
    orderExternalId: string;
    dueAt: Date;
    amountMinor: number;
    now: Date;
  },
): Promise<boolean> {
  const rows = await tx.query<{ subscription_id: number }>(
    `INSERT INTO subscription_orders (subscription_id, cycle, customer_id, order_external_id, due_at, amount_minor,
       created_at)
     VALUES ($1, $2, $3, $4, $5::timestamp, $6, $7::timestamp)
     ON CONFLICT (subscription_id, cycle) DO NOTHING RETURNING subscription_id`,
    [o.subscriptionId, o.cycle, o.customerId, o.orderExternalId, o.dueAt, o.amountMinor, o.now],
  );
  return rows.length === 1;
}

export async function eraseCustomerSubscriptions(
  tx: Queryable,
  customerId: number,
  now: Date,
): Promise<void> {
  // The schedule stops and the address goes; the orders stay (as anonymous sales).
  await tx.exec(
    `UPDATE subscriptions SET status = 'cancelled', cancelled_at = COALESCE(cancelled_at, $2::timestamp),
       next_at = NULL, remind_at = NULL, address = NULL, cancel_note = NULL, version = version + 1
     WHERE customer_id = $1`,
    [customerId, now],
  );
  await tx.exec(`UPDATE subscription_events SET detail = NULL WHERE customer_id = $1`, [customerId]);
}

export async function mergeCustomerSubscriptions(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  if (fromIds.length === 0) return;
  const list = fromIds.map((_, i) => `$${i + 2}`).join(', ');
  for (const table of [
    'subscriptions',
    'subscription_events',
    'subscription_orders',
    'subscription_payments',
  ])
    await tx.exec(`UPDATE ${table} SET customer_id = $1 WHERE customer_id IN (${list})`, [
      intoId,
      ...fromIds,
    ]);
}

// ---- payments ----------------------------------------------------------------------------------------

export interface PaymentDbRow {
  subscription_id: number;
  cycle: number;
  attempt: number;
  customer_id: number;
  external_id: string;
  payment_key: string;
  order_external_id: string;
  amount_minor: number;
  currency: string;
  due_at: Date;
  status: 'due' | 'succeeded' | 'failed' | 'void';
  reason: string | null;
  reference: string | null;
  answered_at: Date | null;
}

const PAYMENT_SELECT = `SELECT p.subscription_id, p.cycle, p.attempt, p.customer_id, c.external_id, p.payment_key,
       p.order_external_id, p.amount_minor, p.currency, p.due_at, p.status, p.reason, p.reference, p.answered_at
     FROM subscription_payments p JOIN customers c ON c.customer_id = p.customer_id`;

const paymentOut = (r: PaymentDbRow): PaymentDbRow => ({
  ...r,
  subscription_id: Number(r.subscription_id),
  customer_id: Number(r.customer_id),
  amount_minor: Number(r.amount_minor),
});

/** Inserts a payment attempt; one that exists (subscription × cycle × attempt) is left. Whether it was new. */
export async function insertPayment(
  tx: Queryable,
  p: {
    subscriptionId: number;
    cycle: number;
    attempt: number;
    customerId: number;
    orderExternalId: string;
    amountMinor: number;
    currency: string;
    dueAt: Date;
    now: Date;
  },
): Promise<boolean> {
  const rows = await tx.query<{ subscription_id: number }>(
    `INSERT INTO subscription_payments (subscription_id, cycle, attempt, customer_id, payment_key, order_external_id,
       amount_minor, currency, due_at, status, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamp, 'due', $10::timestamp)
     ON CONFLICT (subscription_id, cycle, attempt) DO NOTHING RETURNING subscription_id`,
    [
      p.subscriptionId,
      p.cycle,
      p.attempt,
      p.customerId,
      `${p.orderExternalId}-${p.attempt}`,
      p.orderExternalId,
      p.amountMinor,
      p.currency,
      p.dueAt,
      p.now,
    ],
  );
  return rows.length === 1;
}

export async function paymentByKey(db: Queryable, key: string): Promise<PaymentDbRow | undefined> {
  const [r] = await db.query<PaymentDbRow & Record<string, unknown>>(
    `${PAYMENT_SELECT} WHERE p.payment_key = $1`,
    [key],
  );
  return r && paymentOut(r);
}

/** Records an attempt's result if it is still due (a compare-and-set): whether this call recorded it. */
export async function answerPayment(
  tx: Queryable,
  a: {
    key: string;
    status: 'succeeded' | 'failed' | 'void';
    reason: string | null;
    reference: string | null;
    now: Date;
  },
): Promise<boolean> {
  const rows = await tx.query<{ subscription_id: number }>(
    `UPDATE subscription_payments SET status = $2, reason = $3, reference = $4, answered_at = $5::timestamp
     WHERE payment_key = $1 AND status = 'due' RETURNING subscription_id`,
    [a.key, a.status, a.reason, a.reference, a.now],
  );
  return rows.length === 1;
}

/** Attempts by status (with `dueBy`: those due by then), in keyset pages by key. */
export async function listPayments(
  db: Queryable,
  q: { status?: string; dueBy?: Date; subscriptionId?: number; after?: string; limit: number },
): Promise<PaymentDbRow[]> {
  const params: SqlValue[] = [];
  const where: string[] = [];
  if (q.status !== undefined) where.push(`p.status = $${params.push(q.status)}`);
  if (q.dueBy !== undefined) where.push(`p.due_at <= $${params.push(q.dueBy)}::timestamp`);
  if (q.subscriptionId !== undefined) where.push(`p.subscription_id = $${params.push(q.subscriptionId)}`);
  if (q.after !== undefined) where.push(`p.payment_key > $${params.push(q.after)}`);
  params.push(q.limit);
  const rows = await db.query<PaymentDbRow & Record<string, unknown>>(
    `${PAYMENT_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY p.payment_key LIMIT $${params.length}`,
    params,
  );
  return rows.map(paymentOut);
}

/**
 * Timeline source (customer 360): what happened to the customer's subscriptions — created, skipped,
 * rescheduled, paused, resumed, quantity, swapped, cancelled, reactivated, payments and dunning (the
 * orders and reminders are on the timeline as orders and messages already).
 */
export async function subscriptionTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    event_id: number;
    subscription_id: number;
    at: Date;
    type: string;
    cycle: number | null;
    detail: string | null;
    changed_by: string | null;
    plan: string;
    sku: string;
  }>(
    `SELECT * FROM (
       SELECT e.event_id, e.subscription_id, e.happened_at AS at, e.type, e.cycle, e.detail, e.changed_by,
         p.name AS plan, s.sku
       FROM subscription_events e JOIN subscriptions s ON s.subscription_id = e.subscription_id
       JOIN subscription_plans p ON p.plan_id = s.plan_id
       WHERE e.customer_id = $1 AND e.type NOT IN ('order', 'reminded')
     ) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: 'subscription',
    ref: `${r.subscription_id}.${r.event_id}`,
    title: `subscription ${r.subscription_id} (${r.plan}, ${r.sku}): ${r.type.replace(/_/g, ' ')}`,
    detail: r.type,
    properties: {
      subscription: String(r.subscription_id),
      plan: r.plan,
      type: r.type,
      cycle: r.cycle,
      by: r.changed_by,
      ...(r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {}),
    },
  }));
}
