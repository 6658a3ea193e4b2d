import { RFM_SEGMENTS } from '../../analytics/metrics/rfm.js';
import type { Calendar } from '../../analytics/calendar.js';
import { AppError } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import { CONSENT_CHANNELS } from '../customers/schema.js';

/**
 * A segment's definition: a rule tree of `all` / `any` / `not` over conditions, each condition one
 * field, an operator and its value (docs/segments.md lists every field). This file is the language:
 * the field catalogue, the operators each type takes, and the check that turns a JSON value into a
 * validated tree — every problem named by its path in the tree (`rule.all[2].any[0].field`). sql.ts
 * compiles a checked tree to one SQL statement; the tests evaluate the same tree in memory.
 */

export type FieldType = 'text' | 'number' | 'date' | 'flag';

/** Which parameter a field needs besides op/value. */
type Param = 'channel' | 'event' | 'product' | 'days';

export interface FieldSpec {
  type: FieldType;
  /** What the field means (docs and `retain segments fields`). */
  doc: string;
  /** Parameters the field takes (`days` optional unless in `requires`). */
  params?: readonly Param[];
  requires?: readonly Param[];
  /** Text fields with a fixed set of values. */
  values?: readonly string[];
  /** Number fields holding whole numbers only (counts, minor units, scores). */
  integer?: boolean;
}

export const FIELDS = {
  // Customer attributes.
  country: { type: 'text', doc: 'the country on the customer record' },
  acquisition_channel: { type: 'text', doc: 'the channel the customer was acquired through' },
  locale: { type: 'text', doc: "the contact's locale (e.g. uk, en)" },
  email: { type: 'text', doc: 'the email address (is_set: has one)' },
  phone: { type: 'text', doc: 'the phone number (is_set: has one)' },
  birthday_month: { type: 'number', integer: true, doc: 'month of the birthday, 1–12' },
  created_at: { type: 'date', doc: 'when the customer record was created' },
  consent: {
    type: 'text',
    params: ['channel'],
    requires: ['channel'],
    values: ['granted', 'denied', 'unsubscribed', 'unknown'],
    doc: 'consent status for `channel` (email, sms, messenger, ads); never recorded = unknown',
  },
  tag: { type: 'flag', doc: 'has the tag `value` (op has / has_not)' },
  // Order aggregates (sale orders in the store currency; refreshed with the scores).
  orders: { type: 'number', integer: true, doc: 'number of orders' },
  revenue_minor: { type: 'number', integer: true, doc: 'net revenue (minor units, refunds taken off)' },
  aov_minor: { type: 'number', integer: true, doc: 'average order value (minor units, rounded)' },
  first_order_at: { type: 'date', doc: 'the first order' },
  last_order_at: { type: 'date', doc: 'the last order' },
  days_since_last_order: { type: 'number', integer: true, doc: 'whole days since the last order' },
  days_since_first_order: { type: 'number', integer: true, doc: 'whole days since the first order (tenure)' },
  favourite_category: { type: 'text', doc: 'the product category with the most spend' },
  revenue_decile: {
    type: 'number',
    integer: true,
    doc: 'net revenue decile among buyers, 10 = the top tenth',
  },
  orders_decile: {
    type: 'number',
    integer: true,
    doc: 'order-count decile among buyers, 10 = the most frequent',
  },
  tenure_decile: {
    type: 'number',
    integer: true,
    doc: 'tenure decile among buyers, 10 = the longest-standing',
  },
  usual_next_order_at: {
    type: 'date',
    doc: "the last order plus the customer's average gap between orders (2+ orders; is_past: late by their own rhythm)",
  },
  orders_within: {
    type: 'number',
    integer: true,
    params: ['days'],
    requires: ['days'],
    doc: 'orders in the last `days` days',
  },
  bought: {
    type: 'flag',
    params: ['product', 'days'],
    requires: ['product'],
    doc: 'bought a product of `category` or the `sku` (op ever / never; within `days` when given)',
  },
  // Site events.
  event: {
    type: 'flag',
    params: ['event', 'days'],
    requires: ['event'],
    doc: 'did event `event` (op did / did_not; within `days` when given; `no_order_since`: and no order after it)',
  },
  // RFM (refreshed with the scores).
  rfm_segment: { type: 'text', values: RFM_SEGMENTS, doc: 'the RFM segment' },
  rfm_r: { type: 'number', integer: true, doc: 'recency score 1–5' },
  rfm_f: { type: 'number', integer: true, doc: 'frequency score 1–5' },
  rfm_m: { type: 'number', integer: true, doc: 'monetary score 1–5' },
  // Predictions (the latest CLV run, refreshed with the scores).
  p_alive: { type: 'number', doc: 'probability the customer is still active (0–1)' },
  churn_risk: { type: 'number', doc: '1 − p_alive' },
  expected_purchases: { type: 'number', doc: "expected purchases over the run's horizon" },
  clv_minor: { type: 'number', integer: true, doc: 'predicted CLV (minor units)' },
  clv_decile: { type: 'number', integer: true, doc: 'CLV decile, 10 = the top tenth' },
  next_order_at: { type: 'date', doc: 'when the next order is expected (is_past: overdue)' },
  // Loyalty (the ledger's cached totals; not set = not a member).
  loyalty_tier: { type: 'text', doc: "the member's loyalty tier (is_set: has a tier)" },
  loyalty_points: {
    type: 'number',
    integer: true,
    doc: 'loyalty points available to spend (is_set: a member)',
  },
  loyalty_enrolled_at: { type: 'date', doc: 'when the customer joined the loyalty programme' },
  loyalty_points_expire_at: {
    type: 'date',
    doc: "the soonest expiry of the member's available points (within_next_days: points about to expire)",
  },
} as const satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;

export const OPS: Record<FieldType, readonly string[]> = {
  text: ['eq', 'neq', 'in', 'not_in', 'is_set', 'is_not_set'],
  number: ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'between', 'is_set', 'is_not_set'],
  date: [
    'before',
    'after',
    'between',
    'within_last_days',
    'more_than_days_ago',
    'within_next_days',
    'is_past',
    'is_future',
    'is_set',
    'is_not_set',
  ],
  flag: [],
};
export const FLAG_OPS: Record<string, readonly [string, string]> = {
  tag: ['has', 'has_not'],
  bought: ['ever', 'never'],
  event: ['did', 'did_not'],
};

export type CondOp =
  | 'eq'
  | 'neq'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'in'
  | 'not_in'
  | 'between'
  | 'before'
  | 'after'
  | 'within_last_days'
  | 'more_than_days_ago'
  | 'within_next_days'
  | 'is_past'
  | 'is_future'
  | 'is_set'
  | 'is_not_set';

/**
 * A checked condition: values parsed (dates to instants), parameters present. Number values are
 * numbers, text values strings, `in` lists of strings, `between` a pair, date values instants, and
 * the `…_days` operators a whole number of days.
 */
export type Condition =
  | {
      kind: 'cond';
      field: FieldName;
      op: CondOp;
      value?: number | string | string[] | Date | [number, number] | [Date, Date];
      /** consent: the channel. */
      channel?: string;
      /** orders_within: the window. */
      days?: number;
    }
  | { kind: 'flag'; field: 'tag'; positive: boolean; tag: string }
  | { kind: 'flag'; field: 'bought'; positive: boolean; category?: string; sku?: string; days?: number }
  | { kind: 'flag'; field: 'event'; positive: boolean; event: string; days?: number; noOrderSince: boolean };

export type Rule =
  { kind: 'all'; rules: Rule[] } | { kind: 'any'; rules: Rule[] } | { kind: 'not'; rule: Rule } | Condition;

export interface RuleIssue {
  path: string;
  message: string;
}

const KNOWN_KEYS = new Set([
  'field',
  'op',
  'value',
  'channel',
  'category',
  'sku',
  'event',
  'days',
  'no_order_since',
]);
const MAX_DEPTH = 12;
const MAX_CONDITIONS = 200;

/** Checks a rule tree; throws a validation error naming every problem by its path. */
export function parseRule(input: unknown, calendar: Calendar, root = 'rule'): Rule {
  const issues: RuleIssue[] = [];
  let conditions = 0;
  const fail = (path: string, message: string): null => (issues.push({ path, message }), null);

  const node = (v: unknown, path: string, depth: number): Rule | null => {
    if (depth > MAX_DEPTH) return fail(path, `the tree is nested deeper than ${MAX_DEPTH} levels`);
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      return fail(path, 'expected an object: {"all": [...]}, {"any": [...]}, {"not": {...}} or a condition');
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    for (const group of ['all', 'any'] as const) {
      if (!(group in o)) continue;
      if (keys.length !== 1)
        return fail(
          path,
          `'${group}' stands alone in its object, found also ${keys.filter((k) => k !== group).join(', ')}`,
        );
      const list = o[group];
      if (!Array.isArray(list)) return fail(`${path}.${group}`, `expected a list of rules`);
      if (list.length === 0) return fail(`${path}.${group}`, `an '${group}' needs at least one rule`);
      const rules = list.map((r, i) => node(r, `${path}.${group}[${i}]`, depth + 1));
      return rules.every((r) => r !== null) ? { kind: group, rules: rules as Rule[] } : null;
    }
    if ('not' in o) {
      if (keys.length !== 1) return fail(path, `'not' stands alone in its object`);
      const inner = node(o.not, `${path}.not`, depth + 1);
      return inner && { kind: 'not', rule: inner };
    }
    if (++conditions > MAX_CONDITIONS)
      return fail(path, `a segment has at most ${MAX_CONDITIONS} conditions`);
    return condition(o, path);
  };

  const condition = (o: Record<string, unknown>, path: string): Rule | null => {
    for (const k of Object.keys(o))
      if (!KNOWN_KEYS.has(k))
        return fail(
          `${path}.${k}`,
          `unknown key (a condition has field, op, value and the field's parameters)`,
        );
    if (typeof o.field !== 'string')
      return fail(`${path}.field`, 'is required (e.g. "orders"), or use all / any / not');
    if (!(o.field in FIELDS))
      return fail(`${path}.field`, `unknown field '${o.field}' (fields: ${Object.keys(FIELDS).join(', ')})`);
    const field = o.field as FieldName;
    const spec: FieldSpec = FIELDS[field];
    const params = spec.params ?? [];
    // Parameters: only those the field takes; the required ones present.
    const given: Record<Param, boolean> = {
      channel: o.channel !== undefined,
      event: o.event !== undefined,
      product: o.category !== undefined || o.sku !== undefined,
      days: o.days !== undefined,
    };
    for (const p of ['channel', 'event', 'days'] as const)
      if (given[p] && !params.includes(p)) return fail(`${path}.${p}`, `field '${field}' takes no ${p}`);
    if (given.product && !params.includes('product'))
      return fail(
        `${path}.${o.category !== undefined ? 'category' : 'sku'}`,
        `field '${field}' takes no category or sku`,
      );
    if (o.no_order_since !== undefined && field !== 'event')
      return fail(`${path}.no_order_since`, `only an event condition takes no_order_since`);
    for (const p of spec.requires ?? [])
      if (!given[p])
        return fail(
          `${path}.${p === 'product' ? 'category' : p}`,
          p === 'product' ? `field '${field}' needs a category or a sku` : `field '${field}' needs ${p}`,
        );
    let days: number | undefined;
    if (given.days) {
      if (!(typeof o.days === 'number' && Number.isInteger(o.days) && o.days >= 1 && o.days <= 36_500))
        return fail(
          `${path}.days`,
          `expected a whole number of days from 1 to 36500, got ${JSON.stringify(o.days)}`,
        );
      days = o.days;
    }
    if (typeof o.op !== 'string') return fail(`${path}.op`, 'is required');
    const op = o.op;

    if (spec.type === 'flag') {
      const [yes, no] = FLAG_OPS[field]!;
      if (op !== yes && op !== no)
        return fail(`${path}.op`, `'${op}' does not apply to field '${field}' (${yes}, ${no})`);
      const positive = op === yes;
      if (field === 'tag') {
        if (typeof o.value !== 'string' || o.value.trim() === '')
          return fail(`${path}.value`, 'expected the tag (a non-empty string)');
        return { kind: 'flag', field, positive, tag: o.value.trim() };
      }
      if (o.value !== undefined) return fail(`${path}.value`, `field '${field}' takes no value`);
      if (field === 'bought') {
        if (o.category !== undefined && o.sku !== undefined)
          return fail(`${path}.sku`, 'give a category or a sku, not both');
        const what = o.category ?? o.sku;
        if (typeof what !== 'string' || what.trim() === '')
          return fail(
            `${path}.${o.category !== undefined ? 'category' : 'sku'}`,
            'expected a non-empty string',
          );
        return {
          kind: 'flag',
          field,
          positive,
          ...(o.category !== undefined ? { category: what } : { sku: what }),
          ...(days !== undefined ? { days } : {}),
        };
      }
      if (typeof o.event !== 'string' || o.event.trim() === '')
        return fail(`${path}.event`, 'expected the event type (e.g. checkout_started)');
      if (o.no_order_since !== undefined && typeof o.no_order_since !== 'boolean')
        return fail(`${path}.no_order_since`, 'expected true or false');
      const noOrderSince = o.no_order_since === true;
      if (noOrderSince && !positive) return fail(`${path}.no_order_since`, "only with op 'did'");
      return {
        kind: 'flag',
        field: 'event',
        positive,
        event: o.event,
        noOrderSince,
        ...(days !== undefined ? { days } : {}),
      };
    }

    const ops = OPS[spec.type];
    if (!ops.includes(op))
      return fail(
        `${path}.op`,
        `'${op}' does not apply to ${spec.type} field '${field}' (${ops.join(', ')})`,
      );
    const channel = field === 'consent' ? channelOf(o.channel, `${path}.channel`) : undefined;
    if (field === 'consent' && channel === null) return null;
    const extra = { ...(channel ? { channel } : {}), ...(days !== undefined ? { days } : {}) };
    const vpath = `${path}.value`;
    const v = o.value;
    if (op === 'is_set' || op === 'is_not_set' || op === 'is_past' || op === 'is_future') {
      if (v !== undefined) return fail(vpath, `'${op}' takes no value`);
      return { kind: 'cond', field, op, ...extra };
    }
    if (v === undefined) return fail(vpath, `'${op}' needs a value`);
    if (spec.type === 'text') {
      const text = (x: unknown, p: string) => {
        if (typeof x !== 'string') return fail(p, `expected a string, got ${JSON.stringify(x)}`);
        if (spec.values && !spec.values.includes(x))
          return fail(p, `'${x}' is not a value of ${field} (${spec.values.join(', ')})`);
        return x;
      };
      if (op === 'in' || op === 'not_in') {
        if (!Array.isArray(v) || v.length === 0)
          return fail(vpath, `'${op}' needs a non-empty list of strings`);
        const list = v.map((x, i) => text(x, `${vpath}[${i}]`));
        return list.every((x) => x !== null)
          ? { kind: 'cond', field, op, value: list as string[], ...extra }
          : null;
      }
      const t = text(v, vpath);
      return t === null ? null : { kind: 'cond', field, op: op as CondOp, value: t, ...extra };
    }
    if (spec.type === 'number') {
      const num = (x: unknown, p: string) => {
        if (typeof x !== 'number' || !Number.isFinite(x))
          return fail(p, `expected a number, got ${JSON.stringify(x)}`);
        if (spec.integer && !Number.isSafeInteger(x))
          return fail(p, `expected a whole number for ${field}, got ${x}`);
        return x;
      };
      if (op === 'between') {
        if (!Array.isArray(v) || v.length !== 2) return fail(vpath, "'between' needs [low, high]");
        const lo = num(v[0], `${vpath}[0]`);
        const hi = num(v[1], `${vpath}[1]`);
        if (lo === null || hi === null) return null;
        if (lo > hi) return fail(vpath, `low ${lo} is above high ${hi}`);
        return { kind: 'cond', field, op, value: [lo, hi], ...extra };
      }
      const n = num(v, vpath);
      return n === null ? null : { kind: 'cond', field, op: op as CondOp, value: n, ...extra };
    }
    // Dates.
    if (op === 'within_last_days' || op === 'more_than_days_ago' || op === 'within_next_days') {
      if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 36_500))
        return fail(vpath, `expected a whole number of days from 0 to 36500, got ${JSON.stringify(v)}`);
      return { kind: 'cond', field, op, value: v };
    }
    const date = (x: unknown, p: string, end: boolean) => {
      const d = typeof x === 'string' ? instantOf(x, calendar, end) : null;
      return d ?? fail(p, `expected a date YYYY-MM-DD or an ISO 8601 instant, got ${JSON.stringify(x)}`);
    };
    if (op === 'between') {
      if (!Array.isArray(v) || v.length !== 2) return fail(vpath, "'between' needs [from, to]");
      const a = date(v[0], `${vpath}[0]`, false);
      const b = date(v[1], `${vpath}[1]`, true);
      if (!a || !b) return null;
      if (a.getTime() > b.getTime()) return fail(vpath, 'from is after to');
      return { kind: 'cond', field, op, value: [a, b] };
    }
    // before D: earlier than D's start; after D: later than D's end (a whole day either way).
    const d = date(v, vpath, op === 'after');
    return d && { kind: 'cond', field, op: op as CondOp, value: d };
  };

  const channelOf = (c: unknown, p: string): string | null =>
    typeof c === 'string' && (CONSENT_CHANNELS as readonly string[]).includes(c)
      ? c
      : fail(p, `expected a consent channel (${CONSENT_CHANNELS.join(', ')}), got ${JSON.stringify(c)}`);

  const tree = node(input, root, 0);
  if (!tree || issues.length > 0) {
    const first = issues[0] ?? { path: root, message: 'invalid rule' };
    throw new AppError('validation', `invalid segment rule: ${first.path}: ${first.message}`, {
      where: { field: first.path },
      details: { issues },
    });
  }
  return tree;
}

/**
 * A rule's date: `YYYY-MM-DD` is a whole day in the store time zone (its first instant, or with `end`
 * the first instant of the next day); an ISO 8601 instant is itself.
 */
export function instantOf(text: string, calendar: Calendar, end: boolean): Date | null {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (day) {
    const ms = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    const back = new Date(ms);
    if (
      back.getUTCFullYear() !== Number(day[1]) ||
      back.getUTCMonth() + 1 !== Number(day[2]) ||
      back.getUTCDate() !== Number(day[3])
    )
      return null;
    return new Date(calendar.dayStartMs(ms / DAY_MS + (end ? 1 : 0)));
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(text.trim()))
    return null;
  const t = Date.parse(text);
  return Number.isFinite(t) ? new Date(t) : null;
}

/** The conditions of a tree, in order (for the fields a rule reads). */
export function conditionsOf(rule: Rule): Condition[] {
  if (rule.kind === 'all' || rule.kind === 'any') return rule.rules.flatMap(conditionsOf);
  if (rule.kind === 'not') return conditionsOf(rule.rule);
  return [rule];
}
