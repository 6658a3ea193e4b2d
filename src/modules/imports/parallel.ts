/**
 * Big CSV imports parse on several cores: this thread reads the file and cuts it at record boundaries
 * (byteChunks.ts), workers (worker.ts) map, validate and encode the rows, and this thread appends their
 * bytes to the staging COPY in file order — so rows, line numbers, rejections and the merge are the
 * same as a single-threaded import of the file.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, type AppErrorCode, type ErrorLocation, invalid } from '../../shared/errors.js';
import { packageRoot } from '../../shared/packageRoot.js';
import type { BulkLoad } from '../../storage/port.js';
import { csvByteChunks, type ByteChunk } from './byteChunks.js';
import type { Preset } from './presets/index.js';
import type { RecordSink } from './records.js';
import type { Entity } from './schema.js';
import type { SourceInfo } from './source.js';
import { splittableEncoding, type EncodingChoice } from './encoding.js';
import { addTally, type FormatTally, type ValueFormat } from './values.js';

/** What every worker needs to map rows as the importer would. */
export interface WorkerInit {
  entity: Entity;
  preset: string;
  map: Record<string, string>;
  currency: string;
  header: string[];
  /** The file's encoding (UTF-8 or a single-byte code page: see parallelPlan) and delimiter. */
  encoding: EncodingChoice;
  delimiter: string;
  format: ValueFormat;
}

export interface ChunkTask extends ByteChunk {
  id: number;
}

export interface ChunkResult {
  id: number;
  records: number;
  out: { entity: Entity; bytes: Uint8Array; rows: number }[];
  rejects: [number, string][];
  warnings: [number, string][];
  skipped: Record<string, number>;
  tally: FormatTally;
  error?: { code: AppErrorCode; message: string; where?: ErrorLocation };
}

/** Files below this size (uncompressed estimate) parse on the importer's thread: workers cost ~0.1 s to start. */
const MIN_PARALLEL_BYTES = 16 << 20;
const MAX_WORKERS = 4;

/** The bundled worker, when running compiled code (under the test runner the sources are TypeScript). */
function defaultWorkerFile(): string | undefined {
  if (!/\.c?js$/.test(import.meta.url)) return undefined;
  const file = join(packageRoot(), 'dist', 'bundle', 'import-worker.cjs');
  return existsSync(file) ? file : undefined;
}

/**
 * How many parse workers to use (0: none) and which script: only for CSV files of presets whose rows
 * are independent, in an encoding whose records can be cut at LF bytes (UTF-8, single-byte code pages;
 * UTF-16 files parse on the importer's thread). `requested` (or RETAIN_IMPORT_WORKERS) overrides the size rule.
 */
export function parallelPlan(
  preset: Preset,
  info: SourceInfo,
  requested: number | undefined,
  workerFile: string | undefined,
): { workers: number; file: string } | null {
  const env = process.env.RETAIN_IMPORT_WORKERS;
  const asked = requested ?? (env !== undefined && env.trim() !== '' ? Number(env) : undefined);
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 0 && asked <= 64))
    throw invalid(`import workers must be a whole number from 0 to 64, got '${requested ?? env}'`, {
      field: requested === undefined ? 'RETAIN_IMPORT_WORKERS' : '--workers',
    });
  if (asked === 0 || !preset.independentRows || info.format !== 'csv') return null;
  if (!splittableEncoding(info.encoding)) return null;
  const file = workerFile ?? defaultWorkerFile();
  if (!file) return null;
  if (asked !== undefined) return { workers: asked, file };
  const bytes = info.gzip ? info.bytesTotal * 6 : info.bytesTotal;
  if (bytes < MIN_PARALLEL_BYTES) return null;
  return { workers: Math.min(MAX_WORKERS, availableParallelism()), file };
}

/** A fixed set of workers taking tasks from one queue; each task's promise settles with its result. */
class Pool {
  private readonly workers: Worker[];
  private readonly idle: Worker[] = [];
  private readonly queue: { task: ChunkTask; done: (r: ChunkResult) => void; fail: (e: unknown) => void }[] =
    [];
  private readonly running = new Map<Worker, (typeof this.queue)[number]>();
  private failure: unknown = null;
  private closing = false;

  constructor(n: number, file: string, init: WorkerInit) {
    this.workers = Array.from({ length: n }, () => {
      // Rows die young: a young generation bigger than the default keeps them out of the old one (the
      // default made GC a third of a worker's time). 64 MB parses as fast as 384 MB did (1M orders:
      // 15.1 s vs 15.3 s) and peaks ~330 MB lower with two workers.
      const w = new Worker(file, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
      w.on('message', (r: ChunkResult) => {
        const job = this.running.get(w);
        this.running.delete(w);
        this.idle.push(w);
        if (r.error)
          job?.fail(
            new AppError(r.error.code, r.error.message, r.error.where ? { where: r.error.where } : {}),
          );
        else job?.done(r);
        this.dispatch();
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closing)
          this.fail(new AppError('internal', `an import worker stopped (exit code ${code})`));
      });
      this.idle.push(w);
      return w;
    });
  }

  run(task: ChunkTask): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((done, fail) => {
      this.queue.push({ task, done, fail });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.postMessage(job.task, [job.task.bytes.buffer as ArrayBuffer]);
    }
  }

  private fail(err: unknown): void {
    this.failure = this.failure ?? err;
    for (const job of [...this.running.values(), ...this.queue]) job.fail(this.failure);
    this.running.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export interface ParallelImport {
  file: string;
  gzip: boolean;
  plan: { workers: number; file: string };
  /** Bytes per task (default 4 MiB). */
  chunkBytes?: number | undefined;
  init: WorkerInit;
  /** Staging loads by target entity. */
  loads: Map<Entity, BulkLoad>;
  sink: RecordSink;
  /** What the workers' value readers met (auto decimal and date forms), summed into. */
  tally: FormatTally;
  /** Called after each chunk with the records it held and the raw bytes read so far. */
  onRecords(records: number, bytesRead: number): void;
}

/** Parses the file in workers and appends their rows to the staging loads, in file order. */
export async function importInWorkers(p: ParallelImport): Promise<void> {
  const pool = new Pool(p.plan.workers, p.plan.file, p.init);
  const progress = { bytesRead: 0 };
  const inFlight: Promise<ChunkResult>[] = [];
  const apply = async (r: ChunkResult) => {
    for (const [line, reason] of r.rejects) p.sink.reject(line, reason);
    for (const [line, reason] of r.warnings) p.sink.warn(line, reason);
    for (const [reason, n] of Object.entries(r.skipped)) p.sink.skip(reason, n);
    addTally(p.tally, r.tally);
    for (const o of r.out) await p.loads.get(o.entity)!.writeEncoded(o.bytes, o.rows);
    p.onRecords(r.records, progress.bytesRead);
  };
  try {
    let id = 0;
    for await (const chunk of csvByteChunks(p.file, p.gzip, progress, p.chunkBytes)) {
      const pending = pool.run({ ...chunk, id: id++ });
      pending.catch(() => undefined); // awaited in order below; this only keeps it from being "unhandled"
      inFlight.push(pending);
      if (inFlight.length >= 2 * p.plan.workers) await apply(await inFlight.shift()!);
    }
    while (inFlight.length > 0) await apply(await inFlight.shift()!);
  } finally {
    await pool.close();
  }
}
