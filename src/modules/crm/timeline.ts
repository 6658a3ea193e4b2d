import type { TimelineEntry, TimelineSource } from '../../kit/timeline.js';
import type { Queryable } from '../../storage/port.js';

/** Where an entry sits in a timeline: its instant, then its kind, then its ref. */
export interface TimelineKey {
  at: Date;
  kind: string;
  ref: string;
}

/** A source entry with the module that gave it. */
export interface MergedEntry extends TimelineEntry {
  module: string;
}

/** A source to read, with the kinds wanted of it (never empty). */
export interface WantedSource {
  module: string;
  kinds: readonly string[];
  entries: TimelineSource['entries'];
}

/**
 * The timeline's order: newest first; entries of one instant by kind, then ref, descending (plain
 * code-unit comparison, made here rather than in SQL, whose text order differs between engines and
 * collations). Negative when `a` comes first.
 */
export function timelineOrder(a: TimelineKey, b: TimelineKey): number {
  const t = b.at.getTime() - a.at.getTime();
  if (t !== 0) return t;
  if (a.kind !== b.kind) return a.kind < b.kind ? 1 : -1;
  if (a.ref !== b.ref) return a.ref < b.ref ? 1 : -1;
  return 0;
}

/** Entries sorted with `timelineOrder`; those with the same key (one happening told by two sources) made one. */
function sortedOnce(entries: MergedEntry[]): MergedEntry[] {
  const out: MergedEntry[] = [];
  for (const e of entries.sort(timelineOrder)) {
    const last = out[out.length - 1];
    if (last && timelineOrder(last, e) === 0) {
      // The first source (registry order) keeps its title and module; the facts of both are kept.
      out[out.length - 1] = { ...last, properties: { ...e.properties, ...last.properties } };
    } else out.push(e);
  }
  return out;
}

/**
 * One page of a customer's timeline merged from every source: the `limit` entries that follow `after`
 * (the last entry of the previous page) in `timelineOrder` order, and whether more follow.
 *
 * A source answers at most n entries newest first, and may cut the entries of its last instant (its
 * horizon): those, and anything older, are not known yet. Only entries newer than every unfinished
 * source's horizon are certain, so the page is cut from those; when they are too few, the sources
 * holding the page back are asked again for twice as many. Each source is asked for `limit + 2` first
 * (one extra to know there is more, one for a cut instant), which in the usual case is the only read.
 */
export async function mergeTimeline(
  db: Queryable,
  sources: readonly WantedSource[],
  q: { customerId: number; after?: TimelineKey | undefined; limit: number },
): Promise<{ entries: MergedEntry[]; more: boolean }> {
  // Entries at the cursor's own instant may not have been shown yet: ask from just after it (ms
  // precision, as stored) and drop here what the previous pages had.
  const before = q.after ? new Date(q.after.at.getTime() + 1) : undefined;
  const states = sources.map((source) => ({
    source,
    n: q.limit + 2,
    rows: [] as MergedEntry[],
    horizon: -Infinity,
  }));
  const read = async (s: (typeof states)[number]) => {
    const got = await s.source.entries(db, {
      customerId: q.customerId,
      kinds: s.source.kinds,
      before,
      limit: s.n,
    });
    let rows = got;
    s.horizon = -Infinity;
    if (got.length >= s.n) {
      s.horizon = Math.min(...got.map((e) => e.at.getTime()));
      rows = got.filter((e) => e.at.getTime() > s.horizon);
    }
    s.rows = rows
      .filter((e) => !q.after || timelineOrder(e, q.after) > 0)
      .map((e) => ({ ...e, module: s.source.module }));
  };
  await Promise.all(states.map(read));
  for (;;) {
    const horizon = Math.max(-Infinity, ...states.map((s) => s.horizon));
    const certain = sortedOnce(states.flatMap((s) => s.rows.filter((e) => e.at.getTime() > horizon)));
    if (certain.length > q.limit || horizon === -Infinity)
      return { entries: certain.slice(0, q.limit), more: certain.length > q.limit };
    const behind = states.filter((s) => s.horizon === horizon);
    for (const s of behind) s.n *= 2;
    await Promise.all(behind.map(read));
  }
}
