import type { ModuleContext } from '../../kit/context.js';
import { EventInput, type EventRow } from '../imports/schema.js';
import { parseJsonRow } from '../ingest/service.js';
import * as repo from './repository.js';
import type { IngestResult } from './schema.js';

/**
 * Validates each event on its own (rejections carry their index), drops repeats of an event_id within
 * the batch (first wins), and stores the rest idempotently by event_id.
 */
export async function ingestEvents(
  ctx: ModuleContext,
  { items }: { items: readonly unknown[] },
): Promise<IngestResult> {
  const { db } = ctx;
  const now = ctx.clock.now();
  const valid: EventRow[] = [];
  const seen = new Set<string>();
  const rejected: IngestResult['rejected'] = [];
  let repeated = 0;
  items.forEach((item, index) => {
    const parsed = parseJsonRow(EventInput, item);
    if (!parsed.success) {
      const id = (item as { event_id?: unknown } | null)?.event_id;
      rejected.push({ index, eventId: typeof id === 'string' ? id : null, issues: parsed.issues });
      return;
    }
    if (seen.has(parsed.data.eventId)) {
      repeated++;
      return;
    }
    seen.add(parsed.data.eventId);
    valid.push(parsed.data);
  });
  const out = valid.length
    ? await repo.insertEvents(db, valid, now)
    : { inserted: 0, identity: { linked: 0, stitched: 0, conflicts: 0, refused: [] } };
  if (out.identity.conflicts > 0)
    ctx.log.warn({ conflicts: out.identity.refused }, 'anonymous ids already linked to another customer');
  return {
    received: items.length,
    inserted: out.inserted,
    duplicates: valid.length - out.inserted + repeated,
    rejected,
    identity: out.identity,
  };
}
