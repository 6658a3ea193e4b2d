import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { CopyEncoder } from '../copyFormat.js';
import { DuckDatabase } from '../duckdb/adapter.js';
import type { SqlValue } from '../port.js';
import { nobodyListens, RemoteDatabase } from './client.js';
import {
  decodeError,
  decodeValue,
  encodeError,
  encodeFrame,
  encodeValue,
  FrameReader,
  ROWS_PER_FRAME,
  socketPathFor,
} from './protocol.js';
import { listenForClients, type DatabaseSocket } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-remote-'));
let db: DuckDatabase;
let socket: DatabaseSocket;
let remote: RemoteDatabase;
const path = join(dir, 'store.duckdb.sock');

beforeAll(async () => {
  db = await DuckDatabase.open(join(dir, 'store.duckdb'));
  socket = await listenForClients(db, { path });
  remote = await RemoteDatabase.connect(path, 'store.duckdb');
});

afterAll(async () => {
  await remote.close();
  await socket.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = async (table: string) =>
  ((await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))[0] as { n: number }).n;

describe('the wire format', () => {
  it('carries every value exactly, tags included', () => {
    const values: unknown[] = [
      'text with "quotes"\nand a newline',
      '',
      0,
      -0,
      1.5,
      Number.MAX_SAFE_INTEGER,
      NaN,
      Infinity,
      -Infinity,
      true,
      false,
      null,
      undefined,
      12345678901234567890n,
      -1n,
      new Date('2011-12-09T12:50:00.123Z'),
      new Date(NaN),
      Buffer.from([0, 1, 255]),
      [1n, [new Date(0), null]],
      { a: 1, nested: { b: 2n } },
      { $: 'd', v: 3 },
    ];
    const back = JSON.parse(JSON.stringify(values.map(encodeValue))).map(decodeValue) as unknown[];
    expect(back).toEqual(values);
    expect(Object.is(back[3], -0)).toBe(true);
    expect(back[13]).toBe(12345678901234567890n);
    expect(back[20]).toEqual({ $: 'd', v: 3 }); // a plain object that happens to have a '$' key
  });

  it('cuts frames however the bytes arrive', () => {
    const bytes = Buffer.concat([
      ...encodeFrame({ op: 'query', sql: 'SELECT 1', params: [] }),
      ...encodeFrame({ op: 'write', load: 1, rows: 2 }, Buffer.from('a,b\nc,d\n')),
      ...encodeFrame({ op: 'finish', load: 1 }),
    ]);
    for (const step of [1, 3, 7, bytes.length]) {
      const reader = new FrameReader();
      const frames = [];
      for (let i = 0; i < bytes.length; i += step) frames.push(...reader.push(bytes.subarray(i, i + step)));
      expect(frames.map((f) => f.header)).toEqual([
        { op: 'query', sql: 'SELECT 1', params: [] },
        { op: 'write', load: 1, rows: 2 },
        { op: 'finish', load: 1 },
      ]);
      expect(frames[1]?.payload.toString()).toBe('a,b\nc,d\n');
      expect(reader.pending).toBe(0);
    }
  });

  it('keeps an error’s class, message, code and place', () => {
    const app = decodeError(
      encodeError(new AppError('validation', 'expected a date', { where: { file: 'a.csv', line: 3 } })),
    );
    expect(app).toBeInstanceOf(AppError);
    expect((app as AppError).toLine()).toBe('a.csv:3: expected a date');
    expect(decodeError(encodeError(new RangeError('too big')))).toBeInstanceOf(RangeError);
    expect(decodeError(encodeError(new Error('Binder Error: x'))).message).toBe('Binder Error: x');
  });

  it('puts the socket beside the file, or in the temp folder when the path is too long for sun_path', () => {
    expect(socketPathFor('/srv/shop/retain.duckdb')).toBe('/srv/shop/retain.duckdb.sock');
    const long = `/srv/${'x'.repeat(120)}/retain.duckdb`;
    expect(socketPathFor(long)).toMatch(new RegExp(`^${tmpdir()}/retain-[0-9a-f]{24}\\.sock$`));
    expect(socketPathFor(long)).toBe(socketPathFor(long));
  });
});

describe('the Database port over the socket (DuckDB)', () => {
  it('listens owner-only', () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('answers queries with the same rows as the store itself, every type', async () => {
    const sql = `SELECT 1::HUGEINT AS h, [1::BIGINT, 2] AS l, {'a': 1, '$': 'x'} AS s, 'ab'::BLOB AS b,
      1.5::DECIMAL(10,2) AS d, 'nan'::DOUBLE AS n, '-0'::DOUBLE AS z, 'infinity'::DOUBLE AS inf,
      TIMESTAMP '2011-12-09 12:50:00.123' AS t, DATE '2020-01-01' AS dt, INTERVAL 1 DAY AS iv,
      '{"a":1}'::JSON AS j, NULL AS nothing, true AS yes, 'é"\n' AS txt,
      $1::VARCHAR AS p1, $2::BIGINT AS p2, $3::DOUBLE AS p3, $4::BOOLEAN AS p4, $5::TIMESTAMP AS p5,
      $6::INTEGER AS p6, $7::HUGEINT AS p7`;
    const params: SqlValue[] = ['x,y', 42, 2.25, true, new Date('2011-01-02T03:04:05.678Z'), null, 7n];
    const local = await db.query(sql, params);
    const viaSocket = await remote.query(sql, params);
    expect(viaSocket).toEqual(local);
    expect(Object.is(viaSocket[0]?.z, -0)).toBe(true);
    expect(viaSocket[0]?.t).toEqual(new Date('2011-12-09T12:50:00.123Z'));
  });

  it('streams a large result in several frames', async () => {
    const n = ROWS_PER_FRAME * 2 + 5;
    const rows = await remote.query<{ i: number; at: Date }>(
      `SELECT i, TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS at FROM range(${n}) t(i) ORDER BY i`,
    );
    expect(rows).toHaveLength(n);
    expect(rows[n - 1]).toEqual({ i: n - 1, at: new Date(Date.UTC(2020, 0, 1) + (n - 1) * 1000) });
    expect(await remote.query('SELECT 1 AS x WHERE false')).toEqual([]);
  });

  it('gives the store’s errors with their message; the session goes on', async () => {
    const sql = 'SELECT * FROM no_such_table';
    const local = await db.query(sql).catch((e: Error) => e);
    const viaSocket = await remote.query(sql).catch((e: Error) => e);
    expect(viaSocket).toBeInstanceOf(Error);
    expect((viaSocket as Error).message).toBe((local as Error).message);
    await expect(remote.query('SELECT 9007199254740993::BIGINT AS big')).rejects.toThrow(RangeError);
    await expect(remote.query('SELECT 9007199254740993::BIGINT AS big')).rejects.toThrow(
      'column big: integer 9007199254740993 exceeds the safe range',
    );
    expect(await remote.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('commits and rolls back transactions; the server’s writes wait for them, its reads do not', async () => {
    await remote.exec('CREATE TABLE tx_t (id INTEGER, ts TIMESTAMP)');
    expect(
      await remote.exec('INSERT INTO tx_t VALUES ($1, $2::timestamp)', [1, new Date('2020-01-01T00:00:00Z')]),
    ).toBe(1);
    let serverWrote = false;
    let serverWrite: Promise<unknown> = Promise.resolve();
    await remote.transaction(async (tx) => {
      await tx.exec('INSERT INTO tx_t VALUES (2, NULL)');
      // The server's own write queues behind this transaction (one writer at a time)…
      serverWrite = db.exec('INSERT INTO tx_t VALUES (10, NULL)').then(() => (serverWrote = true));
      // …while its reads answer at once, from the last commit.
      expect(await db.query('SELECT COUNT(*) AS n FROM tx_t')).toEqual([{ n: 1 }]);
      await new Promise((r) => setTimeout(r, 50));
      expect(serverWrote).toBe(false);
      expect(await tx.query('SELECT COUNT(*) AS n FROM tx_t WHERE id < 10')).toEqual([{ n: 2 }]);
    });
    await serverWrite;
    expect(serverWrote).toBe(true);
    await db.exec('DELETE FROM tx_t WHERE id = 10');
    await expect(
      remote.transaction(async (tx) => {
        await tx.exec('INSERT INTO tx_t VALUES (3, NULL)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(
      remote.transaction(async (tx) => {
        await tx.exec('INSERT INTO tx_t VALUES (4, NULL)');
        await tx.exec('INSERT INTO no_such_table VALUES (1)');
      }),
    ).rejects.toThrow(/no_such_table/);
    expect(await count('tx_t')).toBe(2);
  });

  it('serves a session from a store session: private staging, one transaction, undone when the client goes', async () => {
    await remote.exec('CREATE TABLE sess_t (id INTEGER PRIMARY KEY)');
    await remote.session(async (s) => {
      await s.exec('CREATE TEMP TABLE stg_sess (id INTEGER)');
      await s.copyRows('stg_sess', ['id'], [[1], [2]]);
      await expect(remote.query('SELECT COUNT(*) AS n FROM stg_sess')).rejects.toThrow();
      await s.transaction((tx) => tx.exec('INSERT INTO sess_t SELECT id FROM stg_sess'));
    });
    expect(await db.query('SELECT COUNT(*) AS n FROM sess_t')).toEqual([{ n: 2 }]);
    // A session whose client stops mid-transaction: rolled back, and the store goes on.
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const abandoned = remote.session(async (s) => {
      await s.transaction(async (tx) => {
        await tx.exec('INSERT INTO sess_t VALUES (3)');
        stop();
        throw new Error('client gave up');
      });
    });
    await stopped;
    await expect(abandoned).rejects.toThrow('client gave up');
    expect(await db.query('SELECT COUNT(*) AS n FROM sess_t')).toEqual([{ n: 2 }]);
    await db.exec('INSERT INTO sess_t VALUES (3)');
  });

  it('rolls back the transaction of a client that disconnects, and serves the next', async () => {
    await db.exec('CREATE TABLE gone_t (id INTEGER)');
    const raw = createConnection({ path });
    await new Promise((r) => raw.once('connect', r));
    const replies = new FrameReader();
    let answered = 0;
    raw.on('data', (d: Buffer) => (answered += replies.push(d).length));
    for (const frame of [
      { op: 'hello', protocol: 1 },
      { op: 'begin' },
      { op: 'exec', sql: 'INSERT INTO gone_t VALUES (1), (2)', params: [] },
      { op: 'bulk', table: 'gone_t', columns: ['id'] },
    ])
      for (const b of encodeFrame(frame)) raw.write(b);
    for (const b of encodeFrame({ op: 'write', load: 1, rows: 2 }, Buffer.from('3\n4\n'))) raw.write(b);
    while (answered < 5) await new Promise((r) => setTimeout(r, 5));
    expect(socket.sessions).toBe(2);
    raw.destroy();
    // The server's next statement runs once the abandoned transaction is rolled back.
    expect(await count('gone_t')).toBe(0);
    expect(await remote.query('SELECT COUNT(*) AS n FROM gone_t')).toEqual([{ n: 0 }]);
  });

  it('bulk-loads rows and pre-encoded bytes, in and out of transactions', async () => {
    await db.exec('CREATE TABLE load_t (id INTEGER, name TEXT, ts TIMESTAMP, amount BIGINT)');
    const rows: SqlValue[][] = [];
    for (let i = 0; i < 50_000; i++)
      rows.push([i, i % 7 === 0 ? null : `name "${i}", with\nnewline`, new Date(1e12 + i * 1000), i * 100]);
    expect(await remote.copyRows('load_t', ['id', 'name', 'ts', 'amount'], rows)).toBe(50_000);
    await remote.transaction(async (tx) => {
      const load = await tx.bulkLoad('load_t', ['id', 'name', 'ts', 'amount']);
      await load.write([[50_000, 'w', null, 1]]);
      const enc = new CopyEncoder();
      enc.add([50_001, 'encoded', new Date(0), 2]);
      enc.add([50_002, null, null, null]);
      const { bytes, rows: n } = enc.take();
      await load.writeEncoded(bytes, n);
      expect(await load.finish()).toBe(3);
    });
    await expect(
      remote.transaction(async (tx) => {
        const load = await tx.bulkLoad('load_t', ['id', 'name', 'ts', 'amount']);
        await load.write([[99, 'never', null, 0]]);
        await load.finish();
        throw new Error('undo the load');
      }),
    ).rejects.toThrow('undo the load');
    expect(await count('load_t')).toBe(50_003);
    const back = await db.query(
      'SELECT id, name, ts, amount FROM load_t WHERE id IN (7, 8, 49999, 50001) ORDER BY id',
    );
    expect(back).toEqual([
      { id: 7, name: null, ts: new Date(1e12 + 7000), amount: 700 },
      { id: 8, name: 'name "8", with\nnewline', ts: new Date(1e12 + 8000), amount: 800 },
      { id: 49_999, name: 'name "49999", with\nnewline', ts: new Date(1e12 + 49_999_000), amount: 4_999_900 },
      { id: 50_001, name: 'encoded', ts: new Date(0), amount: 2 },
    ]);
  });

  it('replaces a socket left by a killed server; a client sees nobody there', async () => {
    const stale = join(dir, 'stale.sock');
    const r = spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(r.signal).toBe('SIGKILL');
    expect(statSync(stale).isSocket()).toBe(true);
    const err = await RemoteDatabase.connect(stale, 'x').catch((e: unknown) => e);
    expect(nobodyListens(err)).toBe(true);
    const again = await listenForClients(db, { path: stale });
    const client = await RemoteDatabase.connect(stale, 'x');
    expect(await client.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
    await client.close();
    await again.close();
    expect(() => statSync(stale)).toThrow(/ENOENT/);
    // A live socket is not taken over.
    await expect(listenForClients(db, { path })).rejects.toThrow(/already listens/);
  });

  it('tells a client when the server goes away', async () => {
    const p = join(dir, 'short.sock');
    const s = await listenForClients(db, { path: p });
    const client = await RemoteDatabase.connect(p, 'x');
    await s.close(0);
    const err = await client.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('unavailable');
    expect((err as AppError).message).toMatch(/lost the connection to the retain server \(pid \d+\)/);
    await client.close();
  });
});
