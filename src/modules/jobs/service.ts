import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { JobHandler } from '../../kit/context.js';
import { EnqueueOptions, type Job, type Jobs } from '../../kit/jobs.js';
import { parseSchedules, ScheduleSlots, type ScheduleInput } from '../../kit/schedule.js';
import { AppError } from '../../shared/errors.js';
import type { Database, Queryable } from '../../storage/port.js';
import * as repo from './repository.js';
import { decideSlot, scheduleState } from './scheduleRepository.js';

export type { JobContext, JobHandler } from '../../kit/context.js';

/**
 * Durable jobs in the store's own database (an outbox: enqueue in the same database as the data).
 * Delivery is at least once: a job whose worker dies is claimed again once its lease expires, so
 * handlers must be idempotent — each receives `job.idempotencyKey` to guard its writes with a
 * unique constraint.
 */
export class JobQueue implements Jobs {
  private readonly events = new EventEmitter();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Enqueues once per idempotency key; returns the job under that key and whether it is new. */
  async enqueue(
    kind: string,
    payload: unknown,
    opts: EnqueueOptions,
  ): Promise<{ job: Job; created: boolean }> {
    const out = await this.insert(this.db, kind, payload, opts);
    if (out.created) this.events.emit('enqueued', kind);
    return out;
  }

  /**
   * Enqueues inside the caller's transaction (the outbox pattern): the job exists if and only if the
   * data change that triggered it commits. Call `notify(kind)` after the commit to wake a local runner.
   */
  enqueueIn(
    tx: Queryable,
    kind: string,
    payload: unknown,
    opts: EnqueueOptions,
  ): Promise<{ job: Job; created: boolean }> {
    return this.insert(tx, kind, payload, opts);
  }

  async wakeIn(tx: Queryable, kind: string, opts: { runAt?: Date } = {}): Promise<{ created: boolean }> {
    const now = this.clock.now();
    const created = await repo.insertWake(tx, this.db.dialect.jsonType, {
      kind,
      idempotencyKey: `${kind}:wake:${randomUUID()}`,
      runAt: opts.runAt ?? now,
      now,
    });
    return { created };
  }

  notify(kind: string): void {
    this.events.emit('enqueued', kind);
  }

  private insert(q: Queryable, kind: string, payload: unknown, opts: EnqueueOptions) {
    const o = EnqueueOptions.parse(opts);
    const now = this.clock.now();
    return repo.insertJob(q, this.db.dialect.jsonType, {
      kind,
      idempotencyKey: o.idempotencyKey,
      payload,
      runAt: o.runAt ?? now,
      maxAttempts: o.maxAttempts,
      now,
    });
  }

  get(jobId: number): Promise<Job | undefined> {
    return repo.jobById(this.db, jobId);
  }

  /** Called when a job is enqueued in this process (the runner wakes up instead of waiting for its poll). */
  onEnqueued(fn: (kind: string) => void): () => void {
    this.events.on('enqueued', fn);
    return () => this.events.off('enqueued', fn);
  }
}

export interface RunnerOptions {
  db: Database;
  handlers: Record<string, JobHandler>;
  queue?: Jobs;
  logger?: Logger;
  workerId?: string;
  /** Jobs run at once by this runner. */
  concurrency?: number;
  /** How long a claim lasts without renewal; renewed every third of it while the handler runs. */
  leaseMs?: number;
  pollMs?: number;
  /** Delay before retry number `attempt` (1-based): exponential, capped at an hour. */
  backoffMs?: (attempt: number) => number;
  clock?: Clock;
  /**
   * Cron schedules (src/kit/schedule.ts): before each claim the runner enqueues the slots that have
   * come, exactly once per slot across runners and restarts (`schedule_state`, compare-and-set, in the
   * transaction that enqueues the job keyed `schedule:<name>:<slot>`). Each schedule's kind needs a
   * handler in `handlers`.
   */
  schedules?: readonly ScheduleInput[];
}

export const exponentialBackoff =
  (baseMs = 1000, capMs = 3_600_000) =>
  (attempt: number) =>
    Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));

/** Claims and runs due jobs; `stop()` stops claiming and waits for the jobs in flight. */
export class JobRunner {
  readonly workerId: string;
  private readonly o: Required<Omit<RunnerOptions, 'queue' | 'logger' | 'schedules'>> &
    Pick<RunnerOptions, 'queue' | 'logger'>;
  private readonly slots: ScheduleSlots[];
  /** Per schedule, the latest slot known to be decided (state rows only move forward). */
  private readonly decided = new Map<string, number>();
  /** What handlers get besides their job. */
  private readonly ctx: ModuleContext;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private wake: (() => void) | undefined;
  /** Set by a wake-up that came while the loop was not asleep (claiming), so it is not lost. */
  private woken = false;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(opts: RunnerOptions) {
    this.workerId = opts.workerId ?? `w-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.o = {
      concurrency: 2,
      leaseMs: 60_000,
      pollMs: 1000,
      backoffMs: exponentialBackoff(),
      clock: systemClock,
      workerId: this.workerId,
      ...opts,
    };
    this.slots = parseSchedules(opts.schedules ?? []).map((s) => new ScheduleSlots(s));
    for (const { schedule: s } of this.slots) {
      if (!(s.kind in this.o.handlers))
        throw new Error(`schedule ${s.name} enqueues job kind ${s.kind}, which has no handler`);
    }
    this.ctx = {
      db: this.o.db,
      clock: this.o.clock,
      jobs: this.o.queue ?? new JobQueue(this.o.db, this.o.clock),
      log: this.o.logger ?? pino({ level: 'silent' }),
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.queue?.onEnqueued((kind) => {
      if (kind in this.o.handlers) this.nudge();
    });
    this.loop = this.run();
  }

  /** Stops claiming new jobs and waits for those in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.nudge();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Enqueues the due slots of the schedules, then runs due jobs until none is left (tests and one-shot
   * workers). Returns how many jobs were attempted.
   */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const claimed = await this.claim(this.o.concurrency);
      if (claimed.length === 0) return n;
      n += claimed.length;
      await Promise.all(claimed.map((j) => this.execute(j)));
    }
  }

  /** Wakes the loop now, or — when it is claiming, not asleep — makes it look again before it sleeps. */
  private nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      try {
        const free = this.o.concurrency - this.inFlight.size;
        // Busy or not, schedule slots are enqueued as they come (a `skip` slot has a grace period).
        if (free <= 0) await this.enqueueDueSlots();
        const claimed = free > 0 ? await this.claim(free) : [];
        for (const job of claimed) {
          const p: Promise<void> = this.execute(job).finally(() => {
            this.inFlight.delete(p);
            this.nudge();
          });
          this.inFlight.add(p);
        }
        if (claimed.length > 0 && claimed.length === free) continue;
      } catch (err) {
        this.o.logger?.error({ err }, 'job claim failed');
      }
      if (!this.running) break;
      // A job enqueued (or finished) while this pass was claiming: look again instead of sleeping.
      if (this.woken) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.pollMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * The earliest slot of any schedule strictly after the clock's now, or null (none, or no schedules):
   * a simulation moves its clock there and drains.
   */
  nextSlotAt(): Date | null {
    const now = this.o.clock.now();
    let first: Date | null = null;
    for (const s of this.slots) {
      const next = s.next(now);
      if (next && (!first || next < first)) first = next;
    }
    return first;
  }

  /**
   * Decides the latest slot of every schedule that has come (at or before `now`) and is not decided
   * yet: under catch-up `last` its job is enqueued; under `skip` only if `now` is within the grace
   * period, otherwise the slot is dropped. The state row's compare-and-set and the job's idempotency
   * key make this exactly once per slot whatever the number of runners.
   */
  async enqueueDueSlots(now: Date = this.o.clock.now()): Promise<number> {
    let enqueued = 0;
    for (const s of this.slots) {
      const { schedule } = s;
      const slot = s.latest(now);
      if (!slot) continue;
      const known = this.decided.get(schedule.name);
      if (known !== undefined && slot.getTime() <= known) continue; // no new slot since the last look
      const run = schedule.catchUp === 'last' || now.getTime() - slot.getTime() <= schedule.graceMs;
      const jobId = await decideSlot(this.o.db, {
        name: schedule.name,
        slot,
        now,
        workerId: this.workerId,
        run,
        job: {
          kind: schedule.kind,
          idempotencyKey: s.key(slot),
          payload: { ...schedule.payload, schedule: schedule.name, slot: slot.toISOString() },
          maxAttempts: schedule.maxAttempts,
        },
      });
      if (jobId === undefined) {
        // Another runner decided it (or a later slot): remember how far the state has gone.
        const state = await scheduleState(this.o.db, schedule.name);
        this.decided.set(schedule.name, Math.max(slot.getTime(), state?.lastSlot.getTime() ?? 0));
        continue;
      }
      this.decided.set(schedule.name, slot.getTime());
      if (jobId !== null) enqueued++;
      this.o.logger?.info(
        { schedule: schedule.name, slot: slot.toISOString(), jobId },
        jobId === null ? 'schedule slot dropped (missed its grace period)' : 'schedule slot enqueued',
      );
    }
    return enqueued;
  }

  private async claim(limit: number): Promise<Job[]> {
    const now = this.o.clock.now();
    await this.enqueueDueSlots(now);
    await repo.buryExpired(this.o.db, now);
    return repo.claimDue(this.o.db, {
      workerId: this.workerId,
      kinds: Object.keys(this.o.handlers),
      now,
      leaseUntil: new Date(now.getTime() + this.o.leaseMs),
      limit,
    });
  }

  private async execute(job: Job): Promise<void> {
    const { db, logger } = this.o;
    const handler = this.o.handlers[job.kind];
    const abort = new AbortController();
    const renew = setInterval(
      () => {
        const until = new Date(this.o.clock.now().getTime() + this.o.leaseMs);
        repo
          .extendLease(db, job.jobId, this.workerId, until)
          .then((held) => {
            if (!held) abort.abort(new Error('lease lost'));
          })
          .catch(() => undefined);
      },
      Math.max(50, Math.floor(this.o.leaseMs / 3)),
    );
    const log = logger?.child({ jobId: job.jobId, kind: job.kind, attempt: job.attempts });
    try {
      if (!handler) throw new AppError('internal', `no handler for job kind ${job.kind}`);
      const result = await handler({ ...this.ctx, log: log ?? this.ctx.log, job, signal: abort.signal });
      clearInterval(renew);
      const held = await repo.completeJob(db, job.jobId, this.workerId, result, this.o.clock.now());
      log?.info({ held }, held ? 'job done' : 'job finished after its lease was lost');
    } catch (err) {
      clearInterval(renew);
      const permanent = err instanceof AppError && err.code === 'validation';
      const retry = !permanent && job.attempts < job.maxAttempts;
      const now = this.o.clock.now();
      const message = err instanceof AppError ? err.toLine() : String((err as Error)?.message ?? err);
      await repo
        .failJob(
          db,
          job.jobId,
          this.workerId,
          message,
          retry ? new Date(now.getTime() + this.o.backoffMs(job.attempts)) : null,
          now,
        )
        .catch((e: unknown) => log?.error({ err: e }, 'cannot record job failure'));
      log?.warn({ err: message, retry }, retry ? 'job failed, will retry' : 'job dead-lettered');
    }
  }
}
