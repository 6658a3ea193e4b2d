import type { Mapped, Preset } from './types.js';
import { canonicalEmail } from '../schema.js';
import { str, type PresetOptions } from './types.js';
import { positiveAmount } from '../values.js';

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
  'Discount Code',
  'Created at',
  'Cancelled at',
  'Refunded Amount',
  'Source',
  'Billing Country',
  'Phone',
  'Accepts Marketing',
];

/**
 * Shopify's orders export: one row per line item; order-level fields (email, totals, dates, status)
 * only on the first row of each order, so they are carried forward while `Name` stays the same.
 * The customer is identified by email (lower-cased); orders without email are guest orders.
 * `Accepts Marketing` (yes/no) is the customer's email consent as of the order: the latest order's
 * choice is kept (docs/import-formats.md#order-consent). `Discount Code` (codes separated by commas
 * when several) → `discount_codes`.
 * `Refunded Amount` > 0 (read once per order, from its head row) becomes a refund `<Name>:refund` dated
 * at `Cancelled at`, else `Created at` (the export has no refund date).
 */
export const shopifyPreset: Preset = {
  name: 'shopify',
  description: 'Shopify orders export (one row per line item) and customers export CSV',
  entities: ['orders', 'customers'],
  expectedColumns: (entity) => (entity === 'customers' ? CUSTOMERS_REQUIRED : REQUIRED),
  columnFields: (entity): Record<string, string> =>
    entity === 'customers'
      ? {
          Email: 'customer_id',
          'First Name': 'first_name',
          'Last Name': 'last_name',
          Phone: 'phone',
          'Country Code': 'country',
          Country: 'country',
          'Accepts Email Marketing': 'email_consent',
          'Accepts SMS Marketing': 'sms_consent',
        }
      : {
          Name: 'order_id',
          Email: 'customer_id',
          'Created at': 'ordered_at',
          Currency: 'currency',
          'Lineitem sku': 'sku',
          'Lineitem name': 'title',
          'Lineitem quantity': 'quantity',
          'Lineitem price': 'unit_price',
          Total: 'order_total',
          'Discount Amount': 'discount',
          'Discount Code': 'discount_codes',
          Shipping: 'shipping',
          Taxes: 'tax',
          'Financial Status': 'status',
          'Cancelled at': 'status',
          Source: 'source',
          'Billing Country': 'country',
          'Accepts Marketing': 'email_consent',
          'Refunded Amount': 'refunds.amount',
        },
  detect: (entity, columns) =>
    (entity === 'customers' ? CUSTOMERS_REQUIRED : entity === 'orders' ? REQUIRED : null)?.every((c) =>
      columns.includes(c),
    ) ?? false,
  createMapper: (entity, opts) => (entity === 'customers' ? customersMapper() : ordersMapper(opts)),
};

/** Shopify's "Export customers" layout (no customer id column: customers are keyed by email). */
const CUSTOMERS_REQUIRED = ['First Name', 'Last Name', 'Email', 'Accepts Email Marketing'];

/**
 * One customer per row, keyed by `Email` in its one form (as the orders export keys them); a row
 * without an email cannot be matched to any order and is skipped. `Accepts Email Marketing` /
 * `Accepts SMS Marketing` yes/no become the email/SMS consents, sourced `shopify export`.
 */
function customersMapper(): (v: Record<string, unknown>) => Mapped[] {
  return (v) => {
    const email = canonicalEmail(str(v.Email));
    if (email === '')
      return [{ kind: 'skip', reason: 'no email (Shopify customers are matched to orders by email)' }];
    const consent = (value: unknown) => (str(value) === '' ? undefined : value);
    const sms = consent(v['Accepts SMS Marketing']);
    const mail = consent(v['Accepts Email Marketing']);
    return [
      {
        kind: 'row',
        entity: 'customers',
        values: {
          customer_id: email,
          email,
          first_name: v['First Name'],
          last_name: v['Last Name'],
          phone: v.Phone,
          country: str(v['Country Code']) || v.Country,
          ...(mail !== undefined ? { email_consent: mail, email_consent_source: 'shopify export' } : {}),
          ...(sms !== undefined ? { sms_consent: sms, sms_consent_source: 'shopify export' } : {}),
        },
      },
    ];
  };
}

function ordersMapper(opts: PresetOptions): (v: Record<string, unknown>) => Mapped[] {
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
          discount_codes: o['Discount Code'],
          shipping: o.Shipping,
          tax: o.Taxes,
          status: cancelled ? 'cancelled' : o['Financial Status'],
          source: o.Source,
          country: o['Billing Country'],
          email_consent: o['Accepts Marketing'],
        },
      },
    ];
    if (head && positiveAmount(o['Refunded Amount'], opts.format.decimal)) {
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
}
