import { randomBytes } from 'node:crypto';
import type { ModuleContext } from '../../kit/context.js';
import { idOfToken, idToken, sameSignature as same, signatureOf as mac } from '../../shared/signed.js';
import * as repo from './repository.js';

/**
 * Signed links of the contact's consent tools: the preference page (`/p/<token>`, one per customer,
 * never expires) and the double opt-in confirmation (`/c/<token>`, one per request). Both are HMAC-SHA-256
 * with the store's link secret (the one of the unsubscribe links), each with its own purpose prefix, so a
 * token of one kind is never valid as another.
 */

export async function linkSecretOf(ctx: Pick<ModuleContext, 'db'>): Promise<string> {
  return repo.linkSecret(ctx.db, randomBytes(32).toString('base64url'));
}

/** `<customer id base 36>.<mac>` */
export const preferencesToken = (secret: string, customerId: number): string =>
  idToken(secret, 'preferences', customerId);

/** The customer of a preference token, or null when it is not one of ours. */
export const customerOfPreferencesToken = (secret: string, token: string): number | null =>
  idOfToken(secret, 'preferences', token);

/** `<request id, base64url>.<mac>` */
export function confirmToken(secret: string, requestId: string): string {
  return `${Buffer.from(requestId).toString('base64url')}.${mac(secret, 'confirm', requestId)}`;
}

/** The request of a confirmation token, or null when it is not one of ours. */
export function requestOfConfirmToken(secret: string, token: string): string | null {
  const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const id = Buffer.from(m[1] as string, 'base64url').toString();
  return same(mac(secret, 'confirm', id), m[2] as string) ? id : null;
}

/** The public base URL without a trailing slash, or null. */
export const publicBase = (publicUrl: string | null): string | null =>
  publicUrl ? publicUrl.replace(/\/$/, '') : null;
