import { describe, expect, it } from 'vitest';
import { birthdayOccurrence, clawbackTarget, orderPoints, tierFor, type EarnRules } from './earn.js';

const rules = (o: Partial<EarnRules> = {}): EarnRules => ({
  rate: { type: 'per-unit', points: 1, perMinor: 100 },
  pointValue: { points: 100, minor: 100 },
  rounding: 'floor',
  multipliers: [],
  ...o,
});
const line = (totalMinor: number, sku: string | null = 'A', category: string | null = null) => ({
  sku,
  category,
  totalMinor,
});
const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / 86_400_000;

describe('order points', () => {
  it('1 point per 1.00 of merchandise net of the discount, shipping and tax excluded; rounding as stated', () => {
    // 45.99 + 10.00 − 5.00 discount = 50.99 → 50.99 points → floor 50, round 51, ceil 51.
    expect(orderPoints(rules(), [line(4599), line(1000)], 500)).toMatchObject({
      baseMinor: 5099,
      points: 50,
    });
    expect(orderPoints(rules({ rounding: 'round' }), [line(4599), line(1000)], 500).points).toBe(51);
    expect(orderPoints(rules({ rounding: 'ceil' }), [line(5000)], 0).points).toBe(50);
  });
  it('line multipliers by SKU before category; the discount is shared in proportion; tier multiplier on top', () => {
    const r = rules({
      multipliers: [
        { sku: 'GIFT', multiplier: 0 },
        { category: 'tea', multiplier: 3 },
      ],
    });
    // lines 60.00 (tea ×3) + 40.00 (GIFT ×0), discount 10.00 → shares 54.00 and 36.00 → 162 points; × 1.5 tier = 243.
    expect(orderPoints(r, [line(6000, 'T1', 'tea'), line(4000, 'GIFT', 'tea')], 1000, 1.5).points).toBe(243);
  });
  it('cashback: percent of the value back as points at the point value', () => {
    // 5 % of 80.00 = 4.00 = 400 points at 100 points = 1.00.
    expect(orderPoints(rules({ rate: { type: 'cashback', percent: 5 } }), [line(8000)], 0).points).toBe(400);
  });
  it('nothing for an empty, fully discounted or negative order; float noise never costs a point', () => {
    expect(orderPoints(rules(), [], 0).points).toBe(0);
    expect(orderPoints(rules(), [line(1000)], 1000).points).toBe(0);
    expect(orderPoints(rules(), [line(-500)], 0).points).toBe(0);
    // 3 × 0.1 per-unit: 0.30000000000000004 × 100 … floor would give 29 without the snap.
    expect(
      orderPoints(rules({ rate: { type: 'per-unit', points: 3, perMinor: 10 } }), [line(100)], 0).points,
    ).toBe(30);
  });
});

describe('clawback', () => {
  it('is proportional on the running total and a full refund takes exactly all points', () => {
    // 101 points on a 100.00 order: 1/3 refunded → 33.67 → 34; 2/3 → 67; all → 101.
    expect(clawbackTarget(101, 10000, 10000, 3333)).toBe(34);
    expect(clawbackTarget(101, 10000, 10000, 6667)).toBe(67);
    expect(clawbackTarget(101, 10000, 10000, 10000)).toBe(101);
    expect(clawbackTarget(101, 10000, 10000, 20000)).toBe(101);
    expect(clawbackTarget(101, 10000, 10000, 0)).toBe(0);
  });
});

describe('tiers and birthdays', () => {
  const tiers = [
    { name: 'Gold', threshold: 1000 },
    { name: 'Silver', threshold: 200 },
  ];
  it('the highest tier the value reaches', () => {
    expect(tierFor(tiers, 199)).toBeNull();
    expect(tierFor(tiers, 200)?.name).toBe('Silver');
    expect(tierFor(tiers, 5000)?.name).toBe('Gold');
  });
  it('a window around the birthday, keyed by the birthday year, across New Year and 29 February', () => {
    expect(birthdayOccurrence({ month: 3, day: 4 }, day(2027, 3, 1), 3, 3)).toBe(2027);
    expect(birthdayOccurrence({ month: 3, day: 4 }, day(2027, 2, 28), 3, 3)).toBeNull();
    expect(birthdayOccurrence({ month: 1, day: 2 }, day(2026, 12, 30), 5, 0)).toBe(2027);
    expect(birthdayOccurrence({ month: 12, day: 30 }, day(2027, 1, 2), 0, 5)).toBe(2026);
    expect(birthdayOccurrence({ month: 2, day: 29 }, day(2027, 2, 28), 0, 0)).toBe(2027);
    expect(birthdayOccurrence({ month: 2, day: 29 }, day(2028, 2, 28), 0, 0)).toBeNull();
    expect(birthdayOccurrence({ month: 2, day: 29 }, day(2028, 2, 29), 0, 0)).toBe(2028);
  });
});
