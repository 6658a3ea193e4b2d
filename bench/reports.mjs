#!/usr/bin/env node
// Reports benchmark: whole-process `retain report <name> --json` on the synthetic 2M-order store (200,000
// customers; bench/generate-orders.mjs, seed 42), best of 3, beside the DuckDB raw-SQL floor of the cohort
// triangle measured in the same run. Goal: `report cohorts` ≤ 3 s whole process, like `report summary`.
//  - The generated CSV (bench/out/orders-N-vG.csv, G the generator version, shared with bench/import.mjs) and the imported DuckDB file
//    (bench/out/reports-N-vG.duckdb) are cached: only the first run generates and imports.
//  - Floor: a fresh `node` process that opens the same file with @duckdb/node-api (read-only) and runs the
//    plainest SQL computing the triangle (first period per customer, then customers and net revenue per
//    cohort and k) — what any implementation on this engine pays. Timed whole process, like retain.
//  - Store time zone: each report runs again with the store in BENCH_TIME_ZONE (default America/New_York;
//    empty skips it), set with `retain store set --time-zone` and reset to UTC afterwards, and the table
//    shows the ratio zone / UTC of the same run: the cost of cutting days and months in a zone.
// Exits non-zero only when the floor's triangle and retain's differ (never on time). BENCH_ORDERS=N
// shrinks the store; BENCH_REPORTS=cohorts,summary picks reports; BENCH_RUNS=N changes the best-of count.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATOR_VERSION, generateOrders } from './generate-orders.mjs';
import { fmt, retain, ROOT, table, timed } from './lib.mjs';

const OUT = join(ROOT, 'bench/out');
mkdirSync(OUT, { recursive: true });
const orders = Number(process.env.BENCH_ORDERS ?? 2_000_000);
const customers = Math.max(1, Math.round(orders / 10));
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const REPORTS = (
  process.env.BENCH_REPORTS ?? 'cohorts,summary,retention,ltv,rfm,channels,diagnose,digest'
).split(',');
const ZONE = process.env.BENCH_TIME_ZONE ?? 'America/New_York';

const csv = join(OUT, `orders-${orders}-v${GENERATOR_VERSION}.csv`);
if (!existsSync(csv)) {
  console.error(`generating ${csv} …`);
  const g = await generateOrders(`${csv}.part`, { orders, customers, seed: 42 });
  renameSync(`${csv}.part`, csv);
  console.error(`  ${g.orders} orders, ${g.customers} customers, ${g.lines} lines`);
}
const db = join(OUT, `reports-${orders}-v${GENERATOR_VERSION}.duckdb`);
const imported = `${db}.imported`; // written after a complete import: a cut-off import is redone
if (!existsSync(imported)) {
  for (const f of [db, `${db}.wal`]) rmSync(f, { force: true });
  console.error(`importing ${csv} into ${db} (once; cached for later runs) …`);
  const r = await retain(['--db', db, 'import', 'orders', csv, '--preset', 'generic', '--json']);
  if (r.code !== 0) {
    console.error(`import failed: ${r.stderr.trim()}`);
    process.exit(1);
  }
  const report = JSON.parse(r.stdout);
  console.error(`  ${report.inserted} orders in ${fmt(r.seconds)} s`);
  writeFileSync(imported, r.stdout);
}

/** Best (lowest) wall time of `runs` runs of `run`, with the last result. */
async function best(run) {
  let min = Infinity;
  let last;
  for (let i = 0; i < runs; i++) {
    last = await run();
    if (last.code !== 0) return { ...last, seconds: null };
    min = Math.min(min, last.seconds);
  }
  return { ...last, seconds: min };
}

// The floor: the cohort triangle in plain SQL, as of the day after the last order (retain's default).
const FLOOR_SQL = `
WITH cut AS (SELECT date_trunc('day', MAX(ordered_at)) + INTERVAL 1 DAY AS as_of FROM orders),
f AS (
  SELECT customer_id,
    CAST(EXTRACT(YEAR FROM ordered_at) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM ordered_at) AS INTEGER) - 1 AS p,
    CASE WHEN line_count > 0 THEN subtotal_minor - discount_minor ELSE total_minor END AS net
  FROM orders, cut
  WHERE customer_id IS NOT NULL AND ordered_at < cut.as_of AND status IN ('paid', 'refunded', 'partially_refunded')
),
m AS (SELECT customer_id, MIN(p) AS c0 FROM f GROUP BY customer_id),
cp AS (SELECT m.c0, f.p - m.c0 AS k, SUM(net) AS net FROM f JOIN m ON m.customer_id = f.customer_id
       GROUP BY m.c0, f.customer_id, f.p)
SELECT c0, k, COUNT(*) AS active, SUM(net) AS net FROM cp GROUP BY c0, k ORDER BY c0, k`;
const floorScript = join(OUT, 'reports-floor.mjs');
writeFileSync(
  floorScript,
  `import { DuckDBInstance } from ${JSON.stringify(join(ROOT, 'node_modules/@duckdb/node-api/lib/index.js'))};
const t0 = performance.now();
const instance = await DuckDBInstance.create(process.argv[2], { access_mode: 'READ_ONLY' });
const conn = await instance.connect();
const t1 = performance.now();
const rows = (await conn.runAndReadAll(${JSON.stringify(FLOOR_SQL)})).getRowObjectsJS();
const t2 = performance.now();
process.stdout.write(JSON.stringify({ open: (t1 - t0) / 1000, query: (t2 - t1) / 1000,
  rows: rows.map((r) => [Number(r.c0), Number(r.k), Number(r.active), Number(r.net)]) }));
`,
);

const floor = await best(() => timed(process.execPath, [floorScript, db]));
if (floor.code !== 0) {
  console.error(`floor failed: ${floor.stderr.trim()}`);
  process.exit(1);
}
const floorOut = JSON.parse(floor.stdout);

const results = [];
let cohorts = null;
for (const name of REPORTS) {
  const r = await best(() => retain(['--db', db, 'report', name, '--json']));
  if (r.code !== 0) console.error(`report ${name} failed: ${r.stderr.trim()}`);
  if (name === 'cohorts' && r.code === 0) cohorts = { ...r, json: JSON.parse(r.stdout) };
  results.push([name, r.seconds, r.peakMiB]);
  console.error(`report ${name}: ${fmt(r.seconds)} s`);
}

/** Sets the store time zone of the bench file (`UTC` = the default calendar). */
async function setZone(zone) {
  const r = await retain(['--db', db, 'store', 'set', '--time-zone', zone, '--json']);
  if (r.code !== 0) {
    console.error(`retain store set --time-zone ${zone} failed: ${r.stderr.trim()}`);
    process.exit(1);
  }
}
const zoned = new Map();
if (ZONE) {
  await setZone(ZONE);
  try {
    for (const name of REPORTS) {
      const r = await best(() => retain(['--db', db, 'report', name, '--json']));
      if (r.code !== 0) console.error(`report ${name} in ${ZONE} failed: ${r.stderr.trim()}`);
      zoned.set(name, r);
      console.error(`report ${name} (${ZONE}): ${fmt(r.seconds)} s`);
    }
  } finally {
    await setZone('UTC');
  }
}

// Same triangle: per cohort and k, active customers (and the cumulative net revenue per customer).
let wrong = 0;
if (cohorts) {
  const label = (i) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
  const byCohort = new Map(cohorts.json.cohorts.map((c) => [c.cohort, c]));
  const cum = new Map();
  for (const [c0, k, active, net] of floorOut.rows) {
    const c = byCohort.get(label(c0));
    const total = (cum.get(c0) ?? 0) + net;
    cum.set(c0, total);
    const revenue = c ? Math.round(total / c.size) / 100 : NaN; // minor → currency units (USD)
    if (
      !c ||
      c.activeCustomers[k] !== active ||
      Math.abs(c.cumulativeRevenuePerCustomer[k] - revenue) > 0.006
    ) {
      if (wrong++ < 5) console.error(`triangle differs at cohort ${label(c0)} k=${k}`);
    }
  }
  const cells = cohorts.json.cohorts.reduce((a, c) => a + c.activeCustomers.filter((n) => n > 0).length, 0);
  if (cells !== floorOut.rows.length) wrong++;
}

const ratio = (a, b) => (a === null || b === null || b === undefined ? '' : `${fmt(a / b)}`);
const rows = results.map(([name, seconds, peak]) => [
  `report ${name}`,
  fmt(seconds),
  ...(ZONE ? [fmt(zoned.get(name)?.seconds ?? null), ratio(zoned.get(name)?.seconds ?? null, seconds)] : []),
  fmt(peak, 0),
  name === 'cohorts' && seconds !== null ? `${fmt(seconds / floor.seconds)} × floor` : '',
]);
rows.push([
  'floor: raw SQL (node + @duckdb/node-api)',
  fmt(floor.seconds),
  ...(ZONE ? ['', ''] : []),
  fmt(floor.peakMiB, 0),
  `open ${fmt(floorOut.open)} s, query ${fmt(floorOut.query)} s`,
]);
console.log(
  `\nReports on ${orders.toLocaleString('en-US')} orders / ${customers.toLocaleString('en-US')} customers (DuckDB), ` +
    `whole process, best of ${runs} (seconds; peak RSS MiB). Goal: report cohorts ≤ 3 s.`,
);
console.log(
  table(
    [
      'command',
      'seconds (UTC)',
      ...(ZONE ? [`seconds (${ZONE})`, 'zone / UTC'] : []),
      'peak MiB',
      'ratio / note',
    ],
    rows,
  ),
);
if (cohorts) {
  console.log(
    wrong === 0
      ? `cohort triangle: ${floorOut.rows.length} cells, the same in retain and the floor`
      : 'cohort triangle: retain and the floor DIFFER',
  );
}
process.exit(wrong === 0 ? 0 : 1);
