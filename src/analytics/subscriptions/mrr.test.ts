import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random.js';
import { fitSbg, sbgSurvival } from '../btyd/sbg.js';
import { mrrMovements, survivorCurves, type MrrChange } from './mrr.js';

const T = (s: string) => Date.parse(s);
const months = ['2027-01', '2027-02', '2027-03', '2027-04'].map((label, i, all) => ({
  label,
  startMs: T(`${label}-01T00:00:00Z`),
  endMs: i + 1 < all.length ? T(`${all[i + 1]}-01T00:00:00Z`) : T('2027-05-01T00:00:00Z'),
}));

describe('MRR movements', () => {
  it('classifies new, expansion, contraction, churned and reactivated, and adds up', () => {
    const changes: MrrChange[] = [
      { subscription: 'a', atMs: T('2027-01-05T00:00:00Z'), mrrMinor: 1000 }, // new in Jan
      { subscription: 'a', atMs: T('2027-02-10T00:00:00Z'), mrrMinor: 2000 }, // expansion in Feb
      { subscription: 'a', atMs: T('2027-03-10T00:00:00Z'), mrrMinor: 0 }, // churned in Mar
      { subscription: 'a', atMs: T('2027-04-02T00:00:00Z'), mrrMinor: 1500 }, // reactivated in Apr
      { subscription: 'b', atMs: T('2027-01-20T00:00:00Z'), mrrMinor: 3000 },
      { subscription: 'b', atMs: T('2027-03-01T00:00:00Z'), mrrMinor: 1000 }, // contraction in Mar (at its start)
      { subscription: 'c', atMs: T('2027-02-03T00:00:00Z'), mrrMinor: 500 }, // in and out within Feb
      { subscription: 'c', atMs: T('2027-02-20T00:00:00Z'), mrrMinor: 0 },
    ];
    const m = mrrMovements(changes, months);
    expect(m.map((x) => [x.label, x.startMrrMinor, x.endMrrMinor, x.activeAtEnd])).toEqual([
      ['2027-01', 0, 4000, 2],
      ['2027-02', 4000, 5000, 2],
      ['2027-03', 5000, 1000, 1],
      ['2027-04', 1000, 2500, 2],
    ]);
    expect(m[0]).toMatchObject({ newMinor: 4000, newCount: 2 });
    expect(m[1]).toMatchObject({ expansionMinor: 1000, newMinor: 0, churnedMinor: 0 });
    expect(m[2]).toMatchObject({ churnedMinor: 2000, churnedCount: 1, contractionMinor: 2000 });
    expect(m[3]).toMatchObject({ reactivatedMinor: 1500, reactivatedCount: 1 });
    const rand = mulberry32(3);
    const many: MrrChange[] = Array.from({ length: 400 }, (_, i) => ({
      subscription: `s${i % 50}`,
      atMs: T('2027-01-01T00:00:00Z') + Math.floor(rand() * 120) * 86_400_000,
      mrrMinor: rand() < 0.3 ? 0 : Math.floor(rand() * 5000),
    }));
    for (const x of mrrMovements(many, months))
      expect(
        x.startMrrMinor +
          x.newMinor +
          x.reactivatedMinor +
          x.expansionMinor -
          x.contractionMinor -
          x.churnedMinor,
      ).toBe(x.endMrrMinor);
  });
});

describe('survivor curves and the sBG forecast', () => {
  it('counts each cohort only through fully observed months; sBG on 12 months forecasts 13–24', () => {
    // Subscribers churn by a heterogeneous geometric process (θ ~ Beta(1, 3)): what sBG assumes.
    const rand = mulberry32(28);
    const beta1 = () => {
      // Beta(1, 3) by inversion: 1 − (1 − u)^(1/3).
      return 1 - Math.pow(1 - rand(), 1 / 3);
    };
    const MONTH = 30 * 86_400_000;
    const start = T('2026-01-01T00:00:00Z');
    const subs = Array.from({ length: 3000 }, () => {
      const theta = beta1();
      let t = 1;
      while (rand() >= theta && t < 60) t++;
      return { startMs: start, endMs: start + t * MONTH - 1 };
    });
    const curves = survivorCurves(subs, {
      asOfMs: start + 24 * MONTH,
      cohortOf: () => '2026-01',
      periodEndMs: (s, t) => s + t * MONTH,
      maxPeriods: 24,
    });
    const alive = curves.get('2026-01')!;
    expect(alive.length).toBe(25);
    expect(alive[0]).toBe(3000);
    const fit = fitSbg(alive.slice(0, 13));
    for (const t of [13, 18, 24]) {
      const forecast = 3000 * sbgSurvival(fit.params, t);
      expect(Math.abs(forecast - alive[t]!) / alive[t]!).toBeLessThan(0.1);
    }
    // Not yet observed through month 24: the curve stops where the latest member stops.
    const partial = survivorCurves([...subs.slice(0, 10), { startMs: start + 5 * MONTH, endMs: null }], {
      asOfMs: start + 24 * MONTH,
      cohortOf: () => 'all',
      periodEndMs: (s, t) => s + t * MONTH,
      maxPeriods: 24,
    });
    expect(partial.get('all')!.length).toBe(20);
  });
});
