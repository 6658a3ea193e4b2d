// The demo store through the loyalty programme (issue 24): `retain demo` (UCI Online Retail, Dec 2010 –
// Dec 2011), then the programme run day by day in simulated time over the data's year and one more year:
// customers join at checkout (opt-in, 30 % chance at each order until they join: a seeded model, the data
// has no loyalty), orders earn (1 point per £1, pending 14 days, points live 90 days), members with 500+
// points spend them against an order half the time, the sweep runs nightly (releases, expiries, tiers).
// Prints the liability and the flows at the data's end and a year later, and the report's members vs
// matched non-members. Checks the ledger's invariants at the end (exit 1 when one fails).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import pino from 'pino';
import { ROOT, fmt, retain } from './lib.mjs';

if (!existsSync(join(ROOT, 'dist', 'modules', 'loyalty', 'reports.js'))) {
  console.error('bench/loyalty-demo: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { openStore } = await import(join(ROOT, 'dist/modules/store.js'));
const { ManualClock } = await import(join(ROOT, 'dist/kit/clock.js'));
const { JobQueue } = await import(join(ROOT, 'dist/modules/jobs/service.js'));
const loyalty = await import(join(ROOT, 'dist/modules/loyalty/service.js'));
const { loyaltyReport } = await import(join(ROOT, 'dist/modules/loyalty/reports.js'));
const { mulberry32 } = await import(join(ROOT, 'dist/shared/random.js'));

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'retain-loyalty-demo-'));
const file = join(dir, 'demo.duckdb');
const started = performance.now();
try {
  const demo = await retain(['demo', '--demo-db', file, '--json']);
  if (demo.code !== 0) throw new Error(`retain demo: ${demo.stderr}`);
  const db = await openStore({ db: file });
  const clock = new ManualClock('2010-11-30T00:00:00Z');
  const ctx = { db, clock, jobs: new JobQueue(db, clock), log: pino({ level: 'silent' }) };
  await loyalty.setProgram(ctx, {
    name: 'Demo Rewards',
    enrollment: 'opt-in',
    earn: { rate: { type: 'per-unit', points: 1, perMinor: 100 }, rounding: 'floor' },
    pointValue: { points: 100, minor: 100 },
    pendingDays: 14,
    expiryDays: 90,
    welcomeBonus: { points: 100, expiryDays: 30 },
    redemption: { minPoints: 100, maxPoints: 5000 },
    tiers: {
      basis: 'spend',
      levels: [
        { name: 'Silver', threshold: 50000, multiplier: 1.25 },
        { name: 'Gold', threshold: 200000, multiplier: 1.5, freeShipping: true },
      ],
    },
    expiringNoticeDays: 14,
  });
  const orders = await db.query(
    `SELECT o.order_id, o.external_id, o.ordered_at, c.external_id AS customer FROM orders o
     JOIN customers c ON c.customer_id = o.customer_id ORDER BY o.ordered_at, o.order_id`,
  );
  const refunds = await db.query(
    `SELECT refund_id, order_id, refunded_at FROM refunds WHERE order_id IS NOT NULL`,
  );
  const rnd = mulberry32(24);
  const members = new Set();
  let redemptions = 0;
  const first = orders[0].ordered_at.getTime();
  const dataEnd = orders[orders.length - 1].ordered_at.getTime();
  const simEnd = dataEnd + 365 * DAY;
  let i = 0;
  const snapshot = async (label) => {
    const r = await loyaltyReport(ctx, {
      from: new Date(first).toISOString(),
      to: clock.now().toISOString(),
    });
    return { label, r };
  };
  const snaps = [];
  for (let day = Math.floor(first / DAY) * DAY; day <= simEnd; day += DAY) {
    const todays = [];
    while (i < orders.length && orders[i].ordered_at.getTime() < day + DAY) todays.push(orders[i++]);
    for (const o of todays) {
      clock.set(o.ordered_at);
      if (!members.has(o.customer) && rnd() < 0.3) {
        await loyalty.enrol(ctx, { customer: o.customer, source: 'checkout' });
        members.add(o.customer);
      }
    }
    if (todays.length) {
      clock.set(new Date(day + DAY - 1000));
      await db.transaction((tx) =>
        loyalty.handleOrderEvents(
          { ...ctx, tx },
          todays.map((o) => ({
            type: 'order.placed',
            occurred_at: o.ordered_at.toISOString(),
            payload: { order_id: o.order_id },
          })),
        ),
      );
      const dayRefunds = refunds.filter(
        (r) => r.refunded_at.getTime() >= day && r.refunded_at.getTime() < day + DAY,
      );
      if (dayRefunds.length)
        await db.transaction((tx) =>
          loyalty.handleOrderEvents(
            { ...ctx, tx },
            dayRefunds.map((r) => ({
              type: 'order.refunded',
              occurred_at: r.refunded_at.toISOString(),
              payload: { refund_id: r.refund_id, order_id: r.order_id },
            })),
          ),
        );
      for (const o of todays) {
        if (!members.has(o.customer) || rnd() >= 0.5) continue;
        const m = await loyalty.getMember(ctx, { customer: o.customer });
        if (m.available < 500) continue;
        const points = Math.min(5000, Math.floor(m.available / 100) * 100);
        await loyalty.redeem(ctx, {
          customer: o.customer,
          points,
          idempotencyKey: `sim-${o.external_id}`,
          order: o.external_id,
        });
        redemptions++;
      }
    }
    clock.set(new Date(day + DAY + 3 * 3_600_000)); // the nightly sweep, 03:00 UTC
    await loyalty.sweep(ctx);
    if (day <= dataEnd && day + DAY > dataEnd) snaps.push(await snapshot('at the data end (2011-12-09)'));
  }
  snaps.push(await snapshot('a year later (2012-12-10)'));

  const one = async (sql) => Number((await db.query(sql))[0].n);
  const bad =
    (await one(
      `SELECT COUNT(*) AS n FROM loyalty_members m WHERE m.available <> COALESCE((SELECT SUM(available_delta) FROM loyalty_entries e WHERE e.customer_id = m.customer_id), 0)`,
    )) +
    (await one(
      `SELECT COUNT(*) AS n FROM loyalty_grants g WHERE g.remaining <> g.points - COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a WHERE a.grant_id = g.grant_id), 0)`,
    )) +
    (await one(`SELECT COUNT(*) AS n FROM loyalty_members WHERE available < 0`));
  console.log(
    `\n${orders.length} orders of ${new Set(orders.map((o) => o.customer)).size} customers replayed over ${Math.round((simEnd - first) / DAY)} simulated days in ${fmt((performance.now() - started) / 1000, 0)} s; ${members.size} joined, ${redemptions} redemptions`,
  );
  for (const { label, r } of snaps) {
    console.log(`\n${label}:`);
    console.log(
      JSON.stringify(
        { liability: r.liability?.totals ?? r.liability, redemption: r.redemption, members: r.members },
        null,
        1,
      ),
    );
    const f = r.flows?.totals ?? null;
    if (f) console.log('flows', JSON.stringify(f));
    const mv = r.membersVsNonMembers;
    if (mv)
      console.log(
        'members vs non-members:',
        JSON.stringify(
          { counts: mv.counts, raw: mv.raw, matched: mv.matched, verdict: r.verdict ?? mv.verdict },
          null,
          1,
        ),
      );
  }
  console.log(`\nledger invariants: ${bad === 0 ? 'hold' : `${bad} violations`}`);
  await db.close();
  if (bad) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
