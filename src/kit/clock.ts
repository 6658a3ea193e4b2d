/**
 * The one source of business time. Everything that stamps, schedules or decides by "now" asks the
 * `Clock` it was given (`ctx.clock`); only durations for logs and benchmarks read the system timer.
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that moves only when told (tests and simulations). `advance` and `set` move it forward;
 * `runUntil` (test/support/jobs.ts) moves it from schedule slot to schedule slot and drains the job
 * runner at each stop, so due schedules and due jobs fire in simulated time.
 */
export class ManualClock implements Clock {
  private t: number;

  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
    if (Number.isNaN(this.t)) throw new RangeError(`ManualClock: invalid start ${String(start)}`);
  }

  now(): Date {
    return new Date(this.t);
  }

  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): Date {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: expected ms ≥ 0, got ${ms}`);
    return this.set(new Date(this.t + ms));
  }

  /** Moves the clock to `to` (not before the current instant). */
  set(to: Date | string): Date {
    const t = new Date(to).getTime();
    if (!(t >= this.t))
      throw new RangeError(`ManualClock.set: ${String(to)} is before ${this.now().toISOString()}`);
    this.t = t;
    return this.now();
  }
}
