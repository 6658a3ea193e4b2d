import { sameSignature as same, signatureOf as mac } from '../../shared/signed.js';

/**
 * Engagement tracking of marketing email (issue 25; docs/messaging.md#tracking): an open pixel
 * (`<publicUrl>/o/<token>`) and signed redirect links (`<publicUrl>/l/<token>`). Each token is an
 * HMAC-SHA-256 of the store's link secret with a purpose of its own (`open`, `click`), so a token is
 * never valid as another kind, and a click token carries its destination under the signature: an altered
 * URL is refused, and the server redirects only where the store's own message pointed (no open redirect).
 * Pure string work; the service records what the routes receive.
 */

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString();

/** `<send key, base64url>.<mac>` */
export function openToken(secret: string, key: string): string {
  return `${b64(key)}.${mac(secret, 'open', key)}`;
}

/** The send key of an open token, or null when it is not one of ours. */
export function keyOfOpenToken(secret: string, token: string): string | null {
  const m = /^([A-Za-z0-9_-]{1,700})\.([A-Za-z0-9_-]{32})$/.exec(token.replace(/\.gif$/, ''));
  if (!m) return null;
  const key = unb64(m[1] as string);
  return same(mac(secret, 'open', key), m[2] as string) ? key : null;
}

/** `<send key, base64url>.<url, base64url>.<mac of both>` */
export function clickToken(secret: string, key: string, url: string): string {
  return `${b64(key)}.${b64(url)}.${mac(secret, 'click', `${key}\n${url}`)}`;
}

/** The send key and destination of a click token, or null when it is not one of ours. */
export function ofClickToken(secret: string, token: string): { key: string; url: string } | null {
  const m = /^([A-Za-z0-9_-]{1,700})\.([A-Za-z0-9_-]{1,6000})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const key = unb64(m[1] as string);
  const url = unb64(m[2] as string);
  if (!same(mac(secret, 'click', `${key}\n${url}`), m[3] as string)) return null;
  return /^https?:\/\//i.test(url) ? { key, url } : null;
}

const decodeAttr = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

export interface TrackOptions {
  /** The public base URL (no trailing slash). */
  base: string;
  secret: string;
  /** The send's key. */
  key: string;
  opens: boolean;
  clicks: boolean;
  /** Links left as they are: the message's own unsubscribe and preference links. */
  keep: readonly string[];
}

/**
 * The message with its http(s) links (HTML `href`s and URLs in the text part) through the redirect and
 * the pixel before `</body>`. The unsubscribe and preference links stay direct (a contact's way out
 * never depends on the tracker, and RFC 8058 needs the List-Unsubscribe URL as it is).
 */
export function trackMessage<M extends { html?: string | undefined; text: string }>(
  m: M,
  o: TrackOptions,
): M {
  const keep = new Set(o.keep);
  const redirect = (url: string) =>
    keep.has(url) ? null : `${o.base}/l/${clickToken(o.secret, o.key, url)}`;
  let html = m.html;
  let text = m.text;
  if (o.clicks) {
    if (html !== undefined)
      // Links a reader follows (`<a>`, `<area>`), not the stylesheets and fonts of the head.
      html = html.replace(/<(a|area)\b[^>]*>/gi, (tag) =>
        tag.replace(/\bhref=(["'])(https?:\/\/[^"']+)\1/i, (all, q: string, raw: string) => {
          const to = redirect(decodeAttr(raw));
          return to ? `href=${q}${to}${q}` : all;
        }),
      );
    text = text.replace(/https?:\/\/[^\s<>"'\])]+/gi, (found) => {
      // A sentence's full stop or comma after a URL is not part of it.
      const url = found.replace(/[.,;:!?]+$/, '');
      return (redirect(url) ?? url) + found.slice(url.length);
    });
  }
  if (o.opens && html !== undefined) {
    const pixel = `<img src="${o.base}/o/${openToken(o.secret, o.key)}.gif" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
    html = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${pixel}</body>`) : html + pixel;
  }
  return { ...m, ...(html !== undefined ? { html } : {}), text };
}

/** A transparent 1×1 GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
