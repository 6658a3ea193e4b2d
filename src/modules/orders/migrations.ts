import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 22, order discount codes: `order_discount_codes` holds the codes each order used, one row per
 * order and code, so a campaign's unique codes attribute the orders that used them. Codes are stored in
 * their one form (trimmed, upper-cased: shop codes are case-insensitive; imports/schema.ts
 * `discountCodes`); `customer_id` is the order's (internal id), moved with it when customers merge. The
 * import's merge replaces an inserted or updated order's codes whole, like its lines.
 */
export const orderDiscountCodesMigration: Migration = {
  version: 22,
  name: 'order-discount-codes',
  statements: (d) => [
    `CREATE TABLE order_discount_codes (order_id BIGINT NOT NULL, customer_id BIGINT, code TEXT NOT NULL, PRIMARY KEY (order_id, code))`,
    ...(d.secondaryIndexes
      ? [`CREATE INDEX order_discount_codes_code_idx ON order_discount_codes (code)`]
      : []),
  ],
};
