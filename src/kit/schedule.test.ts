import { describe, expect, it } from 'vitest';
import { parseSchedules, Schedule, ScheduleSlots } from './schedule.js';
import { isTimeZone } from '../shared/time.js';

const base = { name: 'nightly', cron: '0 2 * * *', timeZone: 'Europe/Kyiv', kind: 'report' };

describe('Schedule', () => {
  it('fills in the defaults: catch-up last, 5 minutes of grace, 8 attempts, empty payload', () => {
    expect(Schedule.parse(base)).toEqual({
      ...base,
      payload: {},
      catchUp: 'last',
      graceMs: 300_000,
      maxAttempts: 8,
    });
  });

  it('refuses a bad cron expression, a time zone that is not IANA, and a duplicate name', () => {
    expect(() => parseSchedules([{ ...base, cron: '61 * * * *' }])).toThrow(/invalid schedule nightly/);
    expect(() => parseSchedules([{ ...base, cron: '* * * * * *' }])).toThrow(/5 parts/); // no seconds
    expect(() => parseSchedules([{ ...base, timeZone: 'Mars/Olympus' }])).toThrow(/IANA time zone/);
    expect(() => parseSchedules([{ ...base, name: 'Has Spaces' }])).toThrow(/invalid schedule/);
    expect(() => parseSchedules([base, { ...base, kind: 'other' }])).toThrow(
      'schedule nightly is declared twice',
    );
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Kyiv')).toBe(true);
    expect(isTimeZone('+02:00')).toBe(false);
  });

  it('finds the latest slot at or before an instant and the next one after it, in local time', () => {
    const s = new ScheduleSlots(Schedule.parse(base));
    const at = new Date('2026-07-01T23:00:00Z'); // 02:00 on 2 July in Kyiv (UTC+3)
    expect(s.latest(at)?.toISOString()).toBe('2026-07-01T23:00:00.000Z');
    expect(s.latest(new Date(at.getTime() - 1))?.toISOString()).toBe('2026-06-30T23:00:00.000Z');
    expect(s.next(at)?.toISOString()).toBe('2026-07-02T23:00:00.000Z');
    expect(s.key(at)).toBe('schedule:nightly:2026-07-01T23:00:00.000Z');
  });
});
