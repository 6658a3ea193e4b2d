import type { Queryable } from '../../storage/port.js';

/**
 * Keys of the `settings` table (core migration 1). `currency` is also written by the first orders
 * import (imports/repository.ts) and read by the imports, the reports and the CLV module; `time_zone`
 * by the reports (reports/repository.ts `storeFacts`): keep the names. `store_name` is the store's
 * name (messages' `{{ store.name }}`), prefixed because the table also holds other modules' keys.
 */
export const SETTING_KEYS = {
  name: 'store_name',
  currency: 'currency',
  timeZone: 'time_zone',
  locale: 'locale',
  defaultMargin: 'default_margin',
  defaultDiscountRate: 'default_discount_rate',
  nonProductSkus: 'non_product_skus',
} as const;
export type SettingField = keyof typeof SETTING_KEYS;

/** The stored settings by field, as text (absent: not set; the list is JSON). */
export async function readSettings(db: Queryable): Promise<Partial<Record<SettingField, string>>> {
  const keys = Object.values(SETTING_KEYS);
  const rows = await db.query<{ key: string; value: string }>(
    `SELECT key, value FROM settings WHERE key IN (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
    keys,
  );
  const out: Partial<Record<SettingField, string>> = {};
  for (const [field, key] of Object.entries(SETTING_KEYS) as [SettingField, string][]) {
    const row = rows.find((r) => r.key === key);
    if (row) out[field] = row.value;
  }
  return out;
}

/** Sets one setting (insert or replace). */
export async function writeSetting(tx: Queryable, field: SettingField, value: string): Promise<void> {
  await tx.exec(
    `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [SETTING_KEYS[field], value],
  );
}

/** Unsets one setting (it answers its default again); nothing when it is not set. */
export async function deleteSetting(tx: Queryable, field: SettingField): Promise<void> {
  await tx.exec(`DELETE FROM settings WHERE key = $1`, [SETTING_KEYS[field]]);
}

/** Orders per currency other than `currency` (what a currency change would leave out of every report). */
export async function ordersInOtherCurrencies(
  db: Queryable,
  currency: string,
): Promise<{ currency: string; orders: number }[]> {
  return db.query<{ currency: string; orders: number }>(
    `SELECT currency, COUNT(*) AS orders FROM orders WHERE currency <> $1 GROUP BY currency ORDER BY 2 DESC, 1`,
    [currency],
  );
}

/**
 * Throws the engine's error when the database does not know the time zone `zone` (a name Intl knows
 * that the database's tz data may lack). `zone` is a validated IANA name (letters, digits, `_+-/`).
 */
export async function checkZoneInDatabase(db: Queryable, zone: string): Promise<void> {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(zone)) throw new Error(`unsafe time zone name ${zone}`);
  await db.query(`SELECT (CAST($1 AS TIMESTAMP) AT TIME ZONE 'UTC') AT TIME ZONE '${zone}' AS t`, [
    new Date(0),
  ]);
}
