import type { z } from 'zod';
import { issuesError, issuesOf } from '../../../kit/http/errors.js';

/**
 * Parses a channel config with its schema; every issue names its JSON path below `prefix`
 * (`sms.deliveryReport.idPath`), the first in the message: `invalid channel config in RETAIN_CHANNELS:
 * sms.url: must be an http(s) URL`.
 */
export function openConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: string | null,
  where = 'the channel config',
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw issuesError(issuesOf(r.error, prefix === null ? [] : [prefix]), `channel config in ${where}`);
}
