import type { OrderFact } from '../../src/analytics/metrics/types.js';
import { buildDigest, type DigestData } from '../../src/analytics/metrics/digest.js';

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

/**
 * Test helper: the digest tests' store (February 2024 against January 2024 and February 2023; the
 * figures are hand-computed in digest.test.ts).
 */
export function digestStore(): {
  asOf: Date;
  orders: OrderFact[];
  profiles: { customerId: string; channel: string; country: string }[];
} {
  const asOf = new Date('2024-03-01T00:00:00Z');
  const orders = [
    order('A', '2023-02-10T00:00Z', 1000, null, 0, 'toys'),
    order('A', '2024-01-15T00:00Z', 2000, null, 0, 'toys'),
    order('A', '2024-02-15T00:00Z', 3000, null, 500, 'toys'),
    order('B', '2024-01-20T00:00Z', 1000, null, 0, 'books'),
    order('C', '2024-02-05T00:00Z', 500, null, 0, 'books'),
    order('C', '2024-02-25T00:00Z', 700, null, 0, 'books'),
    order('D', '2024-02-10T00:00Z', 100, null, 300, 'x<y>'), // refund exceeds the order
    order('E', '2024-03-05T00:00Z', 999), // after asOf
  ];
  const profiles = [
    { customerId: 'A', channel: 'ads', country: 'GB' },
    { customerId: 'D', channel: '<script>alert(1)</script>', country: 'FR' },
  ];
  return { asOf, orders, profiles };
}

/** The February 2024 digest of `digestStore()` (GBP, two guest orders that month), as both digest suites use it. */
export function februaryDigest(): DigestData {
  const { asOf, orders, profiles } = digestStore();
  return buildDigest({
    orders,
    profiles,
    month: '2024-02',
    asOf,
    currency: 'GBP',
    guestOrdersByMonth: { '2024-02': 2 },
  });
}
