/**
 * A streaming RFC 4180 CSV parser: quoted fields, doubled quotes, commas and newlines inside quotes,
 * CRLF or LF, a UTF-8 BOM. Feeds text chunks in, gets records out with the physical line number each
 * record starts on (1-based, the header is line 1), so every rejected row can be reported by line.
 * Lines without quotes take a split fast path; memory stays bounded by the longest record.
 */
import { invalid } from '../../shared/errors.js';

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

function flatten(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
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
  private rest = '';
  private line: number; // physical line the next record starts on
  private first: boolean;

  /** `startLine` > 1 parses a piece of a file that starts on that line (no BOM expected there). */
  constructor(
    private readonly delimiter = ',',
    startLine = 1,
  ) {
    this.line = startLine;
    this.first = startLine === 1;
  }

  /** Parses a chunk; incomplete trailing records wait for the next chunk. */
  push(chunk: string, out: CsvRecord[]): void {
    // `rest + chunk` is a V8 cons string; some of them are re-flattened on every indexOf/slice,
    // which made parsing quadratic per chunk (measured 15× slower). Copy into one flat string once.
    let text = this.rest.length === 0 ? chunk : flatten(this.rest + chunk);
    if (this.first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    this.rest = this.parse(text, out, false);
  }

  /** Flushes the last record (a file need not end with a newline). */
  end(out: CsvRecord[]): void {
    if (this.rest.length > 0) this.parse(this.rest + '\n', out, true);
    this.rest = '';
  }

  /** Parses complete records from `text`; returns the unconsumed tail. */
  private parse(text: string, out: CsvRecord[], final: boolean): string {
    const d = this.delimiter;
    const n = text.length;
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
        if (end > pos) out.push(new Record(splitFields(text, pos, end, d), line));
        line++;
        pos = nl + 1;
        continue;
      }
      const parsed = this.parseQuoted(text, pos, final);
      if (parsed === null) {
        tail = text.slice(pos);
        break;
      }
      out.push(new Record(parsed.fields, line));
      line += parsed.lines;
      pos = parsed.next;
    }
    this.line = line;
    return tail;
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
