import { AppError } from '../../../shared/errors.js';
import type { Entity } from '../schema.js';
import { cdnowPreset } from './cdnow.js';
import { genericPreset } from './generic.js';
import { onlineRetailPreset } from './onlineRetail.js';
import { shopifyPreset } from './shopify.js';
import type { Preset } from './types.js';
import { woocommercePreset } from './woocommerce.js';

/** Every preset; detection tries the specific ones before `generic`. */
export const PRESETS: readonly Preset[] = [
  onlineRetailPreset,
  cdnowPreset,
  shopifyPreset,
  woocommercePreset,
  genericPreset,
];

export function presetByName(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p)
    throw new AppError(
      'validation',
      `unknown preset '${name}'; expected one of ${PRESETS.map((x) => x.name).join(', ')}`,
      { where: { field: '--preset' } },
    );
  return p;
}

/** Picks the preset whose columns the file has, or fails listing what each preset expects. */
export function detectPreset(entity: Entity, columns: string[], firstLine: string, file: string): Preset {
  const found = PRESETS.find((p) => p.entities.includes(entity) && p.detect(entity, columns, firstLine));
  if (found) return found;
  for (const p of PRESETS) {
    const why = p.refuse?.(entity, columns);
    if (why) throw new AppError('validation', why, { where: { file, line: 1 } });
  }
  const expected = PRESETS.filter((p) => p.entities.includes(entity))
    .map((p) => `${p.name}: ${p.expectedColumns(entity).join(', ')}`)
    .join('; ');
  throw new AppError(
    'validation',
    `the header matches no preset for ${entity} (found: ${columns.slice(0, 12).join(', ')}). Expected columns — ${expected}. Use --preset and --map col=field to adapt`,
    {
      where: { file, line: 1 },
    },
  );
}

export type { Preset } from './types.js';
