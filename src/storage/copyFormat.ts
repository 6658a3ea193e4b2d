import { civilFromDays } from '../shared/time.js';
import type { SqlValue } from './port.js';

/**
 * One CSV text format both engines' COPY read identically: NULL is an unquoted `\N`, every string
 * is quoted (so an empty string stays empty), timestamps are `YYYY-MM-DD HH:MM:SS.mmm` in UTC.
 */
export const COPY_NULL = '\\N';

/** Formats a Date as a UTC timestamp literal both engines parse. */
let lastTime = NaN;
let lastLiteral = '';
export function timestampLiteral(d: Date): string {
  const t = d.getTime();
  if (t === lastTime) return lastLiteral; // order lines repeat their order's timestamp
  if (Number.isNaN(t)) throw new RangeError('invalid Date');
  lastTime = t;
  const iso = d.toISOString();
  lastLiteral = iso.slice(0, 10) + ' ' + iso.slice(11, 23);
  return lastLiteral;
}

function field(v: SqlValue): string {
  if (v === null) return COPY_NULL;
  switch (typeof v) {
    case 'string':
      return '"' + (v.includes('"') ? v.replaceAll('"', '""') : v) + '"';
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`cannot store non-finite number ${v}`);
      return String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return timestampLiteral(v);
  }
}

/** Serialises one row as a CSV line (with trailing newline). */
export function copyLine(row: readonly SqlValue[]): string {
  let out = '';
  for (let i = 0; i < row.length; i++) {
    if (i > 0) out += ',';
    out += field(row[i] as SqlValue);
  }
  return out + '\n';
}

/** Groups rows into CSV text chunks of roughly `chunkBytes`, for streaming into COPY. */
export async function* copyChunks(
  rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  counter: { rows: number },
  chunkBytes = 1 << 20,
): AsyncGenerator<string> {
  let buf = '';
  for await (const row of rows) {
    buf += copyLine(row);
    counter.rows++;
    if (buf.length >= chunkBytes) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

const QUOTE = 34;

/**
 * Encodes rows in the COPY format above straight into bytes (what copyLine gives, without building
 * strings): for millions of rows the strings and their GC cost more than the encoding itself.
 */
export class CopyEncoder {
  private buf: Buffer;
  length = 0;
  rows = 0;
  private lastTime = NaN;
  private readonly stamp = Buffer.alloc(23);

  constructor(private readonly initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  private ascii(s: string): void {
    this.reserve(s.length);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.length = p;
  }

  private text(s: string): void {
    this.reserve(s.length * 6 + 2); // worst case: every char 3 bytes, doubled quotes
    const b = this.buf;
    let p = this.length;
    b[p++] = QUOTE;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) {
        // Non-ASCII: let Buffer encode the rest (UTF-8), doubling quotes first.
        const rest = s.slice(i);
        p += b.write(rest.includes('"') ? rest.replaceAll('"', '""') : rest, p, 'utf8');
        break;
      }
      if (c === QUOTE) b[p++] = QUOTE;
      b[p++] = c;
    }
    b[p++] = QUOTE;
    this.length = p;
  }

  private integer(v: number): void {
    this.reserve(21);
    const b = this.buf;
    let p = this.length;
    if (v < 0) {
      b[p++] = 45;
      v = -v;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    p += digits;
    for (let at = p - 1; at >= p - digits; at--) {
      const q = Math.floor(v / 10);
      b[at] = 48 + (v - q * 10);
      v = q;
    }
    this.length = p;
  }

  private two(at: number, v: number): void {
    this.stamp[at] = 48 + Math.floor(v / 10);
    this.stamp[at + 1] = 48 + (v % 10);
  }

  private timestamp(d: Date): void {
    const t = d.getTime();
    if (t !== this.lastTime) {
      if (Number.isNaN(t)) throw new RangeError('invalid Date');
      const year = d.getUTCFullYear();
      if (year < 0 || year > 9999) {
        this.lastTime = NaN;
        this.ascii(timestampLiteral(d));
        return;
      }
      this.lastTime = t;
      const days = Math.floor(t / 86_400_000);
      const ms = t - days * 86_400_000;
      const [y, mo, da] = civilFromDays(days);
      const s = this.stamp;
      s[0] = 48 + Math.floor(y / 1000);
      s[1] = 48 + (Math.floor(y / 100) % 10);
      this.two(2, y % 100);
      s[4] = 45;
      this.two(5, mo);
      s[7] = 45;
      this.two(8, da);
      s[10] = 32;
      this.two(11, Math.floor(ms / 3_600_000));
      s[13] = 58;
      this.two(14, Math.floor(ms / 60_000) % 60);
      s[16] = 58;
      this.two(17, Math.floor(ms / 1000) % 60);
      s[19] = 46;
      const milli = ms % 1000;
      s[20] = 48 + Math.floor(milli / 100);
      this.two(21, milli % 100);
    }
    this.reserve(23);
    this.stamp.copy(this.buf, this.length);
    this.length += 23;
  }

  /** Appends one row (and its newline). */
  add(row: readonly SqlValue[]): void {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) {
        this.reserve(1);
        this.buf[this.length++] = 44;
      }
      const v = row[i] as SqlValue;
      if (v === null) this.ascii(COPY_NULL);
      else if (typeof v === 'string') this.text(v);
      else if (typeof v === 'number') {
        if (Number.isSafeInteger(v)) this.integer(v);
        else this.ascii(field(v));
      } else if (v instanceof Date) this.timestamp(v);
      else this.ascii(field(v));
    }
    this.reserve(1);
    this.buf[this.length++] = 10;
    this.rows++;
  }

  /** The bytes so far in a buffer of their own (transferable), and their row count; starts afresh. */
  take(): { bytes: Uint8Array; rows: number } {
    const out = { bytes: new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length), rows: this.rows };
    this.buf = Buffer.allocUnsafeSlow(Math.max(this.initialBytes, this.length));
    this.length = 0;
    this.rows = 0;
    return out;
  }
}
