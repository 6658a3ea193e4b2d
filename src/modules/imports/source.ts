import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AppError, invalid } from '../../shared/errors.js';
import { CsvParser, type CsvRecord } from './csv.js';
import {
  ByteDecoder,
  checkEncoding,
  sniffEncoding,
  UndecodableBytes,
  undecodableError,
  type EncodingChoice,
} from './encoding.js';

/** One input row: its physical line and its values by column name. */
export interface SourceRecord {
  line: number;
  values: Record<string, unknown>;
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
  const chunks = textChunks(file, gzip, { bytesRead: 0 }, choice);
  let text = '';
  let complete = true;
  for await (const chunk of chunks) {
    text += chunk;
    if (text.length > 64 << 10 || (text.match(/\n/g)?.length ?? 0) > 8) {
      complete = false;
      break;
    }
  }
  await chunks.return(undefined);
  text = text.replace(/^\ufeff/, '');
  if (text.trim() === '') throw invalid('the file is empty', { file });
  const firstLine = (text.split('\n', 1)[0] ?? '').replace(/\r$/, '');
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

/** The line (1-based) byte `offset` of the decompressed file is on: only after a decoding error. */
export async function lineAtOffset(file: string, gzip: boolean, offset: number): Promise<number> {
  let line = 1;
  let at = 0;
  const stream = byteStream(file, gzip, { bytesRead: 0 }, 1 << 20);
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      const end = Math.min(buf.length, offset - at);
      for (let i = buf.indexOf(10); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) line++;
      at += buf.length;
      if (at >= offset) break;
    }
  } finally {
    stream.destroy();
  }
  return line;
}

async function* textChunks(
  file: string,
  gzip: boolean,
  progress: ReadProgress,
  encoding: EncodingChoice,
): AsyncGenerator<string> {
  const stream = byteStream(file, gzip, progress, 256 << 10);
  const decoder = new ByteDecoder(encoding.value);
  try {
    for await (const buf of stream) yield decoder.write(buf as Buffer);
    const tail = decoder.end();
    if (tail) yield tail;
  } catch (err) {
    if (err instanceof UndecodableBytes)
      throw undecodableError(file, await lineAtOffset(file, gzip, err.offset), encoding, err);
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
  const chunks = textChunks(file, gzip, progress, opts.encoding);
  const first = await chunks.next();
  if (first.done || first.value.trim() === '') throw invalid('the file is empty', { file });
  const firstText = first.value.replace(/^\ufeff/, '');
  const format = formatOf(file, firstText.trimStart()[0]);

  if (format === 'ndjson') {
    const firstLine = firstText.split('\n', 1)[0] ?? '';
    let columns: string[] = [];
    try {
      columns = Object.keys(JSON.parse(firstLine) as object);
    } catch {
      throw invalid('the first line is not a JSON object (NDJSON expects one object per line)', {
        file,
        line: 1,
      });
    }
    return {
      info: { file, format, gzip, columns, bytesTotal: size, encoding: opts.encoding.value },
      batches: ndjsonBatches(firstText, chunks),
      progress,
      close: () => closeChunks(chunks),
    };
  }

  // CSV; whitespace-separated files (CDNOW) are split on runs of blanks instead of the delimiter.
  const parser = new CsvParser(opts.whitespace ? ',' : opts.delimiter);
  const split = opts.whitespace
    ? (r: CsvRecord): CsvRecord => ({ line: r.line, fields: r.fields.join(',').trim().split(/\s+/) })
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
    header = split(head).fields.map((h) => h.trim());
  }
  return {
    info: { file, format, gzip, columns: header, bytesTotal: size, encoding: opts.encoding.value },
    batches: csvBatches(header, parser, pending, chunks, split),
    progress,
    close: () => closeChunks(chunks),
  };
}

async function closeChunks(chunks: AsyncGenerator<string>): Promise<void> {
  await chunks.return(undefined);
}

/** A CSV record as the presets see it: values by header name; surplus cells counted in `__extra`. */
export function recordOf(header: readonly string[], fields: readonly string[], line: number): SourceRecord {
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
): AsyncGenerator<SourceRecord[]> {
  const toRecord = (raw: CsvRecord): SourceRecord => {
    const r = split(raw);
    return recordOf(header, r.fields, r.line);
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

async function* ndjsonBatches(
  firstText: string,
  chunks: AsyncGenerator<string>,
): AsyncGenerator<SourceRecord[]> {
  let rest = '';
  let line = 0;
  const parseText = (text: string, final: boolean): SourceRecord[] => {
    const all = rest + text;
    const parts = all.split('\n');
    rest = final ? '' : (parts.pop() ?? '');
    const out: SourceRecord[] = [];
    for (const part of parts) {
      line++;
      const s = part.trim();
      if (!s) continue;
      let values: unknown;
      try {
        values = JSON.parse(s);
      } catch {
        out.push({ line, values: { __invalidJson: s.length > 60 ? s.slice(0, 60) + '…' : s } });
        continue;
      }
      if (values === null || typeof values !== 'object' || Array.isArray(values)) {
        out.push({ line, values: { __invalidJson: 'not an object' } });
      } else {
        out.push({ line, values: values as Record<string, unknown> });
      }
    }
    return out;
  };
  yield parseText(firstText, false);
  for await (const text of chunks) yield parseText(text, false);
  yield parseText('', true);
}
