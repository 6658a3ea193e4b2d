import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { bandOf, BANDS, csat, nps, wilson } from './scores.js';

/** z of a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

describe('nps', () => {
  it('counts promoters, passives and detractors and gives the multinomial standard error', () => {
    // 4 promoters (10, 9, 9, 10), 2 passives (8, 7), 4 detractors (6, 0, 3, 5) of 10.
    const r = nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 5]);
    expect(r).toMatchObject({ n: 10, promoters: 4, passives: 2, detractors: 4 });
    expect(r.nps).toBe(0);
    // var = (0.4 + 0.4 − 0²)/10 = 0.08; SE = 100·√0.08 = 28.28 points; 95 %: ±1.96·28.28 = ±55.44.
    expect(r.standardError).toBeCloseTo(28.2843, 4);
    expect(r.low).toBeCloseTo(-55.4362, 4);
    expect(r.high).toBeCloseTo(55.4362, 4);
    expect(r.confidence).toBe(0.95);
  });

  it('works an uneven example by hand', () => {
    // 4 promoters, 2 passives, 1 detractor of 7: NPS = 100·(4 − 1)/7 = 42.86.
    const r = nps([10, 10, 10, 9, 8, 7, 3]);
    expect(r.nps).toBeCloseTo(300 / 7, 10);
    // var = (4/7 + 1/7 − (3/7)²)/7 = (35/49 − 9/49)/7 = 26/343; SE = 100·√(26/343) = 27.53.
    expect(r.standardError).toBeCloseTo(100 * Math.sqrt(26 / 343), 10);
    expect(r.standardError).toBeCloseTo(27.5321, 4);
    expect(r.low).toBeCloseTo(-11.1048, 4);
    expect(r.high).toBeCloseTo(96.8191, 4);
  });

  it('clips the interval to −100..100 and collapses it when every answer is a promoter', () => {
    // 3 promoters, 1 detractor: 50 ± 1.96·43.30 → −34.87..134.87, clipped to 100.
    const r = nps([10, 10, 10, 0]);
    expect(r.nps).toBe(50);
    expect(r.standardError).toBeCloseTo(43.3013, 4);
    expect(r.low).toBeCloseTo(-34.8689, 4);
    expect(r.high).toBe(100);
    // The normal interval's known weakness: no spread in the sample, no width.
    expect(nps([9, 10])).toMatchObject({ nps: 100, standardError: 0, low: 100, high: 100 });
    expect(nps([0, 3, 6])).toMatchObject({ nps: -100, standardError: 0, low: -100, high: -100 });
  });

  it('takes another confidence level', () => {
    const r95 = nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 5]);
    const r90 = nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 5], { confidence: 0.9 });
    expect(r90.high / r95.high).toBeCloseTo(1.644853627 / Z95, 8);
    expect(r90.confidence).toBe(0.9);
  });

  it('refuses scores that are not whole numbers from 0 to 10, and no scores', () => {
    expect(() => nps([])).toThrow(AppError);
    expect(() => nps([])).toThrow(/at least one score/);
    expect(() => nps([9, 11])).toThrow(/whole numbers from 0 to 10; scores\[1\] is 11/);
    expect(() => nps([7.5])).toThrow(/scores\[0\] is 7.5/);
    expect(() => nps([-1])).toThrow(AppError);
    expect(() => nps([Number.NaN])).toThrow(/is NaN/);
    expect(() => nps(['9' as unknown as number])).toThrow(/is "9"/);
    expect(() => nps([9], { confidence: 1 })).toThrow(/confidence/);
    const error = caught(() => nps([3, 12]));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'validation', where: { field: 'scores[1]' } });
  });
});

describe('csat', () => {
  it('is the share of 4s and 5s with a Wilson interval', () => {
    // 5 of 8 answers are 4 or 5: 62.5 %.
    const r = csat([5, 4, 4, 3, 2, 5, 1, 4]);
    expect(r).toMatchObject({ n: 8, satisfied: 5, csat: 62.5 });
    // Wilson by hand: p = 0.625, z² = 3.8415; centre = (p + z²/16)/(1 + z²/8) = 0.8651/1.4802 = 0.5844;
    // half = z·√(p(1−p)/8 + z²/256)/1.4802 = 1.96·0.2105/1.4802 = 0.2787 → 30.57 %..86.32 %.
    expect(r.low).toBeCloseTo(30.5742, 4);
    expect(r.high).toBeCloseTo(86.3156, 4);
  });

  it('keeps the interval open at 100 % and at 0 %', () => {
    // All satisfied: the lower end is n/(n + z²) = 3/6.8415 = 43.85 %, the upper 100 %.
    const all = csat([5, 5, 4]);
    expect(all.csat).toBe(100);
    expect(all.low).toBeCloseTo((100 * 3) / (3 + Z95 * Z95), 8);
    expect(all.high).toBe(100);
    const none = csat([1, 2, 3, 3]);
    expect(none.csat).toBe(0);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo((100 * Z95 * Z95) / (4 + Z95 * Z95), 8);
  });

  it('agrees with the formula for a proportion', () => {
    const w = wilson(30, 40, Z95);
    const p = 0.75;
    const n = 40;
    const z2 = Z95 * Z95;
    const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
    expect(w.low).toBeCloseTo(centre - half, 12);
    expect(w.high).toBeCloseTo(centre + half, 12);
  });

  it('refuses scores outside 1–5', () => {
    expect(() => csat([0])).toThrow(/whole numbers from 1 to 5; scores\[0\] is 0/);
    expect(() => csat([5, 6])).toThrow(/scores\[1\] is 6/);
    expect(() => csat([])).toThrow(/CSAT needs at least one score/);
  });
});

describe('bandOf', () => {
  it('puts NPS 0–6 in detractors, 7–8 in passives, 9–10 in promoters', () => {
    const bands = Array.from({ length: 11 }, (_, s) => bandOf('nps', s));
    expect(bands).toEqual([...Array(7).fill('detractor'), 'passive', 'passive', 'promoter', 'promoter']);
  });

  it('puts CSAT 1–2 in unhappy, 3 in neutral, 4–5 in happy', () => {
    expect([1, 2, 3, 4, 5].map((s) => bandOf('csat', s))).toEqual([
      'unhappy',
      'unhappy',
      'neutral',
      'happy',
      'happy',
    ]);
    expect(BANDS.csat).toEqual(['unhappy', 'neutral', 'happy']);
  });

  it('refuses a score out of range or an unknown kind', () => {
    expect(() => bandOf('nps', 11)).toThrow(/NPS scores are whole numbers from 0 to 10; score is 11/);
    expect(() => bandOf('csat', 0)).toThrow(AppError);
    expect(() => bandOf('csat', 4.5)).toThrow(AppError);
    expect(() => bandOf('ces' as 'nps', 3)).toThrow(/'nps' or 'csat'/);
  });
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
