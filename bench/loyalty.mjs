// Loyalty redemptions over HTTP (issue 24): `retain serve` in its own process on a DuckDB file and on a
// PostgreSQL schema; one agent key; a programme of 1 point = 1 minor unit. Three loads, each 200 requests:
//   one balance, one at a time      — the latency of a redemption with nobody else waiting;
//   one balance, 200 at once        — the case: every redemption of one member waits for the one
//                                      before it (the member's row lock orders spending), so the last one
//                                      waits for 199 others: p99 ≈ 200 × the time the lock is held;
//   one balance, 16 clients         — 200 redemptions from 16 tills at a time;
//   200 balances, 200 at once       — a shop's tills spending for different members at the same time.
// The floor, in the same run: GET /ready (no database) and GET /v1/loyalty/members/{id} (an authenticated
// read of the same member), one at a time. Goal (Postgres): p99 < 50 ms. Never fails on time; exits 1 when
// a balance went below 0 or a key was applied twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ROOT, fmt, postgresUrl, startServer, table } from './lib.mjs';

if (!existsSync(join(ROOT, 'dist', 'modules', 'store.js'))) {
  console.error('bench/loyalty: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { openStore } = await import(join(ROOT, 'dist/modules/store.js'));
const { createKey } = await import(join(ROOT, 'dist/modules/apikeys/service.js'));
const { systemClock } = await import(join(ROOT, 'dist/kit/clock.js'));

const N = 200;
const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};

async function timedFetch(url, init) {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  return { ms: performance.now() - t0, status: res.status, body };
}

async function run(engine, pgUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'retain-bench-loyalty-'));
  const schema = `bench_loyalty_${Date.now().toString(36)}`;
  const target = engine === 'postgres' ? { databaseUrl: pgUrl, schema } : { db: join(dir, 'bench.duckdb') };
  let db = await openStore(target);
  const { key } = await createKey({ db, clock: systemClock }, { role: 'admin', name: 'bench' });
  await db.close();
  const dbArgs =
    engine === 'postgres'
      ? ['--database-url', `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`]
      : ['--db', target.db];
  const { server, base } = await startServer(dbArgs, { tries: 300 });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = (path, body) =>
    timedFetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  let wrong = false;
  try {
    const put = await timedFetch(`${base}/v1/loyalty/program`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        currency: 'EUR',
        pointValue: { points: 1, minor: 1 },
        redemption: { minPoints: 1 },
      }),
    });
    if (put.status !== 200) throw new Error(`program: ${JSON.stringify(put.body)}`);
    // 201 customers (one big balance, 200 small ones), through the orders API, then enrolled with points.
    for (let i = 0; i <= N; i++) {
      const c = `m${i}`;
      const o = await post('/v1/orders', {
        order_id: `o${i}`,
        customer_id: c,
        ordered_at: '2020-01-01T00:00:00Z',
        currency: 'EUR',
        lines: [{ sku: 'X', quantity: 1, unit_price: '1.00' }],
      });
      if (o.status !== 201) throw new Error(`order: ${JSON.stringify(o.body)}`);
      await post('/v1/loyalty/members', { customer: c });
      await post('/v1/loyalty/adjustments', {
        customer: c,
        points: i === 0 ? 1_000_000 : 1000,
        reason: 'bench',
        idempotencyKey: 'open',
      });
    }
    const redeemOne = (customer, k) =>
      post('/v1/loyalty/redemptions', { customer, points: 7, idempotencyKey: k });

    const ready = [];
    const read = [];
    for (let i = 0; i < N; i++) {
      ready.push((await timedFetch(`${base}/ready`)).ms);
      read.push((await timedFetch(`${base}/v1/loyalty/members/m0`, { headers })).ms);
    }
    const sequential = [];
    for (let i = 0; i < N; i++) sequential.push((await redeemOne('m0', `seq-${i}`)).ms);
    const t0 = performance.now();
    const burst = await Promise.all(Array.from({ length: N }, (_, i) => redeemOne('m0', `burst-${i}`)));
    const burstWall = performance.now() - t0;
    // 16 clients (tills) sending 200 redemptions on the one balance: each waits for at most 15 others.
    const clients = [];
    let next = 0;
    const tills = await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < N; i = next++) clients.push(await redeemOne('m0', `till-${i}`));
      }),
    );
    void tills;
    const spread = await Promise.all(
      Array.from({ length: N }, (_, i) => redeemOne(`m${i + 1}`, `spread-${i}`)),
    );
    // Retries of every burst key: answered, nothing spent.
    const retries = await Promise.all(Array.from({ length: N }, (_, i) => redeemOne('m0', `burst-${i}`)));

    for (const r of [...burst, ...spread, ...clients]) if (r.status !== 201) wrong = true;
    for (const r of retries) if (r.status !== 200) wrong = true;
    const m0 = (await timedFetch(`${base}/v1/loyalty/members/m0`, { headers })).body;
    if (m0.available !== 1_000_000 - 7 * 3 * N) wrong = true;
    const stats = (xs) => [fmt(quantile(xs, 0.5), 1), fmt(quantile(xs, 0.99), 1), fmt(Math.max(...xs), 1)];
    console.log(`\n${engine}: ${N} requests per row (ms)`);
    console.log(
      table(
        ['load', 'p50', 'p99', 'max'],
        [
          ['floor: GET /ready', ...stats(ready)],
          ['floor: GET member (authenticated read)', ...stats(read)],
          ['redeem, one balance, one at a time', ...stats(sequential)],
          [`redeem, one balance, ${N} at once`, ...stats(burst.map((r) => r.ms))],
          [`redeem, one balance, 16 clients`, ...stats(clients.map((r) => r.ms))],
          [`redeem, ${N} balances, ${N} at once`, ...stats(spread.map((r) => r.ms))],
          [`retry of ${N} keys at once (answered, not spent)`, ...stats(retries.map((r) => r.ms))],
        ],
      ),
    );
    console.log(
      `  one balance, ${N} at once: ${fmt(burstWall, 0)} ms for all = ${fmt(burstWall / N, 2)} ms per redemption under the lock; ` +
        `redeem p50 / authenticated-read p50 = ${fmt(quantile(sequential, 0.5) / quantile(read, 0.5), 2)}×`,
    );
    console.log(
      `  balance after: ${m0.available} (expected ${1_000_000 - 7 * 3 * N})${wrong ? ' — WRONG' : ''}`,
    );
  } finally {
    await new Promise((ok) => {
      server.once('exit', ok);
      server.kill('SIGTERM');
    });
    if (engine === 'postgres') {
      db = await openStore(target);
      await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return wrong;
}

let failed = await run('duckdb');
const pg = postgresUrl();
if (pg) failed = (await run('postgres', pg)) || failed;
else console.log('\npostgres: skipped (no RETAIN_BENCH_DATABASE_URL and .ci/pg-start.sh failed)');
process.exit(failed ? 1 : 0);
