/**
 * Reads a FIMI basket file from disk (plain or gzip) in 1 MiB chunks through the pure parser of
 * src/analytics/basket/fimi.ts.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { FimiParser } from '../../analytics/basket/fimi.js';
import type { TransactionDb } from '../../analytics/basket/transactionDb.js';
import { AppError, invalid } from '../../shared/errors.js';

/** Reads a FIMI file (gzip detected by its magic bytes) as a stream into a transaction database. */
export async function readFimi(
  file: string,
): Promise<{ db: TransactionDb; lines: number; blankLines: number }> {
  let gzip = false;
  try {
    const handle = await open(file, 'r');
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new AppError('not_found', `cannot open basket file: ${(err as Error).message}`, {
      where: { file },
      cause: err,
    });
  }
  const parser = new FimiParser(file);
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) parser.push(chunk);
  };
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    if (gzip) await pipeline(input, createGunzip({ chunkSize: 1 << 20 }), consume);
    else await pipeline(input, consume);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw invalid(`cannot read basket file: ${(err as Error).message}`, { file });
  }
  return parser.end();
}
