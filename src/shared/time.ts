/**
 * Strict instant parsing. Accepted (UTC unless an offset is given):
 * `2011-12-09T12:50:00Z`, `2011-12-09T12:50:00+01:00`, `2011-12-09 12:50[:00[.123]]`,
 * `2024-01-15 10:23:45 -0500` (Shopify), `2011-12-09` (midnight UTC), and with `compact`, `20111209`.
 * Impossible calendar dates (2011-02-30) are refused rather than rolled over.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$/i;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;

let lastText = '';
let lastCompact = false;
let lastResult: Date | null = null;

export function parseInstant(text: string, opts: { compact?: boolean } = {}): Date | null {
  // Consecutive rows (lines of one order) usually repeat the same timestamp: reuse the last answer.
  const compact = opts.compact === true;
  if (text === lastText && compact === lastCompact) return lastResult && new Date(lastResult.getTime());
  const result = parseInstantUncached(text, compact);
  lastText = text;
  lastCompact = compact;
  lastResult = result;
  return result && new Date(result.getTime());
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

/** Fast path for the commonest export shape, `YYYY-MM-DD HH:MM:SS` (no regex, no allocation). */
function parseSqlTimestamp(s: string): Date | null | undefined {
  if (
    s.length !== 19 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 32 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  )
    return undefined;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) {
    const d = digit(s, i);
    if (d < 0 || d > 9) return undefined;
  }
  const y = two(s, 0) * 100 + two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  const sec = two(s, 17);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, sec);
  const check = new Date(t);
  return check.getUTCDate() === d && check.getUTCMonth() === mo - 1 ? check : null;
}

function parseInstantUncached(text: string, compactAllowed: boolean): Date | null {
  const fast = parseSqlTimestamp(text);
  if (fast !== undefined) return fast;
  const s = text.trim();
  let m = ISO.exec(s);
  let parts: string[];
  let zone: string | undefined;
  if (m) {
    parts = [
      m[1],
      m[2],
      m[3],
      m[4] ?? '0',
      m[5] ?? '0',
      m[6] ?? '0',
      (m[7] ?? '0').padEnd(3, '0').slice(0, 3),
    ] as string[];
    zone = m[8];
  } else if (compactAllowed && (m = COMPACT.exec(s))) {
    parts = [m[1], m[2], m[3], '0', '0', '0', '0'] as string[];
  } else {
    return null;
  }
  const [y, mo, d, h, mi, sec, ms] = parts.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return null;
  let t = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  if (zone && zone.toUpperCase() !== 'Z' && zone.toUpperCase() !== 'UTC') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    if (offsetMin > 14 * 60) return null;
    t -= sign * offsetMin * 60_000;
  }
  return new Date(t);
}

/** Milliseconds in a UTC day; day counts in reports are fractional `(b − a) / DAY_MS`. */
export const DAY_MS = 86_400_000;

/** Parses `YYYY-MM-DD` (a calendar day, as midnight UTC). */
export function parseDay(text: string): Date | null {
  const s = text.trim();
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? parseInstant(s) : null;
}

/** `YYYY-MM-DD` of a UTC instant. */
export function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Days since 1970-01-01 → [year, month 1–12, day] in the proleptic Gregorian calendar, by integer
 * arithmetic (H. Hinnant's civil_from_days): several times faster than `Date#getUTC*` in hot loops.
 */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/**
 * Whether `zone` is an IANA time zone name this runtime knows (`Europe/Kyiv`, `UTC`). Offsets such as
 * `+02:00` are not zone names (Intl, Postgres and DuckDB read their signs differently).
 */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
