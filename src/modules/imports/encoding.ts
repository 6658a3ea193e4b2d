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

/** Offset of the first byte of `b` that breaks UTF-8 (b.length when the tail is only incomplete). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
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
    if (i + len > n) {
      for (let k = i + 1; k < n; k++) if ((b[k]! & 0xc0) !== 0x80) return i;
      return n;
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
  return n;
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

/** A streaming decoder: bytes in, text out; throws UndecodableBytes for invalid UTF-8. */
export class ByteDecoder {
  private carry: Buffer | null = null;
  private offset = 0; // bytes of the stream before `carry`
  private readonly other: ReturnType<typeof iconv.getDecoder> | null;

  constructor(readonly encoding: string) {
    this.other = encoding === 'utf-8' ? null : iconv.getDecoder(encoding);
  }

  write(buf: Buffer): string {
    if (this.other) return this.other.write(buf);
    const data = this.carry ? Buffer.concat([this.carry, buf]) : buf;
    const cut = completeUpTo(data);
    if (!isUtf8(data.subarray(0, cut))) {
      // Judged on all the bytes: a lead byte just before the cut is wrong only by what follows it.
      const at = Math.min(firstInvalidUtf8(data), cut - 1);
      throw new UndecodableBytes(this.offset + at, data[at]!);
    }
    this.carry = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
    const text = data.toString('utf8', 0, cut);
    this.offset += cut;
    return text;
  }

  end(): string {
    if (this.other) return this.other.end() ?? '';
    if (this.carry) throw new UndecodableBytes(this.offset, this.carry[0]!);
    return '';
  }
}

/** Decodes one whole piece (a worker's chunk of records); invalid UTF-8 throws with its offset in `b`. */
export function decodeWhole(b: Buffer, encoding: string): string {
  if (encoding !== 'utf-8') return iconv.decode(b, encoding, { stripBOM: false });
  if (!isUtf8(b)) {
    const at = firstInvalidUtf8(b);
    throw new UndecodableBytes(Math.min(at, b.length - 1), b[Math.min(at, b.length - 1)]!);
  }
  return b.toString('utf8');
}

/** The error for bytes that are not UTF-8 (or not in the given encoding), naming the line. */
export function undecodableError(file: string, line: number, encoding: EncodingChoice, e: UndecodableBytes) {
  const hint =
    encoding.by === 'option'
      ? `is not valid ${encoding.value} (${e.message}); check --encoding`
      : `is not valid UTF-8 (${e.message}): the file is in another encoding; pass it, e.g. --encoding cp1251 (Cyrillic, Windows) or --encoding cp1252 (Western European, Windows)`;
  return invalid(`line ${line} ${hint}. Nothing was imported`, { file, line, field: '--encoding' });
}
