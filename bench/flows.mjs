// Automated flows under a live event stream (issue 26): "1,000,000 events replayed on PostgreSQL with a
// worker: enrolment lag p99 < 5 s".
//
// Each store is a fresh PostgreSQL schema (RETAIN_BENCH_DATABASE_URL or .ci/pg-start.sh) with
// BENCH_FLOWS_CUSTOMERS (default 50,000) customers with a granted email consent, five templates and three
// flows —
//   - abandoned checkout: event.tracked `checkout_started`, re-entry `always`, goal order.placed, a 10 %
//     holdout; wait 1 min, send, wait 1 min, send;
//   - browse abandonment: event.tracked `view`, re-entry after 7 days, goal order.placed; wait 2 min, send;
//   - welcome: customer.created, once; send, wait 1 min, send
// (minutes where a shop would wait hours, so that the runner and the deliverer work while events
// arrive) — and three processes of the real CLI: `retain serve --no-jobs` (the API), `retain worker` (the
// domain-event dispatcher with the flows' subscriber, the runner's `flows.advance`, the deliverer) and a
// counting SMTP sink (bench/smtp-sink.mjs); this process replays.
//
// The events (seeded, BENCH_FLOWS_SEED) go through POST /v1/events in batches of BENCH_FLOWS_BATCH (500)
// with occurred_at = the moment sent. They model ~2,000 browsing sessions open at a time, each of a
// customer (85 %) or an anonymous visitor (15 %): 1–12 product views (mean ~4), then with p 0.3 an
// add_to_cart or two, then with p 0.35 checkout_started, then with p 0.45 an order (POST /v1/orders,
// 5–120 s after the checkout: some before the first reminder, some after); sessions interleave.
//
// 1. The live replay: BENCH_FLOWS_EVENTS (default 1,000,000) events paced at BENCH_FLOWS_RATE events/s
//    (default 2,500) while the worker runs, and BENCH_FLOWS_SIGNUPS (default 5,000) new customers signing
//    up through POST /v1/customers spread over it (customer.created: the welcome flow; they browse too).
//    Measured: the enrolment lag of every run entered = flow_runs.entered_at − the triggering domain
//    event's recorded_at (the API's clock when it stored the event, the worker's when its subscriber
//    entered the run: one machine, one clock), p50/p95/p99/max per flow and over all; and, as an upper
//    bound, the lag until the entry was committed (the flows' cursor, polled every 100 ms, past the event).
//    Then BENCH_FLOWS_SETTLE_S (default 120) seconds for the runner and the deliverer, and what they did:
//    steps taken, messages queued, delivered at the sink, jobs waiting.
// 2. The ratio: the worker started on a backlog of BENCH_FLOWS_BACKLOG (default 100,000) events (sent
//    with the worker stopped), the flows' subscriber's events/s with the three flows active, against the
//    same store with no flow active (the floor: the dispatcher reading the events and moving the cursor).
//    Each on a store of its own.
//
// Exits 1 only on wrong results: a key twice at the sink, the sink and the ledger disagreeing, an event
// entering a flow twice, nobody entering, a rejected event or request. Never on time.
//
//   npm run build && npm run bench -- flows
//   BENCH_FLOWS_EVENTS=200000 BENCH_FLOWS_CUSTOMERS=10000 BENCH_FLOWS_BACKLOG=20000 node bench/flows.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { RETAIN, fmt, freePort, postgresUrl, retain, startSink, table } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_FLOWS_EVENTS ?? 1_000_000);
const CUSTOMERS = Number(process.env.BENCH_FLOWS_CUSTOMERS ?? 50_000);
const SIGNUPS = Number(process.env.BENCH_FLOWS_SIGNUPS ?? 5_000);
const RATE = Number(process.env.BENCH_FLOWS_RATE ?? 2_500);
const BATCH = Number(process.env.BENCH_FLOWS_BATCH ?? 500);
const BACKLOG = Number(process.env.BENCH_FLOWS_BACKLOG ?? 100_000);
const SETTLE_S = Number(process.env.BENCH_FLOWS_SETTLE_S ?? 120);
const SEED = Number(process.env.BENCH_FLOWS_SEED ?? 26);
const GOAL_P99_S = 5;

const wrong = [];
const dir = mkdtempSync(join(tmpdir(), 'retain-bench-flows-'));
const children = new Set();
const loadNow = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;

// ---- the generator (seeded) ----

/** mulberry32: a small seeded PRNG. */
function rngOf(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Interleaved browsing sessions: `next()` gives the next site event (without its time) and, when a
 * session ends in an order, the order (`delay` seconds later).
 */
function generator(seed, { prefix, customers }) {
  const rng = rngOf(seed);
  const OPEN = 2_000;
  const open = [];
  let sessions = 0;
  let n = 0;
  const pick = (k) => Math.floor(rng() * k);
  const newSession = () => {
    sessions++;
    const anonymous = rng() < 0.15;
    const views = 1 + Math.min(11, Math.floor(-Math.log(1 - rng()) * 3));
    const carts = rng() < 0.3 ? 1 + (rng() < 0.5 ? 1 : 0) : 0;
    const checkout = carts > 0 && rng() < 0.35;
    const order = checkout && !anonymous && rng() < 0.45;
    const plan = [];
    for (let i = 0; i < views; i++) plan.push('view');
    for (let i = 0; i < carts; i++) plan.push('add_to_cart');
    if (checkout) plan.push('checkout_started');
    return {
      who: anonymous ? { anonymous_id: `${prefix}a${sessions}` } : { customer_id: customers.pick(rng) },
      plan,
      order,
      sku: `P${1 + pick(400)}`,
    };
  };
  for (let i = 0; i < OPEN; i++) open.push(newSession());
  return {
    next() {
      const k = pick(OPEN);
      const s = open[k];
      const type = s.plan.shift();
      const event = {
        event_id: `${prefix}e${++n}`,
        ...s.who,
        type,
        properties: { sku: type === 'view' && rng() < 0.5 ? `P${1 + pick(400)}` : s.sku },
      };
      let order = null;
      if (s.plan.length === 0) {
        if (s.order) order = { prefix, customer_id: s.who.customer_id, sku: s.sku, delay: 5 + rng() * 115 };
        open[k] = newSession();
      }
      return { event, order };
    },
    get sessions() {
      return sessions;
    },
  };
}

// ---- processes ----

function spawnRetain(args, env) {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', RETAIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RETAIN_LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const proc = { child, exited, stderr: () => stderr };
  children.add(proc);
  void exited.then(() => children.delete(proc));
  return proc;
}

/** SIGTERM (jobs in flight finish), SIGKILL after `graceMs`; whether it stopped by itself. */
async function stop(proc, graceMs = 20_000) {
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const r = await proc.exited;
  clearTimeout(timer);
  if (r.signal === 'SIGKILL') return false;
  if (r.code !== 0) wrong.push(`a retain process exited ${r.code}: ${proc.stderr().slice(-2000)}`);
  return true;
}

const mjml = (line) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}, ${line}</mj-text>` +
  `<mj-button href="https://shop.test/cart">Back to the shop</mj-button>` +
  `<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;
const TEMPLATES = {
  'checkout-1': 'you left something at the checkout.',
  'checkout-2': 'your cart is still waiting.',
  'browse-1': 'still thinking about it?',
  'welcome-1': 'welcome to the shop.',
  'welcome-2': 'here is what others like.',
};
const FLOWS = [
  {
    name: 'checkout',
    trigger: { event: 'event.tracked', eventType: 'checkout_started' },
    goal: { event: 'order.placed' },
    reentry: { kind: 'always' },
    holdoutShare: 0.1,
    steps: [
      { id: 'wait1', wait: { minutes: 1 } },
      { id: 'first', send: { template: 'checkout-1' } },
      { id: 'wait2', wait: { minutes: 1 } },
      { id: 'second', send: { template: 'checkout-2' } },
    ],
  },
  {
    name: 'browse',
    trigger: { event: 'event.tracked', eventType: 'view' },
    goal: { event: 'order.placed' },
    reentry: { kind: 'after', days: 7 },
    steps: [
      { id: 'wait', wait: { minutes: 2 } },
      { id: 'nudge', send: { template: 'browse-1' } },
    ],
  },
  {
    name: 'welcome',
    trigger: { event: 'customer.created' },
    reentry: { kind: 'once' },
    steps: [
      { id: 'hello', send: { template: 'welcome-1' } },
      { id: 'wait', wait: { minutes: 1 } },
      { id: 'tips', send: { template: 'welcome-2' } },
    ],
  },
];

try {
  const base = postgresUrl();
  if (!base) throw new Error('PostgreSQL is needed (RETAIN_BENCH_DATABASE_URL or .ci/pg-start.sh)');
  const sink = await startSink();
  const env = {
    RETAIN_CHANNELS: JSON.stringify({
      email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>' },
    }),
  };
  const csv = ['customer_id,email,first_name,email_consent'];
  for (let i = 1; i <= CUSTOMERS; i++) csv.push(`c${i},c${i}@example.test,Name${i},yes`);
  writeFileSync(join(dir, 'customers.csv'), csv.join('\n') + '\n');
  for (const [name, line] of Object.entries(TEMPLATES))
    writeFileSync(
      join(dir, `${name}.json`),
      JSON.stringify({
        name,
        channel: 'email',
        kind: 'marketing',
        variants: [{ locale: 'en', subject: `${name} {{ customer.first_name }}`, body: mjml(line) }],
      }),
    );
  for (const f of FLOWS) writeFileSync(join(dir, `flow-${f.name}.json`), JSON.stringify(f));

  /**
   * A store in a schema of its own (not timed): the customers, the templates, the flows (active or
   * drafts), an API key, `retain serve --no-jobs` on it, and the worker started once so that the
   * subscriptions exist (the flows' starts at the end of the outbox), then stopped.
   */
  const openStore = async (tag, { active }) => {
    const schema = `bench_flows_${tag}_${process.pid}`;
    const url = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;
    const target = ['--database-url', url];
    const run = async (args) => {
      const r = await retain([...target, ...args], { env });
      if (r.code !== 0) throw new Error(`retain ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await run(['import', 'customers', join(dir, 'customers.csv'), '--json']);
    await run(['messaging', '--public-url', 'https://shop.test', '--quiet', 'off', '--cap', 'off', '--json']);
    for (const name of Object.keys(TEMPLATES))
      await run(['templates', 'save', join(dir, `${name}.json`), '--json']);
    for (const f of FLOWS) {
      await run(['flows', 'save', join(dir, `flow-${f.name}.json`), '--json']);
      if (active) await run(['flows', 'activate', f.name, '--json']);
    }
    const { key } = JSON.parse((await run(['keys', 'create', '--role', 'admin', '--json'])).stdout);
    const db = new pg.Client({ connectionString: base, options: `-c TimeZone=UTC -c search_path=${schema}` });
    await db.connect();
    const one = async (sql, params) => (await db.query(sql, params)).rows[0];
    const n = async (sql, params) => Number((await one(sql, params))?.n ?? 0);
    const cursor = () => n(`SELECT last_event_id AS n FROM event_subscriptions WHERE name = 'flows'`);
    const maxEvent = () => n(`SELECT COALESCE(MAX(event_id), 0) AS n FROM domain_events`);

    const port = await freePort();
    const server = spawnRetain(
      [...target, 'serve', '--port', String(port), '--host', '127.0.0.1', '--no-jobs'],
      { ...env, RETAIN_RATE_LIMIT: '100000000' },
    );
    const api = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${api}/ready`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 300) throw new Error(`retain serve did not start: ${server.stderr()}`);
      await sleep(100);
    }
    const store = {
      schema,
      db,
      one,
      n,
      cursor,
      maxEvent,
      api,
      key,
      server,
      worker: null,
      startWorker() {
        store.worker = spawnRetain([...target, 'worker', '--concurrency', '2'], env);
        return store.worker;
      },
      async close() {
        for (const p of [store.worker, server]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
        await Promise.all([store.worker?.exited, server.exited]);
        await db.query(`DROP SCHEMA ${schema} CASCADE`);
        await db.end();
      },
    };
    store.startWorker();
    for (let i = 0; !(await one(`SELECT 1 AS one FROM event_subscriptions WHERE name = 'flows'`)); i++) {
      if (i > 300) throw new Error(`the worker registered no flows subscription: ${store.worker.stderr()}`);
      await sleep(100);
    }
    await stop(store.worker);
    return store;
  };

  /**
   * Sends `total` events to the store's API in batches — paced at `rate` events/s, or as fast as
   * `inFlight` requests allow when rate is 0 — with the orders (when due) and `signups` on the side.
   */
  const replay = async (store, { gen, total, rate, signups, known, inFlight = 4 }) => {
    const headers = { authorization: `Bearer ${store.key}`, 'content-type': 'application/json' };
    const post = async (path, body) => {
      const res = await fetch(`${store.api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 300)}`);
      return JSON.parse(text);
    };
    const side = new Set();
    const sideOut = (p) => {
      const q = p.catch((err) => wrong.push(String(err))).finally(() => side.delete(q));
      side.add(q);
    };
    const pending = new Set();
    const orders = []; // [due ms, order], in due order per batch
    let ordersSent = 0;
    let signupsSent = 0;
    let sent = 0;
    let inserted = 0;
    const latencies = [];
    const order = (o) =>
      sideOut(
        post('/v1/orders', {
          order_id: `${o.prefix}o${++ordersSent}`,
          customer_id: o.customer_id,
          ordered_at: new Date().toISOString(),
          currency: 'EUR',
          lines: [{ sku: o.sku, quantity: 1, unit_price: '24.90' }],
        }),
      );
    const t0 = performance.now();
    const signupEvery = signups > 0 ? Math.floor(total / signups) : Infinity;
    let nextSignup = signupEvery;
    for (let b = 0; sent < total; b++) {
      if (rate > 0) {
        const wait = t0 + ((b * BATCH) / rate) * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
      }
      while (pending.size >= inFlight) await Promise.race(pending);
      const now = new Date().toISOString();
      const events = [];
      for (let i = 0; i < BATCH && sent < total; i++, sent++) {
        const { event, order: o } = gen.next();
        events.push({ ...event, occurred_at: now });
        if (o) orders.push([performance.now() + o.delay * 1000, o]);
        if (sent + 1 >= nextSignup && signupsSent < signups) {
          nextSignup += signupEvery;
          const id = `n${++signupsSent}`;
          sideOut(
            post('/v1/customers', {
              customer_id: id,
              email: `${id}@example.test`,
              first_name: `New${signupsSent}`,
              email_consent: 'yes',
            }).then(() => known.push(id)),
          );
        }
      }
      orders.sort((a, b) => a[0] - b[0]);
      const at = performance.now();
      while (orders.length && orders[0][0] <= at) order(orders.shift()[1]);
      const p = post('/v1/events', { events })
        .then((r) => {
          inserted += r.inserted;
          latencies.push(performance.now() - at);
          if (r.rejected.length) wrong.push(`rejected events: ${JSON.stringify(r.rejected[0])}`);
        })
        .catch((err) => wrong.push(String(err)))
        .finally(() => pending.delete(p));
      pending.add(p);
      while (side.size > 16) await Promise.race(side);
    }
    await Promise.all(pending);
    const seconds = (performance.now() - t0) / 1000;
    // Orders still due after the last event: the replay ends with them (not in the events' rate).
    while (orders.length) {
      const [due, o] = orders.shift();
      const wait = rate > 0 ? due - performance.now() : 0;
      if (wait > 0) await sleep(wait);
      order(o);
      while (side.size > 16) await Promise.race(side);
    }
    await Promise.all(side);
    latencies.sort((a, b) => a - b);
    return { seconds, sent, inserted, orders: ordersSent, signups: signupsSent, latencies };
  };

  /** The customers events name: the imported ones, and those who signed up once they exist. */
  const customersOf = () => {
    const known = Array.from({ length: CUSTOMERS }, (_, i) => `c${i + 1}`);
    return { known, pick: (rng) => known[Math.floor(rng() * known.length)] };
  };

  // ---- 1. the live replay ----
  const live = await openStore('live', { active: true });
  const firstId = (await live.maxEvent()) + 1;
  live.startWorker();
  console.log(
    `replaying ${EVENTS.toLocaleString('en-US')} events at ${RATE.toLocaleString('en-US')}/s in batches of ${BATCH} to ${CUSTOMERS.toLocaleString('en-US')} customers (load average ${loadNow()})`,
  );
  const samples = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      samples.push([Date.now(), await live.cursor()]);
      await sleep(100);
    }
  })();
  const loads = [];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]), 10_000);
  const liveCustomers = customersOf();
  const gen = generator(SEED, { prefix: 'L', customers: liveCustomers });
  const replayed = await replay(live, {
    gen,
    total: EVENTS,
    rate: RATE,
    signups: SIGNUPS,
    known: liveCustomers.known,
  });
  const lastId = await live.maxEvent();
  const ingestedAt = Date.now();
  while ((await live.cursor()) < lastId) await sleep(100);
  const caughtUp = Date.now();
  polling = false;
  await poller;
  clearInterval(loadTimer);

  const runs = (
    await live.db.query(
      `SELECT f.name AS flow, e.event_id, EXTRACT(EPOCH FROM e.recorded_at) * 1000 AS recorded_ms,
              EXTRACT(EPOCH FROM (r.entered_at - e.recorded_at)) * 1000 AS lag_ms
       FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id
       JOIN domain_events e ON e.event_id = CAST(SUBSTRING(r.occurrence FROM 7) AS BIGINT)
       WHERE r.occurrence LIKE 'event:%'
       UNION ALL
       SELECT f.name, e.event_id, EXTRACT(EPOCH FROM e.recorded_at) * 1000,
              EXTRACT(EPOCH FROM (r.entered_at - e.recorded_at)) * 1000
       FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id
       JOIN domain_events e ON e.customer_id = r.customer_id AND e.type = 'customer.created'
       WHERE r.occurrence = 'once'`,
    )
  ).rows
    .map((r) => ({
      flow: r.flow,
      eventId: Number(r.event_id),
      recordedMs: Number(r.recorded_ms),
      lagMs: Number(r.lag_ms),
    }))
    .filter((r) => r.eventId >= firstId && r.eventId <= lastId);
  // Committed: the first poll that saw the cursor past the event.
  const committedAt = (id) => {
    let lo = 0;
    let hi = samples.length - 1;
    if (hi < 0 || samples[hi][1] < id) return caughtUp;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid][1] >= id) hi = mid;
      else lo = mid + 1;
    }
    return samples[lo][0];
  };
  const stats = (xs) => {
    const s = xs.slice().sort((a, b) => a - b);
    return [s.length.toLocaleString('en-US'), ...[50, 95, 99, 100].map((p) => fmt(pct(s, p) / 1000, 2))];
  };
  const lagRows = FLOWS.map((f) => [
    f.name,
    ...stats(runs.filter((r) => r.flow === f.name).map((r) => r.lagMs)),
  ]);
  const allLag = runs.map((r) => r.lagMs).sort((a, b) => a - b);
  lagRows.push(['all entries', ...stats(allLag)]);
  lagRows.push([
    'all, until committed (cursor polled / 100 ms)',
    ...stats(runs.map((r) => committedAt(r.eventId) - r.recordedMs)),
  ]);
  if (runs.length === 0) wrong.push('nobody entered');
  const twice = await live.n(
    `SELECT COUNT(*) AS n FROM (SELECT flow_id, occurrence FROM flow_runs WHERE occurrence LIKE 'event:%'
       GROUP BY flow_id, occurrence HAVING COUNT(*) > 1) x`,
  );
  if (twice > 0) wrong.push(`${twice} events entered a flow twice`);

  // The runner and the deliverer after the replay: what they got done in SETTLE_S seconds.
  const progress = async () => ({
    steps: await live.n(`SELECT COUNT(*) AS n FROM flow_steps`),
    active: await live.n(`SELECT COUNT(*) AS n FROM flow_runs WHERE status = 'active'`),
    due: await live.n(
      `SELECT COUNT(*) AS n FROM flow_runs WHERE status = 'active' AND next_at <= CAST($1 AS TIMESTAMP)`,
      [new Date()],
    ),
    queued: await live.n(`SELECT COUNT(*) AS n FROM message_sends WHERE status IN ('queued', 'sending')`),
    sink: (await sink.count()).messages,
    at: Date.now(),
  });
  const settledFrom = await progress();
  for (let t = Date.now(); Date.now() - t < SETTLE_S * 1000;) {
    const p = await progress();
    if (p.active === 0 && p.queued === 0) break;
    await sleep(2000);
  }
  const settled = await progress();
  const jobs = (
    await live.db.query(
      `SELECT kind, status, COUNT(*) AS n, MIN(updated_at) AS since FROM jobs WHERE status IN ('queued', 'running')
       GROUP BY kind, status ORDER BY kind, status`,
    )
  ).rows;
  // A kill -9 (the worker may be deep in a long job): the ledger stays consistent (crash.test.ts).
  live.worker.child.kill('SIGKILL');
  await live.worker.exited;
  const ledger = (
    await live.db.query(`SELECT status, COUNT(*) AS n FROM message_sends GROUP BY status ORDER BY status`)
  ).rows.map((r) => ({ status: r.status, n: Number(r.n) }));
  const ledgerN = (s) => ledger.find((r) => r.status === s)?.n ?? 0;
  const got = await sink.count();
  if (got.keys !== got.messages) wrong.push(`the sink got ${got.messages} messages but ${got.keys} keys`);
  if (
    got.messages < ledgerN('sent') ||
    got.messages > ledgerN('sent') + ledgerN('sending') + ledgerN('unknown')
  )
    wrong.push(`the sink got ${got.messages} messages, the ledger says ${JSON.stringify(ledger)}`);
  const byStatus = (
    await live.db.query(
      `SELECT f.name, r.status, COUNT(*) AS n FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id
       GROUP BY f.name, r.status ORDER BY 1, 2`,
    )
  ).rows.map((r) => `${r.name} ${r.status} ${Number(r.n).toLocaleString('en-US')}`);
  await live.close();

  const avg = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const liveSeconds = replayed.seconds + (caughtUp - ingestedAt) / 1000;
  console.log(
    `\nlive: ${replayed.sent.toLocaleString('en-US')} events (${replayed.inserted.toLocaleString('en-US')} stored) of ` +
      `${gen.sessions.toLocaleString('en-US')} sessions, ${replayed.orders.toLocaleString('en-US')} orders and ` +
      `${replayed.signups.toLocaleString('en-US')} signups beside them, in ${fmt(replayed.seconds, 1)} s: ` +
      `${fmt(replayed.sent / replayed.seconds, 0)} events/s ingested (POST /v1/events of ${BATCH}: p50 ` +
      `${fmt(pct(replayed.latencies, 50), 0)} ms, p99 ${fmt(pct(replayed.latencies, 99), 0)} ms); the flows' subscriber ` +
      `was ${fmt((caughtUp - ingestedAt) / 1000, 1)} s behind the last batch: ${fmt((lastId - firstId + 1) / liveSeconds, 0)} ` +
      `domain events/s dispatched. Load average ${fmt(avg(loads), 1)} (max ${fmt(Math.max(...loads), 1)}) on 2 cores.`,
  );
  console.log(`\nenrolment lag, seconds: run entered − its event recorded (every run the replay entered)`);
  console.log(table(['flow', 'runs', 'p50', 'p95', 'p99', 'max'], lagRows));
  const p99 = pct(allLag, 99) / 1000;
  console.log(
    `goal p99 < ${GOAL_P99_S} s: ${fmt(p99, 2)} s = ${fmt(p99 / GOAL_P99_S, 2)}× the goal — ${p99 < GOAL_P99_S ? 'met' : 'not met'}`,
  );
  console.log(`runs: ${byStatus.join(', ')}`);
  const settleS = (settled.at - settledFrom.at) / 1000;
  console.log(
    `\nafter the replay, ${fmt(settleS, 0)} s of the worker: runs in flight ${settledFrom.active.toLocaleString('en-US')} → ` +
      `${settled.active.toLocaleString('en-US')} (${settled.due.toLocaleString('en-US')} of them due), steps taken ` +
      `${settledFrom.steps.toLocaleString('en-US')} → ${settled.steps.toLocaleString('en-US')} ` +
      `(${fmt((settled.steps - settledFrom.steps) / Math.max(1, settleS), 0)}/s), messages at the sink ` +
      `${settledFrom.sink.toLocaleString('en-US')} → ${settled.sink.toLocaleString('en-US')}, queued or sending ` +
      `${settled.queued.toLocaleString('en-US')}`,
  );
  console.log(
    `ledger: ${ledger.map((r) => `${r.status} ${r.n.toLocaleString('en-US')}`).join(', ')}; sink ${got.messages.toLocaleString('en-US')} messages, ${got.keys.toLocaleString('en-US')} keys`,
  );
  console.log(
    `jobs waiting or running: ${jobs.map((j) => `${j.kind} ${j.status} ${Number(j.n).toLocaleString('en-US')} (since ${new Date(j.since).toISOString().slice(11, 19)})`).join(', ') || 'none'}`,
  );

  // ---- 2. the ratio: a backlog drained with the flows active, against none active ----
  const drain = async (label, tag, active, seed) => {
    const store = await openStore(tag, { active });
    const customers = customersOf();
    const from = await store.maxEvent();
    const sent = await replay(store, {
      gen: generator(seed, { prefix: tag, customers }),
      total: BACKLOG,
      rate: 0,
      signups: 0,
      known: customers.known,
    });
    const to = await store.maxEvent();
    const before = await store.cursor();
    store.startWorker();
    let moved = null;
    for (;;) {
      const c = await store.cursor();
      if (moved === null && c > before) moved = { at: Date.now(), c };
      if (c >= to) break;
      await sleep(20);
    }
    const seconds = (Date.now() - moved.at) / 1000;
    const entered = await store.n(`SELECT COUNT(*) AS n FROM flow_runs`);
    await store.close();
    return { label, events: to - from, ingest: sent, seconds, rate: (to - moved.c) / seconds, entered };
  };
  const floor = await drain('no flow active (floor)', 'floor', false, SEED + 1);
  const active = await drain('the three flows active', 'active', true, SEED + 1);
  console.log(
    `\nthe worker started on a backlog of ${BACKLOG.toLocaleString('en-US')} site events (sent with it stopped, at ` +
      `${fmt(floor.ingest.sent / floor.ingest.seconds, 0)} events/s through the API), a store each; the flows' subscriber:`,
  );
  console.log(
    table(
      ['flows', 'domain events', 'runs entered', 'seconds', 'events/s', 'ratio to the floor'],
      [floor, active].map((d) => [
        d.label,
        d.events.toLocaleString('en-US'),
        d.entered.toLocaleString('en-US'),
        fmt(d.seconds, 1),
        fmt(d.rate, 0),
        fmt(d.rate / floor.rate, 2),
      ]),
    ),
  );
  await sink.close();
} finally {
  for (const c of children) c.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
if (wrong.length) {
  console.error(wrong.slice(0, 20).join('\n'));
  process.exit(1);
}
