import type { Mapped, Preset } from './types.js';
import { canonicalEmail } from '../schema.js';
import { monthFirstDate, str } from './types.js';
import { positiveAmount, readAmount, type ValueFormat } from '../values.js';

/*
 * WooCommerce "Customer / Order / Coupon Export" (SkyVerge, sold on woocommerce.com): the column names
 * below are the plugin's built-in formats (docs/import-formats.md#woocommerce). The plugin prefixes a
 * cell starting with `=`, `+`, `-` or `@` with `'` (spreadsheet-formula guard); `cell` drops it.
 */

/** Order columns every orders layout has (plus a date column and line items, see `detectOrders`). */
const ORDERS_REQUIRED = ['order_id', 'status', 'order_total', 'order_currency'];
/** "Default - One Row per Item": the line item's own columns. */
const ITEM_COLUMNS = ['item_name', 'item_quantity'];
/** "Default" (one row per order): every line item in one `line_items` cell. */
const LINE_ITEMS = 'line_items';
/** The order date is `date` in the plugin's formats, `order_date` in some older/other exports. */
const DATE_COLUMNS = ['date', 'order_date'];

/** The plugin's "Default" customers format (`customer_id` 0 = a guest, listed with its billing email). */
const CUSTOMERS_REQUIRED = ['customer_id', 'email', 'date_registered', 'billing_email'];

/** WooCommerce's own Analytics → Customers "Download" (no customer id: it cannot be joined to orders). */
const ANALYTICS_CUSTOMERS = [
  'Name',
  'Username',
  'Last active',
  'Date registered',
  'Email',
  'Orders',
  'Total spend',
];

/** A cell without spaces around it or the `'` the plugin writes before `=`, `+`, `-`, `@`. */
const cell = (v: unknown): string => str(v).replace(/^'(?=[=+\-@])/, '');

/** A cell's amount as a number (null when empty or unreadable: the schema then names the problem). */
function amountOf(v: unknown, format: ValueFormat): number | null {
  const s = cell(v);
  if (s === '') return null;
  const r = readAmount(s, format.decimal, undefined);
  return 'error' in r ? null : Number(r.value);
}

/** `wc-<id>` for a registered customer (`customer_id` > 0), else the billing email, else none (guest). */
export function wooCustomerKey(customerId: unknown, email: string): string {
  const id = cell(customerId);
  return id !== '' && id !== '0' ? `wc-${id}` : email;
}

/**
 * The plugin's pipe-delimited items (`line_items`, `refunds`, … of the one-row-per-order format):
 * items separated by `;`, fields by `|`, key and value by `:`; a `\` escapes each of the three.
 */
export function pipeItems(text: string): Record<string, string>[] {
  const items: Record<string, string>[] = [];
  if (text.trim() === '') return items;
  let item: Record<string, string> = {};
  let key: string | undefined;
  let buf = '';
  const endField = () => {
    if (key !== undefined) item[key] = buf;
    else if (buf !== '') item[buf] = '';
    key = undefined;
    buf = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '\\' && (next === ':' || next === '|' || next === ';')) {
      buf += next;
      i++;
    } else if (ch === ':' && key === undefined) {
      key = buf;
      buf = '';
    } else if (ch === '|') {
      endField();
    } else if (ch === ';') {
      endField();
      items.push(item);
      item = {};
    } else buf += ch;
  }
  endField();
  if (Object.keys(item).length > 0) items.push(item);
  return items;
}

/** Statuses a WooCommerce order goes through (the `wc-` prefix dropped) → Retain's. */
/** WooCommerce statuses (without the `wc-` prefix) → ours; the export and the webhooks share it. */
export const WOO_STATUS: Record<string, string> = {
  completed: 'paid',
  processing: 'paid',
  'on-hold': 'pending',
  // "Pending payment": the order exists, payment never started — not a sale.
  pending: 'unpaid',
  cancelled: 'cancelled',
  failed: 'failed',
  refunded: 'refunded',
};
/** Not orders yet: the block checkout's draft (a cart being checked out). */
/** A status cell as WOO_STATUS/WOO_DRAFT key it: lower case, without the `wc-` prefix. */
export function wooStatusKey(raw: string): string {
  return raw.trim().toLowerCase().replace(/^wc-/, '');
}
export const WOO_DRAFT: ReadonlySet<string> = new Set(['checkout-draft', 'draft', 'auto-draft']);
const DRAFT_REASON = 'checkout-draft order (a cart in checkout, not an order)';

export const woocommercePreset: Preset = {
  name: 'woocommerce',
  description:
    'WooCommerce Customer/Order/Coupon Export CSV: orders (one row per item, or one per order) and customers',
  entities: ['orders', 'customers'],
  expectedColumns: (entity) =>
    entity === 'customers'
      ? CUSTOMERS_REQUIRED
      : [
          'order_id',
          'date (or order_date)',
          ...ORDERS_REQUIRED.slice(1),
          'item_name and item_quantity (or line_items)',
        ],
  missingColumns: (entity, columns) => {
    const has = (c: string) => columns.includes(c);
    if (entity === 'customers') return CUSTOMERS_REQUIRED.filter((c) => !has(c));
    return [
      ...ORDERS_REQUIRED.filter((c) => !has(c)),
      ...(DATE_COLUMNS.some(has) ? [] : ['date (or order_date)']),
      ...(ITEM_COLUMNS.every(has) || has(LINE_ITEMS) ? [] : ['item_name and item_quantity (or line_items)']),
    ];
  },
  detect: (entity, columns) => {
    const has = (c: string) => columns.includes(c);
    if (entity === 'customers') return CUSTOMERS_REQUIRED.every(has);
    if (entity !== 'orders') return false;
    return (
      ORDERS_REQUIRED.every(has) && DATE_COLUMNS.some(has) && (ITEM_COLUMNS.every(has) || has(LINE_ITEMS))
    );
  },
  refuse: (entity, columns) =>
    entity === 'customers' && ANALYTICS_CUSTOMERS.every((c) => columns.includes(c))
      ? "this is WooCommerce's Analytics → Customers download: it has no customer id, so its registered customers cannot be matched to the orders export's wc-<customer_id> (and Name is first and last name in one cell). Export customers with Customer / Order / Coupon Export (columns customer_id, email, date_registered, billing_email, …) instead"
      : undefined,
  createMapper: (entity, opts) =>
    entity === 'customers' ? customersMapper(opts.format) : ordersMapper(opts.format),
};

/**
 * One row per line item (order columns repeated on each) or one row per order (`line_items`). Customer
 * = {@link wooCustomerKey}. The refund is written once per order: from the `refunds` column when the
 * file has it (one refund per WooCommerce refund, `wc-refund-<id>`, at its own date, as the webhooks
 * key them), else from `refunded_total` (`<order_id>:refund`, dated at the order: the layout has no
 * refund date).
 */
function ordersMapper(format: ValueFormat): (v: Record<string, unknown>) => Mapped[] {
  // `9/6/2016 6:29:00` is month first in WooCommerce's exports (unless --date-format says otherwise).
  const wooDate = (v: unknown) => str(monthFirstDate(v, format));
  const refunded = new Set<string>();
  return (v) => {
    const status = wooStatusKey(cell(v.status));
    if (WOO_DRAFT.has(status)) return [{ kind: 'skip', reason: DRAFT_REASON }];
    const orderId = cell(v.order_id);
    const email = canonicalEmail(str(v.billing_email) || str(v.customer_email));
    const customer = wooCustomerKey(v.customer_id, email);
    const orderedAt = wooDate(v.date ?? v.order_date);
    const currency = cell(v.order_currency);
    const refundedTotal = amountOf(v.refunded_total, format) ?? 0;
    const orderTotal = amountOf(v.order_total, format) ?? 0;
    const paid = WOO_STATUS[status] === 'paid';
    const order = {
      order_id: orderId,
      customer_id: customer,
      email,
      ordered_at: orderedAt,
      currency,
      order_total: cell(v.order_total),
      discount: cell(v.discount_total),
      shipping: cell(v.shipping_total),
      tax: cell(v.tax_total),
      // A paid order refunded in part keeps its WooCommerce status (completed/processing).
      status:
        paid && refundedTotal > 0 && refundedTotal < orderTotal
          ? 'partially_refunded'
          : (WOO_STATUS[status] ?? status),
      source: cell(v.payment_method),
      country: cell(v.billing_country),
      // The coupons' codes (`code:spring10|amount:5.00|…;code:…`), in both layouts.
      discount_codes: pipeItems(str(v.coupon_items))
        .map((c) => str(c.code))
        .join(','),
    };
    const lines =
      v.item_name !== undefined
        ? [
            {
              name: v.item_name,
              sku: v.item_sku,
              quantity: v.item_quantity,
              subtotal: v.item_subtotal,
              total: v.item_total,
            },
          ]
        : pipeItems(str(v[LINE_ITEMS]));
    const out: Mapped[] = lines.map((l) => ({
      kind: 'row',
      entity: 'orders',
      values: {
        ...order,
        // Products without a SKU (optional in WooCommerce) or deleted ones (`unknown_product`) go by name.
        sku: cell(l.sku) === '' || cell(l.sku) === 'unknown_product' ? cell(l.name) : cell(l.sku),
        title: cell(l.name),
        quantity: cell(l.quantity),
        // item_subtotal is before coupons (item_total after): discount_total is the order's.
        line_total: cell(l.subtotal) || cell(l.total),
      },
    }));
    // An order without line items (one-row-per-order layout) is still an order: its total stands.
    if (out.length === 0) out.push({ kind: 'row', entity: 'orders', values: order });
    if (refunded.has(orderId)) return out;
    const refunds = v.refunds === undefined ? [] : pipeItems(str(v.refunds));
    if (refunds.length > 0) {
      refunded.add(orderId);
      refunds.forEach((r, i) => {
        out.push({
          kind: 'row',
          entity: 'refunds',
          values: {
            // An entry without id (edited exports) still gets a key of its own that is stable on re-import.
            refund_id: cell(r.id) ? `wc-refund-${cell(r.id)}` : `${orderId}:refund:${i + 1}`,
            order_id: orderId,
            customer_id: customer,
            amount: cell(r.amount).replace(/^-/, ''),
            currency,
            refunded_at: wooDate(r.date) || orderedAt,
            reason: cell(r.reason) || 'woocommerce refund',
          },
        });
      });
    } else if (positiveAmount(cell(v.refunded_total), format.decimal)) {
      // (An unreadable refunded_total counts as positive: the refund row is then rejected naming it.)
      refunded.add(orderId);
      out.push({
        kind: 'row',
        entity: 'refunds',
        values: {
          refund_id: `${orderId}:refund`,
          order_id: orderId,
          customer_id: customer,
          amount: cell(v.refunded_total),
          currency,
          refunded_at: orderedAt,
          reason: 'woocommerce refunded total',
        },
      });
    }
    return out;
  };
}

/**
 * The plugin's "Default" customers CSV: registered customers (`customer_id` > 0) keyed `wc-<id>`, guests
 * (`customer_id` 0) by their email — the keys the orders export gives them, so both files describe the
 * same customers. Profile: names (else the billing names), email (else billing email), billing phone,
 * billing country (else shipping country), `date_registered` (registered customers only: a guest's is
 * the date of one of its orders). The layout has no marketing consent.
 */
function customersMapper(format: ValueFormat): (v: Record<string, unknown>) => Mapped[] {
  const wooDate = (v: unknown) => str(monthFirstDate(v, format));
  return (v) => {
    const email = canonicalEmail(str(v.email) || str(v.billing_email));
    const key = wooCustomerKey(v.customer_id, email);
    if (key === '')
      return [
        { kind: 'skip', reason: 'guest without email (WooCommerce guests are matched to orders by email)' },
      ];
    const registered = key.startsWith('wc-');
    return [
      {
        kind: 'row',
        entity: 'customers',
        values: {
          customer_id: key,
          email,
          first_name: cell(v.first_name) || cell(v.billing_first_name),
          last_name: cell(v.last_name) || cell(v.billing_last_name),
          phone: cell(v.billing_phone),
          country: cell(v.billing_country) || cell(v.shipping_country),
          ...(registered ? { created_at: wooDate(v.date_registered) } : {}),
        },
      },
    ];
  };
}
