// Recurring orders (issue 28): a store of N customers, every one subscribed monthly and due at the same
// instant (the 1st of the month at 09:00); one call of the renewal job makes every order — each in its
// own transaction with its key (subscription, cycle), the move to the next cycle, the history entry and
// the first payment attempt. The floor, measured in the same run on a fresh store: the same N orders
// through the API's order upsert (the importer's merge, one order per transaction) with none of the
// exactly-once bookkeeping. Never fails on time; exits 1 when an order is missing or doubled.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, importTestSupport, postgresUrl, table } from './lib.mjs';

const N = Number(process.env.BENCH_SUBSCRIPTIONS ?? 2000);
const bench = await importTestSupport('subscriptionBench');
const pg = postgresUrl();
const rows = [];
let wrong = false;

for (const engine of ['duckdb', ...(pg ? ['postgres'] : [])]) {
  const figures = {};
  for (const kind of ['renewals', 'floor']) {
    const dir = mkdtempSync(join(tmpdir(), 'retain-bench-subs-'));
    const schema = `bench_subs_${kind}_${Date.now().toString(36)}`;
    const db = await bench.openStore(
      engine === 'postgres' ? { databaseUrl: pg, schema } : { db: join(dir, 'bench.duckdb') },
    );
    try {
      if (kind === 'renewals') {
        const r = await bench.renewals(db, N);
        if (r.made !== N || r.orders !== N || r.keys !== N || r.payments !== N) {
          console.error(`${engine}: expected ${N} orders, keys and payments, got ${JSON.stringify(r)}`);
          wrong = true;
        }
        figures.renewals = r.seconds;
      } else {
        const r = await bench.plainOrders(db, N);
        if (r.orders !== N) wrong = true;
        figures.floor = r.seconds;
      }
    } finally {
      if (engine === 'postgres') await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rows.push([
    engine,
    N,
    fmt(figures.renewals, 1),
    fmt(N / figures.renewals, 0),
    fmt(figures.floor, 1),
    fmt(N / figures.floor, 0),
    fmt(figures.floor / figures.renewals, 2),
  ]);
}
console.log(
  table(
    ['engine', 'orders', 'renewals s', 'renewals orders/s', 'floor s', 'floor orders/s', 'of the floor'],
    rows,
  ),
);
process.exit(wrong ? 1 : 0);
