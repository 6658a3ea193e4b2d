import { describe, expect, it } from 'vitest';
import type { TimelineEntry, TimelineQuery } from '../../kit/timeline.js';
import type { Queryable } from '../../storage/port.js';
import { mergeTimeline, timelineOrder, type TimelineKey, type WantedSource } from './timeline.js';

const db = {} as Queryable;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

/**
 * A source over a fixed list, keeping the contract loosely on purpose: at most `limit`, newest first,
 * the entries of one instant in an arbitrary (shuffled) order — so a page cut inside an instant is
 * exercised.
 */
function source(module: string, entries: TimelineEntry[], reads: TimelineQuery[] = []): WantedSource {
  return {
    module,
    kinds: [...new Set(entries.map((e) => e.kind))],
    entries: async (_db, q) => {
      reads.push(q);
      const rows = entries.filter(
        (e) => q.kinds.includes(e.kind) && (!q.before || e.at.getTime() < q.before.getTime()),
      );
      const shuffled = rows.map((e) => ({ e, r: Math.random() }));
      shuffled.sort((a, b) => b.e.at.getTime() - a.e.at.getTime() || a.r - b.r);
      return shuffled.slice(0, q.limit).map((x) => x.e);
    },
  };
}

const entry = (minute: number, kind: string, ref: string): TimelineEntry => ({
  at: at(minute),
  kind,
  ref,
  title: `${kind} ${ref}`,
});

async function everyPage(sources: WantedSource[], limit: number) {
  const keys: string[] = [];
  let after: TimelineKey | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await mergeTimeline(db, sources, { customerId: 1, after, limit });
    keys.push(...page.entries.map((e) => `${e.at.getTime()}|${e.kind}|${e.ref}`));
    if (!page.more) {
      expect(page.entries.length).toBeLessThanOrEqual(limit);
      return keys;
    }
    expect(page.entries).toHaveLength(limit);
    after = page.entries[page.entries.length - 1];
  }
  throw new Error('no end');
}

describe('the timeline merge', () => {
  it('orders newest first, then kind and ref descending', () => {
    const sorted = [
      entry(1, 'order', 'a'),
      entry(2, 'event', 'z'),
      entry(2, 'order', 'b'),
      entry(2, 'order', 'c'),
    ].sort(timelineOrder);
    expect(sorted.map((e) => `${e.kind}:${e.ref}`)).toEqual(['order:c', 'order:b', 'event:z', 'order:a']);
  });

  it('pages through every source exactly once, whatever the page size, even with many entries at one instant', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let round = 0; round < 40; round++) {
      const lists: TimelineEntry[][] = [[], [], []];
      const kinds = [['order', 'refund'], ['event'], ['note', 'tag.added']];
      for (let i = 0; i < 60; i++) {
        const s = Math.floor(random() * 3);
        const k = kinds[s]![Math.floor(random() * kinds[s]!.length)]!;
        // Few distinct minutes: many ties, many at the same instant in one source.
        lists[s]!.push(entry(Math.floor(random() * 6), k, `r${i}`));
      }
      const sources = lists.map((l, i) => source(`m${i}`, l));
      const all = lists
        .flat()
        .sort(timelineOrder)
        .map((e) => `${e.at.getTime()}|${e.kind}|${e.ref}`);
      for (const limit of [1, 2, 3, 7, 50, 500]) expect(await everyPage(sources, limit)).toEqual(all);
    }
  });

  it('shows one happening told by two sources once, with the facts of both', async () => {
    const a = source('segments', [{ ...entry(5, 'tag.added', 'vip'), properties: { tag: 'vip' } }]);
    const b = source('crm', [
      { ...entry(5, 'tag.added', 'vip'), properties: { tag: 'vip', by: 'k1' } },
      entry(6, 'tag.removed', 'vip'),
    ]);
    const page = await mergeTimeline(db, [a, b], { customerId: 1, limit: 10 });
    expect(page.entries.map((e) => [e.kind, e.module, e.properties])).toEqual([
      ['tag.removed', 'crm', undefined],
      ['tag.added', 'segments', { tag: 'vip', by: 'k1' }],
    ]);
    expect(await everyPage([a, b], 1)).toHaveLength(2);
  });

  it('reads each source once for a page in the usual case, asking for the page and two more', async () => {
    const reads: TimelineQuery[] = [];
    const s = source(
      'orders',
      Array.from({ length: 30 }, (_, i) => entry(i, 'order', `o${i}`)),
      reads,
    );
    const page = await mergeTimeline(db, [s], { customerId: 1, limit: 10 });
    expect(page.entries.map((e) => e.ref)).toEqual(Array.from({ length: 10 }, (_, i) => `o${29 - i}`));
    expect(page.more).toBe(true);
    expect(reads.map((q) => q.limit)).toEqual([12]);
  });
});
