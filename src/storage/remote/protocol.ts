import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError, type AppErrorCode } from '../../shared/errors.js';
import type { SqlValue } from '../port.js';

/**
 * The wire format between `retain serve` (or `retain worker`), which holds a DuckDB file, and a CLI
 * command that found the file locked (src/storage/remote/). One Unix-domain socket connection is one
 * session; each request is answered in order.
 *
 * Frame: `u32 headerBytes | u32 payloadBytes | header (UTF-8 JSON) | payload (raw bytes)`, big-endian.
 * The header is JSON (control, SQL, parameters, rows); the payload carries bulk-load bytes (COPY CSV,
 * storage/copyFormat.ts) untouched. Values that JSON cannot carry exactly travel tagged (`encodeValue`).
 */
export const PROTOCOL_VERSION = 2;

/** Largest frame either side accepts (a frame is held in memory whole). */
export const MAX_FRAME_BYTES = 1 << 30;

/** Rows per response frame of a query: a large result streams in frames, never one huge JSON string. */
export const ROWS_PER_FRAME = 8_192;

export type Request =
  | { op: 'hello'; protocol: number }
  | { op: 'query'; sql: string; params: unknown[] }
  | { op: 'exec'; sql: string; params: unknown[] }
  /** From now on this connection is a session of the store (`Database.session`): its own connection. */
  | { op: 'session' }
  | { op: 'begin' }
  | { op: 'commit' }
  | { op: 'rollback' }
  | { op: 'bulk'; table: string; columns: string[] }
  /** payload: COPY CSV bytes of `rows` rows */
  | { op: 'write'; load: number; rows: number }
  | { op: 'finish'; load: number }
  | { op: 'abort'; load: number };

export interface WireError {
  name: string;
  message: string;
  code?: AppErrorCode;
  where?: AppError['where'];
  details?: unknown;
}

export type Response =
  | {
      ok: true;
      pid?: number;
      kind?: string;
      protocol?: number;
      changed?: number;
      load?: number;
      count?: number;
    }
  /** A query's rows: `cols` once per frame, `rows` as arrays of encoded values; `more` until the last frame. */
  | { ok: true; cols: string[]; rows: unknown[][]; more: boolean }
  | { ok: false; error: WireError };

export interface Frame {
  header: unknown;
  payload: Buffer;
}

/** One frame's bytes (two buffers, so a bulk payload is never copied). */
export function encodeFrame(header: unknown, payload?: Uint8Array): Buffer[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const size = payload?.byteLength ?? 0;
  if (8 + json.length + size > MAX_FRAME_BYTES)
    throw new RangeError(
      `a frame of ${8 + json.length + size} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`,
    );
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32BE(json.length, 0);
  prefix.writeUInt32BE(size, 4);
  const head = Buffer.concat([prefix, json]);
  return size > 0 && payload
    ? [head, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)]
    : [head];
}

/** Cuts a byte stream into frames (chunks may split or join frames anywhere). */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Bytes received but not yet returned as frames. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 8) break;
      const prefix = this.peek(8);
      const headerBytes = prefix.readUInt32BE(0);
      const payloadBytes = prefix.readUInt32BE(4);
      const total = 8 + headerBytes + payloadBytes;
      if (total > MAX_FRAME_BYTES)
        throw new RangeError(`a frame of ${total} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
      if (this.buffered < total) break;
      const all = this.take(total);
      frames.push({
        header: JSON.parse(all.toString('utf8', 8, 8 + headerBytes)) as unknown,
        payload: all.subarray(8 + headerBytes),
      });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    let first = this.chunks[0] as Buffer;
    if (first.length < n) {
      first = Buffer.concat(this.chunks);
      this.chunks = [first];
    }
    this.buffered -= n;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }
}

/**
 * A value as JSON that decodes to exactly the same value: strings, booleans, finite numbers, null,
 * arrays and plain objects as themselves; the rest tagged `{ $: tag, v }`: `b` bigint (decimal text),
 * `d` Date (epoch ms, null when invalid), `n` a number JSON cannot hold (NaN, ±Infinity, -0), `x` bytes
 * (base64), `u` undefined, `o` a plain object that itself has a `$` key.
 */
export function encodeValue(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { $: 'n', v: Object.is(v, -0) ? '-0' : String(v) };
    case 'bigint':
      return { $: 'b', v: v.toString() };
    case 'undefined':
      return { $: 'u' };
    case 'object': {
      if (v === null) return null;
      if (v instanceof Date) {
        const t = v.getTime();
        return { $: 'd', v: Number.isNaN(t) ? null : t };
      }
      if (v instanceof Uint8Array)
        return { $: 'x', v: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
      if (Array.isArray(v)) return v.map(encodeValue);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v)) out[key] = encodeValue((v as Record<string, unknown>)[key]);
      return '$' in v ? { $: 'o', v: out } : out;
    }
    default:
      throw new TypeError(`cannot send a ${typeof v} to the database server`);
  }
}

export function decodeValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(decodeValue);
  const o = v as Record<string, unknown>;
  const tag = o.$;
  if (tag === undefined) {
    for (const key of Object.keys(o)) o[key] = decodeValue(o[key]);
    return o;
  }
  switch (tag) {
    case 'b':
      return BigInt(o.v as string);
    case 'd':
      return new Date(o.v === null ? NaN : (o.v as number));
    case 'n':
      return o.v === '-0' ? -0 : Number(o.v);
    case 'x':
      return Buffer.from(o.v as string, 'base64');
    case 'u':
      return undefined;
    case 'o': {
      const inner = o.v as Record<string, unknown>;
      for (const key of Object.keys(inner)) inner[key] = decodeValue(inner[key]);
      return inner;
    }
    default:
      throw new TypeError(`unknown value tag '${String(tag)}' from the database server`);
  }
}

export const encodeParams = (params: readonly SqlValue[]): unknown[] => params.map(encodeValue);
export const decodeParams = (params: unknown[]): SqlValue[] => params.map(decodeValue) as SqlValue[];

const ERROR_TYPES: Record<string, new (message: string) => Error> = {
  RangeError,
  TypeError,
  SyntaxError,
};

/** An error as it travels: its class name, message and, for an AppError, code and location. */
export function encodeError(err: unknown): WireError {
  if (err instanceof AppError)
    return { name: 'AppError', message: err.message, code: err.code, where: err.where, details: err.details };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The same error on this side: an AppError with its code and place, or an Error of the same class and message. */
export function decodeError(e: WireError): Error {
  if (e.code) return new AppError(e.code, e.message, { where: e.where, details: e.details });
  const Type = ERROR_TYPES[e.name] ?? Error;
  const err = new Type(e.message);
  if (!ERROR_TYPES[e.name] && e.name !== 'Error') err.name = e.name;
  return err;
}

/** Longest socket path used beside the DuckDB file (sun_path holds 108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

/**
 * Where the server holding DuckDB file `realFile` (its realpath) listens: `<file>.sock` beside it
 * when that fits sun_path, else `retain-<sha256 prefix of the path>.sock` in the temp folder.
 */
export function socketPathFor(realFile: string): string {
  const beside = `${realFile}.sock`;
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH) return beside;
  const digest = createHash('sha256').update(realFile).digest('hex').slice(0, 24);
  return join(tmpdir(), `retain-${digest}.sock`);
}
