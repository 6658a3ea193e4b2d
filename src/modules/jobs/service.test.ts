import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import type { Database } from '../../storage/port.js';
import { AppError } from '../../shared/errors.js';
import * as repo from './repository.js';
import { JobQueue, JobRunner, exponentialBackoff } from './service.js';

describe.each(testEngines())('durable jobs on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let now = new Date('2024-03-01T00:00:00Z');
  const clock = { now: () => now };
  const tick = (ms: number) => (now = new Date(now.getTime() + ms));

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(() => dispose());

  it('enqueues once per idempotency key', async () => {
    const q = new JobQueue(db, clock);
    const a = await q.enqueue('noop', { n: 1 }, { idempotencyKey: 'k1' });
    const b = await q.enqueue('noop', { n: 2 }, { idempotencyKey: 'k1' });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.jobId).toBe(a.job.jobId);
    expect(b.job.payload).toEqual({ n: 1 });
    const runs: number[] = [];
    const runner = new JobRunner({ db, clock, handlers: { noop: async ({ job }) => runs.push(job.jobId) } });
    expect(await runner.drain()).toBe(1);
    expect(runs).toEqual([a.job.jobId]);
    const done = await q.get(a.job.jobId);
    expect(done).toMatchObject({ status: 'done', attempts: 1, result: 1 });
  });

  it('a burst of wake-ups makes one job; one due later, or after the first ran, makes another', async () => {
    const q = new JobQueue(db, clock);
    const created: boolean[] = [];
    for (let i = 0; i < 50; i++)
      created.push((await db.transaction((tx) => q.wakeIn(tx, 'wake-test'))).created);
    expect(created.filter(Boolean)).toHaveLength(1);
    // A queued one due now covers work due later; work due earlier than a queued one needs its own.
    expect((await q.wakeIn(db, 'wake-test', { runAt: new Date(now.getTime() + 60_000) })).created).toBe(
      false,
    );
    expect((await q.wakeIn(db, 'wake-later', { runAt: new Date(now.getTime() + 60_000) })).created).toBe(
      true,
    );
    expect((await q.wakeIn(db, 'wake-later')).created).toBe(true);
    const runs: string[] = [];
    const runner = new JobRunner({
      db,
      clock,
      handlers: {
        'wake-test': async () => runs.push('wake-test'),
        'wake-later': async () => runs.push('wake-later'),
      },
    });
    expect(await runner.drain()).toBe(2);
    expect(runs.sort()).toEqual(['wake-later', 'wake-test']);
    // Once it ran, the next wake-up is a new job.
    expect((await q.wakeIn(db, 'wake-test')).created).toBe(true);
  });

  it('waits for run_at, retries with exponential backoff, then dead-letters', async () => {
    const q = new JobQueue(db, clock);
    const { job } = await q.enqueue('flaky', null, {
      idempotencyKey: 'k2',
      runAt: new Date(now.getTime() + 5000),
      maxAttempts: 3,
    });
    let calls = 0;
    const runner = new JobRunner({
      db,
      clock,
      backoffMs: exponentialBackoff(1000),
      handlers: {
        flaky: async () => {
          calls++;
          throw new Error(`boom ${calls}`);
        },
      },
    });
    expect(await runner.drain()).toBe(0); // not due yet
    tick(5000);
    expect(await runner.drain()).toBe(1);
    let j = await q.get(job.jobId);
    expect(j).toMatchObject({ status: 'queued', attempts: 1, lastError: 'boom 1' });
    expect(j?.runAt.getTime()).toBe(now.getTime() + 1000);
    tick(999);
    expect(await runner.drain()).toBe(0);
    tick(1);
    await runner.drain();
    j = await q.get(job.jobId);
    expect(j?.runAt.getTime()).toBe(now.getTime() + 2000); // 2nd retry waits twice as long
    tick(2000);
    await runner.drain();
    j = await q.get(job.jobId);
    expect(j).toMatchObject({ status: 'dead', attempts: 3, lastError: 'boom 3' });
    expect(calls).toBe(3);
  });

  it('dead-letters validation failures at once (retrying cannot fix them)', async () => {
    const q = new JobQueue(db, clock);
    const { job } = await q.enqueue('bad', null, { idempotencyKey: 'k3' });
    const runner = new JobRunner({
      db,
      clock,
      handlers: {
        bad: async () => {
          throw new AppError('validation', 'the file is empty');
        },
      },
    });
    await runner.drain();
    expect(await q.get(job.jobId)).toMatchObject({ status: 'dead', attempts: 1 });
  });

  it('reclaims a job whose worker died once its lease expires; only the holder completes it', async () => {
    const q = new JobQueue(db, clock);
    const { job } = await q.enqueue('slow', null, { idempotencyKey: 'k4', maxAttempts: 2 });
    const [claimed] = await repo.claimDue(db, {
      workerId: 'dead-worker',
      kinds: ['slow'],
      now,
      leaseUntil: new Date(now.getTime() + 1000),
      limit: 10,
    });
    expect(claimed?.jobId).toBe(job.jobId);
    const runner = new JobRunner({ db, clock, leaseMs: 1000, handlers: { slow: async () => 'ok' } });
    expect(await runner.drain()).toBe(0); // lease still held
    tick(1001);
    expect(await runner.drain()).toBe(1);
    expect(await q.get(job.jobId)).toMatchObject({ status: 'done', attempts: 2, result: 'ok' });
    // The dead worker waking up late cannot complete or fail it any more.
    expect(await repo.completeJob(db, job.jobId, 'dead-worker', 'late', now)).toBe(false);
    expect(await repo.failJob(db, job.jobId, 'dead-worker', 'late', null, now)).toBe(false);
  });

  it('buries a job whose worker died on its last attempt', async () => {
    const q = new JobQueue(db, clock);
    const { job } = await q.enqueue('slow', null, { idempotencyKey: 'k5', maxAttempts: 1 });
    await repo.claimDue(db, {
      workerId: 'gone',
      kinds: ['slow'],
      now,
      leaseUntil: new Date(now.getTime() + 10),
      limit: 1,
    });
    tick(11);
    const runner = new JobRunner({ db, clock, handlers: { slow: async () => 'ok' } });
    expect(await runner.drain()).toBe(0);
    expect(await q.get(job.jobId)).toMatchObject({
      status: 'dead',
      lastError: 'lease expired on the last attempt',
    });
  });

  it('enqueues in the caller transaction: a rolled-back change leaves no job (outbox)', async () => {
    const q = new JobQueue(db, clock);
    await expect(
      db.transaction(async (tx) => {
        await q.enqueueIn(tx, 'outbox', { n: 1 }, { idempotencyKey: 'ob-1' });
        throw new Error('the data change failed');
      }),
    ).rejects.toThrow('the data change failed');
    expect(await repo.jobByKey(db, 'ob-1')).toBeUndefined();
    await db.transaction((tx) => q.enqueueIn(tx, 'outbox', { n: 2 }, { idempotencyKey: 'ob-1' }));
    expect((await repo.jobByKey(db, 'ob-1'))?.payload).toEqual({ n: 2 });
  });

  it('runs recurring schedules once per slot, however many runners poll', async () => {
    const slots: string[] = [];
    const make = () =>
      new JobRunner({
        db,
        clock,
        schedules: [{ name: 'hourly', cron: '0 * * * *', timeZone: 'UTC', kind: 'hourly' }],
        handlers: { hourly: async ({ job }) => slots.push((job.payload as { slot: string }).slot) },
      });
    const [a, b] = [make(), make()];
    now = new Date('2024-03-02T10:15:00Z');
    await a.drain();
    await b.drain();
    tick(30 * 60_000); // 10:45: same slot
    await b.drain();
    tick(30 * 60_000); // 11:15: next slot
    await a.drain();
    await b.drain();
    expect(slots).toEqual(['2024-03-02T10:00:00.000Z', '2024-03-02T11:00:00.000Z']);
  });

  it('runs jobs in the background and stops after finishing those in flight', async () => {
    const q = new JobQueue(db); // real clock
    const seen: string[] = [];
    const runner = new JobRunner({
      db,
      queue: q,
      pollMs: 10_000, // only the in-process wake-up can make this fast
      handlers: {
        bg: async ({ job }) => {
          await new Promise((r) => setTimeout(r, 30));
          seen.push(job.idempotencyKey);
        },
      },
    });
    runner.start();
    for (let i = 0; i < 5; i++) await q.enqueue('bg', null, { idempotencyKey: `bg-${i}` });
    const t = Date.now();
    while (seen.length < 5 && Date.now() - t < 5000) await new Promise((r) => setTimeout(r, 20));
    await runner.stop();
    expect(seen.sort()).toEqual(['bg-0', 'bg-1', 'bg-2', 'bg-3', 'bg-4']);
  });
});

describe.runIf(testEngines().includes('postgres'))('several workers on postgres', () => {
  it('never runs a job twice when runners claim concurrently (FOR UPDATE SKIP LOCKED)', async () => {
    const { db, dispose } = await freshDatabase('postgres');
    try {
      const q = new JobQueue(db);
      for (let i = 0; i < 200; i++) await q.enqueue('work', { i }, { idempotencyKey: `w-${i}` });
      const runs = new Map<string, string[]>();
      const runners = ['a', 'b', 'c', 'd'].map(
        (name) =>
          new JobRunner({
            db,
            workerId: name,
            concurrency: 3,
            handlers: {
              work: async ({ job }) => {
                await new Promise((r) => setTimeout(r, Math.random() * 5));
                runs.set(job.idempotencyKey, [...(runs.get(job.idempotencyKey) ?? []), name]);
              },
            },
          }),
      );
      await Promise.all(runners.map((r) => r.drain()));
      expect(runs.size).toBe(200);
      expect([...runs.values()].every((w) => w.length === 1)).toBe(true);
      expect(new Set([...runs.values()].flat()).size).toBeGreaterThan(1); // the work was shared
      expect(await repo.countByStatus(db)).toEqual({ queued: 0, running: 0, done: 200, dead: 0 });
    } finally {
      await dispose();
    }
  });
});
