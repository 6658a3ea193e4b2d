import type { SqlValue } from '../../storage/port.js';
import { DAY_MS } from '../../shared/time.js';
import { SALE_STATUSES } from '../imports/schema.js';
import type { Condition, Rule } from './rules.js';

/**
 * A checked rule tree (rules.ts) → one SQL predicate over `customers c LEFT JOIN customer_scores s`,
 * Postgres-flavoured, the same text on DuckDB and Postgres. Every condition is TRUE or FALSE, never
 * NULL (a comparison with a missing value is false; `is_not_set` asks for it), so `not` is the plain
 * complement. Order aggregates, RFM and predictions come from `customer_scores` (refreshed); windows
 * over orders, products bought, events and tags are subqueries. Part of the module's repository layer.
 */

export const SALE_SQL = SALE_STATUSES.map((s) => `'${s}'`).join(', ');

/** The rows every segment reads: live customers with their stored scores. */
export const SEGMENT_FROM = `customers c LEFT JOIN customer_scores s ON s.customer_id = c.customer_id`;
export const SEGMENT_BASE = `c.erased_at IS NULL`;

/** Whether customer `c` has granted consent on `channel` (a fixed channel name, not user input). */
export const consentGrantedSql = (channel: 'email' | 'sms' | 'messenger' | 'ads') =>
  `EXISTS (SELECT 1 FROM customer_consents k WHERE k.customer_id = c.customer_id AND k.channel = '${channel}' AND k.status = 'granted')`;

export interface Compiled {
  /** A boolean SQL expression over `c` and `s`. */
  where: string;
  params: SqlValue[];
}

/** Each plain field's SQL over `c` and `s` (audience exports select the same expressions). */
export const FIELD_SQL = {
  country: 'c.country',
  acquisition_channel: 'c.acquisition_channel',
  locale: 'c.locale',
  email: 'c.email',
  phone: 'c.phone',
  birthday_month: 'CAST(EXTRACT(MONTH FROM c.birthday) AS INTEGER)',
  created_at: 'c.created_at',
  orders: 'COALESCE(s.orders, 0)',
  revenue_minor: 'COALESCE(s.revenue_minor, 0)',
  aov_minor: 's.aov_minor',
  first_order_at: 's.first_order_at',
  last_order_at: 's.last_order_at',
  favourite_category: 's.favourite_category',
  rfm_segment: 's.rfm_segment',
  rfm_r: 's.rfm_r',
  rfm_f: 's.rfm_f',
  rfm_m: 's.rfm_m',
  revenue_decile: 's.revenue_decile',
  orders_decile: 's.orders_decile',
  tenure_decile: 's.tenure_decile',
  usual_next_order_at: 's.usual_next_order_at',
  p_alive: 's.p_alive',
  churn_risk: '(1 - s.p_alive)',
  expected_purchases: 's.expected_purchases',
  clv_minor: 's.clv_minor',
  clv_decile: 's.clv_decile',
  next_order_at: 's.next_order_at',
  loyalty_tier: '(SELECT lm.tier FROM loyalty_members lm WHERE lm.customer_id = c.customer_id)',
  loyalty_points: '(SELECT lm.available FROM loyalty_members lm WHERE lm.customer_id = c.customer_id)',
  loyalty_enrolled_at: '(SELECT lm.enrolled_at FROM loyalty_members lm WHERE lm.customer_id = c.customer_id)',
  loyalty_points_expire_at: `(SELECT MIN(lg.expires_at) FROM loyalty_grants lg
    WHERE lg.customer_id = c.customer_id AND lg.status = 'available' AND lg.remaining > 0)`,
} as const;
const COLUMN: Record<string, string> = FIELD_SQL;

/** Whole days since an instant column, as bounds on the column (`days ≥ N` ⇔ `col ≤ now − N days`). */
const DAYS_SINCE: Record<string, string> = {
  days_since_last_order: 's.last_order_at',
  days_since_first_order: 's.first_order_at',
};

/**
 * Compiles `rule` at `now` (the instant "days ago" counts from) for a store in `currency`;
 * placeholders start at `$first`.
 */
export function compileRule(rule: Rule, at: { now: Date; currency: string | null }, first = 1): Compiled {
  const params: SqlValue[] = [];
  const p = (v: SqlValue) => {
    params.push(v);
    return `$${first + params.length - 1}`;
  };
  const ts = (d: Date) => `${p(d)}::timestamp`;
  const daysBefore = (n: number) => ts(new Date(at.now.getTime() - n * DAY_MS));
  const now = () => ts(at.now);
  const sale = () =>
    `o.status IN (${SALE_SQL}) AND o.currency = ${p(at.currency ?? '')} AND o.ordered_at < ${now()}`;

  const cmp = (expr: string, c: Extract<Condition, { kind: 'cond' }>): string => {
    const v = c.value;
    switch (c.op) {
      case 'is_set':
        return `${expr} IS NOT NULL`;
      case 'is_not_set':
        return `${expr} IS NULL`;
      case 'eq':
        return `COALESCE(${expr} = ${p(v as SqlValue)}, FALSE)`;
      case 'neq':
        return `COALESCE(${expr} <> ${p(v as SqlValue)}, FALSE)`;
      case 'lt':
        return `COALESCE(${expr} < ${p(v as SqlValue)}, FALSE)`;
      case 'lte':
        return `COALESCE(${expr} <= ${p(v as SqlValue)}, FALSE)`;
      case 'gt':
        return `COALESCE(${expr} > ${p(v as SqlValue)}, FALSE)`;
      case 'gte':
        return `COALESCE(${expr} >= ${p(v as SqlValue)}, FALSE)`;
      case 'in':
        return `COALESCE(${expr} IN (${(v as string[]).map(p).join(', ')}), FALSE)`;
      case 'not_in':
        return `COALESCE(${expr} NOT IN (${(v as string[]).map(p).join(', ')}), FALSE)`;
      case 'between': {
        const [lo, hi] = v as [number, number] | [Date, Date];
        return lo instanceof Date
          ? `COALESCE(${expr} >= ${ts(lo)} AND ${expr} < ${ts(hi as Date)}, FALSE)`
          : `COALESCE(${expr} BETWEEN ${p(lo)} AND ${p(hi as number)}, FALSE)`;
      }
      case 'before':
        return `COALESCE(${expr} < ${ts(v as Date)}, FALSE)`;
      case 'after':
        return `COALESCE(${expr} >= ${ts(v as Date)}, FALSE)`;
      case 'within_last_days':
        return `COALESCE(${expr} >= ${daysBefore(v as number)} AND ${expr} <= ${now()}, FALSE)`;
      case 'more_than_days_ago':
        return `COALESCE(${expr} < ${daysBefore(v as number)}, FALSE)`;
      case 'within_next_days':
        return `COALESCE(${expr} >= ${now()} AND ${expr} < ${daysBefore(-(v as number))}, FALSE)`;
      case 'is_past':
        return `COALESCE(${expr} < ${now()}, FALSE)`;
      case 'is_future':
        return `COALESCE(${expr} >= ${now()}, FALSE)`;
    }
  };

  /** Whole days since `col` compared with integers, as bounds on the column itself. */
  const daysSince = (col: string, c: Extract<Condition, { kind: 'cond' }>): string => {
    const atLeast = (n: number) => `${col} <= ${daysBefore(n)}`;
    const below = (n: number) => `${col} > ${daysBefore(n)}`;
    const v = c.value as number;
    const body = (() => {
      switch (c.op) {
        case 'is_set':
          return `${col} IS NOT NULL`;
        case 'is_not_set':
          return `${col} IS NULL`;
        case 'gte':
          return atLeast(v);
        case 'gt':
          return atLeast(v + 1);
        case 'lt':
          return below(v);
        case 'lte':
          return below(v + 1);
        case 'eq':
          return `${atLeast(v)} AND ${below(v + 1)}`;
        case 'neq':
          return `(${below(v)} OR ${atLeast(v + 1)})`;
        case 'between': {
          const [lo, hi] = c.value as [number, number];
          return `${atLeast(lo)} AND ${below(hi + 1)}`;
        }
        default:
          throw new Error(`unreachable: ${c.op} on days`);
      }
    })();
    return c.op === 'is_set' || c.op === 'is_not_set' ? body : `COALESCE(${body}, FALSE)`;
  };

  const condition = (c: Condition): string => {
    if (c.kind === 'flag') {
      let sql: string;
      if (c.field === 'tag')
        sql = `EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.customer_id AND t.tag = ${p(c.tag)})`;
      else if (c.field === 'bought')
        sql =
          `EXISTS (SELECT 1 FROM order_lines l JOIN orders o ON o.order_id = l.order_id` +
          (c.category !== undefined ? ` JOIN products pr ON pr.sku = l.sku` : '') +
          ` WHERE o.customer_id = c.customer_id AND ${sale()}` +
          (c.category !== undefined ? ` AND pr.category = ${p(c.category)}` : ` AND l.sku = ${p(c.sku!)}`) +
          (c.days !== undefined ? ` AND o.ordered_at >= ${daysBefore(c.days)}` : '') +
          `)`;
      else
        sql =
          `EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.type = ${p(c.event)}` +
          ` AND e.occurred_at < ${now()}` +
          (c.days !== undefined ? ` AND e.occurred_at >= ${daysBefore(c.days)}` : '') +
          (c.noOrderSince
            ? ` AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND ${sale()} AND o.ordered_at >= e.occurred_at)`
            : '') +
          `)`;
      return c.positive ? sql : `NOT ${sql}`;
    }
    if (c.field in DAYS_SINCE) return daysSince(DAYS_SINCE[c.field]!, c);
    if (c.field === 'consent') {
      const status = `COALESCE((SELECT cc.status FROM customer_consents cc WHERE cc.customer_id = c.customer_id AND cc.channel = ${p(c.channel!)}), 'unknown')`;
      if (c.op === 'is_set') return `${status} <> 'unknown'`;
      if (c.op === 'is_not_set') return `${status} = 'unknown'`;
      return cmp(status, c);
    }
    if (c.field === 'orders_within') {
      const count = `(SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.customer_id AND ${sale()} AND o.ordered_at >= ${daysBefore(c.days!)})`;
      return cmp(count, c);
    }
    const column = COLUMN[c.field];
    if (!column) throw new Error(`no column for field ${c.field}`);
    return cmp(column, c);
  };

  const node = (r: Rule): string => {
    if (r.kind === 'all') return `(${r.rules.map(node).join(' AND ')})`;
    if (r.kind === 'any') return `(${r.rules.map(node).join(' OR ')})`;
    if (r.kind === 'not') return `(NOT ${node(r.rule)})`;
    return condition(r);
  };
  return { where: node(rule), params };
}
