import { describe, expect, it } from 'vitest';
import { RFM_SEGMENTS, quintileScores, rfmReport, segmentOf } from './rfm.js';
import { order } from '../../../test/support/metricsKit.js';
import type { OrderFact } from './types.js';

describe('quintileScores', () => {
  it('distinct values get 1..5 by rank', () => {
    expect(quintileScores([50, 10, 40, 20, 30])).toEqual([5, 1, 4, 2, 3]);
  });
  it('ties share the score of their lowest rank (hand-computed, n = 10)', () => {
    // sorted positions: 1,1,1 → pos 0 → 1; 2 → pos 3 → 1+⌊15/10⌋ = 2; 3,3 → pos 4 → 3;
    // 5 → pos 6 → 4; 8 → pos 7 → 1+⌊35/10⌋ = 4; 9,9 → pos 8 → 5
    expect(quintileScores([9, 1, 3, 1, 5, 2, 1, 9, 3, 8])).toEqual([5, 1, 3, 1, 4, 2, 1, 5, 3, 4]);
  });
  it('small populations', () => {
    expect(quintileScores([])).toEqual([]);
    expect(quintileScores([7])).toEqual([1]);
    expect(quintileScores([1, 2])).toEqual([1, 3]);
    expect(quintileScores([4, 4, 4])).toEqual([1, 1, 1]);
  });
});

describe('segmentOf', () => {
  it('maps every R×F cell to exactly the documented segment', () => {
    const grid: Record<number, string[]> = {
      5: ['New', 'Potential loyalist', 'Potential loyalist', 'Champions', 'Champions'],
      4: ['Promising', 'Potential loyalist', 'Potential loyalist', 'Loyal', 'Loyal'],
      3: ['About to sleep', 'About to sleep', 'Need attention', 'Loyal', 'Loyal'],
      2: ['Hibernating', 'Hibernating', 'At risk', 'At risk', 'Cannot lose them'],
      1: ['Lost', 'Hibernating', 'At risk', 'At risk', 'Cannot lose them'],
    };
    const seen = new Set<string>();
    for (let r = 1; r <= 5; r++)
      for (let f = 1; f <= 5; f++) {
        expect(segmentOf(r, f), `R${r} F${f}`).toBe(grid[r]![f - 1]);
        seen.add(segmentOf(r, f));
      }
    expect([...seen].sort()).toEqual([...RFM_SEGMENTS].sort()); // all 11 reachable
  });
});

describe('rfmReport', () => {
  const asOf = new Date('2024-02-01T00:00:00Z');
  const orders: OrderFact[] = [];
  const spec: [string, number, string][] = [
    ['A', 5, '2024-01-31'],
    ['B', 4, '2024-01-25'],
    ['C', 3, '2024-01-20'],
    ['D', 2, '2024-01-10'],
  ];
  for (const [id, n, last] of spec) {
    for (let i = 0; i < n; i++) orders.push(order(id, `${i === 0 ? last : '2023-06-01'}T00:00Z`, 1000));
  }
  orders.push(order('E', '2024-01-01T00:00Z', 1000, null, 1500)); // single order, refund exceeds it
  orders.push(order('F', '2024-03-01T00:00Z', 1000)); // after asOf

  const r = rfmReport({ orders, asOf });

  it('scores customers on recency, frequency and net monetary value', () => {
    expect(r.customers.map((c) => [c.customerId, c.r, c.f, c.m, c.segment])).toEqual([
      ['A', 5, 5, 5, 'Champions'],
      ['B', 4, 4, 4, 'Loyal'],
      ['C', 3, 3, 3, 'Need attention'],
      ['D', 2, 2, 2, 'Hibernating'],
      ['E', 1, 1, 1, 'Lost'],
    ]);
    expect(r.customers[0]).toMatchObject({ recencyDays: 1, frequency: 5, monetaryMinor: 5000 });
    expect(r.customers[4]).toMatchObject({ recencyDays: 31, frequency: 1, monetaryMinor: -500 });
  });

  it('counts and revenue per segment, all 11 listed', () => {
    expect(r.segments.map((s) => s.segment)).toEqual([...RFM_SEGMENTS]);
    const champions = r.segments.find((s) => s.segment === 'Champions')!;
    // total net = 5000 + 4000 + 3000 + 2000 − 500 = 13500
    expect(champions).toMatchObject({ customers: 1, share: 0.2, revenueMinor: 5000, avgFrequency: 5 });
    expect(champions.revenueShare).toBeCloseTo(5000 / 13500, 12);
    const atRisk = r.segments.find((s) => s.segment === 'At risk')!;
    expect(atRisk).toMatchObject({ customers: 0, revenueMinor: 0, avgRecencyDays: null, share: 0 });
    expect(r.segments.reduce((a, s) => a + s.customers, 0)).toBe(5);
  });

  it('an empty store has empty segments', () => {
    const e = rfmReport({ orders: [], asOf });
    expect(e.customers).toEqual([]);
    expect(e.segments.every((s) => s.customers === 0 && s.share === null)).toBe(true);
  });
});
