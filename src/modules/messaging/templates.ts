/**
 * The template engine of the messaging module (issue 21): pure functions, no database.
 *
 * - `compileTemplate(source)` checks a {@link TemplateSource} and compiles it once into a
 *   {@link CompiledTemplate} (plain JSON, stored by the send path): per variant the subject, the HTML that
 *   MJML made of the body (its Liquid kept, to be rendered per recipient) and the plain-text part. Liquid
 *   is checked first (liquidjs), then MJML (`validationLevel: 'strict'`); every fault is an
 *   `AppError('validation')` naming the template, the variant, the part (subject, body, text) and the line
 *   and column the author wrote (`where: { field: 'variants[1].body', line, column }`).
 * - `renderTemplate(compiled, locale, vars)` renders one recipient's message: the variant by
 *   {@link pickLocale}, Liquid with `vars` (output HTML-escaped in the HTML, not in the text or subject).
 *   The parsed Liquid of a compiled template is cached (by object and by `compiled.key`, so a template
 *   read back from the database is parsed once too); rendering is synchronous.
 *
 * Variables the send path passes (docs/messaging.md#templates): `customer` (first_name, last_name,
 * email, phone, locale, external_id), `store` (name, currency, time_zone), `unsubscribe_url`,
 * `preferences_url`, `discount_code` (null when none), `recommendations` (array of {sku, title}; may be
 * empty), `points` and `tier` (null until loyalty exists). Unknown variables render empty; with
 * `{ strict: true }` (previews) they are an error naming the variable and its line. The renderer adds
 * `locale`: the variant's locale.
 *
 * Filters beside Liquid's standard ones: `{{ 1999 | money: 'UAH' }}` formats integer minor units in the
 * variant's locale (`19,99 ₴` in uk; the currency defaults to `store.currency`), and
 * `{{ at | date_tz: 'Europe/Kyiv' }}` formats an instant in a time zone (default `store.time_zone`, else
 * UTC; a second argument picks `'datetime'` (default), `'date'`, `'time'` or `'short'`).
 *
 * Liquid inside MJML: `{{ … }}` works in text and in string attributes (`href="{{ unsubscribe_url }}"`,
 * `src`, `alt`). Tags (`{% if %}`, `{% for %}`) work inside the content of mj-text, mj-button, mj-table
 * and mj-raw; around whole MJML elements they go in `<mj-raw>` (`<mj-raw>{% if discount_code %}</mj-raw>
 * <mj-section>…</mj-section><mj-raw>{% endif %}</mj-raw>`). A tag anywhere else would be dropped by
 * MJML's parser, so compiling refuses it with its line and column. `{% include %}`, `{% render %}` and
 * `{% layout %}` are refused: a template is self-contained (so is `<mj-include>`).
 */
import { createHash, randomInt } from 'node:crypto';
import { compile as compileHtmlToText } from 'html-to-text';
import { Liquid, LiquidError, TokenKind, Tokenizer, type Context, type Template } from 'liquidjs';
import { AppError } from '../../shared/errors.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import { parseInstant } from '../../shared/time.js';
import {
  CompiledTemplate as CompiledTemplateSchema,
  parseTemplateSource,
  type CompiledTemplate,
  type CompiledVariant,
  type TemplateChannel,
  type TemplateSource,
  type TemplateVariant,
  type TemplateVars,
} from './templateSchema.js';

export type { CompiledTemplate, TemplateSource, TemplateVars } from './templateSchema.js';

/** One recipient's message. */
export interface RenderedMessage {
  /** The variant's locale that was rendered. */
  locale: string;
  /** Email only. */
  subject?: string;
  /** Email only. */
  html?: string;
  /** The email's plain-text part; the SMS or messenger message. */
  text: string;
}

export interface RenderOptions {
  /** Unknown variables are an error instead of rendering empty (previews). */
  strict?: boolean;
  /** The store's default language: the fallback after the recipient's own (see {@link pickLocale}). */
  storeLocale?: string | null;
}

/** Values that exercise every documented variable: compiling renders each variant with them once. */
export const SAMPLE_TEMPLATE_VARS: TemplateVars = {
  customer: {
    first_name: 'Olena',
    last_name: 'Kovalenko',
    email: 'olena@example.com',
    phone: '+380501234567',
    locale: 'uk',
    external_id: 'C-1001',
  },
  store: { name: 'Example Store', currency: 'UAH', time_zone: 'Europe/Kyiv' },
  unsubscribe_url: 'https://example.com/u/sample',
  preferences_url: 'https://example.com/p/sample',
  discount_code: 'WELCOME10',
  recommendations: [
    { sku: 'SKU-1', title: 'Linen shirt' },
    { sku: 'SKU-2', title: 'Canvas tote' },
  ],
  points: 120,
  tier: 'silver',
};

// ---------------------------------------------------------------------------------------------------
// Locale choice

function lang(tag: string): string {
  const i = tag.indexOf('-');
  return i < 0 ? tag : tag.slice(0, i);
}

/**
 * The variant to send: the wanted locale exactly (`uk-UA`), else its language (`uk`, or a variant of the
 * same language such as `pt-BR` for `pt`), then the store default the same way, then `en`, then the first
 * variant. Case and `_` vs `-` do not matter (`uk_ua` finds `uk-UA`).
 */
export function pickLocale(
  available: readonly string[],
  wanted: string | null | undefined,
  storeDefault?: string | null,
): string {
  const first = available[0];
  if (first === undefined) throw new AppError('validation', 'a template needs at least one variant');
  const norm = available.map((a) => a.toLowerCase());
  const find = (want: string | null | undefined): string | undefined => {
    if (!want) return undefined;
    const w = want.trim().replace(/_/g, '-').toLowerCase();
    if (!w) return undefined;
    let i = norm.indexOf(w);
    if (i >= 0) return available[i];
    const l = lang(w);
    i = norm.indexOf(l);
    if (i >= 0) return available[i];
    i = norm.findIndex((a) => lang(a) === l);
    return i >= 0 ? available[i] : undefined;
  };
  return find(wanted) ?? find(storeDefault) ?? find('en') ?? first;
}

// ---------------------------------------------------------------------------------------------------
// Liquid engines and filters

/** What a filter sees as `this`. */
interface FilterImpl {
  context: Context;
}

function localeOf(f: FilterImpl): string {
  const l = (f.context.globals as { locale?: unknown }).locale;
  return typeof l === 'string' ? l : 'en';
}

function storeOf(f: FilterImpl): { currency?: unknown; time_zone?: unknown } {
  const s = (f.context.environments as { store?: unknown }).store;
  return s !== null && typeof s === 'object' ? (s as { currency?: unknown; time_zone?: unknown }) : {};
}

/** Formatter caches: building an Intl formatter costs far more than using one. */
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const FORMAT_CACHE_MAX = 1000;

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let f = cache.get(key);
  if (f === undefined) {
    f = make();
    if (cache.size >= FORMAT_CACHE_MAX) cache.clear();
    cache.set(key, f);
  }
  return f;
}

const blank = (v: unknown) => v === null || v === undefined || v === '';

/** `{{ amount | money: 'UAH' }}`: integer minor units in the variant's locale; exact (no float on the way). */
function money(this: FilterImpl, value: unknown, currency?: unknown): string {
  if (blank(value)) return '';
  const minor =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^-?\d+$/.test(value.trim())
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(minor))
    throw new Error(
      `money expects an amount in integer minor units (1999 for 19.99), got ${JSON.stringify(value)}`,
    );
  const cur = blank(currency) ? storeOf(this).currency : currency;
  if (typeof cur !== 'string' || !/^[A-Za-z]{3}$/.test(cur))
    throw new Error(
      `money needs an ISO 4217 currency code ({{ amount | money: 'UAH' }}, or store.currency), got ${JSON.stringify(cur ?? null)}`,
    );
  return formatMoney(minor, cur, localeOf(this));
}

/** Integer minor units in a locale and an ISO 4217 currency, exactly (Intl formats decimal strings). */
export function formatMoney(minor: number, currency: string, locale: string): string {
  const code = currency.toUpperCase();
  const digits = minorDigits(code);
  const fmt = cached(
    numberFormats,
    `${locale}|${code}`,
    () =>
      new Intl.NumberFormat(locale, {
        style: 'currency',
        currency: code,
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      }),
  );
  return fmt.format(formatMinor(minor, digits) as Intl.StringNumericLiteral);
}

const DATE_STYLES: Record<string, Intl.DateTimeFormatOptions> = {
  datetime: { dateStyle: 'long', timeStyle: 'short' },
  date: { dateStyle: 'long' },
  time: { timeStyle: 'short' },
  short: { dateStyle: 'short', timeStyle: 'short' },
};

function instantOf(value: unknown): Date {
  const d =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(value)
        : typeof value === 'string'
          ? parseInstant(value.trim())
          : null;
  if (!d || Number.isNaN(d.getTime()))
    throw new Error(
      `date_tz expects an instant (a date, epoch milliseconds or an ISO 8601 text such as 2024-03-05T10:00:00Z), got ${JSON.stringify(value)}`,
    );
  return d;
}

/** `{{ at | date_tz: 'Europe/Kyiv' }}` (optional style: 'datetime', 'date', 'time', 'short'). */
function dateTz(this: FilterImpl, value: unknown, zone?: unknown, style?: unknown): string {
  if (blank(value)) return '';
  const at = instantOf(value);
  const tz = blank(zone) ? (storeOf(this).time_zone ?? 'UTC') : zone;
  if (typeof tz !== 'string')
    throw new Error(`date_tz expects an IANA time zone name, got ${JSON.stringify(tz)}`);
  const st = blank(style) ? 'datetime' : style;
  const options = typeof st === 'string' ? DATE_STYLES[st] : undefined;
  if (!options)
    throw new Error(
      `date_tz style must be one of ${Object.keys(DATE_STYLES).join(', ')}, got ${JSON.stringify(st)}`,
    );
  const locale = localeOf(this);
  const fmt = cached(dateFormats, `${locale}|${tz}|${String(st)}`, () => {
    try {
      return new Intl.DateTimeFormat(locale, { ...options, timeZone: tz });
    } catch {
      throw new Error(`date_tz: unknown time zone '${tz}' (expected an IANA name such as 'Europe/Kyiv')`);
    }
  });
  return fmt.format(at);
}

/** Limits per render (DoS by a template such as `{% for i in (1..100000000) %}`). */
const RENDER_LIMIT_MS = 1000;
const MEMORY_LIMIT = 10_000_000;

function engine(escapeHtml: boolean): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    ownPropertyOnly: true,
    ...(escapeHtml ? { outputEscape: 'escape' as const } : {}),
    templates: {}, // no file system behind the engine
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
  });
  for (const tag of ['include', 'render', 'layout']) {
    liquid.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not available: a message template is self-contained`);
      },
      render() {},
    });
  }
  liquid.registerFilter('money', money);
  liquid.registerFilter('date_tz', dateTz);
  return liquid;
}

/** Renders into HTML: every `{{ }}` output is HTML-escaped (`| raw` opts out). */
const htmlLiquid = engine(true);
/** Renders subjects and plain text: nothing escaped. */
const textLiquid = engine(false);

// ---------------------------------------------------------------------------------------------------
// HTML → plain text

/** The email's text part from its HTML: links as `text [url]`, no images, no MJML preview (preheader). */
const htmlToText = compileHtmlToText({
  wordwrap: false,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'div[style*="display:none"]', format: 'skip' },
    { selector: 'tr', format: 'block' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({ selector: h, options: { uppercase: false } })),
  ],
});

/**
 * Trailing blanks off every line, at most one empty line in a row (a false `{% if %}` leaves some), no
 * empty lines first; a list's indent on the first line stays.
 */
function tidyText(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '')
    .trimEnd();
}

// ---------------------------------------------------------------------------------------------------
// Errors

type Part = 'subject' | 'body' | 'text';

interface VariantRef {
  name: string;
  index: number;
  locale: string;
}

function templateError(
  ref: VariantRef,
  part: Part,
  message: string,
  line?: number,
  column?: number,
  details?: unknown,
): AppError {
  const at = line ? ` line ${line}${column ? `, column ${column}` : ''}` : '';
  const field = `variants[${ref.index}].${part}`;
  return new AppError(
    'validation',
    `template '${ref.name}', variant ${ref.locale} (${field})${at}: ${message}`,
    {
      where: { field, ...(line ? { line } : {}), ...(column ? { column } : {}) },
      ...(details !== undefined ? { details } : {}),
    },
  );
}

/** liquidjs appends `, line:3, col:7` to its messages; the position is reported separately. */
function liquidMessage(e: LiquidError): string {
  return e.message.replace(/, line:\d+, col:\d+$/, '');
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based [line, column] of an offset. */
function positionAt(starts: readonly number[], offset: number): [number, number] {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [lo + 1, offset - (starts[lo] ?? 0) + 1];
}

/**
 * Where an error at `offset` of a compiled part was written in the source: through the part's map
 * (flat triples [offset, line, column] of its Liquid tokens) when it has one, else the part itself.
 */
function sourcePosition(part: string, map: readonly number[], offset: number): [number, number] | [] {
  if (map.length === 0) return positionAt(lineStarts(part), offset);
  let found = -1;
  for (let i = 0; i < map.length; i += 3) {
    if ((map[i] ?? 0) > offset) break;
    found = i;
  }
  if (found < 0) return [];
  const line = map[found + 1] ?? 0;
  const column = map[found + 2] ?? 0;
  if (line === 0) return [];
  const start = map[found] ?? 0;
  const within = part.slice(start, offset);
  return within.includes('\n') ? [line, column] : [line, column + (offset - start)];
}

function liquidFault(
  ref: VariantRef,
  part: Part,
  e: unknown,
  text: string,
  map: readonly number[],
): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof LiquidError) {
    const begin = (e as { token?: { begin?: number } }).token?.begin;
    const [line, column] = begin === undefined ? [] : sourcePosition(text, map, begin);
    return templateError(ref, part, liquidMessage(e), line, column);
  }
  return templateError(ref, part, e instanceof Error ? e.message : String(e));
}

function parseLiquid(
  liquid: Liquid,
  text: string,
  ref: VariantRef,
  part: Part,
  map: readonly number[] = [],
): Template[] {
  try {
    return liquid.parse(text);
  } catch (e) {
    throw liquidFault(ref, part, e, text, map);
  }
}

// ---------------------------------------------------------------------------------------------------
// Compiling

interface LiquidToken {
  kind: 'tag' | 'output';
  text: string;
  /** Whitespace-normalised text: how a token is recognised in MJML's output. */
  norm: string;
  begin: number;
  end: number;
}

/** The top-level Liquid tags and outputs of a text (the content of `{% raw %}` is not Liquid). */
function liquidTokens(text: string): LiquidToken[] {
  const out: LiquidToken[] = [];
  for (const t of new Tokenizer(text).readTopLevelTokens()) {
    if (t.kind !== TokenKind.Tag && t.kind !== TokenKind.Output) continue;
    const raw = text.slice(t.begin, t.end);
    out.push({
      kind: t.kind === TokenKind.Tag ? 'tag' : 'output',
      text: raw,
      norm: raw.replace(/\s+/g, ' '),
      begin: t.begin,
      end: t.end,
    });
  }
  return out;
}

interface SourceTokens {
  byText: Map<string, { positions: [number, number][]; used: number; kind: 'tag' | 'output' }>;
}

function sourceTokens(body: string): SourceTokens {
  const starts = lineStarts(body);
  const byText: SourceTokens['byText'] = new Map();
  for (const t of liquidTokens(body)) {
    let e = byText.get(t.norm);
    if (!e) byText.set(t.norm, (e = { positions: [], used: 0, kind: t.kind }));
    e.positions.push(positionAt(starts, t.begin));
  }
  return { byText };
}

/**
 * The source position of each Liquid token of a compiled part, matched by text in order (MJML keeps
 * Liquid verbatim and in order; it repeats some, e.g. a background URL in its Outlook markup). Counts
 * the uses of each source token, so that the caller can tell which ones MJML dropped.
 */
function mapTokens(tokens: readonly LiquidToken[], src: SourceTokens): number[] {
  for (const e of src.byText.values()) e.used = 0;
  const map: number[] = [];
  for (const t of tokens) {
    const e = src.byText.get(t.norm);
    const pos = e?.positions[Math.min(e.used, e.positions.length - 1)];
    if (e) e.used++;
    map.push(t.begin, pos?.[0] ?? 0, pos?.[1] ?? 0);
  }
  return map;
}

const MJML_START = /^\s*(?:<!--[\s\S]*?-->\s*)*<mjml[\s>]/;

/** `<mjml>` → `<mjml lang="uk">` unless the author set one (MJML writes it into `<html lang>`). */
function withLang(body: string, locale: string): string {
  return body.replace(/<mjml(\s[^>]*)?>/, (tag: string, attrs: string | undefined) =>
    attrs && /\slang\s*=/.test(attrs) ? tag : `<mjml lang="${locale}"${attrs ?? ''}>`,
  );
}

interface MjmlFault {
  line: number;
  message: string;
  tagName: string;
}

async function mjmlToHtml(body: string, ref: VariantRef): Promise<string> {
  if (!MJML_START.test(body))
    throw templateError(ref, 'body', 'an email body is an MJML document: it starts with <mjml>', 1);
  const include = /<mj-include\b/.exec(body);
  if (include)
    throw templateError(
      ref,
      'body',
      '<mj-include> is not available: a message template is self-contained',
      ...positionAt(lineStarts(body), include.index),
    );
  // Loaded on first compile: MJML takes about 0.6 s to import, and rendering never needs it.
  const mjml2html = (await import('mjml')).default;
  try {
    const r = await mjml2html(withLang(body, ref.locale), {
      validationLevel: 'strict',
      ignoreIncludes: true,
    });
    return r.html;
  } catch (e) {
    const errors = (e as { errors?: MjmlFault[] }).errors;
    const first = errors?.[0];
    if (errors && first) {
      const more =
        errors.length > 1 ? ` (and ${errors.length - 1} more MJML error${errors.length > 2 ? 's' : ''})` : '';
      throw templateError(
        ref,
        'body',
        `MJML <${first.tagName}>: ${first.message}${more}`,
        first.line,
        undefined,
        {
          mjmlErrors: errors.map((x) => ({ line: x.line, tagName: x.tagName, message: x.message })),
        },
      );
    }
    throw templateError(ref, 'body', `MJML: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A marker made of digits and underscores (html-to-text changes neither), absent from `html`. */
function marker(html: string): string {
  for (;;) {
    const m = `_${randomInt(1e9, 1e10)}${randomInt(1e9, 1e10)}_`;
    if (!html.includes(m)) return m;
  }
}

/**
 * The email's text part as Liquid, derived once from the compiled HTML: each Liquid token is swapped
 * for a marker, the HTML converted to text, and the tokens put back. Null when a tag's marker did not
 * come through (a tag inside an attribute or the head): then the text is derived from each rendered HTML.
 */
function deriveText(html: string, tokens: readonly LiquidToken[]): string | null {
  const mark = marker(html);
  let swapped = '';
  let at = 0;
  tokens.forEach((t, i) => {
    swapped += `${html.slice(at, t.begin)}${mark}${i}_`;
    at = t.end;
  });
  swapped += html.slice(at);
  const isTag = new RegExp(`^${mark}(\\d+)_$`);
  const markers = new RegExp(`(${mark}\\d+_)`);
  // A line holding only tags (`{% for %}` between list items) renders nothing, not even its line break.
  const text = htmlToText(swapped)
    .split('\n')
    .map((line) => {
      const parts = line.split(markers);
      const tags = parts.filter((p) => tokens[Number(isTag.exec(p)?.[1] ?? -1)]?.kind === 'tag');
      const rest = parts.filter((p) => !tags.includes(p));
      return tags.length > 0 && rest.every((p) => p.trim() === '')
        ? { line: tags.join(''), glue: '' }
        : { line, glue: '\n' };
    })
    .reduce((acc, { line, glue }, i, all) => acc + line + (i < all.length - 1 ? glue : ''), '');
  const seen = new Array<number>(tokens.length).fill(0);
  const restored = text.replace(new RegExp(`${mark}(\\d+)_`, 'g'), (_m, i: string) => {
    const n = Number(i);
    seen[n] = (seen[n] ?? 0) + 1;
    return tokens[n]?.text ?? '';
  });
  if (tokens.some((t, i) => t.kind === 'tag' && seen[i] !== 1)) return null;
  try {
    textLiquid.parse(restored);
  } catch {
    return null;
  }
  return restored;
}

async function compileVariant(
  source: TemplateSource,
  v: TemplateVariant,
  ref: VariantRef,
): Promise<CompiledVariant> {
  if (source.channel !== 'email') {
    parseLiquid(textLiquid, v.body, ref, 'body');
    return {
      locale: v.locale,
      subject: null,
      html: null,
      text: v.body,
      textFrom: 'source',
      htmlMap: [],
      textMap: [],
    };
  }
  const subject = v.subject ?? '';
  parseLiquid(textLiquid, subject, ref, 'subject');
  parseLiquid(htmlLiquid, v.body, ref, 'body');
  if (v.text !== undefined) parseLiquid(textLiquid, v.text, ref, 'text');

  const html = await mjmlToHtml(v.body, ref);
  const src = sourceTokens(v.body);
  const htmlTokens = liquidTokens(html);
  const htmlMap = mapTokens(htmlTokens, src);
  for (const [text, e] of src.byText) {
    if (e.used >= e.positions.length) continue;
    const [line, column] = e.positions[e.used] ?? [];
    throw templateError(
      ref,
      'body',
      `${text} is where MJML drops it (or rewrites it): Liquid goes in text and string attributes, and tags ` +
        'inside mj-text, mj-button, mj-table or mj-raw; wrap a tag around whole elements in <mj-raw>, e.g. ' +
        '<mj-raw>{% if discount_code %}</mj-raw> … <mj-raw>{% endif %}</mj-raw>',
      line,
      column,
    );
  }
  parseLiquid(htmlLiquid, html, ref, 'body', htmlMap);
  if (
    source.kind === 'marketing' &&
    !htmlTokens.some((t) => t.kind === 'output' && /\bunsubscribe_url\b/.test(t.text))
  )
    throw templateError(
      ref,
      'body',
      'a marketing email must link {{ unsubscribe_url }} in its body (e.g. <a href="{{ unsubscribe_url }}">Unsubscribe</a>)',
    );

  if (v.text !== undefined)
    return { locale: v.locale, subject, html, text: v.text, textFrom: 'source', htmlMap, textMap: [] };
  const derived = deriveText(html, htmlTokens);
  if (derived === null)
    return { locale: v.locale, subject, html, text: null, textFrom: 'render', htmlMap, textMap: [] };
  return {
    locale: v.locale,
    subject,
    html,
    text: derived,
    textFrom: 'derived',
    htmlMap,
    textMap: mapTokens(liquidTokens(derived), src),
  };
}

function keyOf(t: Omit<CompiledTemplate, 'key'>): string {
  return createHash('sha256').update(JSON.stringify(t)).digest('hex');
}

/**
 * Checks and compiles a template source (see the file's doc comment). Each variant is also rendered
 * once with {@link SAMPLE_TEMPLATE_VARS}, so that a fault only rendering shows (an unknown time zone
 * in `date_tz`, `money` on a text) is refused now rather than at every send.
 */
export async function compileTemplate(input: TemplateSource): Promise<CompiledTemplate> {
  const source = parseTemplateSource(input);
  const variants: CompiledVariant[] = [];
  for (const [index, v] of source.variants.entries())
    variants.push(await compileVariant(source, v, { name: source.name, index, locale: v.locale }));
  const body = {
    format: 1 as const,
    name: source.name,
    channel: source.channel,
    kind: source.kind,
    variants,
  };
  const compiled: CompiledTemplate = { ...body, key: keyOf(body) };
  for (const pv of prepare(compiled).variants) {
    try {
      renderVariant(compiled, pv, SAMPLE_TEMPLATE_VARS, false);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      throw new AppError(e.code, `${e.message} (rendering with the sample values)`, {
        where: e.where,
        details: e.details,
        cause: e,
      });
    }
  }
  return compiled;
}

// ---------------------------------------------------------------------------------------------------
// Rendering

interface PreparedVariant {
  ref: VariantRef;
  variant: CompiledVariant;
  subject: Template[] | null;
  html: Template[] | null;
  text: Template[] | null;
}

interface Prepared {
  locales: string[];
  variants: PreparedVariant[];
}

const byObject = new WeakMap<CompiledTemplate, Prepared>();
/** By `compiled.key`: a template read back from storage (a new object each time) is parsed once. */
const byKey = new Map<string, Prepared>();
const BY_KEY_MAX = 256;

function prepare(compiled: CompiledTemplate): Prepared {
  const same = byObject.get(compiled);
  if (same) return same;
  const hit = byKey.get(compiled.key);
  if (hit) {
    byKey.delete(compiled.key); // most recently used last
    byKey.set(compiled.key, hit);
    byObject.set(compiled, hit);
    return hit;
  }
  const valid = CompiledTemplateSchema.safeParse(compiled);
  if (!valid.success)
    throw new AppError(
      'validation',
      `not a compiled template (compile it with compileTemplate): ${valid.error.issues[0]?.message ?? ''}`,
    );
  const variants = compiled.variants.map((variant, index): PreparedVariant => {
    const ref = { name: compiled.name, index, locale: variant.locale };
    const textPart: Part = variant.textFrom === 'source' && compiled.channel === 'email' ? 'text' : 'body';
    return {
      ref,
      variant,
      subject: variant.subject === null ? null : parseLiquid(textLiquid, variant.subject, ref, 'subject'),
      html:
        variant.html === null ? null : parseLiquid(htmlLiquid, variant.html, ref, 'body', variant.htmlMap),
      text:
        variant.text === null ? null : parseLiquid(textLiquid, variant.text, ref, textPart, variant.textMap),
    };
  });
  const prepared = { locales: compiled.variants.map((v) => v.locale), variants };
  byObject.set(compiled, prepared);
  if (byKey.size >= BY_KEY_MAX) byKey.delete(byKey.keys().next().value as string);
  byKey.set(compiled.key, prepared);
  return prepared;
}

function run(
  liquid: Liquid,
  templates: Template[],
  vars: TemplateVars,
  globals: { locale: string },
  strict: boolean,
  fault: (e: unknown) => AppError,
): string {
  try {
    return liquid.renderSync(templates, vars, { globals, strictVariables: strict }) as string;
  } catch (e) {
    throw fault(e);
  }
}

function renderVariant(
  compiled: CompiledTemplate,
  pv: PreparedVariant,
  vars: TemplateVars,
  strict: boolean,
): RenderedMessage {
  const { variant: v, ref } = pv;
  const globals = { locale: v.locale };
  const channel: TemplateChannel = compiled.channel;
  if (channel !== 'email') {
    const text = run(textLiquid, pv.text ?? [], vars, globals, strict, (e) =>
      liquidFault(ref, 'body', e, v.text ?? '', []),
    );
    return { locale: v.locale, text: text.trim() };
  }
  const subject = run(textLiquid, pv.subject ?? [], vars, globals, strict, (e) =>
    liquidFault(ref, 'subject', e, v.subject ?? '', []),
  );
  const html = run(htmlLiquid, pv.html ?? [], vars, globals, strict, (e) =>
    liquidFault(ref, 'body', e, v.html ?? '', v.htmlMap),
  );
  let text: string;
  if (v.textFrom === 'render') text = tidyText(htmlToText(html));
  else {
    const part: Part = v.textFrom === 'source' ? 'text' : 'body';
    const raw = run(textLiquid, pv.text ?? [], vars, globals, strict, (e) =>
      liquidFault(ref, part, e, v.text ?? '', v.textMap),
    );
    text = v.textFrom === 'derived' ? tidyText(raw) : raw.trim();
  }
  return { locale: v.locale, subject: subject.replace(/\s+/g, ' ').trim(), html, text };
}

/**
 * One recipient's message from a compiled template: the variant for `locale` (see {@link pickLocale};
 * `storeLocale` is the store's default language), rendered with `vars`. Synchronous; a Liquid fault is
 * an `AppError('validation')` naming the variant, the part and the source line.
 */
export function renderTemplate(
  compiled: CompiledTemplate,
  locale: string | null | undefined,
  vars: TemplateVars,
  opts: RenderOptions = {},
): RenderedMessage {
  const prepared = prepare(compiled);
  const chosen = pickLocale(prepared.locales, locale, opts.storeLocale);
  const pv = prepared.variants[prepared.locales.indexOf(chosen)];
  if (!pv) throw new AppError('internal', `template '${compiled.name}' has no variant ${chosen}`);
  return renderVariant(compiled, pv, vars, opts.strict === true);
}
