import { invalid } from '../shared/errors.js';
import { civilFromDays, DAY_MS } from '../shared/time.js';

/**
 * The store's calendar: where days, months and quarters begin in the store time zone (an IANA name,
 * `UTC` when the store has none). Instants stay UTC everywhere; only calendar boundaries and labels
 * (`--as-of DAY`, `--from/--to`, cohort and report months) are cut in the zone. Durations (days
 * between orders, lifespans, recency) do not depend on it.
 *
 * Pure: the zone's offsets come from `Intl` (the tz database Node ships), cached per UTC day so the
 * hot loops over millions of orders pay a map look-up, not a formatter call.
 */

/** Calendar grain of period reports (as the metrics layer's `Period`). */
type Grain = 'month' | 'quarter';

/** One UTC day's offsets: constant (`at` NaN), or `before` until the instant `at` and `after` from it. */
interface DayOffsets {
  before: number;
  at: number;
  after: number;
}

/** Intl's zone names by lower case (Node's ICU lists some under older names: Europe/Kiev, Asia/Calcutta). */
let knownZones: Map<string, string> | undefined;

/**
 * The IANA name `name` stands for, in its usual case: Intl's spelling when Intl lists it, the caller's
 * when typed in mixed case (`Europe/Kyiv`, which Intl resolves to `Europe/Kiev`), and words capitalised
 * when typed all in one case (`asia/kolkata` → `Asia/Kolkata`). Null when Intl does not know it.
 */
function resolveZone(name: string): string | null {
  // Names only: "+05:00"-style offsets mean different things to Intl, Postgres (POSIX signs) and DuckDB.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return null;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  knownZones ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
  const lower = name.toLowerCase();
  const listed = knownZones.get(lower) ?? (resolved.toLowerCase() === lower ? resolved : undefined);
  if (listed !== undefined) return listed;
  if (name !== lower && name !== name.toUpperCase()) return name;
  return lower.replace(/(^|[/_])([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

/**
 * The canonical spelling of an IANA time zone name (`america/new_york` → `America/New_York`), or null
 * when Intl does not know it. `UTC`, `Etc/UTC` and `GMT` are zones too (the default calendar).
 */
export function timeZoneName(name: string): string | null {
  return resolveZone(name.trim());
}

/** Slots of the per-day offset cache (a power of two). */
const SLOTS = 4096;

/** Whether `name` is a zone that cuts days exactly as UTC does. */
const isUtcName = (zone: string) => /^(Etc\/)?(UTC|UCT|GMT|Zulu|Universal|Greenwich)$/i.test(zone);

/** Calendar arithmetic in one time zone (see the file comment). */
export class Calendar {
  /** The IANA name (`UTC` for the default calendar). */
  readonly zone: string;
  /** True when days are cut at UTC midnight (no offsets to look up). */
  readonly utc: boolean;
  private readonly format: Intl.DateTimeFormat | null;
  private readonly days = new Map<number, DayOffsets>();
  /*
   * A direct-mapped cache in front of `days` (slot = day mod 4096, ~11 years without a collision):
   * typed-array reads instead of a map look-up in the hot loops.
   */
  private readonly slotDay = new Float64Array(SLOTS).fill(NaN);
  private readonly slotBefore = new Float64Array(SLOTS);
  private readonly slotAt = new Float64Array(SLOTS);
  private readonly slotAfter = new Float64Array(SLOTS);

  constructor(zone: string) {
    const name = resolveZone(zone);
    if (name === null) {
      throw invalid(`expected an IANA time zone such as Europe/Kyiv or America/New_York, got '${zone}'`, {
        field: 'timeZone',
      });
    }
    this.zone = name;
    this.utc = isUtcName(name);
    this.format = this.utc
      ? null
      : new Intl.DateTimeFormat('en-US', {
          timeZone: name,
          hourCycle: 'h23',
          era: 'short',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Offset of the zone at an instant (local wall time − UTC), in ms, straight from Intl. */
  private intlOffset(ms: number): number {
    const t = Math.floor(ms / 1000) * 1000;
    const p: Record<string, string> = {};
    for (const part of this.format!.formatToParts(t)) p[part.type] = part.value;
    const y = Number(p.year);
    const year = p.era === 'BC' || p.era === 'B' ? 1 - y : y;
    const wall = Date.UTC(
      2000,
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    // Date.UTC maps years 0–99 to 1900s: set the year separately.
    const d = new Date(wall);
    d.setUTCFullYear(year);
    return d.getTime() - t;
  }

  /** The offsets of the UTC day `day` (days since 1970), found once (one transition a day at most). */
  private dayOffsets(day: number): DayOffsets {
    let e = this.days.get(day);
    if (e) return e;
    const start = day * DAY_MS;
    const before = this.intlOffset(start);
    const after = this.intlOffset(start + DAY_MS - 1000);
    let at = NaN;
    if (before !== after) {
      // The first second with the new offset (transitions fall on whole seconds).
      let lo = start; // offset `before`
      let hi = start + DAY_MS - 1000; // offset `after`
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (this.intlOffset(mid) === before) lo = mid;
        else hi = mid;
      }
      at = hi;
    }
    e = { before, at, after };
    this.days.set(day, e);
    return e;
  }

  /** Offset (local − UTC, ms) at the instant `ms`. */
  offsetMs(ms: number): number {
    if (this.utc) return 0;
    const day = Math.floor(ms / DAY_MS);
    const i = day & (SLOTS - 1);
    if (this.slotDay[i] !== day) {
      const e = this.dayOffsets(day);
      this.slotDay[i] = day;
      this.slotBefore[i] = e.before;
      this.slotAt[i] = e.at;
      this.slotAfter[i] = e.after;
    }
    // `ms < NaN` is false: a day without a transition answers `after` (= `before`).
    return ms < this.slotAt[i]! ? this.slotBefore[i]! : this.slotAfter[i]!;
  }

  /**
   * The offset at `fromMs` and every change of it in `[fromMs, toMs)`, oldest first: `{ at, offset }`
   * = from the instant `at` on, local − UTC is `offset` ms. Empty for UTC.
   */
  offsetChanges(fromMs: number, toMs: number): { start: number; changes: { at: number; offset: number }[] } {
    if (this.utc) return { start: 0, changes: [] };
    const changes: { at: number; offset: number }[] = [];
    let prev = this.offsetMs(fromMs);
    const start = prev;
    for (let day = Math.floor(fromMs / DAY_MS); day * DAY_MS < toMs; day++) {
      const e = this.dayOffsets(day);
      // A change exactly at UTC midnight shows only between two days' entries.
      if (e.before !== prev && day * DAY_MS > fromMs) changes.push({ at: day * DAY_MS, offset: e.before });
      if (!Number.isNaN(e.at) && e.at > fromMs && e.at < toMs) changes.push({ at: e.at, offset: e.after });
      prev = Number.isNaN(e.at) || e.at < toMs ? e.after : e.before;
    }
    return { start, changes };
  }

  /** Days since 1970-01-01 of the local calendar day containing `ms`. */
  localDayOfMs(ms: number): number {
    return Math.floor((ms + this.offsetMs(ms)) / DAY_MS);
  }

  /** Month index (year × 12 + month − 1) of the local month containing `ms`. */
  monthIndexOfMs(ms: number): number {
    const [year, month] = civilFromDays(this.localDayOfMs(ms));
    return year * 12 + month - 1;
  }

  /** Sequential index of the local month or quarter containing `ms`. */
  periodIndexOfMs(ms: number, period: Grain): number {
    const m = this.monthIndexOfMs(ms);
    return period === 'month' ? m : Math.floor(m / 3);
  }

  /** `YYYY-MM-DD` of the local day containing `ms`. */
  dayOfMs(ms: number): string {
    const [y, m, d] = civilFromDays(this.localDayOfMs(ms));
    return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }

  /**
   * The instant a local wall-clock time (`wall`: ms since 1970 as if the zone were UTC) happens, by
   * Temporal's `compatible` rule (as JavaScript dates and most systems): a time that happens twice is
   * the earlier; a time skipped by a daylight-saving gap is moved forward by the gap (03:30 on a night
   * that skips 03:00–04:00 is 04:30), so a day that starts in a gap starts at the gap's end.
   */
  instantOfWall(wall: number): number {
    if (this.utc) return wall;
    const early = this.offsetMs(wall - DAY_MS);
    const late = this.offsetMs(wall + DAY_MS);
    const candidates = [wall - early, wall - late].filter((t) => this.offsetMs(t) === wall - t);
    if (candidates.length) return Math.min(...candidates);
    // In a gap: read with the offset in force before it.
    return wall - early;
  }

  /** First instant of the local day `days` (days since 1970-01-01). */
  dayStartMs(days: number): number {
    return this.instantOfWall(days * DAY_MS);
  }

  /** First instant of the local day containing `ms`. */
  startOfDayMs(ms: number): number {
    return this.dayStartMs(this.localDayOfMs(ms));
  }

  /** First instant of a local month or quarter index. */
  periodStart(index: number, period: Grain): Date {
    const [year, month] =
      period === 'month' ? [Math.floor(index / 12), index % 12] : [Math.floor(index / 4), (index % 4) * 3];
    const wall = new Date(Date.UTC(2000, month, 1));
    wall.setUTCFullYear(year);
    return new Date(this.instantOfWall(wall.getTime()));
  }
}

/** The UTC calendar: the default when the store has no time zone. */
export const UTC_CALENDAR = new Calendar('UTC');

const calendars = new Map<string, Calendar>([['UTC', UTC_CALENDAR]]);

/**
 * The calendar of a zone (UTC for none), one per zone per process so the offsets cached by one report
 * serve the next. Throws a validation error naming `timeZone` for a zone Intl does not know.
 */
export function calendarOf(zone?: string | null): Calendar {
  if (zone === undefined || zone === null || zone === '') return UTC_CALENDAR;
  let c = calendars.get(zone);
  if (!c) {
    c = new Calendar(zone);
    calendars.set(zone, c);
  }
  return c;
}
