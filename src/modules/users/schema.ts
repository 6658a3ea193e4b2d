import { z } from '@hono/zod-openapi';
import { Role } from '../apikeys/schema.js';

/** The rules every user passes, whether created by `retain users create` or `POST /v1/users`. */
export const Email = z.string().trim().toLowerCase().email('expected an email address');
export const Password = z.string().min(12, 'at least 12 characters').max(200, 'at most 200 characters');
export const Login = z.object({ email: Email, password: z.string().min(1).max(200) }).openapi('Login');

export const CreateUser = z
  .object({
    email: Email.openapi({ example: 'mia@shop.com' }),
    role: Role,
    password: Password.openapi({ description: '12–200 characters; stored as an scrypt hash' }),
  })
  .strict()
  .openapi('CreateUser');

/** `PATCH /v1/users/{email}`: a new role and/or a new password (which ends the user's sessions). */
export const UpdateUser = z
  .object({
    role: Role.optional(),
    password: Password.optional().openapi({
      description: "a new password (12–200 characters); the user's sessions end",
    }),
  })
  .strict()
  .refine((b) => b.role !== undefined || b.password !== undefined, {
    error: 'give a role, a password or both',
    path: ['role'],
  })
  .openapi('UpdateUser');
export type UpdateUser = z.infer<typeof UpdateUser>;

/** A user as listed (never the password hash). */
export const UserInfo = z
  .object({
    email: z.string(),
    role: Role,
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
  })
  .openapi('User');
export type UserInfo = z.infer<typeof UserInfo>;
