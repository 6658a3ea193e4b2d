import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  ByteDecoder,
  checkEncoding,
  firstInvalidUtf8,
  sniffEncoding,
  splittableEncoding,
  UndecodableBytes,
} from './encoding.js';

const TEXT = 'order_id;customer;total\n1;Олена Коваль;₴1 234,50\n2;Zoë;€3\n';

/** Decodes `bytes` fed in pieces of `size` bytes. */
function decodeInPieces(bytes: Buffer, encoding: string, size: number): string {
  const d = new ByteDecoder(encoding);
  let out = '';
  for (let i = 0; i < bytes.length; i += size) out += d.write(bytes.subarray(i, i + size));
  return out + d.end();
}

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

  it('refuses bytes that are not UTF-8 with their offset instead of writing U+FFFD', () => {
    const cp = iconv.encode(TEXT, 'cp1251');
    const at = cp.indexOf(0xce); // О of Олена
    expect(firstInvalidUtf8(cp)).toBe(at);
    expect(() => decodeInPieces(cp, 'utf-8', 7)).toThrow(UndecodableBytes);
    try {
      decodeInPieces(cp, 'utf-8', 7);
    } catch (err) {
      expect((err as UndecodableBytes).offset).toBe(at);
    }
    // a truncated sequence at the very end
    expect(() => decodeInPieces(Buffer.from([0x61, 0xd0]), 'utf-8', 1)).toThrow(UndecodableBytes);
    // overlong and surrogate encodings are not UTF-8 either
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
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
