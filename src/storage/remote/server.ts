import { chmod, lstat, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { AppError } from '../../shared/errors.js';
import type { BulkLoad, Database, Queryable, Session as StoreSession } from '../port.js';
import {
  decodeParams,
  encodeError,
  encodeFrame,
  encodeValue,
  FrameReader,
  PROTOCOL_VERSION,
  ROWS_PER_FRAME,
  type Frame,
  type Request,
  type Response,
} from './protocol.js';

/** Bytes of requests a session may queue before the server stops reading its socket. */
const MAX_QUEUED_BYTES = 64 << 20;

export interface DatabaseSocket {
  /** The socket's path. */
  readonly path: string;
  /** Connections open now. */
  readonly sessions: number;
  /**
   * Stops accepting connections, waits up to `graceMs` for the open ones to end, then cuts the rest
   * (their open transactions roll back) and removes the socket file.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves `db` (the process's own DuckDB store) on a Unix-domain socket, mode 0600: each connection
 * is one session of the `Database` port (protocol.ts). A session's `begin` opens a transaction on
 * `db` whose body serves that session's requests until `commit` or `rollback`; a session that goes
 * away (closed, crashed, kill -9) has its open transaction rolled back and its loads abandoned.
 */
export async function listenForClients(
  db: Database,
  opts: { path: string; onError?: (err: unknown) => void },
): Promise<DatabaseSocket> {
  await claimPath(opts.path);
  const sessions = new Set<Session>();
  const server: Server = createServer((socket) => {
    const session = new Session(db, socket, opts.onError);
    sessions.add(session);
    void session.ended.then(() => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: opts.path }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(opts.path, 0o600);
  server.on('error', (err) => opts.onError?.(err));
  let closing: Promise<void> | undefined;
  return {
    path: opts.path,
    get sessions() {
      return sessions.size;
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const all = () => Promise.all([...sessions].map((s) => s.ended));
        let timer: NodeJS.Timeout | undefined;
        const cut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([all(), cut]);
        clearTimeout(timer);
        for (const s of sessions) s.cut();
        await all();
        await stopped;
        await rm(opts.path, { force: true });
      })();
      return closing;
    },
  };
}

/**
 * Makes `path` free for a new socket: nothing there, or a socket left by a server that was killed
 * (nobody answers: removed). A live socket or another kind of file there is refused.
 */
async function claimPath(path: string): Promise<void> {
  let kind;
  try {
    kind = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!kind.isSocket())
    throw new AppError('internal', `${path} exists and is not a socket: remove it (retain listens there)`);
  const answers = await new Promise<boolean>((resolve, reject) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
  if (answers)
    throw new AppError(
      'unavailable',
      `another process already listens on ${path}: one retain server per DuckDB file`,
    );
  await rm(path, { force: true });
}

const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  q: Queryable;
  end(how: 'commit' | 'rollback'): void;
  done: Promise<void>;
}

/** One client connection: its requests run one at a time, in order, each answered before the next. */
class Session {
  private readonly reader = new FrameReader();
  private readonly queue: Frame[] = [];
  private queuedBytes = 0;
  private running = false;
  private closed = false;
  private paused = false;
  private tx: OpenTransaction | null = null;
  /** After `session`: the store session this connection is served from, until it ends. */
  private own: { s: StoreSession; end(): void; done: Promise<void> } | null = null;
  private readonly loads = new Map<number, { load: BulkLoad; inTx: boolean }>();
  private nextLoad = 1;
  private cleanup: Promise<void> | undefined;
  private resolveEnded!: () => void;
  /** Settles once the connection is gone and its transaction and loads are undone. */
  readonly ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));

  constructor(
    private readonly db: Database,
    private readonly socket: Socket,
    private readonly onError?: (err: unknown) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.onError?.(err);
        socket.destroy();
        return;
      }
      for (const f of frames) {
        this.queue.push(f);
        this.queuedBytes += f.payload.length;
      }
      if (this.queuedBytes + this.reader.pending > MAX_QUEUED_BYTES && !this.paused) {
        this.paused = true;
        socket.pause();
      }
      void this.pump();
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      this.closed = true;
      void this.pump();
    });
  }

  /** Ends the connection now (server shutdown). */
  cut(): void {
    this.socket.destroy();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift() as Frame;
        this.queuedBytes -= frame.payload.length;
        if (this.paused && this.queuedBytes < MAX_QUEUED_BYTES / 2) {
          this.paused = false;
          this.socket.resume();
        }
        await this.handle(frame);
      }
    } finally {
      this.running = false;
    }
    if (this.closed) {
      this.cleanup ??= this.undo().finally(() => this.resolveEnded());
      await this.cleanup;
    }
  }

  /** The client is gone: abandon its loads, roll back its transaction. */
  private async undo(): Promise<void> {
    for (const { load } of this.loads.values()) await load.abort().catch((err) => this.onError?.(err));
    this.loads.clear();
    const tx = this.tx;
    this.tx = null;
    if (tx) {
      tx.end('rollback');
      await tx.done.catch((err) => {
        if (err !== ROLLBACK) this.onError?.(err);
      });
    }
    const own = this.own;
    this.own = null;
    if (own) {
      own.end();
      await own.done.catch((err) => this.onError?.(err));
    }
  }

  private async send(header: Response): Promise<void> {
    if (this.closed) return;
    for (const buf of encodeFrame(header)) {
      if (!this.socket.write(buf) && !this.closed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.on('drain', done);
          this.socket.on('close', done);
        });
      }
    }
  }

  private async handle(frame: Frame): Promise<void> {
    const req = frame.header as Request;
    try {
      await this.run(req, frame.payload);
    } catch (err) {
      await this.send({ ok: false, error: encodeError(err) });
    }
  }

  private target(): Queryable {
    return this.tx?.q ?? this.own?.s ?? this.db;
  }

  private load(id: number): BulkLoad {
    const l = this.loads.get(id);
    if (!l) throw new Error(`no bulk load ${id} open on this connection`);
    return l.load;
  }

  private async run(req: Request, payload: Buffer): Promise<void> {
    switch (req.op) {
      case 'hello':
        if (req.protocol !== PROTOCOL_VERSION)
          throw new AppError(
            'unavailable',
            `the retain server (pid ${process.pid}) speaks protocol ${PROTOCOL_VERSION}, this command ${req.protocol}: run the same retain version for both`,
          );
        return this.send({ ok: true, pid: process.pid, kind: this.db.kind, protocol: PROTOCOL_VERSION });
      case 'query': {
        const rows = await this.target().query(req.sql, decodeParams(req.params));
        const cols = rows.length > 0 ? Object.keys(rows[0] as object) : [];
        for (let i = 0; i === 0 || i < rows.length; i += ROWS_PER_FRAME) {
          const part = rows.slice(i, i + ROWS_PER_FRAME).map((r) => cols.map((c) => encodeValue(r[c])));
          await this.send({ ok: true, cols, rows: part, more: i + ROWS_PER_FRAME < rows.length });
        }
        return;
      }
      case 'exec':
        return this.send({ ok: true, changed: await this.target().exec(req.sql, decodeParams(req.params)) });
      case 'session':
        this.own = await this.openSession();
        return this.send({ ok: true });
      case 'begin':
        this.tx = await this.begin();
        return this.send({ ok: true });
      case 'commit':
      case 'rollback': {
        const tx = this.tx;
        if (!tx) throw new Error(`${req.op} without a transaction on this connection`);
        for (const [id, l] of this.loads) {
          if (!l.inTx) continue;
          await l.load.abort();
          this.loads.delete(id);
        }
        this.tx = null;
        tx.end(req.op);
        await tx.done.catch((err) => {
          if (err !== ROLLBACK) throw err;
        });
        return this.send({ ok: true });
      }
      case 'bulk': {
        const load = await this.target().bulkLoad(req.table, req.columns);
        const id = this.nextLoad++;
        this.loads.set(id, { load, inTx: this.tx !== null });
        return this.send({ ok: true, load: id });
      }
      case 'write':
        await this.load(req.load).writeEncoded(payload, req.rows);
        return this.send({ ok: true });
      case 'finish': {
        const count = await this.load(req.load).finish();
        this.loads.delete(req.load);
        return this.send({ ok: true, count });
      }
      case 'abort': {
        const l = this.loads.get(req.load);
        this.loads.delete(req.load);
        await l?.load.abort();
        return this.send({ ok: true });
      }
      default:
        throw new Error(`unknown request '${(req as { op: string }).op}'`);
    }
  }

  /** Opens a store session that serves this connection until it goes away. */
  private async openSession(): Promise<{ s: StoreSession; end(): void; done: Promise<void> }> {
    if (this.own || this.tx) throw new Error('this connection is already a session or in a transaction');
    let started!: (s: StoreSession) => void;
    const ready = new Promise<StoreSession>((resolve) => (started = resolve));
    let end!: () => void;
    const over = new Promise<void>((resolve) => (end = resolve));
    const done = this.db.session(async (s) => {
      started(s);
      await over;
    });
    const s = await Promise.race([ready, done.then(() => null)]);
    if (!s) throw new Error('the session ended before it began');
    return { s, end, done };
  }

  /** Opens a transaction on the store (or this connection's session) whose body waits for its commit or rollback. */
  private async begin(): Promise<OpenTransaction> {
    if (this.tx) throw new Error('a transaction is already open on this connection');
    let started!: (q: Queryable) => void;
    const ready = new Promise<Queryable>((resolve) => (started = resolve));
    let end!: (how: 'commit' | 'rollback') => void;
    const decided = new Promise<'commit' | 'rollback'>((resolve) => (end = resolve));
    const done = (this.own?.s ?? this.db).transaction(async (q) => {
      started(q);
      if ((await decided) === 'rollback') throw ROLLBACK;
    });
    const q = await Promise.race([ready, done.then(() => null)]);
    if (!q) throw new Error('the transaction ended before it began');
    return { q, end, done };
  }
}
