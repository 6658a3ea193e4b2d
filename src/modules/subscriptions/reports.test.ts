import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import {
  generateSubscriptionHistory,
  HISTORY_ZONE,
  REASONS,
  type WrittenHistory,
} from '../../../test/support/subscriptionHistory.js';
import { monthlyMinor } from '../../analytics/subscriptions/schedule.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { openStore } from '../store.js';
import {
  forecastTable,
  subscriptionReport,
  subscriptionReportMarkdown,
  type SubscriptionReport,
} from './reports.js';
import { recordPayment } from './service.js';

// ---- an independent calendar (Intl only) for the direct counts ---------------------------------------

const parts = new Intl.DateTimeFormat('en-CA', {
  timeZone: HISTORY_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});
/** Local wall-clock fields of an instant in the store zone. */
function local(ms: number) {
  const p = Object.fromEntries(parts.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return { y: p.year!, m: p.month!, d: p.day!, time: ((p.hour! * 60 + p.minute!) * 60 + p.second!) * 1000 };
}
/** The instant of a local wall-clock time (as ms since 1970 read as UTC), by the zone's offset there. */
function instantOf(wall: number): number {
  let t = wall;
  for (let i = 0; i < 3; i++) {
    const l = local(t);
    t += wall - (Date.UTC(l.y, l.m - 1, l.d) + l.time);
  }
  return t;
}
/** `t` calendar months after `ms` in the store zone, the day clamped to the month. */
function plusMonths(ms: number, t: number): number {
  const l = local(ms);
  const last = new Date(Date.UTC(l.y, l.m - 1 + t + 1, 0)).getUTCDate();
  return instantOf(Date.UTC(l.y, l.m - 1 + t, Math.min(l.d, last)) + l.time);
}
const monthOf = (ms: number) => {
  const l = local(ms);
  return `${l.y}-${String(l.m).padStart(2, '0')}`;
};
/** The first instant of a local month `YYYY-MM`. */
const monthStart = (label: string) => {
  const [y, m] = label.split('-').map(Number) as [number, number];
  return instantOf(Date.UTC(y, m - 1, 1));
};
const nextMonth = (label: string) => {
  const [y, m] = label.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
};

/** The field a 400 names: `details.field`, or the first zod issue's path. */
const fieldOf = (json: { error?: { details?: { field?: string; issues?: { path: string }[] } } }) =>
  json.error?.details?.field ?? json.error?.details?.issues?.[0]?.path;

/**
 * Issue 28's subscription report on a generated history (test/support/subscriptionHistory.ts: 590
 * subscribers over 30 months in Europe/Kyiv, churn by the sBG process, one-off buyers of the same
 * products), through the API: MRR movements add up, active counts and cohort survivors match direct
 * counts, the sBG fitted on the first 12 months forecasts months 13–24, cancel reasons add up, the LTV
 * comparison is there; bad input is refused naming the field.
 */
describe.each(testEngines())('subscription report on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let history: WrittenHistory;
  let call: Awaited<ReturnType<typeof testApp>>['call'];
  let report: SubscriptionReport;
  const clock = new ManualClock('2023-12-01T00:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    const started = performance.now();
    history = await generateSubscriptionHistory({ ...testContext(db, clock), clock }, { seed: 28 });
    // Now: a few days into the month after the history (2026-07).
    clock.set(new Date(history.plan.endMs + 3 * 86_400_000));
    ({ call } = await testApp(db, { clock }));
    const res = await call('GET', '/v1/subscriptions/report?to=2026-06', { role: 'analyst' });
    expect(res.status, res.text).toBe(200);
    report = res.json as SubscriptionReport;
    console.log(`${engine}: history written and reported in ${Math.round(performance.now() - started)} ms`);
  }, 120_000);
  afterAll(async () => dispose?.());

  it('covers the months asked, in the store zone and currency', () => {
    expect(report).toMatchObject({
      definition: 'subscriptions.report',
      from: '2024-01',
      to: '2026-06',
      timeZone: HISTORY_ZONE,
      currency: 'USD',
      plan: null,
      subscriptions: { inScope: 588, otherCurrencies: [{ currency: 'GBP', subscriptions: 2 }] },
    });
    expect(report.asOf).toBe(new Date(history.plan.endMs).toISOString());
    expect(report.months).toHaveLength(30);
    expect(report.months.every((m) => m.complete)).toBe(true);
    expect(report.notes.join(' ')).toMatch(/2 subscriptions in GBP/);
  });

  it('MRR movements add up month by month; active counts and MRR match a direct count', async () => {
    let previousEnd = 0;
    for (const m of report.months) {
      expect(m.startMrrMinor, m.month).toBe(previousEnd);
      expect(
        m.startMrrMinor +
          m.newMinor +
          m.reactivatedMinor +
          m.expansionMinor -
          m.contractionMinor -
          m.churnedMinor,
        m.month,
      ).toBe(m.endMrrMinor);
      previousEnd = m.endMrrMinor;
    }
    const counts = report.months.map((m) => [m.newCount, m.churnedCount, m.reactivatedCount]);
    expect(counts.flat().every((n) => n >= 0)).toBe(true);
    expect(report.months.reduce((s, m) => s + m.newCount, 0)).toBeGreaterThan(500);
    expect(report.months.reduce((s, m) => s + m.reactivatedCount, 0)).toBeGreaterThan(20);
    expect(report.months.some((m) => m.expansionMinor > 0 && m.contractionMinor > 0)).toBe(true);
    for (const m of report.months) {
      // Each USD subscription's latest MRR before the month's end (local midnight, by Intl).
      const end = new Date(monthStart(nextMonth(m.month)));
      const [direct] = await db.query<{ active: number; mrr: number | null }>(
        `SELECT CAST(SUM(CASE WHEN mrr_minor > 0 THEN 1 ELSE 0 END) AS INTEGER) AS active,
           CAST(SUM(mrr_minor) AS BIGINT) AS mrr
         FROM (
           SELECT e.mrr_minor, ROW_NUMBER() OVER (PARTITION BY e.subscription_id ORDER BY e.happened_at DESC, e.event_id DESC) AS rn
           FROM subscription_events e JOIN subscriptions s ON s.subscription_id = e.subscription_id
           WHERE e.mrr_minor IS NOT NULL AND e.happened_at < $1::timestamp AND s.currency = 'USD'
         ) x WHERE rn = 1`,
        [end],
      );
      expect([m.month, m.activeAtEnd, m.endMrrMinor]).toEqual([m.month, direct!.active, Number(direct!.mrr)]);
    }
  });

  it('the month in progress ends now: its active subscribers and MRR are the subscriptions’ state', async () => {
    const res = await call('GET', '/v1/subscriptions/report', { role: 'agent' });
    expect(res.status, res.text).toBe(200);
    const last = (res.json as SubscriptionReport).months.at(-1)!;
    expect(last).toMatchObject({ month: '2026-07', complete: false, newCount: 0, churnedCount: 0 });
    const live = await db.query<{
      unit_price_minor: number;
      quantity: number;
      interval_every: number;
      interval_unit: 'day' | 'week' | 'month';
    }>(
      `SELECT unit_price_minor, quantity, interval_every, interval_unit FROM subscriptions
       WHERE status IN ('active', 'past_due') AND currency = 'USD'`,
    );
    expect(last.activeAtEnd).toBe(live.length);
    expect(last.endMrrMinor).toBe(
      live.reduce(
        (s, r) =>
          s +
          monthlyMinor(Number(r.unit_price_minor), r.quantity, {
            every: r.interval_every,
            unit: r.interval_unit,
          }),
        0,
      ),
    );
  });

  it('cohort survivors match a direct count (and the generated truth)', async () => {
    const rows = await db.query<{ subscription_id: number; started_at: Date; first_cancel: Date | null }>(
      `SELECT s.subscription_id, s.started_at,
         (SELECT MIN(e.happened_at) FROM subscription_events e
          WHERE e.subscription_id = s.subscription_id AND e.type = 'cancelled') AS first_cancel
       FROM subscriptions s WHERE s.currency = 'USD' ORDER BY s.subscription_id`,
    );
    // The history's first cancellations are the planned ones.
    const planned = new Map(history.ids.map((id, i) => [id, history.plan.subscribers[i]!.firstCancelMs]));
    for (const r of rows)
      expect(r.first_cancel?.getTime() ?? null).toBe(planned.get(Number(r.subscription_id)));
    const asOf = history.plan.endMs;
    const byCohort = new Map<string, typeof rows>();
    for (const r of rows) {
      const k = monthOf(r.started_at.getTime());
      byCohort.set(k, [...(byCohort.get(k) ?? []), r]);
    }
    expect(report.cohorts.rows.map((c) => c.cohort)).toEqual([...byCohort.keys()].sort());
    for (const c of report.cohorts.rows) {
      const members = byCohort.get(c.cohort)!;
      const alive = [members.length];
      for (let t = 1; members.every((m) => plusMonths(m.started_at.getTime(), t) <= asOf); t++)
        alive.push(
          members.filter(
            (m) =>
              m.first_cancel === null || m.first_cancel.getTime() >= plusMonths(m.started_at.getTime(), t),
          ).length,
        );
      expect([c.cohort, ...c.alive]).toEqual([c.cohort, ...alive]);
      expect(c.observedMonths).toBe(alive.length - 1);
      for (let t = 1; t < alive.length; t++) {
        expect(c.survival[t]).toBeCloseTo(alive[t]! / alive[0]!, 12);
        if (alive[t - 1]! > 0) expect(c.churn[t]).toBeCloseTo(1 - alive[t]! / alive[t - 1]!, 12);
      }
    }
    // The six early cohorts of 50 are observed 24 months and more, and have their own fit.
    const early = report.cohorts.rows.slice(0, 6);
    expect(early.map((c) => c.size)).toEqual([50, 50, 50, 50, 50, 50]);
    for (const c of early) {
      expect(c.observedMonths).toBeGreaterThanOrEqual(24);
      expect(c.sbg).not.toBeNull();
      expect(c.sbg!.forecast).toHaveLength(12);
    }
    const pooled = report.cohorts.pooled;
    expect(pooled.subscribers).toBe(588);
    expect(pooled.sbg).not.toBeNull();
  });

  it('the sBG fitted on the first 12 months forecasts months 13–24 within 3 survival points', () => {
    const f = report.forecastVsActual;
    expect(f.train).toBe(12);
    expect(f.fit).not.toBeNull();
    const after = f.months.filter((m) => m.month >= 13 && m.month <= 24);
    expect(after.map((m) => m.part)).toEqual(Array(12).fill('forecast'));
    // At month 24, the six early cohorts (300 subscribers) are the ones observed.
    expect(after.at(-1)).toMatchObject({ month: 24, cohorts: 6, subscribers: 300 });
    const truth = history.plan.churn;
    console.log(
      `${engine}: sBG on months 1–12 of ${f.cohorts.length} cohorts (${f.subscribers} subscriptions): ` +
        `α = ${f.fit!.alpha.toFixed(3)}, β = ${f.fit!.beta.toFixed(3)} (generated with α = ${truth.alpha}, β = ${truth.beta}); ` +
        `months 13–24 mean |error| ${((after.reduce((s, m) => s + Math.abs(m.error), 0) / 12) * 100).toFixed(2)} pp, ` +
        `largest ${(Math.max(...after.map((m) => Math.abs(m.error))) * 100).toFixed(2)} pp\n` +
        forecastTable({ ...report, forecastVsActual: { ...f, months: after } }),
    );
    for (const m of after) expect(Math.abs(m.error), `month ${m.month}`).toBeLessThanOrEqual(0.03);
    // Each early cohort has its own fit on its own 12 months too.
    expect(f.byCohort.slice(0, 6).every((c) => c.fit !== null && c.meanAbsoluteError !== null)).toBe(true);
  });

  it('cancel reasons add up to the cancellations', async () => {
    const c = report.cancelReasons;
    const [direct] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscription_events e
       JOIN subscriptions s ON s.subscription_id = e.subscription_id
       WHERE e.type = 'cancelled' AND s.currency = 'USD'`,
    );
    expect(c.total).toBe(direct!.n);
    expect(c.reasons.reduce((s, r) => s + r.count, 0)).toBe(c.total);
    expect(c.reasons.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 12);
    const codes = new Map(REASONS.map(([code, , notes]) => [code, notes]));
    expect(c.reasons.map((r) => r.reason).sort()).toEqual([...codes.keys()].sort());
    for (const r of c.reasons) {
      expect(r.notes.length).toBeLessThanOrEqual(3);
      expect(new Set(r.notes.map((n) => n.note)).size).toBe(r.notes.length);
      for (const n of r.notes) expect(codes.get(r.reason)).toContain(n.note);
    }
    // The most frequent reason of the generated mix is first.
    expect(c.reasons[0]!.reason).toMatch(/too_expensive|too_much_product/);
  });

  it('compares subscribers with one-off buyers of the same products, and says it is not causal', async () => {
    const l = report.ltv;
    expect(l.months).toBe(12);
    expect(l.products).toEqual(['COFFEE', 'DECAF', 'TEA']);
    const [subscribers] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(DISTINCT customer_id) AS INTEGER) AS n FROM subscriptions WHERE currency = 'USD'`,
    );
    expect(l.subscribers.customers + l.subscribers.tooRecent).toBe(subscribers!.n);
    expect(l.oneOff.customers + l.oneOff.tooRecent).toBe(history.plan.oneOffBuyers.length);
    expect(l.subscribers.customers).toBeGreaterThan(100);
    expect(l.oneOff.customers).toBeGreaterThan(100);
    expect(l.difference).not.toBeNull();
    const d = l.difference!;
    expect(d.estimateMinor).toBeCloseTo(l.subscribers.meanMinor! - l.oneOff.meanMinor!, 6);
    expect(d.lowMinor).toBeLessThan(d.estimateMinor);
    expect(d.highMinor).toBeGreaterThan(d.estimateMinor);
    expect(d.method).toBe('skewness-corrected');
    expect(l.verdict).toMatch(/not what subscribing causes/);
    console.log(`${engine}: ${l.verdict}`);
  });

  it('reports one plan', async () => {
    const res = await call(
      'GET',
      '/v1/subscriptions/report?to=2026-06&plan=tea-fortnightly&train=6&ltvMonths=6',
      {
        role: 'marketer',
      },
    );
    expect(res.status, res.text).toBe(200);
    const r = res.json as SubscriptionReport;
    const [tea] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscriptions s JOIN subscription_plans p ON p.plan_id = s.plan_id
       WHERE p.name = 'tea-fortnightly' AND s.currency = 'USD'`,
    );
    expect(r).toMatchObject({ plan: 'tea-fortnightly', subscriptions: { inScope: tea!.n } });
    expect(r.subscriptions.otherCurrencies).toEqual([{ currency: 'GBP', subscriptions: 2 }]);
    expect(r.cohorts.rows.reduce((s, c) => s + c.size, 0)).toBe(tea!.n);
    expect(r.ltv.products).toEqual(['TEA']);
    expect(r.forecastVsActual.train).toBe(6);
    expect(r.ltv.months).toBe(6);
    expect(r.months.at(-1)!.endMrrMinor).toBeLessThan(report.months.at(-1)!.endMrrMinor);
  });

  it('refuses bad input naming the field', async () => {
    const bad: [string, string][] = [
      ['from=2026-05&to=2026-03', 'from'],
      ['from=2030-01', 'from'],
      ['plan=no-such-plan', 'plan'],
      ['from=2026-13', 'from'],
      ['to=2026-6', 'to'],
      ['train=2', 'train'],
      ['ltvMonths=x', 'ltvMonths'],
      ['month=2026-01', 'month'],
    ];
    for (const [query, field] of bad) {
      const res = await call('GET', `/v1/subscriptions/report?${query}`, { role: 'analyst' });
      expect(res.status, query).toBe(400);
      expect(fieldOf(res.json), query).toBe(field);
    }
    expect((await call('GET', '/v1/subscriptions/report')).status).toBe(401);
  });

  it('is documented with its typed response', async () => {
    const res = await call('GET', '/openapi.json');
    const op = res.json.paths['/v1/subscriptions/report'].get;
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SubscriptionReport',
    );
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'from',
      'ltvMonths',
      'plan',
      'to',
      'train',
    ]);
    expect(Object.keys(res.json.components.schemas.SubscriptionReport.properties)).toContain(
      'forecastVsActual',
    );
    expect(subscriptionReportMarkdown(report)).toMatch(/## sBG forecast vs actual \(fitted on months 1–12\)/);
  });
});

/**
 * Involuntary churn: a subscription whose every payment attempt fails is cancelled by dunning (reason
 * payment_failed): the report counts it as a cancellation — in the cancel reasons with the payment
 * system's reason as the note, in the survival of its cohort, in the churned MRR.
 */
describe.each(testEngines())('a cancellation by dunning on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const clock = new ManualClock('2023-12-01T00:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose?.());

  it('counts it as cancelled, reason payment_failed', async () => {
    const ctx = { ...testContext(db, clock), clock };
    await generateSubscriptionHistory(ctx, {
      seed: 5,
      months: 14,
      early: { months: 2, perMonth: 10 },
      laterPerMonth: 2,
      oneOffBuyers: 10,
    });
    const before = await subscriptionReport(ctx, {});
    // The latest first attempt of an active subscription in USD; fail it and its four retries.
    const [due] = await db.query<{
      subscription_id: number;
      order_external_id: string;
      due_at: Date;
      started_at: Date;
    }>(
      `SELECT p.subscription_id, p.order_external_id, p.due_at, s.started_at FROM subscription_payments p
       JOIN subscriptions s ON s.subscription_id = p.subscription_id
       WHERE s.status = 'active' AND s.currency = 'USD' AND p.attempt = 1
       ORDER BY p.due_at DESC, p.subscription_id LIMIT 1`,
    );
    let at = Math.max(clock.now().getTime(), due!.due_at.getTime());
    for (let attempt = 1; attempt <= 5; attempt++) {
      clock.set(new Date(at));
      const out = await recordPayment(ctx, {
        body: { key: `${due!.order_external_id}-${attempt}`, result: 'failed', reason: 'card declined' },
        by: null,
      });
      at = new Date(out.next?.dueAt ?? at).getTime() + 60_000;
    }
    const [sub] = await db.query<{ status: string; cancel_reason: string }>(
      `SELECT status, cancel_reason FROM subscriptions WHERE subscription_id = $1`,
      [due!.subscription_id],
    );
    expect(sub).toEqual({ status: 'cancelled', cancel_reason: 'payment_failed' });
    const after = await subscriptionReport(ctx, {});
    expect(after.cancelReasons.total).toBe(before.cancelReasons.total + 1);
    expect(after.cancelReasons.reasons.find((r) => r.reason === 'payment_failed')).toMatchObject({
      count: 1,
      notes: [{ note: 'card declined' }],
    });
    // Two months on, its cohort is observed past the cancellation: a direct count with and without it.
    clock.set(new Date(clock.now().getTime() + 62 * 86_400_000));
    const later = await subscriptionReport(ctx, {});
    const cohort = monthOf(due!.started_at.getTime());
    const members = await db.query<{
      subscription_id: number;
      started_at: Date;
      cancelled: Date | null;
      dunned: Date | null;
    }>(
      `SELECT s.subscription_id, s.started_at,
         (SELECT MIN(e.happened_at) FROM subscription_events e
          WHERE e.subscription_id = s.subscription_id AND e.type = 'cancelled') AS cancelled,
         (SELECT MIN(e.happened_at) FROM subscription_events e
          WHERE e.subscription_id = s.subscription_id AND e.type = 'dunning_exhausted' AND e.mrr_minor = 0) AS dunned
       FROM subscriptions s WHERE s.currency = 'USD'`,
    );
    const inCohort = members.filter((m) => monthOf(m.started_at.getTime()) === cohort);
    const asOf = clock.now().getTime();
    const count = (withDunning: boolean) => {
      const alive = [inCohort.length];
      for (let t = 1; inCohort.every((m) => plusMonths(m.started_at.getTime(), t) <= asOf); t++)
        alive.push(
          inCohort.filter((m) => {
            const ends = [m.cancelled, withDunning ? m.dunned : null].filter((x): x is Date => x !== null);
            const end = ends.length ? Math.min(...ends.map((x) => x.getTime())) : null;
            return end === null || end >= plusMonths(m.started_at.getTime(), t);
          }).length,
        );
      return alive;
    };
    const alive = later.cohorts.rows.find((c) => c.cohort === cohort)!.alive;
    expect(alive).toEqual(count(true));
    expect(alive.at(-1)).toBe(count(false).at(-1)! - 1);
    const last = later.months.at(-1)!;
    const [live] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM subscriptions WHERE status IN ('active', 'past_due') AND currency = 'USD'`,
    );
    expect(last.activeAtEnd).toBe(live!.n);
    console.log(`${engine}: a subscription cancelled by dunning is counted (payment_failed)`);
  });
});

describe('retain subscriptions report', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'retain-subs-report-'));
    const db = await openStore({ db: join(dir, 'store.duckdb') });
    const clock = new ManualClock('2023-12-01T00:00:00Z');
    await generateSubscriptionHistory(
      { ...testContext(db, clock), clock },
      { seed: 3, months: 14, early: { months: 2, perMonth: 10 }, laterPerMonth: 2, oneOffBuyers: 20 },
    );
    await db.close();
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the report as JSON with --json', async () => {
    const run = jsonCli(join(dir, 'store.duckdb'), { quiet: true });
    const r = (await run(
      'subscriptions',
      'report',
      '--to',
      '2025-02',
      '--plan',
      'coffee-monthly',
      '--train',
      '6',
    )) as SubscriptionReport;
    expect(r).toMatchObject({
      definition: 'subscriptions.report',
      from: '2024-01',
      to: '2025-02',
      plan: 'coffee-monthly',
    });
    expect(r.months).toHaveLength(14);
    expect(r.forecastVsActual.train).toBe(6);
    await expect(run('subscriptions', 'report', '--from', '2025-03', '--to', '2025-01')).rejects.toThrow(
      /from/,
    );
  });
});
