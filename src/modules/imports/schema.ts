import { timeZoneName } from '../../analytics/calendar.js';
import { z } from 'zod';
import {
  amountLimitError,
  formatMinor,
  lineTotalMinor,
  minorDigits,
  parseDecimal,
  type ScaledDecimal,
} from '../../shared/money.js';
import { parseDay, parseInstant } from '../../shared/time.js';
import { jsonValueIssue } from '../../shared/json.js';
import { ENTITY_NAMES } from './names.js';

/**
 * The `generic` import format: Retain's own column names (docs/import-formats.md). Every preset maps
 * its file's columns onto these names, so one zod schema per entity validates every source.
 */
export const Entity = z.enum(ENTITY_NAMES);
export type Entity = z.infer<typeof Entity>;

// ---- field types ----
// Rows reach these schemas through `cleanRecord` (values.ts): empty values removed, exact JSON numbers
// and consent booleans as strings. Keeping the schemas free of per-field preprocessing makes
// validation ~3× cheaper on big files.

const show = (s: unknown) => `'${String(s).length > 40 ? String(s).slice(0, 40) + '…' : String(s)}'`;
const REQUIRED = { error: 'is required' };

const requiredText = z.string(REQUIRED).trim().min(1, 'is required');
const optionalText = z.string().trim().optional();

/**
 * An email in one form, however a file or a person wrote it: trimmed, without the leading `'` a
 * spreadsheet adds to mark a cell as text, lower-cased (`'Ann@Shop.com ` → `ann@shop.com`).
 */
export function canonicalEmail(text: string): string {
  return text
    .trim()
    .replace(/^'+\s*/, '')
    .toLowerCase();
}

/**
 * A customer key as the store wrote it, minus spreadsheet artefacts (trimmed, a leading `'` dropped);
 * a key that is an email (it has an `@`) in its canonical form, so case variants are one customer.
 */
export function customerKey(text: string): string {
  const key = text.trim().replace(/^'+\s*/, '');
  return key.includes('@') ? key.toLowerCase() : key;
}

const requiredCustomerKey = requiredText.transform(customerKey).pipe(z.string().min(1, 'is required'));
const optionalCustomerKey = optionalText.transform((v) => (v === undefined ? v : customerKey(v)));
const optionalEmail = optionalText.transform((v) => (v === undefined ? v : canonicalEmail(v)));
/** A phone number as written, without a spreadsheet's leading `'` (`'+1 212 555 0100`). */
const optionalPhone = optionalText.transform((v) => (v === undefined ? v : v.replace(/^'+\s*/, '')));

function decimalField(what: string) {
  return z.string(REQUIRED).transform((s, ctx): ScaledDecimal => {
    const d = parseDecimal(s);
    if (!d) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} like 12.50, got ${show(s)}` });
      return z.NEVER;
    }
    return d;
  });
}
/** Prices and totals: a negative amount is refused at the field (refunds are their own entity). */
const optionalNonNegativeMoney = decimalField('an amount')
  .refine((d) => d.units >= 0n, 'must not be negative')
  .optional();
const requiredMoney = decimalField('an amount');

const integer = z.string().transform((s, ctx) => {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    ctx.addIssue({ code: 'custom', message: `expected a whole number, got ${show(s)}` });
    return z.NEVER;
  }
  return Number(t);
});
const optionalInteger = integer.optional();

const requiredInstant = z.string(REQUIRED).transform((s, ctx) => {
  const d = parseInstant(s);
  if (!d) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a date-time like 2011-12-09 12:50:00 or ISO 8601, got ${show(s)}`,
    });
    return z.NEVER;
  }
  return d;
});
const optionalInstant = requiredInstant.optional();
const requiredDay = z.string(REQUIRED).transform((s, ctx) => {
  const d = parseDay(s);
  if (!d) {
    ctx.addIssue({ code: 'custom', message: `expected a date YYYY-MM-DD, got ${show(s)}` });
    return z.NEVER;
  }
  return d;
});
const optionalDay = requiredDay.optional();

const currency = z.string(REQUIRED).transform((s, ctx) => {
  const c = s.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(c)) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 4217 code like GBP, got ${show(s)}` });
    return z.NEVER;
  }
  return c;
});

export const ORDER_STATUSES = [
  'paid',
  'pending',
  'unpaid',
  'cancelled',
  'refunded',
  'partially_refunded',
  'failed',
] as const;
/**
 * Statuses whose orders count as sales (refunds are subtracted separately): placed and not cancelled —
 * `pending` is placed with its payment still to be captured (Shopify pending/authorized, WooCommerce
 * on-hold); `unpaid` (a checkout whose payment never started) is not a sale.
 */
export const SALE_STATUSES = ['paid', 'pending', 'refunded', 'partially_refunded'] as const;
const STATUS_ALIASES: Record<string, (typeof ORDER_STATUSES)[number]> = {
  paid: 'paid',
  completed: 'paid',
  complete: 'paid',
  processing: 'paid',
  fulfilled: 'paid',
  shipped: 'paid',
  pending: 'pending',
  'on-hold': 'pending',
  on_hold: 'pending',
  authorized: 'pending',
  partially_paid: 'pending',
  unpaid: 'unpaid',
  awaiting_payment: 'unpaid',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  voided: 'cancelled',
  refunded: 'refunded',
  partially_refunded: 'partially_refunded',
  'partially refunded': 'partially_refunded',
  failed: 'failed',
};

/** A string mapped through an alias table (case-insensitive), with the accepted values in the error. */
function oneOf<T extends string>(aliases: Record<string, T>, expected: string) {
  return z
    .string()
    .transform((s, ctx) => {
      const v =
        aliases[
          s
            .trim()
            .toLowerCase()
            .replace(/[\s-]+/g, '_')
        ];
      if (!v) {
        ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${show(s)}` });
        return z.NEVER;
      }
      return v;
    })
    .optional();
}
const status = oneOf(STATUS_ALIASES, `one of ${ORDER_STATUSES.join(', ')}`);

const CONSENT_ALIASES: Record<string, 'granted' | 'denied' | 'unsubscribed' | 'unknown'> = {
  granted: 'granted',
  yes: 'granted',
  y: 'granted',
  opt_in: 'granted',
  true: 'granted',
  '1': 'granted',
  subscribed: 'granted',
  opted_in: 'granted',
  denied: 'denied',
  no: 'denied',
  n: 'denied',
  false: 'denied',
  '0': 'denied',
  not_subscribed: 'denied',
  unsubscribed: 'unsubscribed',
  opted_out: 'unsubscribed',
  opt_out: 'unsubscribed',
  unknown: 'unknown',
};
const consent = oneOf(CONSENT_ALIASES, 'granted, denied, unsubscribed or unknown');

function minor(value: ScaledDecimal | undefined, cur: string): number | null {
  if (value === undefined) return null;
  return lineTotalMinor(1, value, minorDigits(cur));
}

/**
 * The most lines one order may have in an import (a file with more under one order id is a broken
 * export, not a basket): the order is rejected whole, named at its first line.
 */
export const MAX_ORDER_LINES = 10_000;

/** The most units one order line may have (order_lines.quantity is a 32-bit integer). */
const MAX_QUANTITY = 10_000_000;

/** The most discount codes one order may have, and the most characters one code may have. */
export const MAX_DISCOUNT_CODES = 20;
export const MAX_DISCOUNT_CODE_CHARS = 100;

/**
 * An order's discount codes in their one form, or why they cannot be stored: the text split at commas,
 * each code trimmed and upper-cased (shop codes are case-insensitive: `spring20` is `SPRING20`), blanks
 * and repeats dropped, sorted (the order of the codes means nothing). `' spring20, ,VIP,Spring20'` →
 * `['SPRING20', 'VIP']`. At most {@link MAX_DISCOUNT_CODES} codes of at most
 * {@link MAX_DISCOUNT_CODE_CHARS} characters each.
 */
export function discountCodes(text: string): { codes: string[] } | { error: string } {
  const codes = [
    ...new Set(
      text
        .split(',')
        .map((c) => c.trim().toUpperCase())
        .filter((c) => c !== ''),
    ),
  ].sort();
  const long = codes.find((c) => [...c].length > MAX_DISCOUNT_CODE_CHARS);
  if (long !== undefined)
    return {
      error: `the code ${show(long)} has ${[...long].length} characters; a code may have at most ${MAX_DISCOUNT_CODE_CHARS}`,
    };
  if (codes.length > MAX_DISCOUNT_CODES)
    return {
      error: `${codes.length} different codes; an order may have at most ${MAX_DISCOUNT_CODES} (codes are separated by commas)`,
    };
  return { codes };
}

/** `discount_codes`: one or more codes separated by commas, stored comma-joined in their one form. */
const optionalDiscountCodes = z
  .string()
  .transform((s, ctx) => {
    const r = discountCodes(s);
    if ('error' in r) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.codes.length === 0 ? undefined : r.codes.join(',');
  })
  .optional();

// ---- orders (one row per order line; order-level fields may repeat or be left blank after the first) ----

export const OrderLineInput = z
  .object({
    order_id: requiredText,
    customer_id: optionalCustomerKey,
    ordered_at: requiredInstant,
    currency,
    sku: optionalText,
    title: optionalText,
    quantity: optionalInteger,
    unit_price: optionalNonNegativeMoney,
    line_total: optionalNonNegativeMoney,
    order_total: optionalNonNegativeMoney,
    discount: optionalNonNegativeMoney,
    shipping: optionalNonNegativeMoney,
    tax: optionalNonNegativeMoney,
    channel: optionalText,
    source: optionalText,
    status,
    country: optionalText,
    email: optionalEmail,
    /** The customer's email-marketing choice as stated at this order (Shopify `Accepts Marketing`). */
    email_consent: consent,
    /** The discount codes the order used, separated by commas (Shopify `Discount Code`). */
    discount_codes: optionalDiscountCodes,
  })
  .superRefine((r, ctx) => {
    const hasLine = r.sku !== undefined || r.quantity !== undefined || r.unit_price !== undefined;
    if (hasLine) {
      if (r.quantity === undefined)
        ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'is required on an order line' });
      else if (r.quantity <= 0)
        ctx.addIssue({ code: 'custom', path: ['quantity'], message: `must be positive, got ${r.quantity}` });
      if (r.unit_price === undefined && r.line_total === undefined)
        ctx.addIssue({ code: 'custom', path: ['unit_price'], message: 'is required on an order line' });
      else if (r.quantity !== undefined && r.quantity > MAX_QUANTITY)
        ctx.addIssue({
          code: 'custom',
          path: ['quantity'],
          message: `must be at most ${MAX_QUANTITY.toLocaleString('en-US')}, got ${r.quantity}`,
        });
      else if (
        r.quantity !== undefined &&
        r.quantity > 0 &&
        r.unit_price !== undefined &&
        r.line_total === undefined
      ) {
        const e = amountLimitError(r.unit_price, minorDigits(r.currency), r.quantity);
        if (e) ctx.addIssue({ code: 'custom', path: ['unit_price'], message: `× quantity ${e}` });
      }
    } else if (r.order_total === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['order_total'],
        message: 'is required when the row has no line (sku, quantity, unit_price)',
      });
    }
    for (const f of ['unit_price', 'line_total', 'order_total', 'discount', 'shipping', 'tax'] as const) {
      const v = r[f];
      const e = v === undefined ? null : amountLimitError(v, minorDigits(r.currency));
      if (e) ctx.addIssue({ code: 'custom', path: [f], message: e });
    }
  })
  .transform((r) => {
    const cur = r.currency;
    const hasLine = r.quantity !== undefined;
    const given = r.line_total === undefined ? null : minor(r.line_total, cur);
    const lineTotal =
      r.line_total !== undefined
        ? minor(r.line_total, cur)
        : hasLine && r.unit_price
          ? lineTotalMinor(r.quantity as number, r.unit_price, minorDigits(cur))
          : null;
    return {
      orderId: r.order_id,
      customerId: r.customer_id ?? null,
      orderedAt: r.ordered_at,
      currency: cur,
      hasLine,
      sku: r.sku ?? null,
      title: r.title ?? null,
      quantity: r.quantity ?? null,
      unitPriceMinor: r.unit_price
        ? minor(r.unit_price, cur)
        : hasLine && lineTotal !== null && r.quantity
          ? Math.round(lineTotal / r.quantity)
          : null,
      lineTotalMinor: lineTotal,
      lineTotalIssue:
        given !== null && hasLine && r.unit_price !== undefined
          ? lineTotalIssue(given, r.quantity as number, r.unit_price, cur)
          : null,
      orderTotalMinor: minor(r.order_total, cur),
      discountMinor: minor(r.discount, cur),
      shippingMinor: minor(r.shipping, cur),
      taxMinor: minor(r.tax, cur),
      channel: r.channel ?? null,
      source: r.source ?? null,
      status: r.status ?? 'paid',
      country: r.country ?? null,
      email: r.email ?? null,
      emailConsent: r.email_consent ?? null,
      /** The order's codes in their one form, comma-joined and sorted (`SPRING20,VIP`); null for none. */
      discountCodes: r.discount_codes ?? null,
    };
  });
export type OrderLineRow = z.infer<typeof OrderLineInput>;

/**
 * Why a line's `line_total` is not its `quantity × unit_price`, or null when it is: the product rounded
 * once to the currency's minor unit, or `quantity × unit_price` rounded first (both are how stores
 * compute it). Prices are before discounts in every export Retain reads (Shopify's `Lineitem price`,
 * WooCommerce's `item_subtotal`): a discount goes in the order's `discount`, not in the line.
 */
function lineTotalIssue(
  given: number,
  quantity: number,
  unitPrice: ScaledDecimal,
  cur: string,
): string | null {
  const digits = minorDigits(cur);
  const exact = lineTotalMinor(quantity, unitPrice, digits);
  const perUnit = lineTotalMinor(1, unitPrice, digits);
  if (given === exact || (perUnit !== null && given === perUnit * quantity)) return null;
  const price = formatScaled(unitPrice);
  return (
    `${formatMinor(given, digits)} is not quantity × unit_price (${quantity} × ${price} = ` +
    `${exact === null ? 'too large' : formatMinor(exact, digits)}); send prices before discounts and the discount as the order's discount`
  );
}

/** A non-negative decimal as written (`12.50`). */
const formatScaled = (d: ScaledDecimal) => {
  const abs = d.units.toString().padStart(d.scale + 1, '0');
  return d.scale === 0 ? abs : `${abs.slice(0, -d.scale)}.${abs.slice(-d.scale)}`;
};

// ---- refunds ----

export const RefundInput = z
  .object({
    refund_id: requiredText,
    order_id: optionalText,
    customer_id: optionalCustomerKey,
    amount: requiredMoney,
    currency,
    refunded_at: requiredInstant,
    reason: optionalText,
  })
  .superRefine((r, ctx) => {
    const e = amountLimitError(r.amount, minorDigits(r.currency));
    if (e) ctx.addIssue({ code: 'custom', path: ['amount'], message: e });
  })
  .transform((r) => ({
    refundId: r.refund_id,
    orderId: r.order_id ?? null,
    customerId: r.customer_id ?? null,
    amountMinor: minor(r.amount, r.currency) as number,
    currency: r.currency,
    refundedAt: r.refunded_at,
    reason: r.reason ?? null,
  }));
export type RefundRow = z.infer<typeof RefundInput>;

// ---- customers ----

/** Customer profile columns shared by the generic format, staging and the customers table. */
export const CUSTOMER_FIELDS = [
  'email',
  'phone',
  'first_name',
  'last_name',
  'birthday',
  'country',
  'acquisition_channel',
  'created_at',
  'locale',
  'time_zone',
] as const;

/** A language tag (`uk`, `ru`, `en`, `uk-UA`): lower-case language, optional region; `_` accepted. */
const optionalLocale = z
  .string()
  .transform((s, ctx) => {
    const m = /^\s*([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?\s*$/.exec(s);
    if (!m) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a language tag such as uk, ru, en or uk-UA, got ${show(s)}`,
      });
      return z.NEVER;
    }
    return m[2] ? `${(m[1] as string).toLowerCase()}-${m[2].toUpperCase()}` : (m[1] as string).toLowerCase();
  })
  .optional();

/** An IANA time zone (`Europe/Kyiv`), in its canonical case. */
const optionalZone = z
  .string()
  .transform((s, ctx) => {
    const name = timeZoneName(s.trim());
    if (name === null) {
      ctx.addIssue({
        code: 'custom',
        message: `expected an IANA time zone such as Europe/Kyiv, got ${show(s)}`,
      });
      return z.NEVER;
    }
    return name;
  })
  .optional();
export const CONSENT_CHANNELS = ['email', 'sms', 'messenger'] as const;

export const CustomerInput = z
  .object({
    customer_id: requiredCustomerKey,
    email: z.string().transform(canonicalEmail).pipe(z.email('expected an email address')).optional(),
    phone: optionalPhone,
    first_name: optionalText,
    last_name: optionalText,
    birthday: optionalDay,
    country: optionalText,
    acquisition_channel: optionalText,
    created_at: optionalInstant,
    locale: optionalLocale,
    time_zone: optionalZone,
    email_consent: consent,
    email_consent_at: optionalInstant,
    email_consent_source: optionalText,
    sms_consent: consent,
    sms_consent_at: optionalInstant,
    sms_consent_source: optionalText,
    messenger_consent: consent,
    messenger_consent_at: optionalInstant,
    messenger_consent_source: optionalText,
  })
  .transform((r) => ({
    customerId: r.customer_id,
    email: r.email ?? null,
    phone: r.phone ?? null,
    firstName: r.first_name ?? null,
    lastName: r.last_name ?? null,
    birthday: r.birthday ?? null,
    country: r.country ?? null,
    acquisitionChannel: r.acquisition_channel?.toLowerCase() ?? null,
    createdAt: r.created_at ?? null,
    locale: r.locale ?? null,
    timeZone: r.time_zone ?? null,
    consents: CONSENT_CHANNELS.filter((c) => r[`${c}_consent`] !== undefined).map((c) => ({
      channel: c,
      status: r[`${c}_consent`] as string,
      changedAt: r[`${c}_consent_at`] ?? null,
      source: r[`${c}_consent_source`] ?? null,
    })),
  }));
export type CustomerRow = z.infer<typeof CustomerInput>;

// ---- products ----

export const ProductInput = z
  .object({
    sku: requiredText,
    title: optionalText,
    category: optionalText,
    price: optionalNonNegativeMoney,
    unit_cost: optionalNonNegativeMoney,
    currency,
  })
  .transform((r) => ({
    sku: r.sku,
    title: r.title ?? null,
    category: r.category ?? null,
    priceMinor: minor(r.price, r.currency),
    unitCostMinor: minor(r.unit_cost, r.currency),
    currency: r.currency,
  }));
export type ProductRow = z.infer<typeof ProductInput>;

// ---- marketing spend ----

export const SpendInput = z
  .object({
    date: requiredDay,
    channel: requiredText,
    campaign: optionalText,
    amount: requiredMoney,
    currency,
  })
  .transform((r) => ({
    spentOn: r.date as Date,
    channel: r.channel.toLowerCase(),
    campaign: r.campaign ?? '',
    amountMinor: minor(r.amount, r.currency) as number,
    currency: r.currency,
  }));
export type SpendRow = z.infer<typeof SpendInput>;

// ---- site events ----

export const EventInput = z
  .object({
    event_id: requiredText,
    customer_id: optionalCustomerKey,
    anonymous_id: optionalText,
    type: z
      .string(REQUIRED)
      .regex(/^[a-z][a-z0-9_.:-]{0,63}$/, 'expected a lower-case event name like add_to_cart'),
    occurred_at: requiredInstant,
    properties: z.preprocess(
      (v) => {
        if (v === undefined || v === '' || v === null) return {};
        if (typeof v === 'string') {
          try {
            return JSON.parse(v) as unknown;
          } catch {
            return v;
          }
        }
        return v;
      },
      z.record(z.string(), z.unknown(), { error: 'expected a JSON object' }).superRefine((v, ctx) => {
        const issue = jsonValueIssue(v);
        if (issue) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      }),
    ),
  })
  .superRefine((r, ctx) => {
    if (r.customer_id === undefined && r.anonymous_id === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['customer_id'],
        message: 'customer_id or anonymous_id is required',
      });
  })
  .transform((r) => ({
    eventId: r.event_id,
    customerId: r.customer_id ?? null,
    anonymousId: r.anonymous_id ?? null,
    type: r.type,
    occurredAt: r.occurred_at,
    properties: r.properties,
  }));
export type EventRow = z.infer<typeof EventInput>;

/** Each entity's input schema (one import row → one staged row). */
export const ENTITY_SCHEMAS: Record<Entity, z.ZodType> = {
  orders: OrderLineInput,
  refunds: RefundInput,
  customers: CustomerInput,
  products: ProductInput,
  spend: SpendInput,
  events: EventInput,
};

/**
 * The columns a generic file must have per entity (header matching and "expected columns" errors).
 * The optional ones are the rest of each entity's schema (docs/import-formats.md lists them all).
 */
export const GENERIC_REQUIRED: Record<Entity, string[]> = {
  orders: ['order_id', 'ordered_at'],
  refunds: ['refund_id', 'amount', 'refunded_at'],
  customers: ['customer_id'],
  products: ['sku'],
  spend: ['date', 'channel', 'amount'],
  events: ['event_id', 'type', 'occurred_at'],
};

/**
 * Turns zod issues into one readable reason naming every problem of the row, e.g.
 * `field quantity: expected a whole number, got 'x'; field currency: expected an ISO 4217 code`.
 * `field` is the first one's.
 */
export function describeIssues(error: z.ZodError): { field: string | undefined; reason: string } {
  const first = error.issues[0];
  if (!first) return { field: undefined, reason: 'invalid row' };
  const one = (issue: z.core.$ZodIssue) => {
    const field = issue.path.length ? issue.path.join('.') : undefined;
    const msg =
      issue.message === 'Invalid input: expected string, received undefined' ? 'is required' : issue.message;
    return (field ? `field ${field}: ` : '') + msg;
  };
  return {
    field: first.path.length ? first.path.join('.') : undefined,
    reason: error.issues.map(one).join('; '),
  };
}
