import type { Queryable, SqlValue } from '../storage/port.js';

/**
 * One thing that happened to a customer, as the module that owns it tells it for the customer's
 * timeline (docs/customer360.md). `(at, kind, ref)` identifies it: two sources answering the same
 * triple describe one happening (a tag the segments module holds and the crm module recorded adding),
 * which the timeline shows once.
 */
export interface TimelineEntry {
  /** When it happened (UTC). */
  at: Date;
  /** What it is — one of its source's `kinds`: `order`, `refund`, `message.open`, … */
  kind: string;
  /** Its id within the kind (an order's shop id, a ledger entry's number, a send key). */
  ref: string;
  /** One line for a person: `order 1001: paid, 3 lines`. */
  title: string;
  /** A word or two: an order's status, a refund's reason, an event's type; null when nothing fits. */
  detail?: string | null;
  /** Money, in minor units of `currency` (orders: the total; refunds: the amount). */
  amountMinor?: number | null;
  currency?: string | null;
  /** The entry's facts as data (an event's properties, a message's template and channel, …). */
  properties?: Record<string, unknown> | null;
}

/** What the timeline asks one source. */
export interface TimelineQuery {
  /** The customer (internal id). */
  customerId: number;
  /** The kinds wanted, all among the source's `kinds` and never empty: skip the others. */
  kinds: readonly string[];
  /** Only entries strictly before this instant (none: up to the newest). */
  before?: Date | undefined;
  /** At most this many entries. */
  limit: number;
}

/**
 * A module's part of the customer timeline: `entries` answers the customer's entries of the wanted
 * kinds, **newest first** (`at` descending; the order among entries of one instant does not matter),
 * at most `limit`. Entries of the last instant may be cut by the limit: the caller asks again with a
 * larger one when it needs them. The SQL lives in the module's repository.ts; a read runs on `db`
 * outside any transaction. Declared in the module (`timeline` in module.ts), e.g.
 *
 * ```ts
 * timeline: {
 *   kinds: ['survey.answer'],
 *   entries: async (db, q) => (await import('./repository.js')).surveyTimeline(db, q),
 * },
 * ```
 */
export interface TimelineSource {
  /** Every kind the source can give (`?kinds=` is checked against the union over all modules). */
  readonly kinds: readonly string[];
  entries(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]>;
}

/** One module's source, named by the module. */
export interface NamedTimelineSource extends TimelineSource {
  readonly module: string;
}

/**
 * The tail of a source's query over rows with a timestamp `at` (default `t.at`): `WHERE at < before
 * ORDER BY at DESC LIMIT n`, its parameters appended to `params` (which hold the query's own first).
 */
export function newestFirst(q: TimelineQuery, params: SqlValue[], at = 't.at'): string {
  let cut = '';
  if (q.before) {
    params.push(q.before);
    cut = `WHERE ${at} < $${params.length}::timestamp `;
  }
  params.push(q.limit);
  return `${cut}ORDER BY ${at} DESC LIMIT $${params.length}`;
}

let registered: readonly NamedTimelineSource[] | undefined;

/**
 * Sets every module's timeline source. `src/modules/registry.ts` calls it once when it is loaded (as
 * it does the customer hooks), so the timeline service reads every module's entries without importing
 * the registry (which imports it).
 */
export function registerTimelineSources(sources: readonly NamedTimelineSource[]): void {
  const seen = new Map<string, string>();
  for (const s of sources)
    for (const k of s.kinds) {
      const other = seen.get(k);
      // Two modules may answer the same kind (tags); a kind declared twice by one module is a slip.
      if (other === s.module) throw new Error(`timeline kind ${k} is declared twice by module ${s.module}`);
      seen.set(k, s.module);
    }
  registered = sources;
}

/** Every module's timeline source, in registry order. */
export function timelineSources(): readonly NamedTimelineSource[] {
  if (!registered)
    throw new Error(
      'timeline sources are not registered: load src/modules/registry.ts (openStore does) before reading a timeline',
    );
  return registered;
}
