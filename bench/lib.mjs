// Shared helpers for the benchmarks: whole-process timing with peak memory, and table printing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RETAIN = join(ROOT, 'bin/retain.js');
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Runs a command, returning wall seconds, peak RSS (MiB, when GNU time exists), stdout and exit code. */
export function timed(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const argv = GNU_TIME ? ['-f', '__PEAK_KB=%M', cmd, ...args] : args;
    const started = performance.now();
    const child = spawn(GNU_TIME ?? cmd, argv, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...(opts.env ?? {}) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const m = /__PEAK_KB=(\d+)/.exec(stderr);
      resolve({
        seconds,
        peakMiB: m ? Number(m[1]) / 1024 : null,
        stdout,
        stderr: stderr.replace(/__PEAK_KB=\d+\n?/, ''),
        code,
      });
    });
  });
}

/** `retain …` as its own process (the shebang's V8 flags apply, as for a user). */
export function retain(args, opts) {
  return timed(RETAIN, args, opts);
}

export function table(headers, rows) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '—' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A PostgreSQL URL for benchmarks: RETAIN_BENCH_DATABASE_URL, else the test server .ci/pg-start.sh starts. */
export function postgresUrl() {
  if (process.env.RETAIN_BENCH_DATABASE_URL) return process.env.RETAIN_BENCH_DATABASE_URL;
  const r = spawnSync('bash', [join(ROOT, '.ci/pg-start.sh')], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return r.stdout.trim().split('\n').pop();
}

export const fmt = (x, digits = 2) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));

/**
 * Imports a TypeScript source file of the repository (`path` relative to the root) for a benchmark:
 * bundles it with rolldown into node_modules/.cache (packages stay external).
 */
export async function importSource(path) {
  const { build } = await import('rolldown');
  const name = path.replace(/[^\w]+/g, '-');
  const out = join(ROOT, 'node_modules', '.cache', 'retain-bench', `${name}-${process.pid}.mjs`);
  await build({
    input: join(ROOT, path),
    platform: 'node',
    external: (id) => !id.startsWith('.') && !id.startsWith('/'),
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    output: { file: out, format: 'esm', codeSplitting: false },
    logLevel: 'silent',
  });
  return import(out);
}

/** Imports a TypeScript test helper (test/support/<name>.ts): test helpers are not compiled into dist/. */
export function importTestSupport(name) {
  return importSource(`test/support/${name}.ts`);
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts `retain <dbArgs> serve` on a free port of 127.0.0.1 (rate limit off, warn logs) and waits for
 * `/ready`. `nodeArgs` go before the script (bin/retain.js's shebang flags are repeated here).
 * Returns the child and the base URL.
 */
export async function startServer(dbArgs, { nodeArgs = [], tries = 300 } = {}) {
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      '--max-semi-space-size=64',
      ...nodeArgs,
      RETAIN,
      ...dbArgs,
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, RETAIN_RATE_LIMIT: '1000000', RETAIN_LOG_LEVEL: 'warn' },
    },
  );
  let serverErr = '';
  server.stderr.on('data', (d) => (serverErr += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await globalThis.fetch(`${base}/ready`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (i > tries) {
      server.kill('SIGKILL');
      throw new Error(`server did not start: ${serverErr}`);
    }
    await sleep(100);
  }
  return { server, base };
}
