/**
 * Parse worker for big imports (see parallel.ts): receives runs of whole CSV records as bytes, runs
 * the same per-record pipeline as the importer's own thread (records.ts), and sends back the staging
 * rows already encoded for COPY, plus rejections and skip counts. Bundled as dist/bundle/import-worker.cjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { CopyEncoder } from '../../storage/copyFormat.js';
import { CsvParser, type CsvRecord } from './csv.js';
import type { ChunkResult, ChunkTask, WorkerInit } from './parallel.js';
import { presetByName } from './presets/index.js';
import { recordHandler, stagingTargets } from './records.js';
import type { Entity } from './schema.js';
import { recordOf } from './source.js';
import { countLines } from './byteChunks.js';
import { decodeWhole, undecodableError, UndecodableBytes } from './encoding.js';
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
  let text: string;
  try {
    text = decodeWhole(bytes, init.encoding.value);
  } catch (err) {
    if (!(err instanceof UndecodableBytes)) throw err;
    const line = task.line + countLines(bytes, 0, err.offset);
    throw undecodableError(init.file, line, init.encoding, err);
  }
  const parser = new CsvParser(init.delimiter, task.line);
  let records: CsvRecord[] = [];
  let count = 0;
  const drain = () => {
    for (const r of records) handle(recordOf(init.header, r.fields, r.line));
    count += records.length;
    records = [];
  };
  for (let at = 0; at < text.length; at += SLICE_CHARS) {
    parser.push(text.slice(at, at + SLICE_CHARS), records);
    drain();
  }
  parser.end(records);
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
