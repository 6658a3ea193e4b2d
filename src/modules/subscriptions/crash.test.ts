import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT as root } from '../../../test/support/bundle.js';
import { testContext } from '../../../test/support/context.js';
import { bundleChildScript, crashStore } from '../../../test/support/crash.js';
import { testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import { mulberry32 } from '../../shared/random.js';
import { upsertCustomer } from '../customers/service.js';
import { saveTemplate, setPolicy } from '../messaging/service.js';
import { upsertProduct } from '../products/service.js';
import { updateStore } from '../settings/service.js';
import { createSubscription, savePlan } from './service.js';

/**
 * Issue 28: "kill -9 of the worker at random points: exactly the expected orders, no missed and no
 * double ones". A child process runs the renewals over two years of a stepped test clock (every 24
 * hours), printing each instant it has finished; it is SIGKILLed at random moments (mostly inside a
 * renewal's transaction: that is where its time goes) and restarted from the last instant it finished.
 * On PostgreSQL two such workers run at once over the same store. The orders are then checked against
 * lists computed here independently of the schedule code.
 */
const CHILD = `
import { openStore } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { actOnSubscription, listPayments, recordPayment, renewSubscriptions } from ${JSON.stringify(join(root, 'src/modules/subscriptions/service.ts'))};
import { ManualClock } from ${JSON.stringify(join(root, 'src/kit/clock.ts'))};
import { testContext } from ${JSON.stringify(join(root, 'test/support/context.ts'))};
const [engine, target, schema, from, to, step] = process.argv.slice(2);
const db = await openStore(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const clock = new ManualClock(from);
const ctx = testContext(db, clock);
// The customers' side, replayable: actions at given instants (applied unless the history has them at
// that instant), and each due payment attempt answered — failed for the scripted cycles, else paid (a
// result posted again is a replay).
const script = JSON.parse(process.env.SUB_SCRIPT ?? '{"actions":[],"fail":[]}');
async function drive(t) {
  for (const a of script.actions.filter((x) => x.at === t)) {
    const done = await db.query("SELECT 1 AS one FROM subscription_events WHERE subscription_id = $1 AND changed_by = 'script' AND happened_at = $2::timestamp", [Number(a.id), new Date(t)]);
    if (done.length === 0) await actOnSubscription(ctx, { id: a.id, body: a.body, by: 'script' });
  }
  for (;;) {
    const page = await listPayments(ctx, { query: { status: 'due', limit: '500' } });
    for (const p of page.data) {
      const fail = script.fail.some((f) => f.id === p.subscription && f.cycle === p.cycle);
      await recordPayment(ctx, { body: { key: p.key, result: fail ? 'failed' : 'succeeded', ...(fail ? { reason: 'card declined' } : {}) }, by: 'payments' });
    }
    if (page.data.length < 500) break;
  }
}
process.stdout.write('ready\\n');
let orders = 0;
for (let t = Date.parse(from); t <= Date.parse(to); t += Number(step)) {
  clock.set(new Date(t));
  await drive(t);
  orders += (await renewSubscriptions(ctx)).orders;
  process.stdout.write('at ' + new Date(t).toISOString() + ' ' + orders + '\\n');
}
process.stdout.write('done\\n');
await db.close();
process.exit(0);
`;

const STEP = 24 * 3_600_000;
/** What the child's customers and payment system do: actions at instants, cycles whose payments fail. */
interface DriverScript {
  actions: { at: number; id: string; body: unknown }[];
  fail: { id: string; cycle: number }[];
}
const NOBODY: DriverScript = { actions: [], fail: [] };
const FROM = '2027-01-15T00:00:00Z';
const TO = '2029-01-20T00:00:00Z';
/** Deliveries on local dates up to this one are due before TO in every zone used (09:00 local). */
const LAST_DATE = '2029-01-19';

/** Runs the worker from `from`; SIGKILL after `killMs` (unless done first). The last instant it finished. */
function runWorker(script: string, args: string[], from: string, killMs: number | null, drive: DriverScript) {
  return new Promise<{ killed: boolean; last: string | null; done: boolean }>((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args, from, TO, String(STEP)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SUB_SCRIPT: JSON.stringify(drive) },
    });
    let last: string | null = null;
    let done = false;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready' && killMs !== null) timer = setTimeout(() => child.kill('SIGKILL'), killMs);
      if (line.startsWith('at ')) last = line.split(' ')[1]!;
      if (line === 'done') done = true;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ killed: true, last, done });
      else if (code === 0) resolve({ killed: false, last, done });
      else reject(new Error(`renewal worker exited ${code}: ${stderr}`));
    });
  });
}

/** A worker killed `kills` times at random moments, restarted each time from the last instant it finished. */
async function workUntilDone(
  script: string,
  args: string[],
  rand: () => number,
  kills: number,
  drive: DriverScript = NOBODY,
) {
  let from = FROM;
  let killed = 0;
  for (;;) {
    const r = await runWorker(
      script,
      args,
      from,
      killed < kills ? 300 + Math.floor(rand() * 1500) : null,
      drive,
    );
    if (r.killed) killed++;
    if (r.done) return killed;
    if (r.last) from = r.last;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local dates of a monthly schedule from `first` (the day clamped to each month), up to LAST_DATE. */
function monthly(first: string): string[] {
  const [y0, m0, day] = first.split('-').map(Number) as [number, number, number];
  const out: string[] = [];
  for (let k = 0; ; k++) {
    const y = y0 + Math.floor((m0 - 1 + k) / 12);
    const m = ((m0 - 1 + k) % 12) + 1;
    const d = `${y}-${pad(m)}-${pad(Math.min(day, new Date(Date.UTC(y, m, 0)).getUTCDate()))}`;
    if (d > LAST_DATE) return out;
    out.push(d);
  }
}

/** Local dates every `days` days from `first`, up to LAST_DATE. */
function everyDays(first: string, days: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); ; t += days * 86_400_000) {
    const d = new Date(t).toISOString().slice(0, 10);
    if (d > LAST_DATE) return out;
    out.push(d);
  }
}

const localStamp = (at: Date, zone: string) => {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
};

describe.each(testEngines())('recurring orders under kill -9 on %s', (engine) => {
  const store = crashStore(engine, 'sub-crash');
  let script: string;
  const expected = new Map<string, { zone: string; dates: string[] }>();
  const N = 12;

  beforeAll(async () => {
    script = await bundleChildScript(CHILD, 'sub-crash-child');
    const db = await store.open();
    try {
      const ctx = testContext(db, new ManualClock('2027-01-10T00:00:00Z'));
      await updateStore(ctx, { currency: 'EUR', timeZone: 'Europe/Kyiv' });
      await setPolicy(ctx, { publicUrl: 'https://shop.test', quietHours: null });
      await saveTemplate(ctx, {
        by: 'test',
        body: {
          name: 'soon',
          channel: 'email',
          kind: 'transactional',
          variants: [
            {
              locale: 'en',
              subject: 'Delivery on {{ subscription.delivery_date }}',
              body: '<mjml><mj-body><mj-section><mj-column><mj-text>{{ subscription.title }}</mj-text></mj-column></mj-section></mj-body></mjml>',
            },
          ],
        },
      });
      await upsertProduct(ctx, { sku: 'BEANS', body: { title: 'Beans', price: '12.00', currency: 'EUR' } });
      for (const [name, interval] of [
        ['monthly', { every: 1, unit: 'month' }],
        ['fortnightly', { every: 2, unit: 'week' }],
        ['ten-days', { every: 10, unit: 'day' }],
      ] as const)
        await savePlan(ctx, {
          body: {
            name,
            title: name,
            interval,
            reminderDays: 2,
            reminderTemplate: 'soon',
            discountPercent: 5,
          },
        });
      const zones = ['Europe/Kyiv', 'America/New_York', null] as const;
      for (let i = 0; i < N; i++) {
        const zone = zones[i % 3];
        await upsertCustomer(ctx, {
          body: {
            customer_id: `c${i}`,
            email: `c${i}@example.com`,
            email_consent: 'granted',
            ...(zone ? { time_zone: zone } : {}),
          },
        });
        const kind = (['monthly', 'fortnightly', 'ten-days'] as const)[Math.floor(i / 3) % 3]!;
        const first = kind === 'monthly' ? `2027-01-${28 + (i % 4)}` : `2027-01-${20 + (i % 7)}`;
        const s = await createSubscription(ctx, {
          body: { customer: `c${i}`, plan: kind, sku: 'BEANS', firstDelivery: first },
          by: 'test',
        });
        expected.set(s.id, {
          zone: zone ?? 'Europe/Kyiv',
          dates: kind === 'monthly' ? monthly(first) : everyDays(first, kind === 'fortnightly' ? 14 : 10),
        });
      }
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(async () => store.dispose());

  it('makes every expected order exactly once, whatever the kills', async () => {
    const rand = mulberry32(engine === 'postgres' ? 2801 : 2802);
    // PostgreSQL: two workers at once, each killed three times; DuckDB (one process per file): one,
    // killed four times.
    const workers = engine === 'postgres' ? 2 : 1;
    const kills = await Promise.all(
      Array.from({ length: workers }, () =>
        workUntilDone(script, store.args, rand, engine === 'postgres' ? 3 : 4),
      ),
    );
    const db = await store.open();
    try {
      const orders = await db.query<{ external_id: string; ordered_at: Date; sub: string; status: string }>(
        `SELECT o.external_id, o.ordered_at, CAST(so.subscription_id AS TEXT) AS sub, o.status
         FROM orders o JOIN subscription_orders so ON so.order_external_id = o.external_id
         ORDER BY o.ordered_at, o.external_id`,
      );
      const [counts] = await db.query<{ orders: number; keys: number; events: number }>(
        `SELECT (SELECT CAST(COUNT(*) AS INTEGER) FROM orders) AS orders,
                (SELECT CAST(COUNT(*) AS INTEGER) FROM subscription_orders) AS keys,
                (SELECT CAST(COUNT(*) AS INTEGER) FROM subscription_events WHERE type = 'order') AS events`,
      );
      const want = [...expected.values()].reduce((s, e) => s + e.dates.length, 0);
      // Every order is a cycle's, once; the ledger, the orders and the history agree.
      expect(counts).toEqual({ orders: want, keys: want, events: want });
      for (const [id, e] of expected) {
        const got = orders.filter((o) => o.sub === id).map((o) => localStamp(o.ordered_at, e.zone));
        expect(got, `subscription ${id}`).toEqual(e.dates.map((d) => `${d} 09:00`));
      }
      // Each subscription's next cycle follows its last order; reminders once per key.
      const next = await db.query<{ id: string; next_cycle: number }>(
        `SELECT CAST(subscription_id AS TEXT) AS id, next_cycle FROM subscriptions`,
      );
      for (const n of next) expect(n.next_cycle, n.id).toBe(expected.get(n.id)!.dates.length + 1);
      const [sends] = await db.query<{ n: number; keys: number }>(
        `SELECT CAST(COUNT(*) AS INTEGER) AS n, CAST(COUNT(DISTINCT send_key) AS INTEGER) AS keys FROM message_sends`,
      );
      expect(sends!.n).toBe(sends!.keys);
      expect(sends!.n).toBeGreaterThanOrEqual(want);
      // Every attempt was answered paid by whichever worker came first: no order failed, none paid twice.
      expect(orders.filter((o) => o.status !== 'paid' && o.status !== 'pending')).toEqual([]);
      const [attempts] = await db.query<{ n: number }>(
        `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscription_payments WHERE attempt > 1`,
      );
      expect(attempts!.n).toBe(0);
      console.log(
        `[subscriptions crash] ${engine}: ${workers} worker(s), ${kills.reduce((a, b) => a + b, 0)} kills, ${want} orders expected and made, ${sends!.n} reminders`,
      );
    } finally {
      await db.close();
    }
  }, 600_000);

  it('with skips, pauses and failed payments (dunning to skip and to cancel): exactly the expected orders', async () => {
    const scripted = crashStore(engine, 'sub-crash-script');
    try {
      const db = await scripted.open();
      const want = new Map<string, { zone: string; dates: string[]; failed: string[] }>();
      const drive: DriverScript = { actions: [], fail: [] };
      try {
        const ctx = testContext(db, new ManualClock('2027-01-10T00:00:00Z'));
        await updateStore(ctx, { currency: 'EUR', timeZone: 'Europe/Kyiv' });
        await upsertProduct(ctx, { sku: 'BEANS', body: { title: 'Beans', price: '12.00', currency: 'EUR' } });
        for (const [name, interval, finalAction] of [
          ['monthly', { every: 1, unit: 'month' }, 'cancel'],
          ['fortnightly-skip', { every: 2, unit: 'week' }, 'skip'],
          ['ten-days-cancel', { every: 10, unit: 'day' }, 'cancel'],
        ] as const)
          await savePlan(ctx, {
            body: { name, title: name, interval, reminderDays: 0, dunning: { finalAction } },
          });
        const sub = async (customer: string, zone: string, plan: string, first: string) => {
          await upsertCustomer(ctx, {
            body: { customer_id: customer, email: `${customer}@example.com`, time_zone: zone },
          });
          return (
            await createSubscription(ctx, {
              body: { customer, plan, sku: 'BEANS', firstDelivery: first },
              by: 'test',
            })
          ).id;
        };
        const at = (day: string) => Date.parse(`${day}T00:00:00Z`);
        // A: monthly from Jan 31 (Kyiv); on Jun 10 the customer skips the next delivery (Jun 30).
        const a = await sub('a', 'Europe/Kyiv', 'monthly', '2027-01-31');
        drive.actions.push({ at: at('2027-06-10'), id: a, body: { action: 'skip' } });
        want.set(a, {
          zone: 'Europe/Kyiv',
          dates: monthly('2027-01-31').filter((d) => d !== '2027-06-30'),
          failed: [],
        });
        // B: monthly from Jan 28 (New York); paused on Sep 1 until Nov 15: no Sep 28 nor Oct 28, then the 15th.
        const b = await sub('b', 'America/New_York', 'monthly', '2027-01-28');
        drive.actions.push({ at: at('2027-09-01'), id: b, body: { action: 'pause', until: '2027-11-15' } });
        want.set(b, {
          zone: 'America/New_York',
          dates: [...monthly('2027-01-28').filter((d) => d < '2027-09-01'), ...monthly('2027-11-15')],
          failed: [],
        });
        // C: fortnightly from Jan 20 (Kyiv); every attempt of the 5th order fails: dunning ends in a skip —
        // that order failed, the schedule untouched.
        const c = await sub('c', 'Europe/Kyiv', 'fortnightly-skip', '2027-01-20');
        drive.fail.push({ id: c, cycle: 5 });
        const cDates = everyDays('2027-01-20', 14);
        want.set(c, { zone: 'Europe/Kyiv', dates: cDates, failed: [cDates[4]!] });
        // D: every ten days from Jan 20 (Kyiv); every attempt of the 3rd order (Feb 9) fails. On this daily
        // clock its order is made on Feb 10 at 00:00 UTC, attempt 1 answered Feb 11, the retries due Feb 12,
        // 15, 18 and 21: cancelled on Feb 21 — after the 4th order (Feb 19, made Feb 20), before the 5th.
        const d = await sub('d', 'Europe/Kyiv', 'ten-days-cancel', '2027-01-20');
        drive.fail.push({ id: d, cycle: 3 });
        want.set(d, {
          zone: 'Europe/Kyiv',
          dates: ['2027-01-20', '2027-01-30', '2027-02-09', '2027-02-19'],
          failed: ['2027-02-09'],
        });
      } finally {
        await db.close();
      }
      const kills = await workUntilDone(
        script,
        scripted.args,
        mulberry32(engine === 'postgres' ? 2803 : 2804),
        3,
        drive,
      );
      const check = await scripted.open();
      try {
        const orders = await check.query<{ ordered_at: Date; sub: string; status: string }>(
          `SELECT o.ordered_at, CAST(so.subscription_id AS TEXT) AS sub, o.status
           FROM orders o JOIN subscription_orders so ON so.order_external_id = o.external_id
           ORDER BY o.ordered_at, o.external_id`,
        );
        const [counts] = await check.query<{ orders: number; keys: number; events: number }>(
          `SELECT (SELECT CAST(COUNT(*) AS INTEGER) FROM orders) AS orders,
                  (SELECT CAST(COUNT(*) AS INTEGER) FROM subscription_orders) AS keys,
                  (SELECT CAST(COUNT(*) AS INTEGER) FROM subscription_events WHERE type = 'order') AS events`,
        );
        const total = [...want.values()].reduce((n, e) => n + e.dates.length, 0);
        expect(counts).toEqual({ orders: total, keys: total, events: total });
        for (const [id, e] of want) {
          const mine = orders.filter((o) => o.sub === id);
          expect(
            mine.map((o) => localStamp(o.ordered_at, e.zone)),
            `subscription ${id}`,
          ).toEqual(e.dates.map((x) => `${x} 09:00`));
          expect(
            mine
              .filter((o) => o.status === 'failed')
              .map((o) => localStamp(o.ordered_at, e.zone).slice(0, 10)),
            `failed orders of ${id}`,
          ).toEqual(e.failed);
        }
        const states = await check.query<{ id: string; status: string; cancel_reason: string | null }>(
          `SELECT CAST(subscription_id AS TEXT) AS id, status, cancel_reason FROM subscriptions ORDER BY subscription_id`,
        );
        expect(states.map((x) => [x.status, x.cancel_reason])).toEqual([
          ['active', null],
          ['active', null],
          ['active', null],
          ['cancelled', 'payment_failed'],
        ]);
        // Each scripted action once; each failed cycle's five attempts once.
        const [acts] = await check.query<{ n: number }>(
          `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscription_events WHERE changed_by = 'script'`,
        );
        expect(acts!.n).toBe(2);
        const failedAttempts = await check.query<{ n: number }>(
          `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscription_payments WHERE status = 'failed'`,
        );
        expect(failedAttempts[0]!.n).toBe(10);
        console.log(
          `[subscriptions crash] ${engine}: scripted, ${kills} kills, ${total} orders expected and made (2 failed by dunning), 2 actions, 10 failed attempts`,
        );
      } finally {
        await check.close();
      }
    } finally {
      await scripted.dispose();
    }
  }, 600_000);
});
