/**
 * The storage port: everything above this line speaks Postgres-flavoured SQL with `$n` parameters;
 * each adapter (DuckDB, PostgreSQL) supplies the engine and the few fragments where they differ.
 *
 * Row values are normalised by the adapters so callers see the same shapes on both engines:
 * integers and decimals as `number` (an error if an integer exceeds the safe range), TIMESTAMP and
 * DATE as `Date` (UTC), text as `string`, JSON as parsed values, NULL as `null`.
 */
export type SqlValue = string | number | bigint | boolean | Date | null;

export type Row = Record<string, unknown>;

/** Where the engines differ, the adapter supplies the SQL fragment. */
export interface Dialect {
  /** Column type for JSON documents (`JSONB` on Postgres, `JSON` on DuckDB). */
  readonly jsonType: string;
  /** Statement taking the migration lock (Postgres advisory lock), or null. */
  readonly migrationLock: string | null;
  /**
   * Whether to build secondary indexes for point look-ups (Postgres: yes). DuckDB: no — its ART
   * indexes made a 2M-order import ~5× slower (measured, see docs/architecture.md) and its scans
   * use zone maps instead; uniqueness that guards idempotency stays on both engines.
   */
  readonly secondaryIndexes: boolean;
  /** A 64-bit hash of a TEXT expression, summable into an order-insensitive digest. */
  hashText(expr: string): string;
  /** Seconds since the Unix epoch of a TIMESTAMP expression, as a double. */
  epochSeconds(expr: string): string;
  /**
   * The statement that refreshes the planner's statistics of `tables` after a bulk write, or null
   * when the engine keeps them itself (DuckDB). Postgres plans the first report after a big import
   * from stale statistics otherwise (measured: 16.7 s instead of 0.7 s for `report summary` on
   * Online Retail, until autovacuum's ANALYZE).
   */
  refreshStatistics(tables: readonly string[]): string | null;
  /**
   * The `FROM … WHERE …` of an `UPDATE <table> SET … FROM …` that joins a VALUES list (aliased `v`, its
   * key column `key`) to `table` by the unique `column` — the SET and any further `AND …` may use `v.*`.
   * Postgres joins through the key's index as written. DuckDB plans that join as a scan of the whole
   * table; joined to the table's `rowid` first it uses the key's index (measured on a 1M-row ledger, 50
   * keys: 7.5 ms instead of 16–23 ms per statement, and the cost no longer grows with the table).
   */
  updateFromValues(
    table: string,
    column: string,
    values: string,
    columns: readonly string[],
    key: string,
  ): string;
}

/** Anything that runs SQL: the database itself or a transaction. */
export interface Queryable {
  /** Runs a query and returns its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed (0 when the engine does not say). */
  exec(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Bulk-loads rows into `table(columns)` (COPY on both engines), streaming: rows are consumed
   * once and never held in memory together. Returns the number of rows loaded.
   */
  copyRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number>;
  /**
   * A bulk load fed in batches (for loads that interleave several tables): rows go in with `write`,
   * and are all visible after `finish`. DuckDB spools them to one file and COPYs once at the end
   * (one COPY of 2.7M rows is far cheaper than 55 COPYs of 50k); Postgres COPYs each batch.
   */
  bulkLoad(table: string, columns: readonly string[]): Promise<BulkLoad>;
}

export interface BulkLoad {
  write(rows: readonly (readonly SqlValue[])[]): Promise<void>;
  /** Appends `rows` rows already encoded as COPY CSV text (storage/copyFormat.ts), e.g. by a worker. */
  writeEncoded(bytes: Uint8Array, rows: number): Promise<void>;
  /** Completes the load; returns the number of rows loaded. */
  finish(): Promise<number>;
  /**
   * Abandons an unfinished load (its writer went away): nothing more is loaded and temporary files
   * are removed. Rows already loaded stay in the caller's transaction, which is then rolled back.
   */
  abort(): Promise<void>;
}

/** A connection of its own (see `Database.session`). */
export interface Session extends Queryable {
  /** Runs `fn` in one transaction on the session's connection (its temporary tables are visible). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export type EngineKind = 'duckdb' | 'postgres';

export interface Database extends Queryable {
  readonly kind: EngineKind;
  readonly dialect: Dialect;
  /** A human-readable description of where the data lives (file path or URL without password). */
  readonly location: string;
  /** Runs `fn` in one transaction: commit on success, rollback on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on a connection of its own, outside any transaction, for work that stages rows before it
   * writes (an import): temporary tables and bulk loads made on the session are private to it and
   * are dropped when `fn` ends, and they do not hold up other requests (on DuckDB a transaction holds
   * the store's one writer). Statements on the session outside `session.transaction` should touch its
   * temporary tables only; writes to the store go in `session.transaction`.
   */
  session<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
