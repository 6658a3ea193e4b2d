import type { Migration } from '../../storage/migrations/index.js';

/**
 * The months a stored CLV covers (`--clv-months`), beside the purchase horizon it was predicted over:
 * reports label predicted LTV with it. Null on predictions stored before this migration.
 */
export const clvMonthsMigration: Migration = {
  version: 10,
  name: 'clv_prediction_months',
  statements: () => [`ALTER TABLE clv_predictions ADD COLUMN clv_months INTEGER`],
};
