import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { ltvReport, type LtvGroup } from './ltv.js';
import { order } from '../../../test/support/metricsKit.js';
import type { SpendRow } from './types.js';

const asOf = new Date('2024-04-01T00:00:00Z'); // window (3 months) = Jan–Mar 2024
const orders = [
  order('A', '2024-01-10T00:00Z', 10000, 4000),
  order('A', '2024-02-10T00:00Z', 6000, 2000, 1000),
  order('B', '2024-01-20T00:00Z', 4000, 1000),
  order('C', '2023-12-15T00:00Z', 2000, 500), // before the window
  order('C', '2024-03-05T00:00Z', 3000, 1000, 3500), // refund exceeds the order
  order('D', '2024-04-02T00:00Z', 9999, 0), // after asOf: ignored
];
const profiles = [
  { customerId: 'A', channel: 'ads', country: 'GB' },
  { customerId: 'B', channel: 'ads', country: 'GB' },
  { customerId: 'C', channel: 'organic', country: 'FR' },
];
const spend: SpendRow[] = [
  { date: new Date('2023-12-01T00:00Z'), channel: 'ads', amountMinor: 9999 }, // before the window
  { date: new Date('2024-01-01T00:00Z'), channel: 'ads', amountMinor: 3000 },
  { date: new Date('2024-02-01T00:00Z'), channel: 'ads', amountMinor: 3000 },
  { date: new Date('2024-01-01T00:00Z'), channel: 'organic', amountMinor: 0 },
  { date: new Date('2024-04-05T00:00Z'), channel: 'ads', amountMinor: 5000 }, // after asOf
];

const f = (g: LtvGroup, def: string) => {
  const x = g.formulas.find((y) => y.definition === def);
  if (!x) throw new Error(def);
  return x;
};

describe('ltvReport', () => {
  const r = ltvReport({ orders, profiles, spend, asOf, windowMonths: 3 });

  it('measures on the complete months before asOf', () => {
    expect(r.window).toMatchObject({ firstMonth: '2024-01', lastMonth: '2024-03', months: 3 });
    expect(r.window.from.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(r.window.to.toISOString()).toBe('2024-04-01T00:00:00.000Z');
  });

  it('AOV × frequency × lifespan (hand-computed)', () => {
    const x = f(r.overall, 'ltv.aov_frequency_lifespan');
    // window orders: A1 10000, A2 5000 net, B1 4000, C1 −500 net → 18500 / 4
    expect(x.inputs.averageNetOrderValueMinor).toBe(4625);
    // 4 orders / 3 customers / (3/12 year)
    expect(x.inputs.ordersPerCustomerPerYear).toBeCloseTo(16 / 3, 12);
    // lifespans: A 31 d, B 0, C 2023-12-15 → 2024-03-05 = 81 d
    expect(x.inputs.expectedLifespanYears).toBeCloseTo(112 / 365.25 / 3, 12);
    expect(x.valueMinor).toBeCloseTo(4625 * (16 / 3) * (112 / 365.25 / 3), 9);
  });

  it('monthly sales × lifetime months', () => {
    const x = f(r.overall, 'ltv.monthly_sales_lifetime');
    // customer-months: Jan {A,B}, Feb {A}, Mar {C} = 4
    expect(x.inputs.customerMonths).toBe(4);
    expect(x.inputs.monthlySalesPerCustomerMinor).toBe(18500 / 4);
    // lifetime months: A 2, B 1, C 4 (Dec..Mar)
    expect(x.inputs.averageLifetimeMonths).toBeCloseTo(7 / 3, 12);
    expect(x.valueMinor).toBeCloseTo(4625 * (7 / 3), 9);
  });

  it('margin per month / monthly churn', () => {
    const x = f(r.overall, 'ltv.margin_churn');
    // margins: 6000 + 3000 + 3000 + (−500 − 1000) = 10500 over 4 customer-months
    expect(x.inputs.monthlyMarginPerCustomerMinor).toBe(2625);
    // retained: Jan→Feb A (1 of 2), Feb→Mar none (0 of 1) → 1/3 retained, churn 2/3
    expect(x.inputs.monthlyChurnRate).toBeCloseTo(2 / 3, 12);
    expect(x.valueMinor).toBeCloseTo(3937.5, 9);
    expect(x.inputs.marginBasis).toBe('margin');
  });

  it('observed LTV, CAC and LTV:CAC', () => {
    expect(f(r.overall, 'ltv.observed_revenue').valueMinor).toBeCloseTo(20500 / 3, 9);
    const m = f(r.overall, 'ltv.observed_margin');
    expect(m.valueMinor).toBe(4000); // (10500 + 1500) / 3
    // spend in window 6000 (ads) + 0 (organic); new customers A, B (C first bought in Dec)
    expect(r.overall.cac).toMatchObject({ spendMinor: 6000, newCustomers: 2, cacMinor: 3000, note: null });
    expect(m.ltvMinusCacMinor).toBe(1000);
    expect(m.ltvToCac).toBeCloseTo(4 / 3, 12);
    expect(r.overall.marginBasis).toBe('margin');
    expect(r.notes).toEqual([]);
  });

  it('per channel: groups, channel spend and a channel without new customers', () => {
    expect(r.byChannel.map((g) => g.group)).toEqual(['ads', 'organic']);
    const ads = r.byChannel[0]!;
    expect(ads.cac.cacMinor).toBe(3000);
    const x = f(ads, 'ltv.aov_frequency_lifespan');
    expect(x.valueMinor).toBeCloseTo((19000 / 3) * 6 * (31 / 365.25 / 2), 9);
    const organic = r.byChannel[1]!;
    expect(organic.cac).toMatchObject({ spendMinor: 0, newCustomers: 0, cacMinor: null });
    expect(f(organic, 'ltv.observed_revenue').ltvToCac).toBeNull();
  });

  it('zero spend gives CAC 0 and no ratio; unknown costs fall back to revenue with a flag', () => {
    const o2 = [order('E', '2024-03-10T00:00Z', 1000, null), order('F', '2024-03-11T00:00Z', 3000, 100)];
    const r2 = ltvReport({
      orders: o2,
      spend: [{ date: new Date('2024-03-01T00:00Z'), channel: 'x', amountMinor: 0 }],
      asOf,
      windowMonths: 3,
    });
    expect(r2.overall.cac.cacMinor).toBe(0);
    expect(r2.overall.cac.note).toMatch(/zero spend/);
    const m = f(r2.overall, 'ltv.observed_margin');
    expect(m.ltvToCac).toBeNull();
    expect(m.ltvMinusCacMinor).toBe(2000);
    expect(r2.overall.marginBasis).toBe('revenue');
    expect(r2.overall.costCoverage).toBe(0.5);
    expect(m.valueMinor).toBe(2000); // net revenue, not margin
    expect(r2.notes.join(' ')).toMatch(/costs unknown for 50.0%/);
    // single-order customers: lifespan 0 → formula 1 is 0; only March active → no churn, formula 3 null
    expect(f(r2.overall, 'ltv.aov_frequency_lifespan').valueMinor).toBe(0);
    expect(f(r2.overall, 'ltv.margin_churn').valueMinor).toBeNull();
    expect(r2.byChannel.map((g) => g.group)).toEqual(['(unknown)']);
  });

  it('without spend: CAC null and said so; predicted LTV shown when given', () => {
    const r3 = ltvReport({ orders, asOf, predicted: { model: 'bgnbd+gg', overallMinor: 7000 } });
    expect(r3.overall.cac.cacMinor).toBeNull();
    expect(r3.overall.cac.note).toMatch(/no marketing spend/);
    expect(r3.notes.join(' ')).toMatch(/no marketing spend/);
    expect(f(r3.overall, 'ltv.predicted').valueMinor).toBe(7000);
    expect(r3.window.months).toBe(12);
  });

  it('by the first order’s category: same figures per group, no CAC, predicted per category when given', () => {
    const withCategories = [
      order('A', '2024-01-10T00:00Z', 10000, 4000, 0, 'mugs'),
      order('A', '2024-02-10T00:00Z', 6000, 2000, 1000, 'tea'), // a later order's category does not count
      order('B', '2024-01-20T00:00Z', 4000, 1000, 0, 'tea'),
      order('C', '2023-12-15T00:00Z', 2000, 500), // first order without a category
      order('C', '2024-03-05T00:00Z', 3000, 1000, 0, 'mugs'),
    ];
    const r5 = ltvReport({
      orders: withCategories,
      profiles,
      spend,
      asOf,
      windowMonths: 3,
      predicted: { model: 'm', overallMinor: 9000, byFirstCategoryMinor: { mugs: 20000, tea: 5000 } },
    });
    expect(r5.byFirstCategory.map((g) => [g.group, g.customers])).toEqual([
      ['(unknown)', 1],
      ['mugs', 1],
      ['tea', 1],
    ]);
    const mugs = r5.byFirstCategory.find((g) => g.group === 'mugs')!;
    expect(f(mugs, 'ltv.observed_revenue').valueMinor).toBe(15000);
    expect(f(mugs, 'ltv.predicted').valueMinor).toBe(20000);
    expect(f(r5.byFirstCategory[0]!, 'ltv.predicted').valueMinor).toBeNull();
    expect(mugs.cac).toMatchObject({
      cacMinor: null,
      spendMinor: null,
      note: expect.stringMatching(/per channel/),
    });
    expect(f(mugs, 'ltv.observed_revenue').ltvToCac).toBeNull();
    // A group of one first category = the same figures as a report over only its customers.
    const onlyMugs = ltvReport({
      orders: withCategories.filter((o) => o.customerId === 'A'),
      profiles,
      asOf,
      windowMonths: 3,
    });
    expect(mugs.formulas.map((x) => x.valueMinor).slice(0, 5)).toEqual(
      onlyMugs.overall.formulas.map((x) => x.valueMinor),
    );
    expect(mugs.diagnostics).toEqual(onlyMugs.overall.diagnostics);
  });

  it('empty input yields nulls, bad window is a validation error', () => {
    const r4 = ltvReport({ orders: [], asOf });
    expect(r4.overall.customers).toBe(0);
    expect(r4.overall.formulas.every((x) => x.valueMinor === null)).toBe(true);
    expect(() => ltvReport({ orders, asOf, windowMonths: 0 })).toThrow(AppError);
    expect(() => ltvReport({ orders: [order('A', 'bad', 1)], asOf })).toThrow(AppError);
  });
});

describe('ltvReport: which formula fits the store (docs/metrics.md#ltv.trust)', () => {
  /** 100 new customers a month for 36 months; each buys on the 10th of every month it is alive. */
  function store(opts: { retention: number; everyOtherMonth: boolean }) {
    const list = [];
    for (let m = 0; m < 36; m++)
      for (let j = 0; j < 100; j++) {
        // Months alive: the number still alive after k months is 100 × retention^k.
        let months = 1;
        while (months < 36 && j < Math.round(100 * opts.retention ** months)) months++;
        for (let k = 0; k < months && m + k * (opts.everyOtherMonth ? 2 : 1) < 36; k++) {
          const month = m + k * (opts.everyOtherMonth ? 2 : 1);
          const iso = new Date(Date.UTC(2022, month, 10)).toISOString();
          list.push(order(`c${m}-${j}`, iso, 5000));
        }
      }
    return list;
  }
  const asOf2 = new Date('2025-01-01T00:00:00Z');

  it('a steady monthly store: margin / churn fits and is recommended', () => {
    const r = ltvReport({ orders: store({ retention: 0.7, everyOtherMonth: false }), asOf: asOf2 });
    const d = r.overall.diagnostics;
    expect(d.activityDensity).toBe(1);
    expect(d.reactivatedShare).toBe(0);
    expect(d.recentlyActiveShare).toBeLessThan(0.2);
    expect(d.monthlyRetentionMax! - d.monthlyRetentionMin!).toBeLessThan(0.1);
    expect(f(r.overall, 'ltv.margin_churn').assessment).toMatchObject({ assumptionsHold: true });
    expect(r.overall.recommended.definition).toBe('ltv.margin_churn');
    expect(r.overall.recommended.reason).toMatch(/^its assumptions hold on this data: retention is steady/);
  });

  it('customers who skip months: churn counts pauses as leaving, and the monthly formulas fail', () => {
    const r = ltvReport({ orders: store({ retention: 0.7, everyOtherMonth: true }), asOf: asOf2 });
    const d = r.overall.diagnostics;
    expect(d.activityDensity).toBeLessThan(0.8);
    expect(d.reactivatedShare).toBeGreaterThan(0.2);
    const churn = f(r.overall, 'ltv.margin_churn').assessment;
    expect(churn.assumptionsHold).toBe(false);
    expect(churn.reasons.join(' ')).toMatch(/counted as churned ordered again later/);
    expect(f(r.overall, 'ltv.monthly_sales_lifetime').assessment.reasons[0]).toMatch(
      /ordered in \d+% of the months between their first and last order/,
    );
  });

  it('the predicted LTV is recommended when present; the observed value is a floor while customers still buy', () => {
    const r = ltvReport({ orders, asOf, predicted: { model: 'mbgnbd+gg', overallMinor: 90000 } });
    expect(r.overall.recommended.definition).toBe('ltv.predicted');
    expect(f(r.overall, 'ltv.observed_revenue').assessment.reasons[0]).toMatch(/^a floor, not a lifetime/);
    // Without a prediction and with every formula failing: the observed value, as a floor.
    const none = ltvReport({ orders, asOf });
    expect(none.overall.recommended.definition).toBe('ltv.observed_revenue');
    expect(none.overall.recommended.reason).toMatch(/retain clv predict/);
  });
});
