import { invalid } from '../../shared/errors.js';

/**
 * The entity and preset names as plain constants: the CLI lists them in `retain import --help`, and
 * loading them must not load zod and every import schema (that cost every command ~20 ms of start-up).
 * schema.ts builds the Entity enum from ENTITY_NAMES; a test keeps PRESET_NAMES equal to PRESETS.
 */
export const ENTITY_NAMES = ['orders', 'customers', 'products', 'spend', 'events', 'refunds'] as const;

/** Preset names in detection order (the specific ones before `generic`). */
export const PRESET_NAMES = ['online-retail', 'cdnow', 'shopify', 'woocommerce', 'generic'] as const;

/**
 * Other names of generic fields that files commonly use, per entity, in the normalised form a header
 * is compared in (lower case, `_` for spaces, dashes and dots: `Coupon Code` → `coupon_code`). A column
 * so named is read as the field unless a column of the file already supplies it (columns.ts).
 */
export const HEADER_ALIASES: Partial<
  Record<(typeof ENTITY_NAMES)[number], Readonly<Record<string, string>>>
> = {
  orders: {
    discount_code: 'discount_codes',
    coupon: 'discount_codes',
    coupons: 'discount_codes',
    coupon_code: 'discount_codes',
    coupon_codes: 'discount_codes',
    promo_code: 'discount_codes',
    promo_codes: 'discount_codes',
  },
};

/**
 * `source column=field` renames (`retain import --map`, the upload's `map` query parameter) as a
 * record; `field` names the option in errors.
 */
export function parseMap(values: readonly string[], field = '--map'): Record<string, string> {
  const map: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1)
      throw invalid(`expected ${field} source_column=field, got '${v}'`, { field });
    map[v.slice(0, i)] = v.slice(i + 1);
  }
  return map;
}

/** How a repeated order row's warning begins (the import's text output gathers them into one line). */
export const REPEATED_ROW = 'repeats line';
