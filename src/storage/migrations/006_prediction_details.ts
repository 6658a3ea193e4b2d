import type { Dialect } from '../port.js';

/** Expected spend per order and the due date of the next order, beside each stored CLV prediction. */
export function predictionDetailsSchema(_d: Dialect): string[] {
  return [
    `ALTER TABLE clv_predictions ADD COLUMN expected_spend_minor BIGINT`,
    `ALTER TABLE clv_predictions ADD COLUMN next_order_at TIMESTAMP`,
  ];
}
