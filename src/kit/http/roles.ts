import { z } from '@hono/zod-openapi';

/** Roles an API key or a user can hold. */
export const Role = z.enum(['admin', 'analyst', 'marketer', 'agent']);
export type Role = z.infer<typeof Role>;

/** What a route may require. */
export type Permission =
  | 'customers:read'
  | 'customers:write'
  | 'consent:write'
  | 'commerce:read'
  | 'reports:read'
  | 'imports:read'
  | 'ingest'
  | 'export'
  | 'segments:write'
  | 'campaigns:write'
  | 'messaging:read'
  | 'messaging:write'
  | 'keys:manage'
  | 'users:manage'
  | 'models:run'
  | 'events:read'
  | 'store:manage'
  | 'loyalty:read'
  | 'loyalty:write'
  | 'loyalty:manage'
  | 'tasks:read'
  | 'tasks:write'
  | 'customers:360'
  | 'notes:write'
  | 'tags:write'
  | 'surveys:read'
  | 'surveys:write'
  | 'subscriptions:read'
  | 'subscriptions:write'
  | 'subscriptions:manage';

/**
 * The role table. analyst: read-only over everything; agent: a customer's record, orders and consent
 * (support desk), the customer 360 (timeline, notes, tags), service tasks, no reports, exports or
 * ingestion; marketer: reads + segments/campaigns + tasks + notes and tags; admin: all.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: [
    'customers:read',
    'customers:write',
    'consent:write',
    'commerce:read',
    'reports:read',
    'imports:read',
    'ingest',
    'export',
    'segments:write',
    'campaigns:write',
    'messaging:read',
    'messaging:write',
    'keys:manage',
    'users:manage',
    'models:run',
    'events:read',
    'store:manage',
    'loyalty:read',
    'loyalty:write',
    'loyalty:manage',
    'tasks:read',
    'tasks:write',
    'customers:360',
    'notes:write',
    'tags:write',
    'surveys:read',
    'surveys:write',
    'subscriptions:read',
    'subscriptions:write',
    'subscriptions:manage',
  ],
  analyst: [
    'customers:read',
    'commerce:read',
    'reports:read',
    'imports:read',
    'export',
    'models:run',
    'events:read',
    'messaging:read',
    'loyalty:read',
    'tasks:read',
    'customers:360',
    'surveys:read',
    'subscriptions:read',
  ],
  marketer: [
    'customers:read',
    'commerce:read',
    'reports:read',
    'consent:write',
    'segments:write',
    'campaigns:write',
    'messaging:read',
    'messaging:write',
    'loyalty:read',
    'loyalty:write',
    'loyalty:manage',
    'tasks:read',
    'tasks:write',
    'customers:360',
    'notes:write',
    'tags:write',
    'surveys:read',
    'surveys:write',
    'subscriptions:read',
    'subscriptions:write',
    'subscriptions:manage',
  ],
  agent: [
    'customers:read',
    'commerce:read',
    'consent:write',
    'loyalty:read',
    'loyalty:write',
    'tasks:read',
    'tasks:write',
    'customers:360',
    'notes:write',
    'tags:write',
    'surveys:read',
    'subscriptions:read',
    'subscriptions:write',
  ],
};

/** Roles holding a permission (for the OpenAPI descriptions). */
export const rolesWith = (p: Permission): Role[] =>
  (Object.keys(ROLE_PERMISSIONS) as Role[]).filter((r) => ROLE_PERMISSIONS[r].includes(p));
