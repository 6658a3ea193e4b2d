import type { Mapped, Preset } from './types.js';
import { canonicalEmail } from '../schema.js';
import { monthFirstDate, str } from './types.js';
import { positiveAmount } from '../values.js';

const REQUIRED = [
  'order_id',
  'order_date',
  'status',
  'order_total',
  'order_currency',
  'item_name',
  'item_quantity',
];

/**
 * WooCommerce "Customer/Order/Coupon Export", default CSV with one row per line item: order-level
 * columns repeated on every row. Customer = `customer_id` when > 0, else billing email (guest checkouts
 * with no email are guest orders). `refunded_total` > 0 becomes a refund `<order_id>:refund`.
 * Statuses: completed/processing → paid, on-hold/pending → pending, and the `wc-` prefix is dropped.
 */
export const woocommercePreset: Preset = {
  name: 'woocommerce',
  description: 'WooCommerce orders CSV export (one row per line item)',
  entities: ['orders'],
  expectedColumns: () => REQUIRED,
  detect: (entity, columns) => entity === 'orders' && REQUIRED.every((c) => columns.includes(c)),
  createMapper: (_entity, opts) => {
    const wooDate = (v: unknown) => monthFirstDate(v, opts.format);
    const refunded = new Set<string>();
    return (v) => {
      const orderId = str(v.order_id);
      const wcCustomer = str(v.customer_id);
      const email = canonicalEmail(str(v.billing_email ?? v.customer_email));
      const customer = wcCustomer && wcCustomer !== '0' ? `wc-${wcCustomer}` : email;
      const out: Mapped[] = [
        {
          kind: 'row',
          entity: 'orders',
          values: {
            order_id: orderId,
            customer_id: customer,
            email,
            ordered_at: wooDate(v.order_date),
            currency: v.order_currency,
            sku: str(v.item_sku) || str(v.item_name),
            title: v.item_name,
            quantity: v.item_quantity,
            line_total: v.item_total ?? v.item_subtotal,
            order_total: v.order_total,
            discount: v.discount_total,
            shipping: v.shipping_total,
            tax: v.tax_total,
            status: str(v.status).replace(/^wc-/, ''),
            source: v.payment_method,
            country: v.billing_country,
          },
        },
      ];
      if (positiveAmount(v.refunded_total, opts.format.decimal) && !refunded.has(orderId)) {
        refunded.add(orderId);
        out.push({
          kind: 'row',
          entity: 'refunds',
          values: {
            refund_id: `${orderId}:refund`,
            order_id: orderId,
            customer_id: customer,
            amount: v.refunded_total,
            currency: v.order_currency,
            refunded_at: wooDate(v.order_date),
            reason: 'woocommerce refunded total',
          },
        });
      }
      return out;
    };
  },
};
