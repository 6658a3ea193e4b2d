import { validationError } from '../../kit/http/errors.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError, invalid } from '../../shared/errors.js';
import { recordEvents } from '../outbox/service.js';
import * as repo from './repository.js';
import {
  DEFAULT_DISCOUNT_RATE,
  DEFAULT_LOCALE,
  DEFAULT_MARGIN,
  DEFAULT_TIME_ZONE,
  DiscountRate,
  Locale,
  Margin,
  NonProductSkus,
  StoreName,
  UpdateStore,
  type StoreSettings,
} from './schema.js';

/** A stored JSON list of SKUs, or undefined when it is not one. */
function skusOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  try {
    const r = NonProductSkus.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** The settings as stored, with the defaults of those not set (and which those are). */
function settingsOf(stored: Partial<Record<repo.SettingField, string>>): StoreSettings {
  const name = StoreName.safeParse(stored.name);
  const locale = Locale.safeParse(stored.locale);
  const margin = Margin.safeParse(stored.defaultMargin === undefined ? NaN : Number(stored.defaultMargin));
  const rate = DiscountRate.safeParse(
    stored.defaultDiscountRate === undefined ? NaN : Number(stored.defaultDiscountRate),
  );
  const skus = skusOf(stored.nonProductSkus);
  const defaults: StoreSettings['defaults'] = [];
  if (!name.success) defaults.push('name');
  if (stored.currency === undefined) defaults.push('currency');
  if (stored.timeZone === undefined) defaults.push('timeZone');
  if (!locale.success) defaults.push('locale');
  if (!margin.success) defaults.push('defaultMargin');
  if (!rate.success) defaults.push('defaultDiscountRate');
  if (skus === undefined) defaults.push('nonProductSkus');
  return {
    name: name.success ? name.data : null,
    currency: stored.currency ?? null,
    timeZone: stored.timeZone ?? DEFAULT_TIME_ZONE,
    locale: locale.success ? locale.data : DEFAULT_LOCALE,
    defaultMargin: margin.success ? margin.data : DEFAULT_MARGIN,
    defaultDiscountRate: rate.success ? rate.data : DEFAULT_DISCOUNT_RATE,
    nonProductSkus: skus ?? [],
    defaults,
  };
}

/**
 * `GET /v1/store`, `retain store`: the store's name, currency, time zone, default locale, the CLV margin
 * and discount rate defaults, and the store's non-product SKUs.
 */
export async function getStore({ db }: ModuleContext): Promise<StoreSettings> {
  return settingsOf(await repo.readSettings(db));
}

/**
 * `PATCH /v1/store`, `retain store set`: sets the fields given (a field left out stays as it is; a null
 * name clears it), in one transaction with a `store.updated` domain event when the currency, time zone
 * or locale changed (the event's `changed` names only those: a name change records none). Refused,
 * writing nothing:
 * a currency other than the one of orders already stored (reports count only orders in the store
 * currency, so the others would silently drop out), and a time zone the database does not know.
 */
export async function updateStore(ctx: ModuleContext, input: unknown): Promise<StoreSettings> {
  const parsed = UpdateStore.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'store settings');
  const want = parsed.data;
  const { db, clock } = ctx;
  if (want.timeZone !== undefined) {
    try {
      await repo.checkZoneInDatabase(db, want.timeZone);
    } catch (err) {
      throw invalid(
        `the ${db.kind === 'postgres' ? 'PostgreSQL' : 'DuckDB'} database does not know the time zone '${want.timeZone}'`,
        { field: 'timeZone' },
        { cause: (err as Error).message },
      );
    }
  }
  return db.transaction(async (tx) => {
    const before = await repo.readSettings(tx);
    const changed: ('currency' | 'time_zone' | 'locale')[] = [];
    if (want.currency !== undefined && want.currency !== before.currency) {
      const others = await repo.ordersInOtherCurrencies(tx, want.currency);
      if (others.length > 0) {
        const list = others.map((o) => `${o.orders} in ${o.currency}`).join(', ');
        throw new AppError(
          'conflict',
          `cannot change the store currency to ${want.currency}: orders exist in another currency (${list}); ` +
            'reports count only orders in the store currency',
          { where: { field: 'currency' }, details: { field: 'currency', ordersByCurrency: others } },
        );
      }
      await repo.writeSetting(tx, 'currency', want.currency);
      changed.push('currency');
    }
    if (want.timeZone !== undefined && want.timeZone !== before.timeZone) {
      await repo.writeSetting(tx, 'timeZone', want.timeZone);
      changed.push('time_zone');
    }
    if (want.locale !== undefined && want.locale !== before.locale) {
      await repo.writeSetting(tx, 'locale', want.locale);
      changed.push('locale');
    }
    const after = { ...before };
    if (want.currency !== undefined) after.currency = want.currency;
    if (want.timeZone !== undefined) after.timeZone = want.timeZone;
    if (want.locale !== undefined) after.locale = want.locale;
    // The name (for messages; null clears it), the CLV defaults and the SKU list (kept for the CLV and
    // basket modules): no event.
    if (want.name === null && before.name !== undefined) {
      await repo.deleteSetting(tx, 'name');
      delete after.name;
    }
    const others: [repo.SettingField, string | undefined][] = [
      ['name', want.name ?? undefined],
      ['defaultMargin', want.defaultMargin === undefined ? undefined : String(want.defaultMargin)],
      [
        'defaultDiscountRate',
        want.defaultDiscountRate === undefined ? undefined : String(want.defaultDiscountRate),
      ],
      ['nonProductSkus', want.nonProductSkus === undefined ? undefined : JSON.stringify(want.nonProductSkus)],
    ];
    for (const [field, value] of others) {
      if (value === undefined || value === before[field]) continue;
      await repo.writeSetting(tx, field, value);
      after[field] = value;
    }
    if (changed.length > 0) {
      const now = clock.now();
      await recordEvents(
        tx,
        db.dialect,
        [
          {
            type: 'store.updated',
            customerId: null,
            occurredAt: now,
            payload: {
              changed,
              currency: after.currency ?? null,
              time_zone: after.timeZone ?? null,
              locale: after.locale ?? null,
            },
          },
        ],
        now,
      );
    }
    return settingsOf(after);
  });
}
