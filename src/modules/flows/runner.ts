import { calendarOf } from '../../analytics/calendar.js';
import type { ModuleContext } from '../../kit/context.js';
import { DAY_MS } from '../../shared/time.js';
import { notifyDelivery, queueSendTo, templateForSend } from '../messaging/service.js';
import { matchesRule } from '../segments/service.js';
import { getStore } from '../settings/service.js';
import { definitionOf, sourceOf } from './definitions.js';
import * as repo from './repository.js';
import type { Step } from './schema.js';

/** Flows (docs/flows.md): the runner taking each due run through its steps. */

/** When a step that waits is over, from the moment it became due (`zone`: the customer's). */
function waitEnd(step: Step, from: Date, zone: string): Date {
  if ('wait' in step) {
    const d = step.wait;
    return new Date(
      from.getTime() + ((d.days ?? 0) * 1440 + (d.hours ?? 0) * 60 + (d.minutes ?? 0)) * 60_000,
    );
  }
  if ('waitUntil' in step) {
    const cal = calendarOf(zone);
    const [h, m] = step.waitUntil.localTime.split(':').map(Number) as [number, number];
    const today = Math.floor((from.getTime() + cal.offsetMs(from.getTime())) / DAY_MS);
    for (let day = today; ; day++) {
      const at = cal.instantOfWall(day * DAY_MS + (h * 60 + m) * 60_000);
      if (at > from.getTime()) return new Date(at);
    }
  }
  return from;
}

export interface AdvanceCounts {
  runs: number;
  sent: number;
  goal: number;
  completed: number;
}

/**
 * `flows.advance` (every minute, and when someone enters), `retain flows advance`: takes each due run
 * through its steps until it waits or ends — one transaction per run.
 */
export async function advanceFlows(
  ctx: ModuleContext,
  opts: { limit?: number } = {},
): Promise<AdvanceCounts> {
  const counts: AdvanceCounts = { runs: 0, sent: 0, goal: 0, completed: 0 };
  for (;;) {
    const due = await repo.dueRuns(ctx.db, ctx.clock.now(), opts.limit ?? 500);
    if (due.length === 0) break;
    const flows = new Map((await repo.listFlows(ctx.db)).map((f) => [f.flow_id, f]));
    let progressed = 0;
    for (const run of due) {
      const r = await advanceRun(ctx, flows.get(run.flow_id)!, run);
      if (r === null) continue;
      progressed++;
      counts.runs++;
      counts.sent += r.sent;
      if (r.status === 'goal') counts.goal++;
      if (r.status === 'completed' || r.status === 'exited') counts.completed++;
    }
    if (progressed === 0 || opts.limit !== undefined) break;
  }
  if (counts.sent > 0) notifyDelivery(ctx);
  return counts;
}

class Lost extends Error {}

async function advanceRun(ctx: ModuleContext, flow: repo.FlowRow, run: repo.RunRow) {
  const def = await definitionOf(ctx.db, run.flow_id, run.version);
  const now = ctx.clock.now();
  const at = run.next_at ?? now;
  // Read before the run's transaction (one connection on DuckDB): the templates, the customer's zone,
  // and the branches' answers at this moment (the steps of one pass happen at one moment).
  const templates = new Map<string, Awaited<ReturnType<typeof templateForSend>>>();
  const branches = new Map<string, boolean>();
  for (const s of def.steps) {
    if ('send' in s && !templates.has(s.send.template))
      templates.set(s.send.template, await templateForSend(ctx, s.send.template));
    if ('branch' in s) branches.set(s.id, await matchesRule(ctx, s.branch.if, run.customer_id));
  }
  const zone = def.steps.some((s) => 'waitUntil' in s)
    ? ((await repo.timeZoneOf(ctx.db, run.customer_id)) ?? (await getStore(ctx)).timeZone)
    : 'UTC';
  try {
    return await ctx.db.transaction(async (tx) => {
      let sent = 0;
      let index = def.steps.findIndex((s) => s.id === run.step);
      let status: repo.RunRow['status'] = 'active';
      let reason: string | null = null;
      let nextAt: Date | null = null;
      let stepId: string | null = run.step;
      const take = async (step: Step, outcome: string) => {
        if (
          !(await repo.takeStep(tx, {
            runId: run.run_id,
            step: step.id,
            customerId: run.customer_id,
            outcome,
            now,
          }))
        )
          throw new Lost();
      };
      for (;;) {
        const step = def.steps[index];
        if (!step) {
          status = 'completed';
          stepId = null;
          break;
        }
        stepId = step.id;
        if ('wait' in step || 'waitUntil' in step) {
          const until = waitEnd(step, at, zone);
          // Arriving at a wait: taken now, due at its end; the step after it runs then.
          await take(step, `until ${until.toISOString()}`);
          nextAt = until;
          stepId = def.steps[index + 1]?.id ?? null;
          if (stepId === null) {
            status = 'completed';
            nextAt = null;
          }
          break;
        }
        if ('send' in step) {
          if (
            def.goal &&
            (await repo.goalSince(tx, {
              customerId: run.customer_id,
              type: def.goal.event,
              label: def.goal.eventType ?? def.goal.segment ?? null,
              since: run.entered_at,
            }))
          ) {
            status = 'goal';
            reason = `${def.goal.event} before ${step.id}`;
            stepId = step.id;
            break;
          }
          const queued = await queueSendTo(ctx, tx, {
            template: templates.get(step.send.template)!,
            source: sourceOf(flow.name),
            step: `v${run.version}:${step.id}`,
            occurrence: `run-${run.run_id}`,
            recipients: [{ customerId: run.customer_id }],
          });
          await take(step, queued > 0 ? 'queued' : 'already queued');
          sent += queued;
          index++;
          continue;
        }
        if ('branch' in step) {
          const yes = branches.get(step.id)!;
          const to = yes ? step.branch.then : step.branch.else;
          await take(step, `${yes ? 'then' : 'else'} → ${to}`);
          if (to === 'exit') {
            status = 'exited';
            reason = `branch ${step.id}`;
            stepId = null;
            break;
          }
          index = def.steps.findIndex((s) => s.id === to);
          continue;
        }
        // exit
        await take(step, 'exit');
        status = 'exited';
        reason = `step ${step.id}`;
        stepId = null;
        break;
      }
      if (
        !(await repo.moveRun(tx, {
          runId: run.run_id,
          fromStep: run.step,
          step: stepId,
          nextAt: status === 'active' ? nextAt : null,
          status,
          reason,
          now,
        }))
      )
        throw new Lost();
      return { sent, status };
    });
  } catch (err) {
    // Another runner took this run first: its transaction did the steps; this one wrote nothing.
    if (err instanceof Lost) return null;
    throw err;
  }
}
