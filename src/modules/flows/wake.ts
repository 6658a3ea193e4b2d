import type { DomainEvent, SubscriberContext } from '../../kit/events.js';
import { ADVANCE_JOB } from './definitions.js';
import { definitionIn, matches } from './enter.js';
import { flowVersions } from './enterRepository.js';
import type { EventMatch } from './schema.js';
import * as repo from './repository.js';

/**
 * Runs waiting at a `waitFor` step whose event has come are due now (in the subscriber's transaction,
 * beside the entries): the runner then takes them on to the next step.
 */
export async function wakeWaiting(ctx: SubscriberContext, events: readonly DomainEvent[]): Promise<number> {
  // Only an event some version's waitFor is waiting for can wake a run: the runs of its customer are read.
  const waits: EventMatch[] = [];
  for (const v of await flowVersions(ctx.tx))
    for (const s of (await definitionIn(ctx, v.flow_id, v.version)).steps)
      if ('waitFor' in s) waits.push(s.waitFor.event);
  if (waits.length === 0) return 0;
  const withCustomer = events.filter((e) => e.customer_id !== null && waits.some((w) => matches(w, e)));
  if (withCustomer.length === 0) return 0;
  const now = ctx.clock.now();
  let woken = 0;
  for (const run of await repo.openRunsOf(ctx.tx, [...new Set(withCustomer.map((e) => e.customer_id!))])) {
    if (run.status !== 'active' || run.step === null) continue;
    const step = (await definitionIn(ctx, run.flow_id, run.version)).steps.find((s) => s.id === run.step);
    if (!step || !('waitFor' in step)) continue;
    const hit = withCustomer.some(
      (e) =>
        e.customer_id === run.customer_id &&
        matches(step.waitFor.event, e) &&
        new Date(e.occurred_at) >= run.entered_at,
    );
    if (hit && (await repo.wakeRun(ctx.tx, run.run_id, step.id, now))) woken++;
  }
  if (woken > 0) await ctx.jobs.wakeIn(ctx.tx, ADVANCE_JOB);
  return woken;
}
