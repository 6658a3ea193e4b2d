import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { invalid } from '../../shared/errors.js';
import { MAX_RECORD_CHARS } from './csv.js';
import type { ReadProgress } from './source.js';

const LF = 10;
const QUOTE = 34;

/**
 * A run of whole CSV records from a file: its bytes, the physical line its first record starts on and
 * its offset in the decompressed file (so a worker names bytes that are not UTF-8 by file offset). A
 * chunk with `tooLong` stands for one record at that line that was too long to cut out: no bytes, one
 * rejection, the record skipped in constant memory.
 */
export interface ByteChunk {
  bytes: Uint8Array;
  line: number;
  offset: number;
  tooLong?: number;
}

/**
 * A record of more bytes than this is longer than MAX_RECORD_CHARS characters in any encoding the
 * workers read (a UTF-16 code unit takes at most 3 bytes of UTF-8; a code page 1 byte): the cutter skips
 * it instead of buffering it. Shorter ones reach the worker, whose CsvParser applies the exact limit in
 * characters, as the importer's own thread does, so both paths reject the same rows.
 */
export const MAX_RECORD_BYTES = 3 * MAX_RECORD_CHARS + 2;

function countByte(b: Uint8Array, byte: number, from: number, to: number): number {
  let n = 0;
  for (let i = b.indexOf(byte, from); i >= 0 && i < to; i = b.indexOf(byte, i + 1)) n++;
  return n;
}

/** Line feeds in `b[from, to)`. */
export function countLines(b: Uint8Array, from = 0, to = b.length): number {
  return countByte(b, LF, from, to);
}

/**
 * Reads a CSV file (gzip detected by the caller) after its header record and cuts it into chunks of
 * about `target` bytes at record boundaries, numbering each chunk's first physical line as the CSV
 * parser would (the header is line 1). Every byte is looked at once: line feeds and quotes are found
 * with indexOf, and a stretch outside quotes needs only its last line feed, so a record that never
 * ends costs linear time and at most `maxRecord` bytes of memory before it is skipped.
 */
export async function* csvByteChunks(
  file: string,
  gzip: boolean,
  progress: ReadProgress,
  target = 4 << 20,
  maxRecord = MAX_RECORD_BYTES,
): AsyncGenerator<ByteChunk> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  raw.on('data', (b) => {
    progress.bytesRead += (b as Buffer).length;
  });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e));
  let parts: Uint8Array[] = []; // the bytes not yet cut off, from file offset `base`
  let base = 0;
  let at = 0; // file offset of the next byte to arrive
  let line = 1; // line of the first record at `base`
  let quoted = false; // quote parity at `at`
  let recordStart = 0; // file offset of the record open at `at`
  let cutFrom = 0; // the first record end at or after this offset cuts a chunk (the header's: any)
  let header = true;
  let skipping = false; // in a too-long record: its line and the line feeds inside it so far
  let skipLine = 0;
  let skipLfs = 0;
  /** Cuts the pending bytes up to file offset `end` off as a fresh (transferable) array. */
  const take = (end: number): Uint8Array => {
    const out = new Uint8Array(end - base);
    let filled = 0;
    while (filled < out.length) {
      const part = parts[0]!;
      const k = Math.min(part.length, out.length - filled);
      out.set(k === part.length ? part : part.subarray(0, k), filled);
      filled += k;
      if (k === part.length) parts.shift();
      else parts[0] = part.subarray(k);
    }
    base = end;
    return out;
  };
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      const g = at; // file offset of buf[0]
      const n = buf.length;
      at += n;
      let p = 0;
      if (skipping) {
        // Follow quotes to the line feed that ends the skipped record.
        let quote = buf.indexOf(QUOTE, 0);
        let end = -1;
        for (;;) {
          const lf = buf.indexOf(LF, p);
          const to = lf < 0 ? n : lf;
          while (quote >= 0 && quote < to) {
            quoted = !quoted;
            quote = buf.indexOf(QUOTE, quote + 1);
          }
          if (lf < 0) break;
          if (!quoted) {
            end = lf;
            break;
          }
          skipLfs++;
          p = lf + 1;
        }
        if (end < 0) continue;
        p = end + 1;
        yield { bytes: new Uint8Array(0), line: skipLine, offset: recordStart, tooLong: skipLine };
        line = skipLine + skipLfs + 1;
        skipping = false;
        base = recordStart = g + p;
        cutFrom = base + target - 1;
      }
      if (p < n) parts.push(p === 0 ? buf : buf.subarray(p));
      let nq = buf.indexOf(QUOTE, p);
      if (nq < 0) nq = n;
      let nl = buf.indexOf(LF, p);
      if (nl < 0) nl = n;
      while (p < n) {
        if (!quoted) {
          // Outside quotes up to the next quote: every line feed here ends a record.
          if (nl < nq) {
            const last = buf.lastIndexOf(LF, nq - 1);
            while (cutFrom <= g + last) {
              const from = cutFrom - g;
              const lf = from <= nl ? nl : buf.indexOf(LF, from);
              const offset = base;
              const piece = take(g + lf + 1);
              const first = line;
              line += countLines(piece); // before the yield: the piece is then transferred to a worker
              cutFrom = g + lf + target;
              if (header) header = false;
              else yield { bytes: piece, line: first, offset };
            }
            recordStart = g + last + 1;
          }
          p = nq;
        } else {
          p = nq; // inside quotes up to the next quote
        }
        if (p >= n) break;
        quoted = !quoted;
        p++;
        nq = buf.indexOf(QUOTE, p);
        if (nq < 0) nq = n;
        if (nl < p) {
          nl = buf.indexOf(LF, p);
          if (nl < 0) nl = n;
        }
      }
      if (at - recordStart > maxRecord) {
        if (header)
          throw invalid(
            `the first line (the header) is longer than the limit of ${MAX_RECORD_CHARS} characters`,
            {
              file,
              line: 1,
            },
          );
        // Too long to buffer: the complete records before it go out, it is skipped to its end.
        if (recordStart > base) {
          const offset = base;
          const piece = take(recordStart);
          const first = line;
          line += countLines(piece);
          yield { bytes: piece, line: first, offset };
        }
        skipLine = line;
        skipLfs = 0;
        for (const part of parts) skipLfs += countLines(part);
        parts = [];
        base = at;
        skipping = true;
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'validation') throw err;
    throw invalid(`cannot read ${gzip ? 'gzip ' : ''}file: ${(err as Error).message}`, { file });
  }
  if (skipping) yield { bytes: new Uint8Array(0), line: skipLine, offset: recordStart, tooLong: skipLine };
  else if (at > base && !header) {
    const offset = base;
    yield { bytes: take(at), line, offset };
  }
}
