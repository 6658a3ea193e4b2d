import { describe, expect, it } from 'vitest';
import { fitSbg, sbgSurvival } from '../btyd/sbg.js';
import { Rng } from '../btyd/simulate.js';
import { calendarOf } from '../calendar.js';
import { survivorCurves } from './mrr.js';
import {
  addCalendarMonths,
  cancelReasons,
  cohortRows,
  compareLtv,
  fitSbgCurves,
  forecastVsActual,
  monthIndexOf,
  monthLabel,
  monthPeriods,
  pooledCohorts,
} from './report.js';

const T = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

describe('calendar months', () => {
  it('labels and parses months', () => {
    expect(monthLabel(2027 * 12 + 0)).toBe('2027-01');
    expect(monthLabel(2026 * 12 + 11)).toBe('2026-12');
    expect(monthIndexOf('2026-12')).toBe(2026 * 12 + 11);
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-01', '2026-01-01'])
      expect(monthIndexOf(bad)).toBeNull();
  });

  it('adds calendar months: the day clamped to the month, the local time kept across DST', () => {
    const utc = calendarOf('UTC');
    expect(iso(addCalendarMonths(utc, T('2027-01-31T10:00:00Z'), 1))).toBe('2027-02-28T10:00:00.000Z');
    expect(iso(addCalendarMonths(utc, T('2028-01-31T10:00:00Z'), 1))).toBe('2028-02-29T10:00:00.000Z');
    expect(iso(addCalendarMonths(utc, T('2027-01-31T10:00:00Z'), 2))).toBe('2027-03-31T10:00:00.000Z');
    expect(iso(addCalendarMonths(utc, T('2027-03-31T10:00:00Z'), -1))).toBe('2027-02-28T10:00:00.000Z');
    expect(iso(addCalendarMonths(utc, T('2027-11-15T00:00:00Z'), 14))).toBe('2029-01-15T00:00:00.000Z');
    // Kyiv: 23:30 local on Feb 28 (UTC+2) is 23:30 local on Mar 28 (UTC+3, after the change on Mar 28).
    const kyiv = calendarOf('Europe/Kyiv');
    expect(iso(addCalendarMonths(kyiv, T('2027-02-28T21:30:00Z'), 1))).toBe('2027-03-28T20:30:00.000Z');
    // Month-start midnight in New York stays midnight, EST → EDT.
    const ny = calendarOf('America/New_York');
    expect(iso(addCalendarMonths(ny, T('2027-01-01T05:00:00Z'), 6))).toBe('2027-07-01T04:00:00.000Z');
    // The local Jan 31 in Kyiv is still Jan 30 in UTC: clamped by the local day (Feb 28 local).
    expect(iso(addCalendarMonths(kyiv, T('2027-01-30T22:30:00Z'), 1))).toBe('2027-02-27T22:30:00.000Z');
  });

  it('cuts months in the zone, the last one at the cap', () => {
    const kyiv = calendarOf('Europe/Kyiv');
    const first = 2027 * 12 + 2; // March
    const p = monthPeriods(kyiv, first, first + 1, T('2027-04-10T00:00:00Z'));
    expect(p.map((x) => [x.label, iso(x.startMs), iso(x.endMs)])).toEqual([
      ['2027-03', '2027-02-28T22:00:00.000Z', '2027-03-31T21:00:00.000Z'],
      ['2027-04', '2027-03-31T21:00:00.000Z', '2027-04-10T00:00:00.000Z'],
    ]);
  });
});

/** Survivor curves of sBG subscribers (θ ~ Beta(a, b)): `cohorts` cohorts of `size`, observed `months[i]`. */
function sbgCurves(
  seed: number,
  a: number,
  b: number,
  size: number,
  months: number[],
): Map<string, number[]> {
  const rng = new Rng(seed);
  const out = new Map<string, number[]>();
  months.forEach((n, i) => {
    const life = Array.from({ length: size }, () => {
      const theta = rng.beta(a, b);
      let t = 1;
      while (rng.uniform() >= theta && t <= n) t++;
      return t; // cancelled in month t (alive through t − 1)
    });
    const alive = Array.from({ length: n + 1 }, (_, t) => life.filter((l) => l > t).length);
    out.set(`c${String(i).padStart(2, '0')}`, alive);
  });
  return out;
}

describe('sBG by cohort', () => {
  it('pools cohorts by summing their likelihoods: one curve = fitSbg, the same curve twice = the same fit', () => {
    const alive = [1000, 631, 468, 382, 326, 289, 262, 241, 223];
    const one = fitSbgCurves([alive])!;
    const ref = fitSbg(alive);
    expect(one.alpha).toBeCloseTo(ref.params.alpha, 4);
    expect(one.beta).toBeCloseTo(ref.params.beta, 4);
    const two = fitSbgCurves([alive, alive])!;
    expect(two.alpha).toBeCloseTo(one.alpha, 3);
    expect(two.beta).toBeCloseTo(one.beta, 3);
    expect(two.subscribers).toBe(2000);
    expect(two.logLikelihood).toBeCloseTo(2 * one.logLikelihood, 6);
    // Fader & Hardie (2007), the "regular" customers: α ≈ 0.704, β ≈ 1.182 from 7 years of 1000.
    const regular = fitSbgCurves([[1000, 631, 468, 382, 326, 289, 262, 241]])!;
    expect(regular.alpha).toBeCloseTo(0.704, 2);
    expect(regular.beta).toBeCloseTo(1.182, 2);
  });

  it('has no fit when nobody churned or nothing was observed', () => {
    expect(fitSbgCurves([[40, 40, 40, 40]])).toBeNull();
    expect(fitSbgCurves([[40]])).toBeNull();
    expect(fitSbgCurves([])).toBeNull();
  });

  it('gives each cohort its rates and, with enough months, its fit and forecast', () => {
    const curves = new Map([
      ['2027-01', [100, 80, 70, 63, 58]],
      ['2027-02', [50, 45, 40]],
      ['2027-03', [10, 10, 10, 10]],
    ]);
    const rows = cohortRows(curves, { minMonths: 3, horizon: 12 });
    expect(rows.map((r) => [r.cohort, r.size, r.observedMonths])).toEqual([
      ['2027-01', 100, 4],
      ['2027-02', 50, 2],
      ['2027-03', 10, 3],
    ]);
    const [a, b, c] = rows;
    expect(a!.survival).toEqual([1, 0.8, 0.7, 0.63, 0.58]);
    expect(a!.retention[0]).toBeNull();
    expect(a!.retention[2]).toBeCloseTo(70 / 80, 12);
    expect(a!.churn[2]).toBeCloseTo(10 / 80, 12);
    expect(a!.sbg).not.toBeNull();
    expect(a!.sbg!.forecast.map((f) => f.month)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(a!.sbg!.forecast[0]!.expectedAlive).toBeCloseTo(
      100 * sbgSurvival({ alpha: a!.sbg!.alpha, beta: a!.sbg!.beta }, 5),
      9,
    );
    expect(a!.sbg!.forecast[0]!.survival).toBeLessThan(0.58);
    expect(b!.sbg).toBeNull(); // 2 months observed
    expect(c!.sbg).toBeNull(); // nobody churned
    const pooled = pooledCohorts(curves, { minMonths: 3, horizon: 6 });
    expect(pooled.subscribers).toBe(160);
    expect(pooled.atRisk).toEqual([160, 160, 160, 110, 100]);
    // Month 3: only the cohorts observed through it (2027-01 and 2027-03).
    expect(pooled.retention[3]).toBeCloseTo((63 + 10) / (70 + 10), 12);
    expect(pooled.survival[2]).toBeCloseTo((135 / 160) * (120 / 135), 12);
    expect(pooled.sbg!.forecast.map((f) => f.month)).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it('fitted on the first 12 months, forecasts months 13–24 of sBG subscribers', () => {
    // 8 cohorts of 300 observed 24 … 17 months; θ ~ Beta(1.2, 5).
    const curves = sbgCurves(5, 1.2, 5, 300, [24, 23, 22, 21, 20, 19, 18, 17]);
    const f = forecastVsActual(curves, 12);
    expect(f.cohorts).toHaveLength(8);
    expect(f.subscribers).toBe(2400);
    expect(f.fit!.months).toBe(12);
    expect(f.months.map((m) => m.part)).toEqual([...Array(12).fill('train'), ...Array(12).fill('forecast')]);
    const m13 = f.months[12]!;
    expect(m13).toMatchObject({ month: 13, cohorts: 8, subscribers: 2400 });
    const m24 = f.months[23]!;
    expect(m24).toMatchObject({ month: 24, cohorts: 1, subscribers: 300 });
    expect(m24.actualAlive).toBe(curves.get('c00')![24]);
    for (const m of f.months) {
      expect(m.forecastAlive).toBeCloseTo(m.subscribers * m.forecastSurvival, 9);
      expect(m.error).toBeCloseTo(m.forecastSurvival - m.actualSurvival, 12);
    }
    // The truth S(t) of Beta(1.2, 5) is what the forecast should approach.
    for (const m of f.months.filter((x) => x.part === 'forecast'))
      expect(Math.abs(m.forecastSurvival - sbgSurvival({ alpha: 1.2, beta: 5 }, m.month))).toBeLessThan(0.03);
    expect(f.meanAbsoluteError!).toBeLessThan(0.03);
    expect(f.byCohort).toHaveLength(8);
    expect(f.byCohort[0]!.months).toHaveLength(24);
    expect(f.byCohort[0]!.meanAbsoluteError).not.toBeNull();
    // Nothing observed beyond the horizon: no fit, no months.
    const none = forecastVsActual(sbgCurves(1, 1, 3, 50, [6, 5]), 12);
    expect(none).toMatchObject({
      cohorts: [],
      subscribers: 0,
      fit: null,
      months: [],
      meanAbsoluteError: null,
    });
    expect(() => forecastVsActual(curves, 0)).toThrow(/train/);
  });

  it('counts subscribers through survivorCurves with calendar months in the zone', () => {
    const kyiv = calendarOf('Europe/Kyiv');
    const start = T('2027-01-30T22:30:00Z'); // Jan 31, 00:30 local
    const curves = survivorCurves(
      [
        { startMs: start, endMs: T('2027-02-27T22:29:00Z') }, // a minute before month 1 ends (Feb 28 00:30 local)
        { startMs: start, endMs: T('2027-02-27T22:30:00Z') }, // at month 1's end: alive at 1
        { startMs: start, endMs: null },
      ],
      {
        asOfMs: T('2027-05-01T00:00:00Z'),
        cohortOf: (ms) => monthLabel(kyiv.monthIndexOfMs(ms)),
        periodEndMs: (s, t) => addCalendarMonths(kyiv, s, t),
        maxPeriods: 12,
      },
    );
    expect([...curves]).toEqual([['2027-01', [3, 2, 1, 1]]]);
  });
});

describe('cancel reasons', () => {
  it('counts by reason, shares, the latest distinct notes', () => {
    const r = cancelReasons(
      [
        { atMs: 1, reason: 'too_expensive', note: 'pricey' },
        { atMs: 5, reason: 'too_expensive', note: 'pricey' },
        { atMs: 3, reason: 'too_expensive', note: ' cheaper elsewhere ' },
        { atMs: 4, reason: 'too_expensive', note: null },
        { atMs: 2, reason: 'moving', note: '' },
        { atMs: 6, reason: null, note: 'erased?' },
        { atMs: 7, reason: 'delivery', note: 'late' },
        { atMs: 8, reason: 'delivery', note: 'broken' },
        { atMs: 9, reason: 'delivery', note: 'lost' },
        { atMs: 10, reason: 'delivery', note: 'wet' },
      ],
      3,
    );
    expect(r.total).toBe(10);
    expect(r.reasons.map((x) => [x.reason, x.count, x.share])).toEqual([
      ['delivery', 4, 0.4],
      ['too_expensive', 4, 0.4],
      ['moving', 1, 0.1],
      ['unknown', 1, 0.1],
    ]);
    expect(r.reasons[0]!.notes.map((n) => n.note)).toEqual(['wet', 'lost', 'broken']);
    expect(r.reasons[1]!.notes).toEqual([
      { atMs: 5, note: 'pricey' },
      { atMs: 3, note: 'cheaper elsewhere' },
    ]);
    expect(r.reasons[2]!.notes).toEqual([]);
    expect(cancelReasons([])).toEqual({ total: 0, reasons: [] });
  });
});

describe('subscribers vs one-off buyers', () => {
  const utc = calendarOf('UTC');
  const windowEndMs = (s: number) => addCalendarMonths(utc, s, 12);
  const asOfMs = T('2027-01-01T00:00:00Z');

  it('sums net revenue in each window, leaves out the too recent, compares means', () => {
    const start = T('2025-03-10T12:00:00Z');
    const r = compareLtv(
      [
        {
          group: 'subscriber',
          startMs: start,
          orders: [
            { atMs: start, netMinor: 1000 }, // at the start: counted
            { atMs: T('2026-03-10T11:59:59Z'), netMinor: 500 }, // last second of the window
            { atMs: T('2026-03-10T12:00:00Z'), netMinor: 9999 }, // the window's end: not counted
          ],
        },
        { group: 'subscriber', startMs: start, orders: [] },
        {
          group: 'subscriber',
          startMs: T('2026-06-01T00:00:00Z'),
          orders: [{ atMs: T('2026-06-01T00:00:00Z'), netMinor: 1 }],
        },
        { group: 'oneOff', startMs: start, orders: [{ atMs: start, netMinor: 300 }] },
        {
          group: 'oneOff',
          startMs: start,
          orders: [
            { atMs: start, netMinor: 500 },
            { atMs: start + 1, netMinor: -100 },
          ],
        },
      ],
      { asOfMs, windowEndMs },
    );
    expect(r.subscribers).toEqual({ customers: 2, tooRecent: 1, meanMinor: 750, medianMinor: 750 });
    expect(r.oneOff).toEqual({ customers: 2, tooRecent: 0, meanMinor: 350, medianMinor: 350 });
    expect(r.difference!.estimateMinor).toBe(400);
    expect(r.difference!.lowMinor).toBeLessThan(400);
    expect(r.difference!.highMinor).toBeGreaterThan(400);
    expect(r.differenceUnavailable).toBeNull();
  });

  it('has no difference with fewer than 2 customers in a group', () => {
    const r = compareLtv([{ group: 'subscriber', startMs: T('2025-01-01T00:00:00Z'), orders: [] }], {
      asOfMs,
      windowEndMs,
    });
    expect(r.difference).toBeNull();
    expect(r.differenceUnavailable).toMatch(/at least 2/);
    expect(r.oneOff).toEqual({ customers: 0, tooRecent: 0, meanMinor: null, medianMinor: null });
  });
});
