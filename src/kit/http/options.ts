import { z } from '@hono/zod-openapi';
import { AppError } from '../../shared/errors.js';
import { validationError } from './errors.js';

/** A CLI flag as a query parameter: `true` or `false` (`--no-default-exclusions` is `defaultExclusions=false`). */
export const queryFlag = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((v) => v === 'true');

/** The query string as the CLI option parsers expect it: one value, or a list when a name repeats. */
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
 * Parses a CLI command's options sent as a query or a JSON body with (an HTTP variant of) the
 * command's own schema. Options that would read or write files on the server are refused by name
 * with `cliOnly`'s reason, and unknown names too: a misspelt option silently ignored would return a
 * plausible but wrong answer. Errors have the API's shape (`details.issues[{path, message}]`).
 */
export function parseCliOptions<S extends z.ZodObject>(
  schema: S,
  raw: unknown,
  what: 'query' | 'body',
  cliOnly: Readonly<Record<string, string>> = {},
): z.infer<S> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AppError('validation', `the ${what} must be a JSON object of options`);
  const known = Object.keys(schema.shape);
  for (const name of Object.keys(raw)) {
    const reason = cliOnly[name];
    if (reason !== undefined) throw refuse(name, `${name} is a CLI-only option: ${reason}`);
    if (!known.includes(name))
      throw refuse(name, `unknown ${what} parameter ${name}; known: ${known.join(', ')}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}
