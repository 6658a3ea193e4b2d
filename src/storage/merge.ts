import type { Queryable, SqlValue } from './port.js';

/**
 * Idempotent upsert of a staged table into its target, shared by every importer:
 * classify each staged row as insert / update (some compared column differs) / same, then apply.
 * Plain SQL that runs unchanged on DuckDB and Postgres. Inserts still go through the target's unique
 * key (`ON CONFLICT DO NOTHING`), so two concurrent imports can never double a row.
 */
export interface MergeSpec {
  target: string;
  /** Staged table: has the key and value columns under the target's names. */
  staged: string;
  keys: readonly string[];
  /** Value columns compared, updated and inserted. */
  columns: readonly string[];
  /** Extra columns set on insert and update, with SQL expressions (e.g. `updated_at: '$1::timestamp'`). */
  stamp?: Record<string, string>;
  params?: readonly SqlValue[];
}

export interface MergeCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Name of the temp table holding each staged key's action (kept for follow-up statements). */
export const actionsTable = (spec: Pick<MergeSpec, 'staged'>) => `${spec.staged}_actions`;

export async function mergeStaged(tx: Queryable, spec: MergeSpec): Promise<MergeCounts> {
  const { target, staged, keys, columns } = spec;
  const params = spec.params ?? [];
  const on = (a: string, b: string) => keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  const differs = columns.map((c) => `t.${c} IS DISTINCT FROM s.${c}`).join(' OR ') || 'FALSE';
  const actions = actionsTable(spec);
  await tx.exec(`DROP TABLE IF EXISTS ${actions}`);
  await tx.exec(
    // The actions table carries the staged values too, so the writes below read one table
    // instead of joining staged × actions again on the (text) key: 2M-order insert 7 s → 3 s.
    `CREATE TEMP TABLE ${actions} AS
     SELECT ${[...keys, ...columns].map((k) => `s.${k}`).join(', ')},
            CASE WHEN t.${keys[0]} IS NULL THEN 'insert' WHEN ${differs} THEN 'update' ELSE 'same' END AS action
     FROM ${staged} s LEFT JOIN ${target} t ON ${on('t', 's')}`,
  );
  const counts: MergeCounts = { inserted: 0, updated: 0, unchanged: 0 };
  for (const r of await tx.query<{ action: string; n: number }>(
    `SELECT action, COUNT(*) AS n FROM ${actions} GROUP BY action`,
  )) {
    if (r.action === 'insert') counts.inserted = r.n;
    else if (r.action === 'update') counts.updated = r.n;
    else counts.unchanged = r.n;
  }
  const stamp = Object.entries(spec.stamp ?? {});
  if (counts.updated > 0) {
    const sets = [...columns.map((c) => `${c} = s.${c}`), ...stamp.map(([c, e]) => `${c} = ${e}`)].join(', ');
    await tx.exec(
      `UPDATE ${target} AS t SET ${sets}
       FROM ${actions} s
       WHERE ${on('t', 's')} AND s.action = 'update'`,
      params,
    );
  }
  if (counts.inserted > 0) {
    const cols = [...keys, ...columns, ...stamp.map(([c]) => c)];
    const vals = [...keys.map((k) => `s.${k}`), ...columns.map((c) => `s.${c}`), ...stamp.map(([, e]) => e)];
    await tx.exec(
      `INSERT INTO ${target} (${cols.join(', ')})
       SELECT ${vals.join(', ')} FROM ${actions} s
       WHERE s.action = 'insert'
       ORDER BY ${keys.map((k) => `s.${k}`).join(', ')}
       ON CONFLICT DO NOTHING`,
      params,
    );
  }
  return counts;
}
