#!/usr/bin/env node
// Foundation benchmark: whole-process `retain import` and `retain report summary` on DuckDB and PostgreSQL.
//  - Online Retail (541,909 lines, shipped in data/): goal ≤ 20 s import.
//  - Synthetic store, 2,000,000 orders / 200,000 customers (bench/generate-orders.mjs, seed 42): goal ≤ 60 s
//    import and ≤ 3 s summary on DuckDB; Postgres figures reported beside them.
// Prints figures only; never fails on time. BENCH_ORDERS=N shrinks the synthetic store for a quick run.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATOR_VERSION, generateOrders } from './generate-orders.mjs';
import { fmt, postgresUrl, retain, ROOT, table } from './lib.mjs';

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
for (const engine of engines) {
  for (const [tag, file, preset] of [
    ['online-retail', onlineRetail, 'online-retail'],
    [`synthetic-${orders}`, synthetic, 'generic'],
  ]) {
    engine.reset(tag);
    const db = engine.args(tag);
    const first = await retain([...db, 'import', 'orders', file, '--preset', preset, '--json']);
    if (first.code !== 0) {
      console.error(`${engine.name} ${tag}: import failed: ${first.stderr.trim()}`);
      continue;
    }
    const report = JSON.parse(first.stdout);
    const again = await retain([...db, 'import', 'orders', file, '--preset', preset, '--json']);
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
      report.inserted,
      fmt(first.seconds),
      fmt(first.peakMiB, 0),
      `${fmt(again.seconds)} (${againReport?.inserted ?? '?'} ins)`,
      fmt(summaries[1]),
      summary ? `${summary.customers}/${summary.orders}` : '—',
    ]);
    console.error(`${engine.name} ${tag}: import ${fmt(first.seconds)} s, summary ${fmt(summaries[1])} s`);
  }
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
