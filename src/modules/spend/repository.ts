import type { Queryable, SqlValue } from '../../storage/port.js';

export interface SpendDbRow {
  spent_on: Date;
  channel: string;
  campaign: string;
  amount_minor: number;
  currency: string;
}

/** Spend rows in (day, channel, campaign) order, keyset-paginated. */
export async function listSpend(
  db: Queryable,
  f: {
    after?: { day: Date; channel: string; campaign: string };
    limit: number;
    from?: Date;
    to?: Date;
    channel?: string;
  },
): Promise<SpendDbRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const p = (v: SqlValue) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.after)
    where.push(
      `(spent_on > CAST(${p(f.after.day)} AS DATE) OR (spent_on = CAST($${params.length} AS DATE) AND (channel > ${p(f.after.channel)} OR (channel = $${params.length} AND campaign > ${p(f.after.campaign)}))))`,
    );
  if (f.from) where.push(`spent_on >= CAST(${p(f.from)} AS DATE)`);
  if (f.to) where.push(`spent_on <= CAST(${p(f.to)} AS DATE)`);
  if (f.channel) where.push(`channel = ${p(f.channel.toLowerCase())}`);
  const limit = p(f.limit);
  return db.query<SpendDbRow & Record<string, unknown>>(
    `SELECT spent_on, channel, campaign, amount_minor, currency FROM marketing_spend
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY spent_on, channel, campaign LIMIT ${limit}`,
    params,
  );
}
