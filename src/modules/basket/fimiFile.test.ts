import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FimiParser } from '../../analytics/basket/fimi.js';
import { AppError } from '../../shared/errors.js';
import { readFimi } from './fimiFile.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-fimi-'));

function write(name: string, content: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function failure(file: string): Promise<AppError> {
  const err = await readFimi(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('readFimi', () => {
  it('reads baskets with trailing spaces, tabs, CRLF, blank lines and duplicate ids', async () => {
    const file = write('a.dat', '1 2 3 \n\n30\t31 32 \r\n7 7 8');
    const { db, lines, blankLines } = await readFimi(file);
    expect(db.transactionCount).toBe(3);
    expect(lines).toBe(4);
    expect(blankLines).toBe(1);
    const baskets = Array.from({ length: 3 }, (_, t) =>
      Array.from(db.items.subarray(db.offsets[t]!, db.offsets[t + 1]!), (c) => db.keys[c]),
    );
    expect(baskets).toEqual([
      [1, 2, 3],
      [30, 31, 32],
      [7, 8],
    ]);
  });

  it('reads gzip files (detected by content) and splits across chunk boundaries', async () => {
    const text = Array.from({ length: 20000 }, (_, i) => `${i % 97} ${(i * 7) % 101} ${1000000 + i} `).join(
      '\n',
    );
    const plain = await readFimi(write('b.dat', text));
    const gz = await readFimi(write('b.dat.gz', gzipSync(text)));
    expect(gz.db.transactionCount).toBe(20000);
    expect(Array.from(gz.db.items)).toEqual(Array.from(plain.db.items));
    // Byte-at-a-time feeding gives the same result as whole chunks.
    const parser = new FimiParser('mem');
    for (const byte of Buffer.from('12 345\n6 78 ')) parser.push(Uint8Array.of(byte));
    const { db } = parser.end();
    expect(db.keys).toEqual([12, 345, 6, 78]);
  });

  it('rejects an empty file', async () => {
    const err = await failure(write('empty.dat', ''));
    expect(err.code).toBe('validation');
    expect(err.message).toMatch(/no baskets/);
    expect(err.where?.file).toMatch(/empty\.dat$/);
    expect((await failure(write('blank.dat', '\n  \n'))).message).toMatch(/no baskets/);
  });

  it('rejects non-integer ids with file, line and field', async () => {
    const err = await failure(write('bad.dat', '1 2 3\n4 5x 6\n'));
    expect(err.where).toEqual({ file: expect.stringMatching(/bad\.dat$/), line: 2, field: 'item id' });
    expect(err.message).toContain('"5x"');
    expect(err.toLine()).toMatch(/bad\.dat:2 field item id: expected a non-negative integer item id/);
    expect((await failure(write('neg.dat', '1\n2\n-3\n'))).where?.line).toBe(3);
    expect((await failure(write('dec.dat', '1.5\n'))).message).toContain('"1.5"');
    expect((await failure(write('big.dat', '99999999999\n'))).message).toMatch(/exceeds/);
  });

  it('reports a missing file as not_found', async () => {
    expect((await failure(join(dir, 'nope.dat'))).code).toBe('not_found');
  });

  it('reports a corrupt gzip stream', async () => {
    const bytes = gzipSync('1 2 3\n'.repeat(1000));
    const err = await failure(write('corrupt.dat.gz', bytes.subarray(0, bytes.length - 30)));
    expect(err.code).toBe('validation');
  });
});
