import { z } from '@hono/zod-openapi';

import { Role } from '../../kit/http/auth.js';

export { Role };

export const KeyName = z.string().trim().min(1, 'is required').max(100, 'at most 100 characters');

/** A key as listed (never the secret). */
export const ApiKeyInfo = z.object({
  keyId: z.string(),
  /** The key's first characters, `rk_<keyId>_`: how to tell which key a client holds. */
  prefix: z
    .string()
    .openapi({ description: 'the start of the key, `rk_<keyId>_`', example: 'rk_3f9a0c1b2d_' }),
  name: z.string(),
  /** What the key may do: one role of the role table (docs/api.md). */
  role: Role,
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z
    .string()
    .nullable()
    .openapi({ description: 'last authentication with the key, to the minute; null: never used' }),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;
