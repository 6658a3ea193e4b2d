import { invalid } from '../../../shared/errors.js';
import type { Secret } from './schema.js';

/** The environment secrets are read from (process.env by default; tests pass their own). */
export type Env = Record<string, string | undefined>;

/**
 * A secret's value: itself, or the environment variable it names. A variable that is unset or empty
 * is an error naming the config field (`sms.auth.token`) and the variable.
 */
export function resolveSecret(secret: Secret, field: string, env: Env): string {
  if (typeof secret === 'string') return secret;
  const value = env[secret.env];
  if (value === undefined || value === '')
    throw invalid(`environment variable ${secret.env} (named by ${field}) is not set`, { field });
  return value;
}
