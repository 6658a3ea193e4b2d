import { z } from '@hono/zod-openapi';
import { DOMAIN_EVENT_TYPES, DomainEvent, type DomainEventType } from '../../kit/events.js';
import { SurveyName } from '../surveys/schema.js';

/** Each event type's payload fields (what a trigger's `where` may name). */
const PAYLOAD_FIELDS = Object.fromEntries(
  DomainEvent.options.map((o) => [o.shape.type.value, Object.keys(o.shape.payload.shape)]),
) as Record<DomainEventType, string[]>;

/**
 * Automated flows (issue 26; docs/flows.md): a trigger, steps, a goal that exits, re-entry rules and a
 * holdout — a versioned JSON definition. Each save is a new version; customers in a flow finish on the
 * version they entered.
 */

const StepId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a step id is lower-case letters, digits, - and _ (at most 40)');

/** A domain event, and for `event.tracked` the site event's type (e.g. `checkout_started`). */
const EventMatch = z
  .object({
    event: z.enum(DOMAIN_EVENT_TYPES),
    eventType: z
      .string()
      .regex(/^[a-z][a-z0-9_.-]{0,79}$/, 'a site event type such as checkout_started')
      .optional(),
    /** For `segment.entered` / `segment.left`: which segment. */
    segment: z.string().min(1).max(200).optional(),
    /**
     * Fields the event's payload must equal, e.g. `{ "direction": "up" }` for `tier.changed`,
     * `{ "channel": "email", "to": "granted" }` for `consent.changed`.
     */
    where: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.where !== undefined) {
      const known = PAYLOAD_FIELDS[m.event];
      for (const k of Object.keys(m.where))
        if (!known.includes(k))
          ctx.addIssue({
            code: 'custom',
            path: ['where', k],
            message: `${m.event} has no field '${k}' (it has ${known.join(', ')})`,
          });
    }
    if (m.eventType !== undefined && m.event !== 'event.tracked')
      ctx.addIssue({ code: 'custom', path: ['eventType'], message: 'eventType is for event.tracked only' });
    if (m.segment !== undefined && m.event !== 'segment.entered' && m.event !== 'segment.left')
      ctx.addIssue({
        code: 'custom',
        path: ['segment'],
        message: 'segment is for segment.entered and segment.left only',
      });
  });
export type EventMatch = z.infer<typeof EventMatch>;

const Duration = z
  .object({
    minutes: z.number().int().min(0).max(525_600).optional(),
    hours: z.number().int().min(0).max(8_760).optional(),
    days: z.number().int().min(0).max(365).optional(),
  })
  .strict()
  .refine((d) => (d.minutes ?? 0) + (d.hours ?? 0) + (d.days ?? 0) > 0, {
    message: 'a wait of at least a minute: give minutes, hours or days',
  });

const Target = z.union([StepId, z.literal('exit')]);

/**
 * A time condition, looked at by the time sweep (`flows.time`, hourly): each customer it holds for enters
 * once per occasion — a birthday once a year, the others once per last order (or expiry day).
 */
export const TimeCondition = z.discriminatedUnion('kind', [
  /** The customer's birthday is this many days away in their own zone (0: on the day). */
  z.object({ kind: z.literal('birthday'), daysBefore: z.number().int().min(0).max(60).default(0) }).strict(),
  /** The predicted next order (the segments' `next_order_at`) is this many days past, with no order since. */
  z
    .object({ kind: z.literal('nextOrderPassed'), graceDays: z.number().int().min(0).max(365).default(0) })
    .strict(),
  /** P(alive) (the segments' `p_alive`, BG/NBD) fell below this, with no order since it was scored. */
  z
    .object({
      kind: z.literal('pAliveBelow'),
      threshold: z.number().gt(0).lt(1),
      /** Customers whose last order is older than this are not woken (default a year). */
      maxDaysSinceOrder: z.number().int().min(1).max(3650).default(365),
    })
    .strict(),
  /** Some of the member's loyalty points expire within this many days. */
  z.object({ kind: z.literal('pointsExpire'), withinDays: z.number().int().min(1).max(90) }).strict(),
  /**
   * A product the customer bought is due again: its median repurchase interval across the store's
   * customers (at least `minRepeats` repeat purchases) less `daysBefore` has passed since they last bought
   * it, and they have not bought it since.
   */
  z
    .object({
      kind: z.literal('replenishment'),
      daysBefore: z.number().int().min(0).max(60).default(3),
      minRepeats: z.number().int().min(2).max(100_000).default(5),
    })
    .strict(),
]);
export type TimeCondition = z.infer<typeof TimeCondition>;

const TimeTrigger = z.object({ time: TimeCondition }).strict();
export type Trigger = EventMatch | z.infer<typeof TimeTrigger>;

/** An event (`event`) or a time condition (`time`), its errors named on its own fields. */
export const Trigger = z.unknown().transform((v, ctx): Trigger => {
  const schema = v !== null && typeof v === 'object' && 'time' in v ? TimeTrigger : EventMatch;
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  for (const issue of r.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as (string | number)[] });
  return z.NEVER;
});

/** A code generated for the run when the step sends (one per run and step; orders using it attribute). */
const FlowOffer = z
  .object({
    kind: z.enum(['percent', 'amount']),
    /** Percent off (1–100), or an amount off in the store currency's minor units. */
    value: z.number().int('a whole number (an amount is in minor units)').positive(),
    prefix: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9-]{0,19}$/, 'capital letters, digits and dashes (at most 20)')
      .optional(),
    validDays: z.number().int().min(1).max(366),
  })
  .strict()
  .refine((o) => o.kind !== 'percent' || o.value <= 100, {
    path: ['value'],
    message: 'a percentage is at most 100',
  });
export type FlowOffer = z.infer<typeof FlowOffer>;

const Tag = z.string().trim().min(1).max(80);

export const Step = z.union([
  z.object({ id: StepId, wait: Duration }).strict(),
  z
    .object({
      id: StepId,
      /** Until the next time the customer's local clock shows this (their zone, else the store's). */
      waitUntil: z
        .object({ localTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM') })
        .strict(),
    })
    .strict(),
  z
    .object({
      id: StepId,
      /**
       * Until the event happens (then on to the next step) or `within` passes (then to `onTimeout`:
       * a later step, or exit; the next step when not given).
       */
      waitFor: z.object({ event: EventMatch, within: Duration, onTimeout: Target.optional() }).strict(),
    })
    .strict(),
  z
    .object({
      id: StepId,
      send: z.object({ template: z.string().trim().min(1).max(200), offer: FlowOffer.optional() }).strict(),
    })
    .strict(),
  z
    .object({
      id: StepId,
      /**
       * Invites the customer to a survey (docs/surveys.md): its message with the one-click score links,
       * through the send path, once per run and step; the survey's throttle applies (a customer invited to
       * any survey within its `throttleDays` is not invited). The order of the event that entered the run
       * (its `order_id`: `order.placed`) is the order the survey asks about.
       */
      survey: z.object({ name: SurveyName }).strict(),
    })
    .strict(),
  z
    .object({
      id: StepId,
      tag: z
        .object({ add: z.array(Tag).max(20).default([]), remove: z.array(Tag).max(20).default([]) })
        .strict()
        .refine((t) => t.add.length + t.remove.length > 0, { message: 'add or remove at least one tag' }),
    })
    .strict(),
  z
    .object({
      id: StepId,
      /** Loyalty points granted once per run (the customer must be a member of the programme). */
      points: z
        .object({
          points: z.number().int().min(1).max(1_000_000),
          reason: z.string().trim().min(1).max(200),
          expiryDays: z.number().int().min(1).max(3650).optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      id: StepId,
      /** A task for the store's staff about this customer (e.g. a call), created once per run. */
      task: z
        .object({
          title: z.string().trim().min(1).max(200),
          body: z.string().max(4000).optional(),
          assignee: z.string().trim().min(1).max(200).optional(),
          dueInHours: z.number().int().min(1).max(8760).optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      id: StepId,
      /** The segments' rule language, for this one customer at this moment. */
      branch: z.object({ if: z.unknown(), then: Target, else: Target }).strict(),
    })
    .strict(),
  z.object({ id: StepId, exit: z.object({}).strict() }).strict(),
]);
export type Step = z.infer<typeof Step>;

export const Reentry = z.discriminatedUnion('kind', [
  /** Once per customer, ever. */
  z.object({ kind: z.literal('once') }).strict(),
  /** Again after this many days since their last entry (never while still in the flow). */
  z.object({ kind: z.literal('after'), days: z.number().int().min(1).max(3650) }).strict(),
  /** On every trigger (never while still in the flow). */
  z.object({ kind: z.literal('always') }).strict(),
]);

export const FlowDefinition = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'a flow name is lower-case letters, digits, - and _ (at most 80)'),
    description: z.string().max(2000).optional(),
    trigger: Trigger,
    steps: z.array(Step).min(1).max(50),
    /** Reaching it exits the flow (re-checked right before every send and survey). */
    goal: EventMatch.optional(),
    reentry: Reentry.default({ kind: 'once' }),
    /** Entrants who get nothing (the baseline of the flow's incremental revenue). */
    holdoutShare: z.number().min(0).max(0.5).default(0),
  })
  .strict()
  .superRefine((f, ctx) => {
    const ids = f.steps.map((s) => s.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i)
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `step ${id} is named twice` });
    });
    // A branch jumps forward only: every run ends, and each step runs at most once per entry.
    f.steps.forEach((s, i) => {
      const jumps: [string, string | undefined][] =
        'branch' in s
          ? [
              ['branch.then', s.branch.then],
              ['branch.else', s.branch.else],
            ]
          : 'waitFor' in s
            ? [['waitFor.onTimeout', s.waitFor.onTimeout]]
            : [];
      for (const [where, to] of jumps) {
        if (to === undefined) continue;
        if (to === 'exit') continue;
        const j = ids.indexOf(to);
        if (j < 0)
          ctx.addIssue({ code: 'custom', path: ['steps', i, ...where.split('.')], message: `no step ${to}` });
        else if (j <= i)
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, ...where.split('.')],
            message: `a jump goes forward: ${to} is not after ${s.id}`,
          });
      }
    });
  });
export type FlowDefinition = z.infer<typeof FlowDefinition>;

export const FlowStatus = z.enum(['draft', 'active', 'paused', 'archived']);

export const Flow = z
  .object({
    id: z.number().int(),
    name: z.string(),
    status: FlowStatus,
    version: z.number().int(),
    definition: z.unknown(),
    createdAt: z.string(),
    updatedAt: z.string(),
    activatedAt: z.string().nullable(),
    runs: z.object({
      active: z.number().int(),
      holdout: z.number().int(),
      goal: z.number().int(),
      completed: z.number().int(),
    }),
  })
  .openapi('Flow');
export type Flow = z.infer<typeof Flow>;
