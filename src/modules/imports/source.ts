import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AppError, invalid } from '../../shared/errors.js';
import { CsvParser, isTooLong, MAX_RECORD_CHARS, type CsvRecord } from './csv.js';
import {
  ByteDecoder,
  checkEncoding,
  escapesIn,
  sniffEncoding,
  UndecodableBytes,
  undecodableError,
  type EncodingChoice,
  type InvalidBytes,
} from './encoding.js';

/** One input row: its physical line and its values by column name. */
export interface SourceRecord {
  line: number;
  values: Record<string, unknown>;
}

/**
 * Why a record could not be read at all, under `values.__unreadable` (records.ts rejects it): longer
 * than MAX_RECORD_CHARS, or holding bytes that are not UTF-8 (the first one's file offset and value).
 */
export type Unreadable = { kind: 'too-long' } | { kind: 'not-utf8'; offset: number; byte: number };

/** How a too-long row is reported (the header's own message says what it is). */
export const LIMIT_TEXT = `${MAX_RECORD_CHARS.toLocaleString('en-US')} characters`;

function headerTooLong(file: string): never {
  throw invalid(
    `the first line (the header) is longer than ${LIMIT_TEXT} (the limit): is this a CSV or NDJSON file? Nothing was imported`,
    { file, line: 1 },
  );
}

/** Refuses a file whose header (line 1) holds bytes that are not UTF-8, as before any row is read. */
function checkHeaderBytes(file: string, text: string, invalid: InvalidBytes, encoding: EncodingChoice): void {
  if (invalid.outstanding === 0) return;
  const { count, firstByte } = escapesIn(text);
  if (count > 0)
    throw undecodableError(file, 1, encoding, new UndecodableBytes(invalid.take(count), firstByte));
}

/** The start of a file (decompressed and decoded), for detecting its preset, delimiter and encoding. */
export interface FileHead {
  /** Up to ~64 KiB of text, from the first line (BOM removed). */
  text: string;
  /** The first line. */
  firstLine: string;
  /** Whether `text` is the whole file. */
  complete: boolean;
  encoding: EncodingChoice;
}

/** Reads the head of a file in the given encoding (`undefined`: auto, see encoding.ts). */
export async function peekHead(file: string, encoding?: string): Promise<FileHead> {
  const { gzip } = await sniff(file);
  const choice = await chooseEncoding(file, gzip, encoding);
  const decoder = new ByteDecoder(choice.value);
  const chunks = textChunks(file, gzip, { bytesRead: 0 }, decoder);
  let text = '';
  let complete = true;
  for await (const chunk of chunks) {
    text += chunk;
    // The whole first line (up to the limit), then up to ~64 KiB or 8 lines.
    const nl = text.indexOf('\n');
    if (nl < 0 && text.length > MAX_RECORD_CHARS + 2) headerTooLong(file);
    if (nl >= 0 && (text.length > 64 << 10 || (text.match(/\n/g)?.length ?? 0) > 8)) {
      complete = false;
      break;
    }
  }
  await chunks.return(undefined);
  text = text.replace(/^\ufeff/, '');
  if (text.trim() === '') throw invalid('the file is empty', { file });
  const firstLine = (text.split('\n', 1)[0] ?? '').replace(/\r$/, '');
  if (firstLine.length > MAX_RECORD_CHARS) headerTooLong(file);
  checkHeaderBytes(file, firstLine, decoder.invalid, choice);
  return { text, firstLine, complete, encoding: choice };
}

export type SourceFormat = 'csv' | 'ndjson';

export interface SourceInfo {
  file: string;
  format: SourceFormat;
  gzip: boolean;
  /** Column names: the CSV header, or the keys of the first NDJSON object. */
  columns: string[];
  bytesTotal: number;
  /** The text encoding it is read in. */
  encoding: string;
}

/** Progress of the raw (possibly compressed) bytes read, for the progress bar. */
export interface ReadProgress {
  bytesRead: number;
}

async function sniff(file: string): Promise<{ gzip: boolean; size: number }> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new AppError('not_found', `file not found: ${file}`, { where: { file } });
  }
  if (!info.isFile()) throw invalid(`not a file: ${file}`, { file });
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    return { gzip: head[0] === 0x1f && head[1] === 0x8b, size: info.size };
  } finally {
    await fh.close();
  }
}

/** The decompressed bytes of a file. */
function byteStream(file: string, gzip: boolean, progress: ReadProgress, highWaterMark: number): Readable {
  const raw = createReadStream(file, { highWaterMark });
  raw.on('data', (b) => {
    progress.bytesRead += (b as Buffer).length;
  });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e));
  return stream;
}

/** The encoding option, or the one the first bytes show (BOM, NUL pattern, else UTF-8). */
async function chooseEncoding(
  file: string,
  gzip: boolean,
  requested: string | undefined,
): Promise<EncodingChoice> {
  if (requested !== undefined)
    return { value: checkEncoding(requested, '--encoding'), detected: false, by: 'option' };
  const stream = byteStream(file, gzip, { bytesRead: 0 }, 64 << 10);
  let head = Buffer.alloc(0);
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      head = Buffer.concat([head, buf]);
      if (head.length >= 4096) break;
    }
  } catch (err) {
    throw invalid(`cannot read ${gzip ? 'gzip ' : ''}file: ${(err as Error).message}`, { file });
  } finally {
    stream.destroy();
  }
  return sniffEncoding(head);
}

async function* textChunks(
  file: string,
  gzip: boolean,
  progress: ReadProgress,
  decoder: ByteDecoder,
): AsyncGenerator<string> {
  const stream = byteStream(file, gzip, progress, 256 << 10);
  try {
    for await (const buf of stream) yield decoder.write(buf as Buffer);
    const tail = decoder.end();
    if (tail) yield tail;
  } catch (err) {
    throw invalid(`cannot read ${gzip ? 'gzip ' : ''}file: ${(err as Error).message}`, { file });
  } finally {
    stream.destroy();
  }
}

function formatOf(file: string, firstChar: string | undefined): SourceFormat {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.csv') || name.endsWith('.tsv') || name.endsWith('.txt')) return 'csv';
  return firstChar === '{' ? 'ndjson' : 'csv';
}

export interface Source {
  info: SourceInfo;
  batches: AsyncGenerator<SourceRecord[]>;
  progress: ReadProgress;
  /** Stops reading (when the records are taken from elsewhere, e.g. parse workers). */
  close(): Promise<void>;
}

/**
 * Opens a CSV or NDJSON file (optionally gzip-compressed, detected by its magic bytes) and streams
 * its records in batches. Constant memory: one chunk and one batch at a time.
 */
export async function openSource(
  file: string,
  opts: { csvHeader?: string[]; whitespace?: boolean; encoding: EncodingChoice; delimiter: string },
): Promise<Source> {
  const { gzip, size } = await sniff(file);
  const progress: ReadProgress = { bytesRead: 0 };
  const decoder = new ByteDecoder(opts.encoding.value);
  const chunks = textChunks(file, gzip, progress, decoder);
  const first = await chunks.next();
  if (first.done || first.value.trim() === '') throw invalid('the file is empty', { file });
  const firstText = first.value.replace(/^\ufeff/, '');
  const format = formatOf(file, firstText.trimStart()[0]);

  if (format === 'ndjson') {
    const lines = new NdjsonLines(decoder.invalid);
    const pending: SourceRecord[] = [];
    lines.push(firstText, pending);
    while (pending.length === 0) {
      const next = await chunks.next();
      if (next.done) {
        lines.end(pending);
        break;
      }
      lines.push(next.value, pending);
    }
    // The first object's keys name the columns: a first line that cannot be read refuses the file.
    const head = pending[0];
    const bad = head?.values['__unreadable'] as Unreadable | undefined;
    if (bad?.kind === 'too-long') headerTooLong(file);
    if (bad?.kind === 'not-utf8')
      throw undecodableError(file, head!.line, opts.encoding, new UndecodableBytes(bad.offset, bad.byte));
    if (!head || '__invalidJson' in head.values)
      throw invalid('the first line is not a JSON object (NDJSON expects one object per line)', {
        file,
        line: head?.line ?? 1,
      });
    return {
      info: {
        file,
        format,
        gzip,
        columns: Object.keys(head.values),
        bytesTotal: size,
        encoding: opts.encoding.value,
      },
      batches: ndjsonBatches(lines, pending, chunks),
      progress,
      close: () => closeChunks(chunks),
    };
  }

  // CSV; whitespace-separated files (CDNOW) are split on runs of blanks instead of the delimiter.
  const parser = new CsvParser(opts.whitespace ? ',' : opts.delimiter, 1, decoder.invalid);
  const split = opts.whitespace
    ? (r: CsvRecord): CsvRecord =>
        isTooLong(r.fields) ? r : { line: r.line, fields: r.fields.join(',').trim().split(/\s+/) }
    : (r: CsvRecord) => r;
  const pending: CsvRecord[] = [];
  parser.push(firstText, pending);
  let header = opts.csvHeader;
  if (!header) {
    // Make sure the header record is complete before reading it.
    let more = pending.length === 0;
    while (more) {
      const next = await chunks.next();
      if (next.done) {
        parser.end(pending);
        more = false;
      } else {
        parser.push(next.value, pending);
        more = pending.length === 0;
      }
    }
    const head = pending.shift();
    if (!head) throw invalid('the file has no header row', { file, line: 1 });
    if (isTooLong(head.fields)) headerTooLong(file);
    checkHeaderBytes(file, head.fields.join(''), decoder.invalid, opts.encoding);
    header = split(head).fields.map((h) => h.trim());
  }
  return {
    info: { file, format, gzip, columns: header, bytesTotal: size, encoding: opts.encoding.value },
    batches: csvBatches(header, parser, pending, chunks, split, decoder.invalid),
    progress,
    close: () => closeChunks(chunks),
  };
}

async function closeChunks(chunks: AsyncGenerator<string>): Promise<void> {
  await chunks.return(undefined);
}

/**
 * A CSV record as the presets see it: values by header name; surplus cells counted in `__extra`. A
 * record left out for its length, or holding bytes that were not UTF-8 (`invalid`: the decoder's
 * offsets, consumed in record order), carries only `__unreadable`.
 */
export function recordOf(
  header: readonly string[],
  fields: readonly string[],
  line: number,
  invalid?: InvalidBytes,
): SourceRecord {
  if (isTooLong(fields)) {
    const escapes = Number(fields[1]);
    if (escapes > 0) invalid?.take(escapes);
    return { line, values: { __unreadable: { kind: 'too-long' } satisfies Unreadable } };
  }
  if (invalid !== undefined && invalid.outstanding > 0) {
    let count = 0;
    let byte = -1;
    for (const f of fields) {
      const e = escapesIn(f);
      if (e.count > 0 && count === 0) byte = e.firstByte;
      count += e.count;
    }
    if (count > 0)
      return {
        line,
        values: {
          __unreadable: { kind: 'not-utf8', offset: invalid.take(count), byte } satisfies Unreadable,
        },
      };
  }
  const values: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) values[header[i] as string] = fields[i];
  if (fields.length > header.length) values['__extra'] = fields.length - header.length;
  return { line, values };
}

async function* csvBatches(
  header: string[],
  parser: CsvParser,
  pending: CsvRecord[],
  chunks: AsyncGenerator<string>,
  split: (r: CsvRecord) => CsvRecord,
  invalid: InvalidBytes,
): AsyncGenerator<SourceRecord[]> {
  const toRecord = (raw: CsvRecord): SourceRecord => {
    const r = split(raw);
    return recordOf(header, r.fields, r.line, invalid);
  };
  let buf = pending;
  for (;;) {
    if (buf.length > 0) yield buf.map(toRecord);
    buf = [];
    const next = await chunks.next();
    if (next.done) break;
    parser.push(next.value, buf);
  }
  parser.end(buf);
  if (buf.length > 0) yield buf.map(toRecord);
}

/**
 * NDJSON lines to records, one object a line, with the same record length limit as CSV (a longer line
 * is skipped to its end in constant memory and rejected) and the same rule for bytes that are not UTF-8.
 */
export class NdjsonLines {
  private parts: string[] = [];
  private partsLength = 0;
  private skipping = false;
  private line = 1;

  constructor(
    private readonly invalid: InvalidBytes,
    private readonly limit = MAX_RECORD_CHARS,
  ) {}

  push(text: string, out: SourceRecord[]): void {
    let p = 0;
    for (;;) {
      const nl = text.indexOf('\n', p);
      if (nl < 0) break;
      if (this.skipping) {
        this.drop(text, p, nl);
        this.tooLong(out);
      } else {
        let length = this.partsLength + nl - p;
        const before = nl > p ? text.charCodeAt(nl - 1) : this.lastPartChar();
        if (before === 13) length--;
        if (length > this.limit) {
          for (const part of this.parts) this.drop(part, 0, part.length);
          this.drop(text, p, nl);
          this.tooLong(out);
        } else {
          const piece = text.slice(p, nl);
          this.record(this.partsLength > 0 ? this.parts.join('') + piece : piece, out);
        }
      }
      this.parts = [];
      this.partsLength = 0;
      this.line++;
      p = nl + 1;
    }
    if (p >= text.length) return;
    if (this.skipping) {
      this.drop(text, p, text.length);
      return;
    }
    this.parts.push(p === 0 ? text : text.slice(p));
    this.partsLength += text.length - p;
    if (this.partsLength > this.limit + 1) {
      for (const part of this.parts) this.drop(part, 0, part.length);
      this.parts = [];
      this.partsLength = 0;
      this.skipping = true;
    }
  }

  end(out: SourceRecord[]): void {
    if (this.skipping) this.tooLong(out);
    else if (this.partsLength > 0) this.record(this.parts.join(''), out);
    this.parts = [];
    this.partsLength = 0;
    this.line++;
  }

  private lastPartChar(): number {
    const last = this.parts[this.parts.length - 1] ?? '';
    return last.charCodeAt(last.length - 1);
  }

  /** Consumes the offsets of the escaped bytes in text that is left out. */
  private drop(text: string, from: number, to: number): void {
    if (this.invalid.outstanding === 0) return;
    const n = escapesIn(from === 0 && to === text.length ? text : text.slice(from, to)).count;
    if (n > 0) this.invalid.take(n);
  }

  private tooLong(out: SourceRecord[]): void {
    this.skipping = false;
    out.push({ line: this.line, values: { __unreadable: { kind: 'too-long' } satisfies Unreadable } });
  }

  private record(part: string, out: SourceRecord[]): void {
    const line = this.line;
    if (this.invalid.outstanding > 0) {
      const { count, firstByte } = escapesIn(part);
      if (count > 0) {
        const offset = this.invalid.take(count);
        out.push({ line, values: { __unreadable: { kind: 'not-utf8', offset, byte: firstByte } } });
        return;
      }
    }
    const s = part.trim();
    if (!s) return;
    let values: unknown;
    try {
      values = JSON.parse(s);
    } catch {
      out.push({ line, values: { __invalidJson: s.length > 60 ? s.slice(0, 60) + '…' : s } });
      return;
    }
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      out.push({ line, values: { __invalidJson: 'not an object' } });
    } else {
      out.push({ line, values: values as Record<string, unknown> });
    }
  }
}

async function* ndjsonBatches(
  lines: NdjsonLines,
  pending: SourceRecord[],
  chunks: AsyncGenerator<string>,
): AsyncGenerator<SourceRecord[]> {
  let buf = pending;
  for (;;) {
    if (buf.length > 0) yield buf;
    buf = [];
    const next = await chunks.next();
    if (next.done) break;
    lines.push(next.value, buf);
  }
  lines.end(buf);
  if (buf.length > 0) yield buf;
}
