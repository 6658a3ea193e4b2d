import type { Queryable, SqlValue } from '../../storage/port.js';
import { sqlIds } from '../../kit/customerHooks.js';

// ---- site keys ----

export interface SiteKeyRow {
  site_key: string;
  name: string;
  origins: string;
  require_consent: boolean;
  created_at: Date;
  revoked_at: Date | null;
}

const KEY_COLUMNS = 'site_key, name, origins, require_consent, created_at, revoked_at';

export async function insertSiteKey(
  db: Queryable,
  k: { key: string; name: string; origins: readonly string[]; requireConsent: boolean; createdAt: Date },
): Promise<void> {
  await db.exec(
    `INSERT INTO storefront_keys (site_key, name, origins, require_consent, created_at)
     VALUES ($1, $2, $3, $4, $5::timestamp)`,
    [k.key, k.name, JSON.stringify(k.origins), k.requireConsent, k.createdAt],
  );
}

export async function listSiteKeys(db: Queryable): Promise<SiteKeyRow[]> {
  return db.query<SiteKeyRow & Record<string, unknown>>(
    `SELECT ${KEY_COLUMNS} FROM storefront_keys ORDER BY created_at, site_key`,
  );
}

export async function siteKeyRow(db: Queryable, key: string): Promise<SiteKeyRow | undefined> {
  const [row] = await db.query<SiteKeyRow & Record<string, unknown>>(
    `SELECT ${KEY_COLUMNS} FROM storefront_keys WHERE site_key = $1`,
    [key],
  );
  return row;
}

/** Marks a key revoked (the first revocation time stays); whether the key exists. */
export async function revokeSiteKey(db: Queryable, key: string, at: Date): Promise<boolean> {
  await db.exec(
    `UPDATE storefront_keys SET revoked_at = COALESCE(revoked_at, $2::timestamp) WHERE site_key = $1`,
    [key, at],
  );
  return (await siteKeyRow(db, key)) !== undefined;
}

// ---- customers named by email ----

export interface CustomerRef {
  customer_id: number;
  external_id: string;
}

/**
 * The customer an email names: the customer whose shop id is the email (how Shopify's order imports
 * and webhooks name customers), else one merged under it (an alias), else the oldest customer (by
 * internal id) holding the email, so a generic import's customer is found rather than duplicated —
 * erased customers never.
 */
export async function customerByEmail(db: Queryable, email: string): Promise<CustomerRef | undefined> {
  const [row] = await db.query<CustomerRef & { rank: number } & Record<string, unknown>>(
    `SELECT customer_id, external_id, rank FROM (
       SELECT customer_id, external_id, 1 AS rank FROM customers WHERE external_id = $1 AND erased_at IS NULL
       UNION ALL
       SELECT c.customer_id, c.external_id, 2 AS rank
       FROM customer_aliases a JOIN customers c ON c.customer_id = a.customer_id
       WHERE a.external_id = $1 AND c.erased_at IS NULL
       UNION ALL
       SELECT customer_id, external_id, 3 AS rank FROM customers WHERE LOWER(email) = $1 AND erased_at IS NULL
     ) x ORDER BY rank, customer_id LIMIT 1`,
    [email],
  );
  return row ? { customer_id: row.customer_id, external_id: row.external_id } : undefined;
}

/**
 * Creates the customer of a new email as an order import names one: shop id = email, email = email.
 * Returns the new row, or undefined when another transaction created it first.
 */
export async function insertEmailCustomer(
  tx: Queryable,
  email: string,
  createdAt: Date,
  now: Date,
): Promise<(CustomerRef & { created_at: Date }) | undefined> {
  const [row] = await tx.query<CustomerRef & { created_at: Date } & Record<string, unknown>>(
    `INSERT INTO customers (external_id, email, created_at, updated_at)
     SELECT CAST($1 AS TEXT), CAST($1 AS TEXT), $2::timestamp, $3::timestamp
     WHERE NOT EXISTS (SELECT 1 FROM customer_aliases a WHERE a.external_id = $1)
     ON CONFLICT DO NOTHING
     RETURNING customer_id, external_id, created_at`,
    [email, createdAt, now],
  );
  return row;
}

// ---- carts ----

export interface CartValues {
  token: string;
  checkoutId: string | null;
  customerId: number | null;
  anonymousId: string | null;
  email: string | null;
  lineItems: unknown[];
  itemCount: number;
  subtotalMinor: number | null;
  totalMinor: number | null;
  currency: string | null;
  url: string | null;
  createdAt: Date;
  updatedAt: Date | null;
  completedAt: Date | null;
  digest: string;
}

/**
 * Inserts or updates a checkout's cart. A delivery older than the stored one (by the platform's
 * `updated_at`) or identical to it (`digest`) changes nothing; an update never clears the customer,
 * anonymous id or email already known, nor a completion.
 */
export async function upsertCart(
  tx: Queryable,
  jsonType: string,
  c: CartValues,
  now: Date,
): Promise<'inserted' | 'updated' | 'unchanged'> {
  const values: SqlValue[] = [
    c.token,
    c.checkoutId,
    c.customerId,
    c.anonymousId,
    c.email,
    JSON.stringify(c.lineItems),
    c.itemCount,
    c.subtotalMinor,
    c.totalMinor,
    c.currency,
    c.url,
    c.createdAt,
    c.updatedAt,
    c.completedAt,
    c.digest,
    now,
  ];
  const inserted = await tx.exec(
    `INSERT INTO carts (checkout_token, source, checkout_id, customer_id, anonymous_id, email, line_items, item_count,
       subtotal_minor, total_minor, currency, abandoned_checkout_url, created_at, updated_at, completed_at, digest,
       first_received_at, received_at)
     VALUES ($1, 'shopify', $2, CAST($3 AS BIGINT), $4, $5, CAST($6 AS ${jsonType}), CAST($7 AS INTEGER),
       CAST($8 AS BIGINT), CAST($9 AS BIGINT), $10, $11, $12::timestamp, CAST($13 AS TIMESTAMP),
       CAST($14 AS TIMESTAMP), $15, $16::timestamp, $16::timestamp)
     ON CONFLICT DO NOTHING`,
    values,
  );
  if (inserted > 0) return 'inserted';
  const updated = await tx.exec(
    `UPDATE carts SET checkout_id = COALESCE($2, checkout_id),
       customer_id = COALESCE(CAST($3 AS BIGINT), customer_id), anonymous_id = COALESCE($4, anonymous_id),
       email = COALESCE($5, email), line_items = CAST($6 AS ${jsonType}), item_count = CAST($7 AS INTEGER),
       subtotal_minor = CAST($8 AS BIGINT), total_minor = CAST($9 AS BIGINT), currency = COALESCE($10, currency),
       abandoned_checkout_url = COALESCE($11, abandoned_checkout_url), created_at = $12::timestamp,
       updated_at = CAST($13 AS TIMESTAMP), completed_at = COALESCE(completed_at, CAST($14 AS TIMESTAMP)),
       digest = $15, received_at = $16::timestamp
     WHERE checkout_token = $1
       AND (updated_at IS NULL OR CAST($13 AS TIMESTAMP) IS NULL OR updated_at <= CAST($13 AS TIMESTAMP))
       AND (digest IS NULL OR digest <> $15)`,
    values,
  );
  return updated > 0 ? 'updated' : 'unchanged';
}

/**
 * Marks the checkout's cart completed by an order (`orders/create` names its checkout token). An order
 * that arrives before its checkout leaves a completed stub that the checkout's delivery fills in.
 * Returns whether anything changed (a redelivery changes nothing).
 */
export async function completeCart(
  tx: Queryable,
  c: { token: string; orderId: string; completedAt: Date; currency: string | null },
  now: Date,
): Promise<boolean> {
  const inserted = await tx.exec(
    `INSERT INTO carts (checkout_token, source, currency, completed_at, order_id, first_received_at, received_at)
     VALUES ($1, 'shopify', $2, $3::timestamp, $4, $5::timestamp, $5::timestamp)
     ON CONFLICT DO NOTHING`,
    [c.token, c.currency, c.completedAt, c.orderId, now],
  );
  if (inserted > 0) return true;
  const updated = await tx.exec(
    `UPDATE carts SET completed_at = COALESCE(completed_at, $2::timestamp), order_id = COALESCE(order_id, $3),
       received_at = $4::timestamp
     WHERE checkout_token = $1 AND (completed_at IS NULL OR order_id IS NULL)`,
    [c.token, c.completedAt, c.orderId, now],
  );
  return updated > 0;
}

/** Erase hook: the customer's carts (email, items, checkout link) are deleted. */
export async function eraseCustomerCarts(tx: Queryable, customerId: number): Promise<void> {
  await tx.exec(`DELETE FROM carts WHERE customer_id = $1`, [customerId]);
}

/** Merge hook: the merged customers' carts become the survivor's. */
export async function mergeCustomerCarts(
  tx: Queryable,
  fromIds: readonly number[],
  intoId: number,
): Promise<void> {
  await tx.exec(`UPDATE carts SET customer_id = $1 WHERE customer_id IN (${sqlIds(fromIds)})`, [intoId]);
}
