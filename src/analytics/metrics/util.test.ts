import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random.js';
import { order } from '../../../test/support/metricsKit.js';
import {
  apportion,
  median,
  monthIndexOfMs,
  monthRange,
  ordersByCustomer,
  periodIndex,
  periodLabel,
} from './util.js';

describe('util', () => {
  it('monthIndexOfMs agrees with Date#getUTC* (seeded random instants 1900–2200, and month edges)', () => {
    const rnd = mulberry32(7);
    const lo = Date.UTC(1900, 0, 1);
    const hi = Date.UTC(2200, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(lo + rnd() * (hi - lo));
      const d = new Date(ms);
      expect(monthIndexOfMs(ms)).toBe(d.getUTCFullYear() * 12 + d.getUTCMonth());
    }
    for (let y = 1999; y <= 2001; y++)
      for (let m = 0; m < 12; m++) {
        const start = Date.UTC(y, m, 1);
        expect(monthIndexOfMs(start)).toBe(y * 12 + m);
        expect(monthIndexOfMs(start - 1)).toBe(y * 12 + m - 1);
      }
  });

  it('period labels and quarter indices', () => {
    expect(periodLabel(periodIndex(new Date('2011-12-31T23:59:59Z'), 'month'), 'month')).toBe('2011-12');
    expect(periodLabel(periodIndex(new Date('2011-12-31T23:59:59Z'), 'quarter'), 'quarter')).toBe('2011-Q4');
    expect(periodLabel(periodIndex(new Date('2012-01-01T00:00:00Z'), 'quarter'), 'quarter')).toBe('2012-Q1');
    expect(monthRange('2011-02').to.toISOString()).toBe('2011-03-01T00:00:00.000Z');
  });

  it('groups orders per customer in time order, sorted or not', () => {
    const orders = [
      order('b', '2024-01-03T00:00Z', 3),
      order('a', '2024-01-02T00:00Z', 2),
      order('b', '2024-01-01T00:00Z', 1),
      order('a', '2024-01-01T00:00Z', 1),
      order('a', '2024-01-05T00:00Z', 5),
    ];
    const g = ordersByCustomer(orders);
    expect([...g.keys()]).toEqual(['b', 'a']);
    expect(g.get('a')!.map((o) => o.revenueMinor)).toEqual([1, 2, 5]);
    expect(g.get('b')!.map((o) => o.revenueMinor)).toEqual([1, 3]);
  });

  it('apportions to integers that sum exactly to the target', () => {
    expect(apportion([1.5, 1.5, 1.0], 4)).toEqual([2, 1, 1]);
    expect(apportion([-8.4, 41.4], 33)).toEqual([-8, 41]);
    expect(apportion([0.2, 0.2], -1)).toEqual([0, -1]); // removals come off the smallest remainders, last first
    expect(apportion([], 0)).toEqual([]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
