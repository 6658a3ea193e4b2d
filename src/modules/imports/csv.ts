/**
 * A streaming RFC 4180 CSV parser: quoted fields, doubled quotes, commas and newlines inside quotes,
 * CRLF or LF, a UTF-8 BOM. Feeds text chunks in, gets records out with the physical line number each
 * record starts on (1-based, the header is line 1), so every rejected row can be reported by line.
 * Lines without quotes take a split fast path. A record longer than MAX_RECORD_CHARS is not kept: the
 * parser follows its quotes to its end in constant memory and emits it as one too-long record
 * (`tooLongRecord`), so memory stays bounded by the limit and time linear whatever the file holds.
 */
import { invalid } from '../../shared/errors.js';
import { escapesIn, type InvalidBytes } from './encoding.js';

/**
 * The longest record (row) an import reads, in characters (UTF-16 code units) without its line break:
 * 1 Mi characters. Real exports' rows are a few hundred characters (a long product description a few
 * KB); a row a thousand times that is a broken or hostile file, and the limit keeps what one row costs
 * bounded: the parser's buffer, the row's values and its staging row (at most ~3 MiB of UTF-8, which the
 * staging COPY's line limit must allow). The same limit applies to the header, to NDJSON lines and in
 * parse workers (byteChunks.ts).
 */
export const MAX_RECORD_CHARS = 1 << 20;

/** The first field of a record left out for its length (see `tooLongRecord`); no CSV field holds a NUL marker like it. */
export const TOO_LONG = '\u0000\u0000retain:too-long';

export interface CsvRecord {
  fields: string[];
  line: number;
}

/** One record; a class so every record shares one hidden class. */
class Record implements CsvRecord {
  constructor(
    readonly fields: string[],
    readonly line: number,
  ) {}
}

/**
 * The record for a row longer than the limit, at its first line: `[TOO_LONG, escapes]`, where escapes
 * counts the bytes that were not UTF-8 in it (see encoding.ts), so they are accounted for in order.
 */
function tooLongRecord(line: number, escapes: number): CsvRecord {
  return new Record([TOO_LONG, String(escapes)], line);
}

export function isTooLong(fields: readonly string[]): boolean {
  return fields.length === 2 && fields[0] === TOO_LONG;
}

/**
 * One flat copy of `s`. Through UTF-8 when no escaped byte can be in it (cheapest for the usual
 * one-byte strings); else through UTF-16, which keeps lone surrogates (UTF-8 would turn the escapes of
 * bytes that are not UTF-8 into U+FFFD, and the row would no longer be told from a valid one).
 */
function flatten(s: string, escapes: boolean): string {
  return escapes ? Buffer.from(s, 'utf16le').toString('utf16le') : Buffer.from(s, 'utf8').toString('utf8');
}

/** Splits text[start, end) on `d` (no quotes inside). Faster than slice().split() on large chunks. */
function splitFields(text: string, start: number, end: number, d: string): string[] {
  const fields: string[] = [];
  let p = start;
  for (;;) {
    const c = text.indexOf(d, p);
    if (c < 0 || c >= end) {
      fields.push(text.slice(p, end));
      return fields;
    }
    fields.push(text.slice(p, c));
    p = c + 1;
  }
}

export class CsvParser {
  // The incomplete record at the end of what was pushed, in pieces (joined once, when it completes),
  // with its length, quote parity and line feeds so far: a record's end is the first LF after an even
  // number of its quotes (the quoted state toggles on every quote; a doubled quote toggles twice).
  private parts: string[] = [];
  private partsLength = 0;
  private quoted = false;
  private lfs = 0;
  // Skipping a too-long record: the line it starts on and the escaped bytes met in it.
  private skipping = false;
  private skipEscapes = 0;
  private line: number; // physical line the next record starts on
  private first: boolean;

  /**
   * `startLine` > 1 parses a piece of a file that starts on that line (no BOM expected there).
   * `invalid`: the decoder's invalid bytes, so a skipped record's escapes are counted (only while any
   * are outstanding). `limit`: the record length limit (tests lower it).
   */
  constructor(
    private readonly delimiter = ',',
    startLine = 1,
    private readonly invalid?: InvalidBytes,
    private readonly limit = MAX_RECORD_CHARS,
  ) {
    this.line = startLine;
    this.first = startLine === 1;
  }

  /** Parses a chunk; incomplete trailing records wait for the next chunk. */
  push(chunk: string, out: CsvRecord[]): void {
    let text = chunk;
    if (this.first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    if (this.skipping) {
      const end = this.scan(text, 0);
      this.countEscapes(text, 0, end < 0 ? text.length : end);
      if (end < 0) return;
      this.finishSkip(out);
      text = text.slice(end + 1);
    } else if (this.partsLength > 0) {
      const end = this.scan(text, 0);
      if (end < 0) {
        this.parts.push(text);
        this.partsLength += text.length;
        if (this.partsLength > this.limit + 1) this.startSkip();
        return;
      }
      let length = this.partsLength + end;
      const before = end > 0 ? text.charCodeAt(end - 1) : this.lastPartChar();
      if (before === 13) length--;
      if (length > this.limit) {
        this.parts.push(text.slice(0, end));
        this.startSkip();
        this.finishSkip(out);
        text = text.slice(end + 1);
      } else {
        // `rest + chunk` is a V8 cons string; some of them are re-flattened on every indexOf/slice,
        // which made parsing quadratic per chunk (measured 15× slower). Copy into one flat string once.
        this.parts.push(text);
        text = flatten(this.parts.join(''), this.invalid === undefined || this.invalid.outstanding > 0);
        this.clearParts();
      }
    }
    const tail = this.parse(text, out, false);
    if (tail.length > 0) {
      this.parts.push(tail);
      this.partsLength = tail.length;
      this.quoted = false;
      this.lfs = 0;
      this.scan(tail, 0);
      if (this.partsLength > this.limit + 1) this.startSkip();
    }
  }

  /** Flushes the last record (a file need not end with a newline). */
  end(out: CsvRecord[]): void {
    if (this.skipping) this.finishSkip(out);
    else if (this.partsLength > 0) this.parse(this.parts.join('') + '\n', out, true);
    this.clearParts();
  }

  private clearParts(): void {
    this.parts = [];
    this.partsLength = 0;
    this.quoted = false;
    this.lfs = 0;
  }

  private lastPartChar(): number {
    const last = this.parts[this.parts.length - 1] ?? '';
    return last.charCodeAt(last.length - 1);
  }

  /**
   * Follows quotes and line feeds from `from` with the pending record's state: the index of the LF
   * that ends the record, or −1 (then `quoted` and `lfs` cover the whole text).
   */
  private scan(text: string, from: number): number {
    let quoted = this.quoted;
    let p = from;
    let nl = text.indexOf('\n', p);
    // The common case (a line cut by the chunk's edge, no quote before its end) with one look back
    // instead of a search of the whole chunk for a quote.
    if (nl >= 0 && !quoted && text.lastIndexOf('"', nl) < p) return nl;
    let quote = text.indexOf('"', p);
    for (;;) {
      const to = nl < 0 ? text.length : nl;
      while (quote >= 0 && quote < to) {
        quoted = !quoted;
        quote = text.indexOf('"', quote + 1);
      }
      if (nl < 0 || !quoted) {
        this.quoted = quoted;
        return nl;
      }
      this.lfs++;
      p = nl + 1;
      nl = text.indexOf('\n', p);
    }
  }

  /** The pending record is too long: drop its text, keep its state, skip to its end. */
  private startSkip(): void {
    this.skipping = true;
    this.skipEscapes = 0;
    for (const part of this.parts) this.countEscapes(part, 0, part.length);
    this.parts = [];
    this.partsLength = 0;
  }

  private countEscapes(text: string, from: number, to: number): void {
    if (this.invalid && this.invalid.outstanding > 0)
      this.skipEscapes += escapesIn(from === 0 && to === text.length ? text : text.slice(from, to)).count;
  }

  /** The skipped record ended (at an LF, or at the end of the file): emit it and move past its lines. */
  private finishSkip(out: CsvRecord[]): void {
    out.push(tooLongRecord(this.line, this.skipEscapes));
    this.line += this.lfs + 1;
    this.skipping = false;
    this.skipEscapes = 0;
    this.clearParts();
  }

  /** Parses complete records from `text`; returns the unconsumed tail. */
  private parse(text: string, out: CsvRecord[], final: boolean): string {
    const d = this.delimiter;
    const n = text.length;
    const limit = this.limit;
    // Hot loop state lives in locals (field writes inside the loop made V8 deoptimise it mid-chunk).
    let line = this.line;
    let pos = 0;
    let tail = '';
    // Position of the next quote at or after pos (-1: none left); recomputed only when passed,
    // so quote-free files are scanned once, not once per line.
    let quote = text.indexOf('"');
    while (pos < n) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) {
        tail = text.slice(pos);
        break;
      }
      if (quote >= 0 && quote < pos) quote = text.indexOf('"', pos);
      if (quote < 0 || quote > nl) {
        // Fast path: no quote in this physical line.
        let end = nl;
        if (end > pos && text.charCodeAt(end - 1) === 13) end--;
        if (end - pos > limit) out.push(this.tooLong(line, text, pos, end));
        else if (end > pos) out.push(new Record(splitFields(text, pos, end, d), line));
        line++;
        pos = nl + 1;
        continue;
      }
      const parsed = this.parseQuoted(text, pos, final);
      if (parsed === null) {
        tail = text.slice(pos);
        break;
      }
      let end = parsed.next;
      if (end > pos && text.charCodeAt(end - 1) === 10) end--;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      if (end - pos > limit) out.push(this.tooLong(line, text, pos, end));
      else out.push(new Record(parsed.fields, line));
      line += parsed.lines;
      pos = parsed.next;
    }
    this.line = line;
    return tail;
  }

  private tooLong(line: number, text: string, from: number, to: number): CsvRecord {
    const escapes = this.invalid && this.invalid.outstanding > 0 ? escapesIn(text.slice(from, to)).count : 0;
    return tooLongRecord(line, escapes);
  }

  /** Slow path for a record containing quotes; null when the record continues past `text`. */
  private parseQuoted(
    text: string,
    start: number,
    final: boolean,
  ): { fields: string[]; next: number; lines: number } | null {
    const d = this.delimiter;
    const fields: string[] = [];
    let field = '';
    let i = start;
    let lines = 1;
    const n = text.length;
    let inQuotes = false;
    while (i < n) {
      const c = text[i] as string;
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          if (i + 1 >= n && !final) return null; // could be an escaped quote split across chunks
          inQuotes = false;
          i++;
          continue;
        }
        if (c === '\n') lines++;
        field += c;
        i++;
        continue;
      }
      if (c === '"') {
        inQuotes = true;
        i++;
      } else if (c === d) {
        fields.push(field);
        field = '';
        i++;
      } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
        fields.push(field);
        return { fields, next: c === '\r' ? i + 2 : i + 1, lines };
      } else {
        field += c;
        i++;
      }
    }
    if (final) {
      // An unterminated quote at end of file: keep what we have, the row validator will judge it.
      fields.push(field);
      return { fields, next: n, lines };
    }
    return null;
  }
}

/** The delimiters `--delimiter` takes, by the names it also accepts. */
export const DELIMITERS: { readonly [name: string]: string } = {
  ',': ',',
  comma: ',',
  ';': ';',
  semicolon: ';',
  '\t': '\t',
  '\\t': '\t',
  tab: '\t',
  '|': '|',
  pipe: '|',
};

/** How a delimiter is shown in messages and reports (`\t` for a tab). */
export const showDelimiter = (d: string) => (d === '\t' ? '\\t' : d);

/** The leading complete records of `text` (the start of a file) split on `delimiter`. */
export function leadingRecords(text: string, delimiter: string, complete: boolean, max = 6): string[][] {
  const out: CsvRecord[] = [];
  const p = new CsvParser(delimiter);
  p.push(text, out);
  if (complete) p.end(out);
  return out.slice(0, max).map((r) => r.fields);
}

/**
 * The delimiter of a CSV file from its first lines: the one candidate (`,` `;` tab `|`) that splits the
 * header into more than one field, with most of the next lines (when there are any) as wide as the header.
 * `undefined` when no candidate does (a one-column file); `ambiguous` lists several that do.
 */
export function detectDelimiter(
  text: string,
  complete: boolean,
): { delimiter: string | undefined; ambiguous: string[] } {
  const fits: string[] = [];
  for (const d of [',', ';', '\t', '|']) {
    const records = leadingRecords(text, d, complete);
    const width = records[0]?.length ?? 0;
    const rest = records.slice(1);
    // Most of the next lines as wide as the header (one malformed row does not hide the delimiter).
    if (width > 1 && rest.filter((r) => r.length === width).length * 2 >= rest.length) fits.push(d);
  }
  return fits.length === 1
    ? { delimiter: fits[0], ambiguous: [] }
    : { delimiter: undefined, ambiguous: fits };
}

/** A `--delimiter` value: `,` `;` `|` a tab, or comma, semicolon, tab, pipe (also `\t`). */
export function parseDelimiter(raw: string, field: string): string {
  const d = DELIMITERS[raw] ?? DELIMITERS[raw.trim().toLowerCase()];
  if (!d)
    throw invalid(`expected one of , ; | or tab (comma, semicolon, pipe, tab), got '${raw}'`, { field });
  return d;
}
