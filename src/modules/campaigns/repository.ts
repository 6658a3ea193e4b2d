import type { Queryable, SqlValue } from '../../storage/port.js';

/** The campaigns module's SQL (docs/campaigns.md). */

export type CampaignRow = {
  campaign_id: number;
  name: string;
  segment: string | null;
  rule: string | null;
  channel: string;
  holdout_share: number;
  window_days: number;
  status: 'draft' | 'sending' | 'done' | 'cancelled';
  created_at: Date;
  created_by: string | null;
  launched_at: Date | null;
};

const COLUMNS = `campaign_id, name, segment, rule, channel, holdout_share, window_days, status, created_at, created_by,
  launched_at`;

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
    now: Date;
    by: string | null;
  },
): Promise<number | null> {
  const rows = await tx.query<{ campaign_id: number }>(
    `INSERT INTO campaigns (name, segment, rule, channel, holdout_share, window_days, status, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7::timestamp, $8)
     ON CONFLICT (name) DO NOTHING RETURNING campaign_id`,
    [c.name, c.segment, c.rule, c.channel, c.holdoutShare, c.windowDays, c.now, c.by],
  );
  return rows[0]?.campaign_id ?? null;
}

export async function insertVariant(
  tx: Queryable,
  v: { campaignId: number; key: string; template: string; share: number },
): Promise<void> {
  await tx.exec(
    `INSERT INTO campaign_variants (campaign_id, variant, template, share) VALUES ($1, $2, $3, $4)`,
    [v.campaignId, v.key, v.template, v.share],
  );
}

export async function campaignByName(db: Queryable, name: string): Promise<CampaignRow | null> {
  const rows = await db.query<CampaignRow>(`SELECT ${COLUMNS} FROM campaigns WHERE name = $1`, [name]);
  return rows[0] ?? null;
}

export async function listCampaigns(db: Queryable): Promise<CampaignRow[]> {
  return db.query<CampaignRow>(`SELECT ${COLUMNS} FROM campaigns ORDER BY campaign_id DESC`);
}

export async function variantsOf(db: Queryable, campaignId: number) {
  return db.query<{ variant: string; template: string; share: number }>(
    `SELECT variant, template, share FROM campaign_variants WHERE campaign_id = $1 ORDER BY variant`,
    [campaignId],
  );
}

export async function setStatus(
  tx: Queryable,
  campaignId: number,
  status: CampaignRow['status'],
  now: Date,
): Promise<void> {
  await tx.exec(
    `UPDATE campaigns SET status = $2,
       launched_at = CASE WHEN $2 = 'sending' THEN COALESCE(launched_at, $3::timestamp) ELSE launched_at END,
       cancelled_at = CASE WHEN $2 = 'cancelled' THEN $3::timestamp ELSE cancelled_at END
     WHERE campaign_id = $1`,
    [campaignId, status, now],
  );
}

export async function recipientCount(db: Queryable, campaignId: number): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM campaign_recipients WHERE campaign_id = $1`,
    [campaignId],
  );
  return r?.n ?? 0;
}

/** Internal ids of customers by shop id. */
export async function customerIdsOf(
  db: Queryable,
  externalIds: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < externalIds.length; i += 1000) {
    const chunk = externalIds.slice(i, i + 1000);
    const rows = await db.query<{ customer_id: number; external_id: string }>(
      `SELECT customer_id, external_id FROM customers WHERE external_id IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
      [...chunk],
    );
    for (const r of rows) out.set(r.external_id, r.customer_id);
  }
  return out;
}

/** Writes the assignments (a customer once per campaign: the primary key). */
export async function insertRecipients(
  tx: Queryable,
  campaignId: number,
  rows: readonly { customerId: number; arm: string }[],
  now: Date,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const params: SqlValue[] = [campaignId, now];
    const values = rows
      .slice(i, i + 1000)
      .map((r) => {
        params.push(r.customerId, r.arm);
        return `($${params.length - 1}::bigint, $${params.length}::text)`;
      })
      .join(', ');
    await tx.exec(
      `INSERT INTO campaign_recipients (campaign_id, customer_id, arm, assigned_at)
       SELECT $1, v.c, v.a, $2::timestamp FROM (VALUES ${values}) AS v(c, a)
       ON CONFLICT (campaign_id, customer_id) DO NOTHING`,
      params,
    );
  }
}

export async function recipientsOf(db: Queryable, campaignId: number) {
  return db.query<{ customer_id: number; external_id: string; arm: string }>(
    `SELECT r.customer_id, c.external_id, r.arm FROM campaign_recipients r
     JOIN customers c ON c.customer_id = r.customer_id WHERE r.campaign_id = $1 ORDER BY r.customer_id`,
    [campaignId],
  );
}

/** Sale orders `o` in the currency `cur` (an SQL expression). */
const saleSql = (cur: string) =>
  `o.status IN ('paid', 'pending', 'refunded', 'partially_refunded') AND o.currency = ${cur}`;

/**
 * Net revenue of customer `c` in `(from, to]` as one SQL expression: sale orders in `cur` less their
 * refunds, by the order's time. The arguments are SQL expressions.
 */
const netRevenueSql = (
  c: string,
  cur: string,
  from: string,
  to: string,
) => `COALESCE((SELECT SUM(o.total_minor) FROM orders o
      WHERE o.customer_id = ${c} AND ${saleSql(cur)} AND o.ordered_at > ${from} AND o.ordered_at <= ${to}), 0)
    - COALESCE((SELECT SUM(f.amount_minor) FROM refunds f JOIN orders o ON o.order_id = f.order_id
      WHERE o.customer_id = ${c} AND ${saleSql(cur)} AND o.ordered_at > ${from} AND o.ordered_at <= ${to}), 0)`;

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

export async function eraseCustomerCampaigns(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`DELETE FROM campaign_recipients WHERE customer_id = $1`, [customerId]);
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
}
