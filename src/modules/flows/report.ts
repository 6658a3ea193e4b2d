import { compareMeans, verdict, type MeanComparison } from '../../analytics/experiments/index.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { minorDigits } from '../../shared/money.js';
import { DAY_MS } from '../../shared/time.js';
import { formatMoney } from '../reports/digestFormat.js';
import { getStore } from '../settings/service.js';
import * as repo from './repository.js';
import { sourceOf } from './definitions.js';

/**
 * A flow's figures (`retain flows report`, `GET /v1/flows/{name}/report`): entries by how they stand,
 * messages by step and status, conversions (the goal reached) of the treated and of the holdout, and the
 * **incremental** revenue per entrant — the treated entrants' net revenue in the `days` after entering
 * minus the holdout's, with its 95 % interval (the campaigns' statistics), over the runs whose window is
 * over.
 */
export interface FlowReport {
  flow: string;
  currency: string | null;
  days: number;
  entered: { treated: number; holdout: number };
  runs: Record<string, number>;
  messages: { step: string; status: string; n: number }[];
  conversions: { treated: number; holdout: number; treatedRate: number | null; holdoutRate: number | null };
  /** The codes the flow's send steps generated, and the orders (in the store currency) that used one. */
  codes: { issued: number; orders: number; revenueMinor: number };
  revenue: {
    /** Runs whose `days` are over: the comparison's. */
    runs: { treated: number; holdout: number };
    perEntrantMinor: { treated: number | null; holdout: number | null };
    /** Net revenue of all entrants in their `days` after entering so far (windows not over included). */
    totalMinor: { treated: number; holdout: number };
    incremental: MeanComparison | null;
    verdict: string | null;
  };
  notes: string[];
}

export async function flowReport(
  ctx: ModuleContext,
  { name, days = 30 }: { name: string; days?: number },
): Promise<FlowReport> {
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw new AppError('validation', `days must be a whole number from 1 to 365, got ${days}`, {
      where: { field: 'days' },
    });
  const f = await repo.flowByName(ctx.db, name);
  if (!f) throw new AppError('not_found', `no flow named '${name}'`, { where: { field: 'name' } });
  const store = await getStore(ctx);
  const currency = store.currency;
  const money = (m: number) => formatMoney(m, currency ? minorDigits(currency) : 2, currency);
  const now = ctx.clock.now();
  const all = await repo.runRevenue(ctx.db, {
    flowId: f.flow_id,
    currency: currency ?? '',
    days,
    from: new Date(0),
    to: now,
  });
  const runs: Record<string, number> = {};
  for (const r of all) runs[r.status] = (runs[r.status] ?? 0) + 1;
  const treated = all.filter((r) => !r.holdout);
  const holdout = all.filter((r) => r.holdout);
  const goal = (xs: typeof all) => xs.filter((r) => r.status === 'goal').length;
  // The comparison: runs whose window is over (entered at least `days` ago).
  const cut = now.getTime() - days * DAY_MS;
  const over = await repo.runRevenue(ctx.db, {
    flowId: f.flow_id,
    currency: currency ?? '',
    days,
    from: new Date(0),
    to: new Date(cut),
  });
  const t = over.filter((r) => !r.holdout).map((r) => r.revenue);
  const h = over.filter((r) => r.holdout).map((r) => r.revenue);
  const codeOrders = await repo.codeOrders(ctx.db, f.flow_id);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  const notes: string[] = [];
  let incremental: MeanComparison | null = null;
  let sentence: string | null = null;
  if (t.length >= 2 && h.length >= 2) {
    incremental = compareMeans(h, t);
    sentence = verdict({
      interval: incremental.difference,
      variantName: 'The flow',
      variantShortName: 'the flow',
      formatMoney: money,
    });
  } else
    notes.push(
      holdout.length === 0
        ? 'no holdout: set holdoutShare to measure what the flow adds'
        : `fewer than 2 entrants (treated or holdout) whose ${days} days are over: no comparison yet`,
    );
  return {
    flow: f.name,
    currency,
    days,
    entered: { treated: treated.length, holdout: holdout.length },
    runs,
    messages: await repo.sendsOf(ctx.db, sourceOf(f.name)),
    conversions: {
      treated: goal(treated),
      holdout: goal(holdout),
      treatedRate: treated.length ? goal(treated) / treated.length : null,
      holdoutRate: holdout.length ? goal(holdout) / holdout.length : null,
    },
    codes: {
      issued: await repo.codeCount(ctx.db, f.flow_id),
      orders: codeOrders.reduce((n, r) => n + r.orders, 0),
      revenueMinor: Number(codeOrders.find((r) => r.currency === currency)?.total ?? 0),
    },
    revenue: {
      runs: { treated: t.length, holdout: h.length },
      perEntrantMinor: { treated: mean(t), holdout: mean(h) },
      totalMinor: {
        treated: treated.reduce((n, r) => n + Number(r.revenue), 0),
        holdout: holdout.reduce((n, r) => n + Number(r.revenue), 0),
      },
      incremental,
      verdict: sentence,
    },
    notes,
  };
}
