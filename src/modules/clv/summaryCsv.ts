/**
 * Reads summary CSVs (`customer_id,frequency,recency,T[,monetary_value][,frequency_holdout,duration_holdout]`)
 * into column arrays. Millions of rows are the normal case, so plain decimal cells are parsed straight
 * from the bytes; any line the fast path does not accept is re-read through the zod SummaryRow schema,
 * which either parses it (e.g. exponent notation) or yields the line-numbered error.
 */
import { readFileSync } from 'node:fs';
import { AppError, invalid } from '../../shared/errors.js';
import { CsvParser, type CsvRecord } from '../imports/csv.js';
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
}

export interface ReadSummaryOptions {
  ids: boolean;
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const DOT = 46;
const QUOTE = 34;
/** Exact powers of ten: m / 10^k is then correctly rounded, i.e. identical to Number(text). */
const POW10 = Array.from({ length: 23 }, (_, k) => Math.pow(10, k));

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AppError('validation', `cannot read summary file: ${(err as Error).message}`, {
      where: { file },
      cause: err,
    });
  }
}

/** Reads and validates a summary CSV file. */
export function readSummaryCsv(file: string, options: ReadSummaryOptions): SummaryColumns {
  return parseSummaryCsv(readBytes(file), file, options);
}

type Kind =
  'id' | 'frequency' | 'recency' | 'T' | 'monetary_value' | 'frequency_holdout' | 'duration_holdout' | 'skip';

function resolveHeader(header: string[], file: string): { kinds: Kind[]; names: string[] } {
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
  return { kinds, names };
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
  const r = SummaryRow.safeParse(obj);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
  throw invalid(issue.message, { file, line, ...(field ? { field } : {}) });
}

/** Parses summary CSV bytes (exposed for tests and for stdin). */
export function parseSummaryCsv(
  bytes: Uint8Array,
  file: string,
  options: ReadSummaryOptions,
): SummaryColumns {
  let pos = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  if (bytes.indexOf(QUOTE) >= 0) return parseQuoted(bytes, file, options);
  const n = bytes.length;
  let headerEnd = bytes.indexOf(LF, pos);
  if (headerEnd < 0) headerEnd = n;
  const headerText = Buffer.from(bytes.buffer, bytes.byteOffset + pos, headerEnd - pos)
    .toString('utf8')
    .replace(/\r$/, '');
  if (headerText.trim() === '')
    throw invalid('empty file: expected a header customer_id,frequency,recency,T', { file, line: 1 });
  const { kinds } = resolveHeader(headerText.split(','), file);
  const nCols = kinds.length;

  // Upper bound on rows: count newlines once, then fill typed arrays.
  let cap = 1;
  for (let i = headerEnd + 1; i < n; i++) if (bytes[i] === LF) cap++;
  const has = (k: Kind) => kinds.includes(k);
  const frequency = new Float64Array(cap);
  const recency = new Float64Array(cap);
  const T = new Float64Array(cap);
  const monetary = has('monetary_value') ? new Float64Array(cap) : null;
  const hFreq = has('frequency_holdout') ? new Float64Array(cap) : null;
  const hDur = has('duration_holdout') ? new Float64Array(cap) : null;
  const ids: string[] | null = options.ids ? [] : null;
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
  const v = new Float64Array(8); // parsed numeric values by role

  let rows = 0;
  let line = 1;
  let i = headerEnd + 1;
  while (i < n) {
    line++;
    const lineStart = i;
    let col = 0;
    let ok = true;
    let mant = 0;
    let digits = 0;
    let frac = -1;
    let fieldStart = i;
    let idStart = 0;
    let idEnd = 0;
    let c = 0;
    // One pass over the line's bytes: digits accumulate into an integer mantissa, a comma or the line
    // end closes the cell. Anything unusual only clears `ok`; the schema then judges the line.
    for (;;) {
      c = i < n ? bytes[i]! : LF;
      if (c >= 48 && c <= 57) {
        mant = mant * 10 + (c - 48);
        digits++;
        if (frac >= 0) frac++;
      } else if (c === COMMA || c === LF || c === CR) {
        if (col < nCols) {
          const r = role[col]!;
          if (r === 0) {
            idStart = fieldStart;
            idEnd = i;
            if (i === fieldStart || bytes[fieldStart] === 32 || bytes[i - 1] === 32) ok = false;
          } else if (r > 1) {
            if (digits === 0 || digits > 15 || digits + (frac >= 0 ? 1 : 0) !== i - fieldStart) ok = false;
            else v[r] = frac > 0 ? mant / POW10[frac]! : mant;
          }
        } else ok = false;
        if (c !== COMMA) break;
        col++;
        mant = 0;
        digits = 0;
        frac = -1;
        fieldStart = i + 1;
      } else if (c === DOT && frac < 0) frac = 0;
      else if ((role[col] ?? 2) > 1) ok = false; // ids may hold any character
      i++;
    }
    const contentEnd = i;
    if (c === CR) i++;
    if (i < n && bytes[i] === LF) i++;
    else if (c === LF) i++;
    if (col === 0 && contentEnd === lineStart) continue; // blank line
    if (col !== nCols - 1) ok = false;
    let x = v[2]!;
    let tx = v[3]!;
    let age = v[4]!;
    let m = v[5]!;
    let hf = v[6]!;
    let hd = v[7]!;
    if (ok)
      ok =
        Number.isInteger(x) &&
        tx <= age &&
        (x > 0 || tx === 0) &&
        (monetary === null || x === 0 || m > 0) &&
        (hFreq === null || Number.isInteger(hf));
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
    } else if (ids) {
      ids.push(Buffer.from(bytes.buffer, bytes.byteOffset + idStart, idEnd - idStart).toString('utf8'));
    }
    frequency[rows] = x;
    recency[rows] = tx;
    T[rows] = age;
    if (monetary) monetary[rows] = m;
    if (hFreq) hFreq[rows] = hf;
    if (hDur) hDur[rows] = hd;
    rows++;
  }
  if (rows === 0) throw invalid('the summary has a header but no rows', { file, line: 2 });
  return {
    rows,
    ids,
    frequency: frequency.subarray(0, rows),
    recency: recency.subarray(0, rows),
    T: T.subarray(0, rows),
    monetaryValue: monetary ? monetary.subarray(0, rows) : null,
    holdoutFrequency: hFreq ? hFreq.subarray(0, rows) : null,
    holdoutDuration: hDur ? hDur.subarray(0, rows) : null,
  };
}

function allRecords(bytes: Uint8Array): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  parser.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), out);
  parser.end(out);
  return out.filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
}

/** Files with quoted cells go through the RFC 4180 parser and the schema row by row. */
function parseQuoted(bytes: Uint8Array, file: string, options: ReadSummaryOptions): SummaryColumns {
  const records = allRecords(bytes);
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
  const records = allRecords(readBytes(file));
  const header = records[0]?.fields.map((h) => h.trim());
  if (!header || header[0] !== 'period' || header[1] !== 'alive')
    throw invalid('an sBG summary has the header period,alive', { file, line: 1 });
  const alive: number[] = [];
  for (const rec of records.slice(1)) {
    const r = SurvivorRow.safeParse({ period: rec.fields[0], alive: rec.fields[1] });
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
