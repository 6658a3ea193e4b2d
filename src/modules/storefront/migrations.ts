import type { Migration } from '../../storage/migrations/index.js';

/**
 * Migration 25, storefront tracking (issue 26; docs/storefront.md):
 * - `storefront_keys`: the publishable site keys (`pk_…`) the snippet sends with its batches, each with
 *   the origins allowed to use it (a JSON array of `https://shop.example`) and whether the store requires
 *   the visitor's consent before anything is sent. Not secrets: a site key is in every page's source;
 *   what it allows is writing site events from those origins, nothing else.
 * - `carts`: Shopify checkouts (`checkouts/create|update` webhooks) by checkout token: the customer (by
 *   email) or the snippet's anonymous id, the line items, the subtotal and total in minor units, the
 *   abandoned-checkout link, the platform's times, and `completed_at`/`order_id` once `orders/create`
 *   names the token. `digest` (SHA-256 of the stored fields) tells a redelivery from a change.
 */
export const storefrontMigration: Migration = {
  version: 25,
  name: 'storefront',
  statements: (d) => [
    `CREATE TABLE storefront_keys (
      site_key TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      origins TEXT NOT NULL,
      require_consent BOOLEAN NOT NULL,
      created_at TIMESTAMP NOT NULL,
      revoked_at TIMESTAMP
    )`,
    `CREATE TABLE carts (
      checkout_token TEXT PRIMARY KEY,
      source TEXT NOT NULL,
      checkout_id TEXT,
      customer_id BIGINT,
      anonymous_id TEXT,
      email TEXT,
      line_items ${d.jsonType},
      item_count INTEGER,
      subtotal_minor BIGINT,
      total_minor BIGINT,
      currency TEXT,
      abandoned_checkout_url TEXT,
      created_at TIMESTAMP,
      updated_at TIMESTAMP,
      completed_at TIMESTAMP,
      order_id TEXT,
      digest TEXT,
      first_received_at TIMESTAMP NOT NULL,
      received_at TIMESTAMP NOT NULL
    )`,
    ...(d.secondaryIndexes ? [`CREATE INDEX carts_customer_idx ON carts (customer_id)`] : []),
  ],
};
