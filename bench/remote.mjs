#!/usr/bin/env node
// The CLI beside `retain serve` (src/storage/remote/): the same commands on a DuckDB file opened directly
// (the peer) vs through a running server's socket, whole process each.
//  - import: data/online_retail.csv.gz (541,909 lines, preset online-retail) into a fresh file;
//  - report summary --json on the imported store (best of BENCH_RUNS, default 3, alternating).
// Prints seconds, the CLI's peak RSS and the ratio via-server / direct; exits 1 only if the two ways give
// different results, never on time.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fmt, retain, RETAIN, ROOT, table } from './lib.mjs';

const OUT = join(ROOT, 'bench/out/remote');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const runs = Number(process.env.BENCH_RUNS ?? 3);
const file = join(ROOT, 'data/online_retail.csv.gz');
const direct = join(OUT, 'direct.duckdb');
const served = join(OUT, 'served.duckdb');

/** `retain serve --no-jobs` on `db`; resolves once it listens. */
function serve(db) {
  const child = spawn(RETAIN, ['--db', db, 'serve', '--port', '0', '--no-jobs'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RETAIN_LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.includes('listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`retain serve exited ${code}`)));
  });
}

function check(ok, what) {
  if (!ok) {
    console.error(`wrong result: ${what}`);
    process.exitCode = 1;
  }
}

const server = await serve(served);
const rows = [];
try {
  const imports = {};
  for (const [way, db] of [
    ['direct', direct],
    ['via server', served],
  ]) {
    const r = await retain(['--db', db, 'import', 'orders', file, '--preset', 'online-retail', '--json']);
    check(r.code === 0, `${way} import: ${r.stderr}`);
    imports[way] = r;
  }
  const counts = (r) => {
    const { seconds: _s, ...rest } = JSON.parse(r.stdout);
    return JSON.stringify(rest);
  };
  check(counts(imports.direct) === counts(imports['via server']), 'the two imports differ');
  rows.push(['import online-retail', imports.direct, imports['via server']]);

  const best = { direct: null, 'via server': null };
  const docs = {};
  for (let i = 0; i < runs; i++) {
    for (const [way, db] of [
      ['direct', direct],
      ['via server', served],
    ]) {
      const r = await retain(['--db', db, 'report', 'summary', '--json']);
      check(r.code === 0, `${way} summary: ${r.stderr}`);
      docs[way] = r.stdout;
      if (!best[way] || r.seconds < best[way].seconds) best[way] = r;
    }
  }
  check(docs.direct === docs['via server'], 'the two summaries differ');
  rows.push([`report summary (best of ${runs})`, best.direct, best['via server']]);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
}

console.log(
  table(
    ['command', 'direct s', 'via server s', 'ratio', 'direct peak MiB', 'via server peak MiB'],
    rows.map(([name, d, s]) => [
      name,
      fmt(d.seconds),
      fmt(s.seconds),
      `${fmt(s.seconds / d.seconds)}×`,
      fmt(d.peakMiB, 0),
      fmt(s.peakMiB, 0),
    ]),
  ),
);
console.log(
  'ratio = via server / direct (whole CLI process; the server already running). Peak MiB: the CLI only.',
);
