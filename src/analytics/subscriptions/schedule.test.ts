import { describe, expect, it } from 'vitest';
import {
  addIntervals,
  cycleDate,
  cycleInstant,
  daysBeforeCycle,
  dayNumber,
  localDate,
  monthlyMinor,
  type Anchor,
} from './schedule.js';

const monthly = { every: 1, unit: 'month' } as const;

describe('subscription schedules', () => {
  it('keeps month ends from the anchor: Jan 31 → Feb 28/29 → Mar 31 → Apr 30', () => {
    const a: Anchor = { date: '2027-01-31', cycle: 0, localTime: '09:00' };
    expect([0, 1, 2, 3, 12, 13].map((n) => cycleDate(monthly, a, n))).toEqual([
      '2027-01-31',
      '2027-02-28',
      '2027-03-31',
      '2027-04-30',
      '2028-01-31',
      '2028-02-29',
    ]);
    expect(addIntervals('2028-02-29', { every: 12, unit: 'month' }, 1)).toBe('2029-02-28');
    expect(addIntervals('2027-03-31', { every: 2, unit: 'month' }, 1)).toBe('2027-05-31');
    expect(addIntervals('2027-01-30', { every: 2, unit: 'week' }, 3)).toBe('2027-03-13');
    expect(addIntervals('2027-12-30', { every: 3, unit: 'day' }, 1)).toBe('2028-01-02');
  });

  it('a re-anchored schedule counts from its new anchor', () => {
    const a: Anchor = { date: '2027-05-15', cycle: 7, localTime: '10:30' };
    expect(cycleDate(monthly, a, 7)).toBe('2027-05-15');
    expect(cycleDate(monthly, a, 9)).toBe('2027-07-15');
    expect(() => cycleDate(monthly, a, 6)).toThrow(/before the schedule's anchor/);
  });

  it('keeps the local time across daylight saving (Kyiv: UTC+2 in winter, +3 in summer)', () => {
    const a: Anchor = { date: '2027-03-20', cycle: 0, localTime: '09:00' };
    const weekly = { every: 1, unit: 'week' } as const;
    // 2027-03-28 is the spring change in Europe.
    expect(cycleInstant(weekly, a, 0, 'Europe/Kyiv').toISOString()).toBe('2027-03-20T07:00:00.000Z');
    expect(cycleInstant(weekly, a, 1, 'Europe/Kyiv').toISOString()).toBe('2027-03-27T07:00:00.000Z');
    expect(cycleInstant(weekly, a, 2, 'Europe/Kyiv').toISOString()).toBe('2027-04-03T06:00:00.000Z');
    // A time the gap skips moves forward (03:30 on the change night in Kyiv is 04:30).
    const gap: Anchor = { date: '2027-03-28', cycle: 0, localTime: '03:30' };
    expect(cycleInstant(weekly, gap, 0, 'Europe/Kyiv').toISOString()).toBe('2027-03-28T01:30:00.000Z');
    // New York falls back on 2027-11-07: 01:30 happens twice, the earlier is taken.
    const twice: Anchor = { date: '2027-11-07', cycle: 0, localTime: '01:30' };
    expect(cycleInstant(weekly, twice, 0, 'America/New_York').toISOString()).toBe('2027-11-07T05:30:00.000Z');
    // Three days before, at the same local time, even across the change.
    expect(daysBeforeCycle(weekly, a, 2, 7, 'Europe/Kyiv').toISOString()).toBe('2027-03-27T07:00:00.000Z');
    expect(localDate(new Date('2027-03-27T22:30:00Z'), 'Europe/Kyiv')).toBe('2027-03-28');
  });

  it('refuses what is not a schedule, naming the field', () => {
    expect(() => addIntervals('2027-01-01', { every: 0, unit: 'day' }, 1)).toThrow(/interval.every/);
    expect(() => addIntervals('2027-01-01', { every: 1, unit: 'year' as 'day' }, 1)).toThrow(/interval.unit/);
    expect(() => dayNumber('2027-02-30')).toThrow(/not a calendar date/);
    expect(() =>
      cycleInstant(monthly, { date: '2027-01-01', cycle: 0, localTime: '25:00' }, 0, 'UTC'),
    ).toThrow(/localTime/);
  });

  it('normalises a price to a month', () => {
    expect(monthlyMinor(3000, 2, monthly)).toBe(6000);
    expect(monthlyMinor(3000, 1, { every: 2, unit: 'month' })).toBe(1500);
    expect(monthlyMinor(1000, 1, { every: 1, unit: 'week' })).toBe(4333);
    expect(monthlyMinor(100, 1, { every: 30, unit: 'day' })).toBe(101);
  });
});
