import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore as openDatabase } from '../store.js';
import { testEngines } from '../../../test/support/storage.js';
import { bundleForTest } from '../../../test/support/bundle.js';
import type { Database } from '../../storage/port.js';
import { JobQueue } from './service.js';
import * as repo from './repository.js';

/**
 * kill -9 test of the job runner: a child process runs 60 jobs whose handler writes its effect guarded
 * by the job's idempotency key; it is SIGKILLed mid-flight, a second process finishes the work.
 * Every job must end `done`, every effect exist exactly once, and some job must have been retried.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const work = join(root, 'node_modules', '.cache', 'retain-crash-test');
const JOBS = 60;

const CHILD = `
import { openStore as openDatabase } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { JobRunner } from ${JSON.stringify(join(root, 'src/modules/jobs/service.ts'))};
import { countByStatus } from ${JSON.stringify(join(root, 'src/modules/jobs/repository.ts'))};
const [mode, engine, target, schema] = process.argv.slice(2);
const db = await openDatabase(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const runner = new JobRunner({
  db, concurrency: 4, leaseMs: 1500, pollMs: 20,
  handlers: {
    effect: async ({ job, db }) => {
      await db.exec('INSERT INTO crash_attempts (idempotency_key, pid) VALUES ($1, $2)', [job.idempotencyKey, process.pid]);
      await sleep(10 + Math.random() * 30);
      // The effect, guarded by the job's idempotency key: a re-run after a crash cannot double it.
      await db.exec('INSERT INTO crash_effects (idempotency_key, job_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [job.idempotencyKey, job.jobId]);
      process.stdout.write('effect ' + job.jobId + '\\n');
      await sleep(10 + Math.random() * 30);
      return 'applied';
    },
  },
});
if (mode === 'forever') {
  runner.start();
} else {
  for (;;) {
    await runner.drain();
    const c = await countByStatus(db);
    if (c.queued + c.running === 0) break;
    await sleep(100); // leases of the killed worker not expired yet
  }
  await db.close();
  process.exit(0);
}
`;

async function bundleChild(): Promise<string> {
  mkdirSync(work, { recursive: true });
  const entry = join(work, `child-${process.pid}.ts`);
  writeFileSync(entry, CHILD);
  return bundleForTest(entry, 'crash-child');
}

function runChild(
  script: string,
  args: string[],
  killAfterEffects?: number,
): Promise<{ effects: number; killed: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let effects = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('effect ')) return;
      effects++;
      if (killAfterEffects !== undefined && effects === killAfterEffects) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolvePromise({ effects, killed: true });
      else if (code === 0) resolvePromise({ effects, killed: false });
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

describe.each(testEngines())('job runner survives kill -9 on %s', (engine) => {
  let script: string;
  let dir: string;
  let target: string;
  let schema = '';
  let db: Database | undefined;

  const open = () =>
    engine === 'postgres' ? openDatabase({ databaseUrl: target, schema }) : openDatabase({ db: target });

  beforeAll(async () => {
    script = await bundleChild();
    dir = mkdtempSync(join(tmpdir(), 'retain-crash-'));
    if (engine === 'postgres') {
      target = process.env.RETAIN_TEST_DATABASE_URL as string;
      schema = `crash_${process.pid}_${Date.now().toString(36)}`;
    } else {
      target = join(dir, 'crash.duckdb');
    }
  });

  afterAll(async () => {
    if (engine === 'postgres') {
      const d = await open();
      await d.exec(`DROP SCHEMA ${schema} CASCADE`);
      await d.close();
    }
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries jobs in flight after a crash: none lost, none completed twice', async () => {
    db = await open();
    await db.exec(`CREATE TABLE crash_effects (idempotency_key TEXT PRIMARY KEY, job_id BIGINT NOT NULL)`);
    await db.exec(`CREATE TABLE crash_attempts (idempotency_key TEXT NOT NULL, pid INTEGER NOT NULL)`);
    const q = new JobQueue(db);
    for (let i = 0; i < JOBS; i++) await q.enqueue('effect', { i }, { idempotencyKey: `effect-${i}` });
    await db.close(); // DuckDB: one process holds the file at a time
    db = undefined;

    const first = await runChild(script, ['forever', engine, target, schema], 15);
    expect(first.killed).toBe(true);
    const second = await runChild(script, ['drain', engine, target, schema]);
    expect(second.killed).toBe(false);

    db = await open();
    expect(await repo.countByStatus(db)).toEqual({ queued: 0, running: 0, done: JOBS, dead: 0 });
    const [effects] = await db.query<{ n: number; keys: number }>(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS keys FROM crash_effects`,
    );
    expect(effects).toEqual({ n: JOBS, keys: JOBS });
    const [runs] = await db.query<{ retried: number; attempts: number; pids: number }>(
      `SELECT (SELECT COUNT(*) FROM jobs WHERE attempts > 1) AS retried,
              (SELECT COUNT(*) FROM crash_attempts) AS attempts,
              (SELECT COUNT(DISTINCT pid) FROM crash_attempts) AS pids`,
    );
    // Jobs in flight at the kill were run again by the second process.
    expect(runs?.retried).toBeGreaterThanOrEqual(1);
    expect(runs?.attempts).toBeGreaterThan(JOBS);
    expect(runs?.pids).toBe(2);
    expect(first.effects + second.effects).toBeGreaterThanOrEqual(JOBS);
  });
});
