import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { ScheduleInput } from '../../kit/schedule.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { runUntil, sharedPostgres } from '../../../test/support/jobs.js';
import * as repo from './repository.js';
import { scheduleState } from './scheduleRepository.js';
import { JobRunner } from './service.js';

const HOUR = 3_600_000;

const kyivDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Kyiv', dateStyle: 'short' });
const kyivTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Kyiv',
  hour: '2-digit',
  minute: '2-digit',
});

describe.each(testEngines())('cron schedules on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(() => dispose());

  it('runs a 02:00 Europe/Kyiv schedule once per local day through a year and both DST changes', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z'); // 02:00 in Kyiv (UTC+2): the first slot
    const runs: { slot: string; ranAt: string }[] = [];
    const runner = new JobRunner({
      db,
      clock,
      schedules: [{ name: 'kyiv-nightly', cron: '0 2 * * *', timeZone: 'Europe/Kyiv', kind: 'nightly' }],
      handlers: {
        nightly: async ({ job, clock: c }) =>
          runs.push({ slot: (job.payload as { slot: string }).slot, ranAt: c.now().toISOString() }),
      },
    });
    // The clock stops at each slot as it comes (and at the end, 23:59 on 31 December in Kyiv).
    await runUntil(clock, runner, '2026-12-31T21:59:00Z');

    expect(runs).toHaveLength(365);
    const dates = runs.map((r) => kyivDate.format(new Date(r.slot)));
    expect(new Set(dates).size).toBe(365);
    expect(dates[0]).toBe('2026-01-01');
    expect(dates.at(-1)).toBe('2026-12-31');
    expect(runs.every((r) => kyivTime.format(new Date(r.slot)) === '02:00')).toBe(true);
    expect(runs.every((r) => r.ranAt === r.slot)).toBe(true); // fired at its time, not later
    // 02:00 in Kyiv is 00:00 UTC in winter (EET) and 23:00 UTC the day before in summer (EEST).
    const utcOf = (date: string) => runs[dates.indexOf(date)]?.slot;
    expect(utcOf('2026-03-28')).toBe('2026-03-28T00:00:00.000Z');
    expect(utcOf('2026-03-29')).toBe('2026-03-29T00:00:00.000Z'); // clocks go forward at 03:00
    expect(utcOf('2026-03-30')).toBe('2026-03-29T23:00:00.000Z');
    expect(utcOf('2026-10-25')).toBe('2026-10-24T23:00:00.000Z'); // clocks go back at 04:00
    expect(utcOf('2026-10-26')).toBe('2026-10-26T00:00:00.000Z');
    const summer = (d: string) => d >= '2026-03-30' && d <= '2026-10-25';
    expect(
      runs.every((r, i) => new Date(r.slot).getUTCHours() === (summer(dates[i] as string) ? 23 : 0)),
    ).toBe(true);
    expect((await scheduleState(db, 'kyiv-nightly'))?.lastSlot.toISOString()).toBe(
      '2026-12-31T00:00:00.000Z',
    );
  });

  for (const catchUp of ['last', 'skip'] as const) {
    it(`after three days of downtime, catch-up '${catchUp}' does what it documents, then resumes`, async () => {
      const clock = new ManualClock('2026-05-01T06:00:00Z');
      const runs: string[] = [];
      const schedule: ScheduleInput = {
        name: `daily-${catchUp}`,
        cron: '0 6 * * *',
        timeZone: 'UTC',
        kind: `daily-${catchUp}`,
        catchUp,
      };
      const make = () =>
        new JobRunner({
          db,
          clock,
          schedules: [schedule],
          handlers: { [schedule.kind]: async ({ job }) => runs.push((job.payload as { slot: string }).slot) },
        });
      await runUntil(clock, make(), '2026-05-01T12:00:00Z');
      expect(runs).toEqual(['2026-05-01T06:00:00.000Z']);

      // Down from 12:00 on 1 May to 12:00 on 4 May: the slots of 2, 3 and 4 May pass unseen.
      clock.set('2026-05-04T12:00:00Z');
      const restarted = make();
      await restarted.drain();
      await make().drain(); // a second worker starting as well changes nothing
      if (catchUp === 'last') expect(runs.slice(1)).toEqual(['2026-05-04T06:00:00.000Z']);
      else expect(runs.slice(1)).toEqual([]);
      expect((await scheduleState(db, schedule.name))?.lastSlot.toISOString()).toBe(
        '2026-05-04T06:00:00.000Z',
      );

      await runUntil(clock, restarted, '2026-05-06T12:00:00Z', { stepMs: HOUR });
      expect(runs.slice(catchUp === 'last' ? 2 : 1)).toEqual([
        '2026-05-05T06:00:00.000Z',
        '2026-05-06T06:00:00.000Z',
      ]);
    });
  }

  it("catch-up 'skip' runs a slot seen within its grace period and drops one seen later", async () => {
    const clock = new ManualClock('2026-06-01T09:00:00Z');
    const runs: string[] = [];
    const make = () =>
      new JobRunner({
        db,
        clock,
        schedules: [
          {
            name: 'grace',
            cron: '0 * * * *',
            timeZone: 'UTC',
            kind: 'grace',
            catchUp: 'skip',
            graceMs: 5 * 60_000,
          },
        ],
        handlers: { grace: async ({ job }) => runs.push((job.payload as { slot: string }).slot) },
      });
    clock.set('2026-06-01T09:05:00Z'); // exactly at the end of the grace period: runs
    await make().drain();
    clock.set('2026-06-01T10:05:01Z'); // a millisecond late: dropped
    await make().drain();
    expect(runs).toEqual(['2026-06-01T09:00:00.000Z']);
    expect((await scheduleState(db, 'grace'))?.lastSlot.toISOString()).toBe('2026-06-01T10:00:00.000Z');
  });

  it('enqueues the payload with the schedule name and slot, keyed per slot', async () => {
    const clock = new ManualClock('2026-02-01T00:00:30Z');
    const runner = new JobRunner({
      db,
      clock,
      schedules: [
        {
          name: 'with-payload',
          cron: '@daily',
          timeZone: 'UTC',
          kind: 'payload',
          payload: { segment: 'vip' },
        },
      ],
      handlers: { payload: async () => 'ok' },
    });
    expect(runner.nextSlotAt()?.toISOString()).toBe('2026-02-02T00:00:00.000Z');
    expect(await runner.drain()).toBe(1);
    const job = await repo.jobByKey(db, 'schedule:with-payload:2026-02-01T00:00:00.000Z');
    expect(job).toMatchObject({
      kind: 'payload',
      status: 'done',
      payload: { segment: 'vip', schedule: 'with-payload', slot: '2026-02-01T00:00:00.000Z' },
    });
    expect(job?.runAt.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect((await scheduleState(db, 'with-payload'))?.lastSlot).toEqual(job?.runAt);
  });

  it('a running runner enqueues slots as they come even while all its job slots are busy', async () => {
    const clock = new ManualClock('2026-08-01T10:30:00Z');
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    const runner = new JobRunner({
      db,
      clock,
      concurrency: 1,
      pollMs: 10,
      schedules: [
        { name: 'busy', cron: '0 * * * *', timeZone: 'UTC', kind: 'busy', catchUp: 'skip', graceMs: 60_000 },
      ],
      handlers: { busy: () => blocked },
    });
    const key = (iso: string) => `schedule:busy:${iso}`;
    runner.start();
    try {
      clock.set('2026-08-01T11:00:00Z');
      const waitFor = async (iso: string) => {
        for (let i = 0; i < 500 && !(await repo.jobByKey(db, key(iso))); i++)
          await new Promise((r) => setTimeout(r, 10));
      };
      await waitFor('2026-08-01T11:00:00.000Z'); // claimed: the runner's one job slot is taken
      clock.set('2026-08-01T12:00:00Z');
      await waitFor('2026-08-01T12:00:00.000Z');
      expect(await repo.jobByKey(db, key('2026-08-01T12:00:00.000Z'))).toMatchObject({ status: 'queued' });
    } finally {
      release();
      await runner.stop();
    }
  });

  it('refuses a schedule whose job kind has no handler', () => {
    expect(
      () =>
        new JobRunner({
          db,
          schedules: [{ name: 'orphan', cron: '0 * * * *', timeZone: 'UTC', kind: 'nobody' }],
          handlers: {},
        }),
    ).toThrow('schedule orphan enqueues job kind nobody, which has no handler');
  });
});

describe.runIf(testEngines().includes('postgres'))('cron schedules with two workers on postgres', () => {
  it('runs each slot once when two runners on separate connections poll concurrently', async () => {
    const { a, b, dispose } = await sharedPostgres(process.env.RETAIN_TEST_DATABASE_URL as string);
    try {
      const clock = new ManualClock('2026-03-01T00:00:00Z');
      const runs = new Map<string, string[]>();
      const make = (db: Database, workerId: string) =>
        new JobRunner({
          db,
          clock,
          workerId,
          concurrency: 3,
          schedules: [
            { name: 'every-minute', cron: '* * * * *', timeZone: 'UTC', kind: 'tick' },
            { name: 'every-5', cron: '*/5 * * * *', timeZone: 'Europe/Kyiv', kind: 'tick' },
          ],
          handlers: {
            tick: async ({ job }) => {
              await new Promise((r) => setTimeout(r, Math.random() * 3));
              runs.set(job.idempotencyKey, [...(runs.get(job.idempotencyKey) ?? []), workerId]);
            },
          },
        });
      const runners = [make(a, 'worker-a'), make(b, 'worker-b')];
      // 300 one-minute slots; at each, both runners enqueue and claim at the same time.
      await runUntil(clock, runners, '2026-03-01T04:59:00Z', { concurrent: true });
      expect(runs.size).toBe(300 + 60);
      expect([...runs.values()].every((w) => w.length === 1)).toBe(true);
      expect(new Set([...runs.values()].flat())).toEqual(new Set(['worker-a', 'worker-b'])); // shared
      expect(await repo.countByStatus(a)).toEqual({ queued: 0, running: 0, done: 360, dead: 0 });
      const keys = await a.query<{ n: number }>(
        `SELECT COUNT(DISTINCT idempotency_key) AS n FROM jobs WHERE idempotency_key LIKE 'schedule:%'`,
      );
      expect(keys[0]?.n).toBe(360);
      expect((await scheduleState(b, 'every-minute'))?.lastSlot.toISOString()).toBe(
        '2026-03-01T04:59:00.000Z',
      );
    } finally {
      await dispose();
    }
  });
});
