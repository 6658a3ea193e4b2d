import type { ModuleContext } from '../../kit/context.js';
import type { Subscriber } from '../../kit/events.js';
import * as repo from './repository.js';

/**
 * Delivers domain events to subscribers: at-least-once, in event-id order (hence in order per
 * customer), one batch per transaction. For each batch the dispatcher, in ONE transaction:
 *   1. locks the subscription row (Postgres: `FOR UPDATE SKIP LOCKED`, so of several processes one
 *      delivers to a subscriber at a time; the others skip it),
 *   2. reads the events after its cursor,
 *   3. calls `handle(ctx, events)` with `ctx.tx` = that transaction,
 *   4. moves the cursor past them.
 * Writes a handler makes through `ctx.tx` commit with the cursor: exactly once in effect. Writes
 * elsewhere (another connection, an e-mail) may repeat after a crash or failure, so handlers are
 * idempotent, keyed by event id. A handler that throws rolls the batch back: the cursor stays, the
 * failure is recorded and the batch is retried after a back-off (1 s doubling, at most 5 min).
 */
export interface DispatcherOptions {
  ctx: ModuleContext;
  subscribers: readonly Subscriber[];
  /** Idle poll interval (default 500 ms). */
  pollMs?: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

export class Dispatcher {
  private readonly ctx: ModuleContext;
  private readonly subscribers: readonly Subscriber[];
  private readonly pollMs: number;
  private registered: Promise<void> | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(opts: DispatcherOptions) {
    const names = new Set<string>();
    for (const s of opts.subscribers) {
      if (names.has(s.name)) throw new Error(`subscriber ${s.name} is declared twice`);
      names.add(s.name);
    }
    this.ctx = opts.ctx;
    this.subscribers = opts.subscribers;
    this.pollMs = opts.pollMs ?? 500;
  }

  /** Creates the subscriptions not seen before (their cursor per `start`). Idempotent. */
  register(): Promise<void> {
    this.registered ??= (async () => {
      for (const s of this.subscribers) await repo.ensureSubscription(this.ctx.db, s, this.ctx.clock.now());
    })();
    return this.registered;
  }

  /**
   * Delivers until every subscriber is caught up (or backing off after a failure); returns the
   * number of events handled.
   */
  async drain(): Promise<number> {
    await this.register();
    let total = 0;
    for (const s of this.subscribers) {
      for (;;) {
        const r = await this.deliverBatch(s);
        total += r.handled;
        if (!r.more) break;
      }
    }
    return total;
  }

  /** Polls in the background until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.drain();
        } catch (err) {
          this.ctx.log.error({ err }, 'domain event dispatcher');
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.pollMs);
        });
      }
    })();
  }

  /** Stops polling after the batch in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** One batch for one subscriber; `more` when another batch may be waiting. */
  private async deliverBatch(s: Subscriber): Promise<{ handled: number; more: boolean }> {
    const { db, clock } = this.ctx;
    const limit = s.batchSize ?? 100;
    try {
      return await db.transaction(async (tx) => {
        const sub = await repo.lockSubscription(tx, db.dialect, s.name);
        if (!sub) return { handled: 0, more: false }; // another process is delivering to it
        if (sub.retry_at && sub.retry_at.getTime() > clock.now().getTime())
          return { handled: 0, more: false };
        // Read the end first: events of other types up to it are skipped over with the cursor.
        const end = await repo.maxEventId(tx);
        if (end <= sub.last_event_id) return { handled: 0, more: false };
        const events = await repo.eventsAfter(tx, {
          after: sub.last_event_id,
          upTo: end,
          types: s.types,
          limit,
        });
        if (events.length > 0) await s.handle({ ...this.ctx, tx }, events);
        const full = events.length === limit;
        const to = full ? (events[events.length - 1] as { id: number }).id : end;
        await repo.advance(tx, s.name, to, clock.now());
        return { handled: events.length, more: full };
      });
    } catch (err) {
      const sub = await repo.getSubscription(db, s.name);
      const failures = (sub?.failures ?? 0) + 1;
      const now = clock.now();
      const retryAt = new Date(now.getTime() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1)));
      await repo.recordFailure(db, s.name, err instanceof Error ? err.message : String(err), retryAt, now);
      this.ctx.log.warn({ err, subscriber: s.name, failures }, 'domain event handler failed');
      return { handled: 0, more: false };
    }
  }
}
