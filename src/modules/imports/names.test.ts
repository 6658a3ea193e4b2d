import { describe, expect, it } from 'vitest';
import { ENTITY_NAMES, PRESET_NAMES } from './names.js';
import { PRESETS } from './presets/index.js';
import { Entity } from './schema.js';

describe('import names shown before the importer loads', () => {
  it('PRESET_NAMES lists every preset, in detection order', () => {
    expect([...PRESET_NAMES]).toEqual(PRESETS.map((p) => p.name));
  });

  it('ENTITY_NAMES are the Entity enum', () => {
    expect([...ENTITY_NAMES]).toEqual(Entity.options);
  });
});
