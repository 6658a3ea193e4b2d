import type { OrderFact } from '../../src/analytics/metrics/types.js';

/** Test helper: an order fact from short arguments (cost `null` = unknown). */
export function order(
  customerId: string,
  iso: string,
  revenueMinor: number,
  costMinor: number | null = null,
  refundMinor = 0,
  category: string | null = null,
  sku: string | null = null,
): OrderFact {
  return { customerId, orderedAt: new Date(iso), revenueMinor, costMinor, refundMinor, category, sku };
}
