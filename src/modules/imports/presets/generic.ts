import { GENERIC_REQUIRED, type Entity } from '../schema.js';
import { renamed, type Preset } from './types.js';

/** Retain's own column names (docs/import-formats.md); `--map` adapts any other header to them. */
export const genericPreset: Preset = {
  name: 'generic',
  description: "Retain's own column names (see docs/import-formats.md)",
  entities: ['orders', 'customers', 'products', 'spend', 'events', 'refunds'],
  independentRows: true,
  expectedColumns: (entity: Entity) => GENERIC_REQUIRED[entity],
  detect: (entity, columns) => GENERIC_REQUIRED[entity].every((c) => columns.includes(c)),
  createMapper: (entity, opts) => (values) => {
    const v = renamed(values, opts.map);
    if (GENERIC_CURRENCY_ENTITIES.has(entity) && (v.currency === undefined || v.currency === ''))
      v.currency = opts.currency;
    return [{ kind: 'row', entity, values: v }];
  },
};

const GENERIC_CURRENCY_ENTITIES = new Set<Entity>(['orders', 'refunds', 'products', 'spend']);
