/**
 * The built-in segments (issue 22's seeds): who to keep, win back or reward. Plain rule trees, the same
 * language as saved segments; `retain segments list` shows them, every command takes their names.
 */
export interface BuiltinSegment {
  name: string;
  description: string;
  rule: unknown;
}

export const BUILTIN_SEGMENTS: readonly BuiltinSegment[] = [
  {
    name: 'top-revenue',
    description: 'the top 10 % of buyers by net revenue',
    rule: { field: 'revenue_decile', op: 'eq', value: 10 },
  },
  {
    name: 'top-tenure',
    description: 'the 10 % of buyers who have bought for the longest',
    rule: { field: 'tenure_decile', op: 'eq', value: 10 },
  },
  {
    name: 'top-frequency',
    description: 'the 10 % of buyers with the most orders',
    rule: { field: 'orders_decile', op: 'eq', value: 10 },
  },
  {
    name: 'one-time-buyers',
    description: 'one order, placed 30–90 days ago: the moment for a second-order nudge',
    rule: {
      all: [
        { field: 'orders', op: 'eq', value: 1 },
        { field: 'days_since_first_order', op: 'between', value: [30, 90] },
      ],
    },
  },
  {
    name: 'lapsing-regulars',
    description:
      'three or more orders, late by their own rhythm (last order + their average gap has passed), within the last year',
    rule: {
      all: [
        { field: 'orders', op: 'gte', value: 3 },
        { field: 'usual_next_order_at', op: 'is_past' },
        { field: 'days_since_last_order', op: 'lte', value: 365 },
      ],
    },
  },
  {
    name: 'vip',
    description: 'Champions by RFM, or the top CLV decile: reward them',
    rule: {
      any: [
        { field: 'rfm_segment', op: 'eq', value: 'Champions' },
        { field: 'clv_decile', op: 'eq', value: 10 },
      ],
    },
  },
  {
    name: 'at-risk-high-value',
    description: 'P(alive) below 0.5 and CLV in the top decile: win them back first',
    rule: {
      all: [
        { field: 'p_alive', op: 'lt', value: 0.5 },
        { field: 'clv_decile', op: 'eq', value: 10 },
      ],
    },
  },
  {
    name: 'win-back',
    description: 'RFM At risk or Cannot lose them: good customers going quiet',
    rule: { field: 'rfm_segment', op: 'in', value: ['At risk', 'Cannot lose them'] },
  },
  {
    name: 'abandoned-checkout',
    description: 'started a checkout in the last 7 days and has not ordered since (retargeting)',
    rule: { field: 'event', op: 'did', event: 'checkout_started', days: 7, no_order_since: true },
  },
  {
    name: 'recent-visitors-no-order',
    description: 'a `view` event in the last 30 days, no order since (retargeting audience)',
    rule: { field: 'event', op: 'did', event: 'view', days: 30, no_order_since: true },
  },
];

/** The family of built-ins by favourite category: `favourite:<category>` (any category of the catalogue). */
export const FAVOURITE_PREFIX = 'favourite:';

export function favouriteSegment(category: string): BuiltinSegment {
  return {
    name: `${FAVOURITE_PREFIX}${category}`,
    description: `customers whose favourite category (most spend) is ${category}`,
    rule: { field: 'favourite_category', op: 'eq', value: category },
  };
}

export function builtinSegment(name: string): BuiltinSegment | undefined {
  if (name.startsWith(FAVOURITE_PREFIX) && name.length > FAVOURITE_PREFIX.length)
    return favouriteSegment(name.slice(FAVOURITE_PREFIX.length));
  return BUILTIN_SEGMENTS.find((b) => b.name === name);
}
