import type { Queryable } from '../../storage/port.js';

/** The SQL of the member's digital card (card.ts): what the card shows of the customer. */

export type CardHolderRow = {
  first_name: string | null;
  locale: string | null;
  time_zone: string | null;
  erased: boolean;
};

/** The card holder's first name, language and time zone (null each when unset), or null: no such customer. */
export async function cardHolder(db: Queryable, customerId: number): Promise<CardHolderRow | null> {
  const rows = await db.query<CardHolderRow>(
    `SELECT first_name, locale, time_zone, (erased_at IS NOT NULL) AS erased FROM customers WHERE customer_id = $1`,
    [customerId],
  );
  return rows[0] ?? null;
}
