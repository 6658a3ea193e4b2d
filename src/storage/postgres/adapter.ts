import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BulkLoad, Database, Dialect, Queryable, Row, Session, SqlValue } from '../port.js';
import { copyChunks } from '../copyFormat.js';
import { normalizeParam } from '../normalize.js';

const dialect: Dialect = {
  jsonType: 'JSONB',
  migrationLock: 'SELECT pg_advisory_xact_lock(727274001)',
  secondaryIndexes: true,
  hashText: (expr) => `CAST(hashtextextended(${expr}, 0) AS NUMERIC)`,
  epochSeconds: (expr) => `EXTRACT(EPOCH FROM ${expr})::double precision`,
  refreshStatistics: (tables) => `ANALYZE ${tables.join(', ')}`,
  updateFromValues: (table, column, values, columns, key) =>
    `FROM (VALUES ${values}) AS v(${columns.join(', ')}) WHERE ${table}.${column} = v.${key}`,
};

// Same shapes as DuckDB: integers and numerics as numbers, TIMESTAMP/DATE as UTC Dates.
const types = {
  getTypeParser(oid: number, format?: string) {
    switch (oid) {
      case 20: // int8
        return (v: string) => {
          const n = Number(v);
          if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${v} exceeds the safe range`);
          return n;
        };
      case 1700: // numeric
      case 701: // float8
        return (v: string) => Number(v);
      case 1114: // timestamp without time zone: stored as UTC
        return (v: string) => new Date(v.replace(' ', 'T') + 'Z');
      case 1082: // date
        return (v: string) => new Date(v + 'T00:00:00Z');
      default:
        return pg.types.getTypeParser(oid, format as 'text');
    }
  },
} as pg.CustomTypesConfig;

class PgQueryable implements Queryable {
  constructor(protected readonly client: pg.Pool | pg.PoolClient) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const res = await this.client.query({ text: sql, values: params.map(normalizeParam), types });
    return res.rows as T[];
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const res = await this.client.query({ text: sql, values: params.map(normalizeParam), types });
    return res.rowCount ?? 0;
  }

  async copyRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    const counter = { rows: 0 };
    await this.copyText(table, columns, copyChunks(rows, counter));
    return counter.rows;
  }

  /** COPY FROM STDIN of CSV text in the shared format (copyFormat.ts). */
  private async copyText(
    table: string,
    columns: readonly string[],
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  ): Promise<void> {
    const run = async (client: pg.PoolClient | pg.Pool) => {
      const sink = (client as pg.PoolClient).query(
        copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT csv, NULL '\\N')`),
      );
      await pipeline(Readable.from(chunks), sink);
    };
    if (this.client instanceof pg.Pool) {
      const client = await this.client.connect();
      try {
        await run(client);
      } finally {
        client.release();
      }
    } else {
      await run(this.client);
    }
  }

  async bulkLoad(table: string, columns: readonly string[]): Promise<BulkLoad> {
    // One connection runs one COPY at a time, so interleaved loads COPY each batch as it comes.
    let count = 0;
    return {
      write: async (rows) => {
        count += await this.copyRows(table, columns, rows);
      },
      writeEncoded: async (bytes, rows) => {
        if (bytes.length > 0)
          await this.copyText(table, columns, [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)]);
        count += rows;
      },
      finish: async () => count,
      // Each batch was COPYed as it came: nothing is pending, the caller's transaction decides.
      abort: async () => undefined,
    };
  }
}

/** PostgreSQL for multi-process production; `schema` isolates a store (and each test). */
export class PgDatabase extends PgQueryable implements Database {
  readonly kind = 'postgres' as const;
  readonly dialect = dialect;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {
    super(pool);
  }

  static async open(url: string, opts: { schema?: string; max?: number } = {}): Promise<PgDatabase> {
    const schema = opts.schema ?? new URL(url).searchParams.get('schema') ?? undefined;
    const cleanUrl = new URL(url);
    cleanUrl.searchParams.delete('schema');
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`invalid schema name ${schema}`);
    if (schema) {
      const admin = new pg.Client({ connectionString: cleanUrl.toString() });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        await admin.end();
      }
    }
    // Session settings on every pooled connection: UTC, and the store's schema when given.
    const options = ['-c TimeZone=UTC', schema ? `-c search_path=${schema}` : ''].filter(Boolean).join(' ');
    const pool = new pg.Pool({ connectionString: cleanUrl.toString(), max: opts.max ?? 8, options });
    pool.on('error', () => undefined); // idle-client errors surface on the next query instead
    const shown = new URL(cleanUrl);
    if (shown.password) shown.password = '***';
    return new PgDatabase(pool, shown.toString() + (schema ? ` (schema ${schema})` : ''));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await runTransaction(client, fn);
    } finally {
      client.release();
    }
  }

  async session<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const q = new PgQueryable(client);
    const session: Session = {
      query: (sql, params) => q.query(sql, params),
      exec: (sql, params) => q.exec(sql, params),
      copyRows: (table, columns, rows) => q.copyRows(table, columns, rows),
      bulkLoad: (table, columns) => q.bulkLoad(table, columns),
      transaction: (body) => runTransaction(client, body),
    };
    let healthy = true;
    try {
      return await fn(session);
    } finally {
      // The pooled connection outlives the session: drop its temporary tables before it goes back.
      await client.query('DISCARD TEMP').catch(() => {
        healthy = false;
      });
      client.release(!healthy);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** BEGIN, `fn`, COMMIT on `client`; ROLLBACK when `fn` throws. */
async function runTransaction<T>(client: pg.PoolClient, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(new PgQueryable(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
