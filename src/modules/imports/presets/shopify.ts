import type { Mapped, Preset } from './types.js';
import { canonicalEmail } from '../schema.js';
import { str } from './types.js';

const REQUIRED = [
  'Name',
  'Email',
  'Financial Status',
  'Currency',
  'Total',
  'Created at',
  'Lineitem quantity',
  'Lineitem name',
  'Lineitem price',
];
const ORDER_LEVEL = [
  'Email',
  'Financial Status',
  'Currency',
  'Subtotal',
  'Shipping',
  'Taxes',
  'Total',
  'Discount Amount',
  'Created at',
  'Cancelled at',
  'Refunded Amount',
  'Source',
  'Billing Country',
  'Phone',
];

/**
 * Shopify's orders export: one row per line item; order-level fields (email, totals, dates, status)
 * only on the first row of each order, so they are carried forward while `Name` stays the same.
 * The customer is identified by email (lower-cased); orders without email are guest orders.
 * `Refunded Amount` > 0 (read once per order, from its head row) becomes a refund `<Name>:refund` dated
 * at `Cancelled at`, else `Created at` (the export has no refund date).
 */
export const shopifyPreset: Preset = {
  name: 'shopify',
  description: 'Shopify orders export CSV (one row per line item)',
  entities: ['orders'],
  expectedColumns: () => REQUIRED,
  detect: (entity, columns) => entity === 'orders' && REQUIRED.every((c) => columns.includes(c)),
  createMapper: () => {
    let current = '';
    let carried: Record<string, unknown> = {};
    return (v) => {
      const name = str(v.Name);
      // The order's head row (its first): order-level amounts such as Refunded Amount belong to it
      // once, even when later rows repeat fields like Created at.
      const head = name !== current;
      if (head) {
        current = name;
        carried = {};
        for (const k of ORDER_LEVEL) carried[k] = v[k];
      } else {
        for (const k of ORDER_LEVEL) if (str(v[k]) !== '') carried[k] = v[k];
      }
      const o = carried;
      const email = canonicalEmail(str(o.Email));
      const cancelled = str(o['Cancelled at']) !== '';
      const out: Mapped[] = [
        {
          kind: 'row',
          entity: 'orders',
          values: {
            order_id: name,
            customer_id: email,
            email,
            ordered_at: o['Created at'],
            currency: o.Currency,
            sku: str(v['Lineitem sku']) || str(v['Lineitem name']),
            title: v['Lineitem name'],
            quantity: v['Lineitem quantity'],
            unit_price: v['Lineitem price'],
            order_total: o.Total,
            discount: o['Discount Amount'],
            shipping: o.Shipping,
            tax: o.Taxes,
            status: cancelled ? 'cancelled' : o['Financial Status'],
            source: o.Source,
            country: o['Billing Country'],
          },
        },
      ];
      const refunded = Number(str(o['Refunded Amount']));
      if (head && refunded > 0) {
        out.push({
          kind: 'row',
          entity: 'refunds',
          values: {
            refund_id: `${name}:refund`,
            order_id: name,
            customer_id: email,
            amount: o['Refunded Amount'],
            currency: o.Currency,
            refunded_at: str(o['Cancelled at']) || o['Created at'],
            reason: 'shopify refunded amount',
          },
        });
      }
      return out;
    };
  },
};
