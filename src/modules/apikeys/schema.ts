import { z } from '@hono/zod-openapi';

import { Role } from '../../kit/http/auth.js';

export { Role };

export const KeyName = z.string().trim().min(1, 'is required').max(100, 'at most 100 characters');

/** A key as listed (never the secret). */
export const ApiKeyInfo = z.object({
  keyId: z.string(),
  name: z.string(),
  role: Role,
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;
