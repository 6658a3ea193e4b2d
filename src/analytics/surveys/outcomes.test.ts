import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random.js';
import { lowScoreEffect, scoresBy, valueByBand, windowOutcome, type WindowOutcome } from './outcomes.js';

const DAY = 86_400_000;
const money = (m: number) => `$${(m / 100).toFixed(2)}`;

describe('scoresBy', () => {
  it('scores each group (an answer may count in several), largest first, small groups flagged', () => {
    const rows = [
      ...Array.from({ length: 40 }, (_, i) => ({ key: 'email', score: i < 20 ? 10 : i < 30 ? 8 : 3 })),
      { key: 'ads', score: 2 },
      { key: 'ads', score: 9 },
      { key: 'ads', score: 10 },
    ];
    const g = scoresBy('nps', rows);
    expect(g.map((x) => x.key)).toEqual(['email', 'ads']);
    expect(g[0]).toMatchObject({ answered: 40, score: 25, few: false });
    expect(g[1]!.score).toBeCloseTo(100 / 3, 10);
    expect(g[1]!.few).toBe(true);
    expect(g[0]!.low).toBeLessThan(25);
    expect(g[0]!.high).toBeGreaterThan(25);
    const c = scoresBy('csat', [
      { key: 'a', score: 5 },
      { key: 'a', score: 1 },
    ]);
    expect(c[0]).toMatchObject({ score: 50, answered: 2 });
  });
});

describe('windowOutcome', () => {
  it('counts orders after (exclusive of the answer instant, inclusive of the window end) and before', () => {
    const t = Date.parse('2026-03-01T00:00:00Z');
    const orders = [
      { atMs: t - 31 * DAY, netMinor: 1 }, // outside the window before
      { atMs: t - 30 * DAY, netMinor: 10 },
      { atMs: t, netMinor: 100 }, // at the answer: neither
      { atMs: t + 30 * DAY, netMinor: 1000 },
      { atMs: t + 30 * DAY + 1, netMinor: 10_000 },
    ];
    const o = windowOutcome(t, orders, t + 60 * DAY, 30);
    expect(o).toEqual({
      matured: true,
      ordersAfter: 1,
      netAfterMinor: 1000,
      ordersBefore: 1,
      netBeforeMinor: 10,
      netToDateMinor: 11_111,
    });
    expect(windowOutcome(t, orders, t + 30 * DAY - 1, 30).matured).toBe(false);
    // Orders at or after asOf are not seen.
    expect(windowOutcome(t, orders, t + 30 * DAY, 30).netToDateMinor).toBe(111);
  });
});

const outcome = (over: Partial<WindowOutcome>): WindowOutcome => ({
  matured: true,
  ordersAfter: 0,
  netAfterMinor: 0,
  ordersBefore: 0,
  netBeforeMinor: 0,
  netToDateMinor: 0,
  ...over,
});

describe('valueByBand', () => {
  it('finds that promoters spend more when they do, and says it with intervals', () => {
    const rand = mulberry32(7);
    const customers = [
      ...Array.from({ length: 200 }, () => {
        const buys = rand() < 0.6;
        return {
          score: 9 + Math.floor(rand() * 2),
          clvMinor: 20_000 + Math.round(rand() * 10_000),
          outcome: outcome({
            ordersAfter: buys ? 1 : 0,
            netAfterMinor: buys ? 5000 : 0,
            netToDateMinor: 30_000,
          }),
        };
      }),
      ...Array.from({ length: 200 }, () => {
        const buys = rand() < 0.2;
        return {
          score: Math.floor(rand() * 7),
          clvMinor: rand() < 0.1 ? null : 8000 + Math.round(rand() * 4000),
          outcome: outcome({
            ordersAfter: buys ? 1 : 0,
            netAfterMinor: buys ? 4000 : 0,
            netToDateMinor: 12_000,
          }),
        };
      }),
      { score: 7, clvMinor: null, outcome: outcome({ matured: false }) },
    ];
    const v = valueByBand('nps', customers, { windowDays: 90, formatMoney: money });
    expect(v.bands.map((b) => [b.band, b.customers])).toEqual([
      ['detractor', 200],
      ['passive', 1],
      ['promoter', 200],
    ]);
    const passive = v.bands[1]!;
    expect(passive).toMatchObject({
      matured: 0,
      repeatRate: null,
      revenueAfterMinor: null,
      meanClvMinor: null,
    });
    expect(v.bands[0]!.withClv).toBeLessThan(200);
    const d = v.topVsBottom;
    expect(d.clvMinor!.low).toBeGreaterThan(10_000);
    expect(d.repeatRate!.estimate).toBeGreaterThan(0.3);
    expect(d.repeatRate!.low).toBeGreaterThan(0);
    expect(d.revenueAfterMinor!.low).toBeGreaterThan(0);
    expect(v.verdict).toMatch(/^Promoters against detractors: predicted CLV: \+\$\d+\.\d\d \(95% CI/);
    expect(v.verdict).toContain('more than chance explains');
  });

  it('says there are too few when a band is empty', () => {
    const v = valueByBand('csat', [{ score: 5, clvMinor: 100, outcome: outcome({}) }], {
      windowDays: 30,
      formatMoney: money,
    });
    expect(v.topVsBottom).toEqual({ clvMinor: null, repeatRate: null, revenueAfterMinor: null });
    expect(v.verdict).toMatch(/^Too few happy customers or unhappy customers/);
  });
});

describe('lowScoreEffect', () => {
  it('compares resolved with unresolved low scores on matured windows only', () => {
    const rand = mulberry32(11);
    const rows = [
      ...Array.from({ length: 60 }, () => {
        const b = rand() < 0.5;
        return {
          resolved: true,
          outcome: outcome({ ordersAfter: b ? 1 : 0, netAfterMinor: b ? 3000 : 0, ordersBefore: 1 }),
        };
      }),
      ...Array.from({ length: 60 }, () => {
        const b = rand() < 0.15;
        return {
          resolved: false,
          outcome: outcome({ ordersAfter: b ? 1 : 0, netAfterMinor: b ? 3000 : 0, ordersBefore: 1 }),
        };
      }),
      { resolved: true, outcome: outcome({ matured: false, ordersAfter: 5, netAfterMinor: 1e9 }) },
    ];
    const e = lowScoreEffect(rows, { windowDays: 90, formatMoney: money });
    expect(e.resolved).toMatchObject({ lowScores: 61, matured: 60, boughtBefore: 1 });
    expect(e.unresolved.matured).toBe(60);
    expect(e.resolved.revenueAfterMinor!).toBeLessThan(3000);
    expect(e.difference.repeatRate!.low).toBeGreaterThan(0);
    expect(e.verdict).toMatch(
      /^Within 90 days of a low score, \d+\.\d% of customers whose call task was done bought again/,
    );
    expect(e.verdict).toContain('association, not proof');
  });

  it('says why it cannot tell yet', () => {
    const f = { windowDays: 90, formatMoney: money };
    expect(lowScoreEffect([], f).verdict).toBe('No low scores yet.');
    expect(lowScoreEffect([{ resolved: true, outcome: outcome({ matured: false }) }], f).verdict).toMatch(
      /^No low score is 90 days old yet/,
    );
    const few = lowScoreEffect(
      [
        { resolved: true, outcome: outcome({ ordersAfter: 1 }) },
        { resolved: false, outcome: outcome({}) },
      ],
      f,
    );
    expect(few.verdict).toMatch(/^Too few to tell: 1 resolved and 1 unresolved/);
    expect(few.difference).toEqual({ repeatRate: null, revenueAfterMinor: null });
  });
});
