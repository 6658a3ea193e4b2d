import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  ByteDecoder,
  checkEncoding,
  decodeWhole,
  escapesIn,
  firstInvalidUtf8,
  InvalidBytes,
  sniffEncoding,
  splittableEncoding,
} from './encoding.js';

const TEXT = 'order_id;customer;total\n1;Олена Коваль;₴1 234,50\n2;Zoë;€3\n';

/** Decodes `bytes` fed in pieces of `size` bytes. */
function decodeInPieces(bytes: Buffer, encoding: string, size: number, invalid?: number[]): string {
  const d = new ByteDecoder(encoding);
  let out = '';
  for (let i = 0; i < bytes.length; i += size) out += d.write(bytes.subarray(i, i + size));
  out += d.end();
  if (invalid) while (d.invalid.outstanding > 0) invalid.push(d.invalid.take(1));
  return out;
}

/** The escape a byte that is not UTF-8 decodes to. */
const esc = (byte: number) => String.fromCharCode(0xdc00 + byte);

describe('file encodings', () => {
  it('detects BOMs, UTF-16 without BOM by its NUL bytes, else UTF-8', () => {
    expect(sniffEncoding(Buffer.from('\ufeffa,b', 'utf8'))).toEqual({
      value: 'utf-8',
      detected: true,
      by: 'bom',
    });
    expect(sniffEncoding(iconv.encode('\ufeffa,b', 'utf-16le')).value).toBe('utf-16le');
    expect(sniffEncoding(iconv.encode('\ufeffa,b', 'utf-16be')).value).toBe('utf-16be');
    expect(sniffEncoding(iconv.encode('order_id,ordered_at\n', 'utf-16le'))).toEqual({
      value: 'utf-16le',
      detected: true,
      by: 'nul-pattern',
    });
    expect(sniffEncoding(iconv.encode('order_id,ordered_at\n', 'utf-16be')).by).toBe('nul-pattern');
    expect(sniffEncoding(iconv.encode(TEXT, 'cp1251'))).toEqual({
      value: 'utf-8',
      detected: true,
      by: 'default',
    });
  });

  it('decodes every encoding in pieces without breaking characters at the edges', () => {
    for (const enc of ['utf-8', 'utf-16le', 'utf-16be', 'cp1251', 'cp1252']) {
      const text =
        enc === 'cp1251'
          ? TEXT.replace('Zoë', 'Zoe').replace('€3', '3').replace('₴1 234,50', '1 234,50 грн') // cp1251 has no ₴
          : enc === 'cp1252'
            ? TEXT.replace(/Олена Коваль|₴/g, '')
            : TEXT;
      const bytes = iconv.encode(text, enc);
      for (const size of [1, 2, 3, 5, 7, 4096])
        expect(decodeInPieces(bytes, enc, size), `${enc}/${size}`).toBe(text);
    }
  });

  it('decodes bytes that are not UTF-8 to escapes (never U+FFFD) and keeps their offsets in order', () => {
    const cp = iconv.encode(TEXT, 'cp1251');
    const at = cp.indexOf(0xce); // О of Олена
    expect(firstInvalidUtf8(cp)).toBe(at);
    const bad = [...cp.keys()].filter((i) => cp[i]! >= 0x80);
    const expected = [...cp].map((b) => (b < 0x80 ? String.fromCharCode(b) : esc(b))).join('');
    for (const size of [1, 2, 3, 7, 4096]) {
      const offsets: number[] = [];
      expect(decodeInPieces(cp, 'utf-8', size, offsets), `pieces of ${size}`).toBe(expected);
      expect(offsets).toEqual(bad);
    }
    // valid characters around them are kept, whatever the cuts; a sequence the file ends in is escaped
    const mixed = Buffer.concat([
      Buffer.from('X'),
      Buffer.from([0xff]),
      Buffer.from('Zoë😀'),
      Buffer.from([0xe2, 0x82]),
    ]);
    for (const size of [1, 2, 3, 5, 64]) {
      const offsets: number[] = [];
      expect(decodeInPieces(mixed, 'utf-8', size, offsets)).toBe(
        `X${esc(0xff)}Zoë😀${esc(0xe2)}${esc(0x82)}`,
      );
      expect(offsets).toEqual([1, mixed.length - 2, mixed.length - 1]);
    }
    // overlong and surrogate encodings are not UTF-8 either: every byte of them is escaped
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
    expect(decodeInPieces(Buffer.from([0xed, 0xa0, 0x80]), 'utf-8', 1)).toBe(
      esc(0xed) + esc(0xa0) + esc(0x80),
    );
    // a worker's whole chunk: offsets from the chunk's place in the file
    const invalid = new InvalidBytes();
    expect(decodeWhole(Buffer.from([0x41, 0xfe, 0x42]), 'utf-8', 1000, invalid)).toBe(`A${esc(0xfe)}B`);
    expect(invalid.take(1)).toBe(1001);
    // escapes are counted as lone surrogates; a valid pair whose low half is in the range is not one
    expect(escapesIn(`a${esc(0xff)}b${esc(0x80)}`)).toEqual({ count: 2, firstByte: 0xff });
    expect(escapesIn(String.fromCodePoint(0x10080))).toEqual({ count: 0, firstByte: -1 });
  });

  it('checks names, and knows which encodings can be cut into records at LF bytes', () => {
    expect(checkEncoding('UTF8', '--encoding')).toBe('utf-8');
    expect(checkEncoding('Windows-1251', '--encoding')).toBe('windows-1251');
    expect(() => checkEncoding('klingon', '--encoding')).toThrow(
      /unknown encoding 'klingon'; expected utf-8/,
    );
    expect(splittableEncoding('utf-8')).toBe(true);
    expect(splittableEncoding('cp1251')).toBe(true);
    expect(splittableEncoding('latin1')).toBe(true);
    expect(splittableEncoding('utf-16le')).toBe(false);
    expect(splittableEncoding('shift_jis')).toBe(false);
  });
});
