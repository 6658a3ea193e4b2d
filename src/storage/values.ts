import type { SqlValue } from './port.js';

/**
 * A `VALUES` list of placeholders for `rows`, their values appended to `params` (which hold the
 * statement's own first): `($3, $4), ($5, $6)`. The same SQL on DuckDB and PostgreSQL.
 */
export const valuesList = (params: SqlValue[], rows: readonly (readonly SqlValue[])[]): string =>
  rows
    .map((r) => {
      const at = params.length;
      params.push(...r);
      return `(${r.map((_, i) => `$${at + i + 1}`).join(', ')})`;
    })
    .join(', ');
