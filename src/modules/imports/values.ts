/**
 * How an import file writes amounts and dates (docs/import-formats.md#formats): decimal point or comma,
 * grouping, currency symbols and codes, day-first or month-first dates, wall times in a time zone.
 * Each value is rewritten into the generic format's own form (`1234.50`, ISO 8601 UTC) before the
 * entity schemas validate it, so presets and the generic format read every file alike. Exact: amounts
 * are rewritten as strings, never through a float.
 */
import { EXACT_NUMBER_HINT, exactJsonNumber, minorDigits } from '../../shared/money.js';
import { textIssue } from '../../shared/json.js';
import { calendarOf } from '../../analytics/calendar.js';
import { invalid } from '../../shared/errors.js';
import type { Entity } from './schema.js';

export type Decimal = 'auto' | 'point' | 'comma';

export interface DateFormat {
  /** As written by the user, e.g. `DD.MM.YYYY`. */
  text: string;
  order: 'DMY' | 'MDY' | 'YMD';
  sep: '.' | '/' | '-';
}

/** The value conventions of one import. */
export interface ValueFormat {
  decimal: Decimal;
  /** null: auto (ISO, and day-first dotted dates). */
  dateFormat: DateFormat | null;
  /** IANA zone wall times without an offset are read in (`UTC` = as written). */
  timeZone: string;
}

export const DEFAULT_FORMAT: ValueFormat = { decimal: 'auto', dateFormat: null, timeZone: 'UTC' };

/** What auto read, for the report: how many amounts had a decimal point / comma, dates of each form. */
export interface FormatTally {
  pointDecimals: number;
  commaDecimals: number;
  isoDates: number;
  dottedDates: number;
}

export const emptyTally = (): FormatTally => ({
  pointDecimals: 0,
  commaDecimals: 0,
  isoDates: 0,
  dottedDates: 0,
});

export function addTally(into: FormatTally, t: FormatTally): void {
  into.pointDecimals += t.pointDecimals;
  into.commaDecimals += t.commaDecimals;
  into.isoDates += t.isoDates;
  into.dottedDates += t.dottedDates;
}

// ---- JSON values (NDJSON rows, API bodies) ----

/** Fields that take JSON true/false: the consents (true → granted, false → denied). */
const BOOLEAN_FIELDS: ReadonlySet<string> = new Set(['email_consent', 'sms_consent', 'messenger_consent']);
/** Fields that take a JSON object or array as it is (an event's `properties`). */
const JSON_FIELDS: ReadonlySet<string> = new Set(['properties']);

const kindOf = (v: unknown) =>
  Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : typeof v;

/**
 * Fields that take a JSON array of texts as well as one comma-separated text (an order's
 * `discount_codes`): the items are joined by commas, so an item may not have one.
 */
const LIST_FIELDS: ReadonlySet<string> = new Set(['discount_codes']);

/** A {@link LIST_FIELDS} array as its comma-separated text ('' when it has no item), or why not. */
function listText(items: readonly unknown[]): { text: string } | { problem: string } {
  const texts: string[] = [];
  for (const [i, item] of items.entries()) {
    let text: string | null = null;
    if (typeof item === 'string') {
      const issue = textIssue(item);
      if (issue !== null) return { problem: `item ${i} ${issue}` };
      text = item;
    } else if (typeof item === 'number') text = exactJsonNumber(item);
    if (text === null)
      return {
        problem: `item ${i}: expected text, got ${typeof item === 'number' ? 'an inexact number' : kindOf(item)}`,
      };
    if (text.includes(','))
      return {
        problem: `item ${i} ('${text.length > 40 ? text.slice(0, 40) + '…' : text}') has a comma, which separates the items: send each as its own item`,
      };
    texts.push(text);
  }
  return { text: texts.every((t) => t.trim() === '') ? '' : texts.join(',') };
}

/**
 * One row's values as the entity schemas read them, whichever source gave them (a CSV row's cells, an
 * NDJSON line, an API body), by one rule (docs/import-formats.md#json-values, docs/api.md#ingestion):
 * - `''`, blank text (`'  '`), `null` and absent are the same: the field is left out;
 * - a JSON number is read as the decimal its serializer wrote ({@link exactJsonNumber}: `12.5` → `'12.5'`),
 *   and refused when that decimal cannot be told (more than 15 significant digits, exponent form);
 * - `true`/`false` are taken by the consent fields (as `'true'`/`'false'`) and refused elsewhere;
 * - an object or array is taken by `properties` (whose schema checks what is inside), an array of texts by
 *   `discount_codes` (joined by commas), and refused elsewhere;
 * - text must be storable ({@link textIssue}: no NUL, no lone surrogate).
 * A refused value is left out of the result and named in `issues` (field + reason), for the caller to
 * reject the row (imports) or answer 400 (API). Strings, the common case, cost one check.
 */
export function cleanRecord(values: Record<string, unknown>, issues: FieldIssue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in values) {
    const v = values[key];
    if (v === '' || v === null || v === undefined) continue;
    let problem: string | null = null;
    if (typeof v === 'string') {
      // Blank (only spaces) is empty too; the cheap test first (a blank value starts with a space).
      const c = v.charCodeAt(0);
      if ((c <= 32 || c > 126) && v.trim() === '') continue;
      problem = textIssue(v);
      if (problem === null) out[key] = v;
    } else if (typeof v === 'number') {
      const text = exactJsonNumber(v);
      if (text !== null) out[key] = text;
      else
        problem = Number.isFinite(v)
          ? `the JSON number ${String(v)} may not be the decimal that was sent (over 15 significant digits or exponent form): ${EXACT_NUMBER_HINT}`
          : `the JSON number is beyond the range of a double: ${EXACT_NUMBER_HINT}`;
    } else if (typeof v === 'boolean') {
      if (BOOLEAN_FIELDS.has(key)) out[key] = String(v);
      else problem = `expected text, got ${String(v)} (a JSON boolean)`;
    } else if (JSON_FIELDS.has(key)) out[key] = v;
    else if (Array.isArray(v) && LIST_FIELDS.has(key)) {
      const list = listText(v);
      if ('problem' in list) problem = list.problem;
      else if (list.text !== '') out[key] = list.text;
    } else problem = `expected text or a number, got ${kindOf(v)}`;
    if (problem !== null) issues.push({ field: key, reason: `field ${key}: ${problem}` });
  }
  return out;
}

// ---- options ----

export function parseDecimalOption(raw: string, field: string): Decimal {
  const v = raw.trim().toLowerCase();
  if (v === 'point' || v === 'comma' || v === 'auto') return v;
  if (v === '.') return 'point';
  if (v === ',') return 'comma';
  throw invalid(`expected point, comma or auto, got '${raw}'`, { field });
}

const FORMAT_RE = /^(YYYY|DD|MM)([./-])(YYYY|DD|MM)\2(YYYY|DD|MM)(?:[ T]HH:mm(?::ss)?)?$/;

/** `--date-format`: `DD.MM.YYYY`, `DD/MM/YYYY`, `MM/DD/YYYY`, `YYYY-MM-DD`, …, optionally ` HH:mm[:ss]`. */
export function parseDateFormat(raw: string, field: string): DateFormat | null {
  const text = raw.trim();
  if (text.toLowerCase() === 'auto') return null;
  const m = FORMAT_RE.exec(text);
  const order = m ? `${m[1]![0]}${m[3]![0]}${m[4]![0]}` : '';
  if (!m || !(order === 'DMY' || order === 'MDY' || order === 'YMD'))
    throw invalid(
      `expected a date format such as DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY or YYYY-MM-DD, optionally followed by HH:mm or HH:mm:ss; got '${raw}'`,
      { field },
    );
  return { text, order: order as DateFormat['order'], sep: m[2] as DateFormat['sep'] };
}

// ---- amounts ----

/** Currency symbols and local abbreviations → the currencies they can mean. */
const SYMBOLS: Record<string, readonly string[]> = {
  $: ['USD', 'CAD', 'AUD', 'NZD', 'MXN', 'SGD', 'HKD', 'ARS', 'CLP', 'COP', 'TWD', 'UYU'],
  us$: ['USD'],
  ca$: ['CAD'],
  c$: ['CAD'],
  au$: ['AUD'],
  a$: ['AUD'],
  nz$: ['NZD'],
  hk$: ['HKD'],
  s$: ['SGD'],
  mx$: ['MXN'],
  r$: ['BRL'],
  '€': ['EUR'],
  '£': ['GBP'],
  '₴': ['UAH'],
  грн: ['UAH'],
  '₽': ['RUB'],
  руб: ['RUB'],
  '¥': ['JPY', 'CNY'],
  '￥': ['JPY', 'CNY'],
  元: ['CNY'],
  '₹': ['INR'],
  '₩': ['KRW'],
  '₺': ['TRY'],
  '₪': ['ILS'],
  '₸': ['KZT'],
  '₾': ['GEL'],
  '₫': ['VND'],
  '฿': ['THB'],
  '₦': ['NGN'],
  zł: ['PLN'],
  kč: ['CZK'],
  kr: ['SEK', 'NOK', 'DKK', 'ISK'],
  ft: ['HUF'],
  lei: ['RON'],
  лв: ['BGN'],
  fr: ['CHF'],
  chf: ['CHF'],
};

/** Currencies a symbol or code can mean; null when it is neither. */
function currenciesOf(symbol: string): readonly string[] | null {
  const s = symbol.toLowerCase().replace(/\.$/, '');
  if (SYMBOLS[s]) return SYMBOLS[s];
  if (/^[a-z]{3}$/.test(s)) return [s.toUpperCase()];
  return null;
}

const PLAIN = /^-?\d+(?:\.\d+)?$/;

export type AmountResult =
  { value: string; style: 'point' | 'comma' | null } | { error: string; option?: boolean };

const show = (s: string) => `'${s.length > 40 ? s.slice(0, 40) + '…' : s}'`;
const AMBIGUOUS_POINT = /^-?[1-9]\d{0,2}\.\d{3}$/;
const currencyCode = (c: string | undefined) => c?.trim().toUpperCase() ?? '';
const ambiguous = (raw: string): AmountResult => ({
  error: `${show(raw)} is ambiguous (thousands or decimals?): pass --decimal point or --decimal comma`,
  option: true,
});

/**
 * One amount as a plain decimal (`-1234.50`): decimal point or comma per `decimal` (auto: a point
 * unless the value can only have a comma — `12,50`, `1.234,50`, `1 234,50`; `1,234` is ambiguous),
 * grouping by `,`/`.` (consistent groups of three), spaces or `'`; a currency symbol or code before or
 * after, which must be one `currency` can have; `-` or parentheses for a negative. `style` says which
 * decimal separator the value had (null: none).
 */
export function readAmount(text: string, decimal: Decimal, currency: string | undefined): AmountResult {
  const raw = text.trim();
  if (decimal !== 'comma' && PLAIN.test(raw)) {
    if (!raw.includes('.')) return { value: raw, style: null };
    // `1.234`: a thousand with a decimal comma, or 1.234 — unless the currency has three decimals.
    if (decimal === 'auto' && AMBIGUOUS_POINT.test(raw) && minorDigits(currencyCode(currency)) < 3)
      return ambiguous(raw);
    return { value: raw, style: 'point' };
  }
  const bad: AmountResult = { error: `expected an amount like 12.50, got ${show(raw)}` };
  let s = raw;
  let negative = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true;
    s = s.slice(1, -1);
  }
  // The number runs from the first to the last digit (a leading separator included: `,50`); around it
  // a sign and a currency symbol or code, in either order.
  let first = 0;
  while (first < s.length && !isDigit(s.charCodeAt(first))) first++;
  let last = s.length - 1;
  while (last >= first && !isDigit(s.charCodeAt(last))) last--;
  if (first >= s.length) return bad;
  if (first > 0 && (s[first - 1] === '.' || s[first - 1] === ',')) first--;
  let head = s.slice(0, first).trim();
  const tail = s.slice(last + 1).trim();
  const sign = (at: 'start' | 'end'): boolean => {
    const c = at === 'start' ? head[0] : head[head.length - 1];
    if (c !== '-' && c !== '−' && c !== '+') return true;
    if (c !== '+') {
      if (negative) return false;
      negative = true;
    }
    head = (at === 'start' ? head.slice(1) : head.slice(0, -1)).trim();
    return true;
  };
  if (!sign('start') || !sign('end')) return bad;
  for (const sym of [head, tail]) {
    if (sym === '') continue;
    const cur = currenciesOf(sym);
    if (!cur) return bad;
    const row = currencyCode(currency);
    if (/^[A-Z]{3}$/.test(row) && !cur.includes(row))
      return {
        error: `${show(raw)} is in ${cur.length === 1 ? cur[0] : cur.join('/')}, but the row's currency is ${row}`,
      };
  }
  // One pass over the number: digits, `.`, `,`, and spaces or `'` grouping thousands.
  let number = '';
  let dots = 0;
  let commas = 0;
  let spaced = false;
  let dot = -1;
  let comma = -1;
  for (let i = first; i <= last; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) number += s[i];
    else if (c === 46) {
      dots++;
      dot = number.length;
      number += '.';
    } else if (c === 44) {
      commas++;
      comma = number.length;
      number += ',';
    } else if (c === 32 || c === 0xa0 || c === 0x202f || c === 0x2009 || c === 39 || c === 0x2019) {
      spaced = true;
      number += ' ';
    } else return bad;
  }
  // Which character is the decimal separator (null: none) and which groups thousands.
  let sep: '.' | ',' | null;
  if (dots && commas) sep = dot > comma ? '.' : ',';
  else if (dots > 1 || commas > 1) sep = null;
  else if (dots === 1) {
    sep = '.';
    if (decimal === 'comma' && !spaced && /^\d{1,3}\.\d{3}$/.test(number)) sep = null;
  } else if (commas === 1) {
    sep = ',';
    if (!spaced && /^\d{1,3},\d{3}$/.test(number)) {
      if (decimal === 'auto') return ambiguous(raw);
      if (decimal === 'point') sep = null;
    }
  } else sep = null;
  const group = sep === '.' ? ',' : sep === ',' ? '.' : dots ? '.' : commas ? ',' : null;
  const style =
    sep === '.' ? 'point' : sep === ',' ? 'comma' : group === ',' ? 'point' : group === '.' ? 'comma' : null;
  if (decimal === 'point' && style === 'comma')
    return { error: `${show(raw)} has a decimal comma, but the import reads --decimal point`, option: true };
  if (decimal === 'comma' && style === 'point')
    return { error: `${show(raw)} has a decimal point, but the import reads --decimal comma`, option: true };
  const at = sep === null ? -1 : sep === '.' ? dot : comma;
  const intPart = at < 0 ? number : number.slice(0, at);
  const frac = at < 0 ? '' : number.slice(at + 1);
  if (sep !== null && !/^\d+$/.test(frac)) return bad;
  // Grouping: spaces or the group character, in groups of three after the first.
  const groups = intPart.split(group === '.' ? /[ .]/ : group === ',' ? /[ ,]/ : / /);
  let int = intPart;
  if (groups.length > 1) {
    if (!/^\d{1,3}$/.test(groups[0]!) || groups.slice(1).some((g) => !/^\d{3}$/.test(g)))
      return { error: `expected an amount like 12.50, got ${show(raw)} (thousands grouped in threes)` };
    int = groups.join('');
  } else if (!/^\d*$/.test(int)) return bad;
  const digits = minorDigits(currencyCode(currency));
  if (frac.length > digits)
    return {
      error: `${show(raw)} has ${frac.length} decimals; ${currencyCode(currency) || 'the currency'} has ${digits}`,
    };
  return { value: `${negative ? '-' : ''}${int === '' ? '0' : int}${frac ? '.' + frac : ''}`, style };
}

const isDigit = (c: number) => c >= 48 && c <= 57;

// ---- dates ----

const ISO_HEAD = /^\d{4}-\d{2}-\d{2}/;
const ISO_AS_WRITTEN = (value: string): DateResult => ({ value, kind: 'iso' });
const ISO_PARTS =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$/i;
const DOTTED = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T,]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const SLASHED = /^\d{1,2}\/\d{1,2}\/\d{2,4}\b/;

function dateRe(f: DateFormat): RegExp {
  const part = { D: '(\\d{1,2})', M: '(\\d{1,2})', Y: '(\\d{4})' };
  const sep = f.sep === '.' ? '\\.' : f.sep === '/' ? '\\/' : '-';
  const body = [...f.order].map((c) => part[c as 'D' | 'M' | 'Y']).join(sep);
  return new RegExp(
    `^${body}(?:[ T,]\\s*(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?)?\\s*(Z|[+-]\\d{2}:?\\d{2}|UTC)?$`,
    'i',
  );
}
const formatRes = new WeakMap<DateFormat, RegExp>();

export type DateResult =
  { value: string; kind: 'iso' | 'dotted' | null } | { error: string; option?: boolean };

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
  zone: string | undefined;
  time: boolean;
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;
const daysIn = (y: number, m: number) =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;

function build(p: Parts, raw: string, day: boolean, timeZone: string): DateResult {
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.d > 31 || p.h > 23 || p.mi > 59 || p.s > 59)
    return { error: `${show(raw)} is not a valid date` };
  if (p.d > daysIn(p.y, p.mo)) return { error: `${show(raw)} is not a calendar date` };
  const date = `${p.y}-${pad2(p.mo)}-${pad2(p.d)}`;
  if (day) {
    if (p.time || p.zone) return { error: `expected a date without a time, got ${show(raw)}` };
    return { value: date, kind: null };
  }
  const utcWall = !p.zone || p.zone.toUpperCase() === 'Z' || p.zone.toUpperCase() === 'UTC';
  if (utcWall && (p.zone || timeZone === 'UTC') && p.ms === 0)
    // `YYYY-MM-DD HH:MM:SS` is UTC to the schema (and its fast path).
    return { value: `${date} ${pad2(p.h)}:${pad2(p.mi)}:${pad2(p.s)}`, kind: null };
  const wall = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms);
  let t: number;
  if (!utcWall) {
    const zone = p.zone!;
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    if (offsetMin > 14 * 60) return { error: `${show(raw)} has an impossible UTC offset` };
    t = wall - sign * offsetMin * 60_000;
  } else if (p.zone) t = wall;
  else t = calendarOf(timeZone).instantOfWall(wall);
  return { value: new Date(t).toISOString(), kind: null };
}

const num = (s: string | undefined) => (s === undefined ? 0 : Number(s));
const millis = (s: string | undefined) => (s === undefined ? 0 : Number(s.padEnd(3, '0').slice(0, 3)));

/**
 * The parts of a date match: year, month and day from the groups its form puts them in; the time of
 * day, fraction and zone from groups 4–8, which every form (ISO, DD.MM.YYYY, --date-format) shares.
 */
function partsOf(
  m: RegExpExecArray,
  y: string | undefined,
  mo: string | undefined,
  d: string | undefined,
): Parts {
  return {
    y: num(y),
    mo: num(mo),
    d: num(d),
    h: num(m[4]),
    mi: num(m[5]),
    s: num(m[6]),
    ms: millis(m[7]),
    zone: m[8],
    time: m[4] !== undefined,
  };
}

/**
 * One date or date-time as ISO 8601 UTC (`day`: `YYYY-MM-DD`). ISO 8601 always; auto adds day-first
 * dotted dates (`15.03.2024 14:05`) and refuses slash dates as ambiguous (they need --date-format). A wall time without
 * an offset is read in `timeZone`. `kind` says which form auto read (null: given format).
 */
let lastDate: { text: string; format: ValueFormat; day: boolean; result: DateResult } | null = null;

export function readDate(text: string, format: ValueFormat, day: boolean): DateResult {
  // The lines of one order repeat its date: answer a repeat from the last call.
  const last = lastDate;
  if (last && last.text === text && last.format === format && last.day === day) return last.result;
  const result = readDateUncached(text, format, day);
  lastDate = { text, format, day, result };
  return result;
}

function readDateUncached(text: string, format: ValueFormat, day: boolean): DateResult {
  const raw = text.trim();
  const f = format.dateFormat;
  const utc = format.timeZone === 'UTC';
  // The commonest case, ISO read in UTC: as written (the schema parses it).
  if (utc && raw.length >= 10 && raw.charCodeAt(4) === 45 && ISO_HEAD.test(raw)) return ISO_AS_WRITTEN(raw);
  {
    // ISO 8601 is read whatever the format (a year first with dashes cannot be misread).
    if (ISO_HEAD.test(raw)) {
      // ISO: as written when no zone conversion is needed (the schema parses it, fast path included).
      if (day || utc) return { value: raw, kind: 'iso' };
      const m = ISO_PARTS.exec(raw);
      if (!m) return { value: raw, kind: 'iso' }; // the schema names the problem
      const r = build(partsOf(m, m[1], m[2], m[3]), raw, false, format.timeZone);
      return 'error' in r ? r : { value: r.value, kind: 'iso' };
    }
  }
  if (f === null) {
    const m = DOTTED.exec(raw);
    if (m) {
      const r = build(partsOf(m, m[3], m[2], m[1]), raw, day, format.timeZone);
      return 'error' in r ? r : { value: r.value, kind: 'dotted' };
    }
    if (SLASHED.test(raw))
      return {
        error: `ambiguous date ${raw}: pass --date-format DD/MM/YYYY or MM/DD/YYYY`,
        option: true,
      };
    return { value: raw, kind: null }; // not a form auto rewrites: the schema judges it
  }
  let re = formatRes.get(f);
  if (!re) formatRes.set(f, (re = dateRe(f)));
  const m = re.exec(raw);
  if (!m) return { error: `expected a date in --date-format ${f.text}, got ${show(raw)}`, option: true };
  const at = (c: 'D' | 'M' | 'Y') => m[f.order.indexOf(c) + 1];
  return build(partsOf(m, at('Y'), at('M'), at('D')), raw, day, format.timeZone);
}

// ---- per entity ----

const MONEY: Record<Entity, readonly string[]> = {
  orders: ['unit_price', 'line_total', 'order_total', 'discount', 'shipping', 'tax'],
  refunds: ['amount'],
  products: ['price', 'unit_cost'],
  spend: ['amount'],
  customers: [],
  events: [],
};
const INSTANTS: Record<Entity, readonly string[]> = {
  orders: ['ordered_at'],
  refunds: ['refunded_at'],
  customers: ['created_at', 'email_consent_at', 'sms_consent_at', 'messenger_consent_at'],
  events: ['occurred_at'],
  products: [],
  spend: [],
};
const DAYS: Record<Entity, readonly string[]> = {
  customers: ['birthday'],
  spend: ['date'],
  orders: [],
  refunds: [],
  products: [],
  events: [],
};

export interface FieldIssue {
  field: string;
  reason: string;
}

/**
 * Rewrites a row's amounts and dates (cleaned values of the generic field names) in place into the
 * generic format; returns the fields it could not read. `tally` counts what auto met.
 */
export function valueReader(
  format: ValueFormat,
  tally: FormatTally,
): (entity: Entity, values: Record<string, unknown>) => readonly FieldIssue[] {
  // Hot path (every row of every import): no allocation unless a value is unreadable.
  const date = (
    field: string,
    values: Record<string, unknown>,
    day: boolean,
    issues: FieldIssue[] | null,
  ) => {
    const v = values[field];
    if (typeof v !== 'string') return issues;
    const r = readDate(v, format, day);
    if ('error' in r) return [...(issues ?? []), { field, reason: `field ${field}: ${r.error}` }];
    values[field] = r.value;
    if (r.kind === 'iso') tally.isoDates++;
    else if (r.kind === 'dotted') tally.dottedDates++;
    return issues;
  };
  return (entity, values) => {
    let issues: FieldIssue[] | null = null;
    const money = MONEY[entity];
    if (money.length > 0) {
      const currency = typeof values.currency === 'string' ? values.currency : undefined;
      for (let i = 0; i < money.length; i++) {
        const field = money[i]!;
        const v = values[field];
        if (typeof v !== 'string') continue;
        const r = readAmount(v, format.decimal, currency);
        if ('error' in r) (issues ??= []).push({ field, reason: `field ${field}: ${r.error}` });
        else {
          values[field] = r.value;
          if (r.style === 'point') tally.pointDecimals++;
          else if (r.style === 'comma') tally.commaDecimals++;
        }
      }
    }
    const instants = INSTANTS[entity];
    for (let i = 0; i < instants.length; i++) issues = date(instants[i]!, values, false, issues);
    const days = DAYS[entity];
    for (let i = 0; i < days.length; i++) issues = date(days[i]!, values, true, issues);
    return issues ?? NO_ISSUES;
  };
}

const NO_ISSUES: readonly FieldIssue[] = [];

/** Whether an amount a preset tests (a refunded total) is above zero, read as the import reads amounts. */
export function positiveAmount(v: unknown, decimal: Decimal): boolean {
  const s = v === undefined || v === null ? '' : String(v).trim();
  if (s === '') return false;
  const r = readAmount(s, decimal, undefined);
  // An unreadable amount is passed on, so the refund row is rejected naming it rather than dropped.
  return 'error' in r ? true : Number(r.value) > 0;
}
