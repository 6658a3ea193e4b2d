import { z } from '@hono/zod-openapi';
import { AppError } from '../../shared/errors.js';
import { fieldOf } from '../fields.js';
import { validationError } from './errors.js';

/** A boolean query parameter: `true` or `false` (`--no-default-exclusions` is `defaultExclusions=false`). */
export const queryFlag = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((v) => v === 'true');

/** The query string as an input: one value, or a list when a name repeats. */
export function queryOf(queries: Record<string, string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(queries)) out[k] = v.length === 1 ? v[0]! : v;
  return out;
}

const refuse = (field: string, message: string) =>
  new AppError('validation', message, {
    where: { field },
    details: { issues: [{ path: field, message }] },
  });

/**
 * Parses a service's input sent as a query or a JSON body with the service's input schema. Unknown
 * names are refused (a misspelt parameter silently ignored would return a plausible but wrong answer);
 * a name the CLI command offers besides the input (`command`: its options schema, e.g. files to read
 * or write) is refused as CLI-only. Errors have the API's shape (`details.issues[{path, message}]`).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  what: 'query' | 'body',
  command?: z.ZodObject,
): z.infer<S> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AppError('validation', `the ${what} must be a JSON object of options`);
  const known = Object.keys(shapeOf(schema));
  for (const name of Object.keys(raw)) {
    if (known.includes(name)) continue;
    if (command && name in command.shape) {
      const about = fieldOf(command.shape[name] as z.ZodType).description;
      throw refuse(
        name,
        `${name} is a CLI-only option${about ? ` (${about})` : ''}: the API works on the stored data`,
      );
    }
    throw refuse(name, `unknown ${what} parameter ${name}; known: ${known.join(', ')}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}

/** The object shape of a schema, through refinements (`z.object(…).refine(…)` keeps its shape). */
function shapeOf(schema: z.ZodType): Record<string, unknown> {
  const s = schema as unknown as { shape?: Record<string, unknown> };
  if (s.shape) return s.shape;
  throw new Error('parseInput needs an object schema');
}
