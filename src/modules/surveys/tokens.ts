import { randomBytes } from 'node:crypto';
import { sameSignature as same, signatureOf as mac } from '../../shared/signed.js';

/**
 * The signed links of a survey invitation, HMAC-SHA-256 with the store's link secret (the one of the
 * unsubscribe links), each purpose with its own prefix so no token of one kind is valid as another:
 * - a score link `/s/<invitation>.<score>.<mac>`: one per possible score in the invitation message,
 *   so the score is one click from the email;
 * - the "why" form `/s/<invitation>.w.<mac>`: the page the score link opens posts to it.
 */

/** A fresh invitation id: 16 URL-safe characters (96 random bits). */
export const newInvitationId = () => randomBytes(12).toString('base64url');

export const scoreToken = (secret: string, invitation: string, score: number) =>
  `${invitation}.${score}.${mac(secret, 'survey-score', `${invitation}:${score}`)}`;

export const whyToken = (secret: string, invitation: string) =>
  `${invitation}.w.${mac(secret, 'survey-why', invitation)}`;

export type SurveyToken =
  { kind: 'score'; invitation: string; score: number } | { kind: 'why'; invitation: string };

/** What a token says, or null when it is not one of ours (tampered, truncated, another purpose). */
export function readToken(secret: string, token: string): SurveyToken | null {
  const m = /^([A-Za-z0-9_-]{16})\.(\d{1,2}|w)\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const invitation = m[1] as string;
  if (m[2] === 'w')
    return same(mac(secret, 'survey-why', invitation), m[3] as string) ? { kind: 'why', invitation } : null;
  const score = Number(m[2]);
  return same(mac(secret, 'survey-score', `${invitation}:${score}`), m[3] as string)
    ? { kind: 'score', invitation, score }
    : null;
}
