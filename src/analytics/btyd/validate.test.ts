import { describe, expect, it } from 'vitest';
import { describeWithData, shippedData } from '../../../test/support/externalData.js';
import { bgNbdModel, fitBgNbd } from './bgnbd.js';
import { buildSummary, rfDataFromSummaries } from './summary.js';
import { readCdnowSampleOrders } from '../../../test/support/cdnow.js';
import { checkDataSufficiency, validateHoldout } from './validate.js';

const describeCdnow = describeWithData(shippedData('cdnow/CDNOW_sample.txt'));

describe('validateHoldout', () => {
  it('computes errors, totals and the by-frequency table', () => {
    const model = {
      expectedPurchases: () => 0,
      conditionalExpectedPurchases: (t: number, x: number) => x * 0.5 + t * 0,
      probabilityAlive: () => 1,
      medianTimeToNextPurchase: () => null,
    };
    const r = validateHoldout(model, {
      frequency: [0, 2, 9],
      recency: [0, 3, 5],
      T: [10, 10, 10],
      holdoutFrequency: [0, 2, 4],
      holdoutDuration: [10, 10, 10],
    });
    // Predictions 0, 1, 4.5 vs actual 0, 2, 4.
    expect(r.mae).toBeCloseTo(0.5, 12);
    expect(r.rmse).toBeCloseTo(Math.sqrt((1 + 0.25) / 3), 12);
    expect(r.totalActual).toBe(6);
    expect(r.totalPredicted).toBeCloseTo(5.5, 12);
    expect(r.byFrequency.map((b) => b.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    expect(r.byFrequency[7]).toEqual({ frequency: '7+', customers: 1, meanActual: 4, meanPredicted: 4.5 });
    expect(r.correlation).toBeGreaterThan(0.9);
  });
});

describeCdnow('CDNOW holdout (weeks 40–78), BG/NBD', () => {
  it('tracks actual holdout purchases (FHL 2005 Figure 4)', () => {
    const rows = buildSummary(readCdnowSampleOrders(), {
      calibrationEnd: new Date('1997-09-30T00:00:00Z'),
      holdoutEnd: new Date('1998-06-30T00:00:00Z'),
      timeUnit: 'week',
    });
    const fit = fitBgNbd(rfDataFromSummaries(rows));
    const report = validateHoldout(bgNbdModel(fit.params), {
      frequency: rows.map((r) => r.frequency),
      recency: rows.map((r) => r.recency),
      T: rows.map((r) => r.T),
      holdoutFrequency: rows.map((r) => r.holdoutFrequency!),
      holdoutDuration: rows.map((r) => r.holdoutDuration!),
    });
    // Measured: 1,882 actual purchase days vs 1,653.4 predicted (−12%); like the paper's Figure 4 the
    // model under-forecasts light buyers (x = 1, 2) and is close for x ≥ 3. Guard against regressions at 15%.
    expect(report.totalActual).toBe(1882);
    expect(Math.abs(report.totalPredicted / report.totalActual - 1)).toBeLessThan(0.15);
    expect(report.correlation!).toBeGreaterThan(0.5);
    // Conditional expectations increase with calibration frequency, as do the actuals.
    const preds = report.byFrequency.map((b) => b.meanPredicted);
    for (let i = 1; i < preds.length; i++) expect(preds[i]!).toBeGreaterThan(preds[i - 1]!);
  });
});

describe('checkDataSufficiency', () => {
  it('refuses tiny or short data and says why', () => {
    const r = checkDataSufficiency({ customers: 120, repeatBuyers: 10, historyDays: 60 });
    expect(r.verdict).toBe('refuse');
    expect(r.messages.join(' ')).toMatch(/120 customers.*500/);
    expect(r.messages.join(' ')).toMatch(/60 days/);
    expect(r.messages.join(' ')).toMatch(/10 repeat buyers/);
  });
  it('warns on thin but usable data (CDNOW: 2,357 customers, 273 days)', () => {
    const r = checkDataSufficiency({ customers: 2357, repeatBuyers: 946, historyDays: 273 });
    expect(r.verdict).toBe('warn');
    expect(r.messages[0]).toMatch(/273 days/);
  });
  it('accepts ample data', () => {
    expect(checkDataSufficiency({ customers: 1e6, repeatBuyers: 4e5, historyDays: 546 }).verdict).toBe('ok');
  });
});
