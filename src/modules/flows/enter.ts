import { createHash, randomBytes } from 'node:crypto';
import type { DomainEvent, SubscriberContext } from '../../kit/events.js';
import { DAY_MS } from '../../shared/time.js';
import { ADVANCE_JOB, definitionOf } from './definitions.js';
import * as repo from './repository.js';
import type { Trigger } from './schema.js';

/** Flows (docs/flows.md): customers entering on events, and leaving on their goal. */

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
