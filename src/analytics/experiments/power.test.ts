import { describe, expect, it } from 'vitest';
import { minimumDetectableEffect, requiredSampleSize } from './power.js';
import { errorField } from '../../../test/support/errors.js';

function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('minimumDetectableEffect', () => {
  // python3: from scipy import special; z = special.ndtri
  //   se = sd*math.sqrt(1/(n*h) + 1/(n*(1-h))); mde = (z(1-a/2) + z(pw))*se; mde/m
  it('a 2,000-customer store, 90/10: MDE ≈ the whole baseline', () => {
    // n=2000, h=0.1, sd=2000, m=420, a=0.05, pw=0.8 → mde 417.63566616394485, rel 0.9943706337236782,
    // se 149.071198499986
    const r = minimumDetectableEffect({ n: 2000, holdoutShare: 0.1, baselineMean: 420, baselineSd: 2000 });
    close(r.absolute, 417.63566616394485);
    close(r.relative!, 0.9943706337236782);
    close(r.standardError, 149.071198499986);
    close(r.holdout, 200);
    close(r.treatment, 1800);
  });

  it('a 50/50 split detects less than half of that', () => {
    // n=2000, h=0.5 → mde 250.5813996983669, rel 0.5966223802342069
    const r = minimumDetectableEffect({ n: 2000, holdoutShare: 0.5, baselineMean: 420, baselineSd: 2000 });
    close(r.absolute, 250.5813996983669);
    close(r.relative!, 0.5966223802342069);
  });

  it('a conversion rate, α = 0.1, 90 % power', () => {
    // n=20000, h=0.2, sd=0.2 (√(0.04·0.96) ≈ 0.196; 0.2 as given), m=0.04, a=0.1, pw=0.9
    //   → mde 0.010346404780567484, rel 0.2586601195141871
    const r = minimumDetectableEffect({
      n: 20000,
      holdoutShare: 0.2,
      baselineMean: 0.04,
      baselineSd: 0.2,
      alpha: 0.1,
      power: 0.9,
    });
    close(r.absolute, 0.010346404780567484);
    close(r.relative!, 0.2586601195141871);
  });

  it('no baselineMean: no relative effect', () => {
    expect(minimumDetectableEffect({ n: 2000, holdoutShare: 0.1, baselineSd: 1 }).relative).toBeNull();
  });
});

describe('requiredSampleSize', () => {
  // python3: N = ((z(1-a/2) + z(pw))*sd/eff)**2*(1/h + 1/(1-h)); math.ceil(h*N), math.ceil((1-h)*N)
  it('inverts the MDE: 84 minor units at 90/10', () => {
    // eff=84, h=0.1, sd=2000 → N 49438.647860601464, 4944, 44495
    const r = requiredSampleSize({ effect: 84, holdoutShare: 0.1, baselineSd: 2000 });
    close(r.exactTotal, 49438.647860601464);
    expect(r.holdout).toBe(4944);
    expect(r.treatment).toBe(44495);
    expect(r.total).toBe(4944 + 44495);
    const back = minimumDetectableEffect({ n: r.exactTotal, holdoutShare: 0.1, baselineSd: 2000 });
    close(back.absolute, 84);
  });

  it('relative effect: +20 % of 420 at 50/50', () => {
    // eff=0.2*420, h=0.5, sd=2000 → N 17797.913229816528, 8899, 8899
    const r = requiredSampleSize({
      relativeEffect: 0.2,
      baselineMean: 420,
      holdoutShare: 0.5,
      baselineSd: 2000,
    });
    close(r.exactTotal, 17797.913229816528);
    expect([r.holdout, r.treatment]).toEqual([8899, 8899]);
    close(r.effect, 84);
  });

  it('a conversion lift of 1 point from 4 %, 90 % power', () => {
    // eff=0.01, h=0.2, sd=math.sqrt(0.04*0.96), a=0.05, pw=0.9 → N 25217.815347457476, 5044, 20175
    const r = requiredSampleSize({
      effect: 0.01,
      holdoutShare: 0.2,
      baselineSd: Math.sqrt(0.04 * 0.96),
      power: 0.9,
    });
    close(r.exactTotal, 25217.815347457476, 1e-11);
    expect([r.holdout, r.treatment]).toEqual([5044, 20175]);
  });

  it('refuses bad input, naming the field', () => {
    const field = errorField;
    const base = { holdoutShare: 0.1, baselineSd: 2000 };
    expect(field(() => requiredSampleSize({ ...base }))).toBe('effect');
    expect(field(() => requiredSampleSize({ ...base, effect: 1, relativeEffect: 0.1 }))).toBe('effect');
    expect(field(() => requiredSampleSize({ ...base, relativeEffect: 0.1 }))).toBe('baselineMean');
    expect(field(() => requiredSampleSize({ ...base, effect: 0 }))).toBe('effect');
    expect(field(() => requiredSampleSize({ ...base, effect: 1, holdoutShare: 1 }))).toBe('holdoutShare');
    expect(field(() => requiredSampleSize({ ...base, effect: 1, baselineSd: 0 }))).toBe('baselineSd');
    expect(field(() => requiredSampleSize({ ...base, effect: 1, power: 1 }))).toBe('power');
    expect(field(() => requiredSampleSize({ ...base, effect: 1, alpha: -0.1 }))).toBe('alpha');
    expect(field(() => minimumDetectableEffect({ ...base, n: 10 }))).toBe('n');
    expect(field(() => minimumDetectableEffect({ ...base, n: NaN }))).toBe('n');
  });
});
