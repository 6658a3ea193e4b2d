import type { BulkLoad } from './port.js';

/** Serialises async work: one statement or transaction at a time on a single connection. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** `load` with its `finish` (the COPY itself) queued on `queue`, so it waits its turn on the connection. */
export function finishQueued(load: BulkLoad, queue: { run<T>(fn: () => Promise<T>): Promise<T> }): BulkLoad {
  return {
    write: (rows) => load.write(rows),
    writeEncoded: (bytes, rows) => load.writeEncoded(bytes, rows),
    finish: () => queue.run(() => load.finish()),
    abort: () => load.abort(),
  };
}
