import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { saveTemplate, setPolicy } from '../messaging/service.js';
import { upsertProduct } from '../products/service.js';
import { updateStore } from '../settings/service.js';
import {
  actOnSubscription,
  createSubscription,
  getSubscription,
  listSubscriptions,
  renewSubscriptions,
  savePlan,
} from './service.js';

const reminder = {
  name: 'sub-reminder',
  channel: 'email',
  kind: 'transactional',
  variants: [
    {
      locale: 'en',
      subject: 'Your delivery on {{ subscription.delivery_date }}',
      body: `<mjml><mj-body><mj-section><mj-column><mj-text>{{ subscription.quantity }} × {{ subscription.title }} on {{ subscription.delivery_date }}</mj-text></mj-column></mj-section></mj-body></mjml>`,
    },
  ],
};

/** The local date and time of an instant in a zone: `YYYY-MM-DD HH:MM`. */
const local = (at: Date, zone: string) => {
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

/** The oracle of a monthly schedule from day `day`: the day clamped to each month's length. */
function monthEnds(from: [number, number], count: number, day: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const y = from[0] + Math.floor((from[1] - 1 + k) / 12);
    const m = ((from[1] - 1 + k) % 12) + 1;
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    out.push(`${y}-${String(m).padStart(2, '0')}-${String(Math.min(day, last)).padStart(2, '0')}`);
  }
  return out;
}

/**
 * Issue 28, the schedule over two years on a test clock: a monthly subscription from Jan 31 (month
 * ends, a leap February), a fortnightly one in New York across DST changes, one that skips, pauses and
 * resumes, one that swaps, changes quantity, is cancelled and reactivated — exactly the expected orders,
 * none missed, none twice, each at 09:00 local; reminders once per cycle; bad input refused by field.
 */
describe.each(testEngines())('subscriptions over two years on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2027-01-10T08:00:00Z');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db, clock);
    await updateStore(ctx, { currency: 'USD', timeZone: 'Europe/Kyiv' });
    await setPolicy(ctx, { publicUrl: 'https://shop.test/r', frequencyCap: null, quietHours: null });
    await saveTemplate(ctx, { body: reminder, by: null });
    for (const [sku, title, price] of [
      ['COFFEE', 'House coffee 1 kg', '15.00'],
      ['TEA', 'Green tea', '10.00'],
      ['FILTER', 'Paper filters', '5.00'],
    ] as const)
      await upsertProduct(ctx, { sku, body: { title, price, currency: 'USD' } });
    for (const [id, zone] of [
      ['ann', 'Europe/Kyiv'],
      ['bob', 'America/New_York'],
      ['cat', null],
      ['dan', 'Europe/Kyiv'],
    ] as const)
      await upsertCustomer(ctx, {
        body: {
          customer_id: id,
          email: `${id}@example.com`,
          email_consent: 'granted',
          ...(zone ? { time_zone: zone } : {}),
        },
      });
    await savePlan(ctx, {
      body: {
        name: 'monthly',
        title: 'Monthly coffee',
        interval: { every: 1, unit: 'month' },
        discountPercent: 10,
        products: ['COFFEE', 'TEA'],
        reminderDays: 3,
        reminderTemplate: 'sub-reminder',
      },
    });
    await savePlan(ctx, {
      body: {
        name: 'fortnightly',
        title: 'Filters every two weeks',
        interval: { every: 2, unit: 'week' },
        reminderDays: 0,
      },
    });
  }, 60_000);
  afterAll(async () => dispose?.());

  it('refuses bad input by field, writing nothing', async () => {
    const bad: [unknown, string][] = [
      [{ name: 'x', title: 'X', interval: { every: 0, unit: 'day' }, reminderDays: 0 }, 'interval.every'],
      [{ name: 'x', title: 'X', interval: { every: 1, unit: 'year' }, reminderDays: 0 }, 'interval.unit'],
      [
        { name: 'x', title: 'X', interval: { every: 1, unit: 'day' }, products: ['NOPE'], reminderDays: 0 },
        'products[0]',
      ],
      [{ name: 'x', title: 'X', interval: { every: 1, unit: 'day' } }, 'reminderTemplate'],
    ];
    for (const [body, field] of bad) {
      const err = await savePlan(ctx, { body }).catch((e: unknown) => e);
      expect(err, field).toMatchObject({ code: 'validation' });
      expect(JSON.stringify(err), field).toContain(field);
    }
    const sub = (over: Record<string, unknown>) =>
      createSubscription(ctx, {
        body: { customer: 'ann', plan: 'monthly', sku: 'COFFEE', ...over },
        by: 'test',
      }).catch((e: unknown) => e);
    expect(await sub({ sku: 'FILTER' })).toMatchObject({
      code: 'validation',
      message: expect.stringContaining("does not sell 'FILTER'"),
    });
    expect(await sub({ sku: 'GHOST' })).toMatchObject({
      code: 'validation',
      message: "no product with sku 'GHOST'",
    });
    expect(await sub({ firstDelivery: '2027-01-09' })).toMatchObject({
      code: 'validation',
      message: expect.stringContaining('in the past'),
    });
    expect(await sub({ customer: 'nobody' })).toMatchObject({ code: 'validation' });
    expect(await sub({ quantity: 0 })).toMatchObject({ code: 'validation' });
    const [n] = await db.query<{ n: number }>(`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscriptions`);
    expect(n!.n).toBe(0);
  });

  it('makes exactly the expected orders over two years: month ends, DST, skips, pauses, swaps, cancel and reactivation', async () => {
    const create = async (key: string, body: Record<string, unknown>) => {
      ids[key] = (await createSubscription(ctx, { body, by: 'test' })).id;
    };
    await create('ann', { customer: 'ann', plan: 'monthly', sku: 'COFFEE', firstDelivery: '2027-01-31' });
    await create('bob', {
      customer: 'bob',
      plan: 'fortnightly',
      sku: 'FILTER',
      quantity: 2,
      firstDelivery: '2027-02-27',
    });
    await create('cat', { customer: 'cat', plan: 'monthly', sku: 'TEA', firstDelivery: '2027-01-15' });
    await create('dan', { customer: 'dan', plan: 'monthly', sku: 'COFFEE', firstDelivery: '2027-02-01' });
    const ann = await getSubscription(ctx, { id: ids.ann! });
    expect(ann).toMatchObject({
      unitPriceMinor: 1350,
      oneOffPriceMinor: 1500,
      mrrMinor: 1350,
      timeZone: 'Europe/Kyiv',
    });
    expect(ann.upcoming.map((u) => u.localDate).slice(0, 3)).toEqual([
      '2027-01-31',
      '2027-02-28',
      '2027-03-31',
    ]);
    expect((await getSubscription(ctx, { id: ids.bob! })).mrrMinor).toBe(Math.round((1000 * 52) / 12 / 2));

    // Actions on given local dates (each done at 12:00 UTC that day).
    const actions: [string, string, Record<string, unknown>][] = [
      ['2027-03-01', 'cat', { action: 'skip' }], // cat's 2027-03-15 is not delivered
      ['2027-05-20', 'cat', { action: 'pause', until: '2027-08-10' }], // no June, no July
      ['2027-04-02', 'dan', { action: 'swap', sku: 'TEA' }],
      ['2027-04-03', 'dan', { action: 'quantity', quantity: 3 }],
      ['2027-06-05', 'dan', { action: 'cancel', reason: 'too_much_product', note: 'still have plenty' }],
      ['2027-09-12', 'dan', { action: 'reactivate', date: '2027-09-20' }],
      ['2028-01-05', 'bob', { action: 'reschedule', date: '2028-01-12' }], // Jan 15 → Jan 12
    ];
    const end = Date.parse('2029-01-10T00:00:00Z');
    let renewCalls = 0;
    while (clock.now().getTime() < end) {
      clock.advance(6 * 3_600_000);
      const day = clock.now().toISOString().slice(0, 10);
      if (clock.now().getUTCHours() === 14)
        for (const [, who, body] of actions.filter((a) => a[0] === day))
          await actOnSubscription(ctx, { id: ids[who]!, body, by: 'test' });
      await renewSubscriptions(ctx);
      renewCalls++;
    }
    expect(renewCalls).toBeGreaterThan(2900);

    const orders = await db.query<{
      external_id: string;
      ordered_at: Date;
      customer: string;
      sku: string;
      qty: number;
      total: number;
    }>(
      `SELECT o.external_id, o.ordered_at, c.external_id AS customer, l.sku, l.quantity AS qty, o.total_minor AS total
       FROM orders o JOIN customers c ON c.customer_id = o.customer_id JOIN order_lines l ON l.order_id = o.order_id
       ORDER BY o.ordered_at, o.external_id`,
    );
    expect(new Set(orders.map((o) => o.external_id)).size).toBe(orders.length);
    const zoneOf: Record<string, string> = {
      ann: 'Europe/Kyiv',
      bob: 'America/New_York',
      cat: 'Europe/Kyiv',
      dan: 'Europe/Kyiv',
    };
    const dates = (who: string) =>
      orders.filter((o) => o.customer === who).map((o) => local(o.ordered_at, zoneOf[who]!));
    // Every order at 09:00 on the customer's clock, winter and summer.
    for (const who of Object.keys(zoneOf))
      for (const d of dates(who)) expect(d.endsWith(' 09:00'), `${who} ${d}`).toBe(true);

    // Ann: Jan 31 2027 → Dec 31 2028, month ends (Feb 28 2027, Feb 29 2028), 24 orders.
    expect(dates('ann').map((d) => d.slice(0, 10))).toEqual(monthEnds([2027, 1], 24, 31));
    // Bob: every two weeks from Feb 27 2027 (across the Mar 14 and Nov 7 changes in New York); the
    // delivery due Jan 15 2028 moved to Jan 12, the fortnights follow from it.
    const fortnights: string[] = [];
    for (let t = Date.UTC(2027, 1, 27); t < Date.UTC(2028, 0, 12); t += 14 * 86_400_000)
      fortnights.push(new Date(t).toISOString().slice(0, 10));
    for (let t = Date.UTC(2028, 0, 12); t <= Date.UTC(2029, 0, 9); t += 14 * 86_400_000)
      fortnights.push(new Date(t).toISOString().slice(0, 10));
    expect(dates('bob').map((d) => d.slice(0, 10))).toEqual(fortnights);
    expect(
      orders.filter((o) => o.customer === 'bob').every((o) => o.qty === 2 && Number(o.total) === 1000),
    ).toBe(true);
    // Cat: the 15th, minus the skipped March; paused from May 20 until Aug 10 (June and July not
    // delivered), resumed on Aug 10, then monthly from Aug 10.
    const cat = ['2027-01-15', '2027-02-15', '2027-04-15', '2027-05-15', ...monthEnds([2027, 8], 17, 10)];
    expect(dates('cat').map((d) => d.slice(0, 10))).toEqual(cat);
    // Dan: Feb 1, Mar 1, Apr 1 coffee ×1; May 1 tea ×3 (swap and quantity from the next delivery);
    // cancelled Jun 5 (no June…Aug); reactivated with the first delivery on Sep 20, then the 20th.
    const dan = orders.filter((o) => o.customer === 'dan');
    expect(dan.map((o) => local(o.ordered_at, 'Europe/Kyiv').slice(0, 10))).toEqual([
      '2027-02-01',
      '2027-03-01',
      '2027-04-01',
      '2027-05-01',
      '2027-06-01',
      ...monthEnds([2027, 9], 16, 20),
    ]);
    expect(dan.slice(0, 3).every((o) => o.sku === 'COFFEE' && o.qty === 1 && Number(o.total) === 1350)).toBe(
      true,
    );
    expect(dan.slice(3).every((o) => o.sku === 'TEA' && o.qty === 3 && Number(o.total) === 2700)).toBe(true);

    // The orders are the subscription's ledger: each cycle once, the keys the orders'.
    const [keys] = await db.query<{ n: number; cycles: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n, CAST(COUNT(DISTINCT CAST(subscription_id AS TEXT) || ':' || CAST(cycle AS TEXT)) AS INTEGER) AS cycles
       FROM subscription_orders`,
    );
    expect(keys).toEqual({ n: orders.length, cycles: orders.length });
    // Reminders: one per delivery of the monthly plan, 3 days ahead — not for cat's skipped March
    // (skipped before its reminder was due), nor for the delivery made the moment cat's pause ended
    // (its reminder day had passed while paused); and one more, cat's delivery of 2029-01-10, reminded
    // on Jan 7 and due after the test ends.
    const [reminders] = await db.query<{ n: number; keys: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n, CAST(COUNT(DISTINCT send_key) AS INTEGER) AS keys FROM message_sends`,
    );
    expect(reminders!.n).toBe(reminders!.keys);
    // Each reminder carries the customer's own page of the subscription (a signed link).
    const [v] = await db.query<{ variables: string }>(`SELECT variables FROM message_sends LIMIT 1`);
    expect(JSON.parse(v!.variables).subscription.manage_url).toMatch(
      /^https:\/\/shop\.test\/r\/m\/[0-9a-z]+\./,
    );
    const monthlyOrders = orders.filter((o) => o.customer !== 'bob').length;
    expect(reminders!.n).toBe(monthlyOrders - 1 + 1);

    const catDetail = await getSubscription(ctx, { id: ids.cat! });
    expect(catDetail.history.map((h) => h.type).filter((t) => t !== 'order' && t !== 'reminded')).toEqual([
      'created',
      'skipped',
      'paused',
      'resumed',
    ]);
    const danDetail = await getSubscription(ctx, { id: ids.dan! });
    expect(danDetail.history.find((h) => h.type === 'cancelled')!.detail).toEqual({
      reason: 'too_much_product',
      note: 'still have plenty',
    });
    const page = await listSubscriptions(ctx, { query: { status: 'active', limit: '2' } });
    expect(page.data.length).toBe(2);
    expect(page.nextCursor).not.toBeNull();
  }, 600_000);

  it('refuses actions that do not fit, naming what', async () => {
    const act = (who: string, body: Record<string, unknown>) =>
      actOnSubscription(ctx, { id: ids[who]!, body, by: 'test' }).catch((e: unknown) => e);
    expect(await act('ann', { action: 'pause', until: '2020-01-01' })).toMatchObject({
      code: 'validation',
      message: expect.stringContaining('in the past'),
    });
    expect(await act('ann', { action: 'swap', sku: 'GHOST' })).toMatchObject({
      code: 'validation',
      message: "no product with sku 'GHOST'",
    });
    expect(await act('ann', { action: 'swap', sku: 'FILTER' })).toMatchObject({ code: 'validation' });
    expect(await act('ann', { action: 'resume' })).toMatchObject({ code: 'conflict' });
    expect(await act('ann', { action: 'fly' })).toMatchObject({ code: 'validation' });
    expect(await act('ann', { action: 'reschedule', date: '2029-02-30' })).toMatchObject({
      code: 'validation',
    });
  });
});
