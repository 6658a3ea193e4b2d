import type { Dialect } from '../port.js';

/** DuckDB's SQL fragments (shared by the adapter and the socket client, which speaks to a DuckDB server). */
export const duckDialect: Dialect = {
  jsonType: 'JSON',
  migrationLock: null,
  secondaryIndexes: false,
  hashText: (expr) => `CAST(hash(${expr}) AS HUGEINT)`,
  epochSeconds: (expr) => `epoch(${expr})`,
  refreshStatistics: () => null,
  updateFromValues: (table, column, values, columns, key) =>
    `FROM (SELECT t.rowid AS v_rowid, v.* FROM (VALUES ${values}) AS v(${columns.join(', ')})
           JOIN ${table} t ON t.${column} = v.${key}) AS v
     WHERE ${table}.rowid = v.v_rowid`,
};
