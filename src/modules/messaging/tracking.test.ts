import { describe, expect, it } from 'vitest';
import { clickToken, keyOfOpenToken, ofClickToken, openToken, trackMessage } from './tracking.js';

const secret = 'test-secret';
const base = 'https://shop.test/r';

describe('engagement tracking links', () => {
  it('round-trips open and click tokens; an altered or foreign token is refused', () => {
    const key = 'campaign%3Aspring/variant-B/42/spring';
    expect(keyOfOpenToken(secret, openToken(secret, key))).toBe(key);
    expect(keyOfOpenToken(secret, `${openToken(secret, key)}.gif`)).toBe(key);
    const url = 'https://shop.test/picks?utm=mail&x=1';
    expect(ofClickToken(secret, clickToken(secret, key, url))).toEqual({ key, url });
    // Another destination under the same signature: refused (no open redirect).
    const [k, , m] = clickToken(secret, key, url).split('.');
    const evil = `${k}.${Buffer.from('https://evil.test/').toString('base64url')}.${m}`;
    expect(ofClickToken(secret, evil)).toBeNull();
    // A token of one purpose is not valid as the other, nor under another secret.
    expect(keyOfOpenToken(secret, clickToken(secret, key, url))).toBeNull();
    expect(ofClickToken('other', clickToken(secret, key, url))).toBeNull();
    expect(keyOfOpenToken('other', openToken(secret, key))).toBeNull();
    // A signed non-http destination is refused too.
    expect(ofClickToken(secret, clickToken(secret, key, 'javascript:alert(1)'))).toBeNull();
  });

  it('redirects every http(s) link but the way out, and adds the pixel before </body>', () => {
    const unsubscribe = 'https://shop.test/r/u/abc.def';
    const html =
      `<html><head><link href="https://fonts.test/css?family=Ubuntu" rel="stylesheet" /></head><body><a href="https://shop.test/picks?a=1&amp;b=2">Picks</a> <a href='http://shop.test/x'>x</a>` +
      ` <a href="mailto:help@shop.test">mail</a> <a href="${unsubscribe}">Unsubscribe</a></body></html>`;
    const text = `See https://shop.test/picks?a=1&b=2. Or (https://shop.test/x), unsubscribe: ${unsubscribe}`;
    const out = trackMessage(
      { html, text, subject: 's' },
      { base, secret, key: 'k1', opens: true, clicks: true, keep: [unsubscribe] },
    );
    const hrefs = [...out.html!.matchAll(/<a href=["']([^"']+)["']/g)].map((m) => m[1]!);
    expect(hrefs[0]!.startsWith(`${base}/l/`)).toBe(true);
    expect(ofClickToken(secret, hrefs[0]!.slice(`${base}/l/`.length))).toEqual({
      key: 'k1',
      url: 'https://shop.test/picks?a=1&b=2',
    });
    expect(ofClickToken(secret, hrefs[1]!.slice(`${base}/l/`.length))!.url).toBe('http://shop.test/x');
    expect(hrefs[2]).toBe('mailto:help@shop.test');
    expect(hrefs[3]).toBe(unsubscribe);
    expect(out.html).toMatch(/<img src="https:\/\/shop\.test\/r\/o\/[^"]+\.gif"[^>]*\/><\/body>/);
    expect(out.subject).toBe('s');
    expect(out.html).toContain('<link href="https://fonts.test/css?family=Ubuntu"');
    // The text part: the full stop and the bracket stay outside the link; the way out stays direct.
    const links = [...out.text.matchAll(/https:\/\/shop\.test\/r\/l\/([A-Za-z0-9._-]+)/g)].map(
      (m) => ofClickToken(secret, m[1]!.replace(/\.$/, ''))?.url,
    );
    expect(links).toEqual(['https://shop.test/picks?a=1&b=2', 'https://shop.test/x']);
    expect(out.text).toContain('. Or (');
    expect(out.text.endsWith(unsubscribe)).toBe(true);
  });

  it('leaves the message as it is with tracking off', () => {
    const m = { html: '<body><a href="https://a.test/">a</a></body>', text: 'https://a.test/' };
    expect(trackMessage(m, { base, secret, key: 'k', opens: false, clicks: false, keep: [] })).toEqual(m);
  });
});
