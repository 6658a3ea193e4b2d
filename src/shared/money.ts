/**
 * Exact decimal → integer minor-unit conversion. Money never passes through binary floating point:
 * "2.55" becomes 255 by string arithmetic. Values with more digits than the currency's minor unit
 * (e.g. Online Retail's 0.001) are rounded half away from zero at the last step, so a line total is
 * computed from the exact unit price (qty × price, then rounded once), not from a pre-rounded price.
 */

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$|^([+-])?\.(\d+)$/;

export interface ScaledDecimal {
  /** digits × 10^-scale, as a bigint to stay exact. */
  units: bigint;
  scale: number;
}

/** Parses a plain decimal string ("1,234.50" is refused; thousands separators are ambiguous). */
export function parseDecimal(text: string): ScaledDecimal | null {
  const s = text.trim();
  const m = DECIMAL.exec(s);
  if (!m) return null;
  const sign = (m[1] ?? m[4]) === '-' ? -1n : 1n;
  const intPart = m[2] ?? '0';
  const frac = m[3] ?? m[5] ?? '';
  return { units: sign * BigInt(intPart + frac), scale: frac.length };
}

/** Divides with rounding half away from zero. */
function divRound(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}

function toMinor(value: ScaledDecimal, minorDigits: number): bigint {
  if (value.scale <= minorDigits) return value.units * 10n ** BigInt(minorDigits - value.scale);
  return divRound(value.units, 10n ** BigInt(value.scale - minorDigits));
}

function safe(n: bigint): number | null {
  return n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(n);
}

/** "2.55" → 255 (minorDigits 2). Null when the text is not a decimal or the result is unsafe. */
export function decimalToMinor(text: string, minorDigits = 2): number | null {
  const d = parseDecimal(text);
  return d ? safe(toMinor(d, minorDigits)) : null;
}

/**
 * The largest amount one field may hold, in minor units (10,000,000,000.00 in a 2-digit currency): far
 * above any real order, and small enough that sums over millions of them stay exact in a double.
 */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

/**
 * Why `quantity × value` cannot be stored exactly as minor units (beyond {@link MAX_AMOUNT_MINOR}),
 * or null when it can.
 */
export function amountLimitError(value: ScaledDecimal, minorDigits = 2, quantity = 1): string | null {
  const m = toMinor({ units: value.units * BigInt(quantity), scale: value.scale }, minorDigits);
  const abs = m < 0n ? -m : m;
  if (abs <= BigInt(MAX_AMOUNT_MINOR)) return null;
  const limit = (MAX_AMOUNT_MINOR / 10 ** minorDigits).toLocaleString('en-US', {
    minimumFractionDigits: minorDigits,
  });
  return `is beyond the largest amount Retain stores (${limit})`;
}

/**
 * The exact sum of plain decimal strings, as a decimal string with the largest scale among them
 * (`['4.90', '0.1']` → `'5.00'`), or the first value that is not a plain decimal (so that the caller's
 * validation names it). Undefined for no values.
 */
export function addDecimals(values: readonly string[]): string | undefined {
  if (values.length === 0) return undefined;
  const parsed: ScaledDecimal[] = [];
  for (const v of values) {
    const d = parseDecimal(v);
    if (!d) return v;
    parsed.push(d);
  }
  const scale = Math.max(...parsed.map((d) => d.scale));
  const total = parsed.reduce((a, d) => a + d.units * 10n ** BigInt(scale - d.scale), 0n);
  const digits = (total < 0n ? -total : total).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return total < 0n ? `-${text}` : text;
}

/** quantity × unit price (exact decimal) in minor units, rounded once. */
export function lineTotalMinor(quantity: number, unitPrice: ScaledDecimal, minorDigits = 2): number | null {
  return safe(toMinor({ units: unitPrice.units * BigInt(quantity), scale: unitPrice.scale }, minorDigits));
}

/** Minor units → decimal number in currency units (for JSON output only, never for arithmetic). */
export function minorToDecimal(minor: number, minorDigits = 2): number {
  return Number((minor / 10 ** minorDigits).toFixed(minorDigits));
}

/** ISO 4217 currencies whose minor unit is not 2 digits (the rest use 2). */
const MINOR_DIGITS: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  VND: 0,
  CLP: 0,
  ISK: 0,
  HUF: 2,
  BHD: 3,
  KWD: 3,
  OMR: 3,
  JOD: 3,
  TND: 3,
};

/** Number of minor-unit digits of an ISO 4217 currency. */
export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

/** What a 400 for an inexact JSON number tells the client to do instead. */
export const EXACT_NUMBER_HINT = 'send it as a string, e.g. "90071992547409.93"';

/**
 * The decimal a JSON number stands for, or null when it cannot be told exactly. JSON parsers read
 * numbers as doubles, so the decimal the client's serializer wrote is known only when the double's
 * shortest round-trip form (`String(n)`) has at most 15 significant digits (every such decimal survives
 * the double) and no exponent: `12.5` → `'12.5'`, `1` → `'1'`; `0.1 + 0.2` (17 digits),
 * `9007199254740993` (16), `1e21` and `1e-7` (exponent form) → null. Digits of the integer part count
 * even when they are zeros (`1000000000000000000` may stand for `1000000000000000001`).
 */
export function exactJsonNumber(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  const s = String(n);
  if (s.includes('e')) return null;
  let digits = 0;
  let leading = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    if (leading && c === 48) continue;
    leading = false;
    digits++;
  }
  return digits <= 15 ? s : null;
}

/** Minor units as an exact decimal string in currency units: 12345 → '123.45', -5 → '-0.05'. */
export function formatMinor(minor: number, minorDigits = 2): string {
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(minorDigits + 1, '0');
  const text = minorDigits === 0 ? s : `${s.slice(0, -minorDigits)}.${s.slice(-minorDigits)}`;
  return neg ? `-${text}` : text;
}
