import type { Dialect, Queryable, SqlValue } from '../../storage/port.js';
import { valuesList } from '../../storage/values.js';
import { sqlIds } from '../../kit/customerHooks.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import { customerIdSql } from '../customers/repository.js';

/** The messaging module's SQL: templates, the send ledger, suppressions and the link secret. */

export interface TemplateDbRow {
  name: string;
  version: number;
  channel: 'email' | 'sms' | 'messenger';
  kind: 'marketing' | 'transactional';
  source: string;
  compiled: string;
  created_at: Date;
  created_by: string | null;
}

export async function latestTemplate(db: Queryable, name: string): Promise<TemplateDbRow | undefined> {
  const [r] = await db.query<TemplateDbRow & Record<string, unknown>>(
    `SELECT name, version, channel, kind, source, compiled, created_at, created_by FROM message_templates
     WHERE name = $1 ORDER BY version DESC LIMIT 1`,
    [name],
  );
  return r;
}

export async function templateVersion(
  db: Queryable,
  name: string,
  version: number,
): Promise<TemplateDbRow | undefined> {
  const [r] = await db.query<TemplateDbRow & Record<string, unknown>>(
    `SELECT name, version, channel, kind, source, compiled, created_at, created_by FROM message_templates
     WHERE name = $1 AND version = $2`,
    [name, version],
  );
  return r;
}

export async function listTemplates(db: Queryable): Promise<TemplateDbRow[]> {
  return db.query<TemplateDbRow & Record<string, unknown>>(
    `SELECT t.name, t.version, t.channel, t.kind, t.source, t.compiled, t.created_at, t.created_by
     FROM message_templates t
     JOIN (SELECT name, MAX(version) AS version FROM message_templates GROUP BY name) l
       ON l.name = t.name AND l.version = t.version
     ORDER BY t.name`,
  );
}

/** Adds the next version of a template (the primary key makes two concurrent saves one winner). */
export async function insertTemplate(tx: Queryable, t: Omit<TemplateDbRow, 'version'>): Promise<number> {
  const [r] = await tx.query<{ version: number }>(
    `INSERT INTO message_templates (name, version, channel, kind, source, compiled, created_at, created_by)
     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6::timestamp, $7 FROM message_templates WHERE name = $1
     RETURNING version`,
    [t.name, t.channel, t.kind, t.source, t.compiled, t.created_at, t.created_by],
  );
  return r?.version ?? 0;
}

export interface EnqueueRows {
  /** Key parts around the customer id: `prefix || customer_id || suffix`. */
  keyPrefix: string;
  keySuffix: string;
  channel: string;
  kind: string;
  source: string;
  step: string;
  occurrence: string;
  template: string;
  templateVersion: number;
  variables: string | null;
  now: Date;
  notBefore: Date;
}

/**
 * Writes one ledger row per customer (internal ids) under its unique key; a key already there is left
 * as it is (`ON CONFLICT DO NOTHING`: the insert itself is the check). Returns how many were new.
 */
/** $1…$12 of {@link insertSendsFrom}. */
const enqueueParams = (e: EnqueueRows): SqlValue[] => [
  e.keyPrefix,
  e.keySuffix,
  e.channel,
  e.kind,
  e.source,
  e.step,
  e.occurrence,
  e.template,
  e.templateVersion,
  e.variables,
  e.now,
  e.notBefore,
];

/**
 * The ledger rows of the recipients in `from` (aliased `v`: customer_id, variables, not_before, each
 * recipient's own or NULL for the request's $10/$12), under their unique keys; a key already there is
 * left as it is (the insert itself is the check).
 */
const insertSendsFrom = (from: string) =>
  `INSERT INTO message_sends (send_key, customer_id, channel, kind, source, step, occurrence, template,
     template_version, variables, status, not_before, attempts, created_at, updated_at)
   SELECT $1 || CAST(c.customer_id AS TEXT) || $2, c.customer_id, $3, $4, $5, $6, $7, $8, $9,
          COALESCE(v.variables, $10), 'queued', COALESCE(v.not_before, $12::timestamp), 0, $11::timestamp, $11::timestamp
   FROM ${from} JOIN customers c ON c.customer_id = v.customer_id
   ORDER BY c.customer_id
   ON CONFLICT (send_key) DO NOTHING`;

/** One recipient of {@link enqueueSends}: an internal id, or one with its own variables and due time. */
export type EnqueueRecipient =
  number | { customerId: number; variables?: string | null | undefined; notBefore?: Date | undefined };

export async function enqueueSends(
  tx: Queryable,
  e: EnqueueRows,
  recipients: readonly EnqueueRecipient[],
): Promise<number> {
  if (recipients.length > 0 && recipients.every((r) => typeof r !== 'number'))
    return enqueueStaged(tx, e, recipients as Exclude<EnqueueRecipient, number>[]);
  let created = 0;
  for (let i = 0; i < recipients.length; i += 1000) {
    const part = recipients.slice(i, i + 1000);
    const params = enqueueParams(e);
    // Each recipient's own variables and due time, else the request's ($10, $12).
    const ids = part.map((r) => {
      if (typeof r === 'number') {
        params.push(r);
        return `($${params.length}::bigint, CAST(NULL AS TEXT), CAST(NULL AS TIMESTAMP))`;
      }
      params.push(r.customerId, r.variables ?? null, r.notBefore ?? null);
      const n = params.length;
      return `($${n - 2}::bigint, CAST($${n - 1} AS TEXT), CAST($${n} AS TIMESTAMP))`;
    });
    created += await tx.exec(
      insertSendsFrom(`(VALUES ${ids.join(', ')}) AS v(customer_id, variables, not_before)`),
      params,
    );
  }
  return created;
}

/**
 * {@link enqueueSends} for recipients with their own variables and due times (a campaign's tens of
 * thousands): bulk-loaded (COPY) into a temporary table, then one `INSERT … SELECT … ON CONFLICT DO
 * NOTHING` — on DuckDB ~1,000-row VALUES statements cost ~130 ms each (measured: 11.5 s of a
 * 100,000-recipient launch). Same keys, same rows, same answer.
 */
async function enqueueStaged(
  tx: Queryable,
  e: EnqueueRows,
  recipients: readonly Exclude<EnqueueRecipient, number>[],
): Promise<number> {
  await tx.exec(`DROP TABLE IF EXISTS tmp_enqueue`);
  await tx.exec(`CREATE TEMP TABLE tmp_enqueue (customer_id BIGINT, variables TEXT, not_before TIMESTAMP)`);
  await tx.copyRows(
    'tmp_enqueue',
    ['customer_id', 'variables', 'not_before'],
    recipients.map((r) => [r.customerId, r.variables ?? null, r.notBefore ?? null]),
  );
  const created = await tx.exec(insertSendsFrom('tmp_enqueue v'), enqueueParams(e));
  await tx.exec(`DROP TABLE tmp_enqueue`);
  return created;
}

/** A due ledger row with what the send-time checks need. */
export interface DueDbRow {
  send_key: string;
  customer_id: number;
  channel: 'email' | 'sms' | 'messenger';
  kind: 'marketing' | 'transactional';
  template: string;
  template_version: number;
  variables: string | null;
  attempts: number;
  external_id: string;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  locale: string | null;
  time_zone: string | null;
  erased_at: Date | null;
  consent: string | null;
  chat_id: string | null;
  suppressed: string | null;
  /** Marketing messages sent to the customer since the cap window's start (any source, any channel). */
  recent: number;
}

export async function dueSends(
  db: Queryable,
  now: Date,
  capSince: Date | null,
  limit: number,
): Promise<DueDbRow[]> {
  // The cap's count only when there is a cap (it reads the customer's recent sends per row).
  const recent =
    capSince === null
      ? '0'
      : `CAST((SELECT COUNT(*) FROM message_sends r
                  WHERE r.customer_id = s.customer_id AND r.kind = 'marketing'
                    AND r.status IN ('sending', 'sent', 'unknown') AND r.sent_at >= $2::timestamp) AS INTEGER)`;
  return db.query<DueDbRow & Record<string, unknown>>(
    `SELECT s.send_key, s.customer_id, s.channel, s.kind, s.template, s.template_version, s.variables, s.attempts,
            c.external_id, c.email, c.phone, c.first_name, c.last_name, c.locale, c.time_zone, c.erased_at,
            k.status AS consent, m.chat_id,
            x.reason AS suppressed,
            ${recent} AS recent
     FROM message_sends s
     JOIN customers c ON c.customer_id = s.customer_id
     LEFT JOIN customer_consents k ON k.customer_id = s.customer_id AND k.channel = s.channel
     LEFT JOIN messenger_chats m ON m.customer_id = s.customer_id
     LEFT JOIN suppressions x ON x.channel = s.channel AND x.address = (
       CASE s.channel WHEN 'email' THEN c.email WHEN 'sms' THEN c.phone ELSE m.chat_id END)
     WHERE s.status = 'queued' AND s.not_before <= $1::timestamp
       AND NOT EXISTS (SELECT 1 FROM send_holds h WHERE h.source = s.source)
     ORDER BY s.not_before, s.send_key
     LIMIT ${Math.max(1, Math.floor(limit))}`,
    capSince === null ? [now] : [now, capSince],
  );
}

/**
 * Ends rows with a reason: `queued` → `skipped` (consent, erasure, suppression, cap, no address), or
 * `sending` → `unknown` (the provider may have taken them).
 */
export async function closeSends(
  tx: Queryable,
  now: Date,
  rows: readonly { key: string; reason: string }[],
  change: { from: 'queued'; to: 'skipped' } | { from: 'sending'; to: 'unknown' },
) {
  if (rows.length === 0) return 0;
  const params: SqlValue[] = [now];
  const values = valuesList(
    params,
    rows.map((r) => [r.key, r.reason]),
  );
  return tx.exec(
    `UPDATE message_sends SET status = '${change.to}', reason = v.reason, updated_at = $1::timestamp
     FROM (VALUES ${values}) AS v(send_key, reason)
     WHERE message_sends.send_key = v.send_key AND message_sends.status = '${change.from}'`,
    params,
  );
}

/** Moves queued rows to a later time (quiet hours, a retry), with the reason. */
export async function deferSends(
  tx: Queryable,
  now: Date,
  rows: readonly { key: string; until: Date; reason: string }[],
  status: 'queued' | 'sending' = 'queued',
) {
  if (rows.length === 0) return 0;
  const params: SqlValue[] = [now];
  const values = valuesList(
    params,
    rows.map((r) => [r.key, r.until, r.reason]),
  );
  return tx.exec(
    `UPDATE message_sends SET status = 'queued', not_before = CAST(v.until AS TIMESTAMP), reason = v.reason,
            updated_at = $1::timestamp
     FROM (VALUES ${values}) AS v(send_key, until, reason)
     WHERE message_sends.send_key = v.send_key AND message_sends.status = '${status}'`,
    params,
  );
}

/**
 * One step of the send pipeline for many rows, as ONE statement (atomic without a transaction, so the
 * ledger writer's round trip is a single statement): each move takes a row from `from` to `to` only if
 * it is still in `from` and, from `sending`, still claimed by this deliverer run (`claimant`).
 * - a claim (`queued` → `sending`, `claim: true`): the attempt counted, `sent_at` stamped, the reason
 *   cleared, `claimed_by` set — committed before the message is rendered;
 * - a result (`sending` → `sent` | `rejected` with the provider's id, the address and locale used;
 *   → `queued` again at `notBefore` for a retry, claim and hand-over cleared; → `unknown` when the
 *   provider may have taken it).
 * Returns the keys moved with their new status (a claim another sender won is missing).
 */
export interface SendMove {
  key: string;
  from: 'queued' | 'sending';
  to: 'sending' | 'sent' | 'rejected' | 'queued' | 'unknown';
  claim?: boolean;
  reason?: string | null;
  notBefore?: Date | null;
  providerId?: string | null;
  address?: string | null;
  locale?: string | null;
}

export async function advanceSends(
  db: Queryable,
  dialect: Dialect,
  now: Date,
  claimant: string,
  moves: readonly SendMove[],
): Promise<Map<string, string>> {
  if (moves.length === 0) return new Map();
  const params: SqlValue[] = [now, claimant];
  const values = valuesList(
    params,
    moves.map((m) => [
      m.key,
      m.from,
      m.to,
      m.claim ? 1 : 0,
      m.reason ?? null,
      m.notBefore ?? null,
      m.providerId ?? null,
      m.address ?? null,
      m.locale ?? null,
    ]),
  );
  const changed = await db.exec(
    `UPDATE message_sends
     SET status = v.v_to,
         attempts = attempts + CAST(v.v_claim AS INTEGER),
         sent_at = CASE WHEN CAST(v.v_claim AS INTEGER) = 1 THEN $1::timestamp ELSE sent_at END,
         claimed_by = CASE WHEN CAST(v.v_claim AS INTEGER) = 1 THEN CAST($2 AS TEXT)
                           WHEN v.v_to = 'queued' THEN NULL ELSE claimed_by END,
         handed_at = CASE WHEN CAST(v.v_claim AS INTEGER) = 1 OR v.v_to = 'queued' THEN NULL ELSE handed_at END,
         answered_at = CASE WHEN CAST(v.v_claim AS INTEGER) = 1 OR v.v_to = 'queued' THEN NULL ELSE answered_at END,
         reason = CAST(v.v_reason AS TEXT),
         not_before = COALESCE(CAST(v.v_not_before AS TIMESTAMP), not_before),
         provider_id = COALESCE(CAST(v.v_provider_id AS TEXT), provider_id),
         address = COALESCE(CAST(v.v_address AS TEXT), address),
         locale = COALESCE(CAST(v.v_locale AS TEXT), locale),
         updated_at = $1::timestamp
     ${dialect.updateFromValues('message_sends', 'send_key', values, ['v_key', 'v_from', 'v_to', 'v_claim', 'v_reason', 'v_not_before', 'v_provider_id', 'v_address', 'v_locale'], 'v_key')}
       AND message_sends.status = v.v_from
       AND (CAST(v.v_claim AS INTEGER) = 1 OR message_sends.claimed_by = CAST($2 AS TEXT))
       -- A claim of a held source's row (a paused campaign) waits for the hold to be released.
       AND (CAST(v.v_claim AS INTEGER) = 0
            OR NOT EXISTS (SELECT 1 FROM send_holds h WHERE h.source = message_sends.source))`,
    params,
  );
  // Nothing returned (DuckDB's RETURNING costs more than the update): every row moved, as a rule; when
  // some did not, a read says which did — stamped by this statement (`updated_at`) with its target
  // status and, but for a retry, this claimant.
  if (changed === moves.length) return new Map(moves.map((m) => [m.key, m.to]));
  const keys = [...new Set(moves.map((m) => m.key))];
  const rows = await db.query<{
    send_key: string;
    status: string;
    claimed_by: string | null;
    updated_at: Date;
  }>(
    `SELECT send_key, status, claimed_by, updated_at FROM message_sends
     WHERE send_key IN (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
    keys,
  );
  const now_ = now.getTime();
  const byKey = new Map(rows.map((r) => [r.send_key, r]));
  const moved = new Map<string, string>();
  for (const m of moves) {
    const r = byKey.get(m.key);
    if (!r || r.status !== m.to || r.updated_at.getTime() !== now_) continue;
    if (m.to !== 'queued' && r.claimed_by !== claimant) continue;
    moved.set(m.key, m.to);
  }
  return moved;
}

/** A provider's acceptance of a handed-over message, stamped before its status moves to `sent`. */
export interface SendAnswer {
  key: string;
  providerId: string | null;
  address: string;
  locale: string;
}

/**
 * The deliverer's light write, one statement touching no indexed column and returning nothing (DuckDB's
 * RETURNING costs more than the update): hand-overs (`handed_at` stamped, if the row is still
 * `sending` and claimed by `claimant`) and acceptances (`answered_at`, the provider's id, the address
 * and locale used: a restart finishes such a row as `sent`). Returns the keys handed over; only when
 * fewer rows changed than asked does a read say which.
 */
export async function stampSends(
  db: Queryable,
  dialect: Dialect,
  now: Date,
  claimant: string,
  handOvers: readonly string[],
  answers: readonly SendAnswer[],
): Promise<Set<string>> {
  handOvers = [...new Set(handOvers)];
  if (handOvers.length + answers.length === 0) return new Set();
  const params: SqlValue[] = [now, claimant];
  const values = valuesList(params, [
    ...handOvers.map((k) => [k, 1, null, null, null]),
    ...answers.map((a) => [a.key, 0, a.providerId, a.address, a.locale]),
  ]);
  const changed = await db.exec(
    `UPDATE message_sends
     SET handed_at = CASE WHEN CAST(v.v_hand AS INTEGER) = 1 THEN COALESCE(handed_at, $1::timestamp) ELSE handed_at END,
         answered_at = CASE WHEN CAST(v.v_hand AS INTEGER) = 0 THEN $1::timestamp ELSE answered_at END,
         provider_id = CASE WHEN CAST(v.v_hand AS INTEGER) = 0 THEN CAST(v.v_provider_id AS TEXT) ELSE provider_id END,
         address = COALESCE(CAST(v.v_address AS TEXT), address),
         locale = COALESCE(CAST(v.v_locale AS TEXT), locale)
     ${dialect.updateFromValues('message_sends', 'send_key', values, ['v_key', 'v_hand', 'v_provider_id', 'v_address', 'v_locale'], 'v_key')}
       AND message_sends.status = 'sending' AND message_sends.claimed_by = CAST($2 AS TEXT)`,
    params,
  );
  if (changed === handOvers.length + answers.length || handOvers.length === 0) return new Set(handOvers);
  const rows = await db.query<{ send_key: string }>(
    `SELECT send_key FROM message_sends
     WHERE send_key IN (${handOvers.map((_, i) => `$${i + 2}`).join(', ')})
       AND status = 'sending' AND claimed_by = $1 AND handed_at IS NOT NULL`,
    [claimant, ...handOvers],
  );
  return new Set(rows.map((r) => r.send_key));
}

/**
 * Rows left `sending` by a deliverer that stopped (claimed before `claimsBefore` / handed over before
 * `handedBefore`):
 * - accepted by the provider (`answered_at`) but not yet moved: `sent`;
 * - claimed but never handed over (no `handed_at`): queued again, the attempt not counted — the
 *   provider never saw them;
 * - handed over, no answer recorded: on a channel whose provider deduplicates by key, queued again;
 *   otherwise `unknown` — the provider may or may not have taken them, and resending could double them.
 */
export async function recoverStale(
  tx: Queryable,
  now: Date,
  stale: { claimsBefore: Date; handedBefore: Date },
  idempotentChannels: readonly string[],
): Promise<{ requeued: number; unknown: number; sent: number }> {
  const list = idempotentChannels.map((c) => `'${c.replace(/'/g, "''")}'`).join(', ') || `''`;
  const sent = await tx.exec(
    `UPDATE message_sends SET status = 'sent', reason = NULL, updated_at = $1::timestamp
     WHERE status = 'sending' AND answered_at IS NOT NULL AND updated_at <= $2::timestamp`,
    [now, stale.claimsBefore],
  );
  const reclaimed = await tx.exec(
    `UPDATE message_sends SET status = 'queued', not_before = $1::timestamp, updated_at = $1::timestamp,
            attempts = GREATEST(attempts - 1, 0), claimed_by = NULL,
            reason = 'queued again: claimed by a sender that stopped before handing it over'
     WHERE status = 'sending' AND handed_at IS NULL AND updated_at <= $2::timestamp`,
    [now, stale.claimsBefore],
  );
  const requeued = await tx.exec(
    `UPDATE message_sends SET status = 'queued', not_before = $1::timestamp, updated_at = $1::timestamp,
            claimed_by = NULL, handed_at = NULL,
            reason = 'requeued after the sender stopped (the provider deduplicates by key)'
     WHERE status = 'sending' AND answered_at IS NULL AND handed_at <= $2::timestamp AND channel IN (${list})`,
    [now, stale.handedBefore],
  );
  const unknown = await tx.exec(
    `UPDATE message_sends SET status = 'unknown', updated_at = $1::timestamp,
            reason = 'the sender stopped while the provider had this message: not resent (it may have been delivered)'
     WHERE status = 'sending' AND answered_at IS NULL AND handed_at <= $2::timestamp AND channel NOT IN (${list})`,
    [now, stale.handedBefore],
  );
  return { requeued: reclaimed + requeued, unknown, sent };
}

export async function suppress(
  tx: Queryable,
  rows: readonly { channel: string; address: string; reason: string; source: string }[],
  now: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const params: SqlValue[] = [now];
  const values = valuesList(
    params,
    rows.map((r) => [r.channel, r.address, r.reason, r.source]),
  );
  return tx.exec(
    `INSERT INTO suppressions (channel, address, reason, source, created_at)
     SELECT v.channel, v.address, v.reason, v.source, $1::timestamp FROM (VALUES ${values}) AS v(channel, address, reason, source)
     ON CONFLICT DO NOTHING`,
    params,
  );
}

export interface SendDbRow {
  send_key: string;
  customer_id: number;
  external_id: string;
  channel: string;
  kind: string;
  source: string;
  step: string;
  occurrence: string;
  template: string;
  template_version: number;
  status: string;
  reason: string | null;
  address: string | null;
  locale: string | null;
  attempts: number;
  provider_id: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export async function sendByKey(db: Queryable, key: string): Promise<SendDbRow | undefined> {
  const [r] = await db.query<SendDbRow & Record<string, unknown>>(
    `SELECT s.*, c.external_id FROM message_sends s JOIN customers c ON c.customer_id = s.customer_id
     WHERE s.send_key = $1`,
    [key],
  );
  return r;
}

export async function listSends(
  db: Queryable,
  f: {
    source?: string | undefined;
    status?: string | undefined;
    customer?: string | undefined;
    afterKey?: string | undefined;
    limit: number;
  },
): Promise<SendDbRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.source !== undefined) where.push(`s.source = $${params.push(f.source)}`);
  if (f.status !== undefined) where.push(`s.status = $${params.push(f.status)}`);
  if (f.customer !== undefined) where.push(`c.external_id = $${params.push(f.customer)}`);
  if (f.afterKey !== undefined) where.push(`s.send_key > $${params.push(f.afterKey)}`);
  return db.query<SendDbRow & Record<string, unknown>>(
    `SELECT s.send_key, s.customer_id, c.external_id, s.channel, s.kind, s.source, s.step, s.occurrence, s.template,
            s.template_version, s.status, s.reason, s.address, s.locale, s.attempts, s.provider_id, s.created_at, s.sent_at
     FROM message_sends s JOIN customers c ON c.customer_id = s.customer_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.send_key LIMIT ${Math.max(1, Math.floor(f.limit))}`,
    params,
  );
}

export async function sendCounts(
  db: Queryable,
  source: string | undefined,
): Promise<{ status: string; n: number }[]> {
  return db.query<{ status: string; n: number }>(
    `SELECT status, CAST(COUNT(*) AS INTEGER) AS n FROM message_sends ${source ? 'WHERE source = $1' : ''}
     GROUP BY status ORDER BY status`,
    source ? [source] : [],
  );
}

/** The secret that signs unsubscribe and preference links: made once per store, kept in settings. */
export async function linkSecret(db: Queryable, fresh: string): Promise<string> {
  // Read first: every link and callback asks for it, and only the first ever needs to write.
  const stored = await readSetting(db, 'link_secret');
  if (stored !== undefined) return stored;
  await db.exec(`INSERT INTO settings (key, value) VALUES ('link_secret', $1) ON CONFLICT DO NOTHING`, [
    fresh,
  ]);
  return (await readSetting(db, 'link_secret')) ?? fresh;
}

export async function setMessengerChat(tx: Queryable, customerId: number, chatId: string, now: Date) {
  await tx.exec(
    `INSERT INTO messenger_chats (customer_id, chat_id, linked_at) VALUES ($1, $2, $3::timestamp)
     ON CONFLICT (customer_id) DO UPDATE SET chat_id = EXCLUDED.chat_id, linked_at = EXCLUDED.linked_at`,
    [customerId, chatId, now],
  );
}

/** Records a delivery report on the send with this provider id (or key) on a channel; returns its row. */
export async function recordDelivery(
  tx: Queryable,
  r: { channel: string; providerId: string; key: string | null; delivery: string; now: Date },
): Promise<{ send_key: string; customer_id: number; address: string | null } | undefined> {
  const [row] = await tx.query<{ send_key: string; customer_id: number; address: string | null }>(
    `UPDATE message_sends SET delivery = $1, updated_at = $2::timestamp
     WHERE channel = $3 AND ${r.key ? 'send_key = $4' : 'provider_id = $4'}
     RETURNING send_key, customer_id, address`,
    [r.delivery, r.now, r.channel, r.key ?? r.providerId],
  );
  return row;
}

/** Customers whose phone is this number (E.164). */
export async function customersByPhone(
  db: Queryable,
  phone: string,
): Promise<{ customer_id: number; external_id: string }[]> {
  return db.query<{ customer_id: number; external_id: string }>(
    `SELECT customer_id, external_id FROM customers WHERE phone = $1 AND erased_at IS NULL ORDER BY customer_id`,
    [phone],
  );
}

/** Customers whose connected messenger chat is this one. */
export async function customersByChat(
  db: Queryable,
  chatId: string,
): Promise<{ customer_id: number; external_id: string }[]> {
  return db.query<{ customer_id: number; external_id: string }>(
    `SELECT c.customer_id, c.external_id FROM messenger_chats m JOIN customers c ON c.customer_id = m.customer_id
     WHERE m.chat_id = $1 ORDER BY c.customer_id`,
    [chatId],
  );
}

/** A settings row of this module (`messaging_policy`, `channels`); undefined when never set. */
export async function readSetting(db: Queryable, key: string): Promise<string | undefined> {
  const [r] = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = $1`, [key]);
  return r?.value;
}

export async function writeSetting(db: Queryable, key: string, value: string): Promise<void> {
  await db.exec(
    `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [key, value],
  );
}

/** What a template preview knows of a customer. */
export async function previewCustomer(db: Queryable, externalId: string) {
  const [r] = await db.query<{
    external_id: string;
    email: string | null;
    phone: string | null;
    first_name: string | null;
    last_name: string | null;
    locale: string | null;
  }>(
    `SELECT external_id, email, phone, first_name, last_name, locale FROM customers
     WHERE customer_id = ${customerIdSql('$1')}`,
    [externalId],
  );
  return r;
}

export async function externalIdOf(db: Queryable, customerId: number): Promise<string | undefined> {
  const [r] = await db.query<{ external_id: string }>(
    `SELECT external_id FROM customers WHERE customer_id = $1`,
    [customerId],
  );
  return r?.external_id;
}

/** An operator's decision on `unknown` rows: queue them again, or end them as rejected. */
export async function resolveUnknown(
  tx: Queryable,
  now: Date,
  action: 'resend' | 'drop',
  source: string | undefined,
): Promise<number> {
  const set =
    action === 'resend'
      ? `status = 'queued', not_before = $1::timestamp, claimed_by = NULL, handed_at = NULL, answered_at = NULL, reason = 'resent by an operator after a crash (may double a delivered message)'`
      : `status = 'rejected', reason = 'dropped by an operator after a crash'`;
  return tx.exec(
    `UPDATE message_sends SET ${set}, updated_at = $1::timestamp
     WHERE status = 'unknown' ${source !== undefined ? 'AND source = $2' : ''}`,
    source !== undefined ? [now, source] : [now],
  );
}

/**
 * Erase hook: the customer's message addresses blanked (the send ledger stays, as anonymous facts)
 * and their messenger chat removed.
 */
export async function eraseCustomerMessaging(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`UPDATE message_sends SET address = NULL WHERE customer_id = $1`, [customerId]);
  await tx.exec(`DELETE FROM messenger_chats WHERE customer_id = $1`, [customerId]);
  // What they opened and clicked is behaviour about a person: gone with them.
  await tx.exec(`DELETE FROM message_events WHERE customer_id = $1`, [customerId]);
  // Double opt-in requests stay (when and how consent was asked) without their proofs.
  await tx.exec(
    `UPDATE consent_requests SET ip = NULL, user_agent = NULL, form_text = NULL WHERE customer_id = $1`,
    [customerId],
  );
}

/**
 * Merge hook: the merged customers' sends and double opt-in requests become the survivor's (sends count
 * towards its frequency cap; their keys keep the merged customer's id). The survivor keeps its messenger chat; without one it
 * takes the most recently connected chat of the merged customers; the others are dropped.
 */
export async function mergeCustomerMessaging(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  const from = sqlIds(fromIds);
  await tx.exec(`UPDATE message_sends SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(`UPDATE message_events SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  // A merged customer's pending confirmation, once clicked, grants the survivor.
  await tx.exec(`UPDATE consent_requests SET customer_id = $1 WHERE customer_id IN (${from})`, [intoId]);
  await tx.exec(
    `INSERT INTO messenger_chats (customer_id, chat_id, linked_at)
     SELECT $1, chat_id, linked_at FROM messenger_chats
     WHERE customer_id IN (${from}) AND NOT EXISTS (SELECT 1 FROM messenger_chats m WHERE m.customer_id = $1)
     ORDER BY linked_at DESC, customer_id LIMIT 1`,
    [intoId],
  );
  await tx.exec(`DELETE FROM messenger_chats WHERE customer_id IN (${from})`);
}

// ------------------------------------------------------------------------------------------------
// Engagement and holds (migration 23)

/**
 * Records an open, a click or an unsubscribe of a send: the first one inserts its row, later ones
 * count and move `last_at`. Nothing for a key that is not in the ledger. True when a row was written.
 */
export async function recordEngagement(
  db: Queryable,
  e: { key: string; kind: 'open' | 'click' | 'unsubscribe'; target: string; at: Date },
): Promise<boolean> {
  const n = await db.exec(
    `INSERT INTO message_events (send_key, customer_id, kind, target, first_at, last_at, count)
     SELECT s.send_key, s.customer_id, $2, $3, $4::timestamp, $4::timestamp, 1 FROM message_sends s WHERE s.send_key = $1
     ON CONFLICT (send_key, kind, target) DO UPDATE
       SET last_at = excluded.last_at, count = message_events.count + 1`,
    [e.key, e.kind, e.target, e.at],
  );
  return n > 0;
}

/** Holds a source's queued messages (idempotent). */
export async function holdSource(tx: Queryable, source: string, at: Date, reason: string): Promise<void> {
  await tx.exec(
    `INSERT INTO send_holds (source, held_at, reason) VALUES ($1, $2::timestamp, $3) ON CONFLICT (source) DO NOTHING`,
    [source, at, reason],
  );
}

export async function releaseSource(tx: Queryable, source: string): Promise<void> {
  await tx.exec(`DELETE FROM send_holds WHERE source = $1`, [source]);
}

/** Ends a source's messages not yet handed to a provider: `queued` → `skipped` with the reason. */
export async function dropQueued(tx: Queryable, source: string, at: Date, reason: string): Promise<number> {
  return tx.exec(
    `UPDATE message_sends SET status = 'skipped', reason = $3, updated_at = $2::timestamp
     WHERE source = $1 AND status = 'queued'`,
    [source, at, reason],
  );
}

/** Messages of a source not yet finished (`queued` or `sending`). */
export async function pendingOf(db: Queryable, source: string): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM message_sends WHERE source = $1 AND status IN ('queued', 'sending')`,
    [source],
  );
  return r?.n ?? 0;
}

// ------------------------------------------------------------------------------------------------
// The customer timeline

const ENGAGED: Record<string, string> = {
  'message.open': 'opened',
  'message.click': 'clicked',
  'message.unsubscribe': 'unsubscribed from',
};

/**
 * Timeline source: the customer's messages (`message`: every send in the ledger — sent, skipped,
 * rejected, queued — with channel, template and status, at the sending time or, unsent, when it was
 * queued) and what they did with them (`message.open`, `message.click`, `message.unsubscribe`: the
 * first time, with the count). Addresses are left out.
 */
export async function messageTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const parts: string[] = [];
  if (q.kinds.includes('message'))
    parts.push(`SELECT 'message' AS kind, s.send_key AS ref, COALESCE(s.sent_at, s.created_at) AS at, s.send_key, s.channel,
        s.template, s.template_version, s.kind AS message_kind, s.source, s.status, s.reason, s.delivery,
        CAST(NULL AS TEXT) AS target, CAST(NULL AS INTEGER) AS count, CAST(NULL AS TIMESTAMP) AS last_at
      FROM message_sends s WHERE s.customer_id = $1`);
  const engaged = q.kinds.filter((k) => k in ENGAGED).map((k) => `'${k.slice('message.'.length)}'`);
  if (engaged.length)
    parts.push(`SELECT 'message.' || e.kind AS kind, e.send_key || ' ' || e.target AS ref, e.first_at AS at,
        e.send_key, s.channel, s.template, s.template_version, s.kind AS message_kind, s.source, s.status, s.reason,
        s.delivery, e.target AS target, e.count AS count, e.last_at AS last_at
      FROM message_events e JOIN message_sends s ON s.send_key = e.send_key
      WHERE e.customer_id = $1 AND e.kind IN (${engaged.join(', ')})`);
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    kind: string;
    ref: string;
    at: Date;
    send_key: string;
    channel: string;
    template: string;
    template_version: number;
    message_kind: string;
    source: string;
    status: string;
    reason: string | null;
    delivery: string | null;
    target: string | null;
    count: number | null;
    last_at: Date | null;
  }>(`SELECT * FROM (${parts.join(' UNION ALL ')}) t ${newestFirst(q, params)}`, params);
  return rows.map((r) => {
    const message = {
      channel: r.channel,
      template: r.template,
      templateVersion: r.template_version,
      kind: r.message_kind,
      source: r.source,
    };
    if (r.kind === 'message')
      return {
        at: r.at,
        kind: r.kind,
        ref: r.ref,
        title: `${r.channel} "${r.template}": ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
        detail: r.status,
        properties: { ...message, status: r.status, reason: r.reason, delivery: r.delivery },
      };
    return {
      at: r.at,
      kind: r.kind,
      ref: r.ref,
      title: `${ENGAGED[r.kind] ?? r.kind} ${r.channel} "${r.template}"${r.kind === 'message.click' && r.target ? `: ${r.target}` : ''}`,
      detail: r.target || null,
      properties: {
        ...message,
        sendKey: r.send_key,
        target: r.target,
        count: r.count,
        lastAt: r.last_at?.toISOString() ?? null,
      },
    };
  });
}
