import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import { getTemplate, saveTemplate } from '../messaging/service.js';
import { listSiteKeys } from '../storefront/service.js';
import { checkAssignee } from '../tasks/service.js';
import { getSurvey, saveSurvey } from '../surveys/service.js';
import { BUILTIN_FLOWS, templateOf } from './builtins.js';
import { countSegment } from '../segments/service.js';
import { ADVANCE_JOB, definitionOf } from './definitions.js';
import { unitHash } from './enter.js';
import { admit, TIME_JOB, timeCandidates } from './time.js';
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
 * writing nothing: a bad definition (naming the path), an unknown template or survey, a branch rule that
 * does not compile, a segment trigger on an unknown segment.
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
    if ('survey' in s)
      await getSurvey(ctx, { name: s.survey.name }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found')
          throw new AppError('validation', `no survey named '${s.survey.name}'`, {
            where: { field: `steps.${i}.survey.name` },
          });
        throw err;
      });
    if ('task' in s && s.task.assignee !== undefined)
      await checkAssignee(ctx.db, s.task.assignee, `steps.${i}.task.assignee`);
    if ('branch' in s)
      await countSegment(ctx, { rule: s.branch.if }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'validation')
          throw new AppError('validation', err.message, { where: { field: `steps.${i}.branch.if` } });
        throw err;
      });
  }
  for (const [field, m] of [
    ['trigger', 'event' in def.trigger ? def.trigger : undefined],
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
  if (m.to === 'active') {
    ctx.jobs.notify(ADVANCE_JOB);
    // A time condition is looked at now, not at the next hour.
    const def = await definitionOf(ctx.db, f.flow_id, f.version);
    if ('time' in def.trigger)
      await ctx.jobs.enqueue(
        TIME_JOB,
        {},
        { idempotencyKey: `${TIME_JOB}:${name}:${ctx.clock.now().toISOString()}` },
      );
  }
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
  if ('time' in def.trigger) {
    // A time condition: who it holds for now, through the same admission as the hourly sweep.
    const candidates = await timeCandidates(ctx, def.trigger.time, now);
    const a = await admit(ctx, f.flow_id, def, candidates, now);
    return {
      flow: f.name,
      version: f.version,
      mode: 'now' as const,
      days: 0,
      trigger: def.trigger,
      events: candidates.length,
      customers: new Set(candidates.map((c) => c.customerId)).size,
      wouldEnter: a.enter.length,
      holdout: a.enter.filter((c) => c.holdout).length,
      excluded: { inFlight: a.excluded.inFlight, reentry: a.excluded.reentry + a.excluded.entered },
      sample: a.enter.slice(0, 20).map((c) => c.externalId),
    };
  }
  const trigger = def.trigger;
  const rows = await repo.triggerHistory(ctx.db, {
    flowId: f.flow_id,
    type: trigger.event,
    label: trigger.eventType ?? trigger.segment ?? null,
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
    mode: 'events' as const,
    days,
    trigger,
    events: rows.reduce((s, c) => s + c.events, 0),
    customers: rows.length,
    wouldEnter: enter,
    holdout: def.holdoutShare > 0 ? holdout : 0,
    excluded,
    sample,
  };
}

// ------------------------------------------------------------------------------------------------
// Built-in flows

/** `GET /v1/flow-templates`, `retain flows templates`: the built-in flows, each with its messages. */
export function listBuiltins() {
  return BUILTIN_FLOWS.map((b) => ({
    key: b.key,
    title: b.title,
    description: b.description,
    trigger: b.definition.trigger,
    messages: b.messages.map((m) => m.name),
    surveys: (b.surveys ?? []).map((x) => x.name),
  }));
}

/**
 * `POST /v1/flow-templates/{key}/install`, `retain flows install <key>`: saves the built-in flow as a
 * draft named `name` (default its key), its messages — a template the store already has under a
 * message's name is kept as it is (the store's edits win) — and the surveys its survey steps name (a
 * survey the store has by that name is kept). The messages' buttons link to `shopUrl`, else
 * the first origin of the storefront's site keys, else they are left out. Refused, writing nothing: an
 * unknown key (404), a flow of that name already (409), a shop address that is not http(s).
 */
export async function installBuiltin(
  ctx: ModuleContext,
  input: { key: string; name?: string | undefined; shopUrl?: string | undefined; by: string | null },
) {
  const b = BUILTIN_FLOWS.find((x) => x.key === input.key);
  if (!b)
    throw new AppError(
      'not_found',
      `no built-in flow '${input.key}' (there are ${BUILTIN_FLOWS.map((x) => x.key).join(', ')})`,
      { where: { field: 'key' } },
    );
  const name = input.name ?? b.key;
  if (await repo.flowByName(ctx.db, name))
    throw new AppError('conflict', `a flow named '${name}' exists already: install under another name`, {
      where: { field: 'name' },
    });
  let shopUrl = input.shopUrl ?? null;
  if (shopUrl !== null && !/^https?:\/\/[^\s"<>]+$/.test(shopUrl))
    throw new AppError('validation', `the shop address must be an http(s) URL, got '${shopUrl}'`, {
      where: { field: 'shopUrl' },
    });
  if (shopUrl === null) {
    const keys = (await listSiteKeys(ctx)).filter((k) => !k.revokedAt);
    shopUrl = keys[0]?.origins[0] ?? null;
  }
  // Checked before anything is written: the definition (a bad built-in would be a bug, named here).
  const body = { name, description: b.description, ...b.definition };
  const parsed = FlowDefinition.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'flow');
  const created: string[] = [];
  const kept: string[] = [];
  for (const m of b.messages) {
    const exists = await getTemplate(ctx, { name: m.name }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found') return false;
        throw err;
      },
    );
    if (exists) kept.push(m.name);
    else {
      await saveTemplate(ctx, { body: templateOf(m, shopUrl), by: input.by });
      created.push(m.name);
    }
  }
  // The surveys its survey steps name, when the store has none of that name (the store's own is kept).
  const surveys = { created: [] as string[], kept: [] as string[] };
  for (const sv of b.surveys ?? []) {
    const exists = await getSurvey(ctx, { name: sv.name }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found') return false;
        throw err;
      },
    );
    if (exists) {
      surveys.kept.push(sv.name);
      continue;
    }
    // A low score's call task goes to the user installing, when a user installs (not an API key or the
    // CLI) and is active; else the survey makes no tasks until it is saved with an assignee.
    const assignee = await installingUser(ctx, input.by);
    await saveSurvey(ctx, {
      body: {
        name: sv.name,
        kind: sv.kind,
        throttleDays: sv.throttleDays,
        lowScore: assignee
          ? { atMost: sv.lowScore.atMost, assignees: [assignee], slaHours: sv.lowScore.slaHours }
          : null,
      },
      by: input.by,
    });
    surveys.created.push(sv.name);
  }
  const flow = await saveFlow(ctx, { body, by: input.by });
  return { flow, templates: { created, kept }, surveys, shopUrl };
}

/** The active user behind `by` (a dashboard session's `user:<email>`), else null. */
async function installingUser(ctx: ModuleContext, by: string | null): Promise<string | null> {
  if (!by?.startsWith('user:')) return null;
  return checkAssignee(ctx.db, by.slice('user:'.length)).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'validation') return null;
    throw err;
  });
}
