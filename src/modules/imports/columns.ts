import { HEADER_ALIASES } from './names.js';
import { ENTITY_SCHEMAS, type Entity } from './schema.js';
import type { ColumnReport } from './columnReport.js';

export { describeIgnored, type ColumnReport } from './columnReport.js';

/** The field names of an entity's generic format (the keys of its input object). */
export function genericFields(entity: Entity): string[] {
  let s: unknown = ENTITY_SCHEMAS[entity];
  // Unwrap pipes (transforms) down to the object.
  for (let i = 0; i < 5 && s && typeof s === 'object'; i++) {
    const def = (s as { _zod?: { def?: { type?: string; in?: unknown; shape?: unknown } } })._zod?.def;
    if (def?.type === 'object') return Object.keys(def.shape as Record<string, unknown>);
    s = def?.in;
  }
  throw new Error(`no object schema for ${entity}`);
}

const norm = (c: string) =>
  c
    .trim()
    .toLowerCase()
    .replace(/[\s\-.]+/g, '_');

/** Edit distance with adjacent transpositions (optimal string alignment): `emial` is 1 from `email`. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** The nearest field within a third of its length (at least 1, at most 3 edits), if any. */
function nearest(column: string, fields: readonly string[]): string | undefined {
  const n = norm(column);
  let best: string | undefined;
  let bestD = Infinity;
  for (const f of fields) {
    const d = distance(n, f);
    if (d < bestD) [best, bestD] = [f, d];
  }
  return best !== undefined && bestD <= Math.min(3, Math.max(1, Math.floor(best.length / 3)))
    ? best
    : undefined;
}

/**
 * Resolves a generic file's header: the renames to apply (user `--map` first, then case/spacing
 * matches, then the fields' other names in {@link HEADER_ALIASES}: `Coupon Code` → `discount_codes`)
 * and what is reported about the columns.
 */
export function resolveColumns(
  entity: Entity,
  columns: readonly string[],
  map: Record<string, string> = {},
): { map: Record<string, string>; report: ColumnReport } {
  const fields = genericFields(entity);
  const known = new Set(fields);
  const byNorm = new Map(fields.map((f) => [norm(f), f]));
  const taken = new Set(columns.map((c) => map[c] ?? c).filter((c) => known.has(c)));
  const out: Record<string, string> = { ...map };
  const report: ColumnReport = { renamed: {}, ignored: [] };
  // A field some column names in another case or spacing is that column's, never an alias's.
  const byCase = new Set(columns.map((c) => byNorm.get(norm(map[c] ?? c))));
  const aliases = HEADER_ALIASES[entity] ?? {};
  for (const column of columns) {
    const target = map[column] ?? column;
    if (known.has(target)) continue;
    const alias = aliases[norm(target)];
    const field = byNorm.get(norm(target)) ?? (alias !== undefined && !byCase.has(alias) ? alias : undefined);
    if (field !== undefined && !taken.has(field)) {
      out[column] = field;
      report.renamed[column] = field;
      taken.add(field);
      continue;
    }
    const didYouMean = nearest(
      target,
      fields.filter((f) => !taken.has(f)),
    );
    report.ignored.push({ column, ...(didYouMean ? { didYouMean } : {}) });
  }
  return { map: out, report };
}
