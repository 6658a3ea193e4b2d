/**
 * What the basket module needs from storage. Types only: the SQL lives with the orders/products
 * repositories, which implement these functions; the basket service takes them as parameters so it
 * stays testable without a database.
 */
import type { Basket, Product } from '../../analytics/basket/types.js';

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
