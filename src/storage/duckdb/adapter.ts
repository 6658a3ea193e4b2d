import { mkdtemp, rm, open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { Database, Dialect, Queryable, Row, SqlValue } from '../port.js';
import { copyChunks } from '../copyFormat.js';
import { normalizeParam, toSafeNumber } from '../normalize.js';

const dialect: Dialect = {
  jsonType: 'JSON',
  migrationLock: null,
  secondaryIndexes: false,
  hashText: (expr) => `CAST(hash(${expr}) AS HUGEINT)`,
  epochSeconds: (expr) => `epoch(${expr})`,
};

const TRACE = process.env.RETAIN_TRACE === '1';
/** With RETAIN_TRACE=1, every statement's duration goes to stderr (for profiling imports and reports). */
async function traced<T>(sql: string, run: () => Promise<T>): Promise<T> {
  if (!TRACE) return run();
  const t = performance.now();
  try {
    return await run();
  } finally {
    process.stderr.write(
      `[sql ${(performance.now() - t).toFixed(0)}ms] ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`,
    );
  }
}

function normalizeRow(row: Record<string, unknown>): Row {
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'bigint') row[key] = toSafeNumber(v, key);
  }
  return row;
}

/** Serialises access to the single DuckDB connection (one statement or transaction at a time). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

class DuckQueryable implements Queryable {
  constructor(protected readonly conn: DuckDBConnection) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const reader = await traced(sql, () =>
      this.conn.runAndReadAll(sql, params.map(normalizeParam) as DuckDBValue[]),
    );
    return reader.getRowObjectsJS().map(normalizeRow) as T[];
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const values = params.length ? (params.map(normalizeParam) as DuckDBValue[]) : undefined;
    const result = await traced(sql, () => this.conn.run(sql, values));
    return Number(result.rowsChanged);
  }

  async copyRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    // DuckDB's COPY reads files with its parallel CSV reader, far faster than row-by-row appends.
    const dir = await mkdtemp(join(tmpdir(), 'retain-copy-'));
    const file = join(dir, 'rows.csv');
    const counter = { rows: 0 };
    try {
      const handle = await openFile(file, 'w');
      try {
        for await (const chunk of copyChunks(rows, counter)) await handle.write(chunk);
      } finally {
        await handle.close();
      }
      if (counter.rows === 0) return 0;
      const path = file.replaceAll("'", "''");
      await traced(`COPY ${table}`, () =>
        this.conn.run(
          `COPY ${table} (${columns.join(', ')}) FROM '${path}' (FORMAT csv, HEADER false, NULLSTR '\\N', ALLOW_QUOTED_NULLS false, QUOTE '"', ESCAPE '"')`,
        ),
      );
      return counter.rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The embedded default: one DuckDB file, one connection, statements serialised. */
export class DuckDatabase extends DuckQueryable implements Database {
  readonly kind = 'duckdb' as const;
  readonly dialect = dialect;
  private readonly mutex = new Mutex();

  private constructor(
    private readonly instance: DuckDBInstance,
    conn: DuckDBConnection,
    readonly location: string,
  ) {
    super(conn);
  }

  /** Opens (creating if needed) the DuckDB file at `path` (`:memory:` for an in-memory store). */
  static async open(path: string): Promise<DuckDatabase> {
    const instance = await DuckDBInstance.create(path);
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'").catch(() => undefined);
    return new DuckDatabase(instance, conn, path);
  }

  override query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.mutex.run(() => super.query<T>(sql, params));
  }

  override exec(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.mutex.run(() => super.exec(sql, params));
  }

  override copyRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    return this.mutex.run(() => super.copyRows(table, columns, rows));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const tx = new DuckQueryable(this.conn);
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const result = await fn(tx);
        await traced('COMMIT', () => this.conn.run('COMMIT'));
        return result;
      } catch (err) {
        await this.conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      this.conn.closeSync();
      this.instance.closeSync();
    });
  }
}
