import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { saveTemplate, setPolicy } from '../messaging/service.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { flowsSubscriber } from './jobs.js';
import { flowReport } from './report.js';
import { advanceFlows, getFlow, moveFlow, saveFlow, simulateFlow } from './service.js';

const template = (name: string) => ({
  name,
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'en',
      subject: name,
      body: `<mjml><mj-body><mj-section><mj-column><mj-text>${name}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`,
    },
  ],
});

const welcome = {
  name: 'welcome',
  trigger: { event: 'customer.created' },
  goal: { event: 'order.placed' },
  reentry: { kind: 'once' },
  steps: [
    { id: 'hello', send: { template: 'welcome-1' } },
    { id: 'day', wait: { days: 1 } },
    { id: 'ten', waitUntil: { localTime: '10:00' } },
    {
      id: 'consented',
      branch: {
        if: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
        then: 'tips',
        else: 'exit',
      },
    },
    { id: 'tips', send: { template: 'welcome-2' } },
    { id: 'later', wait: { days: 2 } },
    { id: 'last', send: { template: 'welcome-3' } },
  ],
};

/**
 * Issue 26, the runtime on a test clock: a welcome series entered on customer.created — a send at once,
 * a day's wait, 10:00 in the customer's zone, a branch on consent, two more sends — leaving on an order
 * (the goal), also when the order is recorded but not yet delivered to the flows (the re-check before a
 * send); each step once under two runners at once; a new version for new entries while runs in flight
 * finish on theirs.
 */
describe.each(testEngines())('flows runtime on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2026-05-04T06:00:00Z');
  let dispatcher: Dispatcher;

  const customer = async (id: string, zone: string | null, consent: 'yes' | 'no') => {
    await upsertCustomer(ctx, {
      body: { customer_id: id, email: `${id}@example.test`, email_consent: consent },
    });
    if (zone) await db.exec(`UPDATE customers SET time_zone = $1 WHERE external_id = $2`, [zone, id]);
  };
  const order = (id: string, who: string) =>
    upsertOrder(ctx, {
      body: {
        order_id: id,
        customer_id: who,
        ordered_at: clock.now().toISOString(),
        currency: 'EUR',
        lines: [{ sku: 'MUG', quantity: 1, unit_price: '9.00' }],
      },
    });
  const sends = async () =>
    db.query<{ customer: string; step: string; not_before: Date }>(
      `SELECT c.external_id AS customer, s.step, s.not_before FROM message_sends s
       JOIN customers c ON c.customer_id = s.customer_id WHERE s.source = 'flow:welcome' ORDER BY s.created_at, c.external_id`,
    );
  const runs = async () =>
    db.query<{
      customer: string;
      status: string;
      step: string | null;
      next_at: Date | null;
      version: number;
    }>(
      `SELECT c.external_id AS customer, r.status, r.step, r.next_at, r.version FROM flow_runs r
       JOIN customers c ON c.customer_id = r.customer_id ORDER BY c.external_id`,
    );
  const at = async (iso: string) => {
    clock.set(new Date(iso));
    await dispatcher.drain();
    return advanceFlows(ctx);
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [flowsSubscriber] });
    await dispatcher.register();
    await setPolicy(ctx, { publicUrl: 'https://shop.test/r', frequencyCap: null, quietHours: null });
    for (const n of ['welcome-1', 'welcome-2', 'welcome-3', 'welcome-2b'])
      await saveTemplate(ctx, { body: template(n), by: null });
  }, 60_000);
  afterAll(() => dispose());

  it('refuses a bad flow naming the path, writing nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...welcome, steps: [{ id: 'a', send: { template: 'nope' } }] }, /no template named 'nope'/],
      [
        {
          ...welcome,
          steps: [
            { id: 'a', wait: { days: 1 } },
            { id: 'b', branch: { if: {}, then: 'a', else: 'exit' } },
          ],
        },
        /a jump goes forward: a is not after b/,
      ],
      [{ ...welcome, steps: [{ id: 'a', wait: {} }] }, /at least a minute/],
      [{ ...welcome, trigger: { event: 'order.shipped' } }, /trigger\.event/],
      [
        {
          ...welcome,
          steps: [
            { id: 'a', send: { template: 'welcome-1' } },
            { id: 'a', exit: {} },
          ],
        },
        /named twice/,
      ],
      [
        {
          ...welcome,
          steps: [
            { id: 'b', branch: { if: { field: 'colour', op: 'eq', value: 1 }, then: 'exit', else: 'exit' } },
          ],
        },
        /colour/,
      ],
    ];
    for (const [body, message] of cases)
      await expect(saveFlow(ctx, { body, by: null })).rejects.toThrow(message);
    expect(await db.query(`SELECT 1 FROM flows`)).toEqual([]);
  });

  it('runs the welcome series at the right local times and stops at the goal', async () => {
    const saved = await saveFlow(ctx, { body: welcome, by: 'test' });
    expect(saved).toMatchObject({ status: 'draft', version: 1 });
    // A draft enters nobody.
    await customer('early', 'Europe/Kyiv', 'yes');
    await at('2026-05-04T06:00:00Z');
    expect(await runs()).toEqual([]);
    await moveFlow(ctx, { name: 'welcome', action: 'activate' });
    await customer('ann', 'Europe/Kyiv', 'yes'); // 10:00 Kyiv = 07:00Z (summer)
    await customer('bob', 'America/New_York', 'yes'); // 10:00 New York = 14:00Z
    await customer('cat', 'Europe/Kyiv', 'no'); // the branch sends her away after the first message
    await customer('dan', 'Europe/Kyiv', 'yes'); // orders: the goal
    const first = await at('2026-05-04T06:00:00Z');
    expect(first.sent).toBe(4);
    expect((await sends()).map((s) => `${s.customer}:${s.step}`)).toEqual([
      'ann:v1:hello',
      'bob:v1:hello',
      'cat:v1:hello',
      'dan:v1:hello',
    ]);
    // The day's wait ends 06:00Z on the 5th; then each waits for 10:00 in their own zone.
    expect((await runs()).find((r) => r.customer === 'ann')).toMatchObject({
      status: 'active',
      step: 'ten',
      next_at: new Date('2026-05-05T06:00:00Z'),
    });
    await order('o-dan', 'dan');
    await at('2026-05-04T12:00:00Z');
    expect((await runs()).find((r) => r.customer === 'dan')).toMatchObject({ status: 'goal', next_at: null });
    await at('2026-05-05T06:00:00Z');
    expect((await runs()).find((r) => r.customer === 'ann')).toMatchObject({
      step: 'consented',
      next_at: new Date('2026-05-05T07:00:00Z'),
    });
    expect((await runs()).find((r) => r.customer === 'bob')).toMatchObject({
      next_at: new Date('2026-05-05T14:00:00Z'),
    });
    // 07:00Z: Ann (and Cat, who leaves by the branch) — not yet Bob.
    expect((await at('2026-05-05T07:00:00Z')).sent).toBe(1);
    expect((await runs()).find((r) => r.customer === 'cat')).toMatchObject({ status: 'exited', step: null });
    // Bob orders; the order is recorded but the flows have not seen it when his step is due: the
    // re-check before the send stops him.
    clock.set(new Date('2026-05-05T13:00:00Z'));
    await order('o-bob', 'bob');
    clock.set(new Date('2026-05-05T14:00:00Z'));
    await advanceFlows(ctx);
    expect((await runs()).find((r) => r.customer === 'bob')).toMatchObject({ status: 'goal' });
    // Two days later Ann's last message; her run is complete.
    await at('2026-05-07T07:00:00Z');
    expect((await sends()).map((s) => `${s.customer}:${s.step}`)).toEqual([
      'ann:v1:hello',
      'bob:v1:hello',
      'cat:v1:hello',
      'dan:v1:hello',
      'ann:v1:tips',
      'ann:v1:last',
    ]);
    expect((await runs()).find((r) => r.customer === 'ann')).toMatchObject({ status: 'completed' });
    // Nothing after the goal, nothing twice: later runs send nothing.
    expect((await at('2026-05-20T00:00:00Z')).sent).toBe(0);
    expect((await sends()).length).toBe(6);
    expect((await getFlow(ctx, { name: 'welcome' })).runs).toEqual({
      active: 0,
      holdout: 0,
      goal: 2,
      completed: 2,
    });
  });

  it('a new version applies to new entries; runs in flight finish on theirs; two runners take each step once', async () => {
    clock.set(new Date('2026-06-01T06:00:00Z')); // eve is created now (an event a month old enters nobody)
    await customer('eve', 'Europe/Kyiv', 'yes');
    await at('2026-06-01T06:00:00Z');
    const v2 = {
      ...welcome,
      steps: welcome.steps.map((s) =>
        s.id === 'tips' ? { id: 'tips', send: { template: 'welcome-2b' } } : s,
      ),
    };
    expect((await saveFlow(ctx, { body: v2, by: 'test' })).version).toBe(2);
    await customer('fay', 'Europe/Kyiv', 'yes');
    await at('2026-06-01T06:30:00Z');
    clock.set(new Date('2026-06-02T08:00:00Z'));
    await dispatcher.drain();
    // Two runners at once: each step is taken once.
    await Promise.all([advanceFlows(ctx), advanceFlows(ctx)]);
    await Promise.all([advanceFlows(ctx), advanceFlows(ctx)]);
    const got = await db.query<{ customer: string; step: string; template: string }>(
      `SELECT c.external_id AS customer, s.step, s.template FROM message_sends s JOIN customers c ON c.customer_id = s.customer_id
       WHERE c.external_id IN ('eve', 'fay') ORDER BY c.external_id, s.created_at`,
    );
    expect(got).toEqual([
      { customer: 'eve', step: 'v1:hello', template: 'welcome-1' },
      { customer: 'eve', step: 'v1:tips', template: 'welcome-2' },
      { customer: 'fay', step: 'v2:hello', template: 'welcome-1' },
      { customer: 'fay', step: 'v2:tips', template: 'welcome-2b' },
    ]);
    const steps = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM flow_steps s JOIN customers c ON c.customer_id = s.customer_id WHERE c.external_id IN ('eve', 'fay')`,
    );
    // hello, day, ten, consented, tips and the arrival at the last wait: 6 each.
    expect(steps[0]!.n).toBe(12);
    // Pausing stops the runs where they are; activating resumes them.
    await moveFlow(ctx, { name: 'welcome', action: 'pause' });
    expect((await at('2026-06-10T00:00:00Z')).runs).toBe(0);
    await expect(moveFlow(ctx, { name: 'welcome', action: 'pause' })).resolves.toMatchObject({
      status: 'paused',
    });
    await moveFlow(ctx, { name: 'welcome', action: 'activate' });
    expect((await at('2026-06-10T00:00:00Z')).sent).toBe(2);
  });

  it('measures the flow against its holdout: conversions and the incremental revenue per entrant', async () => {
    const thanks = {
      name: 'thanks',
      trigger: { event: 'order.placed' },
      reentry: { kind: 'once' },
      holdoutShare: 0.5,
      steps: [
        { id: 'pause', wait: { hours: 2 } },
        { id: 'note', send: { template: 'welcome-3' } },
      ],
    };
    clock.set(new Date('2026-07-01T08:00:00Z'));
    await saveFlow(ctx, { body: thanks, by: 'test' });
    await moveFlow(ctx, { name: 'thanks', action: 'activate' });
    for (let i = 0; i < 40; i++) {
      await customer(`t${i}`, null, 'yes');
      await order(`first-${i}`, `t${i}`);
    }
    await at('2026-07-01T08:00:00Z');
    await at('2026-07-01T10:00:00Z');
    const entered = await db.query<{ customer: string; holdout: boolean }>(
      `SELECT c.external_id AS customer, r.holdout FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id
       JOIN customers c ON c.customer_id = r.customer_id WHERE f.name = 'thanks' ORDER BY c.external_id`,
    );
    expect(entered).toHaveLength(40);
    const held = entered.filter((r) => r.holdout).length;
    expect(held).toBeGreaterThan(8);
    expect(held).toBeLessThan(32);
    // The treated buy again for 20.00 within the month, the holdout for 10.00 (every other one).
    clock.set(new Date('2026-07-10T08:00:00Z'));
    const revenue = { treated: [] as number[], holdout: [] as number[] };
    for (const [i, r] of entered.entries()) {
      const again = i % 2 === 0 ? (r.holdout ? 1000 : 2000) : 0;
      (r.holdout ? revenue.holdout : revenue.treated).push(again);
      if (again)
        await upsertOrder(ctx, {
          body: {
            order_id: `again-${i}`,
            customer_id: r.customer,
            ordered_at: clock.now().toISOString(),
            currency: 'EUR',
            lines: [{ sku: 'MUG', quantity: 1, unit_price: (again / 100).toFixed(2) }],
          },
        });
    }
    await at('2026-08-05T00:00:00Z');
    const r = await flowReport(ctx, { name: 'thanks', days: 30 });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.entered).toEqual({ treated: 40 - held, holdout: held });
    expect(r.messages).toEqual([{ step: 'v1:note', status: 'queued', n: 40 - held }]);
    expect(r.revenue.perEntrantMinor.treated).toBeCloseTo(mean(revenue.treated), 9);
    expect(r.revenue.perEntrantMinor.holdout).toBeCloseTo(mean(revenue.holdout), 9);
    expect(r.revenue.incremental!.difference.estimate).toBeCloseTo(
      mean(revenue.treated) - mean(revenue.holdout),
      9,
    );
    expect(r.revenue.verdict).toMatch(/^The flow /);
    await expect(flowReport(ctx, { name: 'thanks', days: 0 })).rejects.toThrow(/days must be/);
    // Who would enter: the 60 orders of the 40 buyers in the last 45 days, replayed against re-entry.
    expect(await simulateFlow(ctx, { name: 'thanks', days: 45 })).toMatchObject({
      events: 60,
      customers: 40,
      wouldEnter: 0,
      excluded: { inFlight: 0, reentry: 40 },
    });
    await saveFlow(ctx, { body: { ...thanks, name: 'sim', holdoutShare: 0 }, by: 'test' });
    const sim = await simulateFlow(ctx, { name: 'sim', days: 45 });
    expect(sim).toMatchObject({ events: 60, customers: 40, wouldEnter: 40, holdout: 0 });
    expect(sim.sample).toHaveLength(20);
    await expect(simulateFlow(ctx, { name: 'sim', days: 0 })).rejects.toThrow(/days must be/);
  });
});
