/**
 * Imports survive any file (issue 20 items 4–6): a row longer than the record-length limit, or holding
 * bytes that are not UTF-8, is one row error naming its line (and the byte's offset); the rows around
 * it import, keys are never merged, and a line that never ends costs linear time and flat memory — on
 * the importer's own thread, in parse workers and in NDJSON alike.
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { bundleForTest } from '../../../test/support/bundle.js';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { MAX_RECORD_CHARS } from './csv.js';
import { InvalidBytes } from './encoding.js';
import { NdjsonLines, type SourceRecord } from './source.js';
import { importFile, type ImportOptions } from './service.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'retain-unreadable-'));
const file = (name: string, bytes: Buffer | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOO_LONG = 'the row is longer than 1,048,576 characters (the limit); left out';
const notUtf8 = (offset: number, hex: string) =>
  `bytes that are not UTF-8 at byte offset ${offset} (0x${hex}) — if the file is in another encoding, pass --encoding (e.g. cp1251)`;

/** A gzip file written as a stream: `huge` characters of one line between `before` and `after`. */
async function gzipWithHugeLine(name: string, before: string, huge: number, after: string): Promise<string> {
  const p = join(dir, name);
  const gz = createGzip({ level: 1 });
  const done = once(gz.pipe(createWriteStream(p)), 'finish');
  const write = async (b: Buffer | string) => {
    if (!gz.write(b)) await once(gz, 'drain');
  };
  await write(before);
  const block = Buffer.alloc(1 << 20, 'x');
  for (let left = huge; left > 0; left -= block.length)
    await write(left >= block.length ? block : block.subarray(0, left));
  await write(after);
  gz.end();
  await done;
  return p;
}

describe('NDJSON lines', () => {
  it('leaves out a line longer than the limit whatever the chunk boundaries, and names escaped bytes', () => {
    const esc = String.fromCharCode(0xdcff);
    const text = `{"a":1}\n${'x'.repeat(30)}${esc}\n\n{"a":"${esc}"}\r\n{"a":"${'y'.repeat(12)}"}\r\n{"a":4}`;
    for (const size of [1, 2, 3, 7, 20, 21, 100]) {
      const invalid = new InvalidBytes();
      for (const offset of [500, 600]) invalid.add(offset);
      const lines = new NdjsonLines(invalid, 20);
      const out: SourceRecord[] = [];
      for (let i = 0; i < text.length; i += size) lines.push(text.slice(i, i + size), out);
      lines.end(out);
      expect(out, `chunks of ${size}`).toEqual([
        { line: 1, values: { a: 1 } },
        { line: 2, values: { __unreadable: { kind: 'too-long' } } },
        { line: 4, values: { __unreadable: { kind: 'not-utf8', offset: 600, byte: 0xff } } },
        { line: 5, values: { a: 'y'.repeat(12) } }, // 20 characters with the CR left out
        { line: 6, values: { a: 4 } },
      ]);
    }
  });
});

const PATHS = [
  ['the importer thread', { workers: 0 }],
  ['parse workers', { workers: 2, chunkBytes: 1 << 12 }],
] as const;

describe.each(testEngines())('rows that cannot be read, on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let workerFile: string;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    workerFile = await bundleForTest(join(root, 'src/modules/imports/worker.ts'), 'import-worker');
  }, 60_000);
  afterAll(async () => dispose());
  const run = (opts: Omit<ImportOptions, 'entity'>) =>
    importFile(testContext(db, systemClock), { entity: 'orders', workerFile, ...opts });
  const stored = async (prefix: string) =>
    (
      await db.query<{ external_id: string; total_minor: number }>(
        `SELECT external_id, total_minor FROM orders WHERE external_id LIKE '${prefix}%' ORDER BY external_id`,
      )
    ).map((o) => `${o.external_id}=${Number(o.total_minor)}`);

  it.each(PATHS)(
    'order ids X\\xff and X\\xfe are two row errors with their offsets, never one merged order (%s)',
    async (name, how) => {
      const p = name === 'parse workers' ? 'W' : 'T';
      const header = Buffer.from('order_id,ordered_at,order_total\n');
      const bytes = Buffer.concat([
        header,
        Buffer.from(`${p}X`),
        Buffer.from([0xff]),
        Buffer.from(',2024-01-01,10\n'),
        Buffer.from(`${p}X`),
        Buffer.from([0xfe]),
        Buffer.from(',2024-01-02,20\n'),
        Buffer.from(`${p}Y,2024-01-03,30\n`),
      ]);
      const f = file(`keys-${p}-${engine}.csv`, bytes);
      const r = await run({ file: f, ...how });
      expect(r).toMatchObject({ rows: 3, inserted: 1, rejected: 2, duplicates: 0 });
      expect(r.errors).toEqual([
        { line: 2, reason: notUtf8(header.length + 2, 'FF') },
        { line: 3, reason: notUtf8(header.length + 2 + 18, 'FE') },
      ]);
      expect(bytes.indexOf(0xff)).toBe(header.length + 2);
      expect(bytes.indexOf(0xfe)).toBe(header.length + 20);
      expect(await stored(p)).toEqual([`${p}Y=3000`]);
      // most rows (2 of 3) not UTF-8: said once, first among the warnings
      expect(r.warnings[0]).toEqual({
        line: 1,
        reason: expect.stringMatching(
          /^2 of 3 rows had bytes that are not UTF-8 — the file is probably in another encoding; pass it, e\.g\. --encoding cp1251/,
        ),
      });
      expect(r.warnings.filter((w) => w.reason.includes('not UTF-8'))).toHaveLength(1);
    },
    60_000,
  );

  it.each(PATHS)(
    'a 50 MB title between two valid rows is one row error; both valid rows are stored (%s)',
    async (name, how) => {
      const p = name === 'parse workers' ? 'LW' : 'LT';
      const rows = [
        'order_id,customer_id,ordered_at,sku,title,quantity,unit_price',
        `${p}1,c1,2024-01-01,S1,Mug,1,10.00`,
        `${p}2,c1,2024-01-02,S2,${'t'.repeat(50 << 20)},1,20.00`,
        // just over the limit in characters but under the cutter's byte bound: the worker's parser judges it
        `${p}3,c1,2024-01-03,S3,"${'é'.repeat(MAX_RECORD_CHARS)}",1,30.00`,
        // at the limit (the line break not counted): imported
        `${p}4,c1,2024-01-04,S4,${'m'.repeat(MAX_RECORD_CHARS - `${p}4,c1,2024-01-04,S4,,1,40.00`.length)},1,40.00`,
        `${p}5,c1,2024-01-05,S5,"Plate\nset",2,15.00`,
      ];
      const f = file(`long-${p}-${engine}.csv`, rows.join('\r\n'));
      const r = await run({ file: f, ...how });
      expect(r).toMatchObject({ rows: 5, inserted: 3, rejected: 2 });
      expect(r.errors).toEqual([
        { line: 3, reason: TOO_LONG },
        { line: 4, reason: TOO_LONG },
      ]);
      expect(await stored(p)).toEqual([`${p}1=1000`, `${p}4=4000`, `${p}5=3000`]);
      const [line] = await db.query<{ n: number }>(
        `SELECT length(l.title) AS n FROM order_lines l JOIN orders o USING (order_id) WHERE o.external_id = '${p}4'`,
      );
      expect(Number(line!.n)).toBe(MAX_RECORD_CHARS - `${p}4,c1,2024-01-04,S4,,1,40.00`.length);
    },
    120_000,
  );

  it.each(PATHS)(
    'a 256 MB single line (gzip) finishes with one error and the rows after it on the right lines (%s)',
    async (name, how) => {
      const p = name === 'parse workers' ? 'HW' : 'HT';
      const f = await gzipWithHugeLine(
        `huge-${p}-${engine}.csv.gz`,
        `order_id,ordered_at,order_total\n${p}1,2024-01-01,1\n"`,
        256 << 20,
        `\n",2024-01-02,2\n${p}3,2024-01-03,3\n${p}4,2024-01-04,bad\n`,
      );
      const started = performance.now();
      const r = await run({ file: f, ...how });
      const seconds = (performance.now() - started) / 1000;
      expect(r).toMatchObject({ rows: 4, inserted: 2, rejected: 2 });
      // the quoted field holds a line feed: the long row spans lines 3-4, the next starts on 5
      expect(r.errors).toEqual([
        { line: 3, reason: TOO_LONG },
        { line: 6, reason: expect.stringContaining('order_total') },
      ]);
      expect(await stored(p)).toEqual([`${p}1=100`, `${p}3=300`]);
      expect(seconds).toBeLessThan(60); // linear: a few seconds; the quadratic parser never finished
    },
    120_000,
  );

  it('NDJSON: a line too long and a line with bytes that are not UTF-8 are row errors', async () => {
    const header = '{"order_id":"N1","ordered_at":"2024-01-01","order_total":1}\n';
    const f = await gzipWithHugeLine(
      `huge-${engine}.ndjson.gz`,
      header + '{"order_id":"N2","ordered_at":"2024-01-01","order_total":"',
      64 << 20,
      '"}\n{"order_id":"N3","ordered_at":"2024-01-03","order_total":3}\n',
    );
    const r = await run({ file: f });
    expect(r).toMatchObject({ format: { type: 'ndjson' }, rows: 3, inserted: 2, rejected: 1 });
    expect(r.errors).toEqual([{ line: 2, reason: TOO_LONG }]);
    const bad = Buffer.concat([
      Buffer.from('{"order_id":"NB1","ordered_at":"2024-01-01","order_total":1}\n{"order_id":"NB'),
      Buffer.from([0xc3, 0x28]), // a lead byte without its continuation
      Buffer.from(
        '","ordered_at":"2024-01-02","order_total":2}\n{"order_id":"NB3","ordered_at":"2024-01-03","order_total":3}',
      ),
    ]);
    const r2 = await run({ file: file(`bad-${engine}.ndjson`, bad) });
    expect(r2).toMatchObject({ rows: 3, inserted: 2, rejected: 1 });
    expect(r2.errors).toEqual([{ line: 2, reason: notUtf8(bad.indexOf(0xc3), 'C3') }]);
    expect(await stored('N')).toEqual(['N1=100', 'N3=300', 'NB1=100', 'NB3=300']);
  }, 120_000);

  it('refuses a file whose header is longer than the limit, or holds bytes that are not UTF-8', async () => {
    const long = file(
      `long-header-${engine}.csv`,
      `order_id,ordered_at,${'x'.repeat(3 << 20)}\nZ1,2024-01-01\n`,
    );
    await expect(run({ file: long })).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringContaining('longer than 1,048,576 characters (the limit)'),
      where: { file: long, line: 1 },
    });
    const bytes = Buffer.concat([
      Buffer.from('order_id,ordered_at,t'),
      Buffer.from([0xef]),
      Buffer.from('\nZ1,2024-01-01,1\n'),
    ]);
    const bad = file(`bad-header-${engine}.csv`, bytes);
    await expect(run({ file: bad })).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringMatching(/^line 1 is not valid UTF-8 \(invalid byte 0xEF\)/),
      where: { file: bad, line: 1, field: '--encoding' },
    });
    expect(await stored('Z')).toEqual([]);
  });
});
