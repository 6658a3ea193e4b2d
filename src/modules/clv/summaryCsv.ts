/**
 * Reads summary CSVs (`customer_id,frequency,recency,T[,monetary_value][,frequency_holdout,duration_holdout]`)
 * into column arrays. Millions of rows are the normal case, so plain decimal cells are parsed straight
 * from the bytes; any line the fast path does not accept is re-read through the zod SummaryRow schema,
 * which either parses it (e.g. exponent notation) or yields the line-numbered error.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { SpendStats } from '../../analytics/btyd/gammaGamma.js';
import { AppError, invalid } from '../../shared/errors.js';
import { CsvParser, isTooLong, MAX_RECORD_CHARS, type CsvRecord } from '../imports/csv.js';
import { SUMMARY_COLUMNS, SummaryRow, SurvivorRow } from './schema.js';

export interface SummaryColumns {
  rows: number;
  /** Customer ids (only when requested: decoding millions of strings is the costliest part of a read). */
  ids: string[] | null;
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetaryValue: Float64Array | null;
  holdoutFrequency: Float64Array | null;
  holdoutDuration: Float64Array | null;
  /**
   * Customers (every row read, kept or not), repeat buyers (frequency > 0) and the largest T, when
   * the reader counted them on its pass.
   */
  stats?: {
    customers: number;
    repeatBuyers: number;
    maxT: number;
    /** With repeatBuyersOnly and a monetary_value column: Gamma-Gamma's statistics of the rows kept. */
    spend?: SpendStats;
  };
}

export interface ReadSummaryOptions {
  ids: boolean;
  /** Bytes read at a time from files of STREAM_FROM bytes or more (tests make it small). */
  chunkBytes?: number;
  /**
   * Keep only repeat buyers' rows (frequency > 0), as a Gamma-Gamma fit needs: every row is still
   * validated and counted in `stats`, the others are not stored, and `stats.spend` sums what the fit
   * would otherwise make a pass for. Files with quoted cells keep all rows.
   */
  repeatBuyersOnly?: boolean;
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const DOT = 46;
const QUOTE = 34;
/** Exact powers of ten: m / 10^k is then correctly rounded, i.e. identical to Number(text). */
const POW10 = Array.from({ length: 23 }, (_, k) => Math.pow(10, k));

function cannotRead(file: string, err: unknown): AppError {
  return new AppError('validation', `cannot read summary file: ${(err as Error).message}`, {
    where: { file },
    cause: err,
  });
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw cannotRead(file, err);
  }
}

/** Files from this size on are read in chunks into one reused buffer. */
const STREAM_FROM = 8 << 20;
const CHUNK_BYTES = 4 << 20;

/**
 * Reads and validates a summary CSV file. Big files are read a few MiB at a time into one buffer
 * that is reused, instead of whole: fresh memory costs ~0.75 ms per MiB here in page faults and the
 * garbage collections that big external allocations trigger (a 1M-customer file is 20 MiB).
 */
export function readSummaryCsv(file: string, options: ReadSummaryOptions): SummaryColumns {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw cannotRead(file, err);
  }
  let streamed: SummaryColumns | null = null;
  try {
    const size = fstatSync(fd).size;
    const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    if (size >= (options.chunkBytes ? 0 : STREAM_FROM))
      streamed = streamSummary(fd, size, chunkBytes, file, options);
  } finally {
    closeSync(fd);
  }
  // Quoted cells need the RFC 4180 parser over the whole file.
  return streamed ?? parseSummaryCsv(readBytes(file), file, options);
}

/** A buffer twice the size holding buf[0 .. filled). */
function doubled(buf: Buffer<ArrayBuffer>, filled: number): Buffer<ArrayBuffer> {
  const bigger = Buffer.allocUnsafe(buf.length * 2);
  buf.copy(bigger, 0, 0, filled);
  return bigger;
}

/** Fills buf[from ..) from the file; returns the new fill level. */
function fill(fd: number, buf: Buffer, from: number): number {
  let filled = from;
  while (filled < buf.length) {
    const got = readSync(fd, buf, filled, buf.length - filled, null);
    if (got === 0) break;
    filled += got;
  }
  return filled;
}

/**
 * The chunked read: complete lines go through the same row loop as a whole file (line numbers carry
 * over), the partial last line moves to the buffer's start. Returns null when a quote turns up.
 */
function streamSummary(
  fd: number,
  size: number,
  chunkBytes: number,
  file: string,
  options: ReadSummaryOptions,
): SummaryColumns | null {
  let buf = Buffer.allocUnsafe(Math.max(64, chunkBytes));
  let filled = fill(fd, buf, 0);
  let eof = filled < buf.length;
  // The header must be whole in the first read.
  while (!eof && buf.indexOf(LF) < 0) {
    buf = doubled(buf, filled);
    filled = fill(fd, buf, filled);
    eof = filled < buf.length;
  }
  let view = buf.subarray(0, filled);
  if (view.indexOf(QUOTE) >= 0) return null;
  const start = startOf(view, size, file, options);
  const { sink, role, kinds } = start;
  let at = scanFirstLines(view, start.body, role, kinds, file, sink);
  for (;;) {
    if (eof) {
      scanLines(view, at, role, kinds, file, sink);
      break;
    }
    const lastLf = view.lastIndexOf(LF);
    if (lastLf >= at) {
      scanLines(view.subarray(0, lastLf + 1), at, role, kinds, file, sink);
      buf.copy(buf, 0, lastLf + 1, filled);
      filled -= lastLf + 1;
      at = 0;
    } else {
      buf = doubled(buf, filled); // a line longer than the buffer
    }
    filled = fill(fd, buf, filled);
    eof = filled < buf.length;
    view = buf.subarray(0, filled);
    if (view.indexOf(QUOTE, at) >= 0) return null;
  }
  return finish(sink, file);
}

type Kind =
  'id' | 'frequency' | 'recency' | 'T' | 'monetary_value' | 'frequency_holdout' | 'duration_holdout' | 'skip';

function resolveHeader(header: string[], file: string): { kinds: Kind[] } {
  const names = header.map((h) => h.trim());
  const kinds: Kind[] = names.map((h) => {
    if ((SUMMARY_COLUMNS.id as readonly string[]).includes(h)) return 'id';
    if ((SUMMARY_COLUMNS.required as readonly string[]).includes(h)) return h as Kind;
    if ((SUMMARY_COLUMNS.optional as readonly string[]).includes(h)) return h as Kind;
    return 'skip';
  });
  const where = { file, line: 1 };
  if (kinds.filter((k) => k === 'id').length !== 1)
    throw invalid('header must have exactly one id column: customer_id (or ID)', where);
  for (const c of SUMMARY_COLUMNS.required)
    if (!kinds.includes(c))
      throw invalid(`header must have a ${c} column (customer_id,frequency,recency,T[,monetary_value])`, {
        ...where,
        field: c,
      });
  if (kinds.includes('frequency_holdout') !== kinds.includes('duration_holdout'))
    throw invalid('frequency_holdout and duration_holdout go together', where);
  return { kinds };
}

/** Validates one row's cells with the schema; throws the line-numbered error or returns the parsed row. */
function slowRow(cells: string[], kinds: Kind[], file: string, line: number): SummaryRow {
  if (cells.length !== kinds.length)
    throw invalid(`expected ${kinds.length} cells, found ${cells.length}`, { file, line });
  const obj: Record<string, string> = {};
  kinds.forEach((k, j) => {
    if (k === 'id') obj.customer_id = cells[j]!;
    else if (k !== 'skip') obj[k] = cells[j]!;
  });
  const r = SummaryRow().safeParse(obj);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
  throw invalid(issue.message, { file, line, ...(field ? { field } : {}) });
}

/**
 * One numeric cell from `p`: [digits][.digits] with 1–15 digits in all, stored in v[slot]. Returns the
 * position after it, or −1 if it is not of that form or `p` is −1 (the schema then judges the line).
 */
function parseNumber(bytes: Uint8Array, p: number, v: Float64Array, slot: number): number {
  if (p < 0) return -1;
  const n = bytes.length;
  const s0 = p;
  let mant = 0;
  let c = 0;
  while (p < n && (c = bytes[p]! - 48) >= 0 && c <= 9) {
    mant = mant * 10 + c;
    p++;
  }
  let digits = p - s0;
  let frac = 0;
  if (p < n && bytes[p] === DOT) {
    const f0 = ++p;
    while (p < n && (c = bytes[p]! - 48) >= 0 && c <= 9) {
      mant = mant * 10 + c;
      p++;
    }
    frac = p - f0;
    digits += frac;
  }
  if (digits === 0 || digits > 15) return -1;
  v[slot] = frac > 0 ? mant / POW10[frac]! : mant;
  return p;
}

/** The position after the cell separator at `p`, or −1 if there is none. */
function afterComma(bytes: Uint8Array, p: number): number {
  return p >= 0 && p < bytes.length && bytes[p] === COMMA ? p + 1 : -1;
}

/** The end of the cell from `p` (the next comma, CR, LF or the end of input). */
function cellEnd(bytes: Uint8Array, p: number): number {
  const n = bytes.length;
  while (p < n) {
    const c = bytes[p]!;
    if (c === COMMA || c === LF || c === CR) break;
    p++;
  }
  return p;
}

/**
 * Fast path for one line from `start`: numeric cells must be [digits][.digits] (≤ 15 digits) followed by
 * the separator, values land in `v` by role and the id cell's bounds in `idAt`. Returns the position
 * after the last cell, or −1 if anything is unusual (the schema then judges the line).
 */
function parseLine(
  bytes: Uint8Array,
  start: number,
  role: Int8Array,
  v: Float64Array,
  idAt: Int32Array,
): number {
  const last = role.length - 1;
  let p = start;
  for (let col = 0; col <= last; col++) {
    if (col > 0) p = afterComma(bytes, p);
    if (p < 0) return -1;
    const r = role[col]!;
    if (r === 0) {
      const s0 = p;
      p = cellEnd(bytes, p);
      if (p === s0 || bytes[s0] === 32 || bytes[p - 1] === 32) return -1;
      idAt[0] = s0;
      idAt[1] = p;
    } else if (r === 1) p = cellEnd(bytes, p);
    else p = parseNumber(bytes, p, v, r);
  }
  return p;
}

/**
 * parseLine for the usual layout, customer_id,frequency,recency,T[,monetary_value] (numbers into v[2]
 * up to v[lastSlot]): no per-cell dispatch on the column's role, and one call site of parseNumber, which
 * V8 then inlines (a third less time per line).
 */
function parseUsualLine(
  bytes: Uint8Array,
  start: number,
  lastSlot: number,
  v: Float64Array,
  idAt: Int32Array,
): number {
  let p = cellEnd(bytes, start);
  if (p === start || bytes[start] === 32 || bytes[p - 1] === 32) return -1;
  idAt[0] = start;
  idAt[1] = p;
  for (let slot = 2; slot <= lastSlot; slot++) p = parseNumber(bytes, afterComma(bytes, p), v, slot);
  return p;
}

/** Parsed columns being filled (grown by doubling when the capacity guess is short). */
interface RowSink {
  rows: number;
  /** Line number of the last line read (the header is line 1). */
  line: number;
  cap: number;
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array | null;
  hFreq: Float64Array | null;
  hDur: Float64Array | null;
  ids: string[] | null;
  /** Rows read, kept or not (see repeatOnly). */
  customers: number;
  repeatBuyers: number;
  maxT: number;
  /** Store only rows with frequency > 0. */
  repeatOnly: boolean;
  /** With repeatOnly and spend: Σ ln m̄, Σ x·ln m̄ and the count per small integer x of the rows stored. */
  logM: number;
  xLogM: number;
  countAtX: Float64Array | null;
  xNotSmall: boolean;
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * The row loop, in its own function so the JIT optimises it alone: each line goes through the fast
 * path (parseLine) and, if that or the cross-column checks refuse it, through the schema.
 */
function scanLines(
  bytes: Uint8Array,
  start: number,
  role: Int8Array,
  kinds: Kind[],
  file: string,
  sink: RowSink,
): void {
  const n = bytes.length;
  const v = new Float64Array(8); // parsed numeric values by role
  const cursor = new Int32Array(2); // id cell start and end of the last line parsed
  const hasMonetary = sink.monetary !== null;
  const hasHoldout = sink.hFreq !== null;
  const usual = role.join() === (hasMonetary ? '0,2,3,4,5' : '0,2,3,4');
  const ids = sink.ids;
  const repeatOnly = sink.repeatOnly;
  const countAtX = sink.countAtX;
  // The sink's fields live in locals for the loop (V8 would store object fields on every row).
  let { rows, cap, customers, repeatBuyers, maxT, frequency, recency, T, monetary, hFreq, hDur } = sink;
  let { logM, xLogM, xNotSmall } = sink;
  let line = sink.line;
  let i = start;
  while (i < n) {
    line++;
    let p = usual ? parseUsualLine(bytes, i, role.length, v, cursor) : parseLine(bytes, i, role, v, cursor);
    let x = v[2]!;
    let tx = v[3]!;
    let age = v[4]!;
    let m = v[5]!;
    let hf = v[6]!;
    let hd = v[7]!;
    // The common case in one test: a well-formed line ending in LF whose values pass every check.
    let ok =
      p >= 0 &&
      ((x | 0) === x || Number.isInteger(x)) &&
      tx <= age &&
      (x > 0 || tx === 0) &&
      (!hasMonetary || x === 0 || m > 0) &&
      (!hasHoldout || Number.isInteger(hf));
    const lineStart = i;
    if (ok && p < n && bytes[p] === LF) i = p + 1;
    else {
      // Anything else: find the line's end (CR, LF, CRLF or end of input); an unusual line, or one whose
      // cells did not end at the line end, goes to the schema for its error or its values.
      if (!(p >= 0 && (p >= n || bytes[p] === CR || bytes[p] === LF))) ok = false;
      if (!ok) p = i;
      while (p < n) {
        const c = bytes[p]!;
        if (c === LF || c === CR) break;
        p++;
      }
      const contentEnd = p;
      if (p < n && bytes[p] === CR) p++;
      if (p < n && bytes[p] === LF) p++;
      i = p;
      if (contentEnd === lineStart) continue; // blank line
      if (!ok) {
        const text = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, contentEnd - lineStart).toString(
          'utf8',
        );
        const r = slowRow(text.split(','), kinds, file, line);
        x = r.frequency;
        tx = r.recency;
        age = r.T;
        m = r.monetary_value ?? 0;
        hf = r.frequency_holdout ?? 0;
        hd = r.duration_holdout ?? 0;
        if (ids) ids.push(r.customer_id);
      }
    }
    if (ok && ids)
      ids.push(
        Buffer.from(bytes.buffer, bytes.byteOffset + cursor[0]!, cursor[1]! - cursor[0]!).toString('utf8'),
      );
    customers++;
    if (x > 0) repeatBuyers++;
    if (age > maxT) maxT = age;
    if (x === 0 && repeatOnly) continue;
    if (countAtX) {
      const lm = Math.log(m);
      logM += lm;
      xLogM += x * lm;
      const xk = x | 0;
      if (xk === x && xk < countAtX.length) countAtX[xk]!++;
      else xNotSmall = true;
    }
    if (rows === cap) {
      cap *= 2;
      frequency = grow(frequency);
      recency = grow(recency);
      T = grow(T);
      if (monetary) monetary = grow(monetary);
      if (hFreq) hFreq = grow(hFreq);
      if (hDur) hDur = grow(hDur);
    }
    frequency[rows] = x;
    recency[rows] = tx;
    T[rows] = age;
    if (monetary) monetary[rows] = m;
    if (hFreq) hFreq[rows] = hf;
    if (hDur) hDur[rows] = hd;
    rows++;
  }
  sink.rows = rows;
  sink.cap = cap;
  sink.customers = customers;
  sink.repeatBuyers = repeatBuyers;
  sink.maxT = maxT;
  sink.frequency = frequency;
  sink.recency = recency;
  sink.T = T;
  sink.monetary = monetary;
  sink.hFreq = hFreq;
  sink.hDur = hDur;
  sink.logM = logM;
  sink.xLogM = xLogM;
  sink.xNotSmall = xNotSmall;
  sink.line = line;
}

/** Lines the row loop reads on their own before the rest of the file (see scanFirstLines). */
const WARM_LINES = 64;

/**
 * Scans the first WARM_LINES lines from `at` on their own and returns where the rest starts (`at`
 * itself if there are fewer). The row loop is then interpreted once to its end, so every path it
 * takes, the loop exit included, has type feedback before V8 optimises it in the middle of the big
 * scan; without that the optimised loop deoptimises at its first exit and reruns unoptimised.
 */
function scanFirstLines(
  bytes: Uint8Array,
  at: number,
  role: Int8Array,
  kinds: Kind[],
  file: string,
  sink: RowSink,
): number {
  let end = at;
  for (let k = 0; k < WARM_LINES; k++) {
    const lf = bytes.indexOf(LF, end);
    if (lf < 0) return at;
    end = lf + 1;
  }
  scanLines(bytes.subarray(0, end), at, role, kinds, file, sink);
  return end;
}

/** Parses summary CSV bytes (exposed for tests and for stdin). */
export function parseSummaryCsv(
  bytes: Uint8Array,
  file: string,
  options: ReadSummaryOptions,
): SummaryColumns {
  if (bytes.indexOf(QUOTE) >= 0) return parseQuoted(bytes, file, options);
  const { sink, role, kinds, body } = startOf(bytes, bytes.length, file, options);
  scanLines(bytes, scanFirstLines(bytes, body, role, kinds, file, sink), role, kinds, file, sink);
  return finish(sink, file);
}

/**
 * Reads the header from the start of `bytes` (a whole file of `size` bytes, or its first chunk) and
 * sets up the columns, their capacity estimated from the first lines' mean length. `body` is the
 * offset of the first row.
 */
function startOf(
  bytes: Uint8Array,
  size: number,
  file: string,
  options: ReadSummaryOptions,
): { sink: RowSink; role: Int8Array; kinds: Kind[]; body: number } {
  let pos = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  const n = bytes.length;
  let headerEnd = bytes.indexOf(LF, pos);
  if (headerEnd < 0) headerEnd = n;
  const headerText = Buffer.from(bytes.buffer, bytes.byteOffset + pos, headerEnd - pos)
    .toString('utf8')
    .replace(/\r$/, '');
  if (headerText.trim() === '')
    throw invalid('empty file: expected a header customer_id,frequency,recency,T', { file, line: 1 });
  const { kinds } = resolveHeader(headerText.split(','), file);

  // Row capacity from the first lines' mean length, grown by doubling if the guess is short.
  const bodyBytes = size - headerEnd - 1;
  const sampleEnd = Math.min(n, headerEnd + 1 + 65536);
  let sampleLines = 0;
  for (let j = headerEnd + 1; j < sampleEnd; j++) if (bytes[j] === LF) sampleLines++;
  const cap = Math.max(
    16,
    Math.ceil((bodyBytes / Math.max(1, sampleEnd - headerEnd - 1)) * (sampleLines + 1) * 1.05) + 16,
  );
  const has = (k: Kind) => kinds.includes(k);
  const sink: RowSink = {
    rows: 0,
    line: 1,
    cap,
    frequency: new Float64Array(cap),
    recency: new Float64Array(cap),
    T: new Float64Array(cap),
    monetary: has('monetary_value') ? new Float64Array(cap) : null,
    hFreq: has('frequency_holdout') ? new Float64Array(cap) : null,
    hDur: has('duration_holdout') ? new Float64Array(cap) : null,
    ids: options.ids ? [] : null,
    customers: 0,
    repeatBuyers: 0,
    // A double from the start: a field that turns from small integer to double deoptimises the code
    // that read it (the scan, between chunks). No row read leaves it at −∞ (finish refuses that).
    maxT: -Infinity,
    repeatOnly: options.repeatBuyersOnly === true,
    // Gamma-Gamma's sums as the rows are read (index: x, up to this many purchases).
    logM: 0,
    xLogM: 0,
    countAtX: options.repeatBuyersOnly && has('monetary_value') ? new Float64Array(1 << 12) : null,
    xNotSmall: false,
  };
  // Column roles as small integers for the hot loop: 0 id, 1 skip, 2.. numeric targets.
  const role = Int8Array.from(kinds, (k) =>
    k === 'id'
      ? 0
      : k === 'skip'
        ? 1
        : ['frequency', 'recency', 'T', 'monetary_value', 'frequency_holdout', 'duration_holdout'].indexOf(
            k,
          ) + 2,
  );
  return { sink, role, kinds, body: Math.min(n, headerEnd + 1) };
}

/** The filled columns, trimmed to the rows read. */
function finish(sink: RowSink, file: string): SummaryColumns {
  const { rows, ids, frequency, recency, T, monetary, hFreq, hDur, customers, repeatBuyers, maxT } = sink;
  if (customers === 0) throw invalid('the summary has a header but no rows', { file, line: 2 });
  const spend = sink.countAtX
    ? { sumLogM: sink.logM, sumXLogM: sink.xLogM, countAtX: sink.xNotSmall ? null : sink.countAtX }
    : undefined;
  return {
    rows,
    ids,
    frequency: frequency.subarray(0, rows),
    recency: recency.subarray(0, rows),
    T: T.subarray(0, rows),
    monetaryValue: monetary ? monetary.subarray(0, rows) : null,
    holdoutFrequency: hFreq ? hFreq.subarray(0, rows) : null,
    holdoutDuration: hDur ? hDur.subarray(0, rows) : null,
    stats: { customers, repeatBuyers, maxT, ...(spend ? { spend } : {}) },
  };
}

function allRecords(bytes: Uint8Array, file: string): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  parser.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), out);
  parser.end(out);
  const long = out.find((r) => isTooLong(r.fields));
  if (long)
    throw invalid(
      `the row is longer than ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters (the limit for a CSV row)`,
      { file, line: long.line },
    );
  return out.filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
}

/** Files with quoted cells go through the RFC 4180 parser and the schema row by row. */
function parseQuoted(bytes: Uint8Array, file: string, options: ReadSummaryOptions): SummaryColumns {
  const records = allRecords(bytes, file);
  const header = records[0];
  if (!header)
    throw invalid('empty file: expected a header customer_id,frequency,recency,T', { file, line: 1 });
  const { kinds } = resolveHeader(header.fields, file);
  const body = records.slice(1);
  if (body.length === 0) throw invalid('the summary has a header but no rows', { file, line: 2 });
  const has = (k: Kind) => kinds.includes(k);
  const out: SummaryColumns = {
    rows: body.length,
    ids: options.ids ? [] : null,
    frequency: new Float64Array(body.length),
    recency: new Float64Array(body.length),
    T: new Float64Array(body.length),
    monetaryValue: has('monetary_value') ? new Float64Array(body.length) : null,
    holdoutFrequency: has('frequency_holdout') ? new Float64Array(body.length) : null,
    holdoutDuration: has('duration_holdout') ? new Float64Array(body.length) : null,
  };
  body.forEach((rec, i) => {
    const r = slowRow(rec.fields, kinds, file, rec.line);
    out.frequency[i] = r.frequency;
    out.recency[i] = r.recency;
    out.T[i] = r.T;
    if (out.monetaryValue) out.monetaryValue[i] = r.monetary_value ?? 0;
    if (out.holdoutFrequency) out.holdoutFrequency[i] = r.frequency_holdout ?? 0;
    if (out.holdoutDuration) out.holdoutDuration[i] = r.duration_holdout ?? 0;
    out.ids?.push(r.customer_id);
  });
  return out;
}

/** Reads an sBG survivor curve CSV `period,alive` (periods 0, 1, 2, … in order). */
export function readSurvivorCsv(file: string): number[] {
  const records = allRecords(readBytes(file), file);
  const header = records[0]?.fields.map((h) => h.trim());
  if (!header || header[0] !== 'period' || header[1] !== 'alive')
    throw invalid('an sBG summary has the header period,alive', { file, line: 1 });
  const alive: number[] = [];
  for (const rec of records.slice(1)) {
    const r = SurvivorRow().safeParse({ period: rec.fields[0], alive: rec.fields[1] });
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw invalid(issue.message, { file, line: rec.line, field: String(issue.path[0] ?? '') });
    }
    if (r.data.period !== alive.length)
      throw invalid(`expected period ${alive.length}, found ${r.data.period}`, {
        file,
        line: rec.line,
        field: 'period',
      });
    if (alive.length > 0 && r.data.alive > alive[alive.length - 1]!)
      throw invalid('alive cannot increase from one period to the next', {
        file,
        line: rec.line,
        field: 'alive',
      });
    alive.push(r.data.alive);
  }
  if (alive.length < 2) throw invalid('a survivor curve needs at least periods 0 and 1', { file });
  return alive;
}
