/**
 * Shopify's checkout webhooks (`checkouts/create`, `checkouts/update`) and the checkout token of
 * `orders/create` → the cart this module stores. Shopify's field names are kept in the schema, so a
 * payload Retain cannot read is a 400 naming Shopify's field (`line_items.0.price: …`). Amounts are the
 * shop currency's (`currency`, as the order webhooks read them), in minor units.
 */
import { z } from 'zod';
import { decimalToMinor, minorDigits } from '../../shared/money.js';
import { parseInstant } from '../../shared/time.js';
import { canonicalEmail } from '../imports/schema.js';

/** The cart attribute a theme may set to the snippet's anonymous id (docs/storefront.md#carts). */
export const ANONYMOUS_ID_ATTRIBUTE = '_retain_aid';
const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;

const show = (s: unknown) => `'${String(s).length > 40 ? String(s).slice(0, 40) + '…' : String(s)}'`;
const text = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) =>
    v === null || v === undefined || String(v).trim() === '' ? undefined : String(v).trim(),
  );
const requiredText = text.refine((v) => v !== undefined, 'is required');
const instant = text.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const d = parseInstant(v);
  if (!d) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 date-time, got ${show(v)}` });
    return z.NEVER;
  }
  return d;
});
const amount = text.refine((v) => v === undefined || /^-?\d+(\.\d+)?$/.test(v), {
  message: 'expected an amount like 12.50',
});
const email = text.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const e = canonicalEmail(v);
  if (!z.email().safeParse(e).success) {
    ctx.addIssue({ code: 'custom', message: `expected an email address, got ${show(v)}` });
    return z.NEVER;
  }
  return e;
});
const currency = text.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const c = v.toUpperCase();
  if (!/^[A-Z]{3}$/.test(c)) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 4217 code like USD, got ${show(v)}` });
    return z.NEVER;
  }
  return c;
});

const LineItem = z.object({
  sku: text,
  title: text,
  variant_title: text,
  product_id: text,
  variant_id: text,
  quantity: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(Number),
  price: amount,
});

export const ShopifyCheckout = z.object({
  token: requiredText,
  id: text,
  email,
  customer: z.object({ email }).nullish(),
  currency: currency.refine((v) => v !== undefined, 'is required'),
  subtotal_price: amount,
  total_price: amount,
  abandoned_checkout_url: text,
  created_at: instant.refine((v) => v !== undefined, 'is required'),
  updated_at: instant,
  completed_at: instant,
  line_items: z.array(LineItem).nullish(),
  note_attributes: z.array(z.object({ name: text, value: text })).nullish(),
});

export const ShopifyOrderCheckout = z.object({
  checkout_token: text,
  name: text,
  id: text,
  currency,
  created_at: instant,
  processed_at: instant,
});

/** A checkout as the cart stores it (the customer is resolved from `email` by the service). */
export interface MappedCart {
  token: string;
  checkoutId: string | null;
  email: string | null;
  anonymousId: string | null;
  currency: string;
  lineItems: {
    sku: string | null;
    title: string | null;
    variantTitle: string | null;
    productId: string | null;
    variantId: string | null;
    quantity: number;
    unitPriceMinor: number | null;
  }[];
  itemCount: number;
  subtotalMinor: number | null;
  totalMinor: number | null;
  url: string | null;
  createdAt: Date;
  updatedAt: Date | null;
  completedAt: Date | null;
}

/** Maps a parsed checkout; amounts that do not fit minor units exactly are issues at their path. */
export function cartOf(
  c: z.infer<typeof ShopifyCheckout>,
): { cart: MappedCart } | { issues: { path: string; message: string }[] } {
  const digits = minorDigits(c.currency as string);
  const issues: { path: string; message: string }[] = [];
  const minor = (v: string | undefined, path: string): number | null => {
    if (v === undefined) return null;
    const m = decimalToMinor(v, digits);
    if (m === null) issues.push({ path, message: `cannot be stored exactly: ${show(v)}` });
    return m;
  };
  const lineItems = (c.line_items ?? []).map((l, i) => ({
    sku: l.sku ?? l.title ?? null,
    title: l.title ?? null,
    variantTitle: l.variant_title ?? null,
    productId: l.product_id ?? null,
    variantId: l.variant_id ?? null,
    quantity: l.quantity,
    unitPriceMinor: minor(l.price, `line_items.${i}.price`),
  }));
  const attribute = (c.note_attributes ?? []).find((a) => a.name === ANONYMOUS_ID_ATTRIBUTE)?.value;
  const cart: MappedCart = {
    token: c.token as string,
    checkoutId: c.id ?? null,
    email: c.email ?? c.customer?.email ?? null,
    anonymousId: attribute !== undefined && CLIENT_ID.test(attribute) ? attribute : null,
    currency: c.currency as string,
    lineItems,
    itemCount: lineItems.reduce((n, l) => n + l.quantity, 0),
    subtotalMinor: minor(c.subtotal_price, 'subtotal_price'),
    totalMinor: minor(c.total_price, 'total_price'),
    url: c.abandoned_checkout_url ?? null,
    createdAt: c.created_at as Date,
    updatedAt: c.updated_at ?? null,
    completedAt: c.completed_at ?? null,
  };
  return issues.length ? { issues } : { cart };
}
