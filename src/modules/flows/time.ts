import { calendarOf } from '../../analytics/calendar.js';
import type { ModuleContext } from '../../kit/context.js';
import { DAY_MS } from '../../shared/time.js';
import { getStore } from '../settings/service.js';
import { ADVANCE_JOB, definitionOf } from './definitions.js';
import { unitHash } from './enter.js';
import * as repo from './repository.js';
import type { FlowDefinition, TimeCondition } from './schema.js';
import * as trepo from './timeRepository.js';

/**
 * Time triggers (docs/flows.md#time-triggers): the hourly sweep `flows.time` enters each customer a
 * flow's time condition holds for, once per occasion — a birthday once a year, a lapse once per last
 * order, expiring points once per expiry day, a product due again once per last purchase of it. The
 * conditions that hold for a while (a predicted order passed, a product due) are looked for over the
 * last week only: a flow activated today does not wake customers whose moment passed a year ago.
 */

export const TIME_JOB = 'flows.time';
const LOOKBACK_DAYS = 7;

/** One customer a time condition holds for now, the occasion, and what the run's templates may show. */
export interface TimeCandidate {
  customerId: number;
  externalId: string;
  occasion: string;
  context: Record<string, unknown>;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Who the condition holds for at `now` (each customer's local calendar for birthdays). */
export async function timeCandidates(
  ctx: ModuleContext,
  cond: TimeCondition,
  now: Date,
): Promise<TimeCandidate[]> {
  const t = now.getTime();
  switch (cond.kind) {
    case 'birthday': {
      const store = await getStore(ctx);
      // Every zone's local date is within a day of UTC's: the month-days that may be due somewhere.
      const monthDays = new Set<number>();
      for (const off of [-1, 0, 1]) {
        const d = new Date(t + (off + cond.daysBefore) * DAY_MS);
        monthDays.add((d.getUTCMonth() + 1) * 100 + d.getUTCDate());
      }
      if (monthDays.has(228)) monthDays.add(229);
      const out: TimeCandidate[] = [];
      for (const r of await trepo.birthdaysOn(ctx.db, [...monthDays])) {
        const cal = calendarOf(r.time_zone ?? store.timeZone);
        const target = new Date((cal.localDayOfMs(t) + cond.daysBefore) * DAY_MS);
        const y = target.getUTCFullYear();
        const m = target.getUTCMonth() + 1;
        const d = target.getUTCDate();
        // Born on 29 February: on the 28th in other years.
        const due =
          (r.month === m && r.day === d) ||
          (r.month === 2 && r.day === 29 && m === 2 && d === 28 && !isLeap(y));
        if (due)
          out.push({
            customerId: r.customer_id,
            externalId: r.external_id,
            occasion: `birthday:${y}`,
            context: { birthday_on: isoDay(target), days_before: cond.daysBefore },
          });
      }
      return out;
    }
    case 'nextOrderPassed': {
      const to = new Date(t - cond.graceDays * DAY_MS);
      const rows = await trepo.nextOrderPassed(ctx.db, new Date(to.getTime() - LOOKBACK_DAYS * DAY_MS), to);
      return rows.map((r) => ({
        customerId: r.customer_id,
        externalId: r.external_id,
        occasion: `next-order:${r.last_order_at.toISOString()}`,
        context: {
          last_order_at: r.last_order_at.toISOString(),
          next_order_at: r.next_order_at?.toISOString() ?? null,
        },
      }));
    }
    case 'pAliveBelow': {
      const rows = await trepo.pAliveBelow(
        ctx.db,
        cond.threshold,
        new Date(t - cond.maxDaysSinceOrder * DAY_MS),
      );
      return rows.map((r) => ({
        customerId: r.customer_id,
        externalId: r.external_id,
        occasion: `p-alive:${r.last_order_at.toISOString()}`,
        context: { p_alive: r.p_alive, last_order_at: r.last_order_at.toISOString() },
      }));
    }
    case 'pointsExpire': {
      const rows = await trepo.pointsExpiring(ctx.db, now, new Date(t + cond.withinDays * DAY_MS));
      return rows.map((r) => ({
        customerId: r.customer_id,
        externalId: r.external_id,
        occasion: `points:${isoDay(r.first_expiry)}`,
        context: {
          points: Number(r.points),
          expires_at: r.first_expiry.toISOString(),
          balance: Number(r.balance ?? 0),
        },
      }));
    }
    case 'replenishment': {
      const rows = await trepo.replenishmentDue(ctx.db, {
        minRepeats: cond.minRepeats,
        leadDays: cond.daysBefore,
        from: t / 1000 - LOOKBACK_DAYS * 86_400,
        to: t / 1000,
      });
      return rows.map((r) => ({
        customerId: r.customer_id,
        externalId: r.external_id,
        occasion: `replenish:${r.sku}:${r.last_at.toISOString()}`,
        context: {
          product: { sku: r.sku, title: r.title ?? r.sku },
          last_bought_at: r.last_at.toISOString(),
          interval_days: Math.round(r.median_days),
          repeats: r.repeats,
        },
      }));
    }
  }
}

export interface TimeEntries {
  enter: (TimeCandidate & { occurrence: string; holdout: boolean })[];
  excluded: { inFlight: number; reentry: number; entered: number };
}

/**
 * The candidates the flow's rules let in: never twice at once; the re-entry rule (`once`: never again;
 * `after`: not within N days of the last entry); once per occasion; one entry per customer per sweep.
 */
export async function admit(
  ctx: ModuleContext,
  flowId: number,
  def: FlowDefinition,
  candidates: readonly TimeCandidate[],
  now: Date,
): Promise<TimeEntries> {
  const entries = new Map((await trepo.entriesOf(ctx.db, flowId)).map((e) => [e.customer_id, e]));
  const r = def.reentry;
  const occurrenceOf = (c: TimeCandidate) => (r.kind === 'once' ? 'once' : c.occasion);
  const seen = new Set<string>();
  for (let i = 0; i < candidates.length; i += 500) {
    const keys = candidates.slice(i, i + 500).map((c) => `${c.customerId}/${occurrenceOf(c)}`);
    for (const k of await trepo.occurrencesOf(ctx.db, flowId, keys)) seen.add(k);
  }
  const out: TimeEntries = { enter: [], excluded: { inFlight: 0, reentry: 0, entered: 0 } };
  const taken = new Set<number>();
  for (const c of candidates) {
    if (taken.has(c.customerId)) continue;
    const e = entries.get(c.customerId);
    const occurrence = occurrenceOf(c);
    if (e && e.in_flight > 0) out.excluded.inFlight++;
    else if (seen.has(`${c.customerId}/${occurrence}`)) out.excluded.entered++;
    else if (e && r.kind === 'once') out.excluded.reentry++;
    else if (e && r.kind === 'after' && now.getTime() - e.last_entry.getTime() < r.days * DAY_MS)
      out.excluded.reentry++;
    else {
      taken.add(c.customerId);
      out.enter.push({
        ...c,
        occurrence,
        holdout: unitHash(flowId, c.customerId, occurrence) < def.holdoutShare,
      });
    }
  }
  return out;
}

export interface TimeSweepResult {
  flows: number;
  candidates: number;
  entered: number;
  holdout: number;
}

/**
 * `flows.time` (hourly, and on activation), `retain flows sweep-time`: enters the customers each
 * active flow's time condition holds for — in transactions of 500 entries, each entry keyed by flow,
 * customer and occasion (a sweep run twice, or two at once, enters nobody twice).
 */
export async function sweepTimeTriggers(ctx: ModuleContext): Promise<TimeSweepResult> {
  const now = ctx.clock.now();
  const result: TimeSweepResult = { flows: 0, candidates: 0, entered: 0, holdout: 0 };
  for (const f of await repo.activeFlows(ctx.db)) {
    const def = await definitionOf(ctx.db, f.flow_id, f.version);
    if (!('time' in def.trigger)) continue;
    result.flows++;
    const kind = def.trigger.time.kind;
    const candidates = await timeCandidates(ctx, def.trigger.time, now);
    result.candidates += candidates.length;
    const { enter } = await admit(ctx, f.flow_id, def, candidates, now);
    for (let i = 0; i < enter.length; i += 500) {
      const batch = enter.slice(i, i + 500);
      await ctx.db.transaction(async (tx) => {
        for (const c of batch) {
          const runId = await repo.insertRun(tx, {
            flowId: f.flow_id,
            version: f.version,
            customerId: c.customerId,
            occurrence: c.occurrence,
            status: c.holdout ? 'holdout' : 'active',
            step: c.holdout ? null : def.steps[0]!.id,
            now,
          });
          if (runId === null) continue;
          await repo.insertRunContext(
            tx,
            runId,
            c.customerId,
            JSON.stringify({ trigger: kind, ...c.context }),
          );
          if (c.holdout) result.holdout++;
          else result.entered++;
        }
      });
    }
  }
  if (result.entered > 0)
    await ctx.jobs.enqueue(ADVANCE_JOB, {}, { idempotencyKey: `${ADVANCE_JOB}:time:${now.toISOString()}` });
  return result;
}
