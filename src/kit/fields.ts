import type { z } from 'zod';

/** What a zod field says about itself, for the CLI options and the HTTP input parser built from one schema. */
export interface Field {
  type: string;
  optional: boolean;
  defaultValue: unknown;
  description: string | undefined;
}

/** Looks through optional/default/nullable/pipe wrappers for the base type, default and description. */
export function fieldOf(schema: z.ZodType): Field {
  let s = schema as z.ZodType & { description?: string };
  let optional = false;
  let defaultValue: unknown;
  let description = s.description;
  for (;;) {
    const def = (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    if (def.type === 'optional' || def.type === 'nullable') optional = true;
    else if (def.type === 'default') defaultValue = def.defaultValue;
    else if (def.type !== 'pipe') return { type: def.type, optional, defaultValue, description };
    s = (def.type === 'pipe' ? def.in : def.innerType) as typeof s;
    description ??= s.description;
  }
}
