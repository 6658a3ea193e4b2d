/**
 * European and Ukrainian store exports (issue 19 item 7): encodings, delimiters, decimal commas,
 * day-first dates, currency symbols, store time zone — each file built here byte by byte, with the
 * figures it must give.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { bundleForTest } from '../../../test/support/bundle.js';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { JobRunner } from '../jobs/service.js';
import { jobHandlers } from '../registry.js';
import { parallelPlan } from './parallel.js';
import { genericPreset } from './presets/generic.js';
import { importFile, type ImportReport } from './service.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'retain-formats-'));
const file = (name: string, bytes: Buffer | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A Ukrainian store's orders export as Excel saves it on Windows: cp1251, `;`, decimal commas with
 * space grouping, `DD.MM.YYYY` dates, `грн` after amounts (cp1251 has no `₴`; the UTF-16 file has it).
 */
const UA_ORDERS = [
  'order_id;customer_id;ordered_at;currency;sku;title;quantity;unit_price;shipping',
  'UA-1;olena@shop.ua;15.03.2024 10:30;UAH;CUP;Чашка «Київ»;2;1 234,50 грн;50,00',
  'UA-1;olena@shop.ua;15.03.2024 10:30;UAH;TEA;Чай;1;99,90 грн;',
  'UA-2;taras@shop.ua;01.04.2024;UAH;CUP;Чашка «Київ»;1;1 234,50;0',
  'UA-3;olena@shop.ua;31.12.2024 23:59;UAH;TEA;Чай;3;99,9 грн;',
].join('\r\n');
const UA_CUSTOMERS = [
  'customer_id;first_name;last_name;birthday',
  'olena@shop.ua;Олена;Коваль;15.03.1985',
  'taras@shop.ua;Тарас;Шевченко;09.03.1990',
].join('\r\n');
/** The figures the Ukrainian file must give (minor units, kopiyky). */
const UA_TOTALS = { 'UA-1': 2 * 123450 + 9990 + 5000, 'UA-2': 123450, 'UA-3': 3 * 9990 };
const UA_REVENUE = 261890 + 123450 + 29970;

const cp1251 = (text: string) => iconv.encode(text, 'cp1251');

async function orders(db: Database, prefix: string) {
  return db.query<{ external_id: string; customer: string | null; total_minor: number; ordered_at: Date }>(
    `SELECT o.external_id, c.external_id AS customer, o.total_minor, o.ordered_at, o.currency
     FROM orders o LEFT JOIN customers c USING (customer_id)
     WHERE o.external_id LIKE '${prefix}%' ORDER BY o.external_id`,
  );
}
async function revenue(db: Database, prefix: string): Promise<number> {
  const [r] = await db.query<{ n: number | string }>(
    `SELECT COALESCE(SUM(total_minor), 0) AS n FROM orders WHERE external_id LIKE '${prefix}%'`,
  );
  return Number(r!.n);
}
const iso = (d: unknown) => new Date(d as string | Date).toISOString();

describe.each(testEngines())('European and Ukrainian exports on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());
  const ctx = () => testContext(db, systemClock);

  it('rejects the rows of cp1251 bytes read as UTF-8 by line and byte offset, and says once to pass --encoding', async () => {
    const bytes = cp1251(UA_ORDERS);
    const f = file('ua-no-option.csv', bytes);
    const r = await importFile(ctx(), { entity: 'orders', file: f });
    // every data row has Cyrillic: all four rejected, each naming its first byte that is not UTF-8
    expect(r).toMatchObject({ rows: 4, inserted: 0, rejected: 4 });
    const lineStarts = [...bytes.keys()].filter((i) => i === 0 || bytes[i - 1] === 0x0a);
    expect(r.errors).toEqual(
      [2, 3, 4, 5].map((line) => {
        const at = bytes.findIndex((b, i) => i >= lineStarts[line - 1]! && b >= 0x80);
        const hex = bytes[at]!.toString(16).toUpperCase();
        return {
          line,
          reason: `bytes that are not UTF-8 at byte offset ${at} (0x${hex}) — if the file is in another encoding, pass --encoding (e.g. cp1251)`,
        };
      }),
    );
    expect(r.warnings[0]).toEqual({
      line: 1,
      reason: expect.stringMatching(
        /^4 of 4 rows had bytes that are not UTF-8 — the file is probably in another encoding; pass it, e\.g\. --encoding cp1251 .*--encoding cp1252/,
      ),
    });
    expect(await orders(db, 'UA-')).toEqual([]);
    // an invalid byte far into the file (past the first chunk) costs its row only, found by line
    const big = ['order_id,ordered_at,order_total'];
    for (let i = 0; i < 30_000; i++) big.push(`B${i},2024-01-01,1`);
    big.push('B-bad,2024-01-01,1 ');
    const head = Buffer.from(big.join('\n'));
    const late = await importFile(ctx(), {
      entity: 'orders',
      file: file('late-bad.csv', Buffer.concat([head, Buffer.from([0xe9, 0x0a])])),
    });
    expect(late).toMatchObject({ rows: 30_001, inserted: 30_000, rejected: 1 });
    expect(late.errors).toEqual([
      { line: 30_002, reason: expect.stringContaining(`at byte offset ${head.length} (0xE9)`) },
    ]);
    expect(late.warnings.some((w) => w.reason.includes('not UTF-8'))).toBe(false); // 1 row of 30,001
    expect(await revenue(db, 'B')).toBe(30_000 * 100);
  });

  it('imports the cp1251 / ; / decimal comma / DD.MM.YYYY file with --encoding cp1251 and detects the rest', async () => {
    const r = await importFile(ctx(), {
      entity: 'orders',
      file: file('ua-orders.csv', cp1251(UA_ORDERS)),
      encoding: 'cp1251',
    });
    expect(r).toMatchObject({ preset: 'generic', rows: 4, inserted: 3, rejected: 0, customersCreated: 2 });
    expect(r.format).toEqual({
      type: 'csv',
      encoding: { value: 'cp1251', detected: false, by: 'option' },
      delimiter: { value: ';', detected: true },
      decimal: { value: 'comma', detected: true },
      dateFormat: { value: 'DD.MM.YYYY', detected: true },
      timeZone: { value: 'UTC', detected: false, from: 'default' },
    });
    const got = await orders(db, 'UA-');
    expect(got.map((o) => [o.external_id, o.customer, o.total_minor, iso(o.ordered_at)])).toEqual([
      ['UA-1', 'olena@shop.ua', UA_TOTALS['UA-1'], '2024-03-15T10:30:00.000Z'],
      ['UA-2', 'taras@shop.ua', UA_TOTALS['UA-2'], '2024-04-01T00:00:00.000Z'],
      ['UA-3', 'olena@shop.ua', UA_TOTALS['UA-3'], '2024-12-31T23:59:00.000Z'],
    ]);
    expect(await revenue(db, 'UA-')).toBe(UA_REVENUE);
    const lines = await db.query(
      `SELECT l.title, l.unit_price_minor, l.line_total_minor FROM order_lines l JOIN orders o USING (order_id)
       WHERE o.external_id = 'UA-1' ORDER BY l.line_no`,
    );
    expect(lines).toEqual([
      { title: 'Чашка «Київ»', unit_price_minor: 123450, line_total_minor: 246900 },
      { title: 'Чай', unit_price_minor: 9990, line_total_minor: 9990 },
    ]);

    const c = await importFile(ctx(), {
      entity: 'customers',
      file: file('ua-customers.csv', cp1251(UA_CUSTOMERS)),
      encoding: 'windows-1251',
    });
    expect(c).toMatchObject({ rows: 2, updated: 2, rejected: 0, warnings: [] });
    const people = await db.query<{ first_name: string; last_name: string; birthday: unknown }>(
      `SELECT first_name, last_name, CAST(birthday AS TEXT) AS birthday FROM customers
       WHERE external_id IN ('olena@shop.ua', 'taras@shop.ua') ORDER BY external_id`,
    );
    expect(people).toEqual([
      { first_name: 'Олена', last_name: 'Коваль', birthday: '1985-03-15' },
      { first_name: 'Тарас', last_name: 'Шевченко', birthday: '1990-03-09' },
    ]);
    // the same file again changes nothing
    const again = await importFile(ctx(), {
      entity: 'orders',
      file: file('ua-orders.csv', cp1251(UA_ORDERS)),
      encoding: 'cp1251',
    });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
  });

  it('reads UTF-16LE with a BOM: tabs, ₴ prefixes, decimal commas', async () => {
    const text = [
      'order_id\tcustomer_id\tordered_at\tcurrency\ttitle\tquantity\tunit_price',
      'W16-1\tolena@shop.ua\t2024-05-01 12:00:00\tUAH\tЧашка\t1\t₴1 234,50',
      'W16-2\tmykola@shop.ua\t02.05.2024 09:15\tUAH\tЧай\t2\t₴99,90',
    ].join('\n');
    const r = await importFile(ctx(), {
      entity: 'orders',
      file: file('w16.csv', iconv.encode(text, 'utf-16le', { addBOM: true })),
    });
    expect(r).toMatchObject({ rows: 2, inserted: 2, rejected: 0 });
    expect(r.format).toMatchObject({
      encoding: { value: 'utf-16le', detected: true, by: 'bom' },
      delimiter: { value: '\\t', detected: true },
      decimal: { value: 'comma', detected: true },
      dateFormat: { value: 'YYYY-MM-DD and DD.MM.YYYY', detected: true },
    });
    expect((await orders(db, 'W16-')).map((o) => [o.external_id, o.total_minor, iso(o.ordered_at)])).toEqual([
      ['W16-1', 123450, '2024-05-01T12:00:00.000Z'],
      ['W16-2', 19980, '2024-05-02T09:15:00.000Z'],
    ]);
    const [m] = await db.query(`SELECT external_id FROM customers WHERE external_id = 'mykola@shop.ua'`);
    expect(m).toEqual({ external_id: 'mykola@shop.ua' });
  });

  it('reads UTF-16 without a BOM by its NUL bytes (big- and little-endian)', async () => {
    for (const enc of ['utf-16be', 'utf-16le'] as const) {
      const p = enc === 'utf-16be' ? 'N16B' : 'N16L';
      const text = `order_id,customer_id,ordered_at,currency,title,quantity,unit_price\n${p}-1,zoë@shop.eu,2024-05-03,USD,Mug,2,$12.50\n${p}-2,zoë@shop.eu,2024-05-04,USD,Mug,1,"$1,012.00"\n`;
      const r = await importFile(ctx(), {
        entity: 'orders',
        file: file(`${p}.csv`, iconv.encode(text, enc)),
      });
      expect(r, enc).toMatchObject({ rows: 2, inserted: 2, rejected: 0 });
      expect(r.format.encoding).toEqual({ value: enc, detected: true, by: 'nul-pattern' });
      expect(await revenue(db, `${p}-`)).toBe(2500 + 101200);
    }
    const [z] = await db.query(`SELECT external_id FROM customers WHERE external_id = 'zoë@shop.eu'`);
    expect(z).toEqual({ external_id: 'zoë@shop.eu' });
  });

  it('reads UTF-8 with a BOM: € suffixes and grouped decimal commas in quotes', async () => {
    const text =
      '\ufefforder_id,customer_id,ordered_at,currency,title,quantity,unit_price\n' +
      'B8-1,zoë@shop.eu,2024-06-01T08:00:00+02:00,EUR,Tasse,1,"1.299,00 €"\n' +
      'B8-2,zoë@shop.eu,2024-06-02,EUR,Tasse,3,"12,50 €"\n';
    const r = await importFile(ctx(), { entity: 'orders', file: file('b8.csv', text) });
    expect(r).toMatchObject({ rows: 2, inserted: 2, rejected: 0 });
    expect(r.format).toMatchObject({
      encoding: { value: 'utf-8', by: 'bom' },
      delimiter: { value: ',', detected: true },
    });
    expect((await orders(db, 'B8-')).map((o) => [o.total_minor, iso(o.ordered_at)])).toEqual([
      [129900, '2024-06-01T06:00:00.000Z'],
      [3750, '2024-06-02T00:00:00.000Z'],
    ]);
  });

  it('names the option a row needs: ambiguous amounts and slash dates, a contradicting symbol', async () => {
    const text = [
      'order_id,ordered_at,currency,order_total',
      'X-1,2024-01-05,USD,"1,234"',
      'X-2,03/04/2024,USD,12.00',
      'X-3,2024-01-05,USD,€12.00',
      'X-4,2024-01-05,USD,$12.00',
    ].join('\n');
    const f = file('x.csv', text);
    const r = await importFile(ctx(), { entity: 'orders', file: f });
    expect(r).toMatchObject({ rows: 4, inserted: 1, rejected: 3 });
    expect(r.errors).toEqual([
      {
        line: 2,
        reason:
          "field order_total: '1,234' is ambiguous (thousands or decimals?): pass --decimal point or --decimal comma",
      },
      {
        line: 3,
        reason: 'field ordered_at: ambiguous date 03/04/2024: pass --date-format DD/MM/YYYY or MM/DD/YYYY',
      },
      { line: 4, reason: "field order_total: '€12.00' is in EUR, but the row's currency is USD" },
    ]);
    const fixed = await importFile(ctx(), {
      entity: 'orders',
      file: file('x2.csv', text.replace('€12.00', '$13.00')),
      decimal: 'point',
      dateFormat: 'DD/MM/YYYY',
    });
    expect(fixed).toMatchObject({ rejected: 0, inserted: 3, unchanged: 1 });
    expect(fixed.format).toMatchObject({
      decimal: { value: 'point', detected: false },
      dateFormat: { value: 'DD/MM/YYYY', detected: false },
    });
    const got = await orders(db, 'X-');
    expect(got.map((o) => [o.external_id, o.total_minor, iso(o.ordered_at).slice(0, 10)])).toEqual([
      ['X-1', 123400, '2024-01-05'],
      ['X-2', 1200, '2024-04-03'],
      ['X-3', 1300, '2024-01-05'],
      ['X-4', 1200, '2024-01-05'],
    ]);
  });

  it('says which delimiter it used when the header matches nothing, and asks when several fit', async () => {
    const f = file('semi.csv', 'order_id;ordered_at;order_total\nS-1;2024-01-01;5\n');
    await expect(importFile(ctx(), { entity: 'orders', file: f, delimiter: ',' })).rejects.toThrow(
      /matches no preset.*read with delimiter ','; the header has ';' — try --delimiter ';'/,
    );
    await expect(
      importFile(ctx(), { entity: 'orders', file: f, delimiter: ',', preset: 'generic' }),
    ).rejects.toThrow(/try --delimiter ';'/);
    const both = file('both.csv', 'order_id,ordered_at;order_total,x\nS-1,2024-01-01;5,y\n');
    await expect(importFile(ctx(), { entity: 'orders', file: both })).rejects.toMatchObject({
      message: "cannot tell the delimiter: the header splits into columns on ',' and ';'; pass --delimiter",
      where: { field: '--delimiter', line: 1 },
    });
    await expect(importFile(ctx(), { entity: 'orders', file: f, delimiter: 'colon' })).rejects.toMatchObject({
      where: { field: '--delimiter' },
    });
    const ok = await importFile(ctx(), { entity: 'orders', file: f, delimiter: 'semicolon' });
    expect(ok).toMatchObject({ inserted: 1, format: { delimiter: { value: ';', detected: false } } });
  });

  it('reads wall times in the store time zone (settings time_zone), or --time-zone', async () => {
    const text =
      'order_id;ordered_at;currency;order_total\nTZ-1;15.01.2024 10:00;UAH;10,00\nTZ-2;15.07.2024 10:00;UAH;10,00\nTZ-3;2024-07-15T10:00:00Z;UAH;1\n';
    const f = file('tz.csv', text);
    await db.query(`INSERT INTO settings (key, value) VALUES ('time_zone', 'Europe/Kyiv')`);
    try {
      const r = await importFile(ctx(), { entity: 'orders', file: f });
      expect(r.format.timeZone).toEqual({ value: 'Europe/Kyiv', detected: false, from: 'store' });
      expect((await orders(db, 'TZ-')).map((o) => iso(o.ordered_at))).toEqual([
        '2024-01-15T08:00:00.000Z', // EET, +2
        '2024-07-15T07:00:00.000Z', // EEST, +3
        '2024-07-15T10:00:00.000Z', // an explicit offset is kept
      ]);
      const ny = await importFile(ctx(), { entity: 'orders', file: f, timeZone: 'America/New_York' });
      expect(ny).toMatchObject({ updated: 2, unchanged: 1, format: { timeZone: { from: 'option' } } });
      expect((await orders(db, 'TZ-')).map((o) => iso(o.ordered_at))[0]).toBe('2024-01-15T15:00:00.000Z');
      await expect(
        importFile(ctx(), { entity: 'orders', file: f, timeZone: 'Mars/Olympus' }),
      ).rejects.toMatchObject({
        where: { field: '--time-zone' },
      });
    } finally {
      await db.query(`DELETE FROM settings WHERE key = 'time_zone'`);
    }
  });

  it('takes the options on the HTTP upload, and refuses bad ones with a 400 naming the parameter', async () => {
    const uploadDir = mkdtempSync(join(dir, 'uploads-'));
    const t = await testApp(db, { config: { authCacheMs: 0, uploadDir } });
    const post = (query: string, body: Buffer) =>
      t.app.request(`/v1/imports/orders?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'text/csv' },
        body,
      });
    const body = cp1251(UA_ORDERS.replace(/UA-/g, 'H-'));
    for (const [query, param] of [
      ['encoding=klingon', 'encoding'],
      ['delimiter=colon', 'delimiter'],
      ['decimal=dot-ish', 'decimal'],
      ['date_format=DD.MM.YY', 'date_format'],
      ['time_zone=Mars%2FOlympus', 'time_zone'],
    ] as const) {
      const r = await post(query, body);
      expect(r.status, query).toBe(400);
      const json = (await r.json()) as {
        error: { message: string; details: { issues: { path: string }[] } };
      };
      expect(json.error.details.issues[0]!.path, query).toBe(param);
      expect(json.error.message, query).toContain(param);
    }
    const r = await post(
      `filename=ua.csv&encoding=cp1251&delimiter=${encodeURIComponent(';')}&decimal=comma&date_format=DD.MM.YYYY&time_zone=Europe%2FKyiv`,
      body,
    );
    expect(r.status).toBe(202);
    const { importId } = (await r.json()) as { importId: number };
    const runner = new JobRunner({ db, handlers: await jobHandlers(), logger: pino({ level: 'silent' }) });
    await runner.drain();
    const done = await t.call('GET', `/v1/imports/${importId}`, { role: 'analyst' });
    expect(done.json).toMatchObject({
      status: 'done',
      report: {
        inserted: 3,
        rejected: 0,
        format: {
          encoding: { value: 'cp1251', detected: false },
          delimiter: { value: ';', detected: false },
          decimal: { value: 'comma', detected: false },
          dateFormat: { value: 'DD.MM.YYYY', detected: false },
          timeZone: { value: 'Europe/Kyiv', from: 'option' },
        },
      },
    });
    expect(await revenue(db, 'H-')).toBe(UA_REVENUE);
    const [first] = await orders(db, 'H-1');
    expect(iso(first!.ordered_at)).toBe('2024-03-15T08:30:00.000Z'); // 10:30 in Kyiv (EET)
  });
});

describe('big files in other encodings', () => {
  const comparable = (r: ImportReport) => ({
    ...r,
    seconds: 0,
    file: '',
    format: { ...r.format, encoding: null },
  });
  let workerFile: string;
  beforeAll(async () => {
    workerFile = await bundleForTest(join(root, 'src/modules/imports/worker.ts'), 'import-worker');
  }, 60_000);

  it('a >16 MB cp1251 file parses in workers to the same result as its UTF-8 copy; UTF-16 stays on one thread', async () => {
    // A long note column (not imported: the generic format reports it as ignored) makes the file big
    // with few rows, so the test stays fast.
    const note = 'Чашка керамічна «Київ» ручної роботи, '.repeat(50);
    const rows = ['order_id;customer_id;ordered_at;currency;sku;title;quantity;unit_price;note'];
    for (let i = 0; i < 9_000; i++)
      rows.push(
        `K${i};кл${i % 997}@shop.ua;${String((i % 28) + 1).padStart(2, '0')}.0${(i % 9) + 1}.2024 1${i % 10}:00;UAH;S${i % 50};Чашка ${i % 50};${(i % 5) + 1};${i % 3 === 0 ? '1 ' : ''}${100 + (i % 900)},${String(i % 100).padStart(2, '0')} грн;${note}${i}`,
      );
    rows.push(`K-bad;x@shop.ua;30.02.2024;UAH;S1;bad;1;1,00;${note}`);
    const text = rows.join('\n') + '\n';
    const cp = file('big-cp1251.csv', cp1251(text));
    const utf8 = file('big-utf8.csv', text);
    expect(cp1251(text).length).toBeGreaterThan(16 << 20);
    const results: ImportReport[] = [];
    const tables: unknown[] = [];
    for (const [f, encoding] of [
      [cp, 'cp1251'],
      [utf8, undefined],
    ] as const) {
      const { db, dispose } = await freshDatabase('duckdb');
      try {
        results.push(
          await importFile(testContext(db, systemClock), {
            entity: 'orders',
            file: f,
            workerFile,
            ...(encoding ? { encoding } : {}),
          }),
        );
        tables.push(
          await db.query(
            `SELECT COUNT(*) AS orders, SUM(total_minor) AS revenue, COUNT(DISTINCT customer_id) AS customers,
                    MIN(ordered_at) AS first, MAX(ordered_at) AS last,
                    (SELECT MIN(title) FROM order_lines) AS title FROM orders`,
          ),
        );
      } finally {
        await dispose();
      }
    }
    expect(results[0]).toMatchObject({ rows: 9_001, inserted: 9_000, rejected: 1 });
    expect(results[0]!.errors).toEqual([
      { line: 9_002, reason: "field ordered_at: '30.02.2024' is not a calendar date" },
    ]);
    expect(comparable(results[0]!)).toEqual(comparable(results[1]!));
    expect(tables[0]).toEqual(tables[1]);
    expect(JSON.stringify(tables[0])).toContain('Чашка 0');
    // the plan: workers for cp1251 (records cut at LF bytes), none for UTF-16
    const info = (encoding: string) => ({
      file: cp,
      format: 'csv' as const,
      gzip: false,
      columns: [],
      bytesTotal: 20 << 20,
      encoding,
    });
    expect(parallelPlan(genericPreset, info('cp1251'), undefined, workerFile)).not.toBeNull();
    expect(parallelPlan(genericPreset, info('utf-16le'), undefined, workerFile)).toBeNull();
    expect(parallelPlan(genericPreset, info('utf-16le'), 4, workerFile)).toBeNull();
  }, 180_000);

  it('a worker finds invalid UTF-8 by line and file offset too, and imports the other rows', async () => {
    const { db, dispose } = await freshDatabase('duckdb');
    try {
      const lines = ['order_id,ordered_at,order_total'];
      for (let i = 0; i < 500; i++) lines.push(`V${i},2024-01-01,1`);
      const head = Buffer.from(lines.join('\n') + '\nV-bad,2024-01-01,');
      const r = await importFile(testContext(db, systemClock), {
        entity: 'orders',
        file: file('worker-bad.csv', Buffer.concat([head, Buffer.from([0xff, 0x0a])])),
        workers: 2,
        workerFile,
        chunkBytes: 1_000,
      });
      expect(r).toMatchObject({ rows: 501, inserted: 500, rejected: 1 });
      expect(r.errors).toEqual([
        {
          line: 502,
          reason: expect.stringContaining(`bytes that are not UTF-8 at byte offset ${head.length} (0xFF)`),
        },
      ]);
      const [n] = await db.query<{ n: number | bigint }>(`SELECT COUNT(*) AS n FROM orders`);
      expect(Number(n!.n)).toBe(500);
    } finally {
      await dispose();
    }
  }, 60_000);
});
