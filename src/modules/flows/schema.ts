import { z } from '@hono/zod-openapi';
import { DOMAIN_EVENT_TYPES } from '../../kit/events.js';

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
  })
  .strict()
  .superRefine((m, ctx) => {
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
  z.object({ id: StepId, send: z.object({ template: z.string().trim().min(1).max(200) }).strict() }).strict(),
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
    trigger: EventMatch,
    steps: z.array(Step).min(1).max(50),
    /** Reaching it exits the flow (re-checked right before every send). */
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
      if (!('branch' in s)) return;
      for (const side of ['then', 'else'] as const) {
        const to = s.branch[side];
        if (to === 'exit') continue;
        const j = ids.indexOf(to);
        if (j < 0)
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'branch', side], message: `no step ${to}` });
        else if (j <= i)
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'branch', side],
            message: `a branch goes forward: ${to} is not after ${s.id}`,
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
