/**
 * Text encodings of import files. The default is auto: a byte order mark decides (UTF-8, UTF-16LE,
 * UTF-16BE); UTF-16 without one is recognised by its NUL bytes; anything else is read as UTF-8 — strictly:
 * bytes that are not UTF-8 stop the import with the line and `--encoding` to pass (never stored as U+FFFD).
 * Single-byte code pages are not guessed between. Other encodings decode with iconv-lite, streaming
 * (multi-byte sequences split across chunks are carried over).
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { invalid } from '../../shared/errors.js';

export type EncodingSource = 'option' | 'bom' | 'nul-pattern' | 'default';

export interface EncodingChoice {
  /** `utf-8`, `utf-16le`, `utf-16be`, or the name the option gave (lower-cased). */
  value: string;
  detected: boolean;
  /** How it was decided. */
  by: EncodingSource;
}

const ALIASES: Record<string, string> = {
  utf8: 'utf-8',
  'utf-8': 'utf-8',
  utf16le: 'utf-16le',
  'utf-16le': 'utf-16le',
  ucs2: 'utf-16le',
  'ucs-2': 'utf-16le',
  utf16be: 'utf-16be',
  'utf-16be': 'utf-16be',
};

/** An `--encoding` value, checked against what iconv-lite can decode; `field` names the option in errors. */
export function checkEncoding(raw: string, field: string): string {
  const name = raw.trim().toLowerCase();
  if (ALIASES[name]) return ALIASES[name];
  if (name === '' || !iconv.encodingExists(name))
    throw invalid(
      `unknown encoding '${raw}'; expected utf-8, utf-16le, utf-16be, cp1251, cp1252, latin1 or another encoding iconv-lite knows`,
      { field },
    );
  return name;
}

/** The encoding of a file from its first (decompressed) bytes, when no option names it. */
export function sniffEncoding(head: Uint8Array): EncodingChoice {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf)
    return { value: 'utf-8', detected: true, by: 'bom' };
  if (head[0] === 0xff && head[1] === 0xfe) return { value: 'utf-16le', detected: true, by: 'bom' };
  if (head[0] === 0xfe && head[1] === 0xff) return { value: 'utf-16be', detected: true, by: 'bom' };
  // UTF-16 text of mostly ASCII characters (a CSV header) has a NUL in every other byte.
  const n = Math.min(head.length, 1024) & ~1;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  const pairs = n / 2;
  if (pairs >= 2 && odd >= pairs * 0.3 && even * 10 <= odd)
    return { value: 'utf-16le', detected: true, by: 'nul-pattern' };
  if (pairs >= 2 && even >= pairs * 0.3 && odd * 10 <= even)
    return { value: 'utf-16be', detected: true, by: 'nul-pattern' };
  return { value: 'utf-8', detected: true, by: 'default' };
}

/**
 * Whether records of this encoding can be cut at LF and quote bytes and decoded piece by piece (the
 * parse workers' way): UTF-8 and the single-byte code pages whose ASCII bytes are ASCII.
 */
export function splittableEncoding(encoding: string): boolean {
  if (encoding === 'utf-8') return true;
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = iconv.decode(Buffer.from(all), encoding, { stripBOM: false });
  if (text.length !== 256) return false;
  for (let i = 0; i < 128; i++) if (text.charCodeAt(i) !== i) return false;
  return true;
}

/** Bytes that are not valid in the encoding, at `offset` in the (decompressed) stream. */
export class UndecodableBytes extends Error {
  constructor(
    readonly offset: number,
    readonly byte: number,
  ) {
    super(`invalid byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`);
  }
}

/**
 * Index of the first byte in `b[from, to)` that does not start a valid UTF-8 sequence, or `to`. A
 * sequence cut only by `to` (its bytes so far valid) returns its start as `-1 - index`.
 */
function scanUtf8(b: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [len, min] = [2, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [len, min] = [3, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [len, min] = [4, 0x10000];
    else return i;
    if (i + len > to) {
      for (let k = i + 1; k < to; k++) if ((b[k]! & 0xc0) !== 0x80) return i;
      return -1 - i;
    }
    let cp = c & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const x = b[i + k]!;
      if ((x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return to;
}

/** Offset of the first byte of `b` that breaks UTF-8 (b.length when the tail is only incomplete). */
export function firstInvalidUtf8(b: Uint8Array): number {
  const at = scanUtf8(b, 0, b.length);
  return at < 0 ? b.length : at;
}

/**
 * Offsets (in the decompressed file) of the bytes that were not UTF-8, in file order, as the decoder
 * met them; the records consume them in the same order (each record takes as many as it holds escapes).
 */
export class InvalidBytes {
  private offsets: number[] = [];
  private next = 0;

  /** Invalid bytes decoded and not yet taken by a record: while 0, no text handed out holds an escape. */
  get outstanding(): number {
    return this.offsets.length - this.next;
  }

  add(offset: number): void {
    this.offsets.push(offset);
  }

  /** Takes the next `count` offsets (one record's escapes); returns the first. */
  take(count: number): number {
    const first = this.offsets[this.next] ?? -1;
    this.next = Math.min(this.offsets.length, this.next + count);
    if (this.next > 4096 && this.next * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.next);
      this.next = 0;
    }
    return first;
  }
}

/** The first code unit of an escaped byte: U+DC80..U+DCFF stand for the bytes 0x80..0xFF. */
const ESCAPES = /[\uDC80-\uDCFF]/gu;

/** How many escaped bytes `s` holds (a lone U+DC80..U+DCFF; a valid surrogate pair is not one) and the first. */
export function escapesIn(s: string): { count: number; firstByte: number } {
  ESCAPES.lastIndex = 0;
  let count = 0;
  let firstByte = -1;
  for (let m = ESCAPES.exec(s); m !== null; m = ESCAPES.exec(s)) {
    if (count === 0) firstByte = m[0].charCodeAt(0) - 0xdc00;
    count++;
  }
  return { count, firstByte };
}

/**
 * Decodes UTF-8 `b[from, to)`, writing each byte that is not UTF-8 as U+DC00+byte and adding its
 * offset (`base` + index) to `invalid`. Bytes of a sequence cut by `to` are escaped too (the callers
 * pass complete text).
 */
export function decodeEscaping(
  b: Buffer,
  from: number,
  to: number,
  base: number,
  invalid: InvalidBytes,
): string {
  const parts: string[] = [];
  let i = from;
  while (i < to) {
    let j = scanUtf8(b, i, to);
    if (j < 0) j = -1 - j;
    if (j > i) parts.push(b.toString('utf8', i, j));
    if (j >= to) break;
    parts.push(String.fromCharCode(0xdc00 + b[j]!));
    invalid.add(base + j);
    i = j + 1;
  }
  return parts.join('');
}

/** Where a possibly incomplete UTF-8 sequence starts at the end of `b` (b.length when none). */
function completeUpTo(b: Uint8Array): number {
  const n = b.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const c = b[n - back]!;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return len > back ? n - back : n;
  }
  return n;
}

/**
 * A streaming decoder: bytes in, text out. UTF-8 is checked with `isUtf8` (clean chunks take Node's
 * decoder as they are); a chunk with invalid bytes decodes with escapes (above), their offsets in `invalid`.
 */
export class ByteDecoder {
  private carry: Buffer | null = null;
  private offset = 0; // bytes of the stream before `carry`
  private readonly other: ReturnType<typeof iconv.getDecoder> | null;
  /** Offsets of the bytes that were not UTF-8 (UTF-8 only; other encodings decode as iconv-lite does). */
  readonly invalid = new InvalidBytes();

  constructor(readonly encoding: string) {
    this.other = encoding === 'utf-8' ? null : iconv.getDecoder(encoding);
  }

  write(buf: Buffer): string {
    if (this.other) return this.other.write(buf);
    const data = this.carry ? Buffer.concat([this.carry, buf]) : buf;
    const cut = completeUpTo(data);
    const text =
      cut === data.length
        ? isUtf8(data)
          ? data.toString('utf8')
          : decodeEscaping(data, 0, cut, this.offset, this.invalid)
        : isUtf8(data.subarray(0, cut))
          ? data.toString('utf8', 0, cut)
          : decodeEscaping(data, 0, cut, this.offset, this.invalid);
    this.carry = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
    this.offset += cut;
    return text;
  }

  end(): string {
    if (this.other) return this.other.end() ?? '';
    if (!this.carry) return '';
    // A sequence the file ends in the middle of: its bytes are not UTF-8.
    const text = decodeEscaping(this.carry, 0, this.carry.length, this.offset, this.invalid);
    this.offset += this.carry.length;
    this.carry = null;
    return text;
  }
}

/** Decodes one whole piece (a worker's chunk of records) starting at file offset `base`. */
export function decodeWhole(b: Buffer, encoding: string, base: number, invalid: InvalidBytes): string {
  if (encoding !== 'utf-8') return iconv.decode(b, encoding, { stripBOM: false });
  return isUtf8(b) ? b.toString('utf8') : decodeEscaping(b, 0, b.length, base, invalid);
}

/** The error for bytes that are not UTF-8 (or not in the given encoding), naming the line. */
export function undecodableError(file: string, line: number, encoding: EncodingChoice, e: UndecodableBytes) {
  const hint =
    encoding.by === 'option'
      ? `is not valid ${encoding.value} (${e.message}); check --encoding`
      : `is not valid UTF-8 (${e.message}): the file is in another encoding; pass it, e.g. --encoding cp1251 (Cyrillic, Windows) or --encoding cp1252 (Western European, Windows)`;
  return invalid(`line ${line} ${hint}. Nothing was imported`, { file, line, field: '--encoding' });
}
