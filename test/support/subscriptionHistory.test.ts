import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kit/clock.js';
import type { ModuleContext } from '../../src/kit/context.js';
import { subscriptionReport } from '../../src/modules/subscriptions/reports.js';
import type { Database } from '../../src/storage/port.js';
import { testContext } from './context.js';
import { freshDatabase, testEngines } from './storage.js';
import {
  planSubscriptionHistory,
  writeSubscriptionHistory,
  type HistoryPlan,
} from './subscriptionHistory.js';

/**
 * The generator's SQL writer writes what the service would: one small plan (every kind of action
 * made likely) written through the real service and its renewal job in one store and in bulk in
 * another gives the same subscriptions, history, recurring-order keys, orders and refunds, row by row,
 * and the same report.
 */
describe.each(testEngines())('subscription history generator on %s', (engine) => {
  const plan: HistoryPlan = planSubscriptionHistory({
    seed: 7,
    months: 14,
    early: { months: 2, perMonth: 5 },
    laterPerMonth: 1,
    oneOffBuyers: 8,
    otherCurrency: 1,
    churn: { alpha: 1, beta: 2 },
    rates: { quantity: 0.4, swap: 0.4, pause: 0.4, reactivate: 0.6 },
  });
  const stores: {
    db: Database;
    dispose: () => Promise<void>;
    ctx: ModuleContext & { clock: ManualClock };
  }[] = [];

  beforeAll(async () => {
    for (const via of ['service', 'sql'] as const) {
      const { db, dispose } = await freshDatabase(engine);
      const clock = new ManualClock(new Date(plan.startMs - 2 * 86_400_000));
      const ctx = { ...testContext(db, clock), clock };
      stores.push({ db, dispose, ctx });
      await writeSubscriptionHistory(ctx, plan, { via });
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of stores) await s.dispose();
  });

  it('plans every kind of action', () => {
    const kinds = new Set(plan.subscribers.flatMap((s) => s.actions.map((a) => a.body.action)));
    expect([...kinds].sort()).toEqual(['cancel', 'pause', 'quantity', 'reactivate', 'resume', 'swap']);
  });

  it('writes the same rows through the service and in bulk', async () => {
    const queries = {
      subscriptions: `SELECT * FROM subscriptions ORDER BY subscription_id`,
      events: `SELECT subscription_id, customer_id, happened_at, type, cycle, detail, mrr_minor, changed_by
        FROM subscription_events ORDER BY subscription_id, happened_at, event_id`,
      keys: `SELECT * FROM subscription_orders ORDER BY subscription_id, cycle`,
      payments: `SELECT * FROM subscription_payments ORDER BY subscription_id, cycle, attempt`,
      orders: `SELECT external_id, customer_id, ordered_at, currency, subtotal_minor, total_minor, channel, source, status,
        line_count, lines_digest FROM orders ORDER BY external_id`,
      refunds: `SELECT r.external_id, o.external_id AS order_id, r.amount_minor, r.refunded_at FROM refunds r
        LEFT JOIN orders o ON o.order_id = r.order_id ORDER BY r.external_id`,
    };
    const [service, sql] = stores;
    for (const [name, q] of Object.entries(queries)) {
      const a = await service!.db.query(q);
      const b = await sql!.db.query(q);
      expect(a.length, name).toBeGreaterThan(0);
      expect(b, name).toEqual(a);
    }
    const [counts] = await sql!.db.query<{ orders: number; events: number }>(
      `SELECT (SELECT COUNT(*) FROM subscription_orders) AS orders, (SELECT COUNT(*) FROM subscription_events) AS events`,
    );
    console.log(
      `${engine}: ${plan.subscribers.length} subscribers, ${counts!.events} history entries, ${counts!.orders} recurring orders — the same both ways`,
    );
  });

  it('gives the same report either way', async () => {
    const [service, sql] = stores;
    const strip = ({ generatedAt: _g, ...r }: { generatedAt: string }) => r;
    const a = await subscriptionReport(service!.ctx, {});
    const b = await subscriptionReport(sql!.ctx, {});
    expect(strip(b)).toEqual(strip(a));
    expect(a.subscriptions.otherCurrencies).toEqual([{ currency: 'GBP', subscriptions: 1 }]);
  });
});
