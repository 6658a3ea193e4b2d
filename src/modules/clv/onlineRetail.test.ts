/**
 * The model choice on the demo data (the shipped Online Retail file, 2010-12-01 … 2011-12-09): without
 * `--model`, `clv predict` holds out the last 13 weeks, and the model it picks gives one-time buyers a
 * churn risk that is not constant (BG/NBD gives them all 0). The orders are the invoices of known
 * customers (test/support/onlineRetailBaskets.ts), as the demo store holds them.
 */
import { expect, it } from 'vitest';
import { describeWithData } from '../../../test/support/externalData.js';
import { loadOnlineRetail, onlineRetailPath } from '../../../test/support/onlineRetailBaskets.js';
import type { Order } from '../../analytics/btyd/summary.js';
import { PredictInput } from './schema.js';
import { predictOrders, summariesFromOrders } from './service.js';

const describeOnlineRetail = describeWithData(onlineRetailPath());

describeOnlineRetail('clv predict on the demo data (Online Retail)', () => {
  const asOf = '2011-12-09';
  const orders = (): Order[] =>
    loadOnlineRetail().baskets.map((b) => ({
      customerId: b.customerId,
      orderedAt: b.orderedAt,
      amountMinor: b.items.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0),
    }));

  it('chooses the model by holdout fit and gives one-time buyers a churn risk that varies', () => {
    const all = orders();
    const p = predictOrders(all, PredictInput.parse({ calibrationEnd: asOf, horizon: 12 }));
    const r = p.outcome;
    expect(r.customers).toBe(4338);
    expect(r.selection).toMatchObject({
      method: 'holdout',
      holdout: { calibrationEnd: '2011-09-09', holdoutEnd: asOf, weeks: 13 },
      chosen: 'mbgnbd',
    });
    // Each model is scored on the held-out weeks: the per-customer MAE and the error of the total.
    for (const c of r.selection.candidates) {
      expect(c.holdout.mae).toBeGreaterThan(0.5);
      expect(c.holdout.mae).toBeLessThan(1.5);
      expect(c.holdout.totalErrorPct).toBeLessThan(0); // the Christmas quarter outsells the year before
    }
    // Pareto/NBD's dropout runs off to zero on the whole year (churn risk ≈ 0 for all): set aside.
    const pareto = r.selection.candidates.find((c) => c.model === 'pareto-nbd')!;
    expect(pareto.wholePeriod).toMatchObject({ dropoutIdentified: false });
    expect(r.selection.reason).toContain('Pareto/NBD was set aside');
    expect(r.warnings.filter((w) => w.includes('ran off'))).toEqual([]);

    // One-time buyers: churn risk differs between them, and grows with the time since their order.
    const o = r.churnRisk.oneTimeBuyers!;
    expect(o.customers).toBeGreaterThan(1400);
    expect(o.min).toBeGreaterThan(0);
    expect(o.max).toBeGreaterThan(2 * o.min);
    // Per customer (the summary's rows are the predictions' rows): for a one-time buyer churn risk
    // depends only on the age T, and rises with it.
    const t = p.predictions;
    const summary = summariesFromOrders(all, {
      calibrationEnd: new Date(`${asOf}T00:00:00Z`),
      timeUnit: 'week',
    });
    expect(summary.ids).toEqual(t.ids);
    const oneTime: [T: number, risk: number][] = [];
    for (let i = 0; i < t.rows; i++)
      if (summary.frequency[i] === 0) oneTime.push([summary.T[i]!, 1 - t.pAlive[t.groupOf[i]!]!]);
    oneTime.sort((a, b) => a[0] - b[0]);
    expect(new Set(oneTime.map(([, risk]) => risk)).size).toBeGreaterThan(50);
    for (let k = 1; k < oneTime.length; k++)
      expect(oneTime[k]![1]).toBeGreaterThanOrEqual(oneTime[k - 1]![1]);

    // BG/NBD, for contrast: every one-time buyer P(alive) = 1, and the output says so.
    const bg = predictOrders(all, PredictInput.parse({ calibrationEnd: asOf, horizon: 12, model: 'bgnbd' }));
    expect(bg.outcome.churnRisk.oneTimeBuyers).toMatchObject({ min: 0, max: 0 });
    expect(bg.outcome.warnings).toContainEqual(
      expect.stringMatching(/^bgnbd gives all \d+ one-time buyers P\(alive\) = 1/),
    );
  }, 60_000);
});
