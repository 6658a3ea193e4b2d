/**
 * Subscription schedules (issue 28), pure calendar arithmetic: when each delivery cycle falls, on the
 * customer's calendar, at their local time of day.
 *
 * A schedule is an interval (every N days, weeks or months) from an anchor: the local date of one cycle
 * (`cycle`) and the local time deliveries are made at. Cycle n ≥ anchor.cycle falls on
 * anchor.date + (n − anchor.cycle) × interval, computed from the anchor each time (never chained), so a
 * monthly plan anchored on Jan 31 falls on Feb 28 (29 in a leap year), Mar 31, Apr 30: the day of month
 * is clamped to the month's length and comes back when the month is long enough. The local time is
 * turned into an instant in the customer's zone by the calendar's rule (a time skipped by a daylight
 * saving gap moves forward by the gap; a repeated one is the earlier), so 09:00 stays 09:00 across DST.
 * Rescheduling, skipping and pausing re-anchor: the service writes a new anchor (date, cycle).
 */
import { invalid } from '../../shared/errors.js';
import { calendarOf } from '../calendar.js';

const DAY_MS = 86_400_000;

export type IntervalUnit = 'day' | 'week' | 'month';

export interface Interval {
  every: number;
  unit: IntervalUnit;
}

export interface Anchor {
  /** Local date (YYYY-MM-DD) of cycle `cycle`. */
  date: string;
  cycle: number;
  /** Local time of day (HH:MM) deliveries are made at. */
  localTime: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Days since 1970-01-01 of a valid `YYYY-MM-DD`; throws naming `field` otherwise. */
export function dayNumber(date: string, field = 'date'): number {
  const m = DATE.exec(date);
  if (!m) throw invalid(`${field} must be a date YYYY-MM-DD, got '${date}'`, { field });
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    throw invalid(`${field} is not a calendar date: '${date}'`, { field });
  return ms / DAY_MS;
}

/** `YYYY-MM-DD` of days since 1970-01-01. */
export function dateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function checkInterval(i: Interval, field = 'interval'): void {
  if (!Number.isInteger(i.every) || i.every < 1)
    throw invalid(`${field}.every must be a whole number of at least 1, got ${i.every}`, {
      field: `${field}.every`,
    });
  if (i.unit !== 'day' && i.unit !== 'week' && i.unit !== 'month')
    throw invalid(`${field}.unit must be day, week or month, got '${String(i.unit)}'`, {
      field: `${field}.unit`,
    });
}

/** The local date `k` intervals after `date` (months: the day clamped to the month's length). */
export function addIntervals(date: string, interval: Interval, k: number): string {
  checkInterval(interval);
  const day = dayNumber(date);
  if (interval.unit === 'day') return dateOfDay(day + k * interval.every);
  if (interval.unit === 'week') return dateOfDay(day + 7 * k * interval.every);
  const d = new Date(day * DAY_MS);
  const months = d.getUTCFullYear() * 12 + d.getUTCMonth() + k * interval.every;
  const y = Math.floor(months / 12);
  const m = months - y * 12;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return dateOfDay(Date.UTC(y, m, Math.min(d.getUTCDate(), last)) / DAY_MS);
}

/** The local date of cycle `n` (n ≥ anchor.cycle). */
export function cycleDate(interval: Interval, anchor: Anchor, n: number): string {
  if (!Number.isInteger(n) || n < anchor.cycle)
    throw invalid(`cycle ${n} is before the schedule's anchor (cycle ${anchor.cycle})`, { field: 'cycle' });
  return addIntervals(anchor.date, interval, n - anchor.cycle);
}

/** The instant of a local date at a local time (HH:MM) in `zone`. */
export function localInstant(date: string, localTime: string, zone: string): Date {
  const t = TIME.exec(localTime);
  if (!t) throw invalid(`localTime must be HH:MM, got '${localTime}'`, { field: 'localTime' });
  const wall = dayNumber(date) * DAY_MS + (Number(t[1]) * 60 + Number(t[2])) * 60_000;
  return new Date(calendarOf(zone).instantOfWall(wall));
}

/** The instant cycle `n` is due, in the customer's `zone`. */
export function cycleInstant(interval: Interval, anchor: Anchor, n: number, zone: string): Date {
  return localInstant(cycleDate(interval, anchor, n), anchor.localTime, zone);
}

/** The instant `days` local days before cycle `n`, at the same local time (the reminder). */
export function daysBeforeCycle(
  interval: Interval,
  anchor: Anchor,
  n: number,
  days: number,
  zone: string,
): Date {
  return localInstant(dateOfDay(dayNumber(cycleDate(interval, anchor, n)) - days), anchor.localTime, zone);
}

/** The local date (YYYY-MM-DD) of an instant in `zone`. */
export function localDate(at: Date, zone: string): string {
  return calendarOf(zone).dayOfMs(at.getTime());
}

/**
 * Monthly recurring revenue of one subscription in minor units: its price per interval × quantity
 * normalised to a month (a month is 52/12 weeks and 365/12 days), rounded half away from zero to a whole
 * minor unit.
 */
export function monthlyMinor(priceMinor: number, quantity: number, interval: Interval): number {
  checkInterval(interval);
  const perInterval = priceMinor * quantity;
  const perMonth =
    interval.unit === 'month'
      ? perInterval / interval.every
      : interval.unit === 'week'
        ? (perInterval * 52) / 12 / interval.every
        : (perInterval * 365) / 12 / interval.every;
  return Math.sign(perMonth) * Math.round(Math.abs(perMonth));
}
