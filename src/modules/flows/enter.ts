import { createHash } from 'node:crypto';
import type { DomainEvent, SubscriberContext } from '../../kit/events.js';
import { DAY_MS } from '../../shared/time.js';
import { ADVANCE_JOB, definitionOf } from './definitions.js';
import { flowVersions, insertRuns, runsForEntry, type NewRun } from './enterRepository.js';
import * as repo from './repository.js';
import type { EventMatch, FlowDefinition, Trigger } from './schema.js';

/** Flows (docs/flows.md): customers entering on events, and leaving on their goal. */

/**
 * Events older than this (by when they happened) enter nobody: importing a store's history, or a late
 * backfill, must not mail every past buyer; a webhook or a queue a day late still enters.
 */
export const MAX_EVENT_AGE_MS = DAY_MS;

export function matches(m: Trigger, e: DomainEvent): boolean {
  if (!('event' in m)) return false; // a time trigger: entered by the time sweep (time.ts)
  if (m.event !== e.type) return false;
  if (m.where !== undefined) {
    const payload = e.payload as Record<string, unknown>;
    for (const [k, v] of Object.entries(m.where)) if (payload[k] !== v) return false;
  }
  if (m.eventType !== undefined && (e.payload as { event_type?: string }).event_type !== m.eventType)
    return false;
  if (m.segment !== undefined && (e.payload as { segment?: string }).segment !== m.segment) return false;
  return true;
}

/** A stable share in [0, 1) for the holdout draw (flow × customer × occurrence). */
export function unitHash(...parts: (string | number)[]): number {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Parsed definitions per store, for the subscriber: `definitionOf` caches per handle, and each batch
 * comes in a transaction of its own. Read through the transaction (DuckDB's one connection is its).
 */
const parsed = new WeakMap<object, Map<string, FlowDefinition>>();
export async function definitionIn(ctx: SubscriberContext, flowId: number, version: number) {
  let cache = parsed.get(ctx.db);
  if (!cache) parsed.set(ctx.db, (cache = new Map()));
  const key = `${flowId}@${version}`;
  let d = cache.get(key);
  if (!d) {
    d = await definitionOf(ctx.tx, flowId, version);
    if (cache.size > 500) cache.clear();
    cache.set(key, d);
  }
  return d;
}

/**
 * The flows' subscriber: goals first (an order that is a flow's goal ends the runs it converts), then
 * triggers (entering per the re-entry rules; never twice at once; the holdout drawn by a stable hash).
 * Runs in the subscriber's transaction: the cursor and the runs commit together.
 *
 * Set-based (a batch is up to 500 events, most of them page views): the open runs of the customers with
 * a goal's event in one read, the runs the re-entry rules look at in one more (each flow × customer's
 * latest, enterRepository.ts), the events taken in order against them in memory — each entry updates
 * the pair's latest, as a look-up after the insert would — and the entries in one insert. A look-up per
 * event and flow made the subscriber ~40× slower than the dispatcher alone (docs/flows.md, Speed).
 */
export async function handleFlowEvents(ctx: SubscriberContext, events: readonly DomainEvent[]) {
  const now = ctx.clock.now();
  const withCustomer = events.filter((e) => e.customer_id !== null);
  if (withCustomer.length === 0) return;
  // Goals, per the version each run entered on (a paused flow's runs convert too; the holdout's count).
  // Only an event that some version's goal matches can end a run: the runs of its customer are read.
  const goals = new Map<string, EventMatch>();
  for (const v of await flowVersions(ctx.tx)) {
    const goal = (await definitionIn(ctx, v.flow_id, v.version)).goal;
    if (goal) goals.set(JSON.stringify(goal), goal);
  }
  const byCustomer = new Map<number, DomainEvent[]>();
  for (const e of withCustomer) {
    if (![...goals.values()].some((g) => matches(g, e))) continue;
    const list = byCustomer.get(e.customer_id!);
    if (list) list.push(e);
    else byCustomer.set(e.customer_id!, [e]);
  }
  const open = byCustomer.size > 0 ? await repo.openRunsOf(ctx.tx, [...byCustomer.keys()]) : [];
  for (const run of open) {
    const goal = (await definitionIn(ctx, run.flow_id, run.version)).goal;
    if (!goal) continue;
    const hit = byCustomer
      .get(run.customer_id)
      ?.find((e) => matches(goal, e) && new Date(e.occurred_at) >= run.entered_at);
    if (hit) await repo.endByGoal(ctx.tx, run.run_id, now, `${hit.type} #${hit.id}`);
  }
  const flows = await repo.activeFlows(ctx.tx);
  const defs = await Promise.all(flows.map((f) => definitionIn(ctx, f.flow_id, f.version)));
  const triggered = flows.flatMap((f, i) => {
    const def = defs[i]!;
    const hits = withCustomer.filter(
      (e) => matches(def.trigger, e) && now.getTime() - Date.parse(e.occurred_at) <= MAX_EVENT_AGE_MS,
    );
    return hits.length ? [{ flow: f, def, hits }] : [];
  });
  if (triggered.length === 0) return;
  // What the re-entry rules look at (read after the goals above: a run they ended is no longer in flight).
  const customerIds = new Set<number>();
  const occurrences = new Set<string>();
  for (const t of triggered)
    for (const e of t.hits) {
      customerIds.add(e.customer_id!);
      if (t.def.reentry.kind !== 'once') occurrences.add(`event:${e.id}`);
    }
  const pairKey = (flowId: number, customerId: number) => `${flowId}:${customerId}`;
  const latest = new Map<string, { status: string; enteredAt: number }>();
  const taken = new Set<string>();
  for (const r of await runsForEntry(ctx.tx, {
    flowIds: triggered.map((t) => t.flow.flow_id),
    customerIds: [...customerIds],
    occurrences: [...occurrences],
  })) {
    if (r.latest)
      latest.set(pairKey(r.flow_id, r.customer_id), { status: r.status, enteredAt: r.entered_at.getTime() });
    taken.add(`${pairKey(r.flow_id, r.customer_id)}:${r.occurrence}`);
  }
  const isTriggered = new Map(triggered.map((t) => [t.flow.flow_id, new Set(t.hits)]));
  const entries: NewRun[] = [];
  for (const e of withCustomer)
    for (const { flow: f, def } of triggered) {
      if (!isTriggered.get(f.flow_id)!.has(e)) continue;
      // Never twice at once; then the re-entry rule (a holdout entry counts as an entry).
      const pair = pairKey(f.flow_id, e.customer_id!);
      const last = latest.get(pair);
      if (last?.status === 'active') continue;
      const r = def.reentry;
      if (last && r.kind === 'once') continue;
      if (last && r.kind === 'after' && now.getTime() - last.enteredAt < r.days * DAY_MS) continue;
      const occurrence = r.kind === 'once' ? 'once' : `event:${e.id}`;
      // A run already under this key (the event delivered again) stays as it is: nothing entered.
      if (taken.has(`${pair}:${occurrence}`)) continue;
      taken.add(`${pair}:${occurrence}`);
      const holdout = unitHash(f.flow_id, e.customer_id!, occurrence) < def.holdoutShare;
      latest.set(pair, { status: holdout ? 'holdout' : 'active', enteredAt: now.getTime() });
      entries.push({
        flowId: f.flow_id,
        version: f.version,
        customerId: e.customer_id!,
        occurrence,
        status: holdout ? 'holdout' : 'active',
        step: holdout ? null : def.steps[0]!.id,
      });
    }
  const entered = (await insertRuns(ctx.tx, entries, now)).filter((r) => r.status === 'active').length;
  if (entered > 0) await ctx.jobs.wakeIn(ctx.tx, ADVANCE_JOB);
}
