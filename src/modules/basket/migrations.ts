import type { Migration } from '../../storage/migrations/index.js';

/**
 * The kept recommendation model (model.ts): one `reco_models` row per trained model, its items with
 * their statistics and neighbour lists in `reco_items`. A model is written in one transaction, so
 * readers see the previous model or the new one whole; the newest row is the model in use. Neighbour
 * lists are texts of codes and shortest round-trip doubles (exact), one row per item: the ~4,000
 * items of the demo store load in a few milliseconds. `reco_histories` holds each customer's
 * history as the model saw it (customer-owned: keyed by `customer_id`).
 */
export const recommendationModelMigration: Migration = {
  version: 9,
  name: 'recommendation_model',
  statements: () => [
    `CREATE SEQUENCE reco_model_id_seq START 1`,
    `CREATE TABLE reco_models (
      model_id BIGINT PRIMARY KEY,
      trained_at TIMESTAMP NOT NULL,
      reason TEXT NOT NULL,
      source TEXT NOT NULL,
      orders INTEGER NOT NULL,
      customers INTEGER NOT NULL,
      items INTEGER NOT NULL,
      neighbours INTEGER NOT NULL,
      last_order_at TIMESTAMP,
      seconds DOUBLE PRECISION NOT NULL
    )`,
    `CREATE TABLE reco_items (
      model_id BIGINT NOT NULL,
      code INTEGER NOT NULL,
      sku TEXT NOT NULL,
      title TEXT NOT NULL,
      orders INTEGER NOT NULL,
      buyers INTEGER NOT NULL,
      repeaters INTEGER NOT NULL,
      neighbour_codes TEXT NOT NULL,
      neighbour_sims TEXT NOT NULL,
      PRIMARY KEY (model_id, code)
    )`,
    // Each customer's orders over the model's item codes (mining.ts encodeHistory), so an answer
    // reads one row by key instead of scanning the order lines (DuckDB keeps no secondary indexes).
    `CREATE TABLE reco_histories (
      model_id BIGINT NOT NULL,
      customer_id BIGINT NOT NULL,
      orders INTEGER NOT NULL,
      history TEXT NOT NULL,
      PRIMARY KEY (model_id, customer_id)
    )`,
  ],
};
