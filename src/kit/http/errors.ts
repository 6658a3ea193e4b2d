import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { AppError, HTTP_STATUS } from '../../shared/errors.js';
import type { AppEnv } from './context.js';

/** The one error shape of the API: `{"error":{"code","message","details"}}`. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(HTTP_STATUS) as [keyof typeof HTTP_STATUS, ...(keyof typeof HTTP_STATUS)[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export interface Issue {
  path: string;
  message: string;
}

/** zod issues as `[{path: 'events.3.type', message}]`. */
export function issuesOf(error: ZodError, prefix: (string | number)[] = []): Issue[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join('.'),
    message: i.message === 'Invalid input: expected string, received undefined' ? 'is required' : i.message,
  }));
}

/** A 400 carrying every issue of a zod error. */
export function validationError(error: ZodError, what = 'request'): AppError {
  return issuesError(issuesOf(error), what);
}

/** A 400 carrying `issues`, the first in the message: `invalid order: lines.0.quantity: …`. */
export function issuesError(issues: Issue[], what = 'request'): AppError {
  const first = issues[0];
  return new AppError(
    'validation',
    first ? `invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}` : `invalid ${what}`,
    { details: { issues }, ...(first?.path ? { where: { field: first.path } } : {}) },
  );
}

export function errorJson(c: Context<AppEnv>, err: AppError, headers: Record<string, string> = {}) {
  const details =
    err.details !== undefined ? err.details : err.where?.field ? { field: err.where.field } : undefined;
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json(
    { error: { code: err.code, message: err.message, ...(details !== undefined ? { details } : {}) } },
    HTTP_STATUS[err.code] as 400,
  );
}

/** Maps anything thrown by a handler onto the error shape; unexpected errors are logged, not shown. */
export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof AppError) {
    const headers: Record<string, string> = {};
    const retry = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if (err.code === 'rate_limited' && retry !== undefined) headers['Retry-After'] = String(retry);
    if (err.code === 'internal') c.get('log')?.error({ err }, 'internal error');
    return errorJson(c, err, headers);
  }
  if (err instanceof HTTPException) {
    const code =
      err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : 'validation';
    return errorJson(c, new AppError(code, err.message || 'bad request'));
  }
  if (err instanceof SyntaxError)
    return errorJson(c, new AppError('validation', `malformed JSON: ${err.message}`));
  c.get('log')?.error({ err }, 'unhandled error');
  return errorJson(c, new AppError('internal', `internal error (request ${c.get('requestId') ?? '?'})`));
}
