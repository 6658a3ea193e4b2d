import { calendarOf } from '../../analytics/calendar.js';

/**
 * The send path's rules that are plain arithmetic: quiet hours in the contact's time zone and the
 * frequency cap. No I/O; the service feeds them rows and the clock.
 */

export interface QuietHours {
  /** Local wall time `HH:MM` when quiet starts (e.g. 21:00) … */
  start: string;
  /** … and when it ends (e.g. 09:00); a window may wrap midnight. */
  end: string;
}

const DAY_MS = 86_400_000;

export const minutesOf = (hhmm: string): number => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`expected a local time HH:MM, got '${hhmm}'`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/**
 * The instant quiet hours end when `at` falls inside them in `zone` (an IANA name), else null. DST is
 * the calendar's: the end is the first instant the local clock shows `end` (a skipped wall time moves
 * forward with the clock).
 */
export function quietUntil(at: Date, zone: string, quiet: QuietHours | null): Date | null {
  if (!quiet) return null;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return null;
  const cal = calendarOf(zone);
  const ms = at.getTime();
  const wall = ms + cal.offsetMs(ms);
  const day = Math.floor(wall / DAY_MS);
  const minute = Math.floor((wall - day * DAY_MS) / 60_000);
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return null;
  // Evening part of a window that wraps midnight: it ends tomorrow.
  const endDay = start > end && minute >= start ? day + 1 : day;
  return new Date(cal.instantOfWall(endDay * DAY_MS + end * 60_000));
}

export interface FrequencyCap {
  /** At most this many marketing messages … */
  max: number;
  /** … per this many days (rolling), across every source and channel. */
  days: number;
}
