import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { generate, load } from '../../../test/support/segmentStore.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { overviewReport } from './overview.js';
import * as repo from './repository.js';
import { reportContext, retentionReport, summaryReport } from './service.js';

/**
 * The Overview report (issue 23): its per-slice counts agree with the summary (one slice over all time)
 * and with the retention report (calendar-month slices), on both engines; its figures follow from them.
 */
describe.each(testEngines())('overview report on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await load(db, generate(11));
  });
  afterAll(async () => dispose?.());

  it('one slice over all time is the summary', async () => {
    const ctx = testContext(db);
    const at = await reportContext(db);
    const [all] = await repo.sliceFacts(db, at.asOf, at.currency, [
      new Date('2000-01-01T00:00:00Z'),
      at.asOf,
    ]);
    const s = await summaryReport(ctx);
    expect(all!.active).toBe(s.customers);
    expect(all!.newCustomers).toBe(s.customers);
    expect(all!.orders).toBe(s.orders);
    expect((all!.grossMinor - all!.refundMinor) / 100).toBeCloseTo(s.netRevenue, 6);
    expect(all!.grossMinor / 100).toBeCloseTo(s.grossRevenue, 6);
    expect(all!.repeat / all!.active).toBeCloseTo(s.repeatCustomerRate!, 12);
  });

  it('calendar-month slices are the retention report’s periods', async () => {
    const ctx = testContext(db);
    const at = await reportContext(db);
    const r = await retentionReport(ctx, { period: 'month' });
    const bounds = [...r.periods.map((p) => new Date(p.from)), new Date(r.periods.at(-1)!.to)];
    const slices = await repo.sliceFacts(db, at.asOf, at.currency, bounds);
    expect(slices.map((s) => [s.active, s.newCustomers, s.retained, s.orders])).toEqual(
      r.periods.map((p) => [p.activeCustomers, p.newCustomers, p.retained, p.orders]),
    );
    // Shopify's returning-customer rate counts the same customers as `repeat`.
    for (const [i, p] of r.periods.entries())
      if (p.activeCustomers > 0)
        expect(slices[i]!.repeat / p.activeCustomers).toBeCloseTo(p.shopifyReturningCustomerRate!, 12);
  });

  it('answers a period against the one before, with sparklines and checked inputs', async () => {
    const ctx = testContext(db);
    const o = await overviewReport(ctx, { from: '2025-06-16', to: '2026-06-14' });
    expect(o.period).toEqual({ from: '2025-06-16', to: '2026-06-14', days: 364 });
    expect(o.previous).toEqual({ from: '2024-06-17', to: '2025-06-15' });
    expect(o.series.slices).toHaveLength(12);
    expect(o.series.slices[0]!.from).toBe('2025-06-16');
    expect(o.series.slices.at(-1)!.to).toBe('2026-06-14');
    const f = o.figures;
    expect(f.churn.value! + f.retention.value!).toBeCloseTo(1, 12);
    expect(f.customers.change).toBeCloseTo(
      (f.customers.value! - f.customers.previous!) / f.customers.previous!,
      12,
    );
    expect(f.retention.changeKind).toBe('points');
    expect(f.customers.series.reduce((a, b) => a! + b!, 0)).toBeGreaterThanOrEqual(f.customers.value!);
    expect(f.orders.series.reduce((a, b) => a! + b!, 0)).toBe(f.orders.value);
    expect(f.sixMonthLtv.series).toHaveLength(o.series.cohorts.length);
    // Retention of the period = customers of the period before who came back / customers of the period before.
    const at = await reportContext(db, '2026-06-14');
    const day = (t: string) => new Date(`${t}T00:00:00Z`);
    const [before, now] = await repo.sliceFacts(db, at.asOf, at.currency, [
      day('2024-06-17'),
      day('2025-06-16'),
      day('2026-06-15'),
    ]);
    expect(f.retention.value).toBeCloseTo(now!.retained / before!.active, 12);
    await expect(overviewReport(ctx, { from: '2026-06-14', to: '2026-01-01' })).rejects.toThrow(/--from/);
    await expect(overviewReport(ctx, { asOf: '2026-01-01', to: '2026-02-01' })).rejects.toThrow(/--to/);
  });

  it('is GET /v1/reports/overview', async () => {
    const t = await testApp(db);
    const res = await t.call('GET', '/v1/reports/overview?from=2026-01-01&to=2026-06-14', {
      role: 'analyst',
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual(
      JSON.parse(
        JSON.stringify(await overviewReport(testContext(db), { from: '2026-01-01', to: '2026-06-14' })),
      ),
    );
    expect(res.json.period.days).toBe(165);
    const bad = await t.call('GET', '/v1/reports/overview?from=2026-13-01', { role: 'analyst' });
    expect(bad.status).toBe(400);
  });
});
