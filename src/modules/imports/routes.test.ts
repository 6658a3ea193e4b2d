import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { ONLINE_RETAIL } from '../../../test/support/onlineRetailImport.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { JobRunner } from '../jobs/service.js';
import { jobHandlers } from '../registry.js';

/** The first `n` bytes of a file. */
function headOf(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const read = readSync(fd, b, 0, n, 0);
    return b.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

const BAD = [
  'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price,emial',
  'A1,c1,2024-03-01,EUR,MUG,2,9.50,a@x.test',
  'A2,c2,not a date,EUR,MUG,1,9.50,b@x.test',
  'A3,c3,2024-03-02,EUR,MUG,one,9.50,c@x.test',
  'A4,c4,2024-03-03,EUR,CUP,1,4.00,d@x.test',
].join('\n');

describe.each(testEngines())('import routes: preview, list, progress on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const uploadDir = mkdtempSync(join(tmpdir(), 'retain-import-routes-'));
  const send = (path: string, body: Buffer | string, role: 'admin' | 'analyst' = 'admin') =>
    t.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys[role]}`, 'content-type': 'application/octet-stream' },
      body,
    });

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { config: { authCacheMs: 0, uploadDir } });
  });
  afterAll(async () => {
    await dispose();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('previews the head of a gzip file: its preset, columns, formats and first rows as staged', async () => {
    const r = await send(
      '/v1/imports/orders/preview?filename=online_retail.csv.gz',
      headOf(ONLINE_RETAIL, 64 << 10),
    );
    expect(r.status).toBe(200);
    const p = (await r.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(p).toMatchObject({
      preset: 'online-retail',
      presetDetected: true,
      error: null,
      gzip: true,
      complete: false,
      missing: [],
      format: { type: 'csv', delimiter: { value: ',', detected: true }, encoding: { value: 'utf-8' } },
    });
    expect(p.presets).toContain('generic');
    expect(p.columns.map((c: { column: string; field: string }) => [c.column, c.field])).toEqual([
      ['InvoiceNo', 'order_id'],
      ['StockCode', 'sku'],
      ['Description', 'title'],
      ['Quantity', 'quantity'],
      ['InvoiceDate', 'ordered_at'],
      ['UnitPrice', 'unit_price'],
      ['CustomerID', 'customer_id'],
      ['Country', 'country'],
    ]);
    expect(p.columns[0].samples[0]).toBe('536365');
    expect(p.rowsRead).toBeGreaterThan(100);
    expect(p.counts.imported + p.counts.rejected + p.counts.skipped).toBe(p.rowsRead);
    expect(p.sample).toHaveLength(5);
    expect(p.sample[0]).toMatchObject({ line: 2, outcome: 'imported', reason: null });
    expect(p.sample[0].rows[0]).toMatchObject({
      entity: 'orders',
      values: { order_ext: '536365', sku: '85123A', quantity: 6 },
    });
    // Nothing stored.
    expect(await db.query('SELECT 1 AS x FROM orders LIMIT 1')).toEqual([]);
  });

  it('names ignored columns (with the near field), missing ones, rejected sample rows; map renames', async () => {
    const r = await send(
      '/v1/imports/orders/preview?complete=true&filename=bad.csv',
      BAD.replace(',ordered_at,', ',placed,').replace(',unit_price,', ',price,'),
    );
    const p = (await r.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(p.preset).toBeNull();
    expect(p.error).toContain('the header matches no preset');
    expect(p.missing).toEqual(['ordered_at']);
    expect(p.columns.find((c: { column: string }) => c.column === 'emial')).toMatchObject({
      field: null,
      how: 'ignored',
      didYouMean: 'email',
    });
    const mapped = await send(
      `/v1/imports/orders/preview?complete=true&map=${encodeURIComponent('price=unit_price')}&map=placed%3Dordered_at&map=emial%3Demail`,
      BAD.replace(',ordered_at,', ',placed,').replace(',unit_price,', ',price,'),
    );
    const m = (await mapped.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(m).toMatchObject({ preset: 'generic', error: null, missing: [], rowsRead: 4 });
    expect(m.columns.find((c: { column: string }) => c.column === 'price')).toMatchObject({
      field: 'unit_price',
      how: 'map',
      mappedTo: 'unit_price',
    });
    expect(m.counts).toEqual({ imported: 2, rejected: 2, skipped: 0 });
    expect(m.sample.map((s: { line: number; outcome: string }) => [s.line, s.outcome])).toEqual([
      [2, 'imported'],
      [3, 'rejected'],
      [4, 'rejected'],
      [5, 'imported'],
    ]);
    expect(m.sample[1].reason).toContain('ordered_at');
    expect(m.format.dateFormat).toEqual({ value: 'YYYY-MM-DD', detected: true });
  });

  it('refuses a bad option naming it, and a body that is not a file', async () => {
    const r = await send('/v1/imports/orders/preview?delimiter=colon', BAD);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('delimiter');
    expect((await send('/v1/imports/orders/preview', '')).status).toBe(400);
    expect((await send('/v1/imports/widgets/preview', BAD)).status).toBe(400);
    expect((await send('/v1/imports/orders/preview', BAD, 'analyst')).status).toBe(403);
  });

  it('keeps the progress of an upload and lists the uploads newest first', async () => {
    const up = await send('/v1/imports/orders?filename=bad.csv', BAD);
    expect(up.status).toBe(202);
    const { importId } = (await up.json()) as { importId: number };
    const queued = await t.call('GET', `/v1/imports/${importId}`, { role: 'analyst' });
    expect(queued.json).toMatchObject({ status: 'queued', progress: null });
    const runner = new JobRunner({ db, handlers: await jobHandlers(), logger: pino({ level: 'silent' }) });
    await runner.drain();
    const done = await t.call('GET', `/v1/imports/${importId}`, { role: 'analyst' });
    expect(done.json).toMatchObject({
      status: 'done',
      report: {
        rows: 4,
        inserted: 2,
        rejected: 2,
        errors: [
          { line: 3, reason: expect.stringContaining('ordered_at') },
          { line: 4, reason: expect.stringContaining('quantity') },
        ],
      },
      progress: { phase: 'merging', rowsRead: 4, bytesTotal: Buffer.byteLength(BAD) },
    });
    const second = await send('/v1/imports/orders?filename=again.csv', BAD.replace(/A(\d)/g, 'B$1'));
    const { importId: later } = (await second.json()) as { importId: number };
    const list = await t.call('GET', '/v1/imports?limit=5', { role: 'analyst' });
    expect(list.status).toBe(200);
    expect(list.json.imports.map((i: { importId: number }) => i.importId)).toEqual([later, importId]);
    expect(list.json.imports[1]).toMatchObject({ file: 'bad.csv', status: 'done', report: { rejected: 2 } });
    expect(list.json.imports[1].report.errors).toBeUndefined();
    expect((await t.call('GET', '/v1/imports?limit=0', { role: 'analyst' })).status).toBe(400);
  });
});
