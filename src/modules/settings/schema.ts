import { z } from '@hono/zod-openapi';
import { timeZoneName } from '../../analytics/calendar.js';

/**
 * Store settings: what every import and report reads besides the data. Stored as rows of the
 * key/value `settings` table (keys `currency`, `time_zone`, `locale`; the core schema's), so a new
 * setting is a field here and a key in repository.ts, not a migration.
 */

/** Languages the customers' messages and the dashboard speak. */
export const LOCALES = ['uk', 'ru', 'en'] as const;
export const Locale = z.enum(LOCALES, { error: `expected one of ${LOCALES.join(', ')}` });
export type Locale = z.infer<typeof Locale>;

/** Defaults of settings the store has not set (the currency has none: the first import sets it). */
export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_LOCALE: Locale = 'en';

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

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

/** `PATCH /v1/store` and `retain store set`: a field left out stays as it is. */
export const UpdateStore = z
  .object({
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
  })
  .openapi('UpdateStore');
export type UpdateStore = z.infer<typeof UpdateStore>;

/** The store settings as answered by `GET /v1/store` and `retain store`. */
export const StoreSettings = z
  .object({
    currency: z
      .string()
      .nullable()
      .openapi({ description: 'null until set or until the first orders import' }),
    timeZone: z.string().openapi({ description: 'IANA name; UTC when not set' }),
    locale: Locale,
    /** Fields the store has not set, shown with their default. */
    defaults: z.array(z.enum(['currency', 'timeZone', 'locale'])),
  })
  .openapi('StoreSettings');
export type StoreSettings = z.infer<typeof StoreSettings>;
