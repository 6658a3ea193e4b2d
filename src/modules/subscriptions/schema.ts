import { z } from '@hono/zod-openapi';
import { page, PageQuery } from '../../kit/http/openapi.js';

/** Plan names: lower-case words joined by hyphens, as in URLs and CLI arguments. */
export const PlanName = z
  .string({ error: 'is required' })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case letters, digits and hyphens (e.g. coffee-monthly)')
  .max(60, 'at most 60 characters');

const Every = z
  .number({ error: 'a whole number of at least 1' })
  .int('a whole number of at least 1')
  .min(1, 'an interval is at least 1 (0 would deliver forever at once)')
  .max(365, 'at most 365');

export const Interval = z
  .strictObject({
    every: Every,
    unit: z.enum(['day', 'week', 'month'], { error: 'day, week or month' }),
  })
  .openapi('SubscriptionInterval');

const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM');
export const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/** A plan as saved (`PUT /v1/subscription-plans`, `retain subscriptions plans save`). */
export const PlanDefinition = z
  .strictObject({
    name: PlanName,
    title: z.string().trim().min(1, 'is required').max(200),
    interval: Interval,
    /** Off the product's one-off price, in percent (0–90). */
    discountPercent: z.number().min(0).max(90).default(0),
    /** The products this plan sells (none: any product with a price). */
    products: z.array(z.string().trim().min(1).max(200)).max(500).default([]),
    /** Deliveries are made at this local time of day, on the customer's calendar. */
    localTime: LocalTime.default('09:00'),
    /** A reminder this many days before each delivery (0: none). */
    reminderDays: z.number().int().min(0).max(30).default(3),
    /** The messaging template of the reminder (needed when reminderDays > 0). */
    reminderTemplate: z.string().trim().min(1).max(200).nullable().default(null),
    /** What a failed payment leads to. */
    dunning: z
      .strictObject({
        /** Days from each failed attempt to the next: the default retries a day later, then every 3 days, 4 times. */
        retryDays: z.array(z.number().int().min(1).max(30)).max(10).default([1, 3, 3, 3]),
        /** After the last retry fails: skip the delivery (and go on), pause, or cancel. */
        finalAction: z.enum(['skip', 'pause', 'cancel']).default('cancel'),
        /** How long a final pause lasts. */
        pauseDays: z.number().int().min(1).max(365).default(30),
        /** The message to the customer after each failed attempt (a messaging template; null: none). */
        template: z.string().trim().min(1).max(200).nullable().default(null),
      })
      .default({ retryDays: [1, 3, 3, 3], finalAction: 'cancel', pauseDays: 30, template: null }),
  })
  .superRefine((d, ctx) => {
    if (d.reminderDays > 0 && d.reminderTemplate === null)
      ctx.addIssue({
        code: 'custom',
        path: ['reminderTemplate'],
        message: 'name the reminder template, or set reminderDays to 0',
      });
  })
  .openapi('SubscriptionPlanDefinition');
export type PlanDefinition = z.infer<typeof PlanDefinition>;

export const Plan = z
  .object({
    name: z.string(),
    status: z.enum(['active', 'archived']),
    definition: z.record(z.string(), z.unknown()),
    subscribers: z.object({ active: z.number().int(), paused: z.number().int(), pastDue: z.number().int() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SubscriptionPlan');
export type Plan = z.infer<typeof Plan>;

const Address = z
  .record(z.string(), z.string().max(500))
  .refine((a) => Object.keys(a).length <= 20, 'at most 20 fields')
  .openapi({ description: 'the delivery address as the store keeps it (name, line1, city, …): a snapshot' });

/** `POST /v1/subscriptions`. */
export const CreateSubscription = z
  .strictObject({
    customer: z.string().trim().min(1, 'is required'),
    plan: PlanName,
    sku: z.string().trim().min(1, 'is required'),
    quantity: z.number().int().min(1).max(100).default(1),
    /** The first delivery's local date (default: the first interval from today). */
    firstDelivery: LocalDate.optional(),
    address: Address.optional(),
  })
  .openapi('SubscriptionCreate');

export const CancelReason = z.enum([
  'too_expensive',
  'too_much_product',
  'not_needed',
  'quality',
  'delivery',
  'switching',
  'moving',
  'other',
]);

/** `POST /v1/subscriptions/{id}/actions`: one action. */
export const SubscriptionAction = z
  .discriminatedUnion(
    'action',
    [
      z.strictObject({ action: z.literal('skip') }),
      z.strictObject({ action: z.literal('reschedule'), date: LocalDate }),
      z.strictObject({ action: z.literal('pause'), until: LocalDate }),
      z.strictObject({ action: z.literal('resume'), date: LocalDate.optional() }),
      z.strictObject({ action: z.literal('quantity'), quantity: z.number().int().min(1).max(100) }),
      z.strictObject({ action: z.literal('swap'), sku: z.string().trim().min(1, 'is required') }),
      z.strictObject({
        action: z.literal('cancel'),
        reason: CancelReason,
        note: z.string().trim().max(2000).optional(),
      }),
      z.strictObject({ action: z.literal('reactivate'), date: LocalDate.optional() }),
    ],
    { error: 'action must be skip, reschedule, pause, resume, quantity, swap, cancel or reactivate' },
  )
  .openapi('SubscriptionAction');
export type SubscriptionAction = z.infer<typeof SubscriptionAction>;

export const SubscriptionStatus = z.enum(['active', 'paused', 'past_due', 'cancelled']);

export const Subscription = z
  .object({
    id: z.string(),
    customer: z.string(),
    plan: z.string(),
    status: SubscriptionStatus,
    sku: z.string(),
    title: z.string().nullable(),
    quantity: z.number().int(),
    unitPriceMinor: z
      .number()
      .int()
      .openapi({ description: 'per unit per delivery, after the plan discount' }),
    oneOffPriceMinor: z.number().int().nullable().openapi({ description: "the product's one-off price now" }),
    currency: z.string(),
    interval: Interval,
    localTime: z.string(),
    timeZone: z.string(),
    nextCycle: z.number().int(),
    nextDelivery: z
      .string()
      .nullable()
      .openapi({ description: 'the next delivery instant (a paused one: when it resumes)' }),
    nextDeliveryLocal: z.string().nullable().openapi({ description: 'its local date in the customer zone' }),
    pausedUntil: z.string().nullable(),
    mrrMinor: z
      .number()
      .int()
      .openapi({ description: 'monthly recurring revenue now (0 paused or cancelled)' }),
    address: z.record(z.string(), z.string()).nullable(),
    cancelReason: z.string().nullable(),
    cancelNote: z.string().nullable(),
    startedAt: z.string(),
    cancelledAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('Subscription');
export type Subscription = z.infer<typeof Subscription>;

export const SubscriptionEvent = z
  .object({
    at: z.string(),
    type: z.string(),
    cycle: z.number().int().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    by: z.string().nullable(),
  })
  .openapi('SubscriptionEvent');

export const SubscriptionDetail = Subscription.extend({
  upcoming: z
    .array(z.object({ cycle: z.number().int(), at: z.string(), localDate: z.string() }))
    .openapi({ description: 'the next deliveries on the schedule' }),
  orders: z.array(
    z.object({
      cycle: z.number().int(),
      order: z.string(),
      dueAt: z.string(),
      amountMinor: z.number().int(),
    }),
  ),
  history: z.array(SubscriptionEvent),
}).openapi('SubscriptionDetail');
export type SubscriptionDetail = z.infer<typeof SubscriptionDetail>;

export const SubscriptionListQuery = z
  .object({
    ...PageQuery,
    status: SubscriptionStatus.optional(),
    plan: z.string().optional(),
    customer: z.string().optional(),
  })
  .openapi('SubscriptionListQuery');

export const SubscriptionPage = page(Subscription, 'SubscriptionPage');
export type SubscriptionPage = z.infer<typeof SubscriptionPage>;

/** `POST /v1/subscription-payments`: the payment system's result of one attempt. */
export const PaymentResult = z
  .strictObject({
    key: z
      .string()
      .trim()
      .min(1, 'is required')
      .openapi({ description: 'the attempt key, `sub-<id>-<cycle>-<attempt>`' }),
    result: z.enum(['succeeded', 'failed'], { error: 'succeeded or failed' }),
    reason: z
      .string()
      .trim()
      .max(500)
      .optional()
      .openapi({ description: 'why it failed (card declined, …)' }),
    reference: z
      .string()
      .trim()
      .max(200)
      .optional()
      .openapi({ description: "the payment system's reference" }),
  })
  .openapi('SubscriptionPaymentResult');

export const Payment = z
  .object({
    key: z.string(),
    subscription: z.string(),
    cycle: z.number().int(),
    attempt: z.number().int(),
    customer: z.string(),
    order: z.string(),
    amountMinor: z.number().int(),
    currency: z.string(),
    dueAt: z.string(),
    status: z.enum(['due', 'succeeded', 'failed', 'void']),
    reason: z.string().nullable(),
    reference: z.string().nullable(),
    answeredAt: z.string().nullable(),
  })
  .openapi('SubscriptionPayment');
export type Payment = z.infer<typeof Payment>;

export const PaymentListQuery = z
  .object({
    ...PageQuery,
    status: z
      .enum(['due', 'succeeded', 'failed', 'void'])
      .optional()
      .openapi({ description: 'due: the attempts whose time has come, to charge now' }),
    subscription: z.string().optional(),
  })
  .openapi('SubscriptionPaymentListQuery');

export const PaymentPage = page(Payment, 'SubscriptionPaymentPage');
export type PaymentPage = z.infer<typeof PaymentPage>;

export const PaymentOutcome = z
  .object({
    payment: Payment,
    recorded: z.boolean().openapi({ description: 'false: this result was recorded before (a replay)' }),
    next: Payment.nullable().openapi({ description: 'the retry this failure scheduled' }),
    subscription: z.object({ id: z.string(), status: z.string() }),
  })
  .openapi('SubscriptionPaymentOutcome');
export type PaymentOutcome = z.infer<typeof PaymentOutcome>;
