/**
 * What the basket module needs from storage. The orders and catalogue are read by the orders
 * repository (types below); the SQL of the module's own tables — the kept recommendation model
 * (migrations.ts) — is at the end of this file.
 */
import type { Basket, Product } from '../../analytics/basket/types.js';
import type { Queryable } from '../../storage/port.js';
import { sqlIds } from '../../kit/customerHooks.js';
import { customerIdSql } from '../customers/repository.js';

export type { Basket, BasketLine, Product } from '../../analytics/basket/types.js';

export interface LoadBasketsOptions {
  /** Only orders at or after this instant (UTC). */
  since?: Date;
  /** Only orders strictly before this instant (UTC). */
  until?: Date;
  /** Only this customer's orders (the external customer id as imported). */
  customerId?: string;
}

/**
 * Every order with its lines, in any order. Contract for the implementation:
 * - only completed orders that carry a customer (guest orders have no history to learn from);
 *   cancelled/refunded-in-full orders excluded;
 * - `orderId` = the order's external id, `customerId` = the customer's external id (strings);
 * - lines with quantity > 0 and unit price > 0 only; `sku` required (lines without SKU skipped);
 *   `title` = the line title as ordered;
 * - `orderedAt` a UTC Date.
 */
export type LoadBaskets = (opts: LoadBasketsOptions) => Promise<Basket[]>;

/** The catalogue (every product with a SKU); missing titles as '' and prices in minor units. */
export type LoadProducts = () => Promise<Product[]>;

// ---- the kept recommendation model ----

/** A `reco_models` row. */
export type ModelRow = {
  model_id: number;
  trained_at: Date;
  reason: string;
  source: string;
  orders: number;
  customers: number;
  items: number;
  neighbours: number;
  last_order_at: Date | null;
  seconds: number;
};

/** A `reco_items` row. */
export type ModelItemRow = {
  code: number;
  sku: string;
  title: string;
  orders: number;
  buyers: number;
  repeaters: number;
  neighbour_codes: string;
  neighbour_sims: string;
};

const MODEL_COLUMNS =
  'model_id, trained_at, reason, source, orders, customers, items, neighbours, last_order_at, seconds';

/** The newest model (the one in use), if any. */
export async function latestModel(db: Queryable): Promise<ModelRow | undefined> {
  const rows = await db.query<ModelRow>(
    `SELECT ${MODEL_COLUMNS} FROM reco_models ORDER BY model_id DESC LIMIT 1`,
  );
  return rows[0];
}

/** A model's items, by code. */
export function modelItems(db: Queryable, modelId: number): Promise<ModelItemRow[]> {
  return db.query<ModelItemRow>(
    `SELECT code, sku, title, orders, buyers, repeaters, neighbour_codes, neighbour_sims
     FROM reco_items WHERE model_id = $1 ORDER BY code`,
    [modelId],
  );
}

/** A customer's history in a model (by the customer's external id: one look-up by key each). */
export async function modelHistory(
  db: Queryable,
  modelId: number,
  customerExt: string,
): Promise<string | undefined> {
  const rows = await db.query<{ history: string }>(
    `SELECT history FROM reco_histories
     WHERE model_id = $1 AND customer_id = ${customerIdSql('$2')}`,
    [modelId, customerExt],
  );
  return rows[0]?.history;
}

/**
 * Writes a model in the caller's transaction and drops the models before the previous one (a reader
 * still loading the previous one finds it whole). Returns the new model's id.
 */
export async function insertModel(
  tx: Queryable,
  model: Omit<ModelRow, 'model_id'>,
  items: Iterable<readonly (string | number)[]>,
  histories: Iterable<readonly [customerId: number, orders: number, history: string]>,
): Promise<number> {
  const [{ id }] = (await tx.query<{ id: number }>(`SELECT nextval('reco_model_id_seq') AS id`)) as [
    { id: number },
  ];
  await tx.exec(
    `INSERT INTO reco_models (${MODEL_COLUMNS})
     VALUES ($1, $2::timestamp, $3, $4, $5, $6, $7, $8, $9::timestamp, $10)`,
    [
      id,
      model.trained_at,
      model.reason,
      model.source,
      model.orders,
      model.customers,
      model.items,
      model.neighbours,
      model.last_order_at,
      model.seconds,
    ],
  );
  await tx.copyRows(
    'reco_items',
    [
      'model_id',
      'code',
      'sku',
      'title',
      'orders',
      'buyers',
      'repeaters',
      'neighbour_codes',
      'neighbour_sims',
    ],
    (function* () {
      for (const item of items) yield [id, ...item];
    })(),
  );
  await tx.copyRows(
    'reco_histories',
    ['model_id', 'customer_id', 'orders', 'history'],
    (function* () {
      for (const h of histories) yield [id, ...h];
    })(),
  );
  const [previous] = await tx.query<{ id: number | null }>(
    'SELECT MAX(model_id) AS id FROM reco_models WHERE model_id < $1',
    [id],
  );
  if (previous?.id != null) {
    await tx.exec('DELETE FROM reco_items WHERE model_id < $1', [previous.id]);
    await tx.exec('DELETE FROM reco_histories WHERE model_id < $1', [previous.id]);
    await tx.exec('DELETE FROM reco_models WHERE model_id < $1', [previous.id]);
  }
  return id;
}

/** Merge hook: the merged customers' kept order histories dropped (rebuilt by the next training). */
export async function dropHistoriesOf(tx: Queryable, customerIds: readonly number[]): Promise<void> {
  await tx.exec(`DELETE FROM reco_histories WHERE customer_id IN (${sqlIds(customerIds)})`);
}

/** A product of the stored orders found by name or SKU (the dashboard's product picker). */
export interface ProductMatch {
  sku: string;
  /** The catalogue's title, else the title it was last ordered under, else null. */
  title: string | null;
  /** Customers' orders with the product. */
  orders: number;
}

/**
 * Products ordered by customers whose title (catalogue's, else as ordered) or SKU contains `text`
 * (case-insensitive), most ordered first.
 */
export async function searchOrderedProducts(
  db: Queryable,
  text: string,
  limit: number,
): Promise<ProductMatch[]> {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.query<{ sku: string; title: string | null; orders: number | bigint }>(
    `SELECT l.sku AS sku, COALESCE(MAX(p.title), MAX(l.title)) AS title, COUNT(DISTINCT l.order_id) AS orders
     FROM order_lines l LEFT JOIN products p ON p.sku = l.sku
     WHERE l.sku IS NOT NULL AND l.customer_id IS NOT NULL AND l.quantity > 0
       AND (LOWER(COALESCE(p.title, l.title, '')) LIKE $1 ESCAPE '\\' OR LOWER(l.sku) LIKE $1 ESCAPE '\\')
     GROUP BY l.sku
     ORDER BY COUNT(DISTINCT l.order_id) DESC, l.sku
     LIMIT ${Math.max(1, Math.floor(limit))}`,
    [pattern],
  );
  return rows.map((r) => ({ sku: r.sku, title: r.title, orders: Number(r.orders) }));
}
