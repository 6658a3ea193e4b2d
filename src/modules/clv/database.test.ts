import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveExternalData, shippedData } from '../../../test/support/externalData.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from '../imports/service.js';
import { savePredictions } from './repository.js';
import { testContext } from '../../../test/support/context.js';
import { fit as fitOrders } from './service.js';
import { FitInput } from './schema.js';
import { systemClock } from '../../kit/clock.js';

const CDNOW_SAMPLE = shippedData('cdnow/CDNOW_sample.txt');
const haveCdnow = haveExternalData(CDNOW_SAMPLE);

describe.runIf(haveCdnow).each(testEngines())('CLV through the database on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await importFile(testContext(db, systemClock), { entity: 'orders', file: CDNOW_SAMPLE, preset: 'cdnow' });
  });
  afterAll(async () => dispose());

  it('reproduces the published BG/NBD fit from CDNOW orders imported into the store', async () => {
    const fit = await fitOrders(
      testContext(db),
      FitInput.parse({ model: 'bgnbd', calibrationEnd: '1997-09-30', timeUnit: 'week' }),
    );
    // Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4 (rounded to 3 decimals).
    expect(fit.customers).toBe(2357);
    expect(fit.params.r).toBeCloseTo(0.243, 2);
    expect(fit.params.alpha).toBeCloseTo(4.414, 1);
    expect(fit.params.a).toBeCloseTo(0.793, 2);
    expect(fit.params.b).toBeCloseTo(2.426, 1);
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 0);
  });

  it('stores predictions per customer, idempotently, with CLV in minor units', async () => {
    const asOf = new Date('1997-09-30T00:00:00Z');
    const rows = [
      {
        customerId: '4',
        modelVersion: 'bgnbd:test',
        asOf,
        horizon: 39,
        timeUnit: 'week' as const,
        expectedPurchases: 1.2,
        pAlive: 0.9,
        clv: 12.345,
        expectedSpend: 30.006,
        nextOrderAt: new Date('1997-10-19T12:00:00Z'),
        clvMonths: 12,
      },
      {
        customerId: '18',
        modelVersion: 'bgnbd:test',
        asOf,
        horizon: 39,
        timeUnit: 'week' as const,
        expectedPurchases: 0.1,
        pAlive: 0.2,
        clv: null,
        expectedSpend: null,
        nextOrderAt: null,
        clvMonths: 12,
      },
    ];
    await db.transaction((tx) => savePredictions(tx, rows, new Date('2026-01-01T00:00:00Z')));
    await db.transaction((tx) => savePredictions(tx, rows, new Date('2026-01-02T00:00:00Z')));
    const stored = await db.query(
      `SELECT c.external_id, p.p_alive, p.clv_minor, p.expected_spend_minor, p.next_order_at, p.clv_months, p.currency
       FROM clv_predictions p JOIN customers c USING (customer_id) ORDER BY c.external_id`,
    );
    expect(stored).toEqual([
      {
        external_id: '18',
        p_alive: 0.2,
        clv_minor: null,
        expected_spend_minor: null,
        next_order_at: null,
        clv_months: 12,
        currency: 'USD',
      },
      {
        external_id: '4',
        p_alive: 0.9,
        clv_minor: 1235,
        expected_spend_minor: 3001,
        next_order_at: new Date('1997-10-19T12:00:00Z'),
        clv_months: 12,
        currency: 'USD',
      },
    ]);
  });
});
