import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import { DAY_MS } from '../../shared/time.js';
import type { Database } from '../../storage/port.js';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { generate, load, NOW, type Data } from '../../../test/support/segmentStore.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { memberIds } from '../segments/repository.js';
import { compiledSegment, saveSegment } from '../segments/service.js';
import { ChannelsInput, LtvInput, parseOptions } from './schema.js';
import { channelsReport, ltvReport } from './service.js';

/**
 * Budget by customer type (issue 22 item 7): `report ltv|channels --segment <saved or built-in>` over
 * a seeded store equals the same report over a store holding only that segment's members.
 */

const AS_OF = NOW.toISOString().slice(0, 10);
const RULE = {
  any: [
    { field: 'tag', op: 'has', value: 'vip' },
    {
      all: [
        { field: 'revenue_decile', op: 'gte', value: 6 },
        { field: 'country', op: 'in', value: ['US', 'GB'] },
      ],
    },
  ],
};

/** Spend per channel over the last two years (monthly), the same in both stores. */
async function addSpend(db: Database) {
  const rows = [];
  for (let m = 0; m < 24; m++)
    for (const [channel, amount] of [
      ['ads', 12_000],
      ['organic', 1_500],
      ['referral', 4_000],
    ] as const)
      rows.push([new Date(NOW.getTime() - (m * 30 + 3) * DAY_MS), channel, '', amount + m * 10, 'EUR']);
  await db.copyRows('marketing_spend', ['spent_on', 'channel', 'campaign', 'amount_minor', 'currency'], rows);
}

/** The store cut down to `ids`: their customers, orders, lines, refunds, events and predictions. */
function only(d: Data, ids: Set<number>): Data {
  return {
    customers: d.customers.filter((c) => ids.has(c.id)),
    orders: d.orders.filter((o) => ids.has(o.customer)),
    events: d.events.filter((e) => ids.has(e.customer)),
    predictions: d.predictions.filter((p) => ids.has(p.customer)),
  };
}

/** A report without what names its scope (filters, the segment, notes about the whole store). */
const figures = <T extends { filters: unknown; notes: string[] }>(r: T) => {
  const { filters: _f, notes: _n, segment: _s, ...rest } = r as T & { segment?: unknown };
  return rest;
};

describe.each(testEngines())('reports by segment on %s', (engine) => {
  let whole: Database;
  let part: Database;
  const disposers: (() => Promise<void>)[] = [];
  let ids: number[] = [];
  const data = generate(23);
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    const a = await freshDatabase(engine);
    const b = await freshDatabase(engine);
    whole = a.db;
    part = b.db;
    disposers.push(a.dispose, b.dispose);
    await load(whole, data);
    await addSpend(whole);
    const ctx = testContext(whole, clock);
    await saveSegment(ctx, { body: { name: 'best-anglo', rule: RULE }, by: 'test' });
    // The members at the end of the as-of day, as the report evaluates the segment.
    const seg = await compiledSegment(ctx, { name: 'best-anglo', asOf: AS_OF });
    ids = await memberIds(whole, seg.compiled);
    await load(part, only(data, new Set(ids)));
    await addSpend(part);
  }, 120_000);
  afterAll(async () => {
    for (const d of disposers) await d();
  });

  it('the segment has some customers but not all', () => {
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.length).toBeLessThan(data.customers.filter((c) => !c.erased).length / 2);
  });

  it('report ltv --segment equals report ltv over a store of only its members', async () => {
    const ltv = (db: Database, raw: Record<string, unknown>) =>
      ltvReport(testContext(db, clock), parseOptions(LtvInput, { asOf: AS_OF, ...raw }));
    const bySegment = await ltv(whole, { segment: 'best-anglo', months: '6' });
    const alone = await ltv(part, { months: '6' });
    expect(figures(bySegment)).toEqual(figures(alone));
    expect(bySegment.overall.customers).toBeGreaterThan(0);
    expect(bySegment.filters).toEqual({ segment: 'best-anglo' });
    expect(bySegment.segment).toMatchObject({ name: 'best-anglo', kind: 'saved', members: ids.length });
    expect(bySegment.notes[0]).toMatch(/covers the \d+ members of the saved segment 'best-anglo'/);
    // The whole store differs (the restriction did something).
    expect(figures(await ltv(whole, { months: '6' }))).not.toEqual(figures(alone));
  });

  it('report channels --segment equals report channels over a store of only its members', async () => {
    const channels = (db: Database, raw: Record<string, unknown>) =>
      channelsReport(testContext(db, clock), parseOptions(ChannelsInput, { asOf: AS_OF, ...raw }));
    for (const raw of [{}, { from: '2025-01-01', horizon: '90' }]) {
      const bySegment = await channels(whole, { segment: 'best-anglo', ...raw });
      const alone = await channels(part, raw);
      expect(figures(bySegment)).toEqual(figures(alone));
      expect(bySegment.channels.reduce((a, c) => a + c.customers, 0)).toBeGreaterThan(0);
      expect(bySegment.filters).toMatchObject({ segment: 'best-anglo' });
      expect(bySegment.notes.join('\n')).toMatch(/spend per member of 'best-anglo'/);
    }
  });

  it('built-in segments work too; an RFM segment still means the RFM segment', async () => {
    const ctx = testContext(whole, clock);
    const vip = await channelsReport(ctx, parseOptions(ChannelsInput, { asOf: AS_OF, segment: 'vip' }));
    expect(vip.segment).toMatchObject({ name: 'vip', kind: 'built-in' });
    const all = await channelsReport(ctx, parseOptions(ChannelsInput, { asOf: AS_OF }));
    const count = (r: typeof all) => r.channels.reduce((a, c) => a + c.customers, 0);
    expect(count(vip)).toBeGreaterThan(0);
    expect(count(vip)).toBeLessThan(count(all));
    const champions = await ltvReport(ctx, parseOptions(LtvInput, { asOf: AS_OF, segment: 'champions' }));
    expect(champions.filters).toEqual({ segment: 'Champions' });
    expect(champions.segment).toBeUndefined();
    expect(champions.notes.join('\n')).not.toMatch(/is read as the RFM segment/);
    // A saved segment named like an RFM segment is shadowed there, and the report says so.
    await saveSegment(ctx, { body: { name: 'champions', rule: RULE }, by: 'test' });
    const shadowed = await ltvReport(ctx, parseOptions(LtvInput, { asOf: AS_OF, segment: 'champions' }));
    expect(shadowed.notes.join('\n')).toMatch(/'champions' is read as the RFM segment Champions/);
    expect(figures(shadowed)).toEqual(figures(champions));
  });

  it('over HTTP: GET /v1/reports/ltv|channels?segment= answers the same report', async () => {
    const t = await testApp(whole, { clock });
    for (const name of ['ltv', 'channels'] as const) {
      const r = await t.call('GET', `/v1/reports/${name}?asOf=${AS_OF}&segment=best-anglo`, {
        role: 'analyst',
      });
      expect(r.status, r.text).toBe(200);
      const direct =
        name === 'ltv'
          ? await ltvReport(testContext(whole, clock), { asOf: AS_OF, segment: 'best-anglo' })
          : await channelsReport(testContext(whole, clock), { asOf: AS_OF, segment: 'best-anglo' });
      expect(figures(r.json)).toEqual(figures(JSON.parse(JSON.stringify(direct))));
      expect(r.json.segment.name).toBe('best-anglo');
    }
    const bad = await t.call('GET', `/v1/reports/channels?segment=nonesuch`, { role: 'analyst' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/no saved or built-in segment 'nonesuch'/);
  });
});
