import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarOf } from '../../analytics/calendar.js';
import { cohortCells, type CohortCell } from '../../analytics/metrics/cohorts.js';
import { ltvFacts, ltvWindow } from '../../analytics/metrics/ltv.js';
import { retentionCounts } from '../../analytics/metrics/retention.js';
import type { Database } from '../../storage/port.js';
import { testApp } from '../../../test/support/server.js';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from '../imports/service.js';
import { updateStore } from '../settings/service.js';
import { renderDigestMarkdown } from './digestFormat.js';
import * as repo from './repository.js';
import * as reports from './service.js';

/*
 * Reports in the store time zone (docs/metrics.md#conventions). B1 is placed on 2023-12-31 at 21:04
 * in New York (−05:00), 2024-01-01 02:04 UTC: with the store in America/New_York it is a 2023 order
 * of the 2023-12 cohort; without a zone (UTC) a 2024 one of 2024-01. C1 and C2 sit on other month
 * ends in New York; D1 on the night daylight saving starts there (2024-03-10).
 */
const ORDERS = `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price
A1,c1,2023-11-15T12:00:00Z,USD,S,1,10.00
A2,c1,2023-12-10T12:00:00Z,USD,S,1,10.00
B1,c2,2023-12-31T21:04:00-05:00,USD,S,2,10.00
B2,c2,2024-01-20T12:00:00Z,USD,S,1,10.00
C1,c3,2024-01-31T23:30:00-05:00,USD,S,1,10.00
C2,c3,2024-03-01T03:00:00Z,USD,S,1,10.00
D1,c4,2024-03-10T06:30:00Z,USD,S,1,10.00
D2,c4,2024-03-31T23:59:00-04:00,USD,S,1,10.00
G1,,2023-12-31T22:00:00-05:00,USD,S,1,10.00
`;
const SPEND = `date,channel,amount
2023-12-31,ads,7.00
2024-01-01,ads,11.00
`;

const dir = mkdtempSync(join(tmpdir(), 'retain-tz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const byCell = (a: CohortCell, b: CohortCell) => a.cohort - b.cohort || a.k - b.k;

describe.each(testEngines())('reports in the store time zone on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const ctx = () => testContext(db);
  const zone = (timeZone: string) => updateStore(ctx(), { timeZone });

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await importFile(ctx(), { entity: 'orders', file: file('orders.csv', ORDERS) });
    await importFile(ctx(), { entity: 'spend', file: file('spend.csv', SPEND) });
  });
  afterAll(() => dispose());

  it('without a zone cuts days and months in UTC, as before', async () => {
    const s = await reports.summaryReport(ctx(), { asOf: '2023-12-31' });
    expect(s).toMatchObject({ asOf: '2023-12-31', orders: 2, customers: 1, guestOrders: 0 });
    expect(s).not.toHaveProperty('timeZone');
    const c = await reports.cohortsReport(ctx(), { asOf: '2024-03-31' });
    expect(c.cohorts.map((r) => [r.cohort, r.size])).toEqual([
      ['2023-11', 1],
      ['2024-01', 1], // c2: B1 is 2024-01-01 02:04 UTC
      ['2024-02', 1], // c3: C1 is 2024-02-01 04:30 UTC
      ['2024-03', 1],
    ]);
    // The default as-of day is the last order's UTC day (D2 is 2024-04-01 03:59 UTC).
    expect((await reports.summaryReport(ctx())).asOf).toBe('2024-04-01');
  });

  it('with America/New_York counts the 2023-12-31 21:04 −05:00 order in 2023 and in the 2023-12 cohort', async () => {
    await zone('America/New_York');
    const s = await reports.summaryReport(ctx(), { asOf: '2023-12-31' });
    expect(s).toMatchObject({
      asOf: '2023-12-31',
      timeZone: 'America/New_York',
      orders: 3, // one more than in UTC: B1
      customers: 2,
      guestOrders: 1, // G1, 22:00 New York
    });
    expect((await reports.summaryReport(ctx())).asOf).toBe('2024-03-31');
    const c = await reports.cohortsReport(ctx(), { asOf: '2024-03-31' });
    expect(c.timeZone).toBe('America/New_York');
    expect(c.cohorts.map((r) => [r.cohort, r.size, r.activeCustomers])).toEqual([
      ['2023-11', 1, [1, 1, 0, 0, 0]],
      ['2023-12', 1, [1, 1, 0, 0]], // c2: B1 in December, B2 in January
      ['2024-01', 1, [1, 1, 0]], // c3: C1 Jan 31 23:30, C2 Feb 29 22:00
      ['2024-03', 1, [1]], // c4: D1 and D2 (Mar 31 23:59 EDT) in March
    ]);
    // Quarters: c1 and c2 in 2023-Q4.
    const q = await reports.cohortsReport(ctx(), { asOf: '2024-03-31', period: 'quarter' });
    expect(q.cohorts.map((r) => [r.cohort, r.size])).toEqual([
      ['2023-Q4', 2],
      ['2024-Q1', 2],
    ]);
  });

  it('cuts the SQL periods exactly where the calendar does (cohorts, retention, LTV)', async () => {
    const cal = calendarOf('America/New_York');
    const asOf = new Date(cal.dayStartMs(Date.UTC(2024, 3, 1) / 86_400_000));
    const facts = await repo.orderFacts(db, asOf, 'USD');
    // ICU per row (a bare calendar); offsets in a span of all the orders; a span covering only some
    // of them (the rest through ICU).
    const zones = [
      cal,
      { calendar: cal, from: facts[0]!.orderedAt, to: asOf },
      { calendar: cal, from: new Date('2024-01-15T00:00:00Z'), to: new Date('2024-03-20T00:00:00Z') },
    ];
    for (const z of zones)
      for (const period of ['month', 'quarter'] as const) {
        const sql = (await repo.cohortCells(db, asOf, 'USD', period, undefined, z)).sort(byCell);
        const js = cohortCells({ orders: facts, asOf, period, calendar: cal }).sort(byCell);
        expect(sql).toEqual(js);
        const rs = await repo.retentionCounts(db, asOf, 'USD', period, z);
        const rj = retentionCounts(facts, asOf, period, cal);
        expect([...rs.periods].sort((a, b) => a.period - b.period)).toEqual(
          [...rj.periods].sort((a, b) => a.period - b.period),
        );
      }
    const w = ltvWindow(asOf, 6, cal);
    const ls = await repo.ltvFacts(db, asOf, 'USD', w, zones[2]);
    const lj = ltvFacts(facts, await repo.customerProfiles(db), asOf, 6, cal);
    const sortMonths = (m: typeof ls.months) =>
      [...m].sort(
        (a, b) =>
          a.month - b.month ||
          a.channel.localeCompare(b.channel) ||
          a.firstCategory.localeCompare(b.firstCategory),
      );
    expect(ls.customers).toEqual(lj.customers);
    expect(sortMonths(ls.months)).toEqual(sortMonths(lj.months));
    // Spend days are local days: 2024-01-01 is not before the end of 2023-12-31 in New York.
    const end2023 = new Date(cal.dayStartMs(Date.UTC(2024, 0, 1) / 86_400_000));
    expect(await repo.spendRows(db, end2023, 'USD', cal)).toEqual([
      { date: new Date('2023-12-31T05:00:00Z'), channel: 'ads', amountMinor: 700 },
    ]);
    for (const z of zones)
      expect(await repo.guestOrdersByMonth(db, asOf, 'USD', z)).toEqual({ '2023-12': 1 });
  });

  it('labels retention periods, the LTV window and the digest in the zone', async () => {
    const r = await reports.retentionReport(ctx(), { asOf: '2024-03-31', from: '2024-01-01' });
    expect(r.periods.map((p) => [p.period, p.from, p.activeCustomers, p.retained])).toEqual([
      ['2024-01', '2024-01-01T05:00:00.000Z', 2, 1],
      ['2024-02', '2024-02-01T05:00:00.000Z', 1, 1],
      ['2024-03', '2024-03-01T05:00:00.000Z', 1, 0],
    ]);
    // The window: the complete local months before the month containing asOf (2024-04-01 04:00 UTC).
    const l = await reports.ltvReport(ctx(), { asOf: '2024-03-31', months: 3 });
    expect(l.window).toMatchObject({
      from: '2024-01-01T05:00:00.000Z',
      to: '2024-04-01T04:00:00.000Z', // EDT from 2024-03-10
      firstMonth: '2024-01',
      lastMonth: '2024-03',
    });
    const d = await reports.digestReport(ctx(), { asOf: '2024-01-31', month: '2023-12' });
    expect(d.digest.timeZone).toBe('America/New_York');
    expect(d.digest.current).toMatchObject({ month: '2023-12', orders: 2, newCustomers: 1, guestOrders: 1 });
    expect(renderDigestMarkdown(d.digest)).toContain('As of 2024-01-31 (inclusive)');
    const ch = await reports.channelsReport(ctx(), { asOf: '2024-03-31' });
    expect(ch.window.from).toBe('2023-11-15T05:00:00.000Z'); // the first order's local day
  });

  it('answers the same over HTTP (asOf in the query)', async () => {
    const t = await testApp(db);
    const res = await t.call('GET', '/v1/reports/summary?asOf=2023-12-31', { role: 'analyst' });
    expect(res.json).toEqual(await reports.summaryReport(ctx(), { asOf: '2023-12-31' }));
    expect(res.json.orders).toBe(3);
  });

  it('with a zone east of UTC (Europe/Kyiv) the day ends earlier; UTC again restores the UTC figures', async () => {
    await zone('Europe/Kyiv');
    // 2023-12-31 ends at 22:00 UTC in Kyiv: B1 (02:04 UTC Jan 1) and G1 are outside.
    expect(await reports.summaryReport(ctx(), { asOf: '2023-12-31' })).toMatchObject({
      orders: 2,
      guestOrders: 0,
      timeZone: 'Europe/Kyiv',
    });
    await zone('UTC');
    const s = await reports.summaryReport(ctx(), { asOf: '2023-12-31' });
    expect(s).toMatchObject({ orders: 2 });
    expect(s).not.toHaveProperty('timeZone');
  });
});
