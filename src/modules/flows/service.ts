import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import { getTemplate } from '../messaging/service.js';
import { countSegment } from '../segments/service.js';
import { ADVANCE_JOB, definitionOf } from './definitions.js';
import { unitHash } from './enter.js';
import * as repo from './repository.js';
import { FlowDefinition, type Flow } from './schema.js';

export { ADVANCE_JOB, sourceOf } from './definitions.js';
export { handleFlowEvents } from './enter.js';
export { advanceFlows, type AdvanceCounts } from './runner.js';

/**
 * Flows (issue 26; docs/flows.md). A customer enters when a domain event matches an active flow's
 * trigger (delivered by the outbox to the flows' subscriber, in the subscriber's transaction: an event
 * delivered twice enters nobody twice — the run's key is flow × customer × occurrence). The runner
 * (`flows.advance`) takes each due run through its steps in one transaction per run: each step is
 * recorded under (run, step) with its effect — a send's ledger row keyed flow × version × step ×
 * customer × occurrence — so a step is taken at most once, and the goal is re-checked right before each
 * send. Runs keep the version they entered on.
 */

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
