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
