import type { Dialect, Queryable, SqlValue } from '../../storage/port.js';
import { netRevenueSql, saleSql } from '../orders/revenueSql.js';

/** The campaigns module's SQL (docs/campaigns.md). */

export type CampaignRow = {
  campaign_id: number;
  name: string;
  segment: string | null;
  rule: string | null;
  channel: string;
  holdout_share: number;
  window_days: number;
  click_days: number;
  stop_rule: string;
  schedule: string | null;
  status: 'draft' | 'scheduled' | 'sending' | 'paused' | 'done' | 'cancelled';
  send_at: Date | null;
  problem: string | null;
  created_at: Date;
  created_by: string | null;
  launched_at: Date | null;
  paused_at: Date | null;
  done_at: Date | null;
};

const COLUMNS = `campaign_id, name, segment, rule, channel, holdout_share, window_days, click_days, stop_rule, schedule,
  status, send_at, problem, created_at, created_by, launched_at, paused_at, done_at`;

/** Inserts a draft; null when the name is taken. */
export async function insertCampaign(
  tx: Queryable,
  c: {
    name: string;
    segment: string | null;
    rule: string | null;
    channel: string;
    holdoutShare: number;
    windowDays: number;
    clickDays: number;
    stopRule: string;
    schedule: string | null;
    now: Date;
    by: string | null;
  },
): Promise<number | null> {
  const rows = await tx.query<{ campaign_id: number }>(
    `INSERT INTO campaigns (name, segment, rule, channel, holdout_share, window_days, click_days, stop_rule, schedule,
       status, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10::timestamp, $11)
     ON CONFLICT (name) DO NOTHING RETURNING campaign_id`,
    [
      c.name,
      c.segment,
      c.rule,
      c.channel,
      c.holdoutShare,
      c.windowDays,
      c.clickDays,
      c.stopRule,
      c.schedule,
      c.now,
      c.by,
    ],
  );
  return rows[0]?.campaign_id ?? null;
}

export async function insertVariant(
  tx: Queryable,
  v: {
    campaignId: number;
    key: string;
    template: string;
    share: number;
    offer: string | null;
    schedule: string | null;
  },
): Promise<void> {
  await tx.exec(
    `INSERT INTO campaign_variants (campaign_id, variant, template, share, offer, schedule) VALUES ($1, $2, $3, $4, $5, $6)`,
    [v.campaignId, v.key, v.template, v.share, v.offer, v.schedule],
  );
}

export async function campaignByName(db: Queryable, name: string): Promise<CampaignRow | null> {
  const rows = await db.query<CampaignRow>(`SELECT ${COLUMNS} FROM campaigns WHERE name = $1`, [name]);
  return rows[0] ?? null;
}

export async function listCampaigns(db: Queryable): Promise<CampaignRow[]> {
  return db.query<CampaignRow>(`SELECT ${COLUMNS} FROM campaigns ORDER BY campaign_id DESC`);
}

export type VariantRow = {
  variant: string;
  template: string;
  share: number;
  offer: string | null;
  schedule: string | null;
};

export async function variantsOf(db: Queryable, campaignId: number): Promise<VariantRow[]> {
  return db.query<VariantRow>(
    `SELECT variant, template, share, offer, schedule FROM campaign_variants WHERE campaign_id = $1 ORDER BY variant`,
    [campaignId],
  );
}

// Status moves: each a conditional UPDATE, so of two requests at once exactly one makes the move (the
// other finds the status changed and answers from what it finds).

/** draft → scheduled, with the instant the audience is to be assigned. */
export async function markScheduled(tx: Queryable, id: number, sendAt: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE campaigns SET status = 'scheduled', send_at = $2::timestamp WHERE campaign_id = $1 AND status = 'draft'
     RETURNING campaign_id`,
    [id, sendAt],
  );
  return r.length > 0;
}

/** draft | scheduled (not yet assigned) → sending: the claim of the one assignment. */
export async function claimLaunch(tx: Queryable, id: number, now: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE campaigns SET status = 'sending', launched_at = $2::timestamp, send_at = COALESCE(send_at, $2::timestamp),
       problem = NULL
     WHERE campaign_id = $1 AND status IN ('draft', 'scheduled') AND launched_at IS NULL RETURNING campaign_id`,
    [id, now],
  );
  return r.length > 0;
}

/** scheduled | sending → paused (with the problem, when the send stopped by itself). */
export async function markPaused(
  tx: Queryable,
  id: number,
  now: Date,
  problem: string | null,
): Promise<boolean> {
  const r = await tx.query(
    `UPDATE campaigns SET status = 'paused', paused_at = $2::timestamp, problem = $3
     WHERE campaign_id = $1 AND status IN ('scheduled', 'sending') RETURNING campaign_id`,
    [id, now, problem],
  );
  return r.length > 0;
}

/** paused → scheduled (never assigned) or sending. */
export async function markResumed(tx: Queryable, id: number): Promise<boolean> {
  const r = await tx.query(
    `UPDATE campaigns SET status = CASE WHEN launched_at IS NULL THEN 'scheduled' ELSE 'sending' END,
       paused_at = NULL, problem = NULL
     WHERE campaign_id = $1 AND status = 'paused' RETURNING campaign_id`,
    [id],
  );
  return r.length > 0;
}

export async function markCancelled(tx: Queryable, id: number, now: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE campaigns SET status = 'cancelled', cancelled_at = $2::timestamp
     WHERE campaign_id = $1 AND status NOT IN ('done', 'cancelled') RETURNING campaign_id`,
    [id, now],
  );
  return r.length > 0;
}

export async function markDone(tx: Queryable, id: number, now: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE campaigns SET status = 'done', done_at = $2::timestamp WHERE campaign_id = $1 AND status = 'sending'
     RETURNING campaign_id`,
    [id, now],
  );
  return r.length > 0;
}

/** Scheduled campaigns whose assignment is due. */
export async function dueScheduled(db: Queryable, now: Date): Promise<CampaignRow[]> {
  return db.query<CampaignRow>(
    `SELECT ${COLUMNS} FROM campaigns WHERE status = 'scheduled' AND send_at <= $1::timestamp ORDER BY send_at, campaign_id`,
    [now],
  );
}

export async function campaignsSending(db: Queryable): Promise<CampaignRow[]> {
  return db.query<CampaignRow>(
    `SELECT ${COLUMNS} FROM campaigns WHERE status = 'sending' ORDER BY campaign_id`,
  );
}

/** Each customer's own time zone (null: none recorded). */
export async function timeZonesOf(
  db: Queryable,
  customerIds: readonly number[],
): Promise<Map<number, string | null>> {
  const out = new Map<number, string | null>();
  for (let i = 0; i < customerIds.length; i += 1000) {
    const chunk = customerIds.slice(i, i + 1000);
    const rows = await db.query<{ customer_id: number; time_zone: string | null }>(
      `SELECT customer_id, time_zone FROM customers WHERE customer_id IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
      [...chunk],
    );
    for (const r of rows) out.set(r.customer_id, r.time_zone);
  }
  return out;
}

// ---- discount codes ----

/**
 * Inserts codes; a code already taken (by any campaign) is left alone. Returns the codes written, so
 * the caller can tell which were new.
 */
export async function insertCodes(
  tx: Queryable,
  rows: readonly {
    code: string;
    campaignId: number;
    variant: string;
    customerId: number | null;
    expiresAt: Date | null;
    importedAt: Date | null;
    assignedAt: Date | null;
  }[],
): Promise<Set<string>> {
  const written = new Set<string>();
  for (let i = 0; i < rows.length; i += 500) {
    const params: SqlValue[] = [];
    const values = rows
      .slice(i, i + 500)
      .map((r) => {
        params.push(r.code, r.campaignId, r.variant, r.customerId, r.expiresAt, r.importedAt, r.assignedAt);
        const n = params.length;
        return `($${n - 6}, CAST($${n - 5} AS BIGINT), $${n - 4}, CAST($${n - 3} AS BIGINT), CAST($${n - 2} AS TIMESTAMP), CAST($${n - 1} AS TIMESTAMP), CAST($${n} AS TIMESTAMP))`;
      })
      .join(', ');
    const got = await tx.query<{ code: string }>(
      `INSERT INTO campaign_codes (code, campaign_id, variant, customer_id, expires_at, imported_at, assigned_at)
       VALUES ${values} ON CONFLICT (code) DO NOTHING RETURNING code`,
      params,
    );
    for (const r of got) written.add(r.code);
  }
  return written;
}

/** Which of these codes exist already (any campaign). */
export async function existingCodes(db: Queryable, codes: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < codes.length; i += 1000) {
    const chunk = codes.slice(i, i + 1000);
    const rows = await db.query<{ code: string }>(
      `SELECT code FROM campaign_codes WHERE code IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
      [...chunk],
    );
    for (const r of rows) out.add(r.code);
  }
  return out;
}

/** A variant's imported codes nobody has yet, in the order they were imported (then by code). */
export async function unassignedCodes(db: Queryable, campaignId: number, variant: string): Promise<string[]> {
  const rows = await db.query<{ code: string }>(
    `SELECT code FROM campaign_codes WHERE campaign_id = $1 AND variant = $2 AND assigned_at IS NULL
     ORDER BY imported_at, code`,
    [campaignId, variant],
  );
  return rows.map((r) => r.code);
}

export async function deleteCodes(tx: Queryable, codes: readonly string[]): Promise<void> {
  for (let i = 0; i < codes.length; i += 1000) {
    const chunk = codes.slice(i, i + 1000);
    await tx.exec(
      `DELETE FROM campaign_codes WHERE code IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
      [...chunk],
    );
  }
}

/** Codes per variant: imported (all) and given to a recipient. */
export async function codeCounts(db: Queryable, campaignId: number) {
  return db.query<{ variant: string; total: number; assigned: number }>(
    `SELECT variant, CAST(COUNT(*) AS INTEGER) AS total, CAST(COUNT(assigned_at) AS INTEGER) AS assigned
     FROM campaign_codes WHERE campaign_id = $1 GROUP BY variant ORDER BY variant`,
    [campaignId],
  );
}

/** Every code of a campaign with its recipient (for the shop's import). */
export async function codesOf(db: Queryable, campaignId: number) {
  return db.query<{ code: string; variant: string; customer: string | null; expires_at: Date | null }>(
    `SELECT k.code, k.variant, c.external_id AS customer, k.expires_at FROM campaign_codes k
     LEFT JOIN customers c ON c.customer_id = k.customer_id WHERE k.campaign_id = $1 ORDER BY k.variant, k.code`,
    [campaignId],
  );
}

export async function recipientCount(db: Queryable, campaignId: number): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM campaign_recipients WHERE campaign_id = $1`,
    [campaignId],
  );
  return r?.n ?? 0;
}

/**
 * Writes the assignments in one bulk load (COPY). Called once per campaign, inside the transaction that
 * claimed it: a customer twice in one campaign would break the primary key and roll everything back.
 */
export async function insertRecipients(
  tx: Queryable,
  campaignId: number,
  rows: readonly { customerId: number; arm: string }[],
  now: Date,
): Promise<void> {
  await tx.copyRows(
    'campaign_recipients',
    ['campaign_id', 'customer_id', 'arm', 'assigned_at'],
    rows.map((r) => [campaignId, r.customerId, r.arm, now]),
  );
}

export async function recipientsOf(db: Queryable, campaignId: number) {
  return db.query<{ customer_id: number; external_id: string; arm: string }>(
    `SELECT r.customer_id, c.external_id, r.arm FROM campaign_recipients r
     JOIN customers c ON c.customer_id = r.customer_id WHERE r.campaign_id = $1 ORDER BY r.customer_id`,
    [campaignId],
  );
}

/**
 * Each recipient's net revenue in the outcome window `(start, end]` and in the same length of time
 * before `start` (the CUPED covariate).
 */
export async function recipientRevenue(
  db: Queryable,
  o: { campaignId: number; currency: string; start: Date; end: Date; preStart: Date },
) {
  return db.query<{ customer_id: number; arm: string; revenue: number; pre: number; orders: number }>(
    `SELECT r.customer_id, r.arm,
       ${netRevenueSql('r.customer_id', '$2', '$3::timestamp', '$4::timestamp')} AS revenue,
       ${netRevenueSql('r.customer_id', '$2', '$5::timestamp', '$3::timestamp')} AS pre,
       (SELECT COUNT(*) FROM orders o WHERE o.customer_id = r.customer_id AND ${saleSql('$2')}
          AND o.ordered_at > $3::timestamp AND o.ordered_at <= $4::timestamp) AS orders
     FROM campaign_recipients r WHERE r.campaign_id = $1 ORDER BY r.customer_id`,
    [o.campaignId, o.currency, o.start, o.end, o.preStart],
  );
}

/** Net revenue per customer in `(from, to]`, for the customers of `customerIds`. */
export async function revenueOf(
  db: Queryable,
  o: { customerIds: readonly number[]; currency: string; from: Date; to: Date },
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < o.customerIds.length; i += 1000) {
    const chunk = o.customerIds.slice(i, i + 1000);
    const rows = await db.query<{ revenue: number }>(
      `SELECT ${netRevenueSql('c.customer_id', '$1', '$2::timestamp', '$3::timestamp')} AS revenue
       FROM customers c WHERE c.customer_id IN (${chunk.map((_, j) => `$${j + 4}`).join(', ')})`,
      [o.currency, o.from, o.to, ...chunk],
    );
    for (const r of rows) out.push(r.revenue);
  }
  return out;
}

/** The campaign's messages by variant (step) and status. */
export async function sendsByStep(db: Queryable, source: string) {
  return db.query<{ step: string; status: string; n: number }>(
    `SELECT step, status, COUNT(*) AS n FROM message_sends WHERE source = $1 GROUP BY step, status ORDER BY step, status`,
    [source],
  );
}

/**
 * What recipients did with the campaign's messages, per variant (step): sent, delivered (sent and no
 * bounce or failed delivery report), bounced, opened (the pixel, or a click: a click is an open whose
 * images were off), clicked, unsubscribed through the message's own link.
 */
export async function engagementBySteps(db: Queryable, source: string) {
  return db.query<{
    step: string;
    sent: number;
    delivered: number;
    bounced: number;
    opened: number;
    clicked: number;
    unsubscribed: number;
  }>(
    `SELECT s.step,
       CAST(COUNT(*) FILTER (WHERE s.status = 'sent') AS INTEGER) AS sent,
       CAST(COUNT(*) FILTER (WHERE s.status = 'sent' AND COALESCE(s.delivery, '') NOT LIKE 'bounced%'
                                 AND COALESCE(s.delivery, '') <> 'failed') AS INTEGER) AS delivered,
       CAST(COUNT(*) FILTER (WHERE s.delivery LIKE 'bounced%' OR s.delivery = 'failed') AS INTEGER) AS bounced,
       CAST(COUNT(*) FILTER (WHERE e.opened = 1) AS INTEGER) AS opened,
       CAST(COUNT(*) FILTER (WHERE e.clicked = 1) AS INTEGER) AS clicked,
       CAST(COUNT(*) FILTER (WHERE e.unsubscribed = 1) AS INTEGER) AS unsubscribed
     FROM message_sends s
     LEFT JOIN (
       SELECT send_key, MAX(CASE WHEN kind IN ('open', 'click') THEN 1 ELSE 0 END) AS opened,
              MAX(CASE WHEN kind = 'click' THEN 1 ELSE 0 END) AS clicked,
              MAX(CASE WHEN kind = 'unsubscribe' THEN 1 ELSE 0 END) AS unsubscribed
       FROM message_events WHERE send_key IN (SELECT send_key FROM message_sends WHERE source = $1)
       GROUP BY send_key
     ) e ON e.send_key = s.send_key
     WHERE s.source = $1 GROUP BY s.step ORDER BY s.step`,
    [source],
  );
}

/** An order's net amount (its total less its refunds), `o` aliased. */
const orderNetSql = `o.total_minor - COALESCE((SELECT SUM(f.amount_minor) FROM refunds f WHERE f.order_id = o.order_id), 0)`;

/**
 * Orders attributed by code, per arm: sale orders in `(start, end]` that used a code the campaign gave a
 * recipient (whoever placed the order: a code passed to a friend still came from the campaign), each
 * order once; their net amount.
 */
export async function attributedByCode(
  db: Queryable,
  o: { campaignId: number; currency: string; start: Date; end: Date },
) {
  return db.query<{ arm: string; orders: number; revenue: number }>(
    `SELECT x.arm, CAST(COUNT(*) AS INTEGER) AS orders, COALESCE(SUM(${orderNetSql}), 0) AS revenue
     FROM (
       SELECT d.order_id, MIN(r.arm) AS arm FROM campaign_codes k
       JOIN order_discount_codes d ON d.code = k.code
       JOIN campaign_recipients r ON r.campaign_id = k.campaign_id AND r.customer_id = k.customer_id
       WHERE k.campaign_id = $1 GROUP BY d.order_id
     ) x JOIN orders o ON o.order_id = x.order_id
     WHERE ${saleSql('$2')} AND o.ordered_at > $3::timestamp AND o.ordered_at <= $4::timestamp
     GROUP BY x.arm ORDER BY x.arm`,
    [o.campaignId, o.currency, o.start, o.end],
  );
}

/**
 * Orders attributed by click, per arm: a recipient's sale orders within `clickDays` after their first
 * click on the campaign's message (and inside `(start, end]`).
 */
export async function attributedByClick(
  db: Queryable,
  dialect: Dialect,
  o: { campaignId: number; source: string; currency: string; start: Date; end: Date; clickDays: number },
) {
  return db.query<{ arm: string; orders: number; revenue: number; clickers: number }>(
    `WITH clicks AS (
       SELECT e.customer_id, MIN(e.first_at) AS at FROM message_events e
       WHERE e.kind = 'click' AND e.send_key IN (SELECT send_key FROM message_sends WHERE source = $2)
       GROUP BY e.customer_id
     )
     SELECT r.arm, CAST(COUNT(o.order_id) AS INTEGER) AS orders, COALESCE(SUM(${orderNetSql}), 0) AS revenue,
            CAST(COUNT(DISTINCT k.customer_id) AS INTEGER) AS clickers
     FROM clicks k
     JOIN campaign_recipients r ON r.campaign_id = $1 AND r.customer_id = k.customer_id
     LEFT JOIN orders o ON o.customer_id = k.customer_id AND ${saleSql('$3')}
       AND o.ordered_at > k.at AND o.ordered_at > $4::timestamp AND o.ordered_at <= $5::timestamp
       AND ${dialect.epochSeconds('o.ordered_at')} <= ${dialect.epochSeconds('k.at')} + $6 * 86400
     GROUP BY r.arm ORDER BY r.arm`,
    [o.campaignId, o.source, o.currency, o.start, o.end, o.clickDays],
  );
}

export async function eraseCustomerCampaigns(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`DELETE FROM campaign_recipients WHERE customer_id = $1`, [customerId]);
  // The code stays the campaign's (an order may still use it), no longer tied to a person.
  await tx.exec(`UPDATE campaign_codes SET customer_id = NULL WHERE customer_id = $1`, [customerId]);
}

/** A merge keeps the survivor's assignment where both were assigned; otherwise moves the merged one's. */
export async function mergeCustomerCampaigns(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  if (fromIds.length === 0) return;
  const list = fromIds.map((_, i) => `$${i + 2}`).join(', ');
  await tx.exec(
    `DELETE FROM campaign_recipients WHERE customer_id IN (${list})
       AND campaign_id IN (SELECT campaign_id FROM campaign_recipients WHERE customer_id = $1)`,
    [intoId, ...fromIds],
  );
  // Of several merged customers in one campaign, the lowest id's assignment stays.
  const own = fromIds.map((_, i) => `$${i + 1}`).join(', ');
  await tx.exec(
    `DELETE FROM campaign_recipients WHERE customer_id IN (${own})
       AND EXISTS (SELECT 1 FROM campaign_recipients y WHERE y.campaign_id = campaign_recipients.campaign_id
         AND y.customer_id IN (${own}) AND y.customer_id < campaign_recipients.customer_id)`,
    [...fromIds],
  );
  await tx.exec(`UPDATE campaign_recipients SET customer_id = $1 WHERE customer_id IN (${list})`, [
    intoId,
    ...fromIds,
  ]);
  await tx.exec(`UPDATE campaign_codes SET customer_id = $1 WHERE customer_id IN (${list})`, [
    intoId,
    ...fromIds,
  ]);
}
