import { mkdtemp, rm, open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { BulkLoad, Database, Queryable, Row, Session, SqlValue } from '../port.js';
import { AppError, invalid } from '../../shared/errors.js';
import { duckDialect } from './dialect.js';
import { finishQueued, Mutex } from '../mutex.js';
import { CopyEncoder } from '../copyFormat.js';
import { normalizeParam, toSafeNumber } from '../normalize.js';

const TRACE = process.env.RETAIN_TRACE === '1';
/** With RETAIN_TRACE=1, every statement's duration goes to stderr (for profiling imports and reports). */
async function traced<T>(sql: string, run: () => Promise<T>): Promise<T> {
  if (!TRACE) return run().catch(explainOutOfMemory);
  const t = performance.now();
  try {
    return await run().catch(explainOutOfMemory);
  } finally {
    process.stderr.write(
      `[sql ${(performance.now() - t).toFixed(0)}ms] ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`,
    );
  }
}

/**
 * DuckDB's out-of-memory error, with what to do: a write of millions of new rows in one transaction
 * (an import of a big file) keeps their unique-index entries in memory until it commits (~130 bytes
 * per order), so the limit must hold them.
 */
function explainOutOfMemory(err: unknown): never {
  const message = (err as Error)?.message ?? '';
  if (/Out of Memory Error/i.test(message))
    throw new AppError(
      'unavailable',
      `DuckDB ran out of its memory limit (${duckMemoryLimit()}; RETAIN_DUCKDB_MEMORY_LIMIT): ${message.split('\n')[0]}. ` +
        "A big import keeps its new orders' index entries in memory until it commits (about 130 bytes per order): " +
        'raise RETAIN_DUCKDB_MEMORY_LIMIT (e.g. 2GB), or import the file in parts',
      { cause: err },
    );
  throw err;
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

/** The longest staged row DuckDB's COPY accepts, in bytes. */
const MAX_STAGED_LINE = 8 << 20;

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
        // AUTO_DETECT false: the spool's format is ours, never guessed — DuckDB's sniffer read a phone
        // number '4 8 31' as a date format and then failed on the row's birthday (found by the fuzz test).
        // MAX_LINE_SIZE: a staged row holds up to a million characters (the importer's record limit), up
        // to ~4 bytes each; DuckDB's default of 2 MB stopped the whole import. BUFFER_SIZE set with it
        // (its default is 16 × the line size: 128 MB per reading thread).
        `COPY ${table} (${columns.join(', ')}) FROM '${path.replaceAll("'", "''")}' (FORMAT csv, HEADER false, NULLSTR '\\N', ALLOW_QUOTED_NULLS false, QUOTE '"', ESCAPE '"', AUTO_DETECT false, MAX_LINE_SIZE ${MAX_STAGED_LINE}, BUFFER_SIZE ${2 * MAX_STAGED_LINE})`,
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

/**
 * Whether a statement only reads: it starts with SELECT or WITH (DuckDB has no data-modifying WITH).
 * Reads run on reader connections, beside a write; everything else waits for the one writer.
 */
export function isRead(sql: string): boolean {
  return /^\s*(?:\(\s*)*(?:select|with)\b/i.test(sql);
}

/** A connection and the queue of work on it (a DuckDB connection runs one statement at a time). */
class Lane {
  readonly mutex = new Mutex();
  waiting = 0;
  constructor(readonly conn: DuckDBConnection) {}
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    return this.mutex.run(fn).finally(() => this.waiting--);
  }
}

/** Reader connections: reads run beside a write (an import's merge, a report's refresh) on them. */
const READERS = 2;

/**
 * DuckDB's memory limit, from RETAIN_DUCKDB_MEMORY_LIMIT (e.g. `512MB`, `2GB`); default 1GB. Without one
 * DuckDB takes up to 80% of the machine's RAM and keeps what it read (an import of a 200 MB file grew
 * the process to 3.2 GB); with it, sorts, joins and staged rows spill to `<file>.tmp`. What cannot
 * spill is the unique-index entries of the rows one transaction adds (~130 bytes per imported order):
 * 1GB holds an import of ~6M orders (measured: 4M orders need more than 512MB).
 */
export function duckMemoryLimit(env = process.env.RETAIN_DUCKDB_MEMORY_LIMIT): string {
  const raw = env?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MEMORY_LIMIT;
  if (!/^\d+(?:\.\d+)?\s*(?:KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(raw))
    throw invalid(`RETAIN_DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GB, got '${raw}'`, {
      field: 'RETAIN_DUCKDB_MEMORY_LIMIT',
    });
  return raw;
}
const DEFAULT_MEMORY_LIMIT = '1GB';

/**
 * The embedded default: one DuckDB file, one writer at a time. Writes (statements that are not reads,
 * transactions, bulk loads) queue for the writer; reads run on reader connections beside them, on
 * DuckDB's snapshot of the last commit, so an import's merge never stalls a request that reads.
 * `session` gives a connection of its own for work that stages rows (temp tables) before it writes.
 */
export class DuckDatabase implements Database {
  readonly kind = 'duckdb' as const;
  readonly dialect = duckDialect;
  /** Held for every write to the store, whichever connection it is on. */
  private readonly writer = new Mutex();
  private readonly main: DuckQueryable;
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly mainConn: DuckDBConnection,
    private readonly readers: Lane[],
    readonly location: string,
  ) {
    this.main = new DuckQueryable(mainConn);
  }

  /** Opens (creating if needed) the DuckDB file at `path` (`:memory:` for an in-memory store). */
  static async open(path: string): Promise<DuckDatabase> {
    const memoryLimit = duckMemoryLimit();
    const instance = await DuckDBInstance.create(path, { memory_limit: memoryLimit });
    const connect = async () => {
      const conn = await instance.connect();
      await conn.run("SET TimeZone = 'UTC'").catch(() => undefined);
      return conn;
    };
    const conn = await connect();
    const readers: Lane[] = [];
    for (let i = 0; i < READERS; i++) readers.push(new Lane(await connect()));
    return new DuckDatabase(instance, conn, readers, path);
  }

  private reader(): Lane {
    let best = this.readers[0] as Lane;
    for (const r of this.readers) if (r.waiting < best.waiting) best = r;
    return best;
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    if (isRead(sql)) {
      const lane = this.reader();
      return lane.run(() => new DuckQueryable(lane.conn).query<T>(sql, params));
    }
    return this.writer.run(() => this.main.query<T>(sql, params));
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.writer.run(() => this.main.exec(sql, params));
  }

  copyRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    return this.writer.run(() => this.main.copyRows(table, columns, rows));
  }

  async bulkLoad(table: string, columns: readonly string[]): Promise<BulkLoad> {
    return finishQueued(await this.main.bulkLoad(table, columns), this.writer);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.writer.run(() => runTransaction(this.mainConn, fn));
  }

  async session<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the database is closed');
    const conn = await this.instance.connect();
    await conn.run("SET TimeZone = 'UTC'").catch(() => undefined);
    const lane = new Lane(conn);
    const q = new DuckQueryable(conn);
    const session: Session = {
      query: (sql, params) => lane.run(() => q.query(sql, params)),
      exec: (sql, params) => lane.run(() => q.exec(sql, params)),
      copyRows: (table, columns, rows) => lane.run(() => q.copyRows(table, columns, rows)),
      bulkLoad: async (table, columns) => finishQueued(await q.bulkLoad(table, columns), lane),
      // Not queued on the lane: the session's owner uses it one call at a time, and the body's
      // statements run on the same connection.
      transaction: (body) => this.writer.run(() => runTransaction(conn, body)),
    };
    try {
      return await fn(session);
    } finally {
      // Closing the connection drops its temporary tables; wait for what still runs on it first.
      await lane.run(async () => conn.closeSync());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writer.run(async () => {
      for (const r of this.readers) await r.run(async () => r.conn.closeSync());
      this.mainConn.closeSync();
      this.instance.closeSync();
    });
  }
}

/** BEGIN, `fn`, COMMIT on `conn`; ROLLBACK when `fn` throws. */
async function runTransaction<T>(conn: DuckDBConnection, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const tx = new DuckQueryable(conn);
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await fn(tx);
    await traced('COMMIT', () => conn.run('COMMIT'));
    return result;
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
