/**
 * What text and JSON values the stores can keep exactly. Both engines store UTF-8: a string with a lone
 * UTF-16 surrogate (JSON's `"\ud800"`) is not Unicode and would be stored as U+FFFD (or refused), and
 * PostgreSQL refuses the NUL character in text and JSON. A JSON number beyond a double's range
 * (`1e400`) parses as Infinity, which JSON cannot hold.
 */

const SUSPECT = /[\0\ud800-\udfff]/;

/** Why `s` cannot be stored as written, or null when it can (`isWellFormed`: ES2024, in Node 20). */
export function textIssue(s: string): string | null {
  // One scan for the common case (no NUL, no surrogate at all); paired surrogates (emoji) pass below.
  if (!SUSPECT.test(s)) return null;
  if (s.includes('\0')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed())
    return 'contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored';
  return null;
}

/**
 * The first value inside a parsed JSON value that cannot be stored exactly (by {@link textIssue},
 * in keys too, or a non-finite number), as `{path, message}` with the path below `value`
 * (`['items', 0, 'name']`); null when every value can.
 */
export function jsonValueIssue(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; message: string } | null {
  if (typeof value === 'string') {
    const m = textIssue(value);
    return m ? { path, message: m } : null;
  }
  if (typeof value === 'number')
    return Number.isFinite(value)
      ? null
      : { path, message: 'is beyond the range of a JSON number (a double); send it as a string' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = jsonValueIssue(value[i], [...path, i]);
      if (r) return r;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const m = textIssue(k);
      if (m) return { path: [...path, k], message: `its name ${m}` };
      const r = jsonValueIssue(v, [...path, k]);
      if (r) return r;
    }
  }
  return null;
}
