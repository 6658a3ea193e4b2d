/**
 * The entity and preset names as plain constants: the CLI lists them in `retain import --help`, and
 * loading them must not load zod and every import schema (that cost every command ~20 ms of start-up).
 * schema.ts builds the Entity enum from ENTITY_NAMES; a test keeps PRESET_NAMES equal to PRESETS.
 */
export const ENTITY_NAMES = ['orders', 'customers', 'products', 'spend', 'events', 'refunds'] as const;

/** Preset names in detection order (the specific ones before `generic`). */
export const PRESET_NAMES = ['online-retail', 'cdnow', 'shopify', 'woocommerce', 'generic'] as const;
