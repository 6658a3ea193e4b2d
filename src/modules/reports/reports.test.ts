import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeChannels,
  describeCohorts,
  describeDiagnose,
  describeLtv,
  describeRetention,
  describeRfm,
  writeDigest,
} from './commands.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from '../imports/service.js';
import {
  channelFacts as channelFactsSql,
  cohortCells as cohortCellsSql,
  orderFacts,
  ltvFacts as ltvFactsSql,
  netBefore,
  retentionCounts as retentionCountsSql,
  rfmValues,
} from './repository.js';
import { retentionCounts, type RetentionCounts } from '../../analytics/metrics/retention.js';
import { ltvFacts, ltvWindow, type LtvFacts } from '../../analytics/metrics/ltv.js';
import { channelFacts, type ChannelFacts } from '../../analytics/metrics/channels.js';
import { rfmReport as rfmOfFacts, rfmReportFromValues } from '../../analytics/metrics/rfm.js';
import { cohortCells, type CohortCell } from '../../analytics/metrics/cohorts.js';
import type { Period, SplitBy } from '../../analytics/metrics/types.js';
import * as reports from './service.js';
import {
  ChannelsInput,
  CohortsInput,
  DiagnoseInput,
  DigestOptions,
  LtvInput,
  parseOptions,
  RetentionInput,
  RfmInput,
} from './schema.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';

type Raw = Record<string, unknown>;
/* The services as the commands call them: the options parsed with the command's schema. */
const ltvReport = async (db: Database, raw: Raw = {}) =>
  reports.ltvReport(testContext(db), parseOptions(LtvInput, raw));
const retentionReport = async (db: Database, raw: Raw = {}) =>
  reports.retentionReport(testContext(db), parseOptions(RetentionInput, raw));
const cohortsReport = async (db: Database, raw: Raw = {}) =>
  reports.cohortsReport(testContext(db), parseOptions(CohortsInput, raw));
const rfmReport = async (db: Database, raw: Raw = {}) =>
  reports.rfmReport(testContext(db), parseOptions(RfmInput, raw));
const channelsReport = async (db: Database, raw: Raw = {}) =>
  reports.channelsReport(testContext(db), parseOptions(ChannelsInput, raw));
const diagnoseReport = async (db: Database, raw: Raw = {}) =>
  reports.diagnoseReport(testContext(db), parseOptions(DiagnoseInput, raw));
/** `report digest`: the JSON, or with `out` the file written (as the command does). */
const digestReport = async (db: Database, raw: Raw = {}) => {
  const { out, ...input } = parseOptions(DigestOptions, raw);
  const r = await reports.digestReport(testContext(db), input);
  return out === undefined ? reports.digestJson(r) : writeDigest(r, out);
};

const ONLINE_RETAIL = join(dirname(fileURLToPath(import.meta.url)), '../../../data/online_retail.csv.gz');
const dir = mkdtempSync(join(tmpdir(), 'retain-reports-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/*
 * A hand-built store (EUR) whose every figure below is computed by hand in the comments.
 * O1 c1 Jan 5: 2×A@10 + B@5 = 25.00, cost 2×4 + 2 = 10.00, largest line A (mugs)
 * O2 c1 Feb 10: 2×B@5 = 10.00, cost 4.00; R2 (c1, no order, Feb 20, 3.00) → latest order ≤ Feb 20 = O2
 * O3 c2 Jan 20: 4×B@5 = 20.00, cost 8.00; R1 (order O3, 5.00) + R3 (c2, Jan 1, 1.00: before every
 *    order of c2 → its first order O3) = 6.00
 * O4 c3 Feb 3: A@10 = 10.00, cost 4.00
 * O5 c3 Mar 15: A@10 + C@15 = 25.00, C has no cost → cost unknown; largest line C (gifts)
 * O6 c4 Mar 20: B@5 = 5.00, cost 2.00; R4 (c4, Mar 25, 10.00) exceeds the order: net −5.00
 * O7 guest Mar 21; O8 c1 Apr 2 (after --as-of 2024-03-31); R5 (c1, Apr 5, 2.00) → O8
 */
const ORDERS = `order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price
O1,c1,2024-01-05 10:00,EUR,A,Mug,2,10.00
O1,c1,2024-01-05 10:00,EUR,B,Tea,1,5.00
O2,c1,2024-02-10 10:00,EUR,B,Tea,2,5.00
O3,c2,2024-01-20 10:00,EUR,B,Tea,4,5.00
O4,c3,2024-02-03 10:00,EUR,A,Mug,1,10.00
O5,c3,2024-03-15 10:00,EUR,A,Mug,1,10.00
O5,c3,2024-03-15 10:00,EUR,C,Gift box,1,15.00
O6,c4,2024-03-20 10:00,EUR,B,Tea,1,5.00
O7,,2024-03-21 10:00,EUR,A,Mug,1,10.00
O8,c1,2024-04-02 10:00,EUR,A,Mug,1,10.00
`;
const CUSTOMERS = `customer_id,country,acquisition_channel
c1,DE,ads
c2,FR,ads
c3,DE,email
c4,,
`;
const PRODUCTS = `sku,title,category,price,unit_cost
A,Mug,mugs,10.00,4.00
B,Tea,tea,5.00,2.00
C,Gift box,gifts,15.00,
`;
const REFUNDS = `refund_id,order_id,customer_id,amount,refunded_at
R1,O3,,5.00,2024-01-25 12:00
R2,,c1,3.00,2024-02-20 12:00
R3,,c2,1.00,2024-01-01 12:00
R4,,c4,10.00,2024-03-25 12:00
R5,,c1,2.00,2024-04-05 12:00
`;
const SPEND = `date,channel,amount
2024-01-01,ads,30.00
2024-02-01,ads,10.00
2024-02-01,email,5.00
`;

const AS_OF = '2024-03-31';

const byCell = (a: CohortCell, b: CohortCell) =>
  a.cohort - b.cohort || (a.segment ?? '').localeCompare(b.segment ?? '') || a.k - b.k;

/**
 * The cohort cells the database sums (`report cohorts`) against the metrics layer's sums over the
 * order facts, for every period and split: the same cells, so the same report.
 */
async function expectSameCells(db: Database, asOfDay: string): Promise<void> {
  const asOf = new Date(`${asOfDay}T00:00:00Z`);
  asOf.setUTCDate(asOf.getUTCDate() + 1);
  const [setting] = await db.query<{ currency: string }>(
    `SELECT value AS currency FROM settings WHERE key = 'currency'`,
  );
  const currency = setting!.currency;
  const facts = await orderFacts(db, asOf, currency);
  const profiles = (
    await db.query<{ customer_id: string; channel: string | null; country: string | null }>(
      'SELECT external_id AS customer_id, acquisition_channel AS channel, country FROM customers',
    )
  ).map((r) => ({ customerId: r.customer_id, channel: r.channel, country: r.country }));
  for (const period of ['month', 'quarter'] as Period[]) {
    for (const by of [undefined, 'channel', 'country', 'first-product', 'first-category'] as (
      SplitBy | undefined
    )[]) {
      const sql = await cohortCellsSql(db, asOf, currency, period, by);
      const js = cohortCells({ orders: facts, asOf, period, by, profiles });
      expect(sql.sort(byCell), `${period} by ${by ?? 'none'}`).toEqual(js.sort(byCell));
    }
  }
}

/** Retention counts in a comparable order (periods by index, gaps ascending). */
const sortedCounts = (c: RetentionCounts): RetentionCounts => ({
  ...c,
  periods: [...c.periods].sort((a, b) => a.period - b.period),
  secondOrderGapsMs: [...c.secondOrderGapsMs].sort((a, b) => a - b),
});

/** The retention counts the database sums (`report retention`) = the metrics layer's over the order facts. */
async function expectSameRetentionCounts(db: Database, asOfDay: string, currency: string): Promise<void> {
  const asOf = new Date(`${asOfDay}T00:00:00Z`);
  asOf.setUTCDate(asOf.getUTCDate() + 1);
  const facts = await orderFacts(db, asOf, currency, {});
  for (const period of ['month', 'quarter'] as Period[]) {
    expect(sortedCounts(await retentionCountsSql(db, asOf, currency, period)), period).toEqual(
      sortedCounts(retentionCounts(facts, asOf, period)),
    );
  }
}

/** LTV facts with the window months in a comparable order (customers keep theirs: it is part of the contract). */
const sortedLtv = (f: LtvFacts): LtvFacts => ({
  ...f,
  months: [...f.months].sort(
    (a, b) =>
      a.channel.localeCompare(b.channel) ||
      a.firstCategory.localeCompare(b.firstCategory) ||
      a.month - b.month,
  ),
});

/**
 * The LTV facts the database sums (`report ltv`) = the metrics layer's over the order facts, for a
 * few windows; and the net revenue before a cut (predicted LTV) = the order facts' sums.
 */
async function expectSameLtvFacts(db: Database, asOfDay: string, currency: string): Promise<void> {
  const asOf = new Date(`${asOfDay}T00:00:00Z`);
  asOf.setUTCDate(asOf.getUTCDate() + 1);
  const facts = await orderFacts(db, asOf, currency);
  const profiles = (
    await db.query<{ customer_id: string; channel: string | null; country: string | null }>(
      'SELECT external_id AS customer_id, acquisition_channel AS channel, country FROM customers',
    )
  ).map((r) => ({ customerId: r.customer_id, channel: r.channel, country: r.country }));
  for (const months of [1, 3, 12, 40]) {
    expect(
      sortedLtv(await ltvFactsSql(db, asOf, currency, ltvWindow(asOf, months))),
      `${months} months`,
    ).toEqual(sortedLtv(ltvFacts(facts, profiles, asOf, months)));
  }
  // The first category is the cohorts report's `first-category` (one rule, not a second one).
  const cohortCategory = new Map<string, string>();
  for (const o of facts) {
    if (o.orderedAt < asOf && !cohortCategory.has(o.customerId))
      cohortCategory.set(o.customerId, o.category ?? '(unknown)');
  }
  const sqlFacts = await ltvFactsSql(db, asOf, currency, ltvWindow(asOf, 12));
  expect(new Map(sqlFacts.customers.map((c) => [c.customerId, c.firstCategory]))).toEqual(cohortCategory);
  const cut = new Date(asOf.getTime() - 45 * 86_400_000);
  const expected = new Map<string, number>();
  for (const o of facts) {
    const net = o.orderedAt < cut ? o.revenueMinor - o.refundMinor : 0;
    expected.set(o.customerId, (expected.get(o.customerId) ?? 0) + net);
  }
  expect(await netBefore(db, asOf, currency, cut)).toEqual(expected);
}

/** Channel facts with channels in a comparable order. */
const sortedChannels = (f: ChannelFacts): ChannelFacts => ({
  ...f,
  channels: [...f.channels].sort((a, b) => a.channel.localeCompare(b.channel)),
});

/** The channel facts the database sums (`report channels`) = the metrics layer's over the order facts, for a few windows. */
async function expectSameChannelFacts(
  db: Database,
  asOfDay: string,
  currency: string,
  windows: [string, string][],
): Promise<void> {
  const asOf = new Date(`${asOfDay}T00:00:00Z`);
  asOf.setUTCDate(asOf.getUTCDate() + 1);
  const facts = await orderFacts(db, asOf, currency);
  const profiles = (
    await db.query<{ customer_id: string; channel: string | null; country: string | null }>(
      'SELECT external_id AS customer_id, acquisition_channel AS channel, country FROM customers',
    )
  ).map((r) => ({ customerId: r.customer_id, channel: r.channel, country: r.country }));
  for (const [from, to] of windows) {
    const window = { from: new Date(`${from}T00:00:00Z`), to: new Date(`${to}T00:00:00Z`) };
    expect(sortedChannels(await channelFactsSql(db, asOf, currency, window)), `${from}..${to}`).toEqual(
      sortedChannels(channelFacts(facts, profiles, asOf, window)),
    );
  }
}

describe.each(testEngines())('reports on a hand-built store (%s)', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await importFile(testContext(db, systemClock), { entity: 'orders', file: file('orders.csv', ORDERS) });
    await importFile(testContext(db, systemClock), {
      entity: 'customers',
      file: file('customers.csv', CUSTOMERS),
    });
    await importFile(testContext(db, systemClock), {
      entity: 'products',
      file: file('products.csv', PRODUCTS),
    });
    await importFile(testContext(db, systemClock), { entity: 'refunds', file: file('refunds.csv', REFUNDS) });
    await importFile(testContext(db, systemClock), { entity: 'spend', file: file('spend.csv', SPEND) });
  });
  afterAll(async () => dispose());

  it('order facts: revenue, cost (unknown when a line has none), refunds attributed, largest line', async () => {
    const facts = await orderFacts(db, new Date('2024-04-01T00:00:00Z'), 'EUR');
    const at = (s: string) => new Date(`${s}T10:00:00Z`);
    expect(facts).toEqual([
      {
        customerId: 'c1',
        orderedAt: at('2024-01-05'),
        revenueMinor: 2500,
        costMinor: 1000,
        refundMinor: 0,
        category: 'mugs',
        sku: 'A',
      },
      {
        customerId: 'c1',
        orderedAt: at('2024-02-10'),
        revenueMinor: 1000,
        costMinor: 400,
        refundMinor: 300,
        category: 'tea',
        sku: 'B',
      },
      {
        customerId: 'c2',
        orderedAt: at('2024-01-20'),
        revenueMinor: 2000,
        costMinor: 800,
        refundMinor: 600,
        category: 'tea',
        sku: 'B',
      },
      {
        customerId: 'c3',
        orderedAt: at('2024-02-03'),
        revenueMinor: 1000,
        costMinor: 400,
        refundMinor: 0,
        category: 'mugs',
        sku: 'A',
      },
      {
        customerId: 'c3',
        orderedAt: at('2024-03-15'),
        revenueMinor: 2500,
        costMinor: null,
        refundMinor: 0,
        category: 'gifts',
        sku: 'C',
      },
      {
        customerId: 'c4',
        orderedAt: at('2024-03-20'),
        revenueMinor: 500,
        costMinor: 200,
        refundMinor: 1000,
        category: 'tea',
        sku: 'B',
      },
    ]);
    // Later, R5 (Apr 5) lands on c1's latest order before it, O8 (Apr 2).
    const later = await orderFacts(db, new Date('2025-01-01T00:00:00Z'), 'EUR');
    expect(later.filter((f) => f.customerId === 'c1').map((f) => f.refundMinor)).toEqual([0, 300, 200]);
  });

  it('ltv: every formula with its inputs, CAC overall and per channel, predicted absent', async () => {
    const o = await ltvReport(db, { asOf: AS_OF });
    expect(o).toMatchObject({ report: 'ltv', asOf: AS_OF, currency: 'EUR' });
    expect(o.window).toMatchObject({ firstMonth: '2023-04', lastMonth: '2024-03', months: 12 });
    const g = o.overall;
    expect(g).toMatchObject({ customers: 4, marginBasis: 'revenue', costCoverage: 5 / 6 });
    // Spend in the window 45.00 / 4 new customers.
    expect(g.cac).toMatchObject({ spend: 45, newCustomers: 4, cac: 11.25 });
    const value = (d: string) => g.formulas.find((f) => f.definition === d)!;
    // AOV 76.00/6 × 1.5 orders/yr × (36 + 0 + 41 + 0 days)/4/365.25 yrs = 1.0014 EUR.
    expect(value('ltv.aov_frequency_lifespan').value).toBe(1);
    expect(value('ltv.aov_frequency_lifespan').inputs).toMatchObject({
      averageNetOrderValue: 12.67,
      ordersPerCustomerPerYear: 1.5,
      windowOrders: 6,
    });
    // 76.00 / 6 customer-months × mean lifetime 1.5 months.
    expect(value('ltv.monthly_sales_lifetime').value).toBe(19);
    // Monthly margin (net revenue: a cost is unknown) 12.6667 / churn 0.5 (Jan→Feb 1 of 2, Feb→Mar 1 of 2).
    expect(value('ltv.margin_churn').value).toBe(25.33);
    expect(value('ltv.margin_churn').inputs).toMatchObject({ monthlyChurnRate: 0.5, marginBasis: 'revenue' });
    expect(value('ltv.observed_revenue')).toMatchObject({
      value: 19,
      ltvMinusCac: 7.75,
      ltvToCac: 19 / 11.25,
    });
    expect(g.formulas.some((f) => f.definition === 'ltv.predicted')).toBe(false);
    expect(o.notes.join('\n')).toMatch(/predicted LTV is absent/);
    const byChannel = Object.fromEntries(o.byChannel.map((c) => [c.group, c]));
    expect(byChannel.ads!.cac).toMatchObject({ spend: 40, newCustomers: 2, cac: 20 });
    expect(byChannel.email!.cac).toMatchObject({ spend: 5, newCustomers: 1, cac: 5 });
    expect(byChannel['(unknown)']!.cac).toMatchObject({ spend: 0, cac: 0 });
    expect(byChannel.ads!.formulas.find((f) => f.definition === 'ltv.observed_revenue')!.value).toBe(23);
    expect(describeLtv(o)).toMatch(/monthly sales × lifetime\s+19\.00 EUR/);
    // By the category of the first order's largest line (as the cohorts' first-category), no CAC.
    expect(o.byFirstCategory.map((c) => [c.group, c.customers])).toEqual([
      ['mugs', 2],
      ['tea', 2],
    ]);
    for (const c of o.byFirstCategory)
      expect(c.cac).toMatchObject({
        spend: null,
        cac: null,
        note: 'spend is recorded per channel: no CAC per first category',
      });
    expect(
      o.byFirstCategory.reduce(
        (sum, c) =>
          sum + c.customers * c.formulas.find((f) => f.definition === 'ltv.observed_revenue')!.value!,
        0,
      ),
    ).toBeCloseTo(19 * 4, 2);
    expect(describeLtv(o)).toMatch(/By first order's category\n.*first category/);
  });

  it('retention: per-month rates, repeat customers, time to second purchase', async () => {
    const o = await retentionReport(db, { asOf: AS_OF });
    expect(
      o.periods.map((p) => [p.period, p.activeCustomers, p.newCustomers, p.retained, p.retentionRate]),
    ).toEqual([
      ['2024-01', 2, 2, 0, null],
      ['2024-02', 2, 1, 1, 0.5],
      ['2024-03', 2, 1, 1, 0.5],
    ]);
    expect(o.periods.map((p) => [p.repeatPurchaseShare, p.shopifyReturningCustomerRate, p.partial])).toEqual([
      [0, 0, false],
      [0.5, 0.5, false],
      [0.5, 0.5, false],
    ]);
    expect(o.repeatCustomerRate).toMatchObject({ customers: 4, repeatCustomers: 2, rate: 0.5 });
    // c1: Jan 5 → Feb 10 = 36 days; c3: Feb 3 → Mar 15 (leap year) = 41 days.
    expect(o.timeToSecondPurchase).toMatchObject({ customers: 2, medianDays: 38.5, within30Days: 0 });
    const q = await retentionReport(db, {
      asOf: AS_OF,
      period: 'quarter',
      from: '2024-01-01',
      to: '2024-03-31',
    });
    expect(q.periods.map((p) => [p.period, p.activeCustomers])).toEqual([['2024-Q1', 4]]);
    // Only the "At risk" customer (c1: R = 2, F = 3).
    const seg = await retentionReport(db, { asOf: AS_OF, segment: 'at-risk' });
    expect(seg.filters).toEqual({ segment: 'At risk' });
    expect(seg.repeatCustomerRate).toMatchObject({ customers: 1, repeatCustomers: 1 });
    expect(describeRetention(o)).toMatch(/2024-02\s+2\s+1\s+1\s+1\s+50\.0%/);
  });

  it('cohorts: sizes, retention, cumulative revenue, CAC and payback; splits', async () => {
    const o = await cohortsReport(db, { asOf: AS_OF });
    expect(o.cohorts.map((c) => [c.cohort, c.size, c.retention])).toEqual([
      ['2024-01', 2, [1, 0.5, 0]],
      ['2024-02', 1, [1, 1]],
      ['2024-03', 1, [1]], // a cohort with no later period
    ]);
    // Jan: (25.00 + 14.00) / 2, then + 7.00 / 2. Mar: c4's refund exceeds its order.
    expect(o.cohorts.map((c) => c.cumulativeRevenuePerCustomer)).toEqual([[19.5, 23, 23], [10, 35], [-5]]);
    // CAC = spend of the cohort month / size; payback = first k with cumulative margin ≥ CAC.
    expect(o.cohorts.map((c) => [c.cac, c.paybackPeriods])).toEqual([
      [15, 0],
      [15, 1],
      [0, null], // zero spend, but the cohort's margin is still negative
    ]);
    const byCategory = await cohortsReport(db, { asOf: AS_OF, by: 'first-category' });
    expect(byCategory.cohorts.map((c) => [c.cohort, c.segment, c.size, c.cac])).toEqual([
      ['2024-01', 'mugs', 1, null],
      ['2024-01', 'tea', 1, null],
      ['2024-02', 'mugs', 1, null],
      ['2024-03', 'tea', 1, null],
    ]);
    const byChannel = await cohortsReport(db, { asOf: AS_OF, by: 'channel', period: 'quarter' });
    expect(byChannel.cohorts.map((c) => [c.cohort, c.segment, c.size, c.cac])).toEqual([
      ['2024-Q1', '(unknown)', 1, 0],
      ['2024-Q1', 'ads', 2, 20],
      ['2024-Q1', 'email', 1, 5],
    ]);
    const ranged = await cohortsReport(db, { asOf: AS_OF, from: '2024-02-01', to: '2024-02-29' });
    expect(ranged.cohorts.map((c) => c.cohort)).toEqual(['2024-02']);
    expect(describeCohorts(o)).toMatch(/2024-01\s+2\s+100%\s+50%\s+0%/);
    expect(describeCohorts(o, 'revenue')).toMatch(/2024-02\s+1\s+10\s+35/);
  });

  it('cohorts, retention, LTV, channels and RFM: what the database sums equals the metrics layer over the order facts', async () => {
    await expectSameCells(db, AS_OF);
    await expectSameCells(db, '2024-02-15');
    await expectSameRetentionCounts(db, AS_OF, 'EUR');
    await expectSameRetentionCounts(db, '2024-02-15', 'EUR');
    await expectSameLtvFacts(db, AS_OF, 'EUR');
    await expectSameLtvFacts(db, '2024-02-15', 'EUR');
    for (const day of [AS_OF, '2024-02-15']) {
      await expectSameChannelFacts(db, day, 'EUR', [
        ['2023-01-01', '2025-01-01'],
        ['2024-01-20', '2024-02-04'],
      ]);
    }
    // RFM from one aggregate per customer = RFM from the order facts.
    for (const day of [AS_OF, '2024-02-15']) {
      const asOf = new Date(`${day}T00:00:00Z`);
      asOf.setUTCDate(asOf.getUTCDate() + 1);
      expect(rfmReportFromValues(await rfmValues(db, asOf, 'EUR'), asOf)).toEqual(
        rfmOfFacts({ orders: await orderFacts(db, asOf, 'EUR'), asOf }),
      );
    }
    // An RFM segment is scored in the process, then summed by the metrics layer: same report shape.
    const champions = await cohortsReport(db, { asOf: AS_OF, segment: 'champions' });
    expect(champions.filters).toEqual({ segment: 'Champions' });
  });

  it('rfm: scores by rank with ties and the named segments', async () => {
    const o = await rfmReport(db, { asOf: AS_OF, customers: true });
    expect(o.customers!.map((c) => [c.customerId, c.r, c.f, c.segment])).toEqual([
      ['c1', 2, 3, 'At risk'],
      ['c2', 1, 1, 'Lost'],
      ['c3', 3, 3, 'Need attention'],
      ['c4', 4, 1, 'Promising'],
    ]);
    const seg = Object.fromEntries(o.segments.map((s) => [s.segment, s]));
    expect(seg['At risk']).toMatchObject({ customers: 1, revenue: 32 });
    expect(seg.Promising).toMatchObject({ customers: 1, revenue: -5 });
    expect(o.segments.reduce((a, s) => a + s.customers, 0)).toBe(4);
    expect((await rfmReport(db, { asOf: AS_OF })).customers).toBeUndefined();
    expect(describeRfm(o)).toMatch(/Need attention\s+1/);
  });

  it('channels: CAC, N-day LTV, LTV:CAC, payback, repeat rate and the reallocation', async () => {
    const o = await channelsReport(db, { asOf: '2024-12-31', horizon: '90' });
    const ch = Object.fromEntries(o.channels.map((c) => [c.channel, c]));
    // ads: c1 within 90 days 25.00 + 7.00 + (10.00 − 2.00), c2 14.00 → 27.00; CAC 40.00 / 2.
    expect(ch.ads).toMatchObject({
      customers: 2,
      spend: 40,
      cac: 20,
      ltvToCac: 1.35,
      paybackDays: 60,
      repeatRate: 0.5,
    });
    expect(ch.ads!.ltv[0]).toMatchObject({ days: 90, matureCustomers: 2, margin: 27 });
    expect(ch.email).toMatchObject({ customers: 1, cac: 5, ltvToCac: 7, paybackDays: 0 });
    expect(ch['(unknown)']).toMatchObject({ customers: 1, spend: 0, cac: 0, ltvToCac: null });
    // Move 10 % of ads' spend (4.00) to email: linear gain = 4.00 × (7 − 1.35).
    expect(o.reallocation).toMatchObject({ fromChannel: 'ads', toChannel: 'email', movedSpend: 4 });
    expect(o.reallocation!.linear.valueChange).toBe(22.6);
    const windowed = await channelsReport(db, { asOf: '2024-12-31', from: '2024-02-01', to: '2024-02-29' });
    expect(windowed.channels.map((c) => [c.channel, c.customers, c.spend])).toEqual([
      ['ads', 0, 10],
      ['email', 1, 5],
    ]);
    expect(describeChannels(o)).toMatch(/move 4\.00 EUR .* from ads to email/);
  });

  it('diagnose: parts sum exactly to the change of revenue per customer', async () => {
    const o = await diagnoseReport(db, { asOf: AS_OF, base: '2024-02', current: '2024-03' });
    // Feb: c1 7.00 + c3 10.00 over 2; Mar: c3 25.00 + c4 −5.00 over 2.
    expect(o.base).toMatchObject({ label: '2024-02', customers: 2, revenuePerCustomer: 8.5 });
    expect(o.current).toMatchObject({ label: '2024-03', customers: 2, revenuePerCustomer: 10 });
    expect(o.change).toMatchObject({ rounded: 1.5 });
    const cents = o.parts.reduce((a, p) => a + Math.round(p.rounded * 100), 0);
    expect(cents).toBe(150);
    expect(o.parts.reduce((a, p) => a + p.exact, 0)).toBeCloseTo(1.5, 9);
    // The default is the last complete month against the one before.
    const d = await diagnoseReport(db, { asOf: AS_OF });
    expect([d.base.label, d.current.label]).toEqual(['2024-02', '2024-03']);
    expect(describeDiagnose(o)).toMatch(/total\s+1\.50 EUR/);
  });

  it('digest: Markdown and HTML files for a month', async () => {
    const html = join(dir, `digest-${engine}.html`);
    const o = await digestReport(db, { asOf: AS_OF, month: '2024-03', out: html });
    expect(o).toMatchObject({ month: '2024-03', written: { path: html, format: 'html' } });
    expect(readFileSync(html, 'utf8')).toContain('<svg');
    const md = await digestReport(db, { asOf: AS_OF, month: '2024-03' });
    expect('markdown' in md && md.markdown).toMatch(/# Retain digest — 2024-03/);
  });

  it('rejects bad options with the option named', async () => {
    await expect(retentionReport(db, { from: '2024-02-30' })).rejects.toThrow(/expected a calendar day/);
    await expect(retentionReport(db, { from: '2024-03-01', to: '2024-01-01' })).rejects.toMatchObject({
      code: 'validation',
      where: { field: '--from' },
    });
    await expect(cohortsReport(db, { by: 'colour' })).rejects.toMatchObject({ where: { field: '--by' } });
    await expect(ltvReport(db, { segment: 'nonesuch' })).rejects.toMatchObject({
      code: 'validation',
      where: { field: '--segment' },
      message: expect.stringMatching(
        /expected an RFM segment \(Champions, .*\) or a saved or built-in segment/,
      ),
    });
    await expect(channelsReport(db, { segment: 'nonesuch' })).rejects.toThrow(
      /no saved or built-in segment 'nonesuch'/,
    );
    await expect(diagnoseReport(db, { asOf: AS_OF, current: '2024-05' })).rejects.toThrow(/starts after/);
    await expect(digestReport(db, { out: 'digest.pdf' })).rejects.toThrow(/\.html or \.md/);
  });
});

describe.each(testEngines())('reports on an empty store (%s)', (engine) => {
  it('say that there are no orders yet', async () => {
    const { db, dispose } = await freshDatabase(engine);
    try {
      await expect(cohortsReport(db, {})).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await dispose();
    }
  });
});

/**
 * Independent cohort computation over the raw Online Retail rows (the importer's rules, from
 * docs/import-formats.md#online-retail): sales invoices (not C/A) of known customers, kept lines
 * with quantity and price > 0; a customer's cohort is the month of the first such invoice.
 */
function naiveCohorts(): Map<string, { size: number; active: number[] }> {
  const monthIndex = (day: string) => Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;
  const months = new Map<string, Set<number>>();
  const first = new Map<string, string>();
  for (const line of gunzipSync(readFileSync(ONLINE_RETAIL)).toString('utf8').split('\n').slice(1)) {
    if (!line) continue;
    const f = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((x) => x.replace(/,$/, ''));
    const [inv, , , qty, date, price, cust] = f as string[];
    if (!cust || inv!.startsWith('C') || inv!.startsWith('A') || Number(qty) <= 0 || Number(price) <= 0)
      continue;
    const id = cust.replace(/\.0$/, '');
    let set = months.get(id);
    if (!set) months.set(id, (set = new Set()));
    set.add(monthIndex(date!));
    if (!first.has(id) || date! < first.get(id)!) first.set(id, date!);
  }
  const last = monthIndex('2011-12-09');
  const out = new Map<string, { size: number; active: number[] }>();
  for (const [id, day] of first) {
    const c = monthIndex(day);
    const label = day.slice(0, 7);
    let row = out.get(label);
    if (!row) out.set(label, (row = { size: 0, active: new Array<number>(last - c + 1).fill(0) }));
    row.size++;
    for (const m of months.get(id)!) row.active[m - c]!++;
  }
  return out;
}

describe.each(testEngines())('reports on the shipped Online Retail data (%s)', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: ONLINE_RETAIL,
      preset: 'online-retail',
    });
  }, 120_000);
  afterAll(async () => dispose());

  it('cohort sizes and retention match a naive computation over the raw rows, for every cohort', async () => {
    const o = await cohortsReport(db, { asOf: '2011-12-09' });
    const naive = naiveCohorts();
    expect(o.cohorts.map((c) => c.cohort)).toEqual([...naive.keys()].sort());
    expect(o.cohorts).toHaveLength(13);
    for (const c of o.cohorts) {
      const n = naive.get(c.cohort)!;
      expect({ cohort: c.cohort, size: c.size, active: c.activeCustomers }).toEqual({
        cohort: c.cohort,
        size: n.size,
        active: n.active,
      });
      // Rates are printed to 6 significant digits.
      c.retention.forEach((r, k) => expect(r).toBeCloseTo(n.active[k]! / n.size, 5));
    }
    expect(o.cohorts.reduce((a, c) => a + c.size, 0)).toBe(4338);
    await expectSameCells(db, '2011-12-09');
    await expectSameRetentionCounts(db, '2011-12-09', 'GBP');
    await expectSameRetentionCounts(db, '2011-06-30', 'GBP');
    await expectSameLtvFacts(db, '2011-12-09', 'GBP');
    await expectSameChannelFacts(db, '2011-12-09', 'GBP', [
      ['2010-12-01', '2011-12-10'],
      ['2011-03-01', '2011-09-01'],
    ]);
    const asOf = new Date('2011-12-10T00:00:00Z');
    expect(rfmReportFromValues(await rfmValues(db, asOf, 'GBP'), asOf)).toEqual(
      rfmOfFacts({ orders: await orderFacts(db, asOf, 'GBP'), asOf }),
    );
  });

  it('LTV by first category on real data: the database and the metrics layer agree once products have categories', async () => {
    // Online Retail has no categories: give most products one (by the sku's first two characters,
    // so largest lines tie across categories) and leave the rest unknown.
    await db.query(`UPDATE products SET category = 'c' || SUBSTR(sku, 1, 2) WHERE sku < '85'`);
    await expectSameLtvFacts(db, '2011-12-09', 'GBP');
    const o = await ltvReport(db, { asOf: '2011-12-09' });
    expect(o.byFirstCategory.length).toBeGreaterThan(5);
    expect(o.byFirstCategory.map((c) => c.group)).toContain('(unknown)');
    expect(o.byFirstCategory.reduce((n, c) => n + c.customers, 0)).toBe(4338);
  });

  it('renders the November 2011 digest as HTML with charts', async () => {
    const html = join(dir, `online-retail-${engine}.html`);
    const o = await digestReport(db, { month: '2011-11', out: html });
    expect(o).toMatchObject({ month: '2011-11', asOf: '2011-12-09', written: { format: 'html' } });
    const text = readFileSync(html, 'utf8');
    expect(text).toContain('<svg');
    expect(text).toContain('2011-11');
  });
});
