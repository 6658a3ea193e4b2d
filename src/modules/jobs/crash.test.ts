import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT as root } from '../../../test/support/bundle.js';
import { bundleChildScript, crashStore, runChild } from '../../../test/support/crash.js';
import { testEngines } from '../../../test/support/storage.js';
import type { Database } from '../../storage/port.js';
import { JobQueue } from './service.js';
import * as repo from './repository.js';

/**
 * kill -9 test of the job runner: a child process runs 60 jobs whose handler writes its effect guarded
 * by the job's idempotency key; it is SIGKILLed mid-flight, a second process finishes the work.
 * Every job must end `done`, every effect exist exactly once, and some job must have been retried.
 */
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

describe.each(testEngines())('job runner survives kill -9 on %s', (engine) => {
  let script: string;
  const store = crashStore(engine, 'crash');
  const open = store.open;
  let db: Database | undefined;

  beforeAll(async () => {
    script = await bundleChildScript(CHILD, 'crash-child');
  });

  afterAll(async () => {
    await db?.close();
    await store.dispose();
  });

  it('retries jobs in flight after a crash: none lost, none completed twice', async () => {
    db = await open();
    await db.exec(`CREATE TABLE crash_effects (idempotency_key TEXT PRIMARY KEY, job_id BIGINT NOT NULL)`);
    await db.exec(`CREATE TABLE crash_attempts (idempotency_key TEXT NOT NULL, pid INTEGER NOT NULL)`);
    const q = new JobQueue(db);
    for (let i = 0; i < JOBS; i++) await q.enqueue('effect', { i }, { idempotencyKey: `effect-${i}` });
    await db.close(); // DuckDB: one process holds the file at a time
    db = undefined;

    const first = await runChild(script, ['forever', ...store.args], { prefix: 'effect ', killAfter: 15 });
    expect(first.killed).toBe(true);
    const second = await runChild(script, ['drain', ...store.args], { prefix: 'effect ' });
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
    expect(first.reported.length + second.reported.length).toBeGreaterThanOrEqual(JOBS);
  });
});
