import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { haveExternalData, sharedData } from '../../../test/support/externalData.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { storedState } from '../../../test/support/storedState.js';
import { systemClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { importFile } from './service.js';

/*
 * Issue 19: importing the Shopify sample's files a second time changes nothing — no order, customer,
 * refund or consent inserted or updated, and the stored rows (and the domain events they recorded) the
 * same. (The sample's figures themselves are checked in presets.test.ts.)
 */
const SAMPLE = sharedData('exports/shopify-sample');
const FILES = [
  ['orders', 'orders_export_1.csv.gz'],
  ['orders', 'orders_export_2.csv'],
  ['customers', 'customers_export.csv'],
] as const;
const haveSample = haveExternalData(...FILES.map(([, f]) => join(SAMPLE, f)));

describe.runIf(haveSample).each(testEngines())('Shopify sample re-import on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it('importing the two orders files and the customers file again inserts and updates nothing', async () => {
    const ctx = testContext(db, systemClock);
    for (const [entity, f] of FILES) {
      const r = await importFile(ctx, { entity, file: join(SAMPLE, f) });
      expect(r, f).toMatchObject({ preset: 'shopify', rejected: 0 });
      expect(r.inserted, f).toBeGreaterThan(0);
    }
    const before = await storedState(db);
    expect(before.orders).toBeGreaterThan(0);
    expect(before.refunds).toBeGreaterThan(0);
    expect(before.consents).toBeGreaterThan(0);

    for (const [entity, f] of FILES) {
      const again = await importFile(ctx, { entity, file: join(SAMPLE, f) });
      expect(again, f).toMatchObject({ inserted: 0, updated: 0, rejected: 0 });
      expect(again.unchanged, f).toBeGreaterThan(0);
      if (entity === 'orders') {
        expect(again.refunds, f).toMatchObject({ inserted: 0, updated: 0 });
        expect(again.customersCreated, f).toBe(0);
        expect(again.productsCreated, f).toBe(0);
      }
    }
    expect(await storedState(db)).toEqual(before);
  });
});
