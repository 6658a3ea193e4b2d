import { createHash, randomBytes } from 'node:crypto';
import { calendarOf } from '../../analytics/calendar.js';
import type { ModuleContext } from '../../kit/context.js';
import type { DomainEvent, SubscriberContext } from '../../kit/events.js';
import { validationError } from '../../kit/http/errors.js';
import type { Queryable } from '../../storage/port.js';
import { AppError } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import { getTemplate, notifyDelivery, queueSendTo, templateForSend } from '../messaging/service.js';
import { countSegment, matchesRule } from '../segments/service.js';
import { getStore } from '../settings/service.js';
import * as repo from './repository.js';
import { FlowDefinition, type EventMatch, type Flow, type Step } from './schema.js';

/**
 * Flows (issue 26; docs/flows.md). A customer enters when a domain event matches an active flow's
 * trigger (delivered by the outbox to the flows' subscriber, in the subscriber's transaction: an event
 * delivered twice enters nobody twice — the run's key is flow × customer × occurrence). The runner
 * (`flows.advance`) takes each due run through its steps in one transaction per run: each step is
 * recorded under (run, step) with its effect — a send's ledger row keyed flow × version × step ×
 * customer × occurrence — so a step is taken at most once, and the goal is re-checked right before each
 * send. Runs keep the version they entered on.
 */

export const ADVANCE_JOB = 'flows.advance';
export const sourceOf = (name: string) => `flow:${name}`;

const definitions = new Map<string, FlowDefinition>();
async function definitionOf(db: Queryable, flowId: number, version: number): Promise<FlowDefinition> {
  const key = `${flowId}@${version}`;
  let d = definitions.get(key);
  if (!d) {
    const text = await repo.definitionOf(db, flowId, version);
    if (text === null) throw new AppError('internal', `flow ${flowId} has no version ${version}`);
    d = FlowDefinition.parse(JSON.parse(text));
    if (definitions.size > 500) definitions.clear();
    definitions.set(key, d);
  }
  return d;
}

async function flowOut(ctx: ModuleContext, f: repo.FlowRow): Promise<Flow> {
  const counts = new Map((await repo.runCounts(ctx.db, f.flow_id)).map((r) => [r.status, r.n]));
  return {
    id: f.flow_id,
    name: f.name,
    status: f.status,
    version: f.version,
    definition: await definitionOf(ctx.db, f.flow_id, f.version),
    createdAt: f.created_at.toISOString(),
    updatedAt: f.updated_at.toISOString(),
    activatedAt: f.activated_at?.toISOString() ?? null,
    runs: {
      active: counts.get('active') ?? 0,
      holdout: counts.get('holdout') ?? 0,
      goal: counts.get('goal') ?? 0,
      completed: (counts.get('completed') ?? 0) + (counts.get('exited') ?? 0),
    },
  };
}

async function requireFlow(ctx: ModuleContext, name: string): Promise<repo.FlowRow> {
  const f = await repo.flowByName(ctx.db, name);
  if (!f) throw new AppError('not_found', `no flow named '${name}'`, { where: { field: 'name' } });
  return f;
}

/**
 * `PUT /v1/flows/{name}`, `retain flows save <file>`: a new flow (a draft) or the flow's next version.
 * Customers already in the flow finish on the version they entered; new entries take this one. Refused,
 * writing nothing: a bad definition (naming the path), an unknown template, a branch rule that does not
 * compile, a segment trigger on an unknown segment.
 */
export async function saveFlow(ctx: ModuleContext, { body, by }: { body: unknown; by: string | null }) {
  const parsed = FlowDefinition.safeParse(body ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'flow');
  const def = parsed.data;
  for (const [i, s] of def.steps.entries()) {
    if ('send' in s)
      await getTemplate(ctx, { name: s.send.template }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found')
          throw new AppError('validation', `no template named '${s.send.template}'`, {
            where: { field: `steps.${i}.send.template` },
          });
        throw err;
      });
    if ('branch' in s)
      await countSegment(ctx, { rule: s.branch.if }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'validation')
          throw new AppError('validation', err.message, { where: { field: `steps.${i}.branch.if` } });
        throw err;
      });
  }
  for (const [field, m] of [
    ['trigger', def.trigger],
    ['goal', def.goal],
  ] as const)
    if (m?.segment !== undefined)
      await countSegment(ctx, { name: m.segment }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found')
          throw new AppError('validation', `no segment named '${m.segment}'`, {
            where: { field: `${field}.segment` },
          });
        throw err;
      });
  await ctx.db.transaction((tx) =>
    repo.saveVersion(tx, { name: def.name, definition: JSON.stringify(def), now: ctx.clock.now(), by }),
  );
  return flowOut(ctx, (await repo.flowByName(ctx.db, def.name))!);
}

export async function getFlow(ctx: ModuleContext, { name }: { name: string }) {
  const f = await requireFlow(ctx, name);
  return { ...(await flowOut(ctx, f)), versions: await versionsOut(ctx, f) };
}

async function versionsOut(ctx: ModuleContext, f: repo.FlowRow) {
  return (await repo.versionsOf(ctx.db, f.flow_id)).map((v) => ({
    version: v.version,
    createdAt: v.created_at.toISOString(),
    createdBy: v.created_by,
  }));
}

export async function listFlows(ctx: ModuleContext): Promise<Flow[]> {
  const out: Flow[] = [];
  for (const f of await repo.listFlows(ctx.db)) out.push(await flowOut(ctx, f));
  return out;
}

const MOVES = {
  activate: { from: ['draft', 'paused'], to: 'active' },
  pause: { from: ['active'], to: 'paused' },
  archive: { from: ['draft', 'active', 'paused'], to: 'archived' },
} as const;

/**
 * `POST /v1/flows/{name}/activate|pause|archive`. Paused: nobody enters and runs wait where they are
 * (due steps are taken on resume, sends re-checking the goal first); archived: for good. A move that
 * is not allowed is a 409 saying why.
 */
export async function moveFlow(
  ctx: ModuleContext,
  { name, action }: { name: string; action: keyof typeof MOVES },
): Promise<Flow> {
  const f = await requireFlow(ctx, name);
  const m = MOVES[action];
  const moved = await ctx.db.transaction((tx) =>
    repo.moveStatus(tx, f.flow_id, m.from, m.to, ctx.clock.now()),
  );
  if (!moved && f.status !== m.to)
    throw new AppError(
      'conflict',
      `flow '${name}' is ${f.status}: only a ${m.from.join(' or ')} flow can be moved to ${m.to}`,
    );
  if (m.to === 'active') ctx.jobs.notify(ADVANCE_JOB);
  return flowOut(ctx, (await repo.flowByName(ctx.db, name))!);
}

// ------------------------------------------------------------------------------------------------
// Entering and leaving

function matches(m: EventMatch, e: DomainEvent): boolean {
  if (m.event !== e.type) return false;
  if (m.eventType !== undefined && (e.payload as { event_type?: string }).event_type !== m.eventType)
    return false;
  if (m.segment !== undefined && (e.payload as { segment?: string }).segment !== m.segment) return false;
  return true;
}

/** A stable share in [0, 1) for the holdout draw (flow × customer × occurrence). */
function unitHash(...parts: (string | number)[]): number {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The flows' subscriber: goals first (an order that is a flow's goal ends the runs it converts), then
 * triggers (entering per the re-entry rules; never twice at once; the holdout drawn by a stable hash).
 * Runs in the subscriber's transaction: the cursor and the runs commit together.
 */
export async function handleFlowEvents(ctx: SubscriberContext, events: readonly DomainEvent[]) {
  const now = ctx.clock.now();
  const withCustomer = events.filter((e) => e.customer_id !== null);
  if (withCustomer.length === 0) return;
  // Goals, per the version each run entered on (a paused flow's runs convert too; the holdout's count).
  const open = await repo.openRunsOf(ctx.tx, [...new Set(withCustomer.map((e) => e.customer_id!))]);
  for (const run of open) {
    const goal = (await definitionOf(ctx.tx, run.flow_id, run.version)).goal;
    if (!goal) continue;
    const hit = withCustomer.find(
      (e) =>
        e.customer_id === run.customer_id && matches(goal, e) && new Date(e.occurred_at) >= run.entered_at,
    );
    if (hit) await repo.endByGoal(ctx.tx, run.run_id, now, `${hit.type} #${hit.id}`);
  }
  const flows = await repo.activeFlows(ctx.tx);
  const defs = await Promise.all(flows.map((f) => definitionOf(ctx.tx, f.flow_id, f.version)));
  let entered = 0;
  for (const e of withCustomer)
    for (const [i, f] of flows.entries()) {
      const def = defs[i]!;
      if (!matches(def.trigger, e)) continue;
      // Never twice at once; then the re-entry rule (a holdout entry counts as an entry).
      const last = await repo.latestRun(ctx.tx, f.flow_id, e.customer_id!);
      if (last?.status === 'active') continue;
      const r = def.reentry;
      if (last && r.kind === 'once') continue;
      if (last && r.kind === 'after' && now.getTime() - last.entered_at.getTime() < r.days * DAY_MS) continue;
      const occurrence = r.kind === 'once' ? 'once' : `event:${e.id}`;
      const holdout = unitHash(f.flow_id, e.customer_id!, occurrence) < def.holdoutShare;
      const run = await repo.insertRun(ctx.tx, {
        flowId: f.flow_id,
        version: f.version,
        customerId: e.customer_id!,
        occurrence,
        status: holdout ? 'holdout' : 'active',
        step: holdout ? null : def.steps[0]!.id,
        now,
      });
      if (run !== null && !holdout) entered++;
    }
  if (entered > 0)
    await ctx.jobs.enqueueIn(
      ctx.tx,
      ADVANCE_JOB,
      {},
      { idempotencyKey: `${ADVANCE_JOB}:${now.toISOString()}:${randomBytes(4).toString('hex')}` },
    );
}

// ------------------------------------------------------------------------------------------------
// The runner

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

/**
 * `GET /v1/flows/{name}/simulate?days=7`, `retain flows simulate`: before activating (or after an edit),
 * who would have entered had the newest version been active over the last `days` — the trigger's recorded
 * events replayed against the re-entry rules (never twice at once; once; after N days) and the holdout
 * draw. Reads only.
 */
export async function simulateFlow(ctx: ModuleContext, { name, days = 7 }: { name: string; days?: number }) {
  if (!Number.isInteger(days) || days < 1 || days > 90)
    throw new AppError('validation', `days must be a whole number from 1 to 90, got ${days}`, {
      where: { field: 'days' },
    });
  const f = await requireFlow(ctx, name);
  const def = await definitionOf(ctx.db, f.flow_id, f.version);
  const now = ctx.clock.now();
  const rows = await repo.triggerHistory(ctx.db, {
    flowId: f.flow_id,
    type: def.trigger.event,
    label: def.trigger.eventType ?? def.trigger.segment ?? null,
    from: new Date(now.getTime() - days * DAY_MS),
    to: now,
  });
  const r = def.reentry;
  let enter = 0;
  let holdout = 0;
  const excluded = { inFlight: 0, reentry: 0 };
  const sample: string[] = [];
  for (const c of rows) {
    if (c.in_flight > 0) excluded.inFlight++;
    else if (c.runs > 0 && r.kind === 'once') excluded.reentry++;
    else if (
      c.runs > 0 &&
      r.kind === 'after' &&
      c.last_entry !== null &&
      now.getTime() - c.last_entry.getTime() < r.days * DAY_MS
    )
      excluded.reentry++;
    else {
      // Each customer at least once; `always` enters on every event (a run at a time: counted once here).
      enter++;
      if (unitHash(f.flow_id, c.customer_id, r.kind === 'once' ? 'once' : 'simulated') < def.holdoutShare)
        holdout++;
      if (sample.length < 20) sample.push(c.external_id);
    }
  }
  return {
    flow: f.name,
    version: f.version,
    days,
    trigger: def.trigger,
    events: rows.reduce((s, c) => s + c.events, 0),
    customers: rows.length,
    wouldEnter: enter,
    holdout: def.holdoutShare > 0 ? holdout : 0,
    excluded,
    sample,
  };
}
