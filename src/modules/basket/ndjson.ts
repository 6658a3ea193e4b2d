import { closeSync, openSync, writeSync } from 'node:fs';
import { AppError } from '../../shared/errors.js';

/** Buffered, synchronous NDJSON file writer: mining callbacks are synchronous and may emit millions of lines. */
export class NdjsonWriter {
  private readonly fd: number;
  private buffer = '';
  lines = 0;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'w');
    } catch (err) {
      throw new AppError('validation', `cannot write output file: ${(err as Error).message}`, {
        where: { file, field: '--out' },
      });
    }
  }

  /** Appends one JSON line. */
  write(value: unknown): void {
    this.writeRaw(JSON.stringify(value));
  }

  /** Appends one already-serialised JSON line. */
  writeRaw(json: string): void {
    this.buffer += json + '\n';
    this.lines++;
    if (this.buffer.length >= 1 << 20) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }
}
