import type { OrderFact } from './types.js';

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

/** Mulberry32: a tiny seeded PRNG so property tests are reproducible without extra packages. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
