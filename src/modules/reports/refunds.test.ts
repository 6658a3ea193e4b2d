import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';
import { importFile } from '../imports/service.js';
import {
  channelsReport,
  cohortsReport,
  diagnoseReport,
  digestReport,
  ltvReport,
  retentionReport,
  rfmReport,
  summaryReport,
} from './service.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-refunds-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// A1 (10.00) is refunded 25.00 — more than it cost; A2 is refunded in part; A3 was cancelled and
// refunded; c9 has a refund and no sale; a guest order is refunded.
const ORDERS = `order_id,customer_id,ordered_at,currency,order_total,status
A1,c1,2024-01-05,USD,10.00,paid
A2,c2,2024-01-06,USD,40.00,partially_refunded
A3,c3,2024-01-07,USD,15.00,cancelled
A4,c3,2024-02-07,USD,20.00,pending
G1,,2024-01-08,USD,30.00,paid
`;
const REFUNDS = `refund_id,order_id,customer_id,amount,currency,refunded_at
R1,A1,c1,25.00,USD,2024-01-10
R2,A2,c2,5.50,USD,2024-01-11
R3,A3,c3,15.00,USD,2024-01-12
R4,,c9,7.00,USD,2024-01-13
R5,G1,,30.00,USD,2024-01-14
`;

describe.each(testEngines())('refunds in the reports on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    const ctx = testContext(db, systemClock);
    await importFile(ctx, { entity: 'orders', file: file('orders.csv', ORDERS) });
    await importFile(ctx, { entity: 'refunds', file: file('refunds.csv', REFUNDS) });
  });
  afterAll(async () => dispose());

  it('a refund larger than its order counts as the order, with a warning naming it; the rest is shown apart', async () => {
    const s = await summaryReport(testContext(db), { asOf: '2024-12-31' });
    expect(s).toMatchObject({
      customers: 3, // c1, c2, c3 (A4 is pending: a sale)
      orders: 3,
      guestOrders: 1,
      grossRevenue: 70,
      refunds: 15.5, // R1 capped at 10.00 + R2 5.50
      netRevenue: 54.5,
      // R3 (cancelled order), R4 (no sale), R5 (guest order): stored, shown, not subtracted.
      refundsUnattributed: { refunds: 3, amount: 52 },
    });
    expect(s.warnings).toEqual([
      '1 order has refunds larger than the order (15.00 USD in excess); each counts as refunded in full, no more (docs/metrics.md#refund-attribution)',
      'order A1: refunds 25.00 USD exceed its revenue 10.00 USD',
    ]);
  });

  it('every report runs and carries the warning in its notes', async () => {
    const ctx = testContext(db);
    const ltv = await ltvReport(ctx, { asOf: '2024-12-31' });
    expect(ltv.notes).toContain('order A1: refunds 25.00 USD exceed its revenue 10.00 USD');
    for (const run of [
      () => retentionReport(ctx, { asOf: '2024-12-31' }),
      () => cohortsReport(ctx, { asOf: '2024-12-31' }),
      () => rfmReport(ctx, { asOf: '2024-12-31' }),
      () => channelsReport(ctx, { asOf: '2024-12-31' }),
      () => diagnoseReport(ctx, { asOf: '2024-12-31' }),
      () => digestReport(ctx, { asOf: '2024-12-31' }),
    ])
      await expect(run()).resolves.toBeTruthy();
    const cohorts = await cohortsReport(ctx, { asOf: '2024-12-31' });
    // January: c1 nets 0 (10.00 − 10.00, never negative), c2 34.50.
    expect(cohorts.cohorts[0]!.cumulativeRevenuePerCustomer[0]).toBe(17.25);
    expect(cohorts.notes).toContain(
      '3 refunds (52.00 USD) belong to no sale in scope (cancelled orders, guests, customers without a sale) and are not counted (docs/metrics.md#refund-attribution)',
    );
  });
});
