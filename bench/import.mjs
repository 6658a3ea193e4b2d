#!/usr/bin/env node
// Foundation benchmark: whole-process `retain import` and `retain report summary` on DuckDB and PostgreSQL.
//  - Online Retail (541,909 lines, shipped in data/): goal ≤ 20 s import.
//  - Synthetic store, 2,000,000 orders / 200,000 customers (bench/generate-orders.mjs, seed 42): goal ≤ 60 s
//    import and ≤ 3 s summary on DuckDB; Postgres figures reported beside them.
//  - The same synthetic store as a Ukrainian Excel export (cp1251, `;`, `1 234,50 грн`, `DD.MM.YYYY HH:mm:ss`,
//    Cyrillic titles) imported with --encoding cp1251 (delimiter, decimal and dates detected): its rows/s as a
//    ratio to the UTF-8 generic import of the same store, measured in the same run.
//  - A file with one 2 GB line between two valid rows (gzip, BENCH_LONG_LINE_MB to change the size): the
//    import on one thread and in parse workers, as a ratio to the floor of only decompressing the file in
//    the same run (the row is skipped in constant memory: one row error, both valid rows stored).
// Prints figures only; never fails on time. BENCH_ORDERS=N shrinks the synthetic store for a quick run.
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import iconv from 'iconv-lite';
import { join } from 'node:path';
import { GENERATOR_VERSION, generateOrders } from './generate-orders.mjs';
import { fmt, postgresUrl, retain, ROOT, table, timed } from './lib.mjs';

const OUT = join(ROOT, 'bench/out');
mkdirSync(OUT, { recursive: true });
const orders = Number(process.env.BENCH_ORDERS ?? 2_000_000);
const customers = Math.max(1, Math.round(orders / 10));
const synthetic = join(OUT, `orders-${orders}-v${GENERATOR_VERSION}.csv`);
if (!existsSync(synthetic)) {
  console.error(`generating ${synthetic} …`);
  const g = await generateOrders(synthetic, { orders, customers, seed: 42 });
  console.error(`  ${g.orders} orders, ${g.customers} customers, ${g.lines} lines`);
}
const onlineRetail = join(ROOT, 'data/online_retail.csv.gz');

/** The synthetic file as a Ukrainian store's Excel export would write it (same orders, lines and amounts). */
async function europeanCopy(from, to) {
  const tmp = `${to}.tmp`;
  const out = createWriteStream(tmp);
  let buf = '';
  let header = true;
  const two = (n) => String(n).padStart(2, '0');
  for await (const line of createInterface({ input: createReadStream(from), crlfDelay: Infinity })) {
    if (header) {
      buf += line.replaceAll(',', ';') + '\r\n';
      header = false;
      continue;
    }
    // order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price,channel (no quotes in the generator)
    const [order, customer, at, , sku, title, qty, price, channel] = line.split(',');
    const [date, time] = at.split(' ');
    const [y, m, d] = date.split('-');
    const [units, cents] = price.split('.');
    const grouped = units.length > 3 ? `${units.slice(0, -3)} ${units.slice(-3)}` : units;
    buf += `${order};${customer};${two(d)}.${two(m)}.${y} ${time};UAH;${sku};${title.replace('Product', 'Товар')};${qty};${grouped},${cents} грн;${channel}\r\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(iconv.encode(buf, 'cp1251'))) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(iconv.encode(buf, 'cp1251'));
  await once(out, 'finish');
  renameSync(tmp, to);
}
const european = synthetic.replace(/\.csv$/, '-cp1251.csv');
if (!existsSync(european)) {
  console.error(`writing ${european} …`);
  await europeanCopy(synthetic, european);
}

const engines = [
  {
    name: 'duckdb',
    args: (tag) => ['--db', join(OUT, `bench-${tag}.duckdb`)],
    reset: (tag) => {
      for (const f of [`bench-${tag}.duckdb`, `bench-${tag}.duckdb.wal`])
        rmSync(join(OUT, f), { force: true });
    },
  },
];
const pg = postgresUrl();
if (pg) {
  const schema = (tag) => `bench_${tag.replace(/\W/g, '_')}_${process.pid}`;
  engines.push({
    name: 'postgres',
    args: (tag) => ['--database-url', `${pg}${pg.includes('?') ? '&' : '?'}schema=${schema(tag)}`],
    reset: () => {},
  });
} else {
  console.error('PostgreSQL not available: reporting DuckDB only');
}

const rows = [];
const ratios = [];
for (const engine of engines) {
  const rowsPerSecond = {};
  for (const [tag, file, preset, extra] of [
    ['online-retail', onlineRetail, 'online-retail', []],
    [`synthetic-${orders}`, synthetic, 'generic', []],
    [`synthetic-${orders}-cp1251`, european, 'generic', ['--encoding', 'cp1251']],
  ]) {
    engine.reset(tag);
    const db = engine.args(tag);
    const args = [...db, 'import', 'orders', file, '--preset', preset, ...extra, '--json'];
    const first = await retain(args);
    if (first.code !== 0) {
      console.error(`${engine.name} ${tag}: import failed: ${first.stderr.trim()}`);
      continue;
    }
    const report = JSON.parse(first.stdout);
    rowsPerSecond[tag] = report.rows / first.seconds;
    const again = await retain(args);
    const againReport = again.code === 0 ? JSON.parse(again.stdout) : null;
    const summaries = [];
    let summary = null;
    for (let i = 0; i < 3; i++) {
      const s = await retain([...db, 'report', 'summary', '--json']);
      summaries.push(s.seconds);
      if (s.code === 0) summary = JSON.parse(s.stdout);
    }
    summaries.sort((a, b) => a - b);
    rows.push([
      engine.name,
      tag,
      report.rows,
      fmt(report.rows / first.seconds, 0),
      report.inserted,
      fmt(first.seconds),
      fmt(first.peakMiB, 0),
      `${fmt(again.seconds)} (${againReport?.inserted ?? '?'} ins)`,
      fmt(summaries[1]),
      summary ? `${summary.customers}/${summary.orders}` : '—',
    ]);
    console.error(`${engine.name} ${tag}: import ${fmt(first.seconds)} s, summary ${fmt(summaries[1])} s`);
  }
  const utf8 = rowsPerSecond[`synthetic-${orders}`];
  const cp = rowsPerSecond[`synthetic-${orders}-cp1251`];
  if (utf8 && cp)
    ratios.push(
      `${engine.name}: cp1251 / ; / decimal comma / DD.MM.YYYY ${fmt(cp, 0)} rows/s = ${fmt(cp / utf8)}× the UTF-8 generic import (${fmt(utf8, 0)} rows/s)`,
    );
}
console.log(
  '\nImport and summary, whole process (seconds; peak RSS MiB). Goals: Online Retail ≤ 20 s; 2M orders ≤ 60 s, summary ≤ 3 s (DuckDB).',
);
console.log(
  table(
    [
      'engine',
      'data',
      'rows',
      'rows/s',
      'orders ins.',
      'import s',
      'peak MiB',
      're-import s',
      'summary s',
      'customers/orders',
    ],
    rows,
  ),
);
console.log('\nEuropean export (same orders; whole process, so start-up and merge included):');
for (const r of ratios) console.log(`  ${r}`);

// One 2 GB line: the import must skip it in linear time and flat memory (issue 20 item 4).
const longMiB = Number(process.env.BENCH_LONG_LINE_MB ?? 2048);
const longFile = join(OUT, `long-line-${longMiB}.csv.gz`);
if (!existsSync(longFile)) {
  console.error(`writing ${longFile} …`);
  const gz = createGzip({ level: 1 });
  const done = pipeline(gz, createWriteStream(`${longFile}.tmp`));
  const write = async (b) => {
    if (!gz.write(b)) await once(gz, 'drain');
  };
  await write('order_id,ordered_at,order_total\nL1,2024-01-01,1\nL2,2024-01-02,"');
  const block = Buffer.alloc(1 << 20, 'x');
  for (let i = 0; i < longMiB; i++) await write(block);
  await write('"\nL3,2024-01-03,3\n');
  gz.end();
  await done;
  renameSync(`${longFile}.tmp`, longFile);
}
const floor = await timed(process.execPath, [
  '-e',
  `const {createReadStream}=require('node:fs');const {createGunzip}=require('node:zlib');` +
    `let n=0;createReadStream(${JSON.stringify(longFile)}).pipe(createGunzip()).on('data',(b)=>{n+=b.length}).on('end',()=>console.log(n))`,
]);
console.log(
  `\nOne ${longMiB} MiB line between two rows (gzip; floor: decompressing it, ${fmt(floor.seconds)} s):`,
);
let wrong = false;
for (const workers of ['0', '2']) {
  const tag = `long-line-${workers}`;
  for (const f of [`bench-${tag}.duckdb`, `bench-${tag}.duckdb.wal`]) rmSync(join(OUT, f), { force: true });
  const r = await retain([
    '--db',
    join(OUT, `bench-${tag}.duckdb`),
    'import',
    'orders',
    longFile,
    '--workers',
    workers,
    '--max-rejected',
    '1',
    '--json',
  ]);
  const report = r.code === 0 ? JSON.parse(r.stdout) : null;
  const ok = report?.inserted === 2 && report?.rejected === 1 && report.errors[0]?.line === 3;
  if (!ok) wrong = true;
  console.log(
    `  duckdb, ${workers === '0' ? 'one thread' : '2 parse workers'}: ${fmt(r.seconds)} s = ${fmt(r.seconds / floor.seconds)}× the floor, ` +
      `peak ${fmt(r.peakMiB, 0)} MiB; ${ok ? '1 row error, 2 orders stored' : `WRONG: ${r.stderr.trim() || r.stdout.slice(0, 300)}`}`,
  );
}
if (wrong) process.exitCode = 1;
