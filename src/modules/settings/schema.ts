import { z } from '@hono/zod-openapi';
import { timeZoneName } from '../../analytics/calendar.js';

/**
 * Store settings: what every import and report reads besides the data, and the name messages greet
 * customers with. Stored as rows of the key/value `settings` table (keys `store_name`, `currency`,
 * `time_zone`, `locale`, `default_margin`, `default_discount_rate`, `non_product_skus`; the core
 * schema's), so a new setting is a field here and a key in repository.ts, not a migration.
 */

/** Languages the customers' messages and the dashboard speak. */
export const LOCALES = ['uk', 'ru', 'en'] as const;
export const Locale = z.enum(LOCALES, { error: `expected one of ${LOCALES.join(', ')}` });
export type Locale = z.infer<typeof Locale>;

/**
 * Defaults of settings the store has not set (the name and the currency have none; the first import
 * sets the currency).
 */
export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_LOCALE: Locale = 'en';
/** CLV's defaults (docs/metrics.md#clv): margin 1 (CLV on revenue), a 1 % monthly discount rate. */
export const DEFAULT_MARGIN = 1;
export const DEFAULT_DISCOUNT_RATE = 0.01;
/** At most this many store non-product SKUs. */
export const MAX_NON_PRODUCT_SKUS = 200;
/** At most this many characters in the store name. */
export const MAX_STORE_NAME = 100;

/** The settings a store may leave unset (answered with their default). */
export const SETTING_FIELDS = [
  'name',
  'currency',
  'timeZone',
  'locale',
  'defaultMargin',
  'defaultDiscountRate',
  'nonProductSkus',
] as const;
export type SettingName = (typeof SETTING_FIELDS)[number];

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/**
 * The store's name as customers read it (`{{ store.name }}` in messages): trimmed, 1–100 characters, on
 * one line (it goes into email subjects).
 */
export const StoreName = z
  .string({ error: 'expected the store name as text' })
  .trim()
  .min(1, 'a store name cannot be empty (null clears it)')
  .max(MAX_STORE_NAME, `a store name has at most ${MAX_STORE_NAME} characters`)
  .refine((s) => !/\p{Cc}/u.test(s), {
    error: 'a store name cannot contain line breaks or control characters',
  });

/** An ISO 4217 code, upper-cased (`gbp` → `GBP`), known to Intl. */
export const Currency = z.string().transform((s, ctx) => {
  const c = s.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(c) || !KNOWN_CURRENCIES.has(c)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an ISO 4217 currency code such as GBP or UAH, got '${s}'`,
    });
    return z.NEVER;
  }
  return c;
});

/** An IANA time zone name Intl knows, in its canonical case (`europe/kyiv` → `Europe/Kyiv`). */
export const TimeZone = z.string().transform((s, ctx) => {
  const name = timeZoneName(s);
  if (name === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an IANA time zone such as Europe/Kyiv or America/New_York, got '${s}'`,
    });
    return z.NEVER;
  }
  return name;
});

/** A profit margin on net revenue, in (0, 1]. */
export const Margin = z
  .number({ error: 'expected a number in (0, 1], e.g. 0.35 for a 35 % margin' })
  .refine((v) => Number.isFinite(v) && v > 0 && v <= 1, {
    error: 'expected a margin in (0, 1], e.g. 0.35 for a 35 % margin',
  });

/** A monthly discount rate in [0, 1). */
export const DiscountRate = z
  .number({ error: 'expected a monthly rate in [0, 1), e.g. 0.01' })
  .refine((v) => Number.isFinite(v) && v >= 0 && v < 1, {
    error: 'expected a monthly discount rate in [0, 1), e.g. 0.01',
  });

/** The store's own non-product SKUs: trimmed, without duplicates (case-insensitive), at most 200. */
export const NonProductSkus = z
  .array(
    z
      .string({ error: 'expected a SKU' })
      .trim()
      .min(1, 'a SKU cannot be empty')
      .max(100, 'a SKU has at most 100 characters'),
    { error: 'expected a list of SKUs' },
  )
  .max(MAX_NON_PRODUCT_SKUS, `at most ${MAX_NON_PRODUCT_SKUS} SKUs`)
  .transform((list) => {
    const seen = new Set<string>();
    return list.filter((s) => {
      const k = s.toUpperCase();
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  });

/** `PATCH /v1/store` and `retain store set`: a field left out stays as it is. */
export const UpdateStore = z
  .object({
    name: StoreName.nullable()
      .optional()
      .openapi({
        example: 'Kavova Lavka',
        description:
          "the store's name as customers read it: `{{ store.name }}` in message templates; trimmed, 1–100 " +
          'characters; null clears it',
      }),
    currency: Currency.optional().openapi({
      type: 'string',
      example: 'UAH',
      description: 'ISO 4217 code reports and imports use; refused while orders exist in another currency',
    }),
    timeZone: TimeZone.optional().openapi({
      type: 'string',
      example: 'Europe/Kyiv',
      description: "IANA time zone of the store's calendar: report days, months and quarters",
    }),
    locale: Locale.optional().openapi({ description: 'default language of customers and the dashboard' }),
    defaultMargin: Margin.optional().openapi({
      type: 'number',
      example: 0.35,
      description:
        'the store’s profit margin on net revenue for CLV, in (0, 1]: what `POST /v1/clv/predictions` and ' +
        '`retain clv predict` use when the request gives no margin (1 when not set)',
    }),
    defaultDiscountRate: DiscountRate.optional().openapi({
      type: 'number',
      example: 0.01,
      description:
        'the store’s monthly CLV discount rate, in [0, 1): what CLV predictions use when the request gives ' +
        'none (0.01 when not set)',
    }),
    nonProductSkus: NonProductSkus.optional().openapi({
      type: 'array',
      items: { type: 'string' },
      example: ['SHIP', 'GIFTWRAP'],
      description:
        'the store’s own non-product SKUs (fees, shipping, wrapping), besides the built-in ones ' +
        '(docs/metrics.md#basket.non_product); the whole list is replaced. Basket analysis leaves them out ' +
        'with the default exclusions',
    }),
  })
  .openapi('UpdateStore');
export type UpdateStore = z.infer<typeof UpdateStore>;

/** The store settings as answered by `GET /v1/store` and `retain store`. */
export const StoreSettings = z
  .object({
    name: z
      .string()
      .nullable()
      .openapi({ description: "the store's name (`{{ store.name }}` in messages); null until set" }),
    currency: z
      .string()
      .nullable()
      .openapi({ description: 'null until set or until the first orders import' }),
    timeZone: z.string().openapi({ description: 'IANA name; UTC when not set' }),
    locale: Locale,
    defaultMargin: z.number().openapi({ description: 'CLV margin default; 1 when not set' }),
    defaultDiscountRate: z
      .number()
      .openapi({ description: 'CLV monthly discount rate default; 0.01 when not set' }),
    nonProductSkus: z
      .array(z.string())
      .openapi({ description: 'the store’s own non-product SKUs; [] when not set' }),
    /** Fields the store has not set, shown with their default. */
    defaults: z.array(z.enum(SETTING_FIELDS)),
  })
  .openapi('StoreSettings');
export type StoreSettings = z.infer<typeof StoreSettings>;
