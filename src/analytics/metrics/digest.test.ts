import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { buildDigest, escapeHtml, formatMoney, renderDigestHtml, renderDigestMarkdown } from './digest.js';
import { order } from '../../../test/support/metricsKit.js';

const asOf = new Date('2024-03-01T00:00:00Z');
const orders = [
  order('A', '2023-02-10T00:00Z', 1000, null, 0, 'toys'),
  order('A', '2024-01-15T00:00Z', 2000, null, 0, 'toys'),
  order('A', '2024-02-15T00:00Z', 3000, null, 500, 'toys'),
  order('B', '2024-01-20T00:00Z', 1000, null, 0, 'books'),
  order('C', '2024-02-05T00:00Z', 500, null, 0, 'books'),
  order('C', '2024-02-25T00:00Z', 700, null, 0, 'books'),
  order('D', '2024-02-10T00:00Z', 100, null, 300, 'x<y>'), // refund exceeds the order
  order('E', '2024-03-05T00:00Z', 999), // after asOf
];
const profiles = [
  { customerId: 'A', channel: 'ads', country: 'GB' },
  { customerId: 'D', channel: '<script>alert(1)</script>', country: 'FR' },
];

describe('buildDigest', () => {
  const d = buildDigest({
    orders,
    profiles,
    month: '2024-02',
    asOf,
    currency: 'GBP',
    guestOrdersByMonth: { '2024-02': 2 },
  });

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

  it('renders Markdown with every section', () => {
    const md = renderDigestMarkdown(d);
    for (const h of [
      '# Retain digest — 2024-02',
      '## Headline',
      '## Cohorts',
      '## Diagnosis',
      '## Segments that drove the change',
      '## RFM segments',
    ]) {
      expect(md).toContain(h);
    }
    expect(md).toContain('| Net revenue | 35.00 GBP | 30.00 GBP | +16.7% | 10.00 GBP | +250.0% |');
    expect(md).toContain('| Guest orders | 2 | 0 |');
    expect(md).toContain('| 2024-01 | 1 | 100% | 0% |');
  });

  it('renders one self-contained, escaped HTML page with SVG charts', () => {
    const html = renderDigestHtml(d);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|src=|href=|@import|url\(/i);
    const evil = renderDigestHtml({
      ...d,
      topSegments: [
        {
          dimension: 'channel',
          segment: '<script>alert(1)</script>',
          contributionMinor: 1,
          currentCustomers: 1,
          currentRevenuePerCustomerMinor: 1,
        },
      ],
    });
    expect(evil).not.toMatch(/<script/i);
    expect(evil).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<title>Retain digest — 2024-02</title>');
  });

  it('partial month, no previous data, and bad input', () => {
    const p = buildDigest({ orders, month: '2024-03', asOf: new Date('2024-03-10T00:00Z') });
    expect(p.current).toMatchObject({ partial: true, customers: 1, guestOrders: null });
    expect(p.notes.join(' ')).toMatch(/not complete/);
    const e = buildDigest({ orders, month: '2023-02', asOf });
    expect(e.diagnosis.change).toBeNull();
    expect(renderDigestMarkdown(e)).toContain('no customers ordered in the base period');
    expect(renderDigestHtml(e)).toContain('no customers ordered in the base period');
    expect(() => buildDigest({ orders, month: '2024-13', asOf })).toThrow(AppError);
    expect(() => buildDigest({ orders, month: '2024-03', asOf })).toThrow(/starts at or after asOf/);
  });
});

describe('formatting', () => {
  it('formats minor units deterministically', () => {
    expect(formatMoney(123456789, 2, 'GBP')).toBe('1,234,567.89 GBP');
    expect(formatMoney(-5, 2, null)).toBe('−0.05');
    expect(formatMoney(1234.5, 2, null)).toBe('12.35');
    expect(formatMoney(-1234.5, 2, null)).toBe('−12.35');
    expect(formatMoney(1234, 0, 'JPY')).toBe('1,234 JPY');
    expect(formatMoney(null, 2, null)).toBe('–');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
