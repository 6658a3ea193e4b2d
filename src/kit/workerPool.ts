import { Worker, type MessagePort } from 'node:worker_threads';
import { AppError, type AppErrorCode, type ErrorLocation } from '../shared/errors.js';

/**
 * A small pool of worker threads running one script, for CPU-bound work that must not block the
 * event loop (the server keeps answering while a worker mines). Tasks queue beyond `size`; workers
 * start on first use, do not keep the process alive while idle (unref) and exit after `idleMs`
 * without work. A worker's `AppError` comes back as the same `AppError` (code, message, where); a
 * worker that dies fails its task with an `internal` error, and the next task starts a fresh one.
 *
 * The script answers with {@link serveTasks}.
 */
export interface WorkerPoolOptions {
  /** The worker script (a compiled .js/.cjs/.mjs file). */
  file: string;
  /** Workers at most (tasks beyond wait in order). */
  size: number;
  /** An idle worker exits after this long (default 30 s). */
  idleMs?: number;
  /** Names the pool in errors ("the basket worker stopped …"). */
  name: string;
}

interface Pending {
  task: unknown;
  transfer: readonly ArrayBuffer[];
  done: (value: unknown) => void;
  fail: (err: unknown) => void;
}

interface Reply {
  ok: boolean;
  value?: unknown;
  error?: { code: AppErrorCode; message: string; where?: ErrorLocation; details?: unknown };
}

interface Slot {
  worker: Worker;
  job: Pending | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(private readonly o: WorkerPoolOptions) {
    if (!(Number.isInteger(o.size) && o.size >= 1))
      throw new Error(`worker pool size must be ≥ 1, got ${o.size}`);
  }

  /** Runs one task on a worker; `transfer` lists buffers moved (not copied) to it. */
  run<T>(task: unknown, transfer: readonly ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new AppError('internal', `the ${this.o.name} pool is closed`));
    return new Promise<T>((done, fail) => {
      this.queue.push({ task, transfer, done: done as (v: unknown) => void, fail });
      this.dispatch();
    });
  }

  /** Workers running now (for tests and logs). */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** Stops every worker; queued tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.fail(new AppError('internal', `the ${this.o.name} pool closed`));
    await Promise.all(this.slots.splice(0).map((s) => this.stop(s)));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.o.size) slot = this.start();
      if (!slot) return;
      const job = this.queue.shift()!;
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.task, job.transfer as ArrayBuffer[]);
    }
  }

  private start(): Slot {
    const worker = new Worker(this.o.file);
    const slot: Slot = { worker, job: undefined, idleTimer: undefined };
    worker.on('message', (reply: Reply) => {
      const job = slot.job;
      slot.job = undefined;
      this.idle(slot);
      if (!job) return;
      if (reply.ok) job.done(reply.value);
      else {
        const e = reply.error ?? { code: 'internal' as const, message: 'failed' };
        job.fail(
          new AppError(e.code, e.message, {
            ...(e.where ? { where: e.where } : {}),
            ...(e.details !== undefined ? { details: e.details } : {}),
          }),
        );
      }
      this.dispatch();
    });
    const lost = (why: string) => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      slot.job?.fail(new AppError('internal', `the ${this.o.name} stopped: ${why}`));
      slot.job = undefined;
      this.dispatch();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private idle(slot: Slot): void {
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      const at = this.slots.indexOf(slot);
      if (at >= 0 && !slot.job) {
        this.slots.splice(at, 1);
        void this.stop(slot);
      }
    }, this.o.idleMs ?? 30_000);
    slot.idleTimer.unref();
  }

  private async stop(slot: Slot): Promise<void> {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.worker.removeAllListeners('exit');
    slot.worker.removeAllListeners('error');
    await slot.worker.terminate();
  }
}

/**
 * The worker side: answers each task posted by a {@link WorkerPool} with `handle`'s value (moving
 * the buffers it lists), or with the error it threw (an `AppError` keeps its code and location).
 */
export function serveTasks<T>(
  port: MessagePort,
  handle: (task: T) => { value: unknown; transfer?: readonly ArrayBuffer[] },
): void {
  port.on('message', (task: T) => {
    let reply: Reply;
    let transfer: readonly ArrayBuffer[] = [];
    try {
      const r = handle(task);
      reply = { ok: true, value: r.value };
      transfer = r.transfer ?? [];
    } catch (err) {
      const e = err instanceof AppError ? err : undefined;
      reply = {
        ok: false,
        error: {
          code: e?.code ?? 'internal',
          message: err instanceof Error ? err.message : String(err),
          ...(e?.where ? { where: e.where } : {}),
          ...(e?.details !== undefined ? { details: e.details } : {}),
        },
      };
    }
    port.postMessage(reply, transfer as ArrayBuffer[]);
  });
}
