// Reliability of ingestion (issue 20): the importer's memory on big files and the API's answers while
// an import runs.
//
//   1. Peak RSS (the whole `retain import orders` process: JS threads, parse workers and DuckDB) of
//      generated CSVs of BENCH_INGEST_SIZES orders (default 1M, 2M, 4M ≈ 100, 200, 400 MB), into a
//      fresh DuckDB file — goal: flat (not growing with the file). Floor: the same process running
//      `retain report summary` on the result (what merely opening the store costs). With PostgreSQL
//      (RETAIN_BENCH_DATABASE_URL or .ci/pg-start.sh; BENCH_INGEST_PG=0 skips it) the same file into a
//      fresh schema: there the engine is another process, so the figure is the importer's own memory.
//   2. A gzip bomb: one order id under BENCH_INGEST_BOMB_ROWS rows (default 5M rows ≈ 300 MB of CSV
//      in a ~1 MB gzip) — bounded memory and one clear error (the per-order line limit).
//   3. GET /v1/customers?limit=1 latency (p50/p99/max) on `retain serve` while a BENCH_INGEST_UPLOAD
//      order (default 1M) upload imports as a background job on DuckDB — goal p99 < 500 ms; floor:
//      the same request idle, measured in the same run.
// Prints figures and ratios; never fails on time (non-zero exit only on wrong results).
//
//   npm run build && npm run bench -- ingest
//   BENCH_INGEST_SIZES=200000 BENCH_INGEST_BOMB_ROWS=500000 BENCH_INGEST_UPLOAD=200000 node bench/ingest.mjs
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { ROOT, fmt, postgresUrl, retain, startServer, table, timed } from './lib.mjs';

const SIZES = (process.env.BENCH_INGEST_SIZES ?? '1000000,2000000,4000000').split(',').map(Number);
const BOMB_ROWS = Number(process.env.BENCH_INGEST_BOMB_ROWS ?? 5_000_000);
const UPLOAD = Number(process.env.BENCH_INGEST_UPLOAD ?? 1_000_000);
const GOAL_P99_MS = 500;

const dir = mkdtempSync(join(tmpdir(), 'retain-bench-ingest-'));
const mib = (bytes) => bytes / (1 << 20);
let wrong = 0;

async function generate(orders) {
  const file = join(dir, `orders-${orders}.csv`);
  const r = await timed(process.execPath, [
    join(ROOT, 'bench/generate-orders.mjs'),
    file,
    '--orders',
    String(orders),
    '--customers',
    String(Math.max(1, Math.round(orders / 10))),
  ]);
  if (r.code !== 0) throw new Error(`generate-orders failed: ${r.stderr}`);
  return file;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
};

try {
  // 1. Peak RSS by file size.
  const rows = [];
  const pg = process.env.BENCH_INGEST_PG === '0' ? null : postgresUrl();
  if (!pg) console.error('PostgreSQL not available: the importer-only column is left empty');
  for (const orders of SIZES) {
    const file = await generate(orders);
    let onPostgres = null;
    if (pg) {
      const url = `${pg}${pg.includes('?') ? '&' : '?'}schema=bench_ingest_${orders}_${process.pid}`;
      onPostgres = await retain(['--database-url', url, 'import', 'orders', file, '--json']);
      if (onPostgres.code !== 0 || JSON.parse(onPostgres.stdout).inserted !== orders) {
        wrong++;
        console.error(
          `postgres import of ${orders} orders: exit ${onPostgres.code} ${onPostgres.stderr.slice(0, 400)}`,
        );
      }
    }
    const db = join(dir, `rss-${orders}.duckdb`);
    const r = await retain(['--db', db, 'import', 'orders', file, '--json']);
    const ok = r.code === 0 && JSON.parse(r.stdout).inserted === orders;
    if (!ok) {
      wrong++;
      console.error(`import of ${orders} orders: exit ${r.code} ${r.stderr.slice(0, 400)}`);
    }
    const floor = await retain(['--db', db, 'report', 'summary', '--json']);
    rows.push([
      orders.toLocaleString('en-US'),
      fmt(mib(statSync(file).size), 0),
      fmt(r.seconds, 1),
      fmt(r.peakMiB, 0),
      fmt(floor.peakMiB, 0),
      onPostgres ? `${fmt(onPostgres.peakMiB, 0)} (${fmt(onPostgres.seconds, 0)} s)` : null,
    ]);
    rmSync(file, { force: true });
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
  }
  console.log('\nimport orders (generated CSV, fresh DuckDB file): peak RSS of the whole process');
  console.log(
    table(
      [
        'orders',
        'CSV MiB',
        'seconds',
        'peak RSS MiB',
        'floor: report summary MiB',
        'importer only (Postgres) MiB',
      ],
      rows,
    ),
  );

  // 2. A gzip bomb: one order id under BOMB_ROWS rows.
  const bomb = join(dir, 'bomb.csv.gz');
  const lines = (function* () {
    yield 'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price\n';
    let batch = '';
    for (let i = 0; i < BOMB_ROWS; i++) {
      batch += `BOMB,c1,2024-01-01 10:00:00,USD,SKU${i},1,1.00\n`;
      if (batch.length > 1 << 20) {
        yield batch;
        batch = '';
      }
    }
    yield batch + 'SANE,c2,2024-01-02 10:00:00,USD,TEA,1,5.00\n';
  })();
  await pipeline(Readable.from(lines), createGzip(), createWriteStream(bomb));
  const bombDb = join(dir, 'bomb.duckdb');
  const b = await retain(['--db', bombDb, 'import', 'orders', bomb, '--json']);
  let report = null;
  try {
    report = JSON.parse(b.stdout);
  } catch {
    /* reported below */
  }
  const bombOk =
    report?.inserted === 1 &&
    /more than the 10,000 an order may have/.test(report?.errors?.[0]?.reason ?? '');
  if (!bombOk) {
    wrong++;
    console.error(`gzip bomb: exit ${b.code}, report ${b.stdout.slice(0, 300)} ${b.stderr.slice(0, 300)}`);
  }
  console.log(
    `\ngzip bomb: ${fmt(mib(statSync(bomb).size), 1)} MiB gzip of ${BOMB_ROWS.toLocaleString('en-US')} rows under one order: ` +
      `${fmt(b.seconds, 1)} s, peak RSS ${fmt(b.peakMiB, 0)} MiB; error: ${report?.errors?.[0]?.reason ?? '(none)'}`,
  );
  rmSync(bomb, { force: true });

  // 3. GET /v1/customers p99 during an upload.
  const uploadFile = await generate(UPLOAD);
  const serveDb = join(dir, 'serve.duckdb');
  const tiny = join(dir, 'tiny.csv');
  await pipeline(
    Readable.from([
      'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price\nT1,c1,2024-01-01,USD,TEA,1,5.00\n',
    ]),
    createWriteStream(tiny),
  );
  const seeded = await retain(['--db', serveDb, 'import', 'orders', tiny]);
  if (seeded.code !== 0) throw new Error(`seeding the store failed: ${seeded.stderr}`);
  const { openStore } = await import(join(ROOT, 'dist/modules/store.js'));
  const { createKey } = await import(join(ROOT, 'dist/modules/apikeys/service.js'));
  const { systemClock } = await import(join(ROOT, 'dist/kit/clock.js'));
  const store = await openStore({ db: serveDb });
  const { key } = await createKey({ db: store, clock: systemClock }, { role: 'admin', name: 'bench' });
  await store.close();
  const { server, base } = await startServer(['--db', serveDb]);
  const headers = { authorization: `Bearer ${key}` };
  const get = async () => {
    const t = performance.now();
    const res = await fetch(`${base}/v1/customers?limit=1`, { headers });
    await res.text();
    if (res.status !== 200) wrong++;
    return performance.now() - t;
  };
  try {
    const idle = [];
    for (let i = 0; i < 200; i++) idle.push(await get());
    const t0 = performance.now();
    const up = await fetch(`${base}/v1/imports/orders?filename=upload.csv`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(uploadFile)),
      duplex: 'half',
    });
    const job = await up.json();
    if (up.status !== 202) throw new Error(`upload: ${up.status} ${JSON.stringify(job)}`);
    const busy = [];
    let state = job;
    while (state.status === 'queued' || state.status === 'running') {
      busy.push(await get());
      await new Promise((r) => setTimeout(r, 20));
      if (busy.length % 25 === 0)
        state = await (await fetch(`${base}/v1/imports/${job.importId}`, { headers })).json();
    }
    const importSeconds = (performance.now() - t0) / 1000;
    if (state.status !== 'done' || state.report?.inserted !== UPLOAD) {
      wrong++;
      console.error(`upload job: ${JSON.stringify(state).slice(0, 400)}`);
    }
    const row = (name, xs) => [
      name,
      String(xs.length),
      fmt(pct(xs, 50), 1),
      fmt(pct(xs, 99), 1),
      fmt(pct(xs, 100), 1),
    ];
    console.log(
      `\nGET /v1/customers?limit=1 on retain serve (DuckDB) while a ${UPLOAD.toLocaleString('en-US')}-order upload imports (${fmt(importSeconds, 1)} s, upload to done)`,
    );
    console.log(
      table(
        ['when', 'requests', 'p50 ms', 'p99 ms', 'max ms'],
        [row('idle (floor)', idle), row('during the import', busy)],
      ),
    );
    console.log(
      `p99 during the import: ${fmt(pct(busy, 99), 1)} ms = ${fmt(pct(busy, 99) / GOAL_P99_MS, 2)}× the ${GOAL_P99_MS} ms goal`,
    );
  } finally {
    server.kill('SIGTERM');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(wrong ? 1 : 0);
