// Recommendation latency and event-loop responsiveness (issue 18, item 3), on the demo store.
//
// Imports data/online_retail.csv.gz into a temporary DuckDB file as `retain demo` does (4,338
// customers, 18.5k orders), starts `retain serve` on 127.0.0.1 and measures over HTTP:
//   1. the kept model's training (POST /v1/recommendations/model);
//   2. per-customer recommendations (GET /v1/customers/{id}/recommendations) for BENCH_RECO_CUSTOMERS
//      different customers one after another: p50/p99/max — goal p99 ≤ 50 ms; floor: GET /health
//      p99 measured the same way in the same run;
//   3. GET /health p99 while a basket mining request (rules, then itemsets) is in flight, against
//      /health p99 idle — goal < 50 ms (the mining runs on a worker thread).
// Prints the figures and ratios; never fails on time (it exits non-zero only on wrong answers).
//
//   npm run build && npm run bench -- reco
//   BENCH_RECO_CUSTOMERS=1000 node bench/reco.mjs
//   BENCH_RECO_DEMO_DB=retain-demo.duckdb node bench/reco.mjs   # copy a demo store made before instead of importing
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, fmt, retain, startServer, table } from './lib.mjs';

const CUSTOMERS = Number(process.env.BENCH_RECO_CUSTOMERS ?? 600);
const GOAL_MS = 50;

if (!existsSync(join(ROOT, 'dist', 'bundle', 'main.cjs'))) {
  console.error('bench/reco: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { openStore } = await import(join(ROOT, 'dist/modules/store.js'));
const { createKey } = await import(join(ROOT, 'dist/modules/apikeys/service.js'));
const { systemClock } = await import(join(ROOT, 'dist/kit/clock.js'));

const pct = (xs, p) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const stats = (xs) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) });

let wrong = 0;
const dir = mkdtempSync(join(tmpdir(), 'retain-bench-reco-'));
const dbFile = join(dir, 'demo.duckdb');
let server;
try {
  if (process.env.BENCH_RECO_DEMO_DB) {
    copyFileSync(process.env.BENCH_RECO_DEMO_DB, dbFile); // a `retain demo` file made before (faster reruns)
  } else {
    console.log('importing the demo data (retain demo) …');
    const demo = await retain(['demo', '--demo-db', dbFile, '--json']);
    if (demo.code !== 0) throw new Error(`retain demo failed: ${demo.stderr}`);
    console.log(`  ${demo.seconds.toFixed(1)} s`);
  }

  // Customers with product orders, spread over the whole base (every k-th by id), and an API key.
  let db = await openStore({ db: dbFile });
  const { key } = await createKey({ db, clock: systemClock }, { role: 'admin', name: 'bench' });
  const all = await db.query(
    `SELECT c.external_id AS id FROM customers c
     WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.status IN ('paid', 'partially_refunded'))
     ORDER BY c.external_id`,
  );
  await db.close(); // DuckDB: the server process must own the file
  const step = Math.max(1, Math.floor(all.length / CUSTOMERS));
  const customers = all
    .filter((_, i) => i % step === 0)
    .slice(0, CUSTOMERS)
    .map((r) => r.id);

  let base;
  ({ server, base } = await startServer(['--db', dbFile]));
  const headers = { authorization: `Bearer ${key}` };
  const timedGet = async (path, init = {}) => {
    const t = performance.now();
    const res = await fetch(`${base}${path}`, { headers, ...init });
    const body = await res.text();
    return { ms: performance.now() - t, status: res.status, body };
  };

  // 1. Training (on a worker thread of the server).
  const trained = await timedGet('/v1/recommendations/model', { method: 'POST' });
  if (trained.status !== 200) throw new Error(`training failed: ${trained.status} ${trained.body}`);
  const model = JSON.parse(trained.body);
  console.log(
    `model ${model.version}: ${model.items} items, ${model.neighbours} neighbour pairs from ${model.orders} orders; ` +
      `trained in ${(trained.ms / 1000).toFixed(2)} s over HTTP (${model.seconds} s in the service)`,
  );

  // 2. Per-customer recommendations against /health, both sequential (one request at a time).
  for (const id of customers.slice(0, 20))
    await timedGet(`/v1/customers/${encodeURIComponent(id)}/recommendations`); // warm-up
  const healthIdle = [];
  for (let i = 0; i < customers.length; i++) healthIdle.push((await timedGet('/health')).ms);
  const reco = [];
  for (const id of customers) {
    const r = await timedGet(`/v1/customers/${encodeURIComponent(id)}/recommendations?n=10`);
    if (r.status !== 200) {
      wrong++;
      console.error(`customer ${id}: ${r.status} ${r.body.slice(0, 200)}`);
      continue;
    }
    const j = JSON.parse(r.body);
    if (j.model?.version !== model.version || j.customer !== id) {
      wrong++;
      console.error(`customer ${id}: answered with model ${j.model?.version} for ${j.customer}`);
    }
    reco.push(r.ms);
  }

  // 3. /health while a mining request is in flight.
  const mining = [];
  for (const path of [
    '/v1/basket/rules?minSupport=0.01&minConfidence=0.3',
    '/v1/basket/itemsets?minSupport=0.005&maxSize=4',
  ]) {
    const during = [];
    let done = false;
    const started = performance.now();
    const request = timedGet(path).then((r) => {
      done = true;
      return r;
    });
    while (!done) {
      during.push((await timedGet('/health')).ms);
      await sleep(5);
    }
    const r = await request;
    if (r.status !== 200) {
      wrong++;
      console.error(`${path}: ${r.status} ${r.body.slice(0, 200)}`);
    }
    mining.push({ path, seconds: (performance.now() - started) / 1000, health: stats(during) });
  }

  const idle = stats(healthIdle);
  const rec = stats(reco);
  console.log(
    '\n' +
      table(
        ['what', 'requests', 'p50 ms', 'p99 ms', 'max ms'],
        [
          ['GET /health (idle; the floor)', idle.n, fmt(idle.p50), fmt(idle.p99), fmt(idle.max)],
          ['GET /v1/customers/{id}/recommendations', rec.n, fmt(rec.p50), fmt(rec.p99), fmt(rec.max)],
          ...mining.map((m) => [
            `GET /health during ${m.path.split('?')[0]} (${m.seconds.toFixed(1)} s)`,
            m.health.n,
            fmt(m.health.p50),
            fmt(m.health.p99),
            fmt(m.health.max),
          ]),
        ],
      ),
  );
  console.log(
    `\nrecommendation p99 ${fmt(rec.p99)} ms: ${fmt(rec.p99 / GOAL_MS)}× the ${GOAL_MS} ms goal, ` +
      `${fmt(rec.p99 / idle.p99)}× the /health p99 floor (${rec.n} customers)`,
  );
  for (const m of mining)
    console.log(
      `/health p99 during ${m.path.split('?')[0]}: ${fmt(m.health.p99)} ms (${fmt(m.health.p99 / GOAL_MS)}× the ${GOAL_MS} ms goal, ` +
        `${fmt(m.health.p99 / idle.p99)}× idle)`,
    );
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'out', 'reco.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        model,
        trainingMs: trained.ms,
        healthIdle: idle,
        recommendations: rec,
        mining,
      },
      null,
      2,
    ),
  );
} finally {
  if (server && server.exitCode === null)
    await new Promise((ok) => {
      server.once('exit', ok);
      server.kill('SIGTERM');
    });
  rmSync(dir, { recursive: true, force: true });
}
if (wrong > 0) {
  console.error(`${wrong} wrong answers`);
  process.exit(1);
}
