import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeWithData, shippedData } from '../../../test/support/externalData.js';
import { bgNbdExpectedPurchases, bgNbdMedianTimeToNextPurchase } from '../../analytics/btyd/bgnbd.js';
import { CDNOW_DIR, readCdnowSampleOrders } from '../../../test/support/cdnow.js';
import { AppError } from '../../shared/errors.js';
import { buildProgram } from '../../cli/main.js';
import { writePredictionsCsv } from './predictionsCsv.js';
import { FitOptions, PredictOptions, ValidateOptions, parseOptions } from './schema.js';
import { fitSummary, fitSurvivors, predictSummary, summariesFromOrders, validateSummary } from './service.js';
import { readSummaryCsv, readSurvivorCsv } from './summaryCsv.js';

/** What `retain clv fit --summary` does: read the file, fit the summary. */
const runFit = async (raw: Record<string, unknown>) => {
  const { summary, model, ...opts } = parseOptions(FitOptions, raw);
  if (model === 'sbg') return fitSurvivors({ alive: readSurvivorCsv(summary!) });
  const columns = readSummaryCsv(summary!, { ids: false, repeatBuyersOnly: model === 'gamma-gamma' });
  return fitSummary({ ...opts, model, summary: columns });
};
/** What `retain clv predict --summary` does: read the file, predict, write `--out`. */
const runPredict = async (raw: Record<string, unknown>) => {
  const { summary, out, ...opts } = parseOptions(PredictOptions, raw);
  const r = predictSummary({ ...opts, summary: readSummaryCsv(summary!, { ids: true }) });
  if (out) await writePredictionsCsv(out, r.predictions, opts.details);
  return r;
};
const dir = mkdtempSync(join(tmpdir(), 'retain-clv-'));
const describeCdnow = describeWithData(
  shippedData('cdnow/CDNOW_sample.txt'),
  shippedData('cdnow/cdnow_customers_summary_with_monetary.csv'),
);

describeCdnow('clv service on CDNOW', () => {
  const summary = resolve(CDNOW_DIR, 'cdnow_customers_summary_with_monetary.csv');

  it('fits BG/NBD from --summary with the published values', async () => {
    const r = await runFit({ model: 'bgnbd', summary });
    expect(r.customers).toBe(2357);
    expect(r.params.r).toBeCloseTo(0.243, 3);
    expect(r.logLikelihood).toBeCloseTo(-9582.43, 1);
    expect(r.sufficiency?.verdict).toBe('warn'); // 272 days of history
    // The JSON document's warnings carry the sufficiency warning as well.
    expect(r.warnings).toEqual([expect.stringMatching(/^272 days of history/)]);
  });

  it('predicts per customer into a CSV and totals the expectation', async () => {
    const out = join(dir, 'preds.csv');
    // A summary file's predictions are not stored: predictSummary takes no context.
    const r = await runPredict({ summary, model: 'bgnbd', horizon: '39', out });
    expect(r.customers).toBe(2357);
    // Σ E[Y(39)] over CDNOW with the BG/NBD, cross-checked by the holdout test (1,653.4).
    expect(r.expectedPurchasesTotal).toBeCloseTo(1653.4, 0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('customer_id,expected_purchases,p_alive,clv');
    expect(lines).toHaveLength(2358);
    const [id, e, p, clv] = lines[1]!.split(',');
    expect(id).toBe('1');
    expect(Number(e)).toBeCloseTo(1.226, 3);
    expect(Number(p)).toBeGreaterThan(0);
    expect(Number(clv)).toBeGreaterThan(0);
  });

  it('adds churn risk, expected spend and the next order to the CSV with --details', async () => {
    const out = join(dir, 'details.csv');
    const opts = { summary, model: 'bgnbd', horizon: '39', out, details: true, calibrationEnd: '1997-09-30' };
    const r = await runPredict(opts);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'customer_id,expected_purchases,p_alive,clv,churn_risk,expected_spend,next_order_in,next_order_date',
    );
    const [, , p, , churn, spend, nextIn, nextDate] = lines[1]!.split(',');
    expect(Number(churn)).toBeCloseTo(1 - Number(p), 6);
    expect(Number(spend)).toBeGreaterThan(0);
    // Customer 1 (x = 2, t_x = 30.43, T = 38.86): the model's median time to the next order, in weeks,
    // and the date it falls on from the calibration end.
    const params = r.params as { r: number; alpha: number; a: number; b: number };
    const median = bgNbdMedianTimeToNextPurchase(params, 2, 30.43, 38.86)!;
    expect(Number(nextIn)).toBeCloseTo(median, 3);
    const due = new Date(Date.UTC(1997, 8, 30) + median * 7 * 86_400_000).toISOString().slice(0, 10);
    expect(nextDate).toBe(due);
    // A customer the model expects never to return has both next-order cells empty.
    expect(lines.some((l) => l.endsWith(',,'))).toBe(true);
    expect(r.newCustomerExpectedPurchases).toBeCloseTo(bgNbdExpectedPurchases(params, 39), 6);
  });

  it('validates on a calibration/holdout summary built from raw orders', async () => {
    const s = summariesFromOrders(readCdnowSampleOrders(), {
      calibrationEnd: new Date('1997-09-30T00:00:00Z'),
      holdoutEnd: new Date('1998-06-30T00:00:00Z'),
      timeUnit: 'week',
    });
    const file = join(dir, 'holdout.csv');
    const rows = ['customer_id,frequency,recency,T,frequency_holdout,duration_holdout'];
    for (let i = 0; i < s.rows; i++)
      rows.push(
        [s.ids![i], s.frequency[i], s.recency[i], s.T[i], s.holdoutFrequency![i], s.holdoutDuration![i]].join(
          ',',
        ),
      );
    writeFileSync(file, rows.join('\n') + '\n');
    const { summary: _, ...opts } = parseOptions(ValidateOptions, { summary: file });
    const r = validateSummary({ ...opts, summary: readSummaryCsv(file, { ids: false }) });
    expect(r.customers).toBe(2357);
    expect(r.totalActual).toBe(1882);
    expect(r.holdoutDuration).toBe(39);
    expect(r.byFrequency).toHaveLength(8);
  });

  it('refuses too little data unless forced, and says why', async () => {
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'customer_id,frequency,recency,T\n1,1,2,30\n2,0,0,30\n');
    const err = await runFit({ model: 'bgnbd', summary: small }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/only 2 customers/);
    const forced = await runFit({ model: 'bgnbd', summary: small, force: true });
    expect(forced.warnings).toContainEqual(expect.stringMatching(/only 2 customers/));
  });

  it('fits the sBG from a period,alive survivor curve', async () => {
    const file = join(dir, 'survivors.csv');
    writeFileSync(
      file,
      'period,alive\n' +
        [1000, 631, 468, 382, 326, 289, 262, 241].map((v, i) => `${i},${v}`).join('\n') +
        '\n',
    );
    const r = await runFit({ model: 'sbg', summary: file });
    expect(r.params.alpha).toBeCloseTo(0.704, 3);
    expect(r.params.beta).toBeCloseTo(1.182, 3);
  });

  it('the sBG without --summary asks for --summary (it fits a survivor-curve file)', async () => {
    const err = await buildProgram()
      .parseAsync(['node', 'retain', 'clv', 'fit', '--model', 'sbg'])
      .catch((e: unknown) => e);
    expect((err as AppError).where?.field).toBe('--summary');
  });

  it('builds the summary from orders (as the store gives them)', async () => {
    const until = new Date('1997-09-30T00:00:00Z');
    const orders = readCdnowSampleOrders().filter((o) => o.orderedAt <= until);
    const summary = summariesFromOrders(orders, { calibrationEnd: until, timeUnit: 'week' });
    const r = fitSummary({ model: 'bgnbd', timeUnit: 'week', force: false, summary });
    expect(r.params.a).toBeCloseTo(0.793, 3);
  });
});

describe('clv service input errors', () => {
  it('a model input error reaches the caller as a validation error, not a generic one', async () => {
    // Free repeat orders: a repeat buyer whose mean spend is 0, which Gamma-Gamma cannot fit.
    const day = (d: number) => new Date(Date.UTC(2024, 0, d));
    const orders = [
      { customerId: 'a', orderedAt: day(1), amountMinor: 0 },
      { customerId: 'a', orderedAt: day(5), amountMinor: 0 },
      { customerId: 'b', orderedAt: day(2), amountMinor: 1500 },
    ];
    const summary = summariesFromOrders(orders, { calibrationEnd: day(31), timeUnit: 'week' });
    const err = await Promise.resolve()
      .then(() => fitSummary({ model: 'gamma-gamma', timeUnit: 'week', force: true, summary }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation');
    expect((err as AppError).message).toMatch(/monetary value must be > 0 for a repeat buyer/);
  });
});
