/**
 * Seeded fuzz test of the HTTP ingestion (issue 20, "Must show"): random JSON shapes and values for
 * orders, refunds, events and customers — valid bodies, mutated ones (wrong types, huge, negative and
 * over-precise numbers, long strings, unicode with lone surrogates and NUL, nested objects, missing and
 * unknown fields, duplicate keys, event batches) and garbage (invalid JSON, other content types).
 * Each request must answer < 500; a 4xx must leave every table as it was; a 2xx must read back (GET
 * routes for orders and customers, the tables for refunds and events, which have no GET of their
 * own) as what was sent, after the documented normalisation (trimmed text, lower-cased emails and
 * email-like customer ids, amounts as the exact minor units of the decimal sent). The oracle below is
 * written apart from the code under test: it reads the sent JSON text with JSON.parse and decimals
 * with BigInt.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../test/support/server.js';
import { freshDatabase, testEngines } from '../../test/support/storage.js';
import type { Database } from '../storage/port.js';

const SEED = Number(process.env.RETAIN_FUZZ_SEED ?? 202005);
/** RETAIN_FUZZ_SEED / RETAIN_FUZZ_RUNS explore further; RETAIN_FUZZ_TALLY prints statuses by kind. */
const RUNS = Number(process.env.RETAIN_FUZZ_RUNS ?? 200);

type Json = unknown;
const DIGITS: Record<string, number> = { EUR: 2, JPY: 0, KWD: 3 };

// ---- generators ----

const LONE = ['\ud800', 'a\udfffb', '\udc00\ud800'];
const weirdText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(...LONE, 'x\u0000y', '  padded  ', "'quoted", 'é\u0301', '🙂', ''),
  fc.string({ minLength: 300, maxLength: 2000 }),
);
const wrongType = fc.oneof(
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.array(fc.integer(), { maxLength: 2 }),
);
const weirdNumber = fc.oneof(
  fc.double({ noNaN: true }),
  fc.constantFrom(0.1 + 0.2, 1e21, 1e-7, -1, -0, 2 ** 53 + 2, 1e15, 123456789012345, 1.5, 0.001, 1e300),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
);
const weirdAmount = fc.oneof(
  weirdNumber,
  fc.constantFrom(
    '92233720368547758.08',
    '-5',
    '1,234.50',
    '12.345',
    ' 7.5 ',
    '1e3',
    '',
    'abc',
    '.5',
    '10000000000.00',
  ),
);
/** A field's value three ways: valid, surely wrong-ish, and mostly valid (for wild bodies). */
interface Field {
  good: unknown;
  bad: unknown;
  wild: unknown;
}
const mostly = (good: fc.Arbitrary<unknown>, ...bad: fc.Arbitrary<unknown>[]): fc.Arbitrary<Field> =>
  fc.record({
    good,
    bad: fc.oneof(...bad),
    wild: fc.oneof({ arbitrary: good, weight: 6 }, ...bad.map((b) => ({ arbitrary: b, weight: 1 }))),
  });
/** Either the good arbitrary (mostly) or one of the bad ones. */
const either = (good: fc.Arbitrary<unknown>, ...bad: fc.Arbitrary<unknown>[]) =>
  fc.oneof({ arbitrary: good, weight: 6 }, ...bad.map((b) => ({ arbitrary: b, weight: 1 })));

const minorOf = (m: number, digits: number) => {
  const s = String(m).padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
};
const goodAmount = (max: number) =>
  fc.tuple(fc.integer({ min: 0, max }), fc.boolean()).map(([m, asNumber]) => ({ m, asNumber }));
const instant = fc
  .integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2030, 0, 1) })
  .chain((t) =>
    fc.constantFrom(
      new Date(t).toISOString(),
      new Date(t).toISOString().slice(0, 10),
      new Date(t).toISOString().replace('Z', '+02:00'),
    ),
  );
const badInstant = fc.constantFrom(
  'yesterday',
  '2024-02-30',
  '2024-13-01T00:00:00Z',
  1700000000,
  '01/02/2024',
);
const email = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,8}$/), fc.constantFrom('shop.com', 'example.de'))
  .map(([a, b]) => `${a}@${b}`);
const key = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _#@.-]{0,10}$/);

/**
 * A fuzzed object: valid (every field good; optional ones present or not), one field mutated (plus,
 * now and then, an unknown field, a dropped one, a bad currency), or wild (every field mostly good).
 */
function body(
  fields: Record<string, fc.Arbitrary<Field>>,
  required: string[],
  currency: string,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(fields, { requiredKeys: required }),
      fc.constantFrom('valid', 'valid', 'valid', 'one', 'one', 'wild'),
      fc.nat(),
      either(
        fc.constant(null),
        fc.tuple(
          fc.constantFrom('colour', 'extra', '__proto__x', '__proto__'),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      ),
      either(fc.constant(null), fc.constantFrom(...Object.keys(fields))),
      either(fc.constant(null), fc.constantFrom('eur', 'EURO', '€', 12, ' kwd ', 'JPY')),
    )
    .map(([r, mode, n, extra, drop, cur]) => {
      const keys = Object.keys(r);
      const mutated = keys[n % Math.max(1, keys.length)];
      const o: Record<string, unknown> = {};
      for (const k of keys) {
        const f = r[k] as Field;
        o[k] = mode === 'wild' ? f.wild : mode === 'one' && k === mutated ? f.bad : f.good;
      }
      if (mode === 'valid') {
        o.currency = currency;
        return o;
      }
      o.currency = cur ?? currency;
      if (extra) {
        const [k, v] = extra as [string, unknown];
        o[k] = v;
      }
      if (drop !== null) delete o[drop as string];
      return o;
    });
}

const amountField = (max = 500_000) =>
  mostly(
    goodAmount(max).map((a) => ({ __amount: a })),
    weirdAmount,
    wrongType,
  );

let seq = 0;
/** Ids no generated key can take (`~`), so a check can expect a fresh row. */
const unique = (prefix: string) => `fz~${prefix}-${++seq}`;

const lineArb = (currency: string) =>
  body(
    {
      sku: mostly(key, weirdText, weirdNumber, wrongType),
      title: mostly(fc.string({ maxLength: 20 }), weirdText, wrongType),
      quantity: mostly(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }).map(String),
        weirdNumber,
        weirdAmount,
        wrongType,
      ),
      unit_price: amountField(),
      line_total: amountField(),
    },
    ['sku', 'quantity', 'unit_price'],
    currency,
  ).map((l) => {
    delete l.currency; // a line carries no currency (the order's applies)
    return l;
  });

const orderArb = fc.constantFrom('EUR', 'JPY', 'KWD').chain((currency) =>
  fc
    .tuple(
      body(
        {
          order_id: mostly(either(fc.constant('__unique'), key), weirdText, weirdNumber, wrongType),
          customer_id: mostly(key, weirdText, wrongType),
          ordered_at: mostly(instant, badInstant, wrongType),
          email: mostly(email, weirdText, wrongType),
          discount: amountField(1000),
          shipping: amountField(1000),
          tax: amountField(1000),
          order_total: amountField(),
          status: mostly(
            fc.constantFrom('paid', 'pending', 'cancelled', 'Completed', 'refunded'),
            weirdText,
            wrongType,
          ),
          channel: mostly(fc.string({ maxLength: 10 }), weirdText, wrongType),
          email_consent: mostly(fc.constantFrom(true, false, 'yes', 'granted'), weirdText, weirdNumber),
          lines: mostly(
            fc.array(lineArb(currency), { maxLength: 4 }),
            fc.constant('lines'),
            fc.array(fc.integer(), { maxLength: 2 }),
            fc.array(fc.constant({ sku: 'A', quantity: 1, unit_price: '1', title: { nested: [1] } }), {
              maxLength: 2,
            }),
          ),
        },
        ['order_id', 'ordered_at', 'lines'],
        currency,
      ),
      either(fc.constant(true), fc.constant(false)),
      fc.boolean(),
    )
    .map(([{ lines, ...order }, consistentTotals, withLineTotals]) => ({
      order,
      lines,
      consistentTotals: consistentTotals as boolean,
      withLineTotals,
      currency,
    })),
);

const refundArb = fc.constantFrom('EUR', 'JPY').chain((currency) =>
  body(
    {
      refund_id: mostly(either(fc.constant('__unique'), key), weirdText, weirdNumber, wrongType),
      order_id: mostly(key, weirdText, wrongType),
      customer_id: mostly(key, weirdText, wrongType),
      amount: amountField(),
      refunded_at: mostly(instant, badInstant, wrongType),
      reason: mostly(fc.string({ maxLength: 30 }), weirdText, wrongType),
    },
    ['refund_id', 'amount', 'refunded_at'],
    currency,
  ),
);

const propertiesArb = mostly(
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  fc.dictionary(fc.constantFrom('a', 'b'), fc.constantFrom(...LONE, 'n\u0000', 1e300, -0), { maxKeys: 2 }),
  fc.constant('{"x":1}'),
  fc.constant('not json'),
  wrongType,
);
const eventArb = body(
  {
    event_id: mostly(either(fc.constant('__unique'), key), weirdText, weirdNumber, wrongType),
    customer_id: mostly(key, weirdText, wrongType),
    anonymous_id: mostly(key, weirdText, wrongType),
    type: mostly(
      fc.constantFrom('page_view', 'add_to_cart', 'checkout.started'),
      fc.constantFrom('Add To Cart', ''),
      weirdText,
      wrongType,
    ),
    occurred_at: mostly(instant, badInstant, wrongType),
    properties: propertiesArb,
  },
  ['event_id', 'type', 'occurred_at'],
  'EUR',
).map((e) => {
  delete e.currency;
  return e;
});
const eventsArb = either(
  fc.array(eventArb, { minLength: 1, maxLength: 6 }).map((events) => ({ events })),
  fc.constant({ events: [] }),
  fc.constant({ events: 'x' }),
  fc.array(eventArb, { maxLength: 2 }),
);

const customerArb = body(
  {
    customer_id: mostly(either(fc.constant('__unique'), key), weirdText, weirdNumber, wrongType),
    email: mostly(
      email.map((e) => ` ${e.toUpperCase()} `),
      weirdText,
      wrongType,
    ),
    first_name: mostly(fc.string({ maxLength: 12 }), weirdText, weirdNumber, wrongType),
    last_name: mostly(fc.string({ maxLength: 12 }), weirdText, wrongType),
    phone: mostly(fc.stringMatching(/^\+?[0-9 ]{5,12}$/), weirdText, wrongType),
    birthday: mostly(
      fc.constantFrom('1990-05-17', '2000-02-29'),
      fc.constantFrom('1990-02-30', 'May'),
      wrongType,
    ),
    country: mostly(fc.constantFrom('DE', 'US', ' fr '), weirdText, wrongType),
    email_consent: mostly(
      fc.constantFrom(true, false, 'granted', 'no', 'unsubscribed'),
      weirdText,
      weirdNumber,
    ),
    created_at: mostly(instant, badInstant, wrongType),
  },
  ['customer_id'],
  'EUR',
).map((c) => {
  delete c.currency;
  return c;
});

const garbageArb = fc.record({
  path: fc.constantFrom('/v1/orders', '/v1/refunds', '/v1/events', '/v1/customers', '/v1/customers/g-1'),
  text: fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '',
      '{',
      '{"order_id":',
      'null',
      '[]',
      '1e400',
      '"x"',
      '{"a":1}{"b":2}',
      '\u0000',
      '{"order_id":"x"',
    ),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
  ),
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
  ),
});

interface OrderGen {
  order: Record<string, unknown>;
  lines: unknown;
  consistentTotals: boolean;
  withLineTotals: boolean;
  currency: string;
}
type Req =
  | { kind: 'order'; v: OrderGen }
  | { kind: 'refund'; v: Record<string, unknown> }
  | { kind: 'events'; v: unknown }
  | { kind: 'customer'; v: Record<string, unknown>; put: boolean; dupKey: boolean }
  | { kind: 'garbage'; v: { path: string; text: string; contentType: string } };

const requestArb: fc.Arbitrary<Req> = fc.oneof(
  { arbitrary: orderArb.map((v) => ({ kind: 'order' as const, v })), weight: 4 },
  { arbitrary: refundArb.map((v) => ({ kind: 'refund' as const, v })), weight: 2 },
  { arbitrary: eventsArb.map((v) => ({ kind: 'events' as const, v })), weight: 2 },
  {
    arbitrary: fc
      .tuple(customerArb, fc.boolean(), fc.boolean())
      .map(([v, put, dupKey]) => ({ kind: 'customer' as const, v, put, dupKey })),
    weight: 2,
  },
  { arbitrary: garbageArb.map((v) => ({ kind: 'garbage' as const, v })), weight: 1 },
);

// ---- the oracle: what a 2xx must have stored, from the JSON text sent ----

/** The decimal text a JSON value stands for, when the documented rule takes it; undefined otherwise. */
function decimalText(v: Json): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  const s = String(v);
  if (/e/i.test(s)) return undefined;
  const sig = s.replace(/[-.]/g, '').replace(/^0+/, '');
  return sig.length <= 15 ? s : undefined;
}
/** Exact minor units of a plain decimal (rounded half away from zero), by BigInt; undefined if not a decimal. */
function minor(v: Json, digits: number, times = 1): number | undefined {
  const s = decimalText(v);
  if (s === undefined) return undefined;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let units = BigInt((m[2] || '0') + frac) * BigInt(times);
  let scale = frac.length;
  while (scale < digits) {
    units *= 10n;
    scale++;
  }
  if (scale > digits) {
    const d = 10n ** BigInt(scale - digits);
    const q = units / d;
    units = (units % d) * 2n >= d ? q + 1n : q;
  }
  return Number(m[1] === '-' ? -units : units);
}
const text = (v: Json): string | null => {
  if (v === null || v === undefined || v === '') return null;
  const s = decimalText(v) ?? (typeof v === 'boolean' ? String(v) : undefined);
  if (s === undefined) return `<unexpected ${typeof v}>`;
  return s === '' ? null : s;
};
const customerKey = (v: Json) => {
  const s = text(v);
  if (s === null) return null;
  const k = s.replace(/^'+\s*/, '');
  return k.includes('@') ? k.toLowerCase() : k;
};
const instantOf = (v: Json): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return `${t}T00:00:00.000Z`;
  const d = new Date(t);
  return /^\d{4}-\d{2}-\d{2}T/.test(t) && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
};
/** JSON with sorted keys: equal for equal values whatever the key order (PostgreSQL's jsonb reorders). */
const canonical = (v: Json): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );

const STATUS: Record<string, string> = {
  paid: 'paid',
  pending: 'pending',
  cancelled: 'cancelled',
  Completed: 'paid',
  refunded: 'refunded',
};

// ---- the test ----

describe.each(testEngines())('HTTP ingestion fuzz on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
  });
  afterAll(() => dispose());

  const TABLES = ['orders', 'order_lines', 'refunds', 'events', 'customers', 'customer_consents', 'products'];
  const counts = async () =>
    (
      await db.query<Record<string, number>>(
        `SELECT ${TABLES.map((x) => `(SELECT COUNT(*) FROM ${x}) AS ${x}`).join(', ')}`,
      )
    )[0];

  /** Materialises a generated body: unique ids, amounts as strings or exact JSON numbers, consistent totals. */
  function orderText(r: OrderGen): string {
    const digits = DIGITS[r.currency]!;
    const amount = (x: unknown) => {
      if (!x || typeof x !== 'object' || !('__amount' in x)) return x;
      const { m, asNumber } = (x as { __amount: { m: number; asNumber: boolean } }).__amount;
      const s = minorOf(m, digits);
      return asNumber && decimalText(Number(s)) === String(Number(s)) ? Number(s) : s;
    };
    const o: Record<string, unknown> = { ...r.order };
    if (o.order_id === '__unique') o.order_id = unique('o');
    for (const f of ['discount', 'shipping', 'tax', 'order_total']) if (f in o) o[f] = amount(o[f]);
    let lines = r.lines;
    if (Array.isArray(lines))
      lines = lines.map((l) => {
        if (!l || typeof l !== 'object') return l;
        const x: Record<string, unknown> = { ...(l as Record<string, unknown>) };
        for (const f of ['unit_price', 'line_total']) if (f in x) x[f] = amount(x[f]);
        const q = minor(x.quantity as Json, 0);
        const p = minor(x.unit_price as Json, digits);
        if (r.withLineTotals && q !== undefined && p !== undefined) x.line_total = minorOf(q * p, digits);
        else if (!r.withLineTotals || q === undefined) delete x.line_total;
        return x;
      });
    if (r.consistentTotals && Array.isArray(lines)) {
      const sub = lines.reduce<number | undefined>((s, l) => {
        const x = l as Record<string, unknown>;
        const q = minor(x?.quantity as Json, 0);
        const lt =
          minor(x?.line_total as Json, digits) ??
          (q !== undefined ? minor(x?.unit_price as Json, digits, q) : undefined);
        return s === undefined || lt === undefined ? undefined : s + lt;
      }, 0);
      const parts = ['discount', 'shipping', 'tax'].map((f) => (f in o ? minor(o[f] as Json, digits) : 0));
      if (sub !== undefined && parts.every((p) => p !== undefined)) {
        const [d, s, tx] = parts as number[];
        const total = sub - d! + s! + tx!;
        if (total >= 0) o.order_total = minorOf(total, digits);
      }
    }
    return JSON.stringify({ ...o, ...(lines === undefined ? {} : { lines }) });
  }

  async function checkOrder(sent: Record<string, unknown>, status: number, json: Record<string, unknown>) {
    if (status >= 300) return;
    const id = text(sent.order_id)!;
    const back = await t.call('GET', `/v1/orders/${encodeURIComponent(id)}`, { role: 'admin' });
    expect(back.status).toBe(200);
    const o = back.json as Record<string, unknown> & { lines: Record<string, unknown>[] };
    expect(o).toEqual(json);
    const cur = (text(sent.currency) ?? 'EUR').toUpperCase();
    const digits = DIGITS[cur] ?? 2;
    const amt = (f: string) => (text(sent[f]) === null ? 0 : minor(sent[f], digits));
    const lines = (Array.isArray(sent.lines) ? sent.lines : []) as Record<string, unknown>[];
    const want = lines.map((l, i) => {
      const q = minor(l.quantity, 0)!;
      const lt = text(l.line_total) !== null ? minor(l.line_total, digits) : minor(l.unit_price, digits, q);
      return {
        lineNo: i + 1,
        sku: text(l.sku),
        title: text(l.title),
        quantity: q,
        // Without a unit_price, the line's total over its quantity (docs/import-formats.md).
        unitPriceMinor: text(l.unit_price) !== null ? minor(l.unit_price, digits) : Math.round(lt! / q),
        lineTotalMinor: lt,
      };
    });
    const subtotal = want.reduce((s, l) => s + l.lineTotalMinor!, 0);
    const [d, s, tx] = [amt('discount')!, amt('shipping')!, amt('tax')!];
    expect({ ...o, lines: o.lines }).toMatchObject({
      id,
      customerId: customerKey(sent.customer_id),
      orderedAt: instantOf(sent.ordered_at),
      currency: cur,
      subtotalMinor: subtotal,
      discountMinor: d,
      shippingMinor: s,
      taxMinor: tx,
      totalMinor: text(sent.order_total) !== null ? minor(sent.order_total, digits) : subtotal - d + s + tx,
      channel: text(sent.channel),
      ...(typeof sent.status === 'string' && STATUS[sent.status] ? { status: STATUS[sent.status] } : {}),
      lineCount: want.length,
      lines: want,
    });
  }

  async function checkRefund(sent: Record<string, unknown>, status: number) {
    if (status >= 300) return;
    const id = text(sent.refund_id)!;
    const [r] = await db.query<{
      amount_minor: number;
      currency: string;
      refunded_at: Date;
      reason: string | null;
    }>(`SELECT amount_minor, currency, refunded_at, reason FROM refunds WHERE external_id = $1`, [id]);
    const cur = (text(sent.currency) ?? 'EUR').toUpperCase();
    expect(r).toEqual({
      amount_minor: minor(sent.amount, DIGITS[cur] ?? 2),
      currency: cur,
      refunded_at: new Date(instantOf(sent.refunded_at)!),
      reason: text(sent.reason),
    });
  }

  async function checkEvents(
    sent: unknown,
    status: number,
    json: Record<string, unknown>,
    stored: Set<string>,
  ) {
    if (status >= 300) return;
    const items = (sent as { events: Record<string, unknown>[] }).events;
    const rejected = new Set((json.rejected as { index: number }[]).map((r) => r.index));
    for (const [i, e] of items.entries()) {
      if (rejected.has(i)) continue;
      const id = text(e.event_id)!;
      if (stored.has(id)) continue; // a duplicate of an earlier request: the first one stands
      const [r] = await db.query<{
        type: string;
        occurred_at: Date;
        anonymous_id: string | null;
        properties: string | null;
        ext: string | null;
      }>(
        `SELECT e.type, e.occurred_at, e.anonymous_id, CAST(e.properties AS TEXT) AS properties, c.external_id AS ext
         FROM events e LEFT JOIN customers c ON c.customer_id = e.customer_id WHERE e.event_id = $1`,
        [id],
      );
      if (items.findIndex((x, j) => !rejected.has(j) && text(x.event_id) === id) !== i) continue; // first wins
      if (!r) throw new Error(`accepted event ${id} is not stored`);
      const props =
        e.properties === undefined || e.properties === null || e.properties === ''
          ? {}
          : typeof e.properties === 'string'
            ? JSON.parse(e.properties)
            : e.properties;
      expect({ ...r, properties: canonical(JSON.parse(r.properties ?? '{}')) }).toEqual({
        type: e.type,
        occurred_at: new Date(instantOf(e.occurred_at)!),
        anonymous_id: text(e.anonymous_id),
        properties: canonical(props),
        ext: customerKey(e.customer_id),
      });
    }
  }

  async function checkCustomer(sent: Record<string, unknown>, status: number, json: Record<string, unknown>) {
    if (status >= 300) return;
    const id = customerKey(sent.customer_id)!;
    const back = await t.call('GET', `/v1/customers/${encodeURIComponent(id)}`, { role: 'admin' });
    expect(back.status).toBe(200);
    expect(back.json).toEqual(json);
    const consent = sent.email_consent;
    const consentText = text(consent)?.toLowerCase();
    const CONSENT: Record<string, string> = {
      true: 'granted',
      false: 'denied',
      granted: 'granted',
      no: 'denied',
      unsubscribed: 'unsubscribed',
    };
    const want: Record<string, unknown> = {
      email:
        text(sent.email)
          ?.replace(/^'+\s*/, '')
          .toLowerCase() ?? null,
      firstName: text(sent.first_name),
      lastName: text(sent.last_name),
      phone: text(sent.phone)?.replace(/^'+\s*/, '') ?? null,
      birthday: text(sent.birthday),
      country: text(sent.country),
      createdAt: sent.created_at === undefined ? null : (instantOf(sent.created_at) ?? '<not an instant>'),
    };
    // A fresh customer is exactly the body; an existing one keeps the fields the body leaves out.
    const fresh = id.startsWith('fz~');
    const FIELD: Record<string, string> = {
      firstName: 'first_name',
      lastName: 'last_name',
      createdAt: 'created_at',
    };
    for (const k of Object.keys(want)) {
      const f = FIELD[k] ?? k;
      if (!fresh && (sent[f] === undefined || sent[f] === null || text(sent[f]) === null)) delete want[k];
    }
    if (fresh)
      want.consent = {
        email: consentText === undefined ? null : { status: CONSENT[consentText] ?? consentText },
      };
    expect(back.json).toMatchObject({ id, ...want });
  }

  it(`never answers 5xx, writes nothing on 4xx, stores exactly what it accepted (${RUNS} seeded runs)`, async () => {
    // A store currency, so bodies without one are read in EUR.
    expect((await t.call('PATCH', '/v1/store', { role: 'admin', body: { currency: 'EUR' } })).status).toBe(
      200,
    );
    const tally: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(requestArb, async (req) => {
        const before = await counts();
        const storedEvents =
          req.kind === 'events'
            ? new Set(
                (await db.query<{ event_id: string }>('SELECT event_id FROM events')).map((e) => e.event_id),
              )
            : new Set<string>();
        let method = 'POST';
        let path: string;
        let textBody: string;
        let contentType = 'application/json';
        let sent: unknown;
        switch (req.kind) {
          case 'order':
            path = '/v1/orders';
            textBody = orderText(req.v);
            break;
          case 'refund': {
            path = '/v1/refunds';
            const v = { ...req.v };
            if (v.refund_id === '__unique') v.refund_id = unique('r');
            for (const f of ['amount'])
              if (v[f] && typeof v[f] === 'object' && '__amount' in (v[f] as object))
                v[f] = minorOf(
                  (v[f] as { __amount: { m: number } }).__amount.m,
                  DIGITS[String(v.currency)] ?? 2,
                );
            textBody = JSON.stringify(v);
            break;
          }
          case 'events': {
            path = '/v1/events';
            const b = req.v as { events?: unknown };
            if (Array.isArray(b?.events))
              b.events = (b.events as Record<string, unknown>[]).map((e) =>
                e.event_id === '__unique' ? { ...e, event_id: unique('e') } : e,
              );
            textBody = JSON.stringify(req.v);
            break;
          }
          case 'customer': {
            const v = { ...req.v };
            if (v.customer_id === '__unique') v.customer_id = unique('c');
            if (
              req.put &&
              typeof v.customer_id === 'string' &&
              v.customer_id.trim() !== '' &&
              !v.customer_id.includes('/')
            ) {
              method = 'PUT';
              path = `/v1/customers/${encodeURIComponent(v.customer_id)}`;
            } else path = '/v1/customers';
            textBody = JSON.stringify(v);
            // A duplicate key: JSON.parse keeps the last, and so does the oracle (it parses the same text).
            if (req.dupKey && textBody.length > 2) textBody = `{"first_name":"Dup",${textBody.slice(1)}`;
            break;
          }
          case 'garbage':
            path = req.v.path;
            textBody = req.v.text;
            contentType = req.v.contentType;
            break;
        }
        try {
          sent = JSON.parse(textBody);
        } catch {
          sent = undefined;
        }
        const res = await t.call(method, path, {
          role: 'admin',
          body: textBody,
          headers: { 'content-type': contentType },
        });
        tally[`${req.kind} ${res.status}`] = (tally[`${req.kind} ${res.status}`] ?? 0) + 1;
        const where = `${method} ${path} ${textBody.slice(0, 2000)} → ${res.status} ${res.text.slice(0, 500)}`;
        expect(res.status, where).toBeLessThan(500);
        if (res.status >= 400) {
          expect(await counts(), where).toEqual(before);
          expect(res.json?.error?.message, where).toBeTypeOf('string');
          return;
        }
        expect(sent, where).toBeDefined();
        const body = sent as Record<string, unknown>;
        try {
          if (req.kind === 'order') await checkOrder(body, res.status, res.json);
          else if (req.kind === 'refund') await checkRefund(body, res.status);
          else if (req.kind === 'events') await checkEvents(body, res.status, res.json, storedEvents);
          else if (req.kind === 'customer') await checkCustomer(body, res.status, res.json);
        } catch (err) {
          throw new Error(`${where}\n${(err as Error).message}`);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    if (process.env.RETAIN_FUZZ_TALLY) process.stderr.write(`${engine}: ${JSON.stringify(tally)}\n`);
  }, 120_000);
});
