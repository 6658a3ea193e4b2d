import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest, REPO_ROOT } from '../../../test/support/bundle.js';
import { JobQueue } from '../../modules/jobs/service.js';
import { jobByKey } from '../../modules/jobs/repository.js';
import { openStore } from '../../modules/store.js';

/** `retain worker` as a process: the CLI built from the sources under test. */
const dir = mkdtempSync(join(tmpdir(), 'retain-worker-'));
let cli = '';

beforeAll(async () => {
  const work = join(REPO_ROOT, 'node_modules', '.cache', 'retain-worker-test');
  mkdirSync(work, { recursive: true });
  const entry = join(work, `cli-${process.pid}.ts`);
  writeFileSync(
    entry,
    `import { main } from ${JSON.stringify(join(REPO_ROOT, 'src/cli/main.ts'))};\nawait main(process.argv);\n`,
  );
  cli = await bundleForTest(entry, 'worker-cli');
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('retain worker', () => {
  it('runs a queued job, then stops on SIGTERM and exits 0', async () => {
    const store = join(dir, 'worker.duckdb');
    const csv = join(dir, 'customers.csv');
    writeFileSync(csv, 'customer_id,country,acquisition_channel\nc1,DE,ads\nc2,FR,ads\nc3,DE,email\n');
    const db = await openStore({ db: store });
    await new JobQueue(db).enqueue(
      'import',
      { entity: 'customers', file: csv, name: 'customers.csv' },
      { idempotencyKey: 'worker-test-import' },
    );
    await db.close();

    const child = spawn(process.execPath, [cli, '--db', store, 'worker', '--concurrency', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RETAIN_LOG_LEVEL: 'info' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const done = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        // The import's (the store's own schedules run jobs of their own at start too).
        if (line.includes('"msg":"job done"') && line.includes('"kind":"import"')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void exited.then(() => resolve(false));
    });
    expect(done, stderr).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(
      /retain worker w-\d+-[0-9a-f]+: \d+ job kinds, \d+ schedules, \d+ event subscribers, concurrency 1 \(duckdb/,
    );
    expect(stderr).toContain(`commands on this file go through ${store}.sock`);
    expect(existsSync(`${store}.sock`)).toBe(false); // removed on shutdown
    expect(stderr).toContain('retain worker: SIGTERM, finishing jobs in flight…');
    expect(stderr).toContain('retain worker: stopped');

    const after = await openStore({ db: store });
    try {
      const job = await jobByKey(after, 'worker-test-import');
      expect(job).toMatchObject({ status: 'done', attempts: 1 });
      const [row] = await after.query<{ n: number }>('SELECT COUNT(*) AS n FROM customers');
      expect(row?.n).toBe(3);
    } finally {
      await after.close();
    }
  }, 60_000);

  it('refuses a concurrency that is not a positive whole number', async () => {
    const child = spawn(
      process.execPath,
      [cli, '--db', join(dir, 'x.duckdb'), 'worker', '--concurrency', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("expected a whole number of jobs 1–256, got '0'");
  }, 30_000);
});
