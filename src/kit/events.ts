import { z } from 'zod';
import type { Queryable } from '../storage/port.js';
import type { ModuleContext } from './context.js';

/**
 * Domain events: facts the write paths record in the same transaction as the data they describe
 * (the transactional outbox, src/modules/outbox). Payloads are small: ids, integer minor-unit amounts
 * and currencies, never whole records — a subscriber reads what else it needs.
 */

const Iso = z.string();
const ConsentStatus = z.enum(['granted', 'denied', 'unsubscribed', 'unknown']);

export const CustomerCreatedPayload = z.object({ external_id: z.string() });
export const CustomerUpdatedPayload = z.object({ external_id: z.string() });
/** A GDPR erasure: the customer's personal data is gone; `external_id` is the anonymous id left. */
export const CustomerErasedPayload = z.object({ external_id: z.string(), erased_by: z.string() });
/**
 * Duplicates merged: the event's `customer_id` and `external_id` are the survivor's; the merged
 * customer's internal id and shop id (now an alias of the survivor) are named. One event per merged one.
 */
export const CustomerMergedPayload = z.object({
  external_id: z.string(),
  merged_customer_id: z.number().int(),
  merged_external_id: z.string(),
});
export const ConsentChangedPayload = z.object({
  external_id: z.string(),
  channel: z.enum(['email', 'sms', 'messenger', 'ads']),
  from: ConsentStatus.nullable(),
  to: ConsentStatus,
});
export const OrderPlacedPayload = z.object({
  order_id: z.number().int(),
  external_id: z.string(),
  total_minor: z.number().int(),
  currency: z.string(),
});
export const OrderRefundedPayload = z.object({
  refund_id: z.number().int(),
  external_id: z.string(),
  order_id: z.number().int().nullable(),
  amount_minor: z.number().int(),
  currency: z.string(),
});
export const EventTrackedPayload = z.object({
  /** The site event's own id (its idempotency key). */
  event_id: z.string(),
  /** The site event's type, e.g. `checkout_started`. */
  event_type: z.string(),
});

/** A segment snapshot found the customer newly in (`segment.entered`) or no longer in (`segment.left`) it. */
export const SegmentChangedPayload = z.object({
  external_id: z.string(),
  segment: z.string(),
  snapshot_id: z.number().int(),
});

export const StoreUpdatedPayload = z.object({
  /** The settings that changed (`PATCH /v1/store`, `retain store set`, `retain init`). */
  changed: z.array(z.enum(['currency', 'time_zone', 'locale'])),
  /** The settings after the change (null: not set). */
  currency: z.string().nullable(),
  time_zone: z.string().nullable(),
  locale: z.string().nullable(),
});

/** Points credited (an order's, a bonus, an adjustment): pending until `available_at` when an order's. */
export const PointsEarnedPayload = z.object({
  external_id: z.string(),
  grant_id: z.number().int(),
  kind: z.enum(['order', 'welcome', 'birthday', 'action', 'adjust']),
  points: z.number().int(),
  status: z.enum(['pending', 'available']),
  available_at: Iso,
  expires_at: Iso,
});
/** A member's available points that expire within the programme's notice days (one per member and day). */
export const PointsExpiringPayload = z.object({
  external_id: z.string(),
  points: z.number().int(),
  expires_at: Iso,
  balance: z.number().int(),
});
/** A member's tier moved (up on an order or nightly, down after the grace period); null: no tier. */
export const TierChangedPayload = z.object({
  external_id: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  direction: z.enum(['up', 'down']),
  basis_value: z.number().int(),
});

const base = {
  /** Monotonically increasing (a sequence); delivery order. */
  id: z.number().int().positive(),
  /** The internal customer id, null for guests and anonymous visitors. */
  customer_id: z.number().int().nullable(),
  /** Business time of the fact (order date, refund date, event time, consent change). */
  occurred_at: Iso,
  /** When it was recorded (the writer's clock). */
  recorded_at: Iso,
};

export const DomainEvent = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('customer.created'), payload: CustomerCreatedPayload }),
  z.object({ ...base, type: z.literal('customer.updated'), payload: CustomerUpdatedPayload }),
  z.object({ ...base, type: z.literal('customer.erased'), payload: CustomerErasedPayload }),
  z.object({ ...base, type: z.literal('customer.merged'), payload: CustomerMergedPayload }),
  z.object({ ...base, type: z.literal('consent.changed'), payload: ConsentChangedPayload }),
  z.object({ ...base, type: z.literal('order.placed'), payload: OrderPlacedPayload }),
  z.object({ ...base, type: z.literal('order.refunded'), payload: OrderRefundedPayload }),
  z.object({ ...base, type: z.literal('event.tracked'), payload: EventTrackedPayload }),
  z.object({ ...base, type: z.literal('store.updated'), payload: StoreUpdatedPayload }),
  z.object({ ...base, type: z.literal('segment.entered'), payload: SegmentChangedPayload }),
  z.object({ ...base, type: z.literal('segment.left'), payload: SegmentChangedPayload }),
  z.object({ ...base, type: z.literal('points.earned'), payload: PointsEarnedPayload }),
  z.object({ ...base, type: z.literal('points.expiring'), payload: PointsExpiringPayload }),
  z.object({ ...base, type: z.literal('tier.changed'), payload: TierChangedPayload }),
]);
export type DomainEvent = z.infer<typeof DomainEvent>;

export const DOMAIN_EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.erased',
  'customer.merged',
  'consent.changed',
  'order.placed',
  'order.refunded',
  'event.tracked',
  'store.updated',
  'segment.entered',
  'segment.left',
  'points.earned',
  'points.expiring',
  'tier.changed',
] as const;
export const DomainEventType = z.enum(DOMAIN_EVENT_TYPES);
export type DomainEventType = z.infer<typeof DomainEventType>;

/** The payload of one event type. */
export type PayloadOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>['payload'];

/** An event about to be recorded (the outbox assigns id and recorded_at). */
export type NewDomainEvent = {
  [T in DomainEventType]: {
    type: T;
    customerId: number | null;
    occurredAt: Date;
    payload: PayloadOf<T>;
  };
}[DomainEventType];

/** What a subscriber's handler gets: the module context plus the delivery transaction. */
export interface SubscriberContext extends ModuleContext {
  /**
   * The transaction the subscriber's cursor advances in. Writes made through `tx` commit together
   * with the cursor (exactly once in effect); writes elsewhere must be idempotent by event id.
   */
  tx: Queryable;
}

/**
 * A consumer of domain events, declared by a module (`RetainModule.subscribers`). Delivery is
 * at-least-once, in event-id order: `handle` must be idempotent, keyed by event id.
 */
export interface Subscriber {
  /** Unique across modules; the key of its cursor. Renaming starts a new subscription. */
  readonly name: string;
  /** The event types it receives (others are skipped over). */
  readonly types: readonly DomainEventType[];
  /** Where a new subscription starts: `now` = events recorded after it registered, `beginning` = all. */
  readonly start: 'now' | 'beginning';
  /** At most this many events per call (default 100). */
  readonly batchSize?: number;
  handle(ctx: SubscriberContext, events: DomainEvent[]): Promise<void>;
}

/**
 * A subscriber that enqueues one job of `kind` per window of `windowMs` in which any of `types` was
 * recorded, due when the window ends (keyed by the window's start: the 18,000 events of an import
 * enqueue one job; redelivery finds the same job).
 */
export function debouncedJob(o: {
  name: string;
  types: readonly DomainEventType[];
  kind: string;
  windowMs: number;
}): Subscriber {
  return {
    name: o.name,
    types: o.types,
    start: 'now',
    batchSize: 1000,
    handle: async (ctx) => {
      const now = ctx.clock.now().getTime();
      const windowStart = now - (now % o.windowMs);
      await ctx.jobs.enqueueIn(
        ctx.tx,
        o.kind,
        {},
        {
          idempotencyKey: `${o.kind}:${new Date(windowStart).toISOString()}`,
          runAt: new Date(windowStart + o.windowMs),
          maxAttempts: 3,
        },
      );
    },
  };
}
