import { calendarOf } from '../../analytics/calendar.js';
import type { ModuleContext } from '../../kit/context.js';
import { DAY_MS } from '../../shared/time.js';
import { notifyDelivery, queueSendTo, templateForSend } from '../messaging/service.js';
import { changeTagsIn, matchesRule } from '../segments/service.js';
import { currentProgram, grantPointsIn } from '../loyalty/service.js';
import { customerEventsSince, eventById } from '../outbox/repository.js';
import { inviteIn, surveyForSend, type SurveySender } from '../surveys/service.js';
import { createTaskIn } from '../tasks/service.js';
import { formatMoney } from '../reports/digestFormat.js';
import { newDiscountCode } from '../../shared/discountCode.js';
import { minorDigits } from '../../shared/money.js';
import { AppError } from '../../shared/errors.js';
import type { DomainEvent } from '../../kit/events.js';
import type { Queryable } from '../../storage/port.js';
import { matches } from './enter.js';
import { getStore } from '../settings/service.js';
import { definitionOf, sourceOf } from './definitions.js';
import * as repo from './repository.js';
import type { EventMatch, Step } from './schema.js';

/** Flows (docs/flows.md): the runner taking each due run through its steps. */

/**
 * How long a run waits at a send or survey step that cannot be taken now (its template or survey is
 * refused: no publicUrl, a survey archived since the flow was saved) before it is tried again.
 */
export const RETRY_MS = 3_600_000;

/** What a send or survey needs, or why it cannot be had now (refusals of the store's setup). */
async function unlessRefused<T>(p: Promise<T>): Promise<T | AppError> {
  return p.catch((err: unknown) => {
    if (err instanceof AppError && ['not_found', 'conflict', 'validation'].includes(err.code)) return err;
    throw err;
  });
}

/** When a step that waits is over, from the moment it became due (`zone`: the customer's). */
function waitEnd(step: Step, from: Date, zone: string): Date {
  if ('wait' in step) {
    // Days on the customer's calendar (10:00 stays 10:00 across a daylight-saving change); hours and
    // minutes as elapsed time.
    const d = step.wait;
    let t = from.getTime();
    if (d.days) {
      const cal = calendarOf(zone);
      t = cal.instantOfWall(t + cal.offsetMs(t) + d.days * DAY_MS);
    }
    return new Date(t + ((d.hours ?? 0) * 60 + (d.minutes ?? 0)) * 60_000);
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
  /** Runs left waiting at a send or survey that cannot be taken now (tried again in an hour). */
  postponed: number;
  /** Runs were still due when the time budget ran out. */
  more: boolean;
}

/**
 * `flows.advance` (every minute, and when someone enters), `retain flows advance`: takes each due run
 * through its steps until it waits or ends — one transaction per run. With `budgetMs` it stops after
 * the run in hand once that time has passed and says whether runs are still due (`more`): a job then
 * leaves its slot to the deliverer and comes back, instead of holding it while entries keep arriving.
 */
export async function advanceFlows(
  ctx: ModuleContext,
  opts: { limit?: number; budgetMs?: number } = {},
): Promise<AdvanceCounts> {
  const counts: AdvanceCounts = { runs: 0, sent: 0, goal: 0, completed: 0, postponed: 0, more: false };
  const reasons = new Set<string>();
  const started = performance.now();
  const over = () => opts.budgetMs !== undefined && performance.now() - started >= opts.budgetMs;
  outer: for (;;) {
    const due = await repo.dueRuns(ctx.db, ctx.clock.now(), opts.limit ?? 500);
    if (due.length === 0) break;
    const flows = new Map((await repo.listFlows(ctx.db)).map((f) => [f.flow_id, f]));
    let progressed = 0;
    for (const run of due) {
      if (over()) {
        counts.more = true;
        break outer;
      }
      const r = await advanceRun(ctx, flows.get(run.flow_id)!, run);
      if (r === null) continue;
      progressed++;
      counts.runs++;
      counts.sent += r.sent;
      if (r.status === 'goal') counts.goal++;
      if (r.status === 'completed' || r.status === 'exited') counts.completed++;
      if (r.postponed !== null) {
        counts.postponed++;
        reasons.add(r.postponed);
      }
    }
    if (progressed === 0 || opts.limit !== undefined) break;
  }
  if (counts.sent > 0) notifyDelivery(ctx);
  if (counts.postponed > 0)
    ctx.log.warn(
      { postponed: counts.postponed, reasons: [...reasons].slice(0, 10) },
      'flow runs wait at a step that cannot be taken now: tried again in an hour',
    );
  return counts;
}

class Lost extends Error {}

/** What a run's templates see as `flow`: the flow, and what entered the run (its event, or time condition). */
async function flowVariables(
  ctx: ModuleContext,
  flow: repo.FlowRow,
  run: repo.RunRow,
): Promise<Record<string, unknown>> {
  const vars: Record<string, unknown> = {
    name: flow.name,
    version: run.version,
    entered_at: run.entered_at.toISOString(),
  };
  if (run.occurrence.startsWith('event:')) {
    const e = await eventById(ctx.db, Number(run.occurrence.slice('event:'.length)));
    if (e) vars.event = { type: e.type, occurred_at: e.occurred_at, ...e.payload };
  } else {
    const context = await repo.runContext(ctx.db, run.run_id);
    if (context !== null) Object.assign(vars, JSON.parse(context) as Record<string, unknown>);
  }
  return vars;
}

/** Whether the customer had an event matching `m` at or after `since` (the goal's re-check, a waitFor's). */
async function happened(
  tx: Queryable,
  customerId: number,
  m: EventMatch,
  since: Date,
): Promise<DomainEvent | null> {
  const events = await customerEventsSince(tx, { customerId, type: m.event, since, limit: 1000 });
  return events.find((e) => matches(m, e)) ?? null;
}

/** What one pass of a run did (the closures below set `status` and `postponed`: typed here, not narrowed). */
interface RunPass {
  sent: number;
  status: repo.RunRow['status'];
  /** Why the run waits at a step it could not take now (null: it did not). */
  postponed: string | null;
}

async function advanceRun(ctx: ModuleContext, flow: repo.FlowRow, run: repo.RunRow): Promise<RunPass | null> {
  const def = await definitionOf(ctx.db, run.flow_id, run.version);
  const now = ctx.clock.now();
  const at = run.next_at ?? now;
  // Read before the run's transaction (one connection on DuckDB): the templates, the surveys, the
  // customer, the store, the programme, what entered the run, and the branches' answers at this moment
  // (the steps of one pass happen at one moment). A template or survey refused now (no publicUrl, a
  // survey archived since the flow was saved) is kept as its error: a run reaching that step waits there
  // and tries again in an hour, with the reason on the run (below); the other runs go on.
  const templates = new Map<string, Awaited<ReturnType<typeof templateForSend>> | AppError>();
  const surveys = new Map<string, SurveySender | AppError>();
  const branches = new Map<string, boolean>();
  for (const s of def.steps) {
    if ('send' in s && !templates.has(s.send.template))
      templates.set(s.send.template, await unlessRefused(templateForSend(ctx, s.send.template)));
    if ('survey' in s && !surveys.has(s.survey.name))
      surveys.set(s.survey.name, await unlessRefused(surveyForSend(ctx, s.survey.name)));
    if ('branch' in s) branches.set(s.id, await matchesRule(ctx, s.branch.if, run.customer_id));
  }
  const store = await getStore(ctx);
  const who = await repo.customerOf(ctx.db, run.customer_id);
  const zone = who?.time_zone ?? store.timeZone;
  const program = def.steps.some((s) => 'points' in s) ? await currentProgram(ctx) : null;
  // Sends give templates `flow`; a survey takes the order of the event that entered the run from it.
  const sends = def.steps.some((s) => 'send' in s || 'survey' in s);
  const vars = sends ? await flowVariables(ctx, flow, run) : {};
  const event = vars.event as Record<string, unknown> | undefined;
  const orderId = typeof event?.order_id === 'number' ? event.order_id : null;
  try {
    return await ctx.db.transaction(async (tx): Promise<RunPass> => {
      let sent = 0;
      let index = def.steps.findIndex((s) => s.id === run.step);
      let status: repo.RunRow['status'] = 'active';
      let reason: string | null = null;
      let nextAt: Date | null = null;
      let stepId: string | null = run.step;
      let postponed: string | null = null;
      let resuming = true; // the first step looked at may be a waitFor the run is waiting at
      const take = async (step: Step | string, outcome: string) => {
        if (
          !(await repo.takeStep(tx, {
            runId: run.run_id,
            step: typeof step === 'string' ? step : step.id,
            customerId: run.customer_id,
            outcome,
            now,
          }))
        )
          throw new Lost();
      };
      /** Whether the goal was reached before `step` (re-checked right before a send or survey): it ends the run. */
      const goalBefore = async (step: Step) => {
        const goal = def.goal ? await happened(tx, run.customer_id, def.goal, run.entered_at) : null;
        if (!goal) return false;
        status = 'goal';
        reason = `${goal.type} before ${step.id}`;
        stepId = step.id;
        return true;
      };
      /**
       * A step that cannot be taken now (its template or survey refused): the run stays at it, due again
       * in an hour, the refusal kept as the run's reason (cleared when it moves on). Not taken: nothing is
       * recorded under (run, step), so the step is taken once it can be.
       */
      const postpone = (step: Step, err: AppError) => {
        stepId = step.id;
        nextAt = new Date(now.getTime() + RETRY_MS);
        reason = postponed = `waiting at ${step.id}: ${err.message}`;
      };
      /** Goes to `to` (a later step or exit); whether the run goes on. */
      const jump = (to: string, why: string) => {
        if (to === 'exit') {
          status = 'exited';
          reason = why;
          stepId = null;
          return false;
        }
        index = def.steps.findIndex((s) => s.id === to);
        return true;
      };
      for (;;) {
        const step = def.steps[index];
        const resumed = resuming;
        resuming = false;
        if (!step) {
          status = 'completed';
          stepId = null;
          break;
        }
        stepId = step.id;
        if ('waitFor' in step) {
          const began = resumed ? await repo.stepTakenAt(tx, run.run_id, step.id) : null;
          if (began !== null) {
            // Back at the wait: the event came since it began (on to the next step), or the time ran out.
            const hit = await happened(tx, run.customer_id, step.waitFor.event, began);
            const to = hit ? undefined : step.waitFor.onTimeout;
            await take(`${step.id}:done`, hit ? `${hit.type} #${hit.id}` : `timed out → ${to ?? 'next'}`);
            if (to === undefined) index++;
            else if (!jump(to, `timed out at ${step.id}`)) break;
            continue;
          }
          const until = waitEnd({ id: step.id, wait: step.waitFor.within }, at, zone);
          await take(step, `until ${step.waitFor.event.event} or ${until.toISOString()}`);
          nextAt = until;
          break; // due at the timeout, or woken by the event (docs/flows.md#steps)
        }
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
          if (await goalBefore(step)) break;
          const template = templates.get(step.send.template)!;
          if (template instanceof AppError) {
            postpone(step, template);
            break;
          }
          let variables: Record<string, unknown> = { flow: vars };
          if (step.send.offer) {
            const offer = step.send.offer;
            const expires = new Date(now.getTime() + offer.validDays * DAY_MS);
            let code = '';
            for (let round = 0; ; round++) {
              if (round === 5) throw new AppError('internal', 'could not generate a unique discount code');
              code = newDiscountCode(offer.prefix ?? '');
              if (
                await repo.insertCode(tx, {
                  code,
                  flowId: run.flow_id,
                  runId: run.run_id,
                  step: step.id,
                  customerId: run.customer_id,
                  kind: offer.kind,
                  value: offer.value,
                  expiresAt: expires,
                  now,
                })
              )
                break;
            }
            variables = {
              ...variables,
              discount_code: code,
              offer: {
                code,
                kind: offer.kind,
                value: offer.value,
                value_text:
                  offer.kind === 'percent'
                    ? `${offer.value}%`
                    : formatMoney(
                        offer.value,
                        store.currency ? minorDigits(store.currency) : 2,
                        store.currency,
                      ),
                expires_at: expires.toISOString(),
                expires_on: calendarOf(zone).dayOfMs(expires.getTime()),
              },
            };
          }
          const queued = await queueSendTo(ctx, tx, {
            template,
            source: sourceOf(flow.name),
            step: `v${run.version}:${step.id}`,
            occurrence: `run-${run.run_id}`,
            recipients: [{ customerId: run.customer_id, variables }],
          });
          await take(step, queued > 0 ? 'queued' : 'already queued');
          sent += queued;
          index++;
          continue;
        }
        if ('survey' in step) {
          if (await goalBefore(step)) break;
          const sender = surveys.get(step.survey.name)!;
          if (sender instanceof AppError) {
            postpone(step, sender);
            break;
          }
          // The invitation's message goes under the flow's source (`flow:<name>`, like its sends): the
          // flow's report finds its messages by that source (repository sendsOf), so the survey message
          // counts there — under the step `invite`, which inviteIn gives every invitation — and the
          // invitation records the flow as where it came from. The occurrence names the run and the step:
          // the message's key is source × `invite` × customer × occurrence, so two survey steps of one run
          // (two surveys) keep a key each; the invitation is once per survey × customer × run × step.
          const r = await inviteIn(ctx, tx, sender, {
            customerIds: [run.customer_id],
            occurrence: `run-${run.run_id}:${step.id}`,
            source: sourceOf(flow.name),
            orderId,
            now,
          });
          await take(step, r.invited > 0 ? 'invited' : r.throttled > 0 ? 'throttled' : 'already invited');
          sent += r.invited;
          index++;
          continue;
        }
        if ('tag' in step) {
          await changeTagsIn(tx, run.customer_id, step.tag, now);
          await take(
            step,
            [...step.tag.add.map((t) => `+${t}`), ...step.tag.remove.map((t) => `-${t}`)].join(' '),
          );
          index++;
          continue;
        }
        if ('points' in step) {
          const p = step.points;
          const outcome =
            program === null || who === null
              ? 'no loyalty programme'
              : await grantPointsIn(ctx, tx, program, {
                  customerId: run.customer_id,
                  externalId: who.external_id,
                  key: `flow:${run.run_id}:${step.id}`,
                  points: p.points,
                  reason: p.reason,
                  expiryDays: p.expiryDays,
                  now,
                });
          await take(step, outcome === 'granted' ? `${p.points} points` : outcome.replace('_', ' '));
          index++;
          continue;
        }
        if ('task' in step) {
          const t = step.task;
          const r = await createTaskIn(tx, {
            customerId: run.customer_id,
            title: t.title,
            body: t.body ?? null,
            assignee: t.assignee ?? null,
            dueAt: t.dueInHours ? new Date(now.getTime() + t.dueInHours * 3_600_000) : null,
            source: sourceOf(flow.name),
            sourceKey: `flow:${run.run_id}:${step.id}`,
            now,
          });
          await take(step, `task #${r.taskId}`);
          index++;
          continue;
        }
        if ('branch' in step) {
          const yes = branches.get(step.id)!;
          const to = yes ? step.branch.then : step.branch.else;
          await take(step, `${yes ? 'then' : 'else'} → ${to}`);
          if (!jump(to, `branch ${step.id}`)) break;
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
      return { sent, status, postponed };
    });
  } catch (err) {
    // Another runner took this run first: its transaction did the steps; this one wrote nothing.
    if (err instanceof Lost) return null;
    throw err;
  }
}
