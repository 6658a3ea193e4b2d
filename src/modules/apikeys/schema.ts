import { z } from '@hono/zod-openapi';

/** Roles an API key can hold (docs: src/server/auth.ts has the permission table). */
export const Role = z.enum(['admin', 'analyst', 'marketer', 'agent']);
export type Role = z.infer<typeof Role>;

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
