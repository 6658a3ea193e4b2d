import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
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
  refuseUnknownNames(schema, Object.keys(raw), what, command);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}

/**
 * Throws the validation error for the first of `names` that `schema` does not declare: a name of the
 * command's options (`command`) is refused as CLI-only, any other as unknown, listing the known ones.
 */
export function refuseUnknownNames(
  schema: z.ZodType,
  names: readonly string[],
  what: 'query' | 'body',
  command?: z.ZodObject,
): void {
  const known = Object.keys(shapeOf(schema));
  for (const name of names) {
    if (known.includes(name)) continue;
    if (command && name in command.shape) {
      const about = fieldOf(command.shape[name] as z.ZodType).description;
      throw refuse(
        name,
        `${name} is a CLI-only option${about ? ` (${about})` : ''}: the API works on the stored data`,
      );
    }
    throw refuse(name, `unknown ${what} parameter ${name}; known: ${known.join(', ') || '(none)'}`);
  }
}

/**
 * Route middleware refusing query parameters that `schema` does not declare (400 naming the parameter
 * and the known ones). `securedRoute` mounts it on every route with a query schema: the validator
 * would otherwise drop an unknown name silently (`?asof=` for `asOf`) and answer as if it was not sent.
 */
export function refuseUnknownQuery(schema: z.ZodType): MiddlewareHandler {
  shapeOf(schema); // an object schema, checked when the route is declared
  return async (c, next) => {
    refuseUnknownNames(schema, Object.keys(c.req.queries()), 'query');
    await next();
  };
}

/** The object shape of a schema, through refinements (`z.object(…).refine(…)` keeps its shape). */
function shapeOf(schema: z.ZodType): Record<string, unknown> {
  const s = schema as unknown as { shape?: Record<string, unknown> };
  if (s.shape) return s.shape;
  throw new Error('parseInput needs an object schema');
}
