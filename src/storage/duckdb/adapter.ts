import { mkdtemp, rm, open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { BulkLoad, Database, Queryable, Row, SqlValue } from '../port.js';
import { duckDialect } from './dialect.js';
import { Mutex } from '../mutex.js';
import { CopyEncoder } from '../copyFormat.js';
import { normalizeParam, toSafeNumber } from '../normalize.js';

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
    const load = await spool(this.conn, table, columns);
    for await (const row of rows) await load.write([row]);
    return load.finish();
  }

  bulkLoad(table: string, columns: readonly string[]): Promise<BulkLoad> {
    return spool(this.conn, table, columns);
  }
}

/** Rows per spooled segment: each full segment is COPYed in the background while parsing goes on. */
const SEGMENT_BYTES = 64 << 20;

/**
 * DuckDB's COPY reads files with its parallel CSV reader, far faster than row-by-row appends. Rows are
 * spooled to segment files; a full segment is COPYed on DuckDB's threads while the caller keeps
 * producing rows on the JS thread, so loading overlaps parsing. `finish` waits for every segment.
 */
async function spool(conn: DuckDBConnection, table: string, columns: readonly string[]): Promise<BulkLoad> {
  const dir = await mkdtemp(join(tmpdir(), 'retain-copy-'));
  let segment = 0;
  let file = '';
  let handle: Awaited<ReturnType<typeof openFile>> | null = null;
  let segmentBytes = 0;
  let count = 0;
  const pending = new CopyEncoder();
  let copies: Promise<void> = Promise.resolve();
  let failed: unknown = null;
  const copy = (path: string) => async () => {
    if (failed) return;
    await traced(`COPY ${table}`, () =>
      conn.run(
        `COPY ${table} (${columns.join(', ')}) FROM '${path.replaceAll("'", "''")}' (FORMAT csv, HEADER false, NULLSTR '\\N', ALLOW_QUOTED_NULLS false, QUOTE '"', ESCAPE '"')`,
      ),
    );
    await rm(path, { force: true });
  };
  const closeSegment = async () => {
    if (!handle) return;
    await handle.close();
    handle = null;
    copies = copies.then(copy(file)).catch((err: unknown) => {
      failed = failed ?? err;
    });
  };
  const append = async (data: Uint8Array) => {
    if (!handle) {
      file = join(dir, `rows-${segment++}.csv`);
      handle = await openFile(file, 'w');
      segmentBytes = 0;
    }
    await handle.write(data);
    segmentBytes += data.length;
    if (segmentBytes >= SEGMENT_BYTES) await closeSegment();
  };
  const drain = async () => {
    if (pending.length === 0) return;
    await append(pending.take().bytes);
  };
  return {
    async write(rows) {
      for (const row of rows) pending.add(row);
      count += rows.length;
      if (pending.length >= 1 << 20) await drain();
    },
    async writeEncoded(bytes, rows) {
      await drain();
      count += rows;
      if (bytes.length > 0) await append(bytes);
    },
    async finish() {
      try {
        await drain();
        await closeSegment();
        await copies;
        if (failed) throw failed;
        return count;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async abort() {
      failed = failed ?? new Error(`the load into ${table} was abandoned`);
      const open = handle;
      handle = null;
      await open?.close();
      await copies;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The embedded default: one DuckDB file, one connection, statements serialised. */
export class DuckDatabase extends DuckQueryable implements Database {
  readonly kind = 'duckdb' as const;
  readonly dialect = duckDialect;
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

  override async bulkLoad(table: string, columns: readonly string[]): Promise<BulkLoad> {
    const inner = await super.bulkLoad(table, columns);
    return {
      write: (rows) => inner.write(rows),
      writeEncoded: (bytes, rows) => inner.writeEncoded(bytes, rows),
      finish: () => this.mutex.run(() => inner.finish()),
      abort: () => inner.abort(),
    };
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
