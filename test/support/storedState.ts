import type { Database } from '../../src/storage/port.js';

/** What the store holds: counts and money sums of every table an import writes. */
export async function storedState(db: Database) {
  const [row] = await db.query<Record<string, number>>(
    `SELECT (SELECT COUNT(*) FROM orders) AS orders,
            (SELECT COALESCE(SUM(total_minor), 0) FROM orders) AS order_total_minor,
            (SELECT COUNT(*) FROM order_lines) AS order_lines,
            (SELECT COUNT(*) FROM customers) AS customers,
            (SELECT COUNT(*) FROM customers WHERE email IS NOT NULL) AS customers_with_email,
            (SELECT COUNT(*) FROM refunds) AS refunds,
            (SELECT COALESCE(SUM(amount_minor), 0) FROM refunds) AS refund_minor,
            (SELECT COUNT(*) FROM customer_consents) AS consents,
            (SELECT COUNT(*) FROM customer_consents WHERE status = 'granted') AS consents_granted,
            (SELECT COUNT(*) FROM products) AS products,
            (SELECT COUNT(*) FROM domain_events) AS events`,
  );
  return row!;
}
