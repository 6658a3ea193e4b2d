import { erasedExternalId, sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import type { Queryable, Row, SqlValue } from '../../storage/port.js';
import { CUSTOMER_FIELDS } from '../imports/schema.js';

export interface CustomerDbRow {
  customer_id: number;
  external_id: string;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  birthday: Date | null;
  country: string | null;
  acquisition_channel: string | null;
  created_at: Date | null;
  updated_at: Date;
  locale: string | null;
  time_zone: string | null;
}

export interface ConsentDbRow {
  customer_id: number;
  channel: 'email' | 'sms' | 'messenger' | 'ads';
  status: 'granted' | 'denied' | 'unsubscribed' | 'unknown';
  changed_at: Date | null;
  source: string | null;
}

const COLUMNS = `customer_id, external_id, email, phone, first_name, last_name, birthday, country, acquisition_channel, created_at, updated_at, locale, time_zone`;

export interface CustomerFilter {
  limit: number;
  email?: string;
  country?: string;
  acquisitionChannel?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** Case-insensitive substring of the shop id, email or "first last" name. */
  search?: string;
  /** One customer (by internal id): the scores of GET /v1/customers/{id}/scores. */
  customerId?: number;
}

/** The list's sort keys: the SQL they order by (NULLS LAST either way) and the type of a cursor value. */
export const LIST_SORTS = {
  id: { sql: 'c.customer_id', type: 'number' },
  orders: { sql: 's.orders', type: 'number' },
  revenue: { sql: 's.revenue_minor', type: 'number' },
  lastOrderAt: { sql: 's.last_order_at', type: 'time' },
  pAlive: { sql: 'p.p_alive', type: 'number' },
  // Churn risk is 1 − P(alive): ordering by P(alive) the other way round (exact, no arithmetic).
  churnRisk: { sql: 'p.p_alive', type: 'number', reversed: true },
  clv: { sql: 'p.clv_minor', type: 'number' },
  nextOrderAt: { sql: 'p.next_order_at', type: 'time' },
} as const;
export type ListSort = keyof typeof LIST_SORTS;

/** Where a sorted page starts: after the row with this sort value (null: sorted last) and customer_id. */
export interface ListAfter {
  value: number | string | null;
  id: number;
}

/** A customer with their stored scores (customer_scores) and the latest CLV run's prediction. */
export interface CustomerListDbRow extends CustomerDbRow {
  orders: number | null;
  revenue_minor: number | null;
  aov_minor: number | null;
  first_order_at: Date | null;
  last_order_at: Date | null;
  rfm_segment: string | null;
  rfm_r: number | null;
  rfm_f: number | null;
  rfm_m: number | null;
  p_alive: number | null;
  expected_purchases: number | null;
  clv_minor: number | null;
  next_order_at: Date | null;
  /** The value the page is sorted by (the cursor keeps it). */
  sort_value: number | string | Date | null;
}

/**
 * The latest CLV run — the largest as-of, then the most recently stored, then the last model version
 * (what GET /v1/customers/{id}/clv reads per customer) — and its predictions.
 */
export const LATEST_RUN_CTE = `latest_run AS (
  SELECT model_version, as_of FROM clv_predictions ORDER BY as_of DESC, created_at DESC, model_version DESC LIMIT 1
)`;
const LIST_FROM = `customers c
  LEFT JOIN customer_scores s ON s.customer_id = c.customer_id
  LEFT JOIN (
    SELECT q.customer_id, q.p_alive, q.expected_purchases, q.clv_minor, q.next_order_at
    FROM clv_predictions q JOIN latest_run r ON r.model_version = q.model_version AND r.as_of = q.as_of
  ) p ON p.customer_id = c.customer_id`;

function listWhere(f: CustomerFilter, params: SqlValue[]): string[] {
  const where: string[] = [];
  const add = (sql: string, v: SqlValue) => {
    params.push(v);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.customerId !== undefined) add('c.customer_id = ?', f.customerId);
  if (f.email !== undefined) add('c.email = ?', f.email.toLowerCase());
  if (f.country !== undefined) add('c.country = ?', f.country);
  if (f.acquisitionChannel !== undefined)
    add('c.acquisition_channel = ?', f.acquisitionChannel.toLowerCase());
  if (f.createdFrom !== undefined) add('c.created_at >= ?::timestamp', f.createdFrom);
  if (f.createdTo !== undefined) add('c.created_at < ?::timestamp', f.createdTo);
  if (f.search !== undefined && f.search !== '') {
    const like = `%${f.search.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    add(
      `(LOWER(c.external_id) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(c.email, '')) LIKE ? ESCAPE '\\'
        OR LOWER(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')) LIKE ? ESCAPE '\\')`,
      like,
    );
  }
  return where;
}

/**
 * One page of customers with their scores, sorted by `sort` (NULLS LAST, then customer_id ascending),
 * keyset-paginated after `after` (stable and cheap however deep the page). The default, `id` ascending,
 * is insertion order.
 */
export async function listCustomers(
  db: Queryable,
  f: CustomerFilter & { sort?: ListSort; desc?: boolean; after?: ListAfter },
): Promise<CustomerListDbRow[]> {
  const params: SqlValue[] = [];
  const where = listWhere(f, params);
  const sort = LIST_SORTS[f.sort ?? 'id'];
  // The direction in SQL: churn risk descending is P(alive) ascending.
  const desc = (f.desc ?? false) !== ('reversed' in sort && sort.reversed);
  const e = sort.sql;
  const cast = sort.type === 'time' ? '::timestamp' : '';
  if (f.after) {
    params.push(f.after.id);
    const id = `$${params.length}`;
    if (f.sort === undefined || f.sort === 'id') where.push(`c.customer_id ${desc ? '<' : '>'} ${id}`);
    else if (f.after.value === null) where.push(`(${e} IS NULL AND c.customer_id > ${id})`);
    else {
      params.push(sort.type === 'time' ? new Date(f.after.value) : f.after.value);
      const v = `$${params.length}${cast}`;
      where.push(
        `(${e} ${desc ? '<' : '>'} ${v} OR (${e} = ${v} AND c.customer_id > ${id}) OR ${e} IS NULL)`,
      );
    }
  }
  params.push(f.limit);
  const order =
    f.sort === undefined || f.sort === 'id'
      ? `c.customer_id ${desc ? 'DESC' : 'ASC'}`
      : `${e} ${desc ? 'DESC' : 'ASC'} NULLS LAST, c.customer_id ASC`;
  return db.query<CustomerListDbRow & Record<string, unknown>>(
    `WITH ${LATEST_RUN_CTE}
     SELECT ${COLUMNS.split(', ')
       .map((col) => `c.${col}`)
       .join(', ')},
       s.orders, s.revenue_minor, s.aov_minor, s.first_order_at, s.last_order_at, s.rfm_segment, s.rfm_r, s.rfm_f,
       s.rfm_m, p.p_alive, p.expected_purchases, p.clv_minor, p.next_order_at, ${e} AS sort_value
     FROM ${LIST_FROM}
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${order} LIMIT $${params.length}`,
    params,
  );
}

/** How many customers the filter matches (the list's `total`). */
export async function countCustomers(db: Queryable, f: CustomerFilter): Promise<number> {
  const params: SqlValue[] = [];
  const where = listWhere(f, params);
  const [r] = await db.query<{ n: number | bigint }>(
    `SELECT COUNT(*) AS n FROM customers c ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
    params,
  );
  return Number(r?.n ?? 0);
}

/** When the stored scores were computed (null: never), and the latest CLV run (null: none). */
export async function listContext(
  db: Queryable,
): Promise<{ scoresAt: Date | null; run: { model_version: string; as_of: Date; currency: string } | null }> {
  const [s] = await db.query<{ at: Date | null }>(`SELECT MAX(refreshed_at) AS at FROM customer_scores`);
  const [run] = await db.query<{ model_version: string; as_of: Date; currency: string }>(
    `WITH ${LATEST_RUN_CTE}
     SELECT r.model_version, r.as_of, (SELECT q.currency FROM clv_predictions q
       WHERE q.model_version = r.model_version AND q.as_of = r.as_of LIMIT 1) AS currency
     FROM latest_run r`,
  );
  return { scoresAt: s?.at ?? null, run: run ?? null };
}

export async function customerByExternalId(
  db: Queryable,
  externalId: string,
): Promise<CustomerDbRow | undefined> {
  const rows = await db.query<CustomerDbRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM customers WHERE external_id = $1`,
    [externalId],
  );
  return rows[0];
}

export async function consentsOf(db: Queryable, customerIds: readonly number[]): Promise<ConsentDbRow[]> {
  if (customerIds.length === 0) return [];
  return db.query<ConsentDbRow & Record<string, unknown>>(
    `SELECT customer_id, channel, status, changed_at, source FROM customer_consents
     WHERE customer_id IN (${customerIds.map((_, i) => `$${i + 1}`).join(', ')})`,
    customerIds,
  );
}

/** The current consent status of one channel (null when never set). */
export async function consentStatus(
  db: Queryable,
  customerId: number,
  channel: string,
): Promise<string | null> {
  const [r] = await db.query<{ status: string }>(
    `SELECT status FROM customer_consents WHERE customer_id = $1 AND channel = $2`,
    [customerId, channel],
  );
  return r?.status ?? null;
}

/**
 * The consent ledger's columns, in the order an {@link appendConsentLedger} SELECT yields them.
 */
export const LEDGER_COLUMNS =
  'customer_id, channel, status, source, occurred_at, recorded_at, ip, user_agent, form_text';

/**
 * Appends consent decisions to the ledger (append-only: entries are never updated or deleted, except
 * by a GDPR erasure). `select` yields {@link LEDGER_COLUMNS}; every writer of `customer_consents` calls
 * this in the same transaction, with the rows it makes current.
 */
export function appendConsentLedger(
  tx: Queryable,
  select: string,
  params: readonly SqlValue[] = [],
): Promise<number> {
  return tx.exec(`INSERT INTO consent_ledger (${LEDGER_COLUMNS}) ${select}`, params);
}

export interface ConsentEntryDbRow {
  channel: ConsentDbRow['channel'];
  status: ConsentDbRow['status'];
  source: string;
  occurred_at: Date | null;
  recorded_at: Date | null;
  ip: string | null;
  user_agent: string | null;
  form_text: string | null;
}

/** One customer's ledger, oldest first. */
export function consentHistory(
  db: Queryable,
  customerId: number,
  channel: string | undefined,
): Promise<ConsentEntryDbRow[]> {
  return db.query<ConsentEntryDbRow & Record<string, unknown>>(
    `SELECT channel, status, source, occurred_at, recorded_at, ip, user_agent, form_text FROM consent_ledger
     WHERE customer_id = $1 ${channel ? 'AND channel = $2' : ''}
     ORDER BY entry_id`,
    channel ? [customerId, channel] : [customerId],
  );
}

/** Makes one decision the channel's current consent and appends it, with its proof, to the ledger. */
export async function setConsent(
  db: Queryable,
  c: {
    customerId: number;
    channel: string;
    status: string;
    changedAt: Date;
    source: string;
    proof: { ip?: string | undefined; userAgent?: string | undefined; formText?: string | undefined };
    now: Date;
  },
): Promise<void> {
  await appendConsentLedger(db, `VALUES ($1, $2, $3, $4, $5::timestamp, $6::timestamp, $7, $8, $9)`, [
    c.customerId,
    c.channel,
    c.status,
    c.source,
    c.changedAt,
    c.now,
    c.proof.ip ?? null,
    c.proof.userAgent ?? null,
    c.proof.formText ?? null,
  ]);
  await db.exec(
    `INSERT INTO customer_consents (customer_id, channel, status, changed_at, source)
     VALUES ($1, $2, $3, $4::timestamp, $5)
     ON CONFLICT (customer_id, channel) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at, source = EXCLUDED.source`,
    [c.customerId, c.channel, c.status, c.changedAt, c.source],
  );
  await db.exec(`UPDATE customers SET updated_at = $2::timestamp WHERE customer_id = $1`, [
    c.customerId,
    c.now,
  ]);
}

export interface PredictionDbRow {
  model_version: string;
  as_of: Date;
  horizon: number;
  time_unit: string;
  expected_purchases: number;
  p_alive: number;
  clv_minor: number | null;
  expected_spend_minor: number | null;
  next_order_at: Date | null;
  currency: string;
}

/** The customer's row of the most recent CLV run that predicted for them (table of migration 4). */
export async function latestPredictionOf(
  db: Queryable,
  customerId: number,
): Promise<PredictionDbRow | undefined> {
  const rows = await db.query<PredictionDbRow & Record<string, unknown>>(
    `SELECT model_version, as_of, horizon, time_unit, expected_purchases, p_alive, clv_minor, expected_spend_minor,
            next_order_at, currency
     FROM clv_predictions WHERE customer_id = $1 ORDER BY as_of DESC, created_at DESC, model_version DESC LIMIT 1`,
    [customerId],
  );
  return rows[0];
}

/** Everything Retain keeps about one customer, table by table (GDPR export). */
export async function personalData(db: Queryable, customerId: number): Promise<Record<string, Row[]>> {
  const q = (sql: string) => db.query(sql, [customerId]);
  return {
    customer: await q(`SELECT * FROM customers WHERE customer_id = $1`),
    consents: await q(
      `SELECT channel, status, changed_at, source FROM customer_consents WHERE customer_id = $1 ORDER BY channel`,
    ),
    consentLedger: await q(
      `SELECT channel, status, source, occurred_at, recorded_at, ip, user_agent, form_text FROM consent_ledger
       WHERE customer_id = $1 ORDER BY entry_id`,
    ),
    orders: await q(`SELECT * FROM orders WHERE customer_id = $1 ORDER BY ordered_at, order_id`),
    orderLines: await q(
      `SELECT l.* FROM order_lines l JOIN orders o ON o.order_id = l.order_id WHERE o.customer_id = $1
       ORDER BY l.order_id, l.line_no`,
    ),
    refunds: await q(`SELECT * FROM refunds WHERE customer_id = $1 ORDER BY refunded_at, refund_id`),
    events: await q(
      `SELECT event_id, anonymous_id, type, CAST(properties AS TEXT) AS properties, occurred_at, received_at FROM events
       WHERE customer_id = $1 ORDER BY occurred_at, event_id`,
    ),
    messages: await q(
      `SELECT send_key, channel, kind, source, step, occurrence, template, template_version, status, reason, address,
              locale, attempts, provider_id, delivery, created_at, sent_at
       FROM message_sends WHERE customer_id = $1 ORDER BY created_at, send_key`,
    ),
    messengerChat: await q(`SELECT chat_id, linked_at FROM messenger_chats WHERE customer_id = $1`),
    consentRequests: await q(
      `SELECT request_id, channel, source, status, requested_at, expires_at, decided_at, ip, user_agent, form_text
       FROM consent_requests WHERE customer_id = $1 ORDER BY requested_at, request_id`,
    ),
    predictions: await q(`SELECT * FROM clv_predictions WHERE customer_id = $1 ORDER BY as_of`),
    anonymousIds: await q(
      `SELECT anonymous_id, event_id, identified_at, source, linked_at FROM identity_links
       WHERE customer_id = $1 ORDER BY linked_at, anonymous_id`,
    ),
    mergedIds: await q(
      `SELECT external_id, merged_at FROM customer_aliases WHERE customer_id = $1 ORDER BY merged_at, external_id`,
    ),
    messageEngagement: await q(
      `SELECT e.send_key, e.kind, e.target, e.first_at, e.last_at, e.count FROM message_events e
       WHERE e.customer_id = $1 ORDER BY e.first_at, e.send_key, e.kind, e.target`,
    ),
    loyaltyMember: await q(`SELECT * FROM loyalty_members WHERE customer_id = $1`),
    loyaltyEntries: await q(`SELECT * FROM loyalty_entries WHERE customer_id = $1 ORDER BY entry_id`),
    loyaltyRedemptions: await q(`SELECT * FROM loyalty_redemptions WHERE customer_id = $1`),
    loyaltyTiers: await q(`SELECT * FROM loyalty_tier_history WHERE customer_id = $1`),
    flowRuns: await q(`SELECT * FROM flow_runs WHERE customer_id = $1 ORDER BY run_id`),
    flowCodes: await q(`SELECT * FROM flow_codes WHERE customer_id = $1 ORDER BY code`),
    tasks: await q(`SELECT * FROM tasks WHERE customer_id = $1 ORDER BY task_id`),
    taskHistory: await q(`SELECT * FROM task_events WHERE customer_id = $1 ORDER BY event_id`),
    notes: await q(
      `SELECT note_id, body, author_name, created_at, updated_at, deleted_at FROM customer_notes
       WHERE customer_id = $1 ORDER BY note_id`,
    ),
    tagChanges: await q(
      `SELECT tag, change, changed_at FROM customer_tag_changes WHERE customer_id = $1 ORDER BY change_id`,
    ),
    surveyInvitations: await q(
      `SELECT i.invitation_id, s.name AS survey, i.occurrence, i.status, i.invited_at, i.expires_at
       FROM survey_invitations i JOIN surveys s ON s.survey_id = i.survey_id WHERE i.customer_id = $1
       ORDER BY i.invited_at, i.invitation_id`,
    ),
    surveyAnswers: await q(
      `SELECT a.invitation_id, s.name AS survey, a.score, a.why, a.locale, a.answered_at, a.updated_at
       FROM survey_answers a JOIN surveys s ON s.survey_id = a.survey_id WHERE a.customer_id = $1
       ORDER BY a.answered_at, a.invitation_id`,
    ),
    subscriptions: await q(
      `SELECT s.subscription_id, p.name AS plan, s.sku, s.quantity, s.unit_price_minor, s.currency, s.status,
         s.interval_every, s.interval_unit, s.local_time, s.time_zone, s.address, s.paused_until,
         s.cancel_reason, s.cancel_note, s.started_at, s.cancelled_at
       FROM subscriptions s JOIN subscription_plans p ON p.plan_id = s.plan_id WHERE s.customer_id = $1
       ORDER BY s.subscription_id`,
    ),
    subscriptionHistory: await q(
      `SELECT subscription_id, happened_at, type, cycle, detail, changed_by FROM subscription_events
       WHERE customer_id = $1 ORDER BY event_id`,
    ),
    subscriptionOrders: await q(
      `SELECT subscription_id, cycle, order_external_id, due_at, amount_minor FROM subscription_orders
       WHERE customer_id = $1 ORDER BY subscription_id, cycle`,
    ),
  };
}

/**
 * GDPR erasure of the customers module's own rows, in the caller's transaction: personal fields
 * emptied, the shop's id replaced by `erased-<internal id>` (it may itself be an email), consent
 * proofs removed, and the merge aliases that resolved to the customer deleted. Other modules' tables
 * are erased by their hooks (src/kit/customerHooks.ts) in the same transaction. `erased_at` keeps the
 * contact out of every send.
 */
export async function eraseCustomer(tx: Queryable, customerId: number, now: Date): Promise<string> {
  const anonymous = erasedExternalId(customerId);
  await tx.exec(
    `UPDATE customers SET external_id = $2, email = NULL, phone = NULL, first_name = NULL, last_name = NULL,
            birthday = NULL, erased_at = $3::timestamp, updated_at = $3::timestamp
     WHERE customer_id = $1`,
    [customerId, anonymous, now],
  );
  await tx.exec(
    `UPDATE consent_ledger SET ip = NULL, user_agent = NULL, form_text = NULL WHERE customer_id = $1`,
    [customerId],
  );
  await tx.exec(`DELETE FROM customer_aliases WHERE customer_id = $1`, [customerId]);
  return anonymous;
}

/** The customer-owned tables the customers service handles itself (the others: modules' hooks). */
export const OWN_CUSTOMER_TABLES = ['customers', 'customer_consents', 'consent_ledger', 'customer_aliases'];

/** A customer found by one of the store's ids (`byAlias`: the id of a customer merged into this one). */
export interface ShopIdMatch {
  id: number;
  email: string | null;
  erased: boolean;
  byAlias: boolean;
}

/**
 * The customers the store's ids name, through the merge aliases too (the id of a customer merged into
 * another finds the survivor); ids naming no one are not in the map.
 */
export async function customersByShopIds(
  db: Queryable,
  externalIds: readonly string[],
): Promise<Map<string, ShopIdMatch>> {
  const found = new Map<string, ShopIdMatch>();
  const lookUp = async (aliases: boolean, ids: readonly string[]) => {
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      const list = part.map((_, k) => `$${k + 1}`).join(', ');
      const rows = await db.query<{
        customer_id: number;
        external_id: string;
        email: string | null;
        erased_at: Date | null;
      }>(
        aliases
          ? `SELECT c.customer_id, a.external_id, c.email, c.erased_at
             FROM customer_aliases a JOIN customers c ON c.customer_id = a.customer_id
             WHERE a.external_id IN (${list})`
          : `SELECT customer_id, external_id, email, erased_at FROM customers WHERE external_id IN (${list})`,
        part,
      );
      for (const r of rows)
        found.set(r.external_id, {
          id: Number(r.customer_id),
          email: r.email,
          erased: r.erased_at !== null,
          byAlias: aliases,
        });
    }
  };
  await lookUp(false, externalIds);
  await lookUp(
    true,
    externalIds.filter((e) => !found.has(e)),
  );
  return found;
}

/**
 * A shop id → the internal id, through the merge aliases too (`customer_aliases`: the shop ids of
 * customers merged into another resolve to the survivor). `extExpr` is an SQL expression.
 */
export function customerIdSql(extExpr: string): string {
  return `COALESCE((SELECT customer_id FROM customers WHERE external_id = ${extExpr}),
                   (SELECT customer_id FROM customer_aliases WHERE external_id = ${extExpr}))`;
}

/**
 * Rewrites the shop ids in a staging table's column that name merged customers to their survivor's
 * shop id (set-based; nothing to do while no customer was ever merged). Imports call it before they
 * resolve customers, so a file naming a merged id reaches the survivor instead of creating it again.
 */
export async function resolveAliasesIn(tx: Queryable, table: string, column: string): Promise<number> {
  const any = await tx.query(`SELECT 1 AS one FROM customer_aliases LIMIT 1`);
  if (any.length === 0) return 0;
  return tx.exec(
    `UPDATE ${table} AS s SET ${column} = m.survivor
     FROM (SELECT a.external_id AS alias, c.external_id AS survivor
           FROM customer_aliases a JOIN customers c ON c.customer_id = a.customer_id) m
     WHERE s.${column} = m.alias`,
  );
}

/** The customer a shop id names, directly or as a merged customer's alias. */
export async function customerByIdOrAlias(
  db: Queryable,
  externalId: string,
): Promise<(CustomerDbRow & { erased_at: Date | null; alias_of: string | null }) | undefined> {
  const rows = await db.query<
    CustomerDbRow & { erased_at: Date | null; alias_of: string | null } & Record<string, unknown>
  >(
    `SELECT ${COLUMNS}, erased_at, CAST(NULL AS TEXT) AS alias_of FROM customers WHERE external_id = $1
     UNION ALL
     SELECT ${COLUMNS.split(', ')
       .map((c) => `c.${c}`)
       .join(', ')}, c.erased_at, a.external_id AS alias_of
     FROM customer_aliases a JOIN customers c ON c.customer_id = a.customer_id WHERE a.external_id = $1`,
    [externalId],
  );
  return rows[0];
}

/** The fields a merge fills on the survivor when it has none, from the merged in the order named: every profile field but `created_at` (the earliest is kept). */
export const FILLED_FIELDS = CUSTOMER_FIELDS.filter(
  (f): f is Exclude<(typeof CUSTOMER_FIELDS)[number], 'created_at'> => f !== 'created_at',
);

/** Sets the survivor's filled fields and earliest creation time (a merge). */
export async function fillCustomer(
  tx: Queryable,
  customerId: number,
  fields: Record<(typeof FILLED_FIELDS)[number], SqlValue> & { created_at: Date | null },
  now: Date,
): Promise<void> {
  const params: SqlValue[] = [customerId, now, fields.created_at];
  const sets = FILLED_FIELDS.map((f) => {
    params.push(fields[f]);
    return `${f} = $${params.length}${f === 'birthday' ? '::date' : ''}`;
  });
  await tx.exec(
    `UPDATE customers SET ${sets.join(', ')}, created_at = $3::timestamp, updated_at = $2::timestamp
     WHERE customer_id = $1`,
    params,
  );
}

/**
 * The customers module's own rows of a merge (the modules' tables are their hooks'): the consent
 * ledgers joined (entries kept, re-pointed; `current` = the survivor's consent per channel after the
 * merge, written by the caller), earlier aliases re-pointed, the merged customers' shop ids kept as
 * aliases of the survivor, and their rows deleted.
 */
export async function absorbCustomers(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
  now: Date,
): Promise<void> {
  const from = sqlIds(fromIds);
  await tx.exec(`UPDATE consent_ledger SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(`DELETE FROM customer_consents WHERE customer_id IN (${from})`);
  await tx.exec(`UPDATE customer_aliases SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(
    `INSERT INTO customer_aliases (external_id, customer_id, merged_at)
     SELECT external_id, $1, $2::timestamp FROM customers WHERE customer_id IN (${from}) ORDER BY customer_id`,
    [intoId, now],
  );
  await tx.exec(`DELETE FROM customers WHERE customer_id IN (${from})`);
}

/** The customers' full rows (a merge reads them in its transaction). */
export async function customersById(
  tx: Queryable,
  ids: readonly number[],
): Promise<(CustomerDbRow & { erased_at: Date | null })[]> {
  return tx.query<CustomerDbRow & { erased_at: Date | null } & Record<string, unknown>>(
    `SELECT ${COLUMNS}, erased_at FROM customers WHERE customer_id IN (${sqlIds(ids)}) ORDER BY customer_id`,
  );
}

export interface DuplicateDbRow {
  key: string;
  n: number;
  external_id: string;
}

/**
 * Groups of customers (not erased) sharing a key — `email`: the canonical email (trimmed, lower
 * case); `phone`: the number's digits and a leading `+` — the largest groups first, at most `limit`
 * groups; with the totals over all groups.
 */
export async function duplicateGroups(
  db: Queryable,
  by: 'email' | 'phone',
  limit: number,
): Promise<{ rows: DuplicateDbRow[]; groups: number; customers: number }> {
  const key = by === 'email' ? `LOWER(TRIM(email))` : `regexp_replace(phone, '[^0-9+]', '', 'g')`;
  const keyed = `SELECT customer_id, external_id, ${key} AS key FROM customers
                 WHERE erased_at IS NULL AND ${by} IS NOT NULL`;
  const groups = `SELECT key, COUNT(*) AS n, MIN(customer_id) AS first_id FROM (${keyed}) k
                  WHERE key <> '' GROUP BY key HAVING COUNT(*) > 1`;
  const [totals] = await db.query<{ groups: number; customers: number | null }>(
    `SELECT COUNT(*) AS groups, SUM(n) AS customers FROM (${groups}) d`,
  );
  const rows = await db.query<DuplicateDbRow & Record<string, unknown>>(
    `SELECT k.key, t.n, k.external_id
     FROM (${keyed}) k
     JOIN (SELECT key, n, first_id FROM (${groups}) d ORDER BY n DESC, first_id LIMIT $1) t ON t.key = k.key
     ORDER BY t.n DESC, t.first_id, k.customer_id`,
    [limit],
  );
  return { rows, groups: totals?.groups ?? 0, customers: Number(totals?.customers ?? 0) };
}

/** Whether any customer has an email (the demo's contacts are generated only into a store without). */
export async function anyEmail(db: Queryable): Promise<boolean> {
  const rows = await db.query(`SELECT 1 AS one FROM customers WHERE email IS NOT NULL LIMIT 1`);
  return rows.length > 0;
}

/** Every customer not erased, with the country (for the demo's generated contacts). */
export async function customersWithCountry(
  db: Queryable,
): Promise<{ external_id: string; country: string | null }[]> {
  return db.query<{ external_id: string; country: string | null }>(
    `SELECT external_id, country FROM customers WHERE erased_at IS NULL ORDER BY customer_id`,
  );
}

/**
 * Timeline source: the customer's consent decisions (`consent`: the ledger — channel, status, source),
 * at when the contact decided or else when Retain recorded it; entries with neither (carried over from
 * before the ledger without a time) have no place on a timeline and are left out.
 */
export async function consentTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    entry_id: number;
    at: Date;
    channel: string;
    status: string;
    source: string;
    occurred_at: Date | null;
    recorded_at: Date | null;
  }>(
    `SELECT * FROM (
       SELECT entry_id, COALESCE(occurred_at, recorded_at) AS at, channel, status, source, occurred_at, recorded_at
       FROM consent_ledger WHERE customer_id = $1 AND COALESCE(occurred_at, recorded_at) IS NOT NULL
     ) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: 'consent',
    ref: String(r.entry_id),
    title: `${r.channel} consent ${r.status} (${r.source})`,
    detail: r.status,
    properties: {
      channel: r.channel,
      status: r.status,
      source: r.source,
      occurredAt: r.occurred_at?.toISOString() ?? null,
      recordedAt: r.recorded_at?.toISOString() ?? null,
    },
  }));
}
