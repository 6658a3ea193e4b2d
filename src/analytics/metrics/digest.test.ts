import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { buildDigest } from './digest.js';
import { digestStore, februaryDigest } from '../../../test/support/metricsKit.js';

const { asOf, orders } = digestStore();

describe('buildDigest', () => {
  const d = februaryDigest();

  it('headline of the month, previous month and same month last year (hand-computed)', () => {
    expect(d.current).toMatchObject({
      month: '2024-02',
      partial: false,
      customers: 3,
      newCustomers: 2,
      returningCustomers: 1,
      orders: 4,
      guestOrders: 2,
      grossRevenueMinor: 4300,
      refundsMinor: 800,
      netRevenueMinor: 3500,
      aovMinor: 875,
      retentionRate: 0.5,
    });
    expect(d.current.revenuePerCustomerMinor).toBeCloseTo(3500 / 3, 9);
    expect(d.previousMonth).toMatchObject({
      month: '2024-01',
      customers: 2,
      newCustomers: 1,
      netRevenueMinor: 3000,
      retentionRate: null,
      guestOrders: 0,
    });
    expect(d.sameMonthLastYear).toMatchObject({
      month: '2023-02',
      customers: 1,
      orders: 1,
      netRevenueMinor: 1000,
    });
    expect(d.vsPreviousMonth.customers).toBe(0.5);
    expect(d.vsPreviousMonth.netRevenueMinor).toBeCloseTo(1 / 6, 12);
    expect(d.vsSameMonthLastYear.netRevenueMinor).toBe(2.5);
    expect(d.vsPreviousMonth.retentionRate).toBeNull();
  });

  it('trend, cohorts, diagnosis and segments', () => {
    expect(d.trend).toHaveLength(13);
    expect(d.trend[0]).toEqual({ month: '2023-02', netRevenueMinor: 1000, customers: 1 });
    expect(d.trend[11]).toEqual({ month: '2024-01', netRevenueMinor: 3000, customers: 2 });
    expect(d.trend[12]).toEqual({ month: '2024-02', netRevenueMinor: 3500, customers: 3 });
    expect(d.trend.slice(1, 11).every((t) => t.netRevenueMinor === 0)).toBe(true);
    expect(d.cohorts.map((c) => [c.cohort, c.size, c.retention])).toEqual([
      ['2024-01', 1, [1, 0]],
      ['2024-02', 2, [1]],
    ]);
    expect(d.diagnosis.change!.exactMinor).toBeCloseTo(3500 / 3 - 1500, 9);
    expect(d.diagnosis.parts.reduce((a, p) => a + p.roundedMinor, 0)).toBe(d.diagnosis.change!.roundedMinor);
    expect(d.bottomSegments.length).toBeGreaterThan(0);
    expect(d.bottomSegments.every((s) => s.contributionMinor < 0)).toBe(true);
    expect(d.topSegments.every((s) => s.contributionMinor > 0)).toBe(true);
    expect(d.rfm).toHaveLength(11);
    expect(d.notes).toEqual([]);
  });

  it('partial month, no previous data, and bad input', () => {
    const p = buildDigest({ orders, month: '2024-03', asOf: new Date('2024-03-10T00:00Z') });
    expect(p.current).toMatchObject({ partial: true, customers: 1, guestOrders: null });
    expect(p.notes.join(' ')).toMatch(/not complete/);
    const e = buildDigest({ orders, month: '2023-02', asOf });
    expect(e.diagnosis.change).toBeNull();
    expect(() => buildDigest({ orders, month: '2024-13', asOf })).toThrow(AppError);
    expect(() => buildDigest({ orders, month: '2024-03', asOf })).toThrow(/starts at or after asOf/);
  });
});
