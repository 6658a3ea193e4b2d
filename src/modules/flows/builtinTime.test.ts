import { afterEach, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { runUntil } from '../../../test/support/jobs.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { EngineKind, Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { JobRunner } from '../jobs/service.js';
import { adjust, enrol, setProgram, sweep as loyaltySweep } from '../loyalty/service.js';
import type { Channel, OutboundMessage } from '../messaging/channels/port.js';
import { deliverDue, saveTemplate, setPolicy } from '../messaging/service.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { refreshScores } from '../segments/service.js';
import { updateStore } from '../settings/service.js';
import { ADVANCE_JOB } from './definitions.js';
import { FLOW_JOBS, flowsSubscriber } from './jobs.js';
import { flowsModule } from './module.js';
import { advanceFlows, installBuiltin, moveFlow, saveFlow, simulateFlow } from './service.js';
import { sweepTimeTriggers, TIME_JOB } from './time.js';
import { replenishmentDue } from './timeRepository.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** One test's store: a fresh database on a test clock, the flows' subscriber, a channel that keeps what it is handed. */
interface World {
  db: Database;
  ctx: ModuleContext;
  clock: ManualClock;
  dispatcher: Dispatcher;
  inbox: OutboundMessage[];
  dispose: () => Promise<void>;
}

type RunRow = {
  run_id: number;
  customer: string;
  status: string;
  step: string | null;
  next_at: Date | null;
  occurrence: string;
  entered_at: Date;
  version: number;
  context: string | null;
};

/** What a queued message's templates see (the ledger's `variables`). */
interface SendVars {
  flow: Record<string, unknown>;
  discount_code?: string;
  offer?: { kind: string; value: number; value_text: string; expires_at: string };
}

type SendRow = { customer: string; step: string; template: string; not_before: Date; variables: string };

let worlds = 0;

async function open(engine: EngineKind, start: string): Promise<World> {
  const { db, dispose } = await freshDatabase(engine);
  // Flow ids unique across this file's databases: definitions.ts caches a flow version's definition
  // process-wide under flow id × version alone (one store per process in production), so a second
  // database's flow 1 would otherwise be read as the first database's flow 1.
  for (let i = 0, n = 20 * worlds++; i < n; i++) await db.query(`SELECT nextval('flow_id_seq') AS n`);
  const clock = new ManualClock(start);
  const ctx = testContext(db, clock);
  const dispatcher = new Dispatcher({ ctx, subscribers: [flowsSubscriber] });
  await dispatcher.register();
  await setPolicy(ctx, { publicUrl: 'https://retain.shop.test', frequencyCap: null, quietHours: null });
  return { db, ctx, clock, dispatcher, inbox: [], dispose };
}

/**
 * Issue 26, the time-triggered built-in flows on a test clock (both engines): each installed as a store
 * would (installBuiltin with the shop's address, the holdout set to 0 by a new version where the built-in
 * has one, activated), customers in Kyiv, New York and Tokyo. Every sweep is preceded by the flow's
 * simulation ("who would enter now"), which must name exactly the customers the sweep then enters.
 */
describe.each(testEngines())('time-triggered built-in flows on %s', (engine) => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });
  const world = () => w!;

  const customer = (id: string, zone: string, extra: Record<string, unknown> = {}) =>
    upsertCustomer(world().ctx, {
      body: {
        customer_id: id,
        email: `${id}@example.test`,
        email_consent: 'yes',
        first_name: id,
        time_zone: zone,
        ...extra,
      },
    });
  const order = (id: string, who: string, at: string | Date, sku = 'MUG', title = 'Mug') =>
    upsertOrder(world().ctx, {
      body: {
        order_id: id,
        customer_id: who,
        ordered_at: new Date(at).toISOString(),
        currency: 'EUR',
        lines: [{ sku, title, quantity: 1, unit_price: '9.00' }],
      },
    });
  /** Installs a built-in flow, sets its holdout to 0 (a new version) when it has one, activates it. */
  const install = async (key: string) => {
    const { flow } = await installBuiltin(world().ctx, { key, shopUrl: 'https://shop.test', by: 'test' });
    const def = flow.definition as { holdoutShare: number };
    if (def.holdoutShare > 0) {
      const v2 = await saveFlow(world().ctx, { body: { ...def, holdoutShare: 0 }, by: 'test' });
      expect(v2).toMatchObject({ version: 2, definition: { holdoutShare: 0 } });
    }
    return moveFlow(world().ctx, { name: key, action: 'activate' });
  };
  const at = async (iso: string) => {
    world().clock.set(new Date(iso));
    await world().dispatcher.drain();
  };
  const advance = async (iso: string) => {
    await at(iso);
    return advanceFlows(world().ctx);
  };
  const runsOf = (flow: string) =>
    world().db.query<RunRow>(
      `SELECT r.run_id, c.external_id AS customer, r.status, r.step, r.next_at, r.occurrence, r.entered_at,
         r.version, x.context
       FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id JOIN customers c ON c.customer_id = r.customer_id
         LEFT JOIN flow_run_context x ON x.run_id = r.run_id
       WHERE f.name = $1 ORDER BY r.run_id`,
      [flow],
    );
  const runOf = async (flow: string, who: string) => {
    const mine = (await runsOf(flow)).filter((r) => r.customer === who);
    return mine[mine.length - 1]!;
  };
  const contextOf = (r: RunRow) => JSON.parse(r.context ?? 'null') as Record<string, unknown>;
  const sendsOf = async (flow: string) =>
    (
      await world().db.query<SendRow>(
        `SELECT c.external_id AS customer, s.step, s.template, s.not_before, s.variables FROM message_sends s
         JOIN customers c ON c.customer_id = s.customer_id WHERE s.source = $1 ORDER BY s.not_before, c.external_id`,
        [`flow:${flow}`],
      )
    ).map((s) => ({ ...s, vars: JSON.parse(s.variables) as SendVars }));
  /**
   * At `iso`: the flow's simulation first ("who would enter now"), then the hourly sweep; the simulation
   * must name exactly the customers the sweep enters. Returns them (sorted) and the simulation.
   */
  const sweepAt = async (flow: string, iso: string) => {
    await at(iso);
    const sim = await simulateFlow(world().ctx, { name: flow });
    const before = new Set((await runsOf(flow)).map((r) => r.run_id));
    const result = await sweepTimeTriggers(world().ctx);
    const fresh = (await runsOf(flow)).filter((r) => !before.has(r.run_id));
    const entered = fresh.map((r) => r.customer).sort();
    expect(sim.mode).toBe('now');
    expect(result.holdout).toBe(0);
    expect(result.entered).toBe(fresh.length);
    expect(sim.wouldEnter).toBe(fresh.length);
    expect(sim.holdout).toBe(0);
    expect([...sim.sample].sort()).toEqual(entered);
    expect(fresh.every((r) => r.status === 'active' && r.entered_at.getTime() === Date.parse(iso))).toBe(
      true,
    );
    return { entered, sim, fresh };
  };
  /** Delivers what is due through a channel that keeps each rendered message. */
  const deliver = async () => {
    const channel: Channel = {
      kind: 'email',
      idempotent: true,
      send: async (m) => {
        world().inbox.push(m);
        return { status: 'sent', providerId: null };
      },
      close: async () => undefined,
    };
    return deliverDue(world().ctx, { channels: { email: channel } });
  };
  const mailTo = (who: string) => world().inbox.filter((m) => m.to === `${who}@example.test`);
  /** A BG/NBD run's stored predictions (the clv module's table), as of a calibration end. */
  const predictions = async (
    asOf: string,
    rows: Record<string, { pAlive: number; nextOrderAt?: string }>,
  ) => {
    for (const [who, p] of Object.entries(rows))
      await world().db.exec(
        `INSERT INTO clv_predictions (customer_id, model_version, as_of, horizon, time_unit, expected_purchases,
           p_alive, clv_minor, currency, created_at, next_order_at)
         SELECT customer_id, 'bgnbd-test', $2::timestamp, 52, 'week', 0.5, $3, NULL, 'EUR', $4::timestamp, $5::timestamp
         FROM customers WHERE external_id = $1`,
        [who, new Date(asOf), p.pAlive, world().clock.now(), p.nextOrderAt ? new Date(p.nextOrderAt) : null],
      );
  };

  it('birthday: each customer on their own local day (29 February on the 28th), 09:00 local with a code, once a year', async () => {
    w = await open(engine, '2026-02-27T12:00:00Z');
    await customer('kyiv', 'Europe/Kyiv', { birthday: '1990-03-15' });
    await customer('ny', 'America/New_York', { birthday: '1985-03-15' });
    await customer('leap', 'Asia/Tokyo', { birthday: '1996-02-29' });
    await customer('nobday', 'Europe/Kyiv');
    expect(await install('birthday')).toMatchObject({ status: 'active', version: 1 });
    // Activation looks at the condition at once: a flows.time job is queued.
    expect(
      await w.db.query(`SELECT kind FROM jobs WHERE kind = $1 AND status = 'queued'`, [TIME_JOB]),
    ).toHaveLength(1);

    // 2026 is not a leap year: the 29 February birthday is on 28 February in Tokyo (UTC+9), i.e. from
    // 15:00Z on the 27th.
    expect((await sweepAt('birthday', '2026-02-27T14:05:00Z')).entered).toEqual([]); // 23:05 on the 27th
    const leap = await sweepAt('birthday', '2026-02-27T15:05:00Z'); // 00:05 on the 28th
    expect(leap.entered).toEqual(['leap']);
    expect(leap.fresh[0]).toMatchObject({ occurrence: 'birthday:2026', version: 1 });
    expect(contextOf(leap.fresh[0]!)).toEqual({
      trigger: 'birthday',
      birthday_on: '2026-02-28',
      days_before: 0,
    });
    await advance('2026-02-27T15:05:00Z');
    expect(await runOf('birthday', 'leap')).toMatchObject({
      step: 'greet',
      next_at: new Date('2026-02-28T00:00:00Z'), // 09:00 in Tokyo
    });
    expect((await advance('2026-02-27T23:59:00Z')).sent).toBe(0);
    expect((await advance('2026-02-28T00:00:00Z')).sent).toBe(1);
    // Later the same local day: nobody (entered for 2026 already); the next local day (1 March): nobody.
    const sameDay = await sweepAt('birthday', '2026-02-28T14:05:00Z');
    expect(sameDay).toMatchObject({ entered: [], sim: { events: 1, excluded: { inFlight: 0, reentry: 1 } } });
    expect((await sweepAt('birthday', '2026-02-28T15:05:00Z')).sim.events).toBe(0);

    // 15 March: Kyiv (EET, UTC+2) reaches it at 22:00Z on the 14th, New York (EDT, UTC−4) at 04:00Z.
    expect((await sweepAt('birthday', '2026-03-14T21:05:00Z')).entered).toEqual([]); // Kyiv 23:05
    expect((await sweepAt('birthday', '2026-03-14T22:05:00Z')).entered).toEqual(['kyiv']); // Kyiv 00:05
    const nyEve = await sweepAt('birthday', '2026-03-15T03:05:00Z'); // New York 23:05 on the 14th
    expect(nyEve).toMatchObject({ entered: [], sim: { events: 1, excluded: { inFlight: 1, reentry: 0 } } });
    // New York's midnight: two sweeps at once at the same instant enter her once (the run's key is flow ×
    // customer × occasion); a third finds her entered.
    await at('2026-03-15T04:05:00Z');
    const sim = await simulateFlow(w.ctx, { name: 'birthday' });
    expect(sim).toMatchObject({ mode: 'now', wouldEnter: 1, sample: ['ny'] });
    const twice = await Promise.all([sweepTimeTriggers(w.ctx), sweepTimeTriggers(w.ctx)]);
    expect(twice[0].entered + twice[1].entered).toBe(1);
    expect((await sweepTimeTriggers(w.ctx)).entered).toBe(0);
    expect((await runsOf('birthday')).map((r) => `${r.customer}:${r.occurrence}`)).toEqual([
      'leap:birthday:2026',
      'kyiv:birthday:2026',
      'ny:birthday:2026',
    ]);
    // 09:00 local: 07:00Z in Kyiv, 13:00Z in New York.
    await advance('2026-03-15T04:05:00Z');
    expect(await runOf('birthday', 'kyiv')).toMatchObject({ next_at: new Date('2026-03-15T07:00:00Z') });
    expect(await runOf('birthday', 'ny')).toMatchObject({ next_at: new Date('2026-03-15T13:00:00Z') });
    expect((await advance('2026-03-15T06:59:00Z')).sent).toBe(0);
    expect((await advance('2026-03-15T07:00:00Z')).sent).toBe(1);
    expect((await advance('2026-03-15T12:59:00Z')).sent).toBe(0);
    expect((await advance('2026-03-15T13:00:00Z')).sent).toBe(1);
    // The rest of the day: both still on their birthday, both entered already.
    expect(await sweepAt('birthday', '2026-03-15T20:05:00Z')).toMatchObject({
      entered: [],
      sim: { events: 2, wouldEnter: 0, excluded: { inFlight: 0, reentry: 2 } },
    });
    expect(await sweepAt('birthday', '2026-03-15T22:05:00Z')).toMatchObject({
      entered: [],
      sim: { events: 1 },
    });

    const sends = await sendsOf('birthday');
    expect(sends.map((s) => [s.customer, s.step, s.template, s.not_before.toISOString()])).toEqual([
      ['leap', 'v1:greet', 'birthday-1', '2026-02-28T00:00:00.000Z'],
      ['kyiv', 'v1:greet', 'birthday-1', '2026-03-15T07:00:00.000Z'],
      ['ny', 'v1:greet', 'birthday-1', '2026-03-15T13:00:00.000Z'],
    ]);
    for (const s of sends) {
      expect(s.vars.discount_code).toMatch(/^BDAY-/);
      expect(s.vars.offer).toMatchObject({ kind: 'percent', value: 10, value_text: '10%' });
      // A week from the send.
      expect(s.vars.offer!.expires_at).toBe(new Date(s.not_before.getTime() + 7 * DAY).toISOString());
      expect(s.vars.flow).toMatchObject({ name: 'birthday', trigger: 'birthday' });
    }
    expect(new Set(sends.map((s) => s.vars.discount_code)).size).toBe(3);
    const codes = await w.db.query<{ code: string; value: number }>(
      `SELECT code, CAST(value AS INTEGER) AS value FROM flow_codes ORDER BY created_at`,
    );
    expect(codes.map((c) => c.code)).toEqual(sends.map((s) => s.vars.discount_code));
    // Rendered: the greeting and the code, with the shop's button.
    expect(await deliver()).toMatchObject({ sent: 3 });
    const kyivMail = mailTo('kyiv');
    expect(kyivMail).toHaveLength(1);
    expect(kyivMail[0]!.subject).toBe('Happy birthday!');
    expect(kyivMail[0]!.text).toContain(sends[1]!.vars.discount_code as string);
    expect(kyivMail[0]!.html).toContain(sends[1]!.vars.discount_code as string);

    // The next year, entered by the scheduled `flows.time` job itself (hourly at :05 UTC), not by hand.
    const time = flowsModule.schedules!.filter((s) => s.kind === TIME_JOB);
    expect(time).toEqual([expect.objectContaining({ cron: '5 * * * *', timeZone: 'UTC' })]);
    const runner = new JobRunner({ db: w.db, clock: w.clock, handlers: FLOW_JOBS, schedules: time });
    w.clock.set(new Date('2027-02-27T12:00:00Z'));
    await runUntil(w.clock, runner, '2027-02-27T23:59:00Z');
    expect(await runOf('birthday', 'leap')).toMatchObject({
      occurrence: 'birthday:2027',
      entered_at: new Date('2027-02-27T15:05:00Z'), // 00:05 on 28 February in Tokyo (2027: no 29th)
      next_at: new Date('2027-02-28T00:00:00Z'),
    });
    expect((await advance('2027-02-28T00:00:00Z')).sent).toBe(1);
    w.clock.set(new Date('2027-03-14T20:00:00Z'));
    await runUntil(w.clock, runner, '2027-03-15T05:00:00Z');
    expect(await runOf('birthday', 'kyiv')).toMatchObject({
      occurrence: 'birthday:2027',
      entered_at: new Date('2027-03-14T22:05:00Z'),
    });
    expect(await runOf('birthday', 'ny')).toMatchObject({
      occurrence: 'birthday:2027',
      entered_at: new Date('2027-03-15T04:05:00Z'), // New York is on EDT since 14 March 2027
    });
    const slots = await w.db.query<{ idempotency_key: string; status: string }>(
      `SELECT idempotency_key, status FROM jobs WHERE kind = $1 AND idempotency_key LIKE 'schedule:%' ORDER BY run_at`,
      [TIME_JOB],
    );
    // One job per hourly slot run (12:05…23:05 on 27 February, 20:05…04:05 on the night of 14 March).
    expect(slots).toHaveLength(12 + 9);
    expect(slots.every((s) => s.status === 'done')).toBe(true);
    expect((await advance('2027-03-15T07:00:00Z')).sent).toBe(1);
    expect((await advance('2027-03-15T13:00:00Z')).sent).toBe(1);

    // 2028 is a leap year: the 29 February birthday is on the 29th, not the 28th.
    expect((await sweepAt('birthday', '2028-02-27T15:05:00Z')).entered).toEqual([]); // Tokyo: 28 February
    const leap28 = await sweepAt('birthday', '2028-02-28T15:05:00Z'); // Tokyo: 29 February
    expect(leap28.entered).toEqual(['leap']);
    expect(leap28.fresh[0]!.occurrence).toBe('birthday:2028');
    expect(contextOf(leap28.fresh[0]!)).toMatchObject({ birthday_on: '2028-02-29' });
    // One message per customer and year; nobody without a birthday.
    const all = await sendsOf('birthday');
    expect(all.map((s) => `${s.customer}@${s.not_before.toISOString().slice(0, 10)}`)).toEqual([
      'leap@2026-02-28',
      'kyiv@2026-03-15',
      'ny@2026-03-15',
      'leap@2027-02-28',
      'kyiv@2027-03-15',
      'ny@2027-03-15',
    ]);
  }, 120_000);

  it('points-expiring: a member with points expiring within 7 days, once per expiry day, at 10:00 local showing the points', async () => {
    w = await open(engine, '2026-04-06T04:00:00Z');
    await updateStore(w.ctx, { currency: 'EUR', timeZone: 'Europe/Kyiv' });
    await setProgram(w.ctx, { currency: 'EUR', enrollment: 'opt-in', expiryDays: 180 });
    await customer('pk', 'Europe/Kyiv');
    await customer('pn', 'America/New_York');
    await customer('pl', 'Europe/Kyiv');
    for (const who of ['pk', 'pn', 'pl']) await enrol(w.ctx, { customer: who });
    // At 04:30Z on 6 April: pk 120 points expiring in 5 days (and 40 in 30), pn 80 in 5 days and 30 in
    // 6, pl 200 in 10 days.
    w.clock.set(new Date('2026-04-06T04:30:00Z'));
    const grant = (customer: string, points: number, expiryDays: number, key: string) =>
      adjust(world().ctx, { customer, points, expiryDays, reason: 'test', idempotencyKey: key });
    await grant('pk', 120, 5, 'pk-1');
    await grant('pk', 40, 30, 'pk-2');
    await grant('pn', 80, 5, 'pn-1');
    await grant('pn', 30, 6, 'pn-2');
    await grant('pl', 200, 10, 'pl-1');
    await install('points-expiring');
    /**
     * One hour as in production: the flows' sweep at :05 (and the runner it wakes), the loyalty sweep
     * (which marks grants past their expiry as expired) at :07.
     */
    const hour = async (iso: string) => {
      const r = await sweepAt('points-expiring', iso);
      await advanceFlows(world().ctx);
      world().clock.set(new Date(Date.parse(iso) + 2 * 60_000));
      await loyaltySweep(world().ctx);
      return r;
    };

    const first = await hour('2026-04-06T05:05:00Z');
    expect(first.entered).toEqual(['pk', 'pn']); // pl's points expire in 10 days: not yet
    expect(contextOf(first.fresh.find((r) => r.customer === 'pk')!)).toEqual({
      trigger: 'pointsExpire',
      points: 120,
      expires_at: '2026-04-11T04:30:00.000Z',
      balance: 160,
    });
    expect(contextOf(first.fresh.find((r) => r.customer === 'pn')!)).toEqual({
      trigger: 'pointsExpire',
      points: 110,
      expires_at: '2026-04-11T04:30:00.000Z',
      balance: 110,
    });
    expect(first.fresh.map((r) => r.occurrence)).toEqual(['points:2026-04-11', 'points:2026-04-11']);
    // 10:00 local: 07:00Z in Kyiv (EEST), 14:00Z in New York (EDT).
    expect(await runOf('points-expiring', 'pk')).toMatchObject({ next_at: new Date('2026-04-06T07:00:00Z') });
    expect(await runOf('points-expiring', 'pn')).toMatchObject({ next_at: new Date('2026-04-06T14:00:00Z') });
    expect((await hour('2026-04-06T06:05:00Z')).entered).toEqual([]);
    expect((await advance('2026-04-06T07:00:00Z')).sent).toBe(1);
    expect((await advance('2026-04-06T14:00:00Z')).sent).toBe(1);
    // Each morning after: the same expiry day enters nobody again; pl's points come within 7 days of
    // their expiry (16 April 04:30Z) on the 9th.
    expect((await hour('2026-04-07T05:05:00Z')).entered).toEqual([]);
    expect((await hour('2026-04-08T05:05:00Z')).entered).toEqual([]);
    const pl = await hour('2026-04-09T05:05:00Z');
    expect(pl.entered).toEqual(['pl']);
    expect(contextOf(pl.fresh[0]!)).toMatchObject({ points: 200, balance: 200 });
    expect((await advance('2026-04-09T07:00:00Z')).sent).toBe(1);
    expect((await hour('2026-04-10T05:05:00Z')).entered).toEqual([]);
    // 11 April: pk's 120 and pn's 80 expired at 04:30Z (the loyalty sweep marks them at 05:07Z). pn's
    // other 30 expire on the 12th: a new expiry day, so pn enters again — 30 points of a balance of 30
    // (the 80 expired are no longer hers to spend).
    const again = await hour('2026-04-11T05:05:00Z');
    expect(again.entered).toEqual(['pn']);
    expect(again.fresh[0]!.occurrence).toBe('points:2026-04-12');
    expect(contextOf(again.fresh[0]!)).toEqual({
      trigger: 'pointsExpire',
      points: 30,
      expires_at: '2026-04-12T04:30:00.000Z',
      balance: 30,
    });
    expect((await advance('2026-04-11T14:00:00Z')).sent).toBe(1);
    expect((await hour('2026-04-12T05:05:00Z')).entered).toEqual([]);

    const sends = await sendsOf('points-expiring');
    expect(
      sends.map((s) => [s.customer, s.not_before.toISOString(), s.vars.flow.points, s.vars.flow.balance]),
    ).toEqual([
      ['pk', '2026-04-06T07:00:00.000Z', 120, 160],
      ['pn', '2026-04-06T14:00:00.000Z', 110, 110],
      ['pl', '2026-04-09T07:00:00.000Z', 200, 200],
      ['pn', '2026-04-11T14:00:00.000Z', 30, 30],
    ]);
    expect(await deliver()).toMatchObject({ sent: 4 });
    expect(mailTo('pk')[0]!.subject).toBe('120 points expire soon');
    expect(mailTo('pk')[0]!.text).toContain('120 of your 160 points expire on');
    expect(
      mailTo('pn')
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['110 points expire soon', '30 points expire soon']);
  }, 120_000);

  it('win-back: P(alive) below 0.3 enters once per last order; an order before 10:00 ends the run; a code 7 days later; a new lapse enters again', async () => {
    w = await open(engine, '2026-08-02T12:00:00Z');
    await customer('wk', 'Europe/Kyiv');
    await customer('wn', 'America/New_York');
    await customer('wh', 'Europe/Kyiv');
    await customer('wo', 'America/New_York');
    await order('wk-1', 'wk', '2026-03-01T10:00:00Z');
    await order('wk-2', 'wk', '2026-05-01T10:00:00Z');
    await order('wn-1', 'wn', '2026-02-10T15:00:00Z');
    await order('wn-2', 'wn', '2026-04-20T15:00:00Z');
    await order('wh-1', 'wh', '2026-05-05T10:00:00Z');
    await order('wo-1', 'wo', '2025-06-01T15:00:00Z'); // more than a year before the sweep
    // P(alive) comes from the clv module's BG/NBD run (a fit cannot be made to give exact values): its
    // stored predictions are written here, and the segments' real refreshScores takes them into
    // customer_scores beside each customer's last order.
    await predictions('2026-08-02T00:00:00Z', {
      wk: { pAlive: 0.2 },
      wn: { pAlive: 0.25 },
      wh: { pAlive: 0.6 },
      wo: { pAlive: 0.1 },
    });
    await refreshScores(w.ctx);
    w.clock.set(new Date('2026-08-03T04:00:00Z'));
    expect(await install('win-back')).toMatchObject({ status: 'active', version: 2 });

    const first = await sweepAt('win-back', '2026-08-03T05:05:00Z');
    expect(first.entered).toEqual(['wk', 'wn']); // wh: P(alive) 0.6; wo: last order over a year ago
    expect(first.fresh.map((r) => [r.customer, r.version, r.occurrence])).toEqual([
      ['wk', 2, 'p-alive:2026-05-01T10:00:00.000Z'],
      ['wn', 2, 'p-alive:2026-04-20T15:00:00.000Z'],
    ]);
    expect(contextOf(first.fresh[0]!)).toEqual({
      trigger: 'pAliveBelow',
      p_alive: 0.2,
      last_order_at: '2026-05-01T10:00:00.000Z',
    });
    await advance('2026-08-03T05:05:00Z');
    expect(await runOf('win-back', 'wk')).toMatchObject({ next_at: new Date('2026-08-03T07:00:00Z') });
    expect(await runOf('win-back', 'wn')).toMatchObject({ next_at: new Date('2026-08-03T14:00:00Z') });
    // wk orders at 09:00 her time, before the 10:00 message: the goal ends her run, no message.
    await at('2026-08-03T06:00:00Z');
    await order('wk-3', 'wk', '2026-08-03T06:00:00Z');
    await at('2026-08-03T06:00:00Z');
    expect(await runOf('win-back', 'wk')).toMatchObject({ status: 'goal', next_at: null });
    // The scores are refreshed after the order (the segments' debounced job): her last order is new,
    // her P(alive) is still the one predicted before it — no new lapse, so she does not enter again.
    w.clock.set(new Date('2026-08-03T06:01:00Z'));
    await refreshScores(w.ctx);
    expect((await advance('2026-08-03T07:00:00Z')).sent).toBe(0);
    expect(await sweepAt('win-back', '2026-08-03T07:05:00Z')).toMatchObject({
      entered: [],
      sim: { events: 1, excluded: { inFlight: 1, reentry: 0 } }, // wn, waiting for her 10:00
    });
    expect((await advance('2026-08-03T14:00:00Z')).sent).toBe(1);
    expect((await advance('2026-08-10T13:59:00Z')).sent).toBe(0);
    expect((await advance('2026-08-10T14:00:00Z')).sent).toBe(1);
    expect(await runOf('win-back', 'wn')).toMatchObject({ status: 'completed' });
    // Once per last order: wn (no order since) is a candidate every hour, and enters no more.
    expect(await sweepAt('win-back', '2026-08-11T05:05:00Z')).toMatchObject({
      entered: [],
      sim: { events: 1, excluded: { reentry: 1 } },
    });
    expect((await advance('2026-09-01T00:00:00Z')).sent).toBe(0);

    const sends = await sendsOf('win-back');
    expect(sends.map((s) => [s.customer, s.step, s.template, s.not_before.toISOString()])).toEqual([
      ['wn', 'v2:miss-you', 'win-back-1', '2026-08-03T14:00:00.000Z'],
      ['wn', 'v2:code', 'win-back-2', '2026-08-10T14:00:00.000Z'],
    ]);
    expect(sends[0]!.vars.discount_code).toBeUndefined();
    expect(sends[1]!.vars.discount_code).toMatch(/^BACK-/);
    expect(sends[1]!.vars.offer).toMatchObject({ kind: 'percent', value: 15, value_text: '15%' });
    expect(await deliver()).toMatchObject({ sent: 2 });
    // (Delivered together, in either order.)
    expect(
      mailTo('wn')
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['A code to come back', 'We miss you']);
    const codeMail = mailTo('wn').find((m) => m.subject === 'A code to come back')!;
    expect(codeMail.text).toContain(sends[1]!.vars.discount_code as string);

    // A new lapse: the next BG/NBD run (as of 1 November, after wk's August order) has her at 0.15. She
    // enters again, for her new last order; wn's last order is the one she was woken for already.
    w.clock.set(new Date('2026-11-02T02:40:00Z'));
    await predictions('2026-11-01T00:00:00Z', {
      wk: { pAlive: 0.15 },
      wn: { pAlive: 0.2 },
      wh: { pAlive: 0.6 },
      wo: { pAlive: 0.1 },
    });
    await refreshScores(w.ctx);
    const lapse = await sweepAt('win-back', '2026-11-02T06:05:00Z');
    expect(lapse).toMatchObject({ entered: ['wk'], sim: { events: 2, excluded: { reentry: 1 } } });
    expect(lapse.fresh[0]!.occurrence).toBe('p-alive:2026-08-03T06:00:00.000Z');
    expect(contextOf(lapse.fresh[0]!)).toMatchObject({ p_alive: 0.15 });
    await advance('2026-11-02T06:05:00Z');
    // Kyiv is on EET again: 10:00 is 08:00Z.
    expect(await runOf('win-back', 'wk')).toMatchObject({ next_at: new Date('2026-11-02T08:00:00Z') });
    expect((await advance('2026-11-02T08:00:00Z')).sent).toBe(1);
    expect((await sweepAt('win-back', '2026-11-03T06:05:00Z')).entered).toEqual([]);
  }, 120_000);

  it('replenishment: due by the median repurchase interval less 3 days, at 10:00 local with the product; not after buying again', async () => {
    const T0 = Date.parse('2026-06-10T05:05:00Z');
    const ago = (days: number, hours = 0) => new Date(T0 - days * DAY - hours * HOUR);
    w = await open(engine, '2026-06-10T00:00:00Z');
    for (const [id, zone] of [
      ['ra', 'Europe/Kyiv'],
      ['rb', 'America/New_York'],
      ['rc', 'Europe/Kyiv'],
      ['rd', 'America/New_York'],
      ['re', 'Europe/Kyiv'],
      ['rf', 'America/New_York'],
      ['rg', 'America/New_York'],
    ] as const)
      await customer(id, zone);
    const coffee = (id: string, who: string, when: Date) => order(id, who, when, 'COFFEE', 'Coffee beans');
    // Coffee bought again by six customers after 26, 28, 29, 31, 32 and 40 days (rf also twice on one
    // day, 3 hours apart: under a day, not an interval). By hand: six intervals ≥ 1 day, sorted
    // 26 28 29 31 32 40; percentile_cont(0.5) of six values is the mean of the 3rd and 4th,
    // (29 + 31) / 2 = 30 days exactly. Due again 30 − 3 = 27 days after one's last purchase.
    await coffee('ra-1', 'ra', ago(53, 1));
    await coffee('ra-2', 'ra', ago(27, 1)); // due at T0 − 1 h
    await coffee('rb-1', 'rb', ago(58));
    await coffee('rb-2', 'rb', ago(30)); // due at T0 − 3 days
    await coffee('rc-1', 'rc', ago(31)); // was due at T0 − 4 days …
    await coffee('rc-2', 'rc', ago(2)); // … but bought it again: due at T0 + 25 days
    await coffee('rd-1', 'rd', ago(75));
    await coffee('rd-2', 'rd', ago(44)); // due at T0 − 17 days: before the sweep's 7-day look-back
    await coffee('re-1', 're', ago(100));
    await coffee('re-2', 're', ago(68));
    await coffee('rf-1', 'rf', ago(140));
    await coffee('rf-2', 'rf', ago(100));
    await coffee('rf-3', 'rf', ago(100, -3));
    await coffee('rg-1', 'rg', ago(28)); // one purchase: due at T0 − 1 day by the store's median
    // Soap was bought again once only (fewer than the 5 repeat purchases asked for): never due.
    await order('ra-s1', 'ra', ago(60), 'SOAP', 'Soap');
    await order('ra-s2', 'ra', ago(30), 'SOAP', 'Soap');
    const median = await replenishmentDue(w.db, {
      minRepeats: 5,
      leadDays: 3,
      from: (T0 - 7 * DAY) / 1000,
      to: T0 / 1000,
    });
    expect(median.map((r) => [r.external_id, r.sku, r.title, r.median_days, r.repeats])).toEqual([
      ['ra', 'COFFEE', 'Coffee beans', 30, 6],
      ['rb', 'COFFEE', 'Coffee beans', 30, 6],
      ['rg', 'COFFEE', 'Coffee beans', 30, 6],
    ]);
    expect(
      await replenishmentDue(w.db, {
        minRepeats: 7,
        leadDays: 3,
        from: (T0 - 7 * DAY) / 1000,
        to: T0 / 1000,
      }),
    ).toEqual([]);
    w.clock.set(ago(0, 3));
    await install('replenishment');

    // Two hours before T0: rb and rg are due; ra's moment (T0 − 1 h) has not come.
    expect((await sweepAt('replenishment', ago(0, 2).toISOString())).entered).toEqual(['rb', 'rg']);
    const ra = await sweepAt('replenishment', ago(0, 1).toISOString());
    expect(ra.entered).toEqual(['ra']);
    expect(ra.fresh[0]!.occurrence).toBe(`replenish:COFFEE:${ago(27, 1).toISOString()}`);
    expect(contextOf(ra.fresh[0]!)).toEqual({
      trigger: 'replenishment',
      product: { sku: 'COFFEE', title: 'Coffee beans' },
      last_bought_at: ago(27, 1).toISOString(),
      interval_days: 30,
      repeats: 6,
    });
    await advance(ago(0, 1).toISOString());
    // 10:00 local on 10 June: 07:00Z in Kyiv, 14:00Z in New York.
    expect(await runOf('replenishment', 'ra')).toMatchObject({ next_at: new Date('2026-06-10T07:00:00Z') });
    expect(await runOf('replenishment', 'rb')).toMatchObject({ next_at: new Date('2026-06-10T14:00:00Z') });
    expect(await runOf('replenishment', 'rg')).toMatchObject({ next_at: new Date('2026-06-10T14:00:00Z') });
    expect((await advance('2026-06-10T07:00:00Z')).sent).toBe(1);
    // rg orders at 06:00 his time: the goal, no message.
    await at('2026-06-10T10:00:00Z');
    await coffee('rg-2', 'rg', new Date('2026-06-10T10:00:00Z'));
    await at('2026-06-10T10:00:00Z');
    expect(await runOf('replenishment', 'rg')).toMatchObject({ status: 'goal' });
    expect((await advance('2026-06-10T14:00:00Z')).sent).toBe(1);
    // The next day: ra and rb are still due by their last purchase, but entered for it already.
    expect(await sweepAt('replenishment', '2026-06-11T05:05:00Z')).toMatchObject({
      entered: [],
      sim: { events: 2, excluded: { reentry: 2 } },
    });

    const sends = await sendsOf('replenishment');
    expect(sends.map((s) => [s.customer, s.template, s.not_before.toISOString()])).toEqual([
      ['ra', 'replenishment-1', '2026-06-10T07:00:00.000Z'],
      ['rb', 'replenishment-1', '2026-06-10T14:00:00.000Z'],
    ]);
    for (const s of sends) expect(s.vars.flow.product).toEqual({ sku: 'COFFEE', title: 'Coffee beans' });
    expect(await deliver()).toMatchObject({ sent: 2 });
    expect(mailTo('ra')[0]!.subject).toBe('Time for more Coffee beans?');
    expect(mailTo('ra')[0]!.text).toContain('You usually need Coffee beans again about every 30 days.');

    // rb buys again on 12 June (an interval of 32.41 days; with rg's 28.20 the eight intervals' middle
    // two are still 29 and 31: 30 days); due 27 days later, on 9 July 15:00Z — and rg, who bought on
    // 10 June, on 7 July 10:00Z. Both enter again: a new last purchase is a new occasion. rc, who had
    // bought again on 8 June, is due by that purchase on 5 July 05:05Z.
    await at('2026-06-12T15:00:00Z');
    await coffee('rb-3', 'rb', new Date('2026-06-12T15:00:00Z'));
    expect((await sweepAt('replenishment', '2026-07-05T04:05:00Z')).entered).toEqual([]);
    const rc = await sweepAt('replenishment', '2026-07-05T05:05:00Z');
    expect(rc.entered).toEqual(['rc']);
    expect(rc.fresh[0]!.occurrence).toBe(`replenish:COFFEE:${ago(2).toISOString()}`);
    expect((await sweepAt('replenishment', '2026-07-07T09:05:00Z')).entered).toEqual([]);
    expect((await sweepAt('replenishment', '2026-07-07T10:05:00Z')).entered).toEqual(['rg']);
    const rb = await sweepAt('replenishment', '2026-07-09T15:05:00Z');
    expect(rb.entered).toEqual(['rb']);
    expect(contextOf(rb.fresh[0]!)).toMatchObject({
      last_bought_at: '2026-06-12T15:00:00.000Z',
      interval_days: 30,
      repeats: 8,
    });
  }, 120_000);

  it('nextOrderPassed (a flow of its own): the predicted next order passed by the grace days, within the 7-day look-back, once per last order', async () => {
    w = await open(engine, '2026-06-01T02:00:00Z');
    await saveTemplate(w.ctx, {
      body: {
        name: 'overdue-1',
        channel: 'email',
        kind: 'marketing',
        variants: [
          {
            locale: 'en',
            subject: 'Running low?',
            body: `<mjml><mj-body><mj-section><mj-column><mj-text>We expected you around {{ flow.next_order_at }}.</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`,
          },
        ],
      },
      by: null,
    });
    await saveFlow(w.ctx, {
      body: {
        name: 'overdue',
        trigger: { time: { kind: 'nextOrderPassed', graceDays: 2 } },
        goal: { event: 'order.placed' },
        reentry: { kind: 'always' },
        steps: [
          { id: 'morning', waitUntil: { localTime: '10:00' } },
          { id: 'nudge', send: { template: 'overdue-1' } },
        ],
      },
      by: 'test',
    });
    await customer('na', 'Europe/Kyiv');
    await customer('nb', 'America/New_York');
    await customer('nc', 'Europe/Kyiv');
    await customer('nd', 'America/New_York');
    await order('na-1', 'na', '2026-05-01T10:00:00Z');
    await order('nb-1', 'nb', '2026-05-10T15:00:00Z');
    await order('nc-1', 'nc', '2026-04-01T10:00:00Z');
    await order('nd-1', 'nd', '2026-05-15T15:00:00Z');
    // The next order's due date comes from the clv run (stored predictions written here, as above).
    await predictions('2026-05-31T00:00:00Z', {
      na: { pAlive: 0.7, nextOrderAt: '2026-06-01T00:00:00Z' },
      nb: { pAlive: 0.7, nextOrderAt: '2026-06-05T12:00:00Z' },
      nc: { pAlive: 0.7, nextOrderAt: '2026-05-20T00:00:00Z' },
      nd: { pAlive: 0.7, nextOrderAt: '2026-06-09T00:00:00Z' },
    });
    await refreshScores(w.ctx);
    await moveFlow(w.ctx, { name: 'overdue', action: 'activate' });

    // 8 June 05:05Z, 2 days' grace: due dates in (30 May 05:05Z, 6 June 05:05Z] — na and nb; nc's (20
    // May) is older than the look-back, nd's (9 June) not past the grace yet.
    const first = await sweepAt('overdue', '2026-06-08T05:05:00Z');
    expect(first.entered).toEqual(['na', 'nb']);
    expect(first.fresh.map((r) => r.occurrence)).toEqual([
      'next-order:2026-05-01T10:00:00.000Z',
      'next-order:2026-05-10T15:00:00.000Z',
    ]);
    expect(contextOf(first.fresh[1]!)).toEqual({
      trigger: 'nextOrderPassed',
      last_order_at: '2026-05-10T15:00:00.000Z',
      next_order_at: '2026-06-05T12:00:00.000Z',
    });
    // The same instant again: nobody twice.
    expect((await sweepTimeTriggers(w.ctx)).entered).toBe(0);
    await advance('2026-06-08T05:05:00Z');
    expect((await advance('2026-06-08T07:00:00Z')).sent).toBe(1); // na: 10:00 in Kyiv
    expect((await advance('2026-06-08T14:00:00Z')).sent).toBe(1); // nb: 10:00 in New York
    // nb orders on the 9th; the scores are refreshed with her new last order while the prediction (and
    // its due date, 5 June) is still the one made before it: she has not missed an order, she placed one.
    await at('2026-06-09T10:00:00Z');
    await order('nb-2', 'nb', '2026-06-09T10:00:00Z');
    w.clock.set(new Date('2026-06-09T10:01:00Z'));
    await refreshScores(w.ctx);
    expect((await sweepAt('overdue', '2026-06-10T23:05:00Z')).entered).toEqual([]);
    // nd's due date (9 June 00:00Z) plus 2 days passes at 11 June 00:00Z: the next sweep enters her.
    expect((await sweepAt('overdue', '2026-06-11T00:05:00Z')).entered).toEqual(['nd']);
    // A week on nobody new: nd once for her last order; na's due date left the look-back.
    expect(await sweepAt('overdue', '2026-06-15T00:05:00Z')).toMatchObject({
      entered: [],
      sim: { events: 1, excluded: { inFlight: 1 } },
    });
    // The next clv run (after nb's June order) dates her next one 10 July: passed by 2 days on the 12th,
    // a new last order, so she enters again.
    w.clock.set(new Date('2026-07-01T02:40:00Z'));
    await predictions('2026-06-30T00:00:00Z', { nb: { pAlive: 0.7, nextOrderAt: '2026-07-10T00:00:00Z' } });
    await refreshScores(w.ctx);
    const again = await sweepAt('overdue', '2026-07-12T05:05:00Z');
    expect(again.entered).toEqual(['nb']);
    expect(again.fresh[0]!.occurrence).toBe('next-order:2026-06-09T10:00:00.000Z');
    const sends = await sendsOf('overdue');
    expect(sends.map((s) => [s.customer, s.not_before.toISOString()])).toEqual([
      ['na', '2026-06-08T07:00:00.000Z'],
      ['nb', '2026-06-08T14:00:00.000Z'],
    ]);
  }, 120_000);
});

describe('the flows.time job', () => {
  it('is registered with the flows’ jobs and scheduled hourly at :05 UTC', () => {
    expect(typeof FLOW_JOBS[TIME_JOB]).toBe('function');
    expect(typeof FLOW_JOBS[ADVANCE_JOB]).toBe('function');
    expect(flowsModule.schedules).toContainEqual({
      name: 'flows.time',
      cron: '5 * * * *',
      timeZone: 'UTC',
      kind: TIME_JOB,
      catchUp: 'skip',
    });
  });
});
