import type { SqlValue } from './port.js';
import { timestampLiteral } from './copyFormat.js';

/** Converts an engine's integer to a JS number, refusing silent precision loss. */
export function toSafeNumber(v: bigint, column: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`column ${column}: integer ${v} exceeds the safe range`);
  }
  return Number(v);
}

/** Parameters both engines accept: Dates become UTC timestamp literals (cast in SQL with ::timestamp). */
export function normalizeParam(v: SqlValue): SqlValue {
  return v instanceof Date ? timestampLiteral(v) : v;
}
