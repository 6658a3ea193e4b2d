import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ModuleContext } from '../../kit/context.js';
import { linkSecretOf, publicBase } from '../messaging/links.js';
import { getPolicy } from '../messaging/service.js';

/**
 * The customer's link to their own subscription page (`/m/<token>`): HMAC-SHA-256 with the store's link
 * secret (the one of the unsubscribe and preference links) under its own purpose prefix, so no token of
 * another kind (preferences, surveys, confirmations) is valid here. `<subscription id base 36>.<mac>`:
 * one per subscription, it never expires (like the preference link); the token is the capability.
 */

const PURPOSE = 'subscription-manage';

const mac = (secret: string, value: string) =>
  createHmac('sha256', secret).update(`${PURPOSE}:${value}`).digest('base64url').slice(0, 32);

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `<subscription id base 36>.<mac>` */
export function manageToken(secret: string, subscriptionId: number): string {
  return `${subscriptionId.toString(36)}.${mac(secret, String(subscriptionId))}`;
}

/** The subscription of a manage token, or null when it is not one of ours (tampered, truncated, another purpose). */
export function subscriptionOfManageToken(secret: string, token: string): number | null {
  const m = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const id = parseInt(m[1] as string, 36);
  return Number.isSafeInteger(id) && id > 0 && same(mac(secret, String(id)), m[2] as string) ? id : null;
}

/**
 * `<messaging policy publicUrl>/m/<token>`, the customer's page of one subscription; null while the
 * policy has no publicUrl (there is no address to link to). The first call on a store writes the link
 * secret: call it before a transaction, not inside one (on DuckDB it would wait for that transaction).
 */
export async function manageUrl(ctx: ModuleContext, subscriptionId: number): Promise<string | null> {
  const base = publicBase((await getPolicy(ctx)).publicUrl);
  if (!base) return null;
  return `${base}/m/${manageToken(await linkSecretOf(ctx), subscriptionId)}`;
}
