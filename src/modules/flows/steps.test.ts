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
import { archiveSurvey, inviteToSurvey, saveSurvey } from '../surveys/service.js';
import { flowsSubscriber } from './jobs.js';
import { flowReport } from './report.js';
import { RETRY_MS } from './runner.js';
import { advanceFlows, getFlow, moveFlow, saveFlow } from './service.js';

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
 * Issue 27, the survey step: an invitation with the order it asks about, counted in the flow's report; a
 * customer the survey's throttle holds back; an unknown survey refused at save; an archived one makes
 * the run wait (not lost, not retried at once) until the survey is saved again.
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
  it('a survey step invites with the order it asks about, once per run; the throttle, an unknown survey and an archived one', async () => {
    // The first test's last order is delivered before this flow is active (it enters nobody here).
    await dispatcher.drain();
    await dispatcher.drain();
    await saveSurvey(ctx, { body: { name: 'quick', kind: 'nps', throttleDays: 30 }, by: null });
    const ask = {
      name: 'ask',
      trigger: { event: 'order.placed' },
      reentry: { kind: 'always' },
      steps: [{ id: 'ask', survey: { name: 'quick' } }],
    };
    // Refused, writing nothing: an unknown survey (named by its step), a name that is not a survey's.
    await expect(
      saveFlow(ctx, {
        body: {
          ...ask,
          steps: [
            { id: 'later', wait: { minutes: 5 } },
            { id: 'ask', survey: { name: 'nope' } },
          ],
        },
        by: null,
      }),
    ).rejects.toMatchObject({
      code: 'validation',
      message: "no survey named 'nope'",
      where: { field: 'steps.1.survey.name' },
    });
    await expect(
      saveFlow(ctx, { body: { ...ask, steps: [{ id: 'ask', survey: { name: 'Not a name' } }] }, by: null }),
    ).rejects.toMatchObject({ code: 'validation', where: { field: 'steps.0.survey.name' } });
    await expect(getFlow(ctx, { name: 'ask' })).rejects.toMatchObject({ code: 'not_found' });

    await saveFlow(ctx, { body: ask, by: null });
    await moveFlow(ctx, { name: 'ask', action: 'activate' });
    for (const id of ['sv-new', 'sv-seen', 'sv-late'])
      await upsertCustomer(ctx, {
        body: { customer_id: id, email: `${id}@example.test`, email_consent: 'yes' },
      });
    // sv-seen was just asked by hand: the survey's throttle (30 days) holds them back from the flow's.
    expect(
      await inviteToSurvey(ctx, { name: 'quick', body: { customers: ['sv-seen'], occurrence: 'manual' } }),
    ).toMatchObject({ invited: 1 });
    clock.advance(60_000);
    const order = (id: string, who: string) =>
      upsertOrder(ctx, {
        body: {
          order_id: id,
          customer_id: who,
          ordered_at: clock.now().toISOString(),
          currency: 'EUR',
          lines: [{ sku: 'MUG', quantity: 1, unit_price: '10.00' }],
        },
      });
    await order('sv-o1', 'sv-new');
    await order('sv-o2', 'sv-seen');
    clock.advance(60_000);
    await dispatcher.drain();
    await dispatcher.drain();
    expect(await advanceFlows(ctx)).toMatchObject({ runs: 2, sent: 1, completed: 2, postponed: 0 });
    expect(await advanceFlows(ctx)).toMatchObject({ runs: 0, sent: 0 });

    const steps = () =>
      db.query<{ customer: string; step: string; outcome: string }>(
        `SELECT c.external_id AS customer, s.step, s.outcome FROM flow_steps s
         JOIN flow_runs r ON r.run_id = s.run_id JOIN flows f ON f.flow_id = r.flow_id
         JOIN customers c ON c.customer_id = s.customer_id WHERE f.name = 'ask' ORDER BY c.external_id`,
      );
    expect(await steps()).toEqual([
      { customer: 'sv-new', step: 'ask', outcome: 'invited' },
      { customer: 'sv-seen', step: 'ask', outcome: 'throttled' },
    ]);
    // The invitation names the order by its internal id; the flow is where it came from.
    const invitations = () =>
      db.query<{ customer: string; occurrence: string; source: string; order: string | null; run: number }>(
        `SELECT c.external_id AS customer, i.occurrence, i.source, o.external_id AS "order",
           (SELECT r.run_id FROM flow_runs r WHERE r.customer_id = i.customer_id ORDER BY r.run_id DESC LIMIT 1) AS run
         FROM survey_invitations i JOIN customers c ON c.customer_id = i.customer_id
         LEFT JOIN orders o ON o.order_id = i.order_id
         WHERE c.external_id LIKE 'sv-%' ORDER BY i.invited_at, c.external_id`,
      );
    const [seen, fresh] = await invitations();
    expect(seen).toMatchObject({
      customer: 'sv-seen',
      occurrence: 'manual',
      source: 'survey:quick',
      order: null,
    });
    expect(fresh).toMatchObject({
      customer: 'sv-new',
      occurrence: `run-${fresh!.run}:ask`,
      source: 'flow:ask',
      order: 'sv-o1',
    });
    // Its message is the flow's: the report counts it (the step `invite`).
    const sends = await db.query<{ step: string; template: string }>(
      `SELECT step, template FROM message_sends WHERE source = 'flow:ask'`,
    );
    expect(sends).toEqual([{ step: 'invite', template: 'survey-quick' }]);
    expect((await flowReport(ctx, { name: 'ask' })).messages).toEqual([
      { step: 'invite', status: 'queued', n: 1 },
    ]);

    // Archived after the flow was saved: the run waits at the step, the reason on it, due in an hour.
    await archiveSurvey(ctx, { name: 'quick' });
    await order('sv-o3', 'sv-late');
    clock.advance(60_000);
    await dispatcher.drain();
    await dispatcher.drain();
    const waitingSince = clock.now();
    expect(await advanceFlows(ctx)).toMatchObject({ runs: 1, sent: 0, completed: 0, postponed: 1 });
    const late = () =>
      db.query<{ status: string; step: string | null; next_at: Date | null; reason: string | null }>(
        `SELECT r.status, r.step, r.next_at, r.reason FROM flow_runs r
         JOIN customers c ON c.customer_id = r.customer_id WHERE c.external_id = 'sv-late'`,
      );
    expect(await late()).toEqual([
      {
        status: 'active',
        step: 'ask',
        next_at: new Date(waitingSince.getTime() + RETRY_MS),
        reason: "waiting at ask: survey 'quick' is archived: save it again to invite",
      },
    ]);
    expect((await steps()).filter((x) => x.customer === 'sv-late')).toEqual([]);
    // Not retried at once; saved again, the next try an hour on invites.
    expect(await advanceFlows(ctx)).toMatchObject({ runs: 0, postponed: 0 });
    await saveSurvey(ctx, { body: { name: 'quick', kind: 'nps', throttleDays: 30 }, by: null });
    clock.advance(RETRY_MS);
    expect(await advanceFlows(ctx)).toMatchObject({ runs: 1, sent: 1, completed: 1, postponed: 0 });
    expect(await late()).toEqual([{ status: 'completed', step: null, next_at: null, reason: null }]);
    expect((await steps()).filter((x) => x.customer === 'sv-late')).toEqual([
      { customer: 'sv-late', step: 'ask', outcome: 'invited' },
    ]);
  }, 60_000);
});
