import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openStore } from '../../src/modules/store.js';
import type { Database, EngineKind } from '../../src/storage/port.js';
import { bundleForTest, REPO_ROOT } from './bundle.js';

/**
 * Helpers of the kill -9 tests: a child script bundled from the sources under test, run as its own
 * process (and SIGKILLed after it reported some work), on a store that outlives each process.
 */

/** Bundles a child script's source (it may import `src/…` by absolute path) and returns its path. */
export async function bundleChildScript(source: string, name: string): Promise<string> {
  const work = join(REPO_ROOT, 'node_modules', '.cache', `retain-${name}`);
  mkdirSync(work, { recursive: true });
  const entry = join(work, `child-${process.pid}.ts`);
  writeFileSync(entry, source);
  return bundleForTest(entry, name);
}

/**
 * Runs the child; every stdout line starting with `prefix` is one unit of work reported (its rest is
 * kept in `reported`). With `killAfter` the child is SIGKILLed once it has reported that many.
 */
export function runChild(
  script: string,
  args: string[],
  opts: { prefix: string; killAfter?: number },
): Promise<{ reported: string[]; killed: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith(opts.prefix)) return;
      reported.push(line.slice(opts.prefix.length));
      if (opts.killAfter !== undefined && reported.length === opts.killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolvePromise({ reported, killed: true });
      else if (code === 0) resolvePromise({ reported, killed: false });
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

/**
 * A store shared by the test and its child processes: a DuckDB file in a temp folder, or a fresh
 * Postgres schema. `args` are what the child takes after its mode: engine, target, schema.
 */
export function crashStore(engine: EngineKind, tag: string) {
  const dir = mkdtempSync(join(tmpdir(), `retain-${tag}-`));
  const postgres = engine === 'postgres';
  const target = postgres ? (process.env.RETAIN_TEST_DATABASE_URL as string) : join(dir, 'crash.duckdb');
  const schema = postgres ? `${tag.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}` : '';
  const open = (): Promise<Database> =>
    postgres ? openStore({ databaseUrl: target, schema }) : openStore({ db: target });
  return {
    args: [engine, target, schema],
    open,
    async dispose(): Promise<void> {
      if (postgres) {
        const d = await open();
        await d.exec(`DROP SCHEMA ${schema} CASCADE`);
        await d.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
