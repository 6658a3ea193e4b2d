// Shared helpers for the benchmarks: whole-process timing with peak memory, and table printing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
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

/**
 * Starts the counting SMTP sink (bench/smtp-sink.mjs) in its own process. Returns its port, `count()`
 * (messages, distinct X-Retain-Key values and bytes received so far) and `close()`.
 */
export async function startSink() {
  const child = spawn(process.execPath, [join(ROOT, 'bench/smtp-sink.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiters = [];
  lines.on('line', (l) => waiters.shift()?.(l));
  const next = () => new Promise((r) => waiters.push(r));
  const first = await next();
  return {
    port: Number(first.split(' ')[1]),
    async count() {
      child.stdin.write('count\n');
      const [, messages, keys, bytes] = (await next()).split(' ').map(Number);
      return { messages, keys, bytes };
    },
    close: () => (child.stdin.write('exit\n'), new Promise((r) => child.on('exit', r))),
  };
}

/**
 * The ceiling of an email send bench: a bare nodemailer loop in its own process (a pool of 5
 * connections × 100 messages and 10 in flight: the email adapter's defaults and the deliverer's
 * concurrency) sending `n` copies of one rendered message (`messageFile`: a JSON file with subject, html
 * and text, e.g. `retain templates preview --json`) with the same headers to the sink. Returns the
 * seconds it took; pushes onto `wrong` when the sink did not receive exactly `n` more messages.
 */
export async function nodemailerCeiling(sink, n, messageFile, wrong) {
  const bare = `
    const nodemailer = require('nodemailer');
    const m = require(${JSON.stringify(messageFile)});
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: ${sink.port}, secure: false, ignoreTLS: true, pool: true, maxConnections: 5, maxMessages: 100 });
    const started = performance.now(); let i = 0, done = 0;
    const next = () => { if (i >= ${n}) return; const k = i++;
      t.sendMail({ from: 'Shop <news@shop.test>', to: 'c' + k + '@example.test', subject: m.subject, html: m.html, text: m.text,
        headers: { 'X-Retain-Key': 'bare/' + k, 'List-Unsubscribe': '<https://shop.test/u/x>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } })
        .then(() => { if (++done === ${n}) { console.log((performance.now() - started) / 1000); t.close(); } else next(); }); };
    for (let c = 0; c < 10; c++) next();`;
  const before = await sink.count();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', bare], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('exit', r));
  const seconds = Number(out.trim()) || (performance.now() - t0) / 1000;
  const after = await sink.count();
  if (after.messages - before.messages !== n)
    wrong.push(`bare loop: ${after.messages - before.messages} of ${n}`);
  return seconds;
}
