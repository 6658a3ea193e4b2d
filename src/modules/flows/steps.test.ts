import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { enrol, getMember, setProgram } from '../loyalty/service.js';
import { saveTemplate, setPolicy } from '../messaging/service.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { updateStore } from '../settings/service.js';
import { createUser } from '../users/service.js';
import { ordersSubscriber } from '../loyalty/jobs.js';
import { flowsSubscriber } from './jobs.js';
import { flowReport } from './report.js';
import { advanceFlows, moveFlow, saveFlow } from './service.js';

const template = {
  name: 'vip-code',
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'en',
      subject: 'For you',
      body: `<mjml><mj-body><mj-section><mj-column><mj-text>{{ discount_code }} — {{ offer.value_text }} until {{ offer.expires_on }}; tier {{ flow.event.to }}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`,
    },
  ],
};

/**
 * Issue 26, the steps that act beyond messages — a tag, loyalty points, a staff task, a send with a code
 * generated for the run — on a trigger filtered by the event's payload (`tier.changed` going up), each
 * once per run however often the runner runs; the report counts the orders that used the flow's codes.
 */
describe.each(testEngines())('flow steps on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2026-05-04T06:00:00Z');
  let dispatcher: Dispatcher;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber, flowsSubscriber] });
    await dispatcher.register();
    await updateStore(ctx, { currency: 'EUR', timeZone: 'Europe/Kyiv' });
    await setPolicy(ctx, { publicUrl: 'https://shop.test/r', frequencyCap: null, quietHours: null });
    await saveTemplate(ctx, { body: template, by: null });
    await createUser(ctx, { email: 'anna@shop.test', role: 'agent', password: 'correct horse battery' });
    await setProgram(ctx, {
      currency: 'EUR',
      enrollment: 'opt-in',
      expiryDays: 60,
      tiers: { basis: 'spend', levels: [{ name: 'Silver', threshold: 5000 }] },
    });
    for (const id of ['up', 'down', 'guest'])
      await upsertCustomer(ctx, {
        body: { customer_id: id, email: `${id}@example.test`, email_consent: 'yes' },
      });
    await enrol(ctx, { customer: 'up' });
    await enrol(ctx, { customer: 'down' });
  }, 60_000);
  afterAll(() => dispose());

  it('tags, grants points, creates a task and sends a code once per run; orders with the code count', async () => {
    await expect(
      saveFlow(ctx, {
        body: {
          name: 'bad',
          trigger: { event: 'tier.changed', where: { colour: 'up' } },
          steps: [{ id: 'x', exit: {} }],
        },
        by: null,
      }),
    ).rejects.toThrow(/tier.changed has no field 'colour'/);
    await expect(
      saveFlow(ctx, {
        body: {
          name: 'bad',
          trigger: { event: 'tier.changed' },
          steps: [{ id: 't', task: { title: 'Call', assignee: 'nobody@shop.test' } }],
        },
        by: null,
      }),
    ).rejects.toThrow(/no user 'nobody@shop.test'/);
    await saveFlow(ctx, {
      body: {
        name: 'vip',
        trigger: { event: 'tier.changed', where: { direction: 'up' } },
        reentry: { kind: 'always' },
        steps: [
          { id: 'tag', tag: { add: ['vip'], remove: ['lapsed'] } },
          { id: 'thanks', points: { points: 50, reason: 'tier up', expiryDays: 30 } },
          { id: 'call', task: { title: 'Welcome call', assignee: 'anna@shop.test', dueInHours: 24 } },
          {
            id: 'code',
            send: {
              template: 'vip-code',
              offer: { kind: 'amount', value: 500, prefix: 'VIP-', validDays: 10 },
            },
          },
        ],
      },
      by: null,
    });
    await moveFlow(ctx, { name: 'vip', action: 'activate' });
    await db.exec(
      `INSERT INTO customer_tags (customer_id, tag, created_at) SELECT customer_id, 'lapsed', $1::timestamp FROM customers WHERE external_id = 'up'`,
      [clock.now()],
    );
    // A Silver order for `up` (tier up); `down` is moved down by hand (a `tier.changed` down: no entry).
    await upsertOrder(ctx, {
      body: {
        order_id: 'o1',
        customer_id: 'up',
        ordered_at: clock.now().toISOString(),
        currency: 'EUR',
        lines: [{ sku: 'MUG', quantity: 1, unit_price: '60.00' }],
      },
    });
    const { recordEvents } = await import('../outbox/service.js');
    await db.transaction(async (tx) => {
      const [d] = await tx.query<{ customer_id: number }>(
        `SELECT customer_id FROM customers WHERE external_id = 'down'`,
      );
      await recordEvents(
        tx,
        db.dialect,
        [
          {
            type: 'tier.changed',
            customerId: d!.customer_id,
            occurredAt: clock.now(),
            payload: { external_id: 'down', from: 'Silver', to: null, direction: 'down', basis_value: 0 },
          },
        ],
        clock.now(),
      );
    });
    clock.advance(60_000);
    await dispatcher.drain(); // loyalty: the order's tier.changed (up)
    await dispatcher.drain(); // flows: enters `up` only
    // Out of time before the first run: nothing taken, and it says runs are still due.
    expect(await advanceFlows(ctx, { budgetMs: 0 })).toMatchObject({ runs: 0, more: true });
    const first = await advanceFlows(ctx, { budgetMs: 10_000 });
    const again = await advanceFlows(ctx);
    expect(first).toMatchObject({ runs: 1, sent: 1, completed: 1, more: false });
    expect(again).toMatchObject({ runs: 0, sent: 0, more: false });

    const runs = await db.query<{ customer: string; status: string }>(
      `SELECT c.external_id AS customer, r.status FROM flow_runs r JOIN customers c ON c.customer_id = r.customer_id`,
    );
    expect(runs).toEqual([{ customer: 'up', status: 'completed' }]);
    const tags = await db.query<{ tag: string }>(
      `SELECT t.tag FROM customer_tags t JOIN customers c ON c.customer_id = t.customer_id WHERE c.external_id = 'up' ORDER BY t.tag`,
    );
    expect(tags.map((t) => t.tag)).toEqual(['vip']);
    const member = await getMember(ctx, { customer: 'up' });
    const grants = await db.query<{ points: number; grant_key: string; reason: string }>(
      `SELECT points, grant_key, reason FROM loyalty_grants WHERE grant_key LIKE 'flow:%'`,
    );
    expect(grants).toHaveLength(1);
    expect(Number(grants[0]!.points)).toBe(50);
    expect(grants[0]!.reason).toBe('tier up');
    expect(JSON.stringify(member)).toContain('"available"');
    const tasks = await db.query<{ title: string; assignee: string; due_at: Date; source: string }>(
      `SELECT title, assignee, due_at, source FROM tasks`,
    );
    expect(tasks).toEqual([
      {
        title: 'Welcome call',
        assignee: 'anna@shop.test',
        due_at: new Date('2026-05-05T06:01:00Z'),
        source: 'flow:vip',
      },
    ]);
    const codes = await db.query<{ code: string; kind: string; value: number; expires_at: Date }>(
      `SELECT code, kind, value, expires_at FROM flow_codes`,
    );
    expect(codes).toHaveLength(1);
    expect(codes[0]!.code).toMatch(/^VIP-[A-Z2-9]{5}-[A-Z2-9]{5}$/);
    expect(codes[0]!.expires_at).toEqual(new Date('2026-05-14T06:01:00Z'));
    const [send] = await db.query<{ variables: string }>(
      `SELECT variables FROM message_sends WHERE source = 'flow:vip'`,
    );
    const vars = JSON.parse(send!.variables) as {
      discount_code: string;
      offer: { value_text: string };
      flow: { event: unknown };
    };
    expect(vars.discount_code).toBe(codes[0]!.code);
    expect(vars.offer).toMatchObject({ kind: 'amount', value: 500, expires_on: '2026-05-14' });
    expect(vars.offer.value_text).toMatch(/5[.,]00/);
    expect(vars.flow.event).toMatchObject({ type: 'tier.changed', to: 'Silver', direction: 'up' });

    // An order (by anyone) using the code counts in the report.
    await upsertOrder(ctx, {
      body: {
        order_id: 'o2',
        customer_id: 'guest',
        ordered_at: clock.now().toISOString(),
        currency: 'EUR',
        discount_codes: [codes[0]!.code.toLowerCase()],
        lines: [{ sku: 'MUG', quantity: 2, unit_price: '30.00' }],
      },
    });
    clock.advance(60_000);
    const report = await flowReport(ctx, { name: 'vip' });
    expect(report.codes).toEqual({ issued: 1, orders: 1, revenueMinor: 6000 });
    expect(report.entered).toEqual({ treated: 1, holdout: 0 });
  }, 60_000);
});
