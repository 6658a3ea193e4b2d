import type { Queryable } from '../../storage/port.js';

/**
 * The SQL of the contact's own consent tools (messaging, issue 21): the preference page, double opt-in
 * requests (`consent_requests`, migration 14) and the email feedback loop (bounces and complaints).
 * Kept beside repository.ts so the send path's SQL stays in one place.
 */

export interface ContactDbRow {
  customer_id: number;
  external_id: string;
  email: string | null;
  phone: string | null;
  locale: string | null;
  erased_at: Date | null;
}

export async function contactById(db: Queryable, customerId: number): Promise<ContactDbRow | undefined> {
  const [r] = await db.query<ContactDbRow & Record<string, unknown>>(
    `SELECT customer_id, external_id, email, phone, locale, erased_at FROM customers WHERE customer_id = $1`,
    [customerId],
  );
  return r;
}

export async function contactByExternalId(
  db: Queryable,
  externalId: string,
): Promise<ContactDbRow | undefined> {
  const [r] = await db.query<ContactDbRow & Record<string, unknown>>(
    `SELECT customer_id, external_id, email, phone, locale, erased_at FROM customers WHERE external_id = $1`,
    [externalId],
  );
  return r;
}

/** The current consent of every channel of one customer (channels never set are absent). */
export async function consentsOf(db: Queryable, customerId: number): Promise<Map<string, string>> {
  const rows = await db.query<{ channel: string; status: string }>(
    `SELECT channel, status FROM customer_consents WHERE customer_id = $1`,
    [customerId],
  );
  return new Map(rows.map((r) => [r.channel, r.status]));
}

/** One channel's current consent with when it changed (null when never set). */
export async function consentNow(
  db: Queryable,
  customerId: number,
  channel: string,
): Promise<{ status: string; changed_at: Date | null } | undefined> {
  const [r] = await db.query<{ status: string; changed_at: Date | null }>(
    `SELECT status, changed_at FROM customer_consents WHERE customer_id = $1 AND channel = $2`,
    [customerId, channel],
  );
  return r;
}

export interface ConsentRequestDbRow {
  request_id: string;
  customer_id: number;
  channel: 'email' | 'sms';
  source: string;
  status: 'pending' | 'confirmed' | 'expired';
  send_key: string;
  requested_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  /** The wording the contact agreed to when asking (the checkbox), if the request carried it. */
  form_text: string | null;
}

const REQUEST_COLUMNS = `request_id, customer_id, channel, source, status, send_key, requested_at, expires_at, decided_at, form_text`;

/** The pending, unexpired request of one customer's channel, if any. */
export async function pendingRequest(
  db: Queryable,
  customerId: number,
  channel: string,
  now: Date,
): Promise<ConsentRequestDbRow | undefined> {
  const [r] = await db.query<ConsentRequestDbRow & Record<string, unknown>>(
    `SELECT ${REQUEST_COLUMNS} FROM consent_requests
     WHERE customer_id = $1 AND channel = $2 AND status = 'pending' AND expires_at > $3::timestamp
     ORDER BY requested_at DESC LIMIT 1`,
    [customerId, channel, now],
  );
  return r;
}

export async function requestById(
  db: Queryable,
  requestId: string,
): Promise<ConsentRequestDbRow | undefined> {
  const [r] = await db.query<ConsentRequestDbRow & Record<string, unknown>>(
    `SELECT ${REQUEST_COLUMNS} FROM consent_requests WHERE request_id = $1`,
    [requestId],
  );
  return r;
}

/** Inserts a request; false when its id is already there (a replayed checkout). */
export async function insertRequest(
  tx: Queryable,
  r: {
    requestId: string;
    customerId: number;
    channel: string;
    source: string;
    sendKey: string;
    now: Date;
    expiresAt: Date;
    ip: string | null;
    userAgent: string | null;
    formText: string | null;
  },
): Promise<boolean> {
  const n = await tx.exec(
    `INSERT INTO consent_requests (request_id, customer_id, channel, source, status, send_key, requested_at, expires_at,
       ip, user_agent, form_text)
     VALUES ($1, $2, $3, $4, 'pending', $5, $6::timestamp, $7::timestamp, $8, $9, $10)
     ON CONFLICT (request_id) DO NOTHING`,
    [
      r.requestId,
      r.customerId,
      r.channel,
      r.source,
      r.sendKey,
      r.now,
      r.expiresAt,
      r.ip,
      r.userAgent,
      r.formText,
    ],
  );
  return n > 0;
}

/**
 * Ends a pending request (compare-and-set: of two clicks at once one wins). Returns whether this call
 * moved it.
 */
export async function decideRequest(
  tx: Queryable,
  requestId: string,
  status: 'confirmed' | 'expired',
  now: Date,
): Promise<boolean> {
  const n = await tx.exec(
    `UPDATE consent_requests SET status = $2, decided_at = $3::timestamp WHERE request_id = $1 AND status = 'pending'`,
    [requestId, status, now],
  );
  return n > 0;
}

/** An email send with its customer, as a feedback report is matched to it. */
export interface EmailSendRow {
  send_key: string;
  customer_id: number;
  external_id: string;
  address: string | null;
}

const EMAIL_SEND = `SELECT s.send_key, s.customer_id, c.external_id, s.address FROM message_sends s
     JOIN customers c ON c.customer_id = s.customer_id`;

/** The send of this key on the email channel, with its customer (feedback reports). */
export async function emailSendByKey(db: Queryable, key: string): Promise<EmailSendRow | undefined> {
  const [r] = await db.query<EmailSendRow & Record<string, unknown>>(
    `${EMAIL_SEND} WHERE s.send_key = $1 AND s.channel = 'email'`,
    [key],
  );
  return r;
}

/** The latest email sent to this address (feedback without our key). */
export async function latestEmailSendTo(db: Queryable, address: string): Promise<EmailSendRow | undefined> {
  const [r] = await db.query<EmailSendRow & Record<string, unknown>>(
    `${EMAIL_SEND} WHERE s.channel = 'email' AND LOWER(s.address) = $1 AND s.status IN ('sent', 'unknown')
     ORDER BY s.sent_at DESC, s.send_key DESC LIMIT 1`,
    [address],
  );
  return r;
}

/** Customers (not erased) whose email is this address. */
export async function customersByEmail(
  db: Queryable,
  address: string,
): Promise<{ customer_id: number; external_id: string }[]> {
  return db.query<{ customer_id: number; external_id: string }>(
    `SELECT customer_id, external_id FROM customers WHERE LOWER(email) = $1 AND erased_at IS NULL ORDER BY customer_id`,
    [address],
  );
}

/** Notes what a feedback report said on the send (the `delivery` column). */
export async function noteDelivery(tx: Queryable, key: string, delivery: string, now: Date): Promise<void> {
  await tx.exec(`UPDATE message_sends SET delivery = $2, updated_at = $3::timestamp WHERE send_key = $1`, [
    key,
    delivery,
    now,
  ]);
}

/** Marks every pending request past its expiry `expired` (the daily sweep). Returns how many. */
export async function expireRequests(tx: Queryable, now: Date): Promise<number> {
  return tx.exec(
    `UPDATE consent_requests SET status = 'expired', decided_at = $1::timestamp
     WHERE status = 'pending' AND expires_at <= $1::timestamp`,
    [now],
  );
}
