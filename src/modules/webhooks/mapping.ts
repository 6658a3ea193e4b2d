/**
 * Webhook payloads → the import's generic columns (the same names as docs/import-formats.md), so
 * webhook data goes through the same schemas and merge as files. Identifiers follow the CSV presets:
 * Shopify orders by `name` (#1001) and customers by lower-cased email; WooCommerce orders by id and
 * customers as `wc-<id>` (billing email for guests).
 */
import { WOO_DRAFT, WOO_STATUS, wooStatusKey } from '../imports/presets/woocommerce.js';
import { addDecimals } from '../../shared/money.js';
type J = Record<string, unknown>;
const obj = (v: unknown): J => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : {});
const arr = (v: unknown): J[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
const lower = (v: unknown) => str(v)?.toLowerCase();
/** Exact sum of amounts (undefined when none; an unreadable one is passed on for the schema to name). */
const sum = (xs: (string | undefined)[]) => addDecimals(xs.filter((x): x is string => x !== undefined));

/**
 * The `code` of each item of a payload's list (Shopify `discount_codes`, WooCommerce `coupon_lines`),
 * as the array `discount_codes` takes (normalised by the import schema); undefined when there are none.
 */
const codesOf = (v: unknown): string[] | undefined => {
  const codes = arr(v)
    .map((d) => str(d.code))
    .filter((c): c is string => c !== undefined);
  return codes.length > 0 ? codes : undefined;
};

export interface MappedOrder {
  order: J & { lines: J[] };
  refunds: J[];
}

// ---- Shopify ----

export function shopifyCustomerId(email: string | undefined, id: string | undefined): string | undefined {
  return email ?? (id ? `shopify-${id}` : undefined);
}

export function shopifyOrder(o: J): MappedOrder {
  const customer = obj(o.customer);
  const email = lower(o.email) ?? lower(customer.email);
  const name = str(o.name) ?? str(o.id);
  const address = obj(o.billing_address ?? o.shipping_address);
  const status = str(o.cancelled_at) ? 'cancelled' : (str(o.financial_status) ?? 'paid');
  const order = {
    order_id: name,
    customer_id: shopifyCustomerId(email, str(customer.id)),
    email,
    ordered_at: str(o.created_at),
    currency: str(o.currency),
    order_total: str(o.total_price),
    discount: str(o.total_discounts),
    discount_codes: codesOf(o.discount_codes),
    shipping: sum(arr(o.shipping_lines).map((s) => str(s.price))),
    tax: str(o.total_tax),
    status,
    source: 'shopify',
    channel: str(o.source_name),
    country: str(address.country_code),
    lines: arr(o.line_items).map((l) => ({
      sku: str(l.sku) ?? str(l.title),
      title: str(l.title),
      quantity: str(l.quantity),
      unit_price: str(l.price),
    })),
  };
  return {
    order,
    refunds: arr(o.refunds)
      .map((r) => shopifyRefund(r, name, order.customer_id, order.currency))
      .filter((r) => r.amount !== undefined),
  };
}

export function shopifyRefund(
  r: J,
  orderId: string | undefined,
  customerId: string | undefined,
  currency: string | undefined,
): J {
  const tx = arr(r.transactions).filter(
    (t) => str(t.kind) === 'refund' && (str(t.status) ?? 'success') === 'success',
  );
  return {
    refund_id: `shopify-refund-${str(r.id) ?? ''}`,
    order_id: orderId,
    customer_id: customerId,
    amount: sum(tx.map((t) => str(t.amount))),
    currency: str(tx[0]?.currency) ?? currency,
    refunded_at: str(r.processed_at) ?? str(r.created_at),
    reason: str(r.note),
  };
}

export function shopifyCustomer(c: J): J {
  const email = lower(c.email);
  const consent = obj(c.email_marketing_consent);
  const address = obj(c.default_address);
  return {
    customer_id: shopifyCustomerId(email, str(c.id)),
    email,
    phone: str(c.phone),
    first_name: str(c.first_name),
    last_name: str(c.last_name),
    country: str(address.country_code),
    created_at: str(c.created_at),
    email_consent: str(consent.state),
    email_consent_at: str(consent.consent_updated_at),
    email_consent_source: str(consent.state) ? 'shopify' : undefined,
  };
}

// ---- WooCommerce ----

const wcCustomerId = (id: unknown, email: string | undefined) => {
  const n = str(id);
  return n && n !== '0' ? `wc-${n}` : email;
};
const gmt = (v: unknown) => (str(v) ? `${str(v)}Z`.replace(/Z+$/, 'Z') : undefined);

/** A WooCommerce status as the export preset maps it (`pending` payment → unpaid, on-hold → pending). */
function wooStatus(v: unknown): string | undefined {
  const raw = str(v);
  if (raw === undefined) return undefined;
  const s = wooStatusKey(raw);
  return WOO_STATUS[s] ?? s;
}

/** Whether a WooCommerce order webhook is a checkout draft (a cart being checked out, not an order). */
export function isWooDraft(o: J): boolean {
  return WOO_DRAFT.has(wooStatusKey(str(o.status) ?? ''));
}

export function wooOrder(o: J): MappedOrder {
  const billing = obj(o.billing);
  const email = lower(billing.email);
  const orderId = str(o.id);
  const customerId = wcCustomerId(o.customer_id, email);
  const order = {
    order_id: orderId,
    customer_id: customerId,
    email,
    ordered_at: gmt(o.date_created_gmt) ?? str(o.date_created),
    currency: str(o.currency),
    order_total: str(o.total),
    discount: str(o.discount_total),
    discount_codes: codesOf(o.coupon_lines),
    shipping: str(o.shipping_total),
    tax: str(o.total_tax),
    status: wooStatus(o.status),
    source: 'woocommerce',
    channel: str(o.created_via),
    country: str(billing.country),
    lines: arr(o.line_items).map((l) => ({
      sku: str(l.sku) ?? str(l.name),
      title: str(l.name),
      quantity: str(l.quantity),
      unit_price: str(l.price),
      line_total: str(l.subtotal) ?? str(l.total),
    })),
  };
  const when = gmt(o.date_modified_gmt) ?? order.ordered_at;
  return {
    order,
    refunds: arr(o.refunds).map((r) => ({
      refund_id: `wc-refund-${str(r.id) ?? ''}`,
      order_id: orderId,
      customer_id: customerId,
      amount: str(r.total)?.replace(/^-/, ''),
      currency: order.currency,
      refunded_at: when,
      reason: str(r.reason),
    })),
  };
}

export function wooCustomer(c: J): J {
  const billing = obj(c.billing);
  const email = lower(c.email) ?? lower(billing.email);
  return {
    customer_id: wcCustomerId(c.id, email),
    email,
    phone: str(billing.phone),
    first_name: str(c.first_name),
    last_name: str(c.last_name),
    country: str(billing.country),
    created_at: gmt(c.date_created_gmt) ?? str(c.date_created),
  };
}
