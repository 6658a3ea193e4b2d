import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signatures of Retain's public links (preference, confirmation, tracking, survey, loyalty card,
 * subscription pages): HMAC-SHA-256 of `<purpose>:<value>` with the store's link secret, base64url, 32
 * characters (192 bits). Each kind of link has its own purpose, so a token of one kind is never valid as
 * another.
 */
export function signatureOf(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${value}`).digest('base64url').slice(0, 32);
}

/** Whether `given` is the signature `expected`, compared in constant time. */
export function sameSignature(expected: string, given: string): boolean {
  const x = Buffer.from(expected);
  const y = Buffer.from(given);
  return x.length === y.length && timingSafeEqual(x, y);
}

const ID_TOKEN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{32})$/;

/** `<id base 36>.<signature>`: a link naming one row (a customer, a subscription) for one purpose. */
export function idToken(secret: string, purpose: string, id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`not an id: ${id}`);
  return `${id.toString(36)}.${signatureOf(secret, purpose, String(id))}`;
}

/**
 * The id of an {@link idToken} of `purpose`, or null when it is not one of ours (altered, another
 * purpose, malformed, or an id spelt otherwise than we spell it — one token per id).
 */
export function idOfToken(secret: string, purpose: string, token: string): number | null {
  const m = ID_TOKEN.exec(token);
  if (!m) return null;
  const id = parseInt(m[1] as string, 36);
  if (!Number.isSafeInteger(id) || id <= 0 || id.toString(36) !== m[1]) return null;
  return sameSignature(signatureOf(secret, purpose, String(id)), m[2] as string) ? id : null;
}
