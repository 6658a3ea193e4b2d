import { Cron } from 'croner';
import { z } from 'zod';
import { isTimeZone } from '../shared/time.js';

/**
 * What a runner does with the slots that passed while no runner was running (downtime):
 *
 * - `last` (default): the latest slot that has come (at or before now) runs once, however late and
 *   however many slots were missed before it; the earlier missed slots are dropped.
 * - `skip`: a slot runs only if a runner sees it at most `graceMs` after its time; later, it is
 *   dropped, and the schedule waits for its next slot.
 *
 * Either way a schedule never backfills: a schedule no runner has seen yet starts from now (its
 * earliest possible run is the latest slot at or before the moment a runner first sees it, under the
 * same rule: `last` runs it, `skip` runs it only within the grace period).
 */
export const CatchUp = z.enum(['last', 'skip']);
export type CatchUp = z.infer<typeof CatchUp>;

function cronError(expr: string, timeZone: string): string | undefined {
  try {
    new Cron(expr, { timezone: timeZone, mode: '5-part', paused: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * A recurring job a module declares (`RetainModule.schedules`): at every slot of `cron`, read in
 * `timeZone`, the job runner enqueues one job of `kind` with idempotency key
 * `schedule:<name>:<slot ISO instant>`. The job's payload is `payload` plus `schedule` (the name)
 * and `slot` (the ISO instant); its `runAt` is the slot.
 */
export const Schedule = z
  .object({
    /** Unique across all modules; names the schedule's state row and its jobs' keys. */
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, dots, dashes and underscores'),
    /**
     * Five fields (minute hour day-of-month month day-of-week), or a nickname such as `@daily`. As in
     * Vixie cron, a restricted day-of-month and day-of-week match either. Daylight saving: a time that
     * does not exist that day runs at the first time after the gap; a time that occurs twice runs once.
     */
    cron: z.string().trim().min(1),
    /** IANA time zone the cron fields are read in. */
    timeZone: z.string().refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Kyiv' }),
    /** The job kind to enqueue (a handler some module declares). */
    kind: z.string().min(1),
    payload: z.record(z.string(), z.unknown()).default({}),
    catchUp: CatchUp.default('last'),
    /** For `catchUp: 'skip'`: how late a runner may see a slot and still run it. */
    graceMs: z
      .number()
      .int()
      .min(0)
      .default(5 * 60_000),
    maxAttempts: z.number().int().min(1).max(100).default(8),
  })
  .superRefine((s, ctx) => {
    const err = isTimeZone(s.timeZone) ? cronError(s.cron, s.timeZone) : undefined;
    if (err) ctx.addIssue({ code: 'custom', path: ['cron'], message: err });
  });
/** A schedule as declared (defaults optional). */
export type ScheduleInput = z.input<typeof Schedule>;
/** A validated schedule (defaults filled in). */
export type Schedule = z.output<typeof Schedule>;

/** Validates schedules and their names' uniqueness. */
export function parseSchedules(list: readonly ScheduleInput[]): Schedule[] {
  const out = list.map((s) => {
    const r = Schedule.safeParse(s);
    if (!r.success) {
      const where = typeof s?.name === 'string' ? ` ${s.name}` : '';
      throw new Error(`invalid schedule${where}: ${z.prettifyError(r.error)}`);
    }
    return r.data;
  });
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) throw new Error(`schedule ${s.name} is declared twice`);
    seen.add(s.name);
  }
  return out;
}

/** The slots of one schedule (croner, in the schedule's time zone). */
export class ScheduleSlots {
  private readonly cron: Cron;

  constructor(readonly schedule: Schedule) {
    this.cron = new Cron(schedule.cron, { timezone: schedule.timeZone, mode: '5-part', paused: true });
  }

  /** The latest slot at or before `now`, or null if the pattern never matched. */
  latest(now: Date): Date | null {
    // previousRuns excludes a run exactly at its reference; one millisecond later includes it.
    return this.cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? null;
  }

  /** The first slot strictly after `t`, or null if there is none. */
  next(t: Date): Date | null {
    return this.cron.nextRun(t);
  }

  /** The idempotency key of the slot's job. */
  key(slot: Date): string {
    return `schedule:${this.schedule.name}:${slot.toISOString()}`;
  }
}
