import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { DomainEventType } from '../../kit/events.js';
import type { Database, EngineKind } from '../../storage/port.js';
import { updateConsent, upsertCustomer } from '../customers/service.js';
import { ingestEvents } from '../events/service.js';
import { ProductInput } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import { ordersSubscriber } from '../loyalty/jobs.js';
import { setProgram, sweep } from '../loyalty/service.js';
import { openChannels, parseChannelConfig } from '../messaging/channels/config.js';
import type { Channel, ChannelKind } from '../messaging/channels/port.js';
import { deliverDue, setPolicy } from '../messaging/service.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { customerEventsSince } from '../outbox/repository.js';
import { BUILTIN_FLOWS } from './builtins.js';
import { flowsSubscriber } from './jobs.js';
import { flowReport } from './report.js';
import { advanceFlows, getFlow, installBuiltin, moveFlow, saveFlow } from './service.js';

/**
 * Issue 26: the event-triggered built-in flows, each installed as shipped (`installBuiltin`, a shop
 * address given) and activated, on a test clock — events in through the real paths (customers' consent,
 * orders, site events, loyalty tiers) and the outbox's flows subscriber, the runner taking due runs, the
 * messages out through the messaging ledger (and an SMTP sink where the rendered text matters).
 *
 * Customers live in Europe/Kyiv and America/New_York, with dates chosen across daylight saving changes
 * (2026: the US springs forward 8 March and falls back 1 November, the EU 29 March and 25 October), so
 * that a local time in the wrong offset would show. The built-ins with a 10 % holdout (welcome, abandoned
 * checkout, browse abandonment, post-purchase) are saved again as version 2 with `holdoutShare: 0` —
 * otherwise unchanged — so that every entrant is treated; the others have no holdout.
 *
 * Each test opens a store of its own with all six installed (drafts enter nobody) and activates the
 * flow(s) it is about. Due times are asserted as exact instants: the run's next due time, nothing a
 * minute before it, and the ledger row's not_before at it.
 */

/**
 * Installed in this order in every store. The order matters beyond tidiness: the flows' definition
 * cache (definitions.ts) is keyed by flow id and version only, process-wide, so two stores whose flow 1
 * differs would read each other's definition; installed alike, flow n @ version v is the same everywhere.
 */
const EVENT_FLOWS = [
  'welcome',
  'abandoned-checkout',
  'browse-abandonment',
  'post-purchase',
  'tier-upgrade',
  'survey-after-delivery',
] as const;
/** The built-ins shipped with a 10 % holdout, saved again as version 2 with none. */
const WITH_HOLDOUT = new Set(['welcome', 'abandoned-checkout', 'browse-abandonment', 'post-purchase']);

const iso = (d: Date | null) => d?.toISOString() ?? null;
const minus = (at: string, ms: number) => new Date(Date.parse(at) - ms).toISOString();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Send = {
  customer: string;
  step: string;
  template: string;
  not_before: Date;
  occurrence: string;
  status: string;
  variables: string | null;
};
type Run = {
  customer: string;
  status: string;
  step: string | null;
  next_at: Date | null;
  reason: string | null;
};

describe.each(testEngines())('built-in event flows on %s', (engine: EngineKind) => {
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sink?.close();
  });

  /** A store of its own on a test clock, with the outbox's loyalty and flows subscribers. */
  async function open(start: string) {
    const { db, dispose } = await freshDatabase(engine);
    const clock = new ManualClock(start);
    const ctx: ModuleContext = testContext(db, clock);
    const dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber, flowsSubscriber] });
    await dispatcher.register();
    await setPolicy(ctx, { publicUrl: 'https://retain.shop.test', frequencyCap: null, quietHours: null });
    // The six event built-ins, as shipped, in the same order in every store (see EVENT_FLOWS).
    for (const key of EVENT_FLOWS) {
      const b = BUILTIN_FLOWS.find((x) => x.key === key)!;
      const r = await installBuiltin(ctx, { key, shopUrl: 'https://shop.test', by: 'test' });
      expect(r.flow).toMatchObject({ name: key, status: 'draft', version: 1 });
      expect(r.templates.created).toEqual(b.messages.map((m) => m.name));
      expect(r.surveys).toEqual({ created: (b.surveys ?? []).map((x) => x.name), kept: [] });
      const v1 = (await getFlow(ctx, { name: key })).definition as Record<string, unknown>;
      expect(v1).toMatchObject({ name: key, ...b.definition });
      if (WITH_HOLDOUT.has(key)) {
        expect(v1.holdoutShare).toBe(0.1);
        expect((await saveFlow(ctx, { body: { ...v1, holdoutShare: 0 }, by: 'test' })).version).toBe(2);
        const v2 = (await getFlow(ctx, { name: key })).definition as Record<string, unknown>;
        expect({ ...v2, holdoutShare: 0.1 }).toEqual(v1);
      } else expect(v1.holdoutShare).toBe(0);
    }
    return new Store(db, dispose, clock, ctx, dispatcher);
  }

  class Store {
    private seq = 0;
    constructor(
      readonly db: Database,
      readonly dispose: () => Promise<void>,
      readonly clock: ManualClock,
      readonly ctx: ModuleContext,
      readonly dispatcher: Dispatcher,
    ) {}

    /** Activates the installed built-in `key`; the version new entrants take. */
    async activate(key: string) {
      const f = await moveFlow(this.ctx, { name: key, action: 'activate' });
      expect(f.status).toBe('active');
      return f.version;
    }

    async customer(id: string, zone: string, opts: { consent?: 'yes' | 'no'; locale?: string } = {}) {
      await upsertCustomer(this.ctx, {
        body: {
          customer_id: id,
          email: `${id}@example.test`,
          first_name: id.split('-')[1],
          time_zone: zone,
          locale: opts.locale ?? 'en',
          ...(opts.consent ? { email_consent: opts.consent } : {}),
        },
      });
    }

    async order(id: string, who: string, lines: [string, string][] = [['MUG', '10.00']]) {
      await upsertOrder(this.ctx, {
        body: {
          order_id: id,
          customer_id: who,
          ordered_at: this.clock.now().toISOString(),
          currency: 'EUR',
          lines: lines.map(([sku, price]) => ({ sku, quantity: 1, unit_price: price })),
        },
      });
    }

    /** A site event of the customer now (it becomes `event.tracked` with this event_type). */
    async track(who: string, type: string) {
      const r = await ingestEvents(this.ctx, {
        items: [
          {
            event_id: `${who}:${type}:${++this.seq}`,
            customer_id: who,
            type,
            occurred_at: this.clock.now().toISOString(),
          },
        ],
      });
      expect(r.inserted).toBe(1);
    }

    /** The clock at `at`; events delivered to the subscribers; due runs advanced. */
    async tick(at: string) {
      this.clock.set(new Date(at));
      await this.dispatcher.drain();
      return advanceFlows(this.ctx);
    }

    /** Nothing is sent a minute before `at`, and `sent` messages at `at`. */
    async dueAt(at: string, sent: number) {
      expect((await this.tick(minus(at, 60_000))).sent, `a minute before ${at}`).toBe(0);
      expect((await this.tick(at)).sent, `at ${at}`).toBe(sent);
    }

    sends(flow: string) {
      return this.db.query<Send>(
        `SELECT c.external_id AS customer, s.step, s.template, s.not_before, s.occurrence, s.status, s.variables
         FROM message_sends s JOIN customers c ON c.customer_id = s.customer_id
         WHERE s.source = $1 ORDER BY s.not_before, c.external_id`,
        [`flow:${flow}`],
      );
    }

    /** The ledger as `customer step not_before`, in due order. */
    async ledger(flow: string) {
      return (await this.sends(flow)).map((s) => `${s.customer} ${s.step} ${iso(s.not_before)}`);
    }

    runs(flow: string) {
      return this.db.query<Run>(
        `SELECT c.external_id AS customer, r.status, r.step, r.next_at, r.reason
         FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id JOIN customers c ON c.customer_id = r.customer_id
         WHERE f.name = $1 ORDER BY c.external_id, r.run_id`,
        [flow],
      );
    }

    /** Each run as `customer status next_at`. */
    async states(flow: string) {
      return (await this.runs(flow)).map((r) => `${r.customer} ${r.status} ${iso(r.next_at)}`);
    }

    /** Delivers what is due, to the SMTP sink. */
    async deliver() {
      return deliverDue(this.ctx, { channels, staleMs: 0 });
    }
  }

  /** The messages the sink took for `who` (in arrival order: delivery runs several at once). */
  const mail = (who: string) =>
    sink.messages
      .filter((m) => m.envelope.to.includes(`${who}@example.test`))
      .map((m) => ({
        subject: m.parsed.subject ?? '',
        text: m.parsed.text ?? '',
        html: typeof m.parsed.html === 'string' ? m.parsed.html : '',
      }));

  /** The domain events of one type recorded for a customer (what the flows subscriber is given). */
  const eventsOf = async (s: Store, who: string, type: DomainEventType) => {
    const [row] = await s.db.query<{ customer_id: number }>(
      `SELECT customer_id FROM customers WHERE external_id = $1`,
      [who],
    );
    return customerEventsSince(s.db, {
      customerId: row!.customer_id,
      type,
      since: new Date('2020-01-01T00:00:00Z'),
      limit: 100,
    });
  };

  it('welcome: on consent granted; welcome-1 at once, welcome-2 at 10:00 local after two days, welcome-3 with a code three days later unless they ordered; the order ends it; once', async () => {
    // Thursday 26 March 2026, 06:00Z: 08:00 in Kyiv (UTC+2 until Sunday 29 March), 02:00 in New York (UTC−4).
    const T0 = '2026-03-26T06:00:00Z';
    const s = await open('2026-03-26T05:00:00Z');
    try {
      // Dan ordered an hour before he subscribed: that order is not the goal (it came before he entered).
      await s.customer('w-dan', 'America/New_York');
      await s.order('w-dan-1', 'w-dan');
      await s.tick('2026-03-26T05:00:00Z');
      const version = await s.activate('welcome');
      s.clock.set(new Date(T0));
      await s.customer('w-ann', 'Europe/Kyiv', { consent: 'yes', locale: 'uk' });
      await s.customer('w-cat', 'Europe/Kyiv', { consent: 'yes' });
      await s.customer('w-dan', 'America/New_York', { consent: 'yes' });
      // Bob is created without consent (no entry: the trigger is consent to email granted), then grants it.
      await s.customer('w-bob', 'America/New_York', { consent: 'no' });
      await s.dispatcher.drain();
      expect((await s.runs('welcome')).map((r) => r.customer)).toEqual(['w-ann', 'w-cat', 'w-dan']);
      await updateConsent(s.ctx, { id: 'w-bob', channel: 'email', body: { status: 'granted' } });
      expect((await s.tick(T0)).sent).toBe(4);
      const v = `v${version}`;
      expect(await s.ledger('welcome')).toEqual([
        `w-ann ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-bob ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-cat ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-dan ${v}:hello 2026-03-26T06:00:00.000Z`,
      ]);
      // Each now waits two days (to 06:00Z on Saturday 28 March).
      expect(await s.states('welcome')).toEqual([
        'w-ann active 2026-03-28T06:00:00.000Z',
        'w-bob active 2026-03-28T06:00:00.000Z',
        'w-cat active 2026-03-28T06:00:00.000Z',
        'w-dan active 2026-03-28T06:00:00.000Z',
      ]);
      // Cat orders on Friday: the goal ends her run at once.
      s.clock.set(new Date('2026-03-27T06:00:00Z'));
      await s.order('w-cat-1', 'w-cat');
      await s.tick('2026-03-27T06:00:00Z');
      // After the two days each waits for 10:00 in their own zone: Kyiv still UTC+2, New York UTC−4.
      expect((await s.tick('2026-03-28T06:00:00Z')).sent).toBe(0);
      expect(await s.states('welcome')).toEqual([
        'w-ann active 2026-03-28T08:00:00.000Z',
        'w-bob active 2026-03-28T14:00:00.000Z',
        'w-cat goal null',
        'w-dan active 2026-03-28T14:00:00.000Z',
      ]);
      await s.dueAt('2026-03-28T08:00:00Z', 1);
      await s.dueAt('2026-03-28T14:00:00Z', 2);
      // Three days later at 10:00 local: Kyiv is UTC+3 from Sunday 29 March (07:00Z), New York 14:00Z.
      await s.dueAt('2026-03-31T07:00:00Z', 1);
      await s.dueAt('2026-03-31T14:00:00Z', 1);
      expect(await s.ledger('welcome')).toEqual([
        `w-ann ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-bob ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-cat ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-dan ${v}:hello 2026-03-26T06:00:00.000Z`,
        `w-ann ${v}:picks 2026-03-28T08:00:00.000Z`,
        `w-bob ${v}:picks 2026-03-28T14:00:00.000Z`,
        `w-dan ${v}:picks 2026-03-28T14:00:00.000Z`,
        `w-ann ${v}:first-order 2026-03-31T07:00:00.000Z`,
        `w-bob ${v}:first-order 2026-03-31T14:00:00.000Z`,
      ]);
      // Dan, who had ordered, is sent away by the branch before the code.
      const runs = await s.runs('welcome');
      expect(runs.map((r) => [r.customer, r.status, r.step, r.next_at])).toEqual([
        ['w-ann', 'completed', null, null],
        ['w-bob', 'completed', null, null],
        ['w-cat', 'goal', 'morning', null], // where she was when the order came
        ['w-dan', 'exited', null, null],
      ]);
      expect(runs.find((r) => r.customer === 'w-cat')?.reason).toMatch(/^order\.placed #\d+$/);
      expect(runs.find((r) => r.customer === 'w-dan')?.reason).toBe('branch no-order-yet');
      // welcome-3's code: generated for the run, in the ledger's variables, valid 14 days.
      const codes = await s.db.query<{ customer: string; code: string; expires_at: Date; run_id: number }>(
        `SELECT c.external_id AS customer, k.code, k.expires_at, k.run_id FROM flow_codes k
         JOIN customers c ON c.customer_id = k.customer_id ORDER BY c.external_id`,
      );
      expect(codes.map((c) => [c.customer, iso(c.expires_at)])).toEqual([
        ['w-ann', '2026-04-14T07:00:00.000Z'],
        ['w-bob', '2026-04-14T14:00:00.000Z'],
      ]);
      for (const c of codes) expect(c.code).toMatch(/^HELLO-[A-Z0-9]{5}-[A-Z0-9]{5}$/);
      expect(codes[0]!.code).not.toBe(codes[1]!.code);
      const third = (await s.sends('welcome')).filter((x) => x.template === 'welcome-3');
      expect(
        third.map((x) => [x.customer, (JSON.parse(x.variables!) as { discount_code: string }).discount_code]),
      ).toEqual(codes.map((c) => [c.customer, c.code]));
      expect(third.map((x) => x.occurrence)).toEqual(codes.map((c) => `run-${c.run_id}`));
      // Delivered: the code in the message, in each one's language.
      expect(await s.deliver()).toMatchObject({ sent: 9, rejected: 0 });
      const ann = mail('w-ann');
      expect(ann.map((m) => m.subject).sort()).toEqual([
        'Вітаємо',
        'Подарунок до першого замовлення',
        'Улюблене наших покупців',
      ]);
      expect(ann.find((m) => m.subject === 'Подарунок до першого замовлення')!.text).toContain(
        `Ваш код: ${codes[0]!.code} — знижка 10% до 2026-04-14`,
      );
      const bob = mail('w-bob');
      expect(bob.find((m) => m.subject === 'A gift for your first order')!.text).toContain(
        `Your code: ${codes[1]!.code} — 10% off until 2026-04-14`,
      );
      expect(mail('w-cat').map((m) => m.subject)).toEqual(['Welcome']);
      expect(
        mail('w-dan')
          .map((m) => m.subject)
          .sort(),
      ).toEqual(['Our customers’ favourites', 'Welcome']);
      // Once: consent withdrawn and granted again (the trigger recorded anew) enters nobody; nothing more
      // is ever sent.
      s.clock.set(new Date('2026-04-10T12:00:00Z'));
      for (const who of ['w-ann', 'w-cat']) {
        await updateConsent(s.ctx, { id: who, channel: 'email', body: { status: 'unsubscribed' } });
        await updateConsent(s.ctx, { id: who, channel: 'email', body: { status: 'granted' } });
        const granted = (await eventsOf(s, who, 'consent.changed')).filter(
          (e) => e.type === 'consent.changed' && e.payload.channel === 'email' && e.payload.to === 'granted',
        );
        expect(granted).toHaveLength(2);
      }
      expect((await s.tick('2026-04-10T12:00:00Z')).runs).toBe(0);
      expect((await s.tick('2026-05-30T00:00:00Z')).sent).toBe(0);
      expect((await s.runs('welcome')).length).toBe(4);
      expect((await s.sends('welcome')).length).toBe(9);
    } finally {
      await s.dispose();
    }
  });
  it('abandoned checkout: checkout_started → 1 h, 24 h, 72 h with a code; an order at 30 h ends it; again only after 7 days', async () => {
    // Tuesday 20 October 2026, 12:00Z; the waits are in hours, the same instants in every zone.
    const T0 = '2026-10-20T12:00:00Z';
    const s = await open(T0);
    try {
      const version = await s.activate('abandoned-checkout');
      const v = `v${version}`;
      await s.customer('a-ann', 'Europe/Kyiv', { consent: 'yes' }); // no order: all three
      await s.customer('a-bob', 'America/New_York', { consent: 'yes' }); // orders at 30 h: two
      await s.customer('a-cat', 'Europe/Kyiv', { consent: 'yes' }); // orders at 30 min: none
      await s.customer('a-dan', 'America/New_York', { consent: 'yes' }); // no order: all three
      for (const who of ['a-ann', 'a-bob', 'a-cat', 'a-dan']) await s.track(who, 'checkout_started');
      // A page view or a cart is not the trigger.
      await s.track('a-ann', 'view');
      await s.track('a-ann', 'add_to_cart');
      expect((await s.tick(T0)).sent).toBe(0);
      expect(await s.states('abandoned-checkout')).toEqual([
        'a-ann active 2026-10-20T13:00:00.000Z',
        'a-bob active 2026-10-20T13:00:00.000Z',
        'a-cat active 2026-10-20T13:00:00.000Z',
        'a-dan active 2026-10-20T13:00:00.000Z',
      ]);
      s.clock.set(new Date('2026-10-20T12:30:00Z'));
      await s.order('a-cat-1', 'a-cat');
      await s.tick('2026-10-20T12:30:00Z');
      await s.dueAt('2026-10-20T13:00:00Z', 3);
      // Bob starts another checkout while in the flow: never twice at once.
      s.clock.set(new Date('2026-10-20T17:00:00Z'));
      await s.track('a-bob', 'checkout_started');
      await s.tick('2026-10-20T17:00:00Z');
      expect((await s.runs('abandoned-checkout')).length).toBe(4);
      await s.dueAt('2026-10-21T12:00:00Z', 3);
      // Bob orders at 30 h: his run ends by the goal; the 72-hour message goes to Ann and Dan only.
      s.clock.set(new Date('2026-10-21T18:00:00Z'));
      await s.order('a-bob-1', 'a-bob');
      await s.tick('2026-10-21T18:00:00Z');
      await s.dueAt('2026-10-23T12:00:00Z', 2);
      expect(await s.ledger('abandoned-checkout')).toEqual([
        `a-ann ${v}:first 2026-10-20T13:00:00.000Z`,
        `a-bob ${v}:first 2026-10-20T13:00:00.000Z`,
        `a-dan ${v}:first 2026-10-20T13:00:00.000Z`,
        `a-ann ${v}:second 2026-10-21T12:00:00.000Z`,
        `a-bob ${v}:second 2026-10-21T12:00:00.000Z`,
        `a-dan ${v}:second 2026-10-21T12:00:00.000Z`,
        `a-ann ${v}:third 2026-10-23T12:00:00.000Z`,
        `a-dan ${v}:third 2026-10-23T12:00:00.000Z`,
      ]);
      const runs = await s.runs('abandoned-checkout');
      expect(runs.map((r) => [r.customer, r.status, r.next_at])).toEqual([
        ['a-ann', 'completed', null],
        ['a-bob', 'goal', null],
        ['a-cat', 'goal', null],
        ['a-dan', 'completed', null],
      ]);
      for (const r of runs.filter((x) => x.status === 'goal'))
        expect(r.reason).toMatch(/^order\.placed #\d+$/);
      // The third message's code: 10 % for 3 days, in the ledger's variables and in the message.
      const third = (await s.sends('abandoned-checkout')).filter(
        (x) => x.template === 'abandoned-checkout-3',
      );
      const offers = third.map(
        (x) =>
          JSON.parse(x.variables!) as {
            discount_code: string;
            offer: { value_text: string; expires_at: string };
          },
      );
      for (const o of offers) {
        expect(o.discount_code).toMatch(/^CART-[A-Z0-9]{5}-[A-Z0-9]{5}$/);
        expect(o.offer).toMatchObject({ value_text: '10%', expires_at: '2026-10-26T12:00:00.000Z' });
      }
      expect(await s.deliver()).toMatchObject({ sent: 8, rejected: 0 });
      expect(mail('a-ann').find((m) => m.subject === 'A code to finish your order')!.text).toContain(
        `Your code: ${offers[0]!.discount_code} — 10% off until 2026-10-26`,
      );
      expect(mail('a-cat')).toEqual([]);
      expect(
        mail('a-bob')
          .map((m) => m.subject)
          .sort(),
      ).toEqual(['Still thinking?', 'You left something behind']);
      // Again within 7 days of entering: nobody. Ann at 6 days, Bob at 6 days 23:59.
      s.clock.set(new Date('2026-10-26T12:00:00Z'));
      await s.track('a-ann', 'checkout_started');
      await s.tick('2026-10-26T12:00:00Z');
      s.clock.set(new Date('2026-10-27T11:59:00Z'));
      await s.track('a-bob', 'checkout_started');
      await s.tick('2026-10-27T11:59:00Z');
      expect((await s.runs('abandoned-checkout')).length).toBe(4);
      // Seven days on, Ann enters again: a new run, its own messages and a new code.
      s.clock.set(new Date('2026-10-27T12:00:00Z'));
      await s.track('a-ann', 'checkout_started');
      await s.tick('2026-10-27T12:00:00Z');
      await s.dueAt('2026-10-27T13:00:00Z', 1);
      await s.dueAt('2026-10-28T12:00:00Z', 1);
      await s.dueAt('2026-10-30T12:00:00Z', 1);
      const ann = (await s.sends('abandoned-checkout')).filter((x) => x.customer === 'a-ann');
      expect(ann.map((x) => `${x.step} ${iso(x.not_before)}`)).toEqual([
        `${v}:first 2026-10-20T13:00:00.000Z`,
        `${v}:second 2026-10-21T12:00:00.000Z`,
        `${v}:third 2026-10-23T12:00:00.000Z`,
        `${v}:first 2026-10-27T13:00:00.000Z`,
        `${v}:second 2026-10-28T12:00:00.000Z`,
        `${v}:third 2026-10-30T12:00:00.000Z`,
      ]);
      expect(new Set(ann.map((x) => x.occurrence)).size).toBe(2);
      const codes = ann
        .filter((x) => x.template === 'abandoned-checkout-3')
        .map((x) => JSON.parse(x.variables!).discount_code as string);
      expect(codes[0]).not.toBe(codes[1]);
      expect((await s.tick('2026-11-30T00:00:00Z')).sent).toBe(0);
      expect((await s.sends('abandoned-checkout')).length).toBe(11);
    } finally {
      await s.dispose();
    }
  });

  it('browse abandonment: a view, then a cart within 2 h exits without a message (the wait woken); no cart: one message at 2 h; again after 14 days', async () => {
    // Monday 2 November 2026, 15:00Z (New York back on UTC−5 since Sunday; the wait is in hours).
    const T0 = '2026-11-02T15:00:00Z';
    const s = await open(T0);
    try {
      const version = await s.activate('browse-abandonment');
      const v = `v${version}`;
      await s.customer('b-ann', 'Europe/Kyiv', { consent: 'yes' }); // adds to the cart at 30 min
      await s.customer('b-bob', 'America/New_York', { consent: 'yes' }); // no cart
      await s.customer('b-cat', 'Europe/Kyiv', { consent: 'yes' }); // adds to the cart too late
      for (const who of ['b-ann', 'b-bob', 'b-cat']) await s.track(who, 'view');
      await s.tick(T0);
      expect(await s.states('browse-abandonment')).toEqual([
        'b-ann active 2026-11-02T17:00:00.000Z',
        'b-bob active 2026-11-02T17:00:00.000Z',
        'b-cat active 2026-11-02T17:00:00.000Z',
      ]);
      // More views while waiting: nobody enters twice.
      s.clock.set(new Date('2026-11-02T15:10:00Z'));
      await s.track('b-bob', 'view');
      await s.track('b-ann', 'view');
      await s.tick('2026-11-02T15:10:00Z');
      expect((await s.runs('browse-abandonment')).length).toBe(3);
      // Ann's cart wakes her wait: due at once, then out by the exit step — no message.
      s.clock.set(new Date('2026-11-02T15:30:00Z'));
      await s.track('b-ann', 'add_to_cart');
      await s.dispatcher.drain();
      expect((await s.runs('browse-abandonment')).find((r) => r.customer === 'b-ann')).toMatchObject({
        status: 'active',
        step: 'cart-within',
        next_at: new Date('2026-11-02T15:30:00Z'),
      });
      expect(await advanceFlows(s.ctx)).toMatchObject({ runs: 1, sent: 0, completed: 1 });
      expect((await s.runs('browse-abandonment')).find((r) => r.customer === 'b-ann')).toMatchObject({
        status: 'exited',
        step: null,
        next_at: null,
        reason: 'step carted',
      });
      const steps = await s.db.query<{ step: string; outcome: string }>(
        `SELECT s.step, s.outcome FROM flow_steps s JOIN customers c ON c.customer_id = s.customer_id
         WHERE c.external_id = 'b-ann' ORDER BY s.taken_at, s.step`,
      );
      expect(steps.map((x) => x.step).sort()).toEqual(['cart-within', 'cart-within:done', 'carted']);
      expect(steps.find((x) => x.step === 'cart-within:done')!.outcome).toMatch(/^event\.tracked #\d+$/);
      // No cart by 17:00Z: one message each to Bob and Cat.
      await s.dueAt('2026-11-02T17:00:00Z', 2);
      s.clock.set(new Date('2026-11-02T17:30:00Z'));
      await s.track('b-cat', 'add_to_cart');
      expect((await s.tick('2026-11-02T17:30:00Z')).sent).toBe(0);
      expect(await s.ledger('browse-abandonment')).toEqual([
        `b-bob ${v}:remind 2026-11-02T17:00:00.000Z`,
        `b-cat ${v}:remind 2026-11-02T17:00:00.000Z`,
      ]);
      expect(await s.states('browse-abandonment')).toEqual([
        'b-ann exited null',
        'b-bob completed null',
        'b-cat completed null',
      ]);
      // Re-entry after 14 days: Ann's view a day later and Bob's at 13 days 23 h enter nobody;
      // Bob's at 14 days does.
      s.clock.set(new Date('2026-11-03T15:00:00Z'));
      await s.track('b-ann', 'view');
      await s.tick('2026-11-03T15:00:00Z');
      s.clock.set(new Date('2026-11-16T14:00:00Z'));
      await s.track('b-bob', 'view');
      await s.tick('2026-11-16T14:00:00Z');
      expect((await s.runs('browse-abandonment')).length).toBe(3);
      s.clock.set(new Date('2026-11-16T15:00:00Z'));
      await s.track('b-bob', 'view');
      await s.tick('2026-11-16T15:00:00Z');
      await s.dueAt('2026-11-16T17:00:00Z', 1);
      expect(await s.ledger('browse-abandonment')).toEqual([
        `b-bob ${v}:remind 2026-11-02T17:00:00.000Z`,
        `b-cat ${v}:remind 2026-11-02T17:00:00.000Z`,
        `b-bob ${v}:remind 2026-11-16T17:00:00.000Z`,
      ]);
      expect(await s.deliver()).toMatchObject({ sent: 3, rejected: 0 });
      expect(mail('b-bob').map((m) => m.subject)).toEqual([
        'Saw something you liked?',
        'Saw something you liked?',
      ]);
      expect(mail('b-ann')).toEqual([]);
    } finally {
      await s.dispose();
    }
  });

  it('tier upgrade: a member moving up a tier gets a message naming it, on every upgrade; moving down, nothing', async () => {
    const s = await open('2026-06-01T12:00:00Z');
    try {
      await setProgram(s.ctx, {
        currency: 'EUR',
        pendingDays: 0,
        tiers: {
          basis: 'spend',
          windowMonths: 1,
          downgradeGraceDays: 0,
          levels: [
            { name: 'Silver', threshold: 10000 },
            { name: 'Gold', threshold: 50000 },
          ],
        },
      });
      const version = await s.activate('tier-upgrade');
      const v = `v${version}`;
      await s.customer('t-ann', 'Europe/Kyiv', { consent: 'yes', locale: 'uk' });
      await s.customer('t-bob', 'America/New_York', { consent: 'yes' });
      // Ann spends 150.00 (Silver), Bob 50.00 (no tier).
      await s.order('t-ann-1', 't-ann', [['MUG', '150.00']]);
      await s.order('t-bob-1', 't-bob', [['MUG', '50.00']]);
      expect((await s.tick('2026-06-01T12:00:00Z')).sent).toBe(1);
      // A day later Ann reaches Gold (550.00), Bob Silver (170.00): each an upgrade, each a message.
      s.clock.set(new Date('2026-06-02T09:00:00Z'));
      await s.order('t-ann-2', 't-ann', [['MUG', '400.00']]);
      await s.order('t-bob-2', 't-bob', [['MUG', '120.00']]);
      expect((await s.tick('2026-06-02T09:00:00Z')).sent).toBe(2);
      expect(await s.ledger('tier-upgrade')).toEqual([
        `t-ann ${v}:congratulate 2026-06-01T12:00:00.000Z`,
        `t-ann ${v}:congratulate 2026-06-02T09:00:00.000Z`,
        `t-bob ${v}:congratulate 2026-06-02T09:00:00.000Z`,
      ]);
      expect(await s.states('tier-upgrade')).toEqual([
        't-ann completed null',
        't-ann completed null',
        't-bob completed null',
      ]);
      // Two months on their spend in the window is nothing: the nightly sweep moves both down.
      s.clock.set(new Date('2026-08-10T02:00:00Z'));
      expect(await sweep(s.ctx)).toMatchObject({ tiersDown: 2 });
      expect((await s.tick('2026-08-10T02:00:00Z')).runs).toBe(0);
      // The loyalty events the flows saw: three up, two down (each customer's, in order).
      const changes: string[] = [];
      for (const who of ['t-ann', 't-bob'])
        for (const e of await eventsOf(s, who, 'tier.changed'))
          if (e.type === 'tier.changed')
            changes.push(`${who} ${e.payload.direction} ${e.payload.from ?? '-'} → ${e.payload.to ?? '-'}`);
      expect(changes).toEqual([
        't-ann up - → Silver',
        't-ann up Silver → Gold',
        't-ann down Gold → -',
        't-bob up - → Silver',
        't-bob down Silver → -',
      ]);
      expect((await s.runs('tier-upgrade')).length).toBe(3);
      expect((await s.sends('tier-upgrade')).length).toBe(3);
      expect(await s.deliver()).toMatchObject({ sent: 3, rejected: 0 });
      const ann = mail('t-ann');
      expect(ann.map((m) => m.subject).sort()).toEqual(['Вітаємо на рівні Gold', 'Вітаємо на рівні Silver']);
      expect(ann.find((m) => m.subject.endsWith('Gold'))!.text).toContain('Тепер ваш рівень — Gold.');
      expect(mail('t-bob').map((m) => [m.subject, m.text.includes('You are now Silver: thank you')])).toEqual(
        [['Welcome to Silver', true]],
      );
    } finally {
      await s.dispose();
    }
  });
  it('post-purchase: three days after an order, at 10:00 local, one message with what was bought together with it; again only after 30 days', async () => {
    // Thursday 5 March 2026, 16:00Z: 18:00 in Kyiv (UTC+2), 11:00 in New York (UTC−5 until Sunday 8 March).
    const T0 = '2026-03-05T16:00:00Z';
    const s = await open('2026-01-05T10:00:00Z');
    try {
      // The store's history (before the flow is active): 20 customers bought a mug with a saucer.
      await mergeRows(
        s.db,
        {
          entity: 'products',
          rows: [
            ['MUG', 'Mug', '10.00'],
            ['SAUCER', 'Saucer', '6.00'],
            ['TEA', 'Tea', '8.00'],
          ].map(([sku, title, price]) => ProductInput.parse({ sku, title, price, currency: 'EUR' })),
        },
        s.clock.now(),
      );
      for (let i = 0; i < 20; i++) {
        s.clock.set(new Date(Date.parse('2026-01-05T10:00:00Z') + i * DAY));
        await s.order(`h-${i}`, `h-${i}`, [
          ['MUG', '10.00'],
          ['SAUCER', '6.00'],
        ]);
        if (i % 2 === 0) await s.order(`h-${i}-tea`, `h-${i}`, [['TEA', '8.00']]);
      }
      await s.tick('2026-03-01T00:00:00Z');
      const version = await s.activate('post-purchase');
      const v = `v${version}`;
      expect((await s.runs('post-purchase')).length).toBe(0);
      await s.customer('p-ann', 'Europe/Kyiv', { consent: 'yes', locale: 'uk' });
      await s.customer('p-bob', 'America/New_York', { consent: 'yes' });
      s.clock.set(new Date(T0));
      await s.order('p-ann-1', 'p-ann');
      await s.order('p-bob-1', 'p-bob');
      await s.tick(T0);
      expect(await s.states('post-purchase')).toEqual([
        'p-ann active 2026-03-08T16:00:00.000Z',
        'p-bob active 2026-03-08T15:00:00.000Z',
      ]);
      // Three days on, each waits for 10:00 in their zone: Kyiv UTC+2 (08:00Z); New York has sprung
      // forward that morning, UTC−4 (14:00Z, not 15:00Z).
      expect((await s.tick('2026-03-08T16:00:00Z')).sent).toBe(0);
      expect(await s.states('post-purchase')).toEqual([
        'p-ann active 2026-03-09T08:00:00.000Z',
        'p-bob active 2026-03-09T14:00:00.000Z',
      ]);
      await s.dueAt('2026-03-09T08:00:00Z', 1);
      await s.dueAt('2026-03-09T14:00:00Z', 1);
      expect(await s.deliver()).toMatchObject({ sent: 2, rejected: 0 });
      // What mug buyers also took, with why, in each one's language.
      const [bob] = mail('p-bob');
      expect(bob!.subject).toBe('Goes well with your order');
      expect(bob!.text).toMatch(/Saucer — €6\.00 \(with Mug\)/);
      const [ann] = mail('p-ann');
      expect(ann!.subject).toBe('Пасує до вашого замовлення');
      expect(ann!.text).toMatch(/Saucer — 6,00\sEUR \(до Mug\)/);
      // A second order within 30 days enters nobody; at 30 days it does (Kyiv now UTC+3: 07:00Z).
      s.clock.set(new Date('2026-03-15T16:00:00Z'));
      await s.order('p-ann-2', 'p-ann', [['TEA', '8.00']]);
      await s.tick('2026-03-15T16:00:00Z');
      expect((await s.runs('post-purchase')).length).toBe(2);
      s.clock.set(new Date('2026-04-04T16:00:00Z'));
      await s.order('p-ann-3', 'p-ann');
      await s.tick('2026-04-04T16:00:00Z');
      await s.tick('2026-04-07T16:00:00Z');
      await s.dueAt('2026-04-08T07:00:00Z', 1);
      expect(await s.ledger('post-purchase')).toEqual([
        `p-ann ${v}:together 2026-03-09T08:00:00.000Z`,
        `p-bob ${v}:together 2026-03-09T14:00:00.000Z`,
        `p-ann ${v}:together 2026-04-08T07:00:00.000Z`,
      ]);
      expect(await s.states('post-purchase')).toEqual([
        'p-ann completed null',
        'p-ann completed null',
        'p-bob completed null',
      ]);
    } finally {
      await s.dispose();
    }
  });

  it('survey after delivery and post-purchase on the same orders, in a store too new for the recommender: five days on at 11:00 local the after-delivery survey (the order it asks about, one-click score links), three days on at 10:00 (the message without picks); again only after 30 days', async () => {
    // Thursday 22 October 2026, 20:00Z: 23:00 in Kyiv (UTC+3 until Sunday 25 October, then UTC+2),
    // 16:00 in New York (UTC−4 until 1 November, then UTC−5).
    const T0 = '2026-10-22T20:00:00Z';
    const s = await open(T0);
    try {
      // Installing the built-in saved the survey it names (no installing user: no call tasks).
      const [saved] = await s.db.query<{
        name: string;
        status: string;
        template: string;
        definition: string;
      }>(`SELECT name, status, template, definition FROM surveys`);
      expect(saved).toMatchObject({
        name: 'after-delivery',
        status: 'active',
        template: 'survey-after-delivery',
      });
      expect(JSON.parse(saved!.definition)).toMatchObject({ kind: 'nps', throttleDays: 30, lowScore: null });
      await s.activate('survey-after-delivery');
      const pp = `v${await s.activate('post-purchase')}`;
      await s.customer('s-ann', 'Europe/Kyiv', { consent: 'yes' });
      await s.customer('s-bob', 'America/New_York', { consent: 'yes' });
      // The store's only orders.
      await s.order('s-ann-1', 's-ann');
      await s.order('s-bob-1', 's-bob');
      await s.tick(T0);
      expect(await s.states('survey-after-delivery')).toEqual([
        's-ann active 2026-10-27T21:00:00.000Z',
        's-bob active 2026-10-27T20:00:00.000Z',
      ]);
      // Post-purchase: three calendar days on (Kyiv 23:00 = 21:00Z after its clocks went back), then 10:00 local — Kyiv UTC+2 (08:00Z), New York UTC−4 (14:00Z).
      await s.tick('2026-10-25T21:00:00Z');
      expect(await s.states('post-purchase')).toEqual([
        's-ann active 2026-10-26T08:00:00.000Z',
        's-bob active 2026-10-26T14:00:00.000Z',
      ]);
      await s.dueAt('2026-10-26T08:00:00Z', 1);
      await s.dueAt('2026-10-26T14:00:00Z', 1);
      // The survey: five days on (23:00 Kyiv, now UTC+2: 21:00Z), then 11:00 local — Kyiv 09:00Z, New York 15:00Z.
      await s.tick('2026-10-27T21:00:00Z');
      expect(await s.states('survey-after-delivery')).toEqual([
        's-ann active 2026-10-28T09:00:00.000Z',
        's-bob active 2026-10-28T15:00:00.000Z',
      ]);
      await s.dueAt('2026-10-28T09:00:00Z', 1);
      await s.dueAt('2026-10-28T15:00:00Z', 1);
      // Each invitation asks about the order that entered the run (its internal id), from the flow.
      const invitations = () =>
        s.db.query<{ customer: string; order: string; order_id: number; internal: number; source: string }>(
          `SELECT c.external_id AS customer, o.external_id AS "order", i.order_id, o.order_id AS internal, i.source
           FROM survey_invitations i JOIN customers c ON c.customer_id = i.customer_id
           JOIN orders o ON o.order_id = i.order_id ORDER BY i.invited_at`,
        );
      const first = await invitations();
      expect(first.map((i) => `${i.customer} ${i.order} ${i.source}`)).toEqual([
        's-ann s-ann-1 flow:survey-after-delivery',
        's-bob s-bob-1 flow:survey-after-delivery',
      ]);
      for (const i of first) expect(Number(i.order_id)).toBe(Number(i.internal));
      expect(await s.deliver()).toMatchObject({ sent: 4, rejected: 0 });
      const bob = mail('s-bob');
      expect(bob.map((m) => m.subject).sort()).toEqual([
        'A quick question about your order',
        'Thank you for your order',
      ]);
      // Too few orders for the recommender: the post-purchase message goes, without a list.
      const thanks = bob.find((m) => m.subject === 'Thank you for your order')!.text;
      expect(thanks).toContain('Thank you for your order — we hope you enjoy it.');
      expect(thanks).not.toContain('also took');
      expect(
        mail('s-ann')
          .map((m) => m.subject)
          .sort(),
      ).toEqual(['A quick question about your order', 'Thank you for your order']);
      // The survey's own message: its question and a link per score, 0 to 10, to retain's address.
      const asked = bob.find((m) => m.subject === 'A quick question about your order')!;
      expect(asked.text).toContain('How likely are you to recommend us to a friend?');
      const links = [
        ...asked.html.matchAll(/<a href="(https:\/\/retain\.shop\.test\/[^"]+)"[^>]*>(\d+)<\/a>/g),
      ];
      expect(links.map((m) => Number(m[2]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(new Set(links.map((m) => m[1])).size).toBe(11);
      // Bob orders again at 10 days: neither flow takes him; at 30 days both do (New York now UTC−5).
      s.clock.set(new Date('2026-11-01T20:00:00Z'));
      await s.order('s-bob-2', 's-bob');
      await s.tick('2026-11-01T20:00:00Z');
      expect((await s.runs('survey-after-delivery')).length).toBe(2);
      expect((await s.runs('post-purchase')).length).toBe(2);
      s.clock.set(new Date('2026-11-21T20:00:00Z'));
      await s.order('s-bob-3', 's-bob');
      await s.tick('2026-11-21T20:00:00Z');
      await s.tick('2026-11-24T20:00:00Z');
      await s.dueAt('2026-11-25T15:00:00Z', 1);
      await s.tick('2026-11-26T20:00:00Z');
      await s.dueAt('2026-11-27T16:00:00Z', 1);
      // The invitations' messages are the flow's (its source; the step `invite`): its report counts them.
      expect(await s.ledger('survey-after-delivery')).toEqual([
        `s-ann invite 2026-10-28T09:00:00.000Z`,
        `s-bob invite 2026-10-28T15:00:00.000Z`,
        `s-bob invite 2026-11-27T16:00:00.000Z`,
      ]);
      expect(
        (await flowReport(s.ctx, { name: 'survey-after-delivery' })).messages.reduce(
          (n, m) => n + (m.step === 'invite' ? m.n : 0),
          0,
        ),
      ).toBe(3);
      expect((await invitations()).map((i) => `${i.customer} ${i.order}`)).toEqual([
        's-ann s-ann-1',
        's-bob s-bob-1',
        's-bob s-bob-3',
      ]);
      expect(await s.ledger('post-purchase')).toEqual([
        `s-ann ${pp}:together 2026-10-26T08:00:00.000Z`,
        `s-bob ${pp}:together 2026-10-26T14:00:00.000Z`,
        `s-bob ${pp}:together 2026-11-25T15:00:00.000Z`,
      ]);
      for (const flow of ['survey-after-delivery', 'post-purchase'])
        expect(await s.states(flow)).toEqual([
          's-ann completed null',
          's-bob completed null',
          's-bob completed null',
        ]);
      expect((await s.tick('2026-12-31T00:00:00Z')).sent).toBe(0);
    } finally {
      await s.dispose();
    }
  });
});
