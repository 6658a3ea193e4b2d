import type { Queryable, Row, SqlValue } from '../../storage/port.js';

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
  afterId?: number;
  limit: number;
  email?: string;
  country?: string;
  acquisitionChannel?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

/** One page in customer_id order (keyset pagination: stable under inserts). */
export async function listCustomers(db: Queryable, f: CustomerFilter): Promise<CustomerDbRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, v: SqlValue) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.afterId !== undefined) add('customer_id > ?', f.afterId);
  if (f.email !== undefined) add('email = ?', f.email.toLowerCase());
  if (f.country !== undefined) add('country = ?', f.country);
  if (f.acquisitionChannel !== undefined) add('acquisition_channel = ?', f.acquisitionChannel.toLowerCase());
  if (f.createdFrom !== undefined) add('created_at >= ?::timestamp', f.createdFrom);
  if (f.createdTo !== undefined) add('created_at < ?::timestamp', f.createdTo);
  params.push(f.limit);
  return db.query<CustomerDbRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM customers ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY customer_id LIMIT $${params.length}`,
    params,
  );
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

export interface TimelineDbRow {
  kind: 'order' | 'refund' | 'event';
  id: string;
  happened_at: Date;
  amount_minor: number | null;
  currency: string | null;
  detail: string | null;
  properties: string | null;
}

/**
 * A customer's orders, refunds and events, newest first; keyset by (at, kind:id) so pages are stable.
 */
export async function timeline(
  db: Queryable,
  t: { customerId: number; kinds: readonly string[]; before?: { at: Date; key: string }; limit: number },
): Promise<TimelineDbRow[]> {
  const parts: Record<string, string> = {
    order: `SELECT 'order' AS kind, external_id AS id, ordered_at AS happened_at, total_minor AS amount_minor, currency, status AS detail, CAST(NULL AS TEXT) AS properties FROM orders WHERE customer_id = $1`,
    refund: `SELECT 'refund' AS kind, external_id AS id, refunded_at AS happened_at, amount_minor, currency, reason AS detail, CAST(NULL AS TEXT) AS properties FROM refunds WHERE customer_id = $1`,
    event: `SELECT 'event' AS kind, event_id AS id, occurred_at AS happened_at, CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS currency, type AS detail, CAST(properties AS TEXT) AS properties FROM events WHERE customer_id = $1`,
  };
  const params: SqlValue[] = [t.customerId, t.limit];
  let cut = '';
  if (t.before) {
    params.push(t.before.at, t.before.key);
    cut = `WHERE happened_at < $3::timestamp OR (happened_at = $3::timestamp AND kind || ':' || id < $4)`;
  }
  return db.query<TimelineDbRow & Record<string, unknown>>(
    `SELECT * FROM (${t.kinds.map((k) => parts[k]).join(' UNION ALL ')}) t ${cut}
     ORDER BY happened_at DESC, kind || ':' || id DESC LIMIT $2`,
    params,
  );
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
  };
}

/**
 * GDPR erasure of one customer, in the caller's transaction: personal fields emptied, the shop's id
 * replaced by `erased-<internal id>` (it may itself be an email), consent proofs, event properties,
 * message addresses, the messenger chat and double opt-in proofs removed; orders, refunds and the send ledger stay as
 * anonymous facts. `erased_at` keeps the contact out of every send.
 */
export async function eraseCustomer(tx: Queryable, customerId: number, now: Date): Promise<string> {
  const anonymous = `erased-${customerId}`;
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
  await tx.exec(`UPDATE events SET properties = NULL, anonymous_id = NULL WHERE customer_id = $1`, [
    customerId,
  ]);
  await tx.exec(`UPDATE message_sends SET address = NULL WHERE customer_id = $1`, [customerId]);
  await tx.exec(`DELETE FROM messenger_chats WHERE customer_id = $1`, [customerId]);
  await tx.exec(
    `UPDATE consent_requests SET ip = NULL, user_agent = NULL, form_text = NULL WHERE customer_id = $1`,
    [customerId],
  );
  // The outbox's earlier facts named the customer by the shop's id.
  await tx.exec(
    `UPDATE domain_events SET ref = $2
     WHERE customer_id = $1 AND type IN ('customer.created', 'customer.updated', 'consent.changed')`,
    [customerId, anonymous],
  );
  return anonymous;
}
