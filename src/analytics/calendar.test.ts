import { describe, expect, it } from 'vitest';
import { Calendar, calendarOf, timeZoneName, UTC_CALENDAR } from './calendar.js';
import { monthIndexOfMs, monthRange, periodIndexOfMs, periodStart } from './metrics/util.js';

const iso = (ms: number | Date) => new Date(ms).toISOString();

/** The slow reference: the local date of an instant straight from Intl. */
const formats = new Map<string, Intl.DateTimeFormat>();
function localDate(zone: string, ms: number): { y: number; m: number; d: number } {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    });
    formats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day) };
}

describe('Calendar', () => {
  it('UTC answers exactly what the UTC helpers answer', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor(rnd() * 2e12);
      expect(UTC_CALENDAR.monthIndexOfMs(ms)).toBe(monthIndexOfMs(ms));
      expect(periodIndexOfMs(ms, 'quarter', UTC_CALENDAR)).toBe(periodIndexOfMs(ms, 'quarter'));
      expect(UTC_CALENDAR.dayOfMs(ms)).toBe(iso(ms).slice(0, 10));
    }
    expect(periodStart(24_287, 'month', UTC_CALENDAR)).toEqual(periodStart(24_287, 'month'));
    expect(calendarOf(undefined)).toBe(UTC_CALENDAR);
    expect(calendarOf('Etc/UTC').utc).toBe(true);
  });

  it('puts 2023-12-31 21:04 −05:00 in December 2023 in New York, January 2024 in UTC', () => {
    const ms = Date.parse('2023-12-31T21:04:00-05:00');
    const ny = calendarOf('America/New_York');
    expect(ny.monthIndexOfMs(ms)).toBe(2023 * 12 + 11);
    expect(monthIndexOfMs(ms)).toBe(2024 * 12);
    expect(ny.dayOfMs(ms)).toBe('2023-12-31');
    expect(iso(ny.dayStartMs(Date.UTC(2024, 0, 1) / 86_400_000))).toBe('2024-01-01T05:00:00.000Z');
    expect(iso(monthRange('2023-12', 'month', ny).to)).toBe('2024-01-01T05:00:00.000Z');
  });

  it('cuts months and days in a zone with daylight saving (Europe/Kyiv)', () => {
    const kyiv = calendarOf('Europe/Kyiv');
    // Winter +02:00, summer +03:00 (from 2024-03-31 01:00Z to 2024-10-27 01:00Z).
    expect(iso(kyiv.periodStart(2024 * 12 + 2, 'month'))).toBe('2024-02-29T22:00:00.000Z');
    expect(iso(kyiv.periodStart(2024 * 12 + 3, 'month'))).toBe('2024-03-31T21:00:00.000Z');
    expect(iso(kyiv.periodStart(2024 * 12 + 10, 'month'))).toBe('2024-10-31T22:00:00.000Z');
    expect(iso(kyiv.periodStart(2024 * 4 + 3, 'quarter'))).toBe('2024-09-30T21:00:00.000Z');
    expect(kyiv.offsetMs(Date.parse('2024-03-31T00:59:59Z'))).toBe(2 * 3_600_000);
    expect(kyiv.offsetMs(Date.parse('2024-03-31T01:00:00Z'))).toBe(3 * 3_600_000);
    // The instants either side of the April boundary.
    expect(kyiv.monthIndexOfMs(Date.parse('2024-03-31T20:59:59.999Z'))).toBe(2024 * 12 + 2);
    expect(kyiv.monthIndexOfMs(Date.parse('2024-03-31T21:00:00Z'))).toBe(2024 * 12 + 3);
    // 2024-10-27 lasts 25 hours, 2024-03-31 23.
    const day = (s: string) => Date.parse(`${s}T00:00:00Z`) / 86_400_000;
    expect(kyiv.dayStartMs(day('2024-10-28')) - kyiv.dayStartMs(day('2024-10-27'))).toBe(25 * 3_600_000);
    expect(kyiv.dayStartMs(day('2024-04-01')) - kyiv.dayStartMs(day('2024-03-31'))).toBe(23 * 3_600_000);
    // 03:30 on 2024-03-31 does not exist: moved forward by the gap (04:30 EEST = 01:30Z).
    expect(iso(kyiv.instantOfWall(Date.parse('2024-03-31T03:30:00Z')))).toBe('2024-03-31T01:30:00.000Z');
    // 03:00, the gap's start, is its end: 04:00 EEST.
    expect(iso(kyiv.instantOfWall(Date.parse('2024-03-31T03:00:00Z')))).toBe('2024-03-31T01:00:00.000Z');
    // 03:30 on 2024-10-27 happens twice: the earlier (EEST).
    expect(iso(kyiv.instantOfWall(Date.parse('2024-10-27T03:30:00Z')))).toBe('2024-10-27T00:30:00.000Z');
  });

  it('lists the offset changes of a span (for SQL)', () => {
    const kyiv = calendarOf('Europe/Kyiv');
    expect(
      kyiv.offsetChanges(Date.parse('2024-01-01T00:00:00Z'), Date.parse('2025-01-01T00:00:00Z')),
    ).toEqual({
      start: 2 * 3_600_000,
      changes: [
        { at: Date.parse('2024-03-31T01:00:00Z'), offset: 3 * 3_600_000 },
        { at: Date.parse('2024-10-27T01:00:00Z'), offset: 2 * 3_600_000 },
      ],
    });
    expect(
      kyiv.offsetChanges(Date.parse('2024-04-01T00:00:00Z'), Date.parse('2024-10-27T01:00:00Z')),
    ).toEqual({
      start: 3 * 3_600_000,
      changes: [],
    });
    expect(UTC_CALENDAR.offsetChanges(0, 1e12)).toEqual({ start: 0, changes: [] });
  });

  it('handles half-hour offsets, fixed (Asia/Kolkata) and with DST off the UTC hour (Australia/Adelaide)', () => {
    const kolkata = calendarOf('Asia/Kolkata');
    expect(kolkata.monthIndexOfMs(Date.parse('2023-12-31T18:29:59Z'))).toBe(2023 * 12 + 11);
    expect(kolkata.monthIndexOfMs(Date.parse('2023-12-31T18:30:00Z'))).toBe(2024 * 12);
    expect(iso(kolkata.periodStart(2024 * 12, 'month'))).toBe('2023-12-31T18:30:00.000Z');
    const adelaide = calendarOf('Australia/Adelaide');
    // Daylight saving ends 2024-04-07 03:00 ACDT (+10:30) = 16:30Z, back to 02:00 ACST (+09:30).
    expect(adelaide.offsetMs(Date.parse('2024-04-06T16:29:59Z'))).toBe(10.5 * 3_600_000);
    expect(adelaide.offsetMs(Date.parse('2024-04-06T16:30:00Z'))).toBe(9.5 * 3_600_000);
    expect(iso(adelaide.periodStart(2024 * 12 + 4, 'month'))).toBe('2024-04-30T14:30:00.000Z');
    expect(iso(adelaide.periodStart(2024 * 12 + 1, 'month'))).toBe('2024-01-31T13:30:00.000Z');
    expect(calendarOf('Asia/Kathmandu').dayOfMs(Date.parse('2023-12-31T18:15:00Z'))).toBe('2024-01-01');
  });

  it('agrees with Intl on every day boundary of two years, in zones with gaps at midnight too', () => {
    const wrong: string[] = [];
    for (const zone of [
      'America/New_York',
      'Europe/Kyiv',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Asia/Beirut',
    ]) {
      const cal = new Calendar(zone);
      for (let day = Date.UTC(2022, 0, 1) / 86_400_000; day < Date.UTC(2024, 0, 1) / 86_400_000; day++) {
        const start = cal.dayStartMs(day);
        const here = localDate(zone, start);
        const before = localDate(zone, start - 1);
        if (Date.UTC(here.y, here.m - 1, here.d) / 86_400_000 !== day) wrong.push(`${zone} day ${day} start`);
        if (Date.UTC(before.y, before.m - 1, before.d) / 86_400_000 !== day - 1)
          wrong.push(`${zone} day ${day} before`);
        // Hours of the day land in the month Intl says.
        for (let h = 0; h < 24; h += 5) {
          const ms = start + h * 3_600_000 + 17_000;
          const l = localDate(zone, ms);
          if (cal.monthIndexOfMs(ms) !== l.y * 12 + l.m - 1) wrong.push(`${zone} ${iso(ms)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('names zones: canonical case, unknown and offset-like names refused', () => {
    expect(timeZoneName('america/new_york')).toBe('America/New_York');
    expect(timeZoneName('Europe/Kyiv')).toBe('Europe/Kyiv');
    expect(timeZoneName('europe/kyiv')).toBe('Europe/Kyiv'); // Intl says Europe/Kiev
    expect(timeZoneName('ASIA/KOLKATA')).toBe('Asia/Kolkata');
    expect(timeZoneName('utc')).toBe('UTC');
    expect(timeZoneName('Etc/GMT+5')).toBe('Etc/GMT+5');
    expect(timeZoneName('Mars/Olympus')).toBeNull();
    expect(timeZoneName('+05:00')).toBeNull();
    expect(timeZoneName("UTC'; DROP TABLE orders")).toBeNull();
    expect(() => calendarOf('Nowhere/Town')).toThrow(/expected an IANA time zone/);
  });
});
