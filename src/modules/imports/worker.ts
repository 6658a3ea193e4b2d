/**
 * Parse worker for big imports (see parallel.ts): receives runs of whole CSV records as bytes, runs
 * the same per-record pipeline as the importer's own thread (records.ts), and sends back the staging
 * rows already encoded for COPY, plus rejections and skip counts. Bundled as dist/bundle/import-worker.cjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { CopyEncoder } from '../../storage/copyFormat.js';
import { CsvParser, TOO_LONG, type CsvRecord } from './csv.js';
import type { ChunkResult, ChunkTask, WorkerInit } from './parallel.js';
import { presetByName } from './presets/index.js';
import { recordHandler, stagingTargets } from './records.js';
import type { Entity } from './schema.js';
import { recordOf } from './source.js';
import { decodeWhole, InvalidBytes } from './encoding.js';
import { emptyTally, valueReader } from './values.js';

// Records are parsed a slice at a time so only a few thousand are alive at once (less GC copying).
const SLICE_CHARS = 256 << 10;

const init = workerData as WorkerInit;
const preset = presetByName(init.preset);
// Only presets whose rows map independently run here, so one mapper serves every chunk.
const mapper = preset.createMapper(init.entity, {
  map: init.map,
  currency: init.currency,
  format: init.format,
});
const tally = emptyTally();
// The reader keeps its tally object: it is reset in place for each chunk.
const readValues = valueReader(init.format, tally);
const out = new Map<Entity, CopyEncoder>(stagingTargets(init.entity).map((t) => [t, new CopyEncoder()]));
let rejects: [number, string][] = [];
let warnings: [number, string][] = [];
let skipped: Record<string, number> = {};
const handle = recordHandler(
  init.entity,
  preset,
  mapper,
  init.header.length,
  {
    row: (entity, row) => out.get(entity)!.add(row),
    reject: (line, reason) => rejects.push([line, reason]),
    warn: (line, reason) => warnings.push([line, reason]),
    skip: (reason) => {
      skipped[reason] = (skipped[reason] ?? 0) + 1;
    },
  },
  readValues,
);

function run(task: ChunkTask): ChunkResult {
  rejects = [];
  warnings = [];
  skipped = {};
  Object.assign(tally, emptyTally());
  const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.length);
  // Bytes that are not UTF-8 decode to escapes whose file offsets the chunk's records take (encoding.ts).
  const invalid = new InvalidBytes();
  const text = decodeWhole(bytes, init.encoding.value, task.offset, invalid);
  const parser = new CsvParser(init.delimiter, task.line, invalid);
  let records: CsvRecord[] = [];
  let count = 0;
  const drain = () => {
    for (const r of records) handle(recordOf(init.header, r.fields, r.line, invalid));
    count += records.length;
    records = [];
  };
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + SLICE_CHARS);
    // Never between the two halves of a surrogate pair (a lone low half would read as an escaped byte).
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    parser.push(text.slice(at, end), records);
    drain();
    at = end;
  }
  parser.end(records);
  // The cutter's stand-in for a record too long to cut out: rejected like the parser's own.
  if (task.tooLong !== undefined) records.push({ fields: [TOO_LONG, '0'], line: task.tooLong });
  drain();
  return {
    id: task.id,
    records: count,
    out: [...out].map(([entity, e]) => ({ entity, ...e.take() })),
    rejects,
    warnings,
    skipped,
    tally: { ...tally },
  };
}

parentPort!.on('message', (task: ChunkTask) => {
  try {
    const result = run(task);
    parentPort!.postMessage(
      result,
      result.out.map((o) => o.bytes.buffer as ArrayBuffer),
    );
  } catch (err) {
    for (const e of out.values()) e.take(); // drop the failed chunk's partial rows
    const e = err as Error;
    parentPort!.postMessage({
      id: task.id,
      error: {
        code: err instanceof AppError ? err.code : 'internal',
        message: e.message,
        ...(err instanceof AppError && err.where ? { where: err.where } : {}),
      },
    });
  }
});
