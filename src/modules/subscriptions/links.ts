import type { ModuleContext } from '../../kit/context.js';
import { idOfToken, idToken } from '../../shared/signed.js';
import { linkSecretOf, publicBase } from '../messaging/links.js';
import { getPolicy } from '../messaging/service.js';

/**
 * The customer's link to their own subscription page (`/m/<token>`): HMAC-SHA-256 with the store's link
 * secret (the one of the unsubscribe and preference links) under its own purpose prefix, so no token of
 * another kind (preferences, surveys, confirmations) is valid here. `<subscription id base 36>.<mac>`:
 * one per subscription, it never expires (like the preference link); the token is the capability.
 */

const PURPOSE = 'subscription-manage';

/** `<subscription id base 36>.<mac>` */
export const manageToken = (secret: string, subscriptionId: number): string =>
  idToken(secret, PURPOSE, subscriptionId);

/** The subscription of a manage token, or null when it is not one of ours (tampered, truncated, another purpose). */
export const subscriptionOfManageToken = (secret: string, token: string): number | null =>
  idOfToken(secret, PURPOSE, token);

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
