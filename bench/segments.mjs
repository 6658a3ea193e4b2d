// Segments (issue 22): BENCH_SEGMENT_CUSTOMERS (default 1,000,000) customers and BENCH_SEGMENT_ORDERS
// (default 10,000,000) orders, synthetic, generated inside the engine (DuckDB `range`, Postgres
// `generate_series`), with email consent for most customers. Then, per engine:
// - `retain segments refresh` (whole process): the stored scores the rules read;
// - a 5-condition segment counted by `POST /v1/segments/count` against `retain serve` (whole request,
//   median of 5 after a warm-up) and by `retain segments count` (whole process);
// - the floor, in the same run: the same count as hand-written SQL on the engine's own driver — over the
//   stored scores, and over the raw orders (aggregating 10M orders live, what it costs without them);
// - `POST /v1/segments/{name}/snapshots` of a segment holding every customer (1M memberships, entered
//   events included).
// Goals: count ≤ 1 s whole-request on DuckDB (Postgres reported); snapshot of 1M memberships ≤ 10 s.
// Exits 1 only if the counts disagree.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, fmt, postgresUrl, retain, startServer, table } from './lib.mjs';

const CUSTOMERS = Number(process.env.BENCH_SEGMENT_CUSTOMERS ?? 1_000_000);
const ORDERS = Number(process.env.BENCH_SEGMENT_ORDERS ?? 10_000_000);
const NOW = '2026-06-01 00:00:00';
const { openStore } = await import(join(ROOT, 'dist/modules/store.js'));
const { createKey } = await import(join(ROOT, 'dist/modules/apikeys/service.js'));
const { systemClock } = await import(join(ROOT, 'dist/kit/clock.js'));

const RULE = {
  all: [
    { field: 'country', op: 'in', value: ['DE', 'FR', 'GB'] },
    { field: 'orders', op: 'gte', value: 10 },
    { field: 'revenue_minor', op: 'gte', value: 50_000 },
    { field: 'days_since_last_order', op: 'lte', value: 60 },
    { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
  ],
};
// The same count by hand, over the stored scores, and over the raw orders.
const FLOOR_SCORES = `SELECT COUNT(*) AS n FROM customers c JOIN customer_scores s ON s.customer_id = c.customer_id
  JOIN customer_consents k ON k.customer_id = c.customer_id AND k.channel = 'email' AND k.status = 'granted'
  WHERE c.erased_at IS NULL AND c.country IN ('DE', 'FR', 'GB') AND s.orders >= 10 AND s.revenue_minor >= 50000
    AND s.last_order_at > TIMESTAMP '${NOW}' - INTERVAL 61 DAY`;
const FLOOR_RAW = `WITH a AS (SELECT customer_id, COUNT(*) AS n, SUM(total_minor) AS revenue, MAX(ordered_at) AS last_at
    FROM orders WHERE status IN ('paid', 'pending', 'refunded', 'partially_refunded') AND currency = 'EUR'
      AND ordered_at < TIMESTAMP '${NOW}' GROUP BY customer_id)
  SELECT COUNT(*) AS n FROM customers c JOIN a ON a.customer_id = c.customer_id
  JOIN customer_consents k ON k.customer_id = c.customer_id AND k.channel = 'email' AND k.status = 'granted'
  WHERE c.erased_at IS NULL AND c.country IN ('DE', 'FR', 'GB') AND a.n >= 10 AND a.revenue >= 50000
    AND a.last_at > TIMESTAMP '${NOW}' - INTERVAL 61 DAY`;

function generateSql(kind) {
  const series = (n, v) =>
    kind === 'duckdb' ? `range(1, ${n + 1}) t(${v})` : `generate_series(1, ${n}) t(${v})`;
  const h = (x, m) => `((${x} * 2654435761) % ${m})`;
  // A product of two uniform draws, divided exactly (DuckDB's / on integers is a float division).
  const skew = `(${h('j', 1000003)} * ${h('j + 7', 1000003)})`;
  return [
    `INSERT INTO settings (key, value) VALUES ('currency', 'EUR')`,
    `INSERT INTO customers (customer_id, external_id, email, country, created_at, updated_at)
     SELECT i, 'c' || CAST(i AS TEXT), 'c' || CAST(i AS TEXT) || '@example.test',
       (ARRAY['DE', 'FR', 'GB', 'US', 'UA', 'PL', 'IT', 'ES'])[1 + CAST(${h('i', 8)} AS INTEGER)],
       TIMESTAMP '2023-01-01' + CAST(${h('i', 1000)} AS INTEGER) * INTERVAL 1 DAY, TIMESTAMP '${NOW}'
     FROM ${series(CUSTOMERS, 'i')}`,
    `INSERT INTO customer_consents (customer_id, channel, status, changed_at, source)
     SELECT i, 'email', CASE WHEN ${h('i', 10)} < 6 THEN 'granted' ELSE 'denied' END, TIMESTAMP '${NOW}', 'bench'
     FROM ${series(CUSTOMERS, 'i')} WHERE ${h('i', 10)} < 8`,
    // Order j belongs to a customer drawn with a skew (some buy often), over two years before NOW.
    `INSERT INTO orders (order_id, external_id, customer_id, ordered_at, currency, subtotal_minor, discount_minor,
       shipping_minor, tax_minor, total_minor, status, line_count, lines_digest, imported_at)
     SELECT j, 'o' || CAST(j AS TEXT),
       1 + CAST(((${skew} - ${skew} % 1000003) / 1000003) % ${CUSTOMERS} AS BIGINT),
       TIMESTAMP '${NOW}' - CAST(${h('j + 3', 730 * 24)} AS INTEGER) * INTERVAL 1 HOUR - INTERVAL 1 HOUR, 'EUR',
       1000 + ${h('j', 9000)}, 0, 0, 0, 1000 + ${h('j', 9000)},
       CASE WHEN ${h('j', 20)} = 0 THEN 'cancelled' ELSE 'paid' END, 0, '', TIMESTAMP '${NOW}'
     FROM ${series(ORDERS, 'j')}`,
  ].map((s) => dialectOf(kind, s));
}

/** Postgres spells an interval `INTERVAL '1 DAY'`; DuckDB also takes `INTERVAL 1 DAY`. */
const dialectOf = (kind, s) =>
  kind === 'postgres' ? s.replace(/INTERVAL (\d+) (DAY|HOUR)/g, "INTERVAL '$1 $2'") : s;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const wrong = [];

async function benchEngine(kind, pg) {
  const dir = mkdtempSync(join(tmpdir(), 'retain-bench-seg-'));
  const schema = `bench_seg_${process.pid}`;
  const target = kind === 'duckdb' ? { db: join(dir, 'seg.duckdb') } : { databaseUrl: pg, schema };
  const args =
    kind === 'duckdb'
      ? ['--db', target.db]
      : ['--database-url', `${pg}${pg.includes('?') ? '&' : '?'}schema=${schema}`];
  try {
    let db = await openStore(target);
    const { key } = await createKey({ db, clock: systemClock }, { role: 'admin', name: 'bench' });
    let t = performance.now();
    for (const sql of generateSql(kind)) await db.exec(sql);
    if (kind === 'postgres') await db.exec('ANALYZE');
    const generated = (performance.now() - t) / 1000;
    await db.close();
    const env = {};
    const refresh = await retain([...args, 'segments', 'refresh', '--json'], { env });
    if (refresh.code !== 0) throw new Error(`refresh: ${refresh.stderr}`);

    // The floor, on the engine's own driver (no server: DuckDB's file has one owner).
    db = await openStore(target);
    const floor = async (sql) => {
      const times = [];
      let n;
      for (let i = 0; i < 4; i++) {
        t = performance.now();
        n = Number((await db.query(sql))[0].n);
        if (i > 0) times.push((performance.now() - t) / 1000);
      }
      return { n, seconds: median(times) };
    };
    const floorScores = await floor(dialectOf(kind, FLOOR_SCORES));
    const floorRaw = await floor(dialectOf(kind, FLOOR_RAW));
    await db.close();

    const cli = await retain(
      [...args, 'segments', 'count', '--rule', JSON.stringify(RULE), '--as-of', '2026-05-31', '--json'],
      { env },
    );
    if (cli.code !== 0) throw new Error(`count: ${cli.stderr}`);
    const cliCount = JSON.parse(cli.stdout).count;

    const { server, base } = await startServer(args);
    try {
      const post = async (path, body) => {
        const s = performance.now();
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const json = await res.json();
        if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
        return { json, seconds: (performance.now() - s) / 1000 };
      };
      const body = { rule: RULE, asOf: '2026-05-31' };
      await post('/v1/segments/count', body);
      const times = [];
      let httpCount;
      for (let i = 0; i < 5; i++) {
        const r = await post('/v1/segments/count', body);
        times.push(r.seconds);
        httpCount = r.json.count;
      }
      await post('/v1/segments', { name: 'everyone', rule: { field: 'orders', op: 'gte', value: 0 } });
      const snap = await post('/v1/segments/everyone/snapshots', { asOf: '2026-05-31' });
      if (snap.json.entered !== CUSTOMERS)
        wrong.push(`${kind}: snapshot entered ${snap.json.entered} of ${CUSTOMERS}`);
      for (const [label, n] of [
        ['CLI', cliCount],
        ['HTTP', httpCount],
        ['floor (raw orders)', floorRaw.n],
      ])
        if (n !== floorScores.n) wrong.push(`${kind}: ${label} count ${n} ≠ floor ${floorScores.n}`);
      const refreshJson = JSON.parse(refresh.stdout);
      rows.push([kind, 'generate the data (SQL in the engine)', fmt(generated, 1), '', '']);
      rows.push([
        kind,
        `segments refresh (${refreshJson.customers.toLocaleString('en-US')} scores; whole process)`,
        fmt(refresh.seconds, 1),
        '',
        '',
      ]);
      const count = median(times);
      rows.push([
        kind,
        `count, POST /v1/segments/count (median of 5; ${httpCount.toLocaleString('en-US')} members)`,
        fmt(count, 3),
        fmt(count / floorScores.seconds, 1),
        kind === 'duckdb' ? (count <= 1 ? 'met (≤ 1 s)' : 'not met (≤ 1 s)') : '',
      ]);
      rows.push([kind, 'count, `retain segments count` (whole process)', fmt(cli.seconds, 2), '', '']);
      rows.push([
        kind,
        'floor: hand-written SQL over the stored scores',
        fmt(floorScores.seconds, 3),
        '1.0',
        '',
      ]);
      rows.push([
        kind,
        'floor: hand-written SQL over the raw orders',
        fmt(floorRaw.seconds, 3),
        fmt(floorRaw.seconds / floorScores.seconds, 1),
        '',
      ]);
      rows.push([
        kind,
        `snapshot of ${snap.json.members.toLocaleString('en-US')} memberships (POST …/snapshots)`,
        fmt(snap.seconds, 1),
        '',
        snap.seconds <= 10 ? 'met (≤ 10 s)' : 'not met (≤ 10 s)',
      ]);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.on('exit', r));
    }
    if (kind === 'postgres') {
      const d = await openStore({ databaseUrl: pg });
      await d.exec(`DROP SCHEMA ${schema} CASCADE`);
      await d.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await benchEngine('duckdb');
const pg = process.env.BENCH_SEGMENTS_PG === '0' ? null : postgresUrl();
if (pg) await benchEngine('postgres', pg);
else console.error('PostgreSQL not available: its rows are left out');
console.log(
  `\n${CUSTOMERS.toLocaleString('en-US')} customers, ${ORDERS.toLocaleString('en-US')} orders; rule: ${RULE.all.length} conditions (country, orders, revenue, days since last order, email consent)`,
);
console.log(table(['engine', 'step', 'seconds', 'ratio to floor', 'goal'], rows));
if (wrong.length) {
  console.error(wrong.join('\n'));
  process.exit(1);
}
