import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './port.js';
import { migrate } from './migrations/index.js';
import { allMigrations } from '../modules/store.js';
import { freshDatabase, testEngines } from '../../test/support/storage.js';

describe.each(testEngines())('storage port on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it('applies every migration once and records it', async () => {
    const migrations = allMigrations(); // the core schema's and the modules'
    expect(await migrate(db, migrations)).toEqual([]);
    const rows = await db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  });

  it('normalises values the same way on both engines', async () => {
    const [row] = await db.query(
      `SELECT CAST(9007199254740991 AS BIGINT) AS big, CAST(2.5 AS DECIMAL(10,2)) AS dec, $1::timestamp AS ts,
              CAST('2011-12-09' AS DATE) AS d, CAST(NULL AS TEXT) AS nothing, 'x' AS s, SUM(x) AS total
       FROM (SELECT CAST(1 AS BIGINT) AS x UNION ALL SELECT CAST(2 AS BIGINT)) t`,
      [new Date('2011-12-09T12:50:00.000Z')],
    );
    expect(row).toEqual({
      big: 9007199254740991,
      dec: 2.5,
      ts: new Date('2011-12-09T12:50:00.000Z'),
      d: new Date('2011-12-09T00:00:00.000Z'),
      nothing: null,
      s: 'x',
      total: 3,
    });
  });

  it('bulk-loads rows with NULLs, empty strings, quotes and timestamps', async () => {
    await db.exec('CREATE TABLE copy_probe (id BIGINT, label TEXT, seen_at TIMESTAMP)');
    const rows = [
      [1, '', new Date('2010-12-01T08:26:00Z')],
      [2, 'say "hi", ok', null],
      [3, null, new Date('2011-01-01T00:00:00.123Z')],
    ] as const;
    expect(await db.copyRows('copy_probe', ['id', 'label', 'seen_at'], rows)).toBe(3);
    const back = await db.query('SELECT id, label, seen_at FROM copy_probe ORDER BY id');
    expect(back).toEqual([
      { id: 1, label: '', seen_at: new Date('2010-12-01T08:26:00Z') },
      { id: 2, label: 'say "hi", ok', seen_at: null },
      { id: 3, label: null, seen_at: new Date('2011-01-01T00:00:00.123Z') },
    ]);
  });

  it('rolls a failed transaction back whole', async () => {
    await db.exec('CREATE TABLE tx_probe (id BIGINT PRIMARY KEY)');
    await expect(
      db.transaction(async (tx) => {
        await tx.exec('INSERT INTO tx_probe (id) VALUES (1)');
        await tx.exec('INSERT INTO tx_probe (id) VALUES (1)');
      }),
    ).rejects.toThrow();
    expect(await db.query('SELECT COUNT(*) AS n FROM tx_probe')).toEqual([{ n: 0 }]);
    await db.transaction(async (tx) => {
      await tx.exec('INSERT INTO tx_probe (id) VALUES (2)');
    });
    expect(await db.query('SELECT COUNT(*) AS n FROM tx_probe')).toEqual([{ n: 1 }]);
  });

  it('gives a session its own connection: private temp tables, dropped at its end, merged in one transaction', async () => {
    await db.exec('CREATE TABLE session_probe (id BIGINT PRIMARY KEY)');
    await db.session(async (s) => {
      await s.exec('CREATE TEMP TABLE stg_probe (id BIGINT)');
      await s.copyRows('stg_probe', ['id'], [[1], [2], [3]]);
      // Another connection does not see the session's staging table.
      await expect(db.query('SELECT COUNT(*) AS n FROM stg_probe')).rejects.toThrow();
      await s.transaction((tx) => tx.exec('INSERT INTO session_probe SELECT id FROM stg_probe'));
      await expect(
        s.transaction(async (tx) => {
          await tx.exec('INSERT INTO session_probe VALUES (4)');
          await tx.exec('INSERT INTO session_probe VALUES (1)');
        }),
      ).rejects.toThrow();
    });
    expect(await db.query('SELECT id FROM session_probe ORDER BY id')).toEqual([
      { id: 1 },
      { id: 2 },
      { id: 3 },
    ]);
    // Gone with the session (on Postgres the pooled connection is reused: its temp tables are discarded).
    await db.session(async (s) => {
      await expect(s.query('SELECT COUNT(*) AS n FROM stg_probe')).rejects.toThrow();
    });
  });

  it('answers reads while a write transaction is open, from the last commit', async () => {
    await db.exec('CREATE TABLE read_probe (id BIGINT)');
    await db.exec('INSERT INTO read_probe VALUES (1)');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const writing = db.transaction(async (tx) => {
      await tx.exec('INSERT INTO read_probe VALUES (2)');
      inside();
      await held;
    });
    await started;
    expect(await db.query('SELECT COUNT(*) AS n FROM read_probe')).toEqual([{ n: 1 }]);
    release();
    await writing;
    expect(await db.query('SELECT COUNT(*) AS n FROM read_probe')).toEqual([{ n: 2 }]);
  });

  it('refuses integers beyond the safe range instead of rounding them', async () => {
    await expect(db.query('SELECT CAST(9007199254740993 AS BIGINT) AS big')).rejects.toThrow(/safe range/);
  });
});
