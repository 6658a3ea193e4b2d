import { describe, expect, it } from 'vitest';
import { idOfToken, idToken, sameSignature, signatureOf } from './signed.js';

describe('signed link tokens', () => {
  it('read back their id for their purpose only, one spelling per id', () => {
    const t = idToken('secret', 'card', 12345);
    expect(t).toMatch(/^9ix\.[A-Za-z0-9_-]{32}$/);
    expect(idOfToken('secret', 'card', t)).toBe(12345);
    expect(idOfToken('secret', 'preferences', t)).toBeNull();
    expect(idOfToken('other', 'card', t)).toBeNull();
    expect(idOfToken('secret', 'card', `0${t}`)).toBeNull(); // a leading zero: not how we spell it
    expect(idOfToken('secret', 'card', t.replace(/^9ix/, '9iy'))).toBeNull();
    expect(idOfToken('secret', 'card', `${t.slice(0, -1)}A`)).toBeNull();
    expect(idOfToken('secret', 'card', 'nonsense')).toBeNull();
    expect(() => idToken('secret', 'card', 0)).toThrow(RangeError);
  });

  it('compare signatures whole', () => {
    const s = signatureOf('secret', 'open', 'key');
    expect(s).toHaveLength(32);
    expect(sameSignature(s, s)).toBe(true);
    expect(sameSignature(s, s.slice(0, 31))).toBe(false);
    expect(sameSignature(s, signatureOf('secret', 'click', 'key'))).toBe(false);
  });
});
