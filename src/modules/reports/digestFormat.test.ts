import { describe, expect, it } from 'vitest';
import { buildDigest } from '../../analytics/metrics/digest.js';
import { digestStore, februaryDigest } from '../../../test/support/metricsKit.js';
import { escapeHtml, formatMoney, renderDigestHtml, renderDigestMarkdown } from './digestFormat.js';

const { asOf, orders } = digestStore();

describe('digest documents', () => {
  const d = februaryDigest();

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
    // asOf is the exclusive instant 2024-03-01T00:00Z: the last day counted is 2024-02-29.
    expect(md).toContain('As of 2024-02-29 (inclusive).');
    expect(renderDigestHtml(d)).toContain('As of 2024-02-29 (inclusive).');
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

  it('says why there is no diagnosis', () => {
    const e = buildDigest({ orders, month: '2023-02', asOf });
    expect(renderDigestMarkdown(e)).toContain('no customers ordered in the base period');
    expect(renderDigestHtml(e)).toContain('no customers ordered in the base period');
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
