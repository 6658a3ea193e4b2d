import { lstat } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { AppError } from '../../shared/errors.js';
import { CopyEncoder } from '../copyFormat.js';
import { duckDialect } from '../duckdb/dialect.js';
import { finishQueued, Mutex } from '../mutex.js';
import type { BulkLoad, Database, Queryable, Row, Session, SqlValue } from '../port.js';
import {
  decodeError,
  decodeValue,
  encodeFrame,
  encodeParams,
  FrameReader,
  PROTOCOL_VERSION,
  type Request,
  type WireError,
} from './protocol.js';

/** Encoded rows a remote load gathers before sending them (a frame of about this size). */
const SEND_BYTES = 1 << 20;

interface Reply {
  ok: true;
  pid?: number;
  kind?: string;
  changed?: number;
  load?: number;
  count?: number;
  rows?: Row[];
}

interface Waiting {
  resolve(r: Reply): void;
  reject(err: Error): void;
  rows: Row[] | null;
}

/** Whether connecting failed because nobody serves the socket (absent, or left by a killed server). */
export function nobodyListens(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/** One session with the server: requests go out in order, replies come back in the same order. */
class Connection {
  private readonly reader = new FrameReader();
  private readonly waiting: Waiting[] = [];
  private failure: Error | null = null;
  pid = 0;
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.reader.push(chunk)) this.receive(frame.header as Record<string, unknown>);
      } catch (err) {
        this.fail(err as Error);
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  private receive(h: Record<string, unknown>): void {
    const head = this.waiting[0];
    if (!head) throw new Error('a reply came with no request waiting');
    if (h.ok === false) {
      this.waiting.shift();
      head.reject(decodeError(h.error as WireError));
      return;
    }
    if (Array.isArray(h.cols)) {
      const cols = h.cols as string[];
      const rows = (head.rows ??= []);
      for (const values of h.rows as unknown[][]) {
        const row: Row = {};
        for (let i = 0; i < cols.length; i++) row[cols[i] as string] = decodeValue(values[i]);
        rows.push(row);
      }
      if (h.more) return;
      this.waiting.shift();
      head.resolve({ ok: true, rows });
      return;
    }
    this.waiting.shift();
    head.resolve(h as unknown as Reply);
  }

  private fail(cause: Error): void {
    if (this.failure) return;
    this.failure = new AppError(
      'unavailable',
      `lost the connection to the retain server${this.pid ? ` (pid ${this.pid})` : ''} on ${this.path}: ${cause.message}; an unfinished transaction was rolled back there`,
      { cause },
    );
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  request(req: Request, payload?: Uint8Array): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({ resolve, reject, rows: null });
      for (const buf of encodeFrame(req, payload)) this.socket.write(buf);
    });
  }

  async end(): Promise<void> {
    this.failure ??= new AppError('internal', 'the database connection is closed');
    this.socket.end();
    await this.closed;
  }
}

class RemoteQueryable implements Queryable {
  constructor(protected readonly conn: Connection) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const r = await this.conn.request({ op: 'query', sql, params: encodeParams(params) });
    return (r.rows ?? []) as T[];
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const r = await this.conn.request({ op: 'exec', sql, params: encodeParams(params) });
    return r.changed ?? 0;
  }

  async copyRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    const load = await this.openLoad(table, columns);
    try {
      for await (const row of rows) await load.write([row]);
    } catch (err) {
      await load.abort().catch(() => undefined);
      throw err;
    }
    return load.finish();
  }

  /**
   * Rows are encoded here (CopyEncoder) and sent in frames of ~1 MiB, pre-encoded bytes as they
   * come; the server appends them to its own load. Nothing is held beyond the frame being sent.
   */
  bulkLoad(table: string, columns: readonly string[]): Promise<BulkLoad> {
    return this.openLoad(table, columns);
  }

  private async openLoad(table: string, columns: readonly string[]): Promise<BulkLoad> {
    const { load } = await this.conn.request({ op: 'bulk', table, columns: [...columns] });
    const id = load as number;
    const pending = new CopyEncoder();
    const send = async (bytes: Uint8Array, rows: number) => {
      await this.conn.request({ op: 'write', load: id, rows }, bytes);
    };
    const drain = async () => {
      if (pending.rows === 0) return;
      const { bytes, rows } = pending.take();
      await send(bytes, rows);
    };
    return {
      async write(rows) {
        for (const row of rows) pending.add(row);
        if (pending.length >= SEND_BYTES) await drain();
      },
      async writeEncoded(bytes, rows) {
        await drain();
        await send(bytes, rows);
      },
      finish: async () => {
        await drain();
        return (await this.conn.request({ op: 'finish', load: id })).count ?? 0;
      },
      abort: async () => {
        await this.conn.request({ op: 'abort', load: id });
      },
    };
  }
}

/**
 * The `Database` port over a running retain server's socket (server.ts): what a CLI command gets when
 * the DuckDB file it names is held by `retain serve` or `retain worker`. The command's own code runs
 * here; only SQL, parameters, rows and bulk-load bytes cross the socket. Like the embedded adapter,
 * statements and transactions on it run one at a time.
 */
export class RemoteDatabase extends RemoteQueryable implements Database {
  readonly kind = 'duckdb' as const;
  readonly dialect = duckDialect;
  private readonly mutex = new Mutex();

  private constructor(
    conn: Connection,
    readonly location: string,
  ) {
    super(conn);
  }

  /** The server's process id and socket path. */
  get server(): { pid: number; socket: string } {
    return { pid: this.conn.pid, socket: this.conn.path };
  }

  /**
   * Connects to the server listening on `socketPath` (refusing a socket owned by another user) and
   * checks it speaks this protocol. `location` is the DuckDB file as this process named it.
   */
  static async connect(socketPath: string, location: string): Promise<RemoteDatabase> {
    return new RemoteDatabase(await connectTo(socketPath), location);
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
    return finishQueued(await this.mutex.run(() => super.bulkLoad(table, columns)), this.mutex);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.mutex.run(() => remoteTransaction(this.conn, fn));
  }

  /** A session is a connection of its own to the server, which serves it from a session of its store. */
  async session<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const conn = await connectTo(this.conn.path);
    try {
      await conn.request({ op: 'session' });
      const q = new RemoteQueryable(conn);
      return await fn({
        query: (sql, params) => q.query(sql, params),
        exec: (sql, params) => q.exec(sql, params),
        copyRows: (table, columns, rows) => q.copyRows(table, columns, rows),
        bulkLoad: (table, columns) => q.bulkLoad(table, columns),
        transaction: (body) => remoteTransaction(conn, body),
      });
    } finally {
      await conn.end();
    }
  }

  async close(): Promise<void> {
    await this.mutex.run(() => this.conn.end());
  }
}

/**
 * Connects to the server listening on `socketPath` (refusing a socket owned by another user) and
 * checks it speaks this protocol.
 */
async function connectTo(socketPath: string): Promise<Connection> {
  const st = await lstat(socketPath);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid())
    throw new AppError(
      'unavailable',
      `${socketPath} belongs to another user (uid ${st.uid}): not sending the database's traffic there`,
    );
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ path: socketPath });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  const conn = new Connection(socket, socketPath);
  try {
    const hello = await conn.request({ op: 'hello', protocol: PROTOCOL_VERSION });
    if (hello.kind !== 'duckdb')
      throw new AppError('unavailable', `the server on ${socketPath} serves ${hello.kind}, expected duckdb`);
    conn.pid = hello.pid ?? 0;
  } catch (err) {
    await conn.end().catch(() => undefined);
    throw err;
  }
  return conn;
}

/** BEGIN, `fn`, COMMIT over `conn`; ROLLBACK when `fn` throws. */
async function remoteTransaction<T>(conn: Connection, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await conn.request({ op: 'begin' });
  let result: T;
  try {
    result = await fn(new RemoteQueryable(conn));
  } catch (err) {
    await conn.request({ op: 'rollback' }).catch(() => undefined);
    throw err;
  }
  await conn.request({ op: 'commit' });
  return result;
}
