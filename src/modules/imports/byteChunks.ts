import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { invalid } from '../../shared/errors.js';
import type { ReadProgress } from './source.js';

const LF = 10;
const QUOTE = 34;

/** A run of whole CSV records from a file: its bytes and the physical line its first record starts on. */
export interface ByteChunk {
  bytes: Uint8Array;
  line: number;
}

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
 * The end (index of its LF) of the first record ending at or after `from`, in bytes that start at a
 * record boundary; −1 if none is complete yet. A LF ends a record when an even number of quotes
 * precedes it: the CSV parser's quoted state toggles on every quote (a doubled quote toggles twice),
 * so quote parity is exactly its state.
 */
export function recordEndFrom(b: Uint8Array, from: number): number {
  let lf = b.indexOf(LF, from);
  if (lf < 0) return -1;
  let quotes = countByte(b, QUOTE, 0, lf);
  while (quotes % 2 === 1) {
    const next = b.indexOf(LF, lf + 1);
    if (next < 0) return -1;
    quotes += countByte(b, QUOTE, lf, next);
    lf = next;
  }
  return lf;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A fresh copy with its own ArrayBuffer, so it can be transferred to a worker. */
function own(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/**
 * Reads a CSV file (gzip detected by the caller) after its header record and cuts it into chunks of
 * about `target` bytes at record boundaries, numbering each chunk's first physical line as the CSV
 * parser would (the header is line 1).
 */
export async function* csvByteChunks(
  file: string,
  gzip: boolean,
  progress: ReadProgress,
  target = 4 << 20,
): AsyncGenerator<ByteChunk> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  raw.on('data', (b) => {
    progress.bytesRead += (b as Buffer).length;
  });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e));
  let parts: Uint8Array[] = [];
  let size = 0;
  let line = 1;
  let header = true;
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      parts.push(buf);
      size += buf.length;
      if (header) {
        let data = concat(parts, size);
        if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
        const end = recordEndFrom(data, 0);
        if (end < 0) {
          parts = [data];
          size = data.length;
          continue;
        }
        line += countLines(data, 0, end + 1);
        const rest = data.subarray(end + 1);
        parts = [rest];
        size = rest.length;
        header = false;
      }
      while (size >= target) {
        const data = concat(parts, size);
        const end = recordEndFrom(data, target - 1);
        if (end < 0) {
          parts = [data];
          break;
        }
        const piece = data.subarray(0, end + 1);
        yield { bytes: own(piece), line };
        line += countLines(piece);
        const rest = data.subarray(end + 1);
        parts = [rest];
        size = rest.length;
      }
    }
  } catch (err) {
    throw invalid(`cannot read ${gzip ? 'gzip ' : ''}file: ${(err as Error).message}`, { file });
  }
  if (size > 0 && !header) yield { bytes: own(concat(parts, size)), line };
}
