import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeWithData } from '../../../test/support/externalData.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { bundleForTest } from '../../../test/support/bundle.js';
import { csvByteChunks } from './byteChunks.js';
import { CsvParser, type CsvRecord } from './csv.js';
import { importFile, type ImportReport } from './service.js';
import { ONLINE_RETAIL, ONLINE_RETAIL_REPORT } from '../../../test/support/onlineRetailImport.js';
import { testContext } from '../../../test/support/context.js';
import { ManualClock, systemClock } from '../../kit/clock.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'retain-parallel-'));
const file = (name: string, text: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** The worker as the CLI bundles it, built from the sources under test. */
const buildWorker = () => bundleForTest(join(root, 'src/modules/imports/worker.ts'), 'import-worker');

describe('record boundaries in bytes', () => {
  it('cuts only at line feeds outside quotes', async () => {
    /** The chunks of a file cut at every record end (target 1 byte), as text with their lines and offsets. */
    const pieces = async (text: string) => {
      const f = file('cuts.csv', text);
      const out: [string, number, number][] = [];
      for await (const c of csvByteChunks(f, false, { bytesRead: 0 }, 1))
        out.push([Buffer.from(c.bytes).toString('utf8'), c.line, c.offset]);
      return out;
    };
    expect(await pieces('h\na,b\nc,"d\ne"\nf,"g\n')).toEqual([
      ['a,b\n', 2, 2],
      ['c,"d\ne"\n', 3, 6], // the LF inside quotes does not cut
      ['f,"g\n', 5, 14], // "g… is still open at the end of the file
    ]);
    expect(await pieces('h\na,"x""\ny"\nz')).toEqual([
      ['a,"x""\ny"\n', 2, 2],
      ['z', 4, 12],
    ]);
    expect(await pieces('h1,"h\n2"\nx\n')).toEqual([['x\n', 3, 9]]); // a header with a quoted LF
    expect(await pieces('no newline')).toEqual([]);
  });

  it('skips a record longer than the byte bound to its end, in a stand-in chunk at its line', async () => {
    // gzip: the stream comes in 16 KiB pieces; the bound is checked at the end of each
    const long = 'x'.repeat(60_000);
    const text = `h\na,1\n"${long}\n${long}",2\nb,3\n${long}\nc,4\n"open ${long}\nd`;
    const chunks = [];
    const f = file('skip.csv.gz', gzipSync(text));
    for await (const c of csvByteChunks(f, true, { bytesRead: 0 }, 1 << 20, 20_000))
      chunks.push({ ...c, bytes: Buffer.from(c.bytes).toString('utf8') });
    expect(chunks).toEqual([
      { bytes: 'a,1\n', line: 2, offset: 2 },
      { bytes: '', line: 3, offset: 6, tooLong: 3 }, // a quoted line feed inside: lines 3-4
      { bytes: 'b,3\n', line: 5, offset: text.indexOf('b,3') },
      { bytes: '', line: 6, offset: text.indexOf('b,3') + 4, tooLong: 6 },
      { bytes: 'c,4\n', line: 7, offset: text.indexOf('c,4') },
      { bytes: '', line: 8, offset: text.indexOf('c,4') + 4, tooLong: 8 }, // open to the end of the file
    ]);
  });

  it('chunks a file into whole records numbered as the CSV parser numbers them', async () => {
    const lines = ['id,note'];
    for (let i = 0; i < 400; i++)
      lines.push(i % 7 === 0 ? `${i},"multi\nline ""${i}"", with comma"` : `${i},plain ${i}`);
    const text = '\ufeff' + lines.join('\r\n');
    const expected: CsvRecord[] = [];
    const whole = new CsvParser();
    whole.push(text, expected);
    whole.end(expected);
    for (const gz of [false, true]) {
      const f = file(gz ? 'notes.csv.gz' : 'notes.csv', gz ? gzipSync(text) : text);
      const got: CsvRecord[] = [];
      let chunks = 0;
      for await (const c of csvByteChunks(f, gz, { bytesRead: 0 }, 300)) {
        chunks++;
        const p = new CsvParser(',', c.line);
        p.push(Buffer.from(c.bytes).toString('utf8'), got);
        p.end(got);
      }
      expect(chunks).toBeGreaterThan(10);
      expect(got).toEqual(expected.slice(1)); // everything after the header, same fields and lines
    }
  });
});

// A generic orders file with what real exports contain: quoted commas, doubled quotes, newlines in
// titles, CRLF, bad rows of several kinds, a duplicate order key, no newline at the end.
function messyOrders(): string {
  const rows = ['order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price,channel'];
  for (let i = 0; i < 1500; i++) {
    const order = `O${Math.floor(i / 3)}`;
    const customer = i % 11 === 0 ? '' : `C${i % 97}`;
    const title = i % 5 === 0 ? `"Mug, ""blue"" ${i}"` : i % 13 === 0 ? `"two\nlines ${i}"` : `Plain ${i}`;
    let qty = String(1 + (i % 4));
    let date = `2024-0${1 + (i % 9)}-1${i % 10} 10:${String(i % 60).padStart(2, '0')}:00`;
    if (i % 101 === 0) qty = 'x';
    if (i % 103 === 0) date = '2024-02-31 10:00:00';
    const row = `${order},${customer},${date},EUR,SKU${i % 40},${title},${qty},${(i % 17) + 0.5},email`;
    rows.push(i % 107 === 0 ? row + ',surplus' : i % 109 === 0 ? row.replace(/^O\d+/, '') : row);
  }
  return rows.join(rows.length % 2 ? '\n' : '\r\n');
}

const ordersTable = (db: Database) =>
  db.query(
    `SELECT o.external_id, c.external_id AS customer, o.ordered_at, o.total_minor, o.line_count,
            (SELECT string_agg(l.sku || ':' || l.title || ':' || l.quantity, '|' ORDER BY l.line_no)
               FROM order_lines l WHERE l.order_id = o.order_id) AS lines
     FROM orders o LEFT JOIN customers c USING (customer_id) ORDER BY o.external_id`,
  );

const comparable = (r: ImportReport) => ({ ...r, seconds: 0 });

describe.each(testEngines())('imports in parse workers on %s', (engine) => {
  let serial: Database;
  let parallel: Database;
  let workerFile: string;
  const disposers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    workerFile = await buildWorker();
    for (const which of ['serial', 'parallel'] as const) {
      const { db, dispose } = await freshDatabase(engine);
      disposers.push(dispose);
      if (which === 'serial') serial = db;
      else parallel = db;
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of disposers) await d();
  });

  it('gives the same report, rejections and stored orders as the single-threaded import', async () => {
    const f = file(`messy-${engine}.csv`, messyOrders());
    const now = new Date('2026-01-01T00:00:00Z');
    const a = await importFile(testContext(serial, new ManualClock(now)), {
      entity: 'orders',
      file: f,
      workers: 0,
    });
    const b = await importFile(testContext(parallel, new ManualClock(now)), {
      entity: 'orders',
      file: f,
      workers: 3,
      workerFile,
      chunkBytes: 2_000,
    });
    expect(a.rejected).toBeGreaterThan(20);
    expect(a.errors.some((e) => e.reason.includes('fields but the header has'))).toBe(true);
    expect(comparable(b)).toEqual(comparable(a));
    expect(await ordersTable(parallel)).toEqual(await ordersTable(serial));
    // and a parallel re-import is idempotent
    const again = await importFile(testContext(parallel, new ManualClock(now)), {
      entity: 'orders',
      file: f,
      workers: 2,
      workerFile,
    });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: a.inserted + a.updated + a.unchanged });
  }, 60_000);

  it('refuses a malformed RETAIN_IMPORT_WORKERS, naming the variable and its value', async () => {
    const f = file(`env-${engine}.csv`, 'order_id,ordered_at,order_total\nX1,2024-01-01,5\n');
    vi.stubEnv('RETAIN_IMPORT_WORKERS', 'two');
    try {
      await expect(
        importFile(testContext(parallel, systemClock), { entity: 'orders', file: f }),
      ).rejects.toMatchObject({
        message: expect.stringContaining("got 'two'"),
        where: { field: 'RETAIN_IMPORT_WORKERS' },
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('reports a worker failure as an error instead of hanging', async () => {
    const f = file(`ok-${engine}.csv`, 'order_id,ordered_at,order_total\nX1,2024-01-01,5\n');
    await expect(
      importFile(testContext(parallel, systemClock), {
        entity: 'orders',
        file: f,
        workers: 1,
        workerFile: join(dir, 'missing.mjs'),
      }),
    ).rejects.toThrow();
  });
});

describeWithData(ONLINE_RETAIL)('Online Retail in parse workers (DuckDB)', () => {
  it('reproduces the single-threaded figures', async () => {
    const workerFile = await buildWorker();
    const { db, dispose } = await freshDatabase('duckdb');
    try {
      const r = await importFile(testContext(db, systemClock), {
        entity: 'orders',
        file: ONLINE_RETAIL,
        preset: 'online-retail',
        workers: 2,
        workerFile,
      });
      expect(r).toMatchObject(ONLINE_RETAIL_REPORT);
    } finally {
      await dispose();
    }
  }, 120_000);
});
