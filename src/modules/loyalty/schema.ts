import { z } from '@hono/zod-openapi';
import { Currency } from '../settings/schema.js';

/**
 * The loyalty programme's rules (a versioned document: `retain loyalty program set --file`,
 * `PUT /v1/loyalty/program`) and the inputs and outputs of the loyalty API (docs/loyalty.md).
 */

const Int = (what: string) => z.number().int(`${what} must be a whole number`);
const PositiveInt = (what: string) => Int(what).positive(`${what} must be > 0`);
const NonNegInt = (what: string) => Int(what).nonnegative(`${what} must be ≥ 0`);
const Days = (what: string) => NonNegInt(what).max(3650, `${what}: at most 3650 days`);

export const Tier = z
  .object({
    name: z.string().trim().min(1).max(40),
    /** Minimum rolling-window value to hold the tier: minor units of net spend, or points earned. */
    threshold: NonNegInt('threshold'),
    /** Points multiplier for the tier's members' orders (1 = none). */
    multiplier: z.number().min(1).max(10).default(1),
    /** A standing discount the shop gives the tier, in percent (shown on the card; the shop applies it). */
    discountPercent: z.number().min(0).max(100).default(0),
    freeShipping: z.boolean().default(false),
  })
  .strict();

export const ProgramConfig = z
  .object({
    /** The programme's name on the card. */
    name: z.string().trim().min(1).max(80).default('Rewards'),
    /** Orders in this currency earn; others earn nothing (default: the store currency). */
    currency: Currency.optional(),
    /** Orders placed before this instant earn nothing (an import of history does not flood the ledger). */
    startsAt: z.iso.datetime({ offset: true }).optional(),
    /** `automatic`: a customer's first order enrols them; `opt-in`: only `enrol` does. */
    enrollment: z.enum(['automatic', 'opt-in']).default('automatic'),
    earn: z
      .object({
        rate: z.discriminatedUnion('type', [
          z
            .object({
              type: z.literal('per-unit'),
              points: PositiveInt('earn.rate.points'),
              perMinor: PositiveInt('earn.rate.perMinor'),
            })
            .strict(),
          z.object({ type: z.literal('cashback'), percent: z.number().positive().max(100) }).strict(),
        ]),
        rounding: z.enum(['floor', 'round', 'ceil']).default('floor'),
        multipliers: z
          .array(
            z
              .object({
                sku: z.string().min(1).optional(),
                category: z.string().min(1).optional(),
                multiplier: z.number().min(0).max(10),
              })
              .strict()
              .refine(
                (m) => (m.sku === undefined) !== (m.category === undefined),
                'give either sku or category',
              ),
          )
          .max(500)
          .default([]),
      })
      .strict()
      .default({ rate: { type: 'per-unit', points: 1, perMinor: 100 }, rounding: 'floor', multipliers: [] }),
    /** What points are worth when spent: `minor` minor units per `points` points. */
    pointValue: z
      .object({ points: PositiveInt('pointValue.points'), minor: PositiveInt('pointValue.minor') })
      .strict()
      .default({ points: 100, minor: 100 }),
    /** Days an order's points stay pending (the return window) before they can be spent. */
    pendingDays: Days('pendingDays').default(14),
    /** Days a grant's points live once available (each grant has its own expiry). */
    expiryDays: PositiveInt('expiryDays').max(3650).default(180),
    /** What a refund does when the points it claws back were already spent. */
    overdraft: z.enum(['allow', 'forgive']).default('forgive'),
    welcomeBonus: z
      .object({
        points: PositiveInt('welcomeBonus.points'),
        expiryDays: PositiveInt('welcomeBonus.expiryDays').optional(),
      })
      .strict()
      .nullable()
      .default(null),
    birthdayBonus: z
      .object({
        points: PositiveInt('birthdayBonus.points'),
        daysBefore: Days('birthdayBonus.daysBefore').max(60).default(7),
        daysAfter: Days('birthdayBonus.daysAfter').max(60).default(7),
        expiryDays: PositiveInt('birthdayBonus.expiryDays').optional(),
      })
      .strict()
      .nullable()
      .default(null),
    /** Points for actions reported through the API (`review`, `survey`, `referral`, …). */
    actions: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'action names are lower-case words'),
        z
          .object({
            points: PositiveInt('points'),
            /** At most this many grants of the action per member (null: no limit). */
            perMemberLimit: PositiveInt('perMemberLimit').nullable().default(null),
            expiryDays: PositiveInt('expiryDays').optional(),
          })
          .strict(),
      )
      .default({}),
    redemption: z
      .object({
        minPoints: PositiveInt('redemption.minPoints').default(100),
        maxPoints: PositiveInt('redemption.maxPoints').nullable().default(null),
        /** Days a discount code stays valid. */
        codeDays: PositiveInt('redemption.codeDays').default(30),
        codePrefix: z
          .string()
          .regex(/^[A-Z0-9]{0,8}$/)
          .default('PTS'),
      })
      .strict()
      .default({ minPoints: 100, maxPoints: null, codeDays: 30, codePrefix: 'PTS' }),
    tiers: z
      .object({
        basis: z.enum(['spend', 'points']).default('spend'),
        windowMonths: PositiveInt('tiers.windowMonths').max(36).default(12),
        downgradeGraceDays: Days('tiers.downgradeGraceDays').default(30),
        levels: z.array(Tier).max(10).default([]),
      })
      .strict()
      .default({ basis: 'spend', windowMonths: 12, downgradeGraceDays: 30, levels: [] }),
    /** `points.expiring` is recorded this many days before a member's points expire (0: never). */
    expiringNoticeDays: Days('expiringNoticeDays').max(90).default(14),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.tiers.levels.forEach((t, i) => {
      if (names.has(t.name))
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', 'levels', i, 'name'],
          message: `tier ${t.name} is named twice`,
        });
      names.add(t.name);
    });
    const thresholds = c.tiers.levels.map((t) => t.threshold);
    if (new Set(thresholds).size !== thresholds.length)
      ctx.addIssue({
        code: 'custom',
        path: ['tiers', 'levels'],
        message: 'two tiers have the same threshold',
      });
    const r = c.redemption;
    if (r.maxPoints !== null && r.maxPoints < r.minPoints)
      ctx.addIssue({
        code: 'custom',
        path: ['redemption', 'maxPoints'],
        message: 'maxPoints is below minPoints',
      });
    if (
      r.minPoints % c.pointValue.points !== 0 &&
      (r.minPoints * c.pointValue.minor) % c.pointValue.points !== 0
    )
      ctx.addIssue({
        code: 'custom',
        path: ['redemption', 'minPoints'],
        message: `minPoints ${r.minPoints} is not worth a whole minor unit at ${c.pointValue.points} points = ${c.pointValue.minor} minor`,
      });
  })
  .openapi('LoyaltyProgramConfig');
export type ProgramConfig = z.infer<typeof ProgramConfig>;
export type ProgramConfigInput = z.input<typeof ProgramConfig>;

export const Program = z
  .object({
    version: z.number().int(),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    config: ProgramConfig,
  })
  .openapi('LoyaltyProgram');
export type Program = z.infer<typeof Program>;

/** A customer named by the shop's id (as everywhere in the API). */
export const CustomerRef = z.string().trim().min(1).max(200);

export const EnrolInput = z
  .object({ customer: CustomerRef, source: z.string().trim().min(1).max(40).default('api') })
  .strict();

export const RedeemInput = z
  .object({
    customer: CustomerRef,
    points: PositiveInt('points'),
    /** Retries with the same key answer the first result and spend nothing more. */
    idempotencyKey: z.string().trim().min(1).max(200),
    /** Spend against this order (the shop's order id) instead of issuing a discount code. */
    order: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
export type RedeemInput = z.infer<typeof RedeemInput>;

export const ReverseInput = z
  .object({ reason: z.string().trim().min(1).max(200).default('cancelled') })
  .strict();

export const AdjustInput = z
  .object({
    customer: CustomerRef,
    /** Points to add (> 0) or take away (< 0, FIFO; never below 0). */
    points: Int('points').refine((n) => n !== 0, 'points must not be 0'),
    reason: z.string().trim().min(1).max(200),
    idempotencyKey: z.string().trim().min(1).max(200),
    /** For an addition: days until it expires (default the programme's). */
    expiryDays: PositiveInt('expiryDays').max(3650).optional(),
  })
  .strict();

export const ActionInput = z
  .object({
    customer: CustomerRef,
    action: z.string().trim().min(1).max(40),
    /** The action's own id (a review id, a referral's order): one grant per reference. */
    reference: z.string().trim().min(1).max(200),
  })
  .strict();

export const Redemption = z
  .object({
    id: z.number().int(),
    customer: z.string(),
    kind: z.enum(['code', 'order']),
    points: z.number().int(),
    valueMinor: z.number().int(),
    currency: z.string(),
    code: z.string().nullable(),
    order: z.string().nullable(),
    status: z.enum(['active', 'reversed']),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    reversedAt: z.string().nullable(),
  })
  .openapi('LoyaltyRedemption');
export type Redemption = z.infer<typeof Redemption>;

export const Member = z
  .object({
    customer: z.string(),
    cardNumber: z.string(),
    enrolledAt: z.string(),
    tier: z.string().nullable(),
    tierSince: z.string().nullable(),
    downgradeAt: z.string().nullable(),
    available: z.number().int(),
    pending: z.number().int(),
    debt: z.number().int(),
    valueMinor: z.number().int(),
    currency: z.string().nullable(),
    expiringSoon: z.array(z.object({ points: z.number().int(), expiresAt: z.string() })),
    /** The rolling value the tier is decided on (spend in minor units or points earned). */
    tierBasisValue: z.number().int(),
    nextTier: z
      .object({ name: z.string(), threshold: z.number().int(), missing: z.number().int() })
      .nullable(),
  })
  .openapi('LoyaltyMember');
export type Member = z.infer<typeof Member>;

export const LedgerEntry = z
  .object({
    id: z.number().int(),
    type: z.string(),
    points: z.number().int(),
    pendingDelta: z.number().int(),
    availableDelta: z.number().int(),
    order: z.string().nullable(),
    redemptionId: z.number().int().nullable(),
    reason: z.string().nullable(),
    occurredAt: z.string(),
    createdBy: z.string().nullable(),
  })
  .openapi('LoyaltyLedgerEntry');

export const MemberListQuery = z.object({
  tier: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});
