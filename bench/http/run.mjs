// HTTP ingestion benchmark: `retain serve` in its own process on 127.0.0.1, autocannon posting
// 200,000 events in batches of 100 (each event with a unique event_id), on DuckDB and on Postgres.
// Prints events/s, latency percentiles, and checks that the stored count equals the accepted count
// (nothing lost, nothing doubled); never fails on time. Goal (issue 7): ≥ 10,000 events/s on Postgres.
//
//   npm run build && node bench/http/run.mjs
//   BENCH_HTTP_EVENTS=50000 BENCH_HTTP_ENGINES=postgres node bench/http/run.mjs
//   Postgres: RETAIN_BENCH_DATABASE_URL (else RETAIN_TEST_DATABASE_URL); skipped when neither is set.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { startServer } from '../lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EVENTS = Number(process.env.BENCH_HTTP_EVENTS ?? 200_000);
const BATCH = Number(process.env.BENCH_HTTP_BATCH ?? 100);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 16);
const pgUrl = process.env.RETAIN_BENCH_DATABASE_URL ?? process.env.RETAIN_TEST_DATABASE_URL;
const engines = (process.env.BENCH_HTTP_ENGINES ?? 'duckdb,postgres').split(',');

if (!existsSync(join(root, 'dist', 'bundle', 'main.cjs'))) {
  console.error('bench/http: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { openStore: openDatabase } = await import(join(root, 'dist/modules/store.js'));
const { createKey } = await import(join(root, 'dist/modules/apikeys/service.js'));
const { systemClock } = await import(join(root, 'dist/kit/clock.js'));

async function run(engine) {
  const dir = mkdtempSync(join(tmpdir(), 'retain-bench-http-'));
  const schema = `bench_http_${Date.now().toString(36)}`;
  const target = engine === 'postgres' ? { databaseUrl: pgUrl, schema } : { db: join(dir, 'bench.duckdb') };
  let db = await openDatabase(target);
  const { key } = await createKey({ db, clock: systemClock }, { role: 'admin', name: 'bench' });
  await db.close(); // DuckDB: the server process must own the file

  const dbArgs =
    engine === 'postgres'
      ? ['--database-url', `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`]
      : ['--db', target.db];
  const { server, base } = await startServer(dbArgs, {
    // BENCH_HTTP_NODE_ARGS adds flags (e.g. --cpu-prof) to the server.
    nodeArgs: (process.env.BENCH_HTTP_NODE_ARGS ?? '').split(' ').filter(Boolean),
    tries: 200,
  });

  const requests = Math.ceil(EVENTS / BATCH);
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  let non2xx = 0;
  const occurred = new Date('2024-06-01T00:00:00Z').getTime();
  const started = performance.now();
  const result = await autocannon({
    url: `${base}/v1/events`,
    connections: CONNECTIONS,
    amount: requests,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          const b = next++;
          const events = [];
          for (let i = 0; i < BATCH; i++) {
            const n = b * BATCH + i;
            events.push({
              event_id: `bench-${n}`,
              customer_id: `c-${n % 5000}`,
              type: 'page_view',
              occurred_at: new Date(occurred + n * 1000).toISOString(),
              properties: { path: `/products/${n % 997}` },
            });
          }
          return { ...req, body: JSON.stringify({ events }) };
        },
        onResponse: (status, body) => {
          if (status !== 200) {
            non2xx++;
            return;
          }
          const r = JSON.parse(body);
          accepted += r.inserted + r.duplicates;
          rejected += r.rejected.length;
        },
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;

  await new Promise((ok) => {
    server.once('exit', ok);
    server.kill('SIGTERM');
  });
  db = await openDatabase(target);
  const [{ n: stored }] = await db.query('SELECT COUNT(*) AS n FROM events');
  if (engine === 'postgres') await db.exec(`DROP SCHEMA ${schema} CASCADE`);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    engine,
    events: requests * BATCH,
    batch: BATCH,
    connections: CONNECTIONS,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round((requests * BATCH) / seconds),
    requestsPerSecond: Math.round(requests / seconds),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    non2xx: non2xx + result.errors + result.timeouts,
    accepted,
    rejected,
    stored,
    storedEqualsAccepted: stored === accepted,
  };
}

const results = [];
for (const engine of engines) {
  if (engine === 'postgres' && !pgUrl) {
    console.log('postgres: skipped (set RETAIN_BENCH_DATABASE_URL or RETAIN_TEST_DATABASE_URL)');
    continue;
  }
  const r = await run(engine);
  results.push(r);
  console.log(
    `${engine.padEnd(8)} ${r.events} events in ${r.seconds}s: ${r.eventsPerSecond} events/s (${r.requestsPerSecond} req/s of ${r.batch}), ` +
      `p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}; accepted ${r.accepted}, stored ${r.stored} ` +
      (r.storedEqualsAccepted ? '(equal: nothing lost, nothing doubled)' : '(MISMATCH)'),
  );
}
const pg = results.find((r) => r.engine === 'postgres');
if (pg) console.log(`postgres vs goal 10,000 events/s: ${(pg.eventsPerSecond / 10_000).toFixed(2)}×`);
mkdirSync(join(root, 'bench', 'out'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'out', 'http.json'),
  JSON.stringify({ at: new Date().toISOString(), results }, null, 2),
);
