import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest, REPO_ROOT } from '../../test/support/bundle.js';
import { openStore } from '../modules/store.js';
import { createKey } from '../modules/apikeys/service.js';
import { systemClock } from '../kit/clock.js';
import { JobQueue } from '../modules/jobs/service.js';
import pino from 'pino';

/**
 * Issue 18, item 2: the CLI beside a running `retain serve` on the same DuckDB file. The CLI is built
 * from the sources under test and run as separate processes, like a user would.
 */
const dir = mkdtempSync(join(tmpdir(), 'retain-beside-'));
const store = join(dir, 'store.duckdb');
let cli = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function retain(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '--db', store, ...args], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** `retain serve --port 0` on the store; resolves once it listens, with its base URL. */
async function startServe(
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; base: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, '--db', store, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RETAIN_LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 60_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr += line + '\n';
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  return { child, base, stderr: () => stderr };
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

/** Orders of the generic preset: `count` orders from `first`, one or two lines each. */
function ordersCsv(first: number, count: number, day: (i: number) => string): string {
  const lines = ['order_id,ordered_at,customer_id,sku,quantity,unit_price'];
  for (let i = first; i < first + count; i++) {
    const at = day(i);
    lines.push(`o${i},${at},c${i % 37},SKU-${i % 11},${1 + (i % 3)},${(5 + (i % 17)).toFixed(2)}`);
    if (i % 4 === 0) lines.push(`o${i},${at},c${i % 37},SKU-X,1,2.50`);
  }
  return lines.join('\n') + '\n';
}

let adminKey = '';
const AS_OF = '2024-06-30';

beforeAll(async () => {
  const work = join(REPO_ROOT, 'node_modules', '.cache', 'retain-beside-test');
  mkdirSync(work, { recursive: true });
  const entry = join(work, `cli-${process.pid}.ts`);
  writeFileSync(
    entry,
    `import { main } from ${JSON.stringify(join(REPO_ROOT, 'src/cli/main.ts'))};\nawait main(process.argv);\n`,
  );
  cli = await bundleForTest(entry, 'beside-cli');
  writeFileSync(
    join(dir, 'base.csv'),
    ordersCsv(1, 300, (i) => `2024-0${1 + (i % 6)}-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`),
  );
  // Later than --as-of: the summary is the same whether the import lands before or after it.
  writeFileSync(
    join(dir, 'new.csv'),
    ordersCsv(1000, 25, (i) => `2024-09-${String(1 + (i % 28)).padStart(2, '0')}`),
  );
  const db = await openStore({ db: store });
  try {
    const log = pino({ level: 'silent' });
    adminKey = (
      await createKey(
        { db, clock: systemClock, jobs: new JobQueue(db), log },
        { role: 'admin', name: 'test' },
      )
    ).key;
  } finally {
    await db.close();
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the CLI beside a running retain serve on the same DuckDB file', () => {
  let alone: unknown;

  it('works alone first (the file is free): the baseline', async () => {
    const base = await retain(['import', 'orders', 'base.csv', '--json']);
    expect(base.code, base.stderr).toBe(0);
    expect(JSON.parse(base.stdout)).toMatchObject({ inserted: 300, rejected: 0 });
    const summary = await retain(['report', 'summary', '--as-of', AS_OF, '--json']);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stderr).not.toContain('running server');
    alone = JSON.parse(summary.stdout);
  }, 120_000);

  it('runs report summary, import and users create at the same time, through the server', async () => {
    const serve = await startServe();
    const sock = `${store}.sock`;
    expect(serve.stderr()).toContain(`commands on this file go through ${sock}`);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    try {
      const [summary, imported, user] = await Promise.all([
        retain(['report', 'summary', '--as-of', AS_OF, '--json']),
        retain(['import', 'orders', 'new.csv', '--json'], { env: { RETAIN_LOG_LEVEL: 'info' } }),
        retain(['users', 'create', '--email', 'Ops@Shop.com', '--role', 'admin', '--password-stdin'], {
          stdin: 'a long enough secret\n',
        }),
      ]);
      expect(summary.code, summary.stderr).toBe(0);
      expect(imported.code, imported.stderr).toBe(0);
      expect(user.code, user.stderr).toBe(0);
      // Same JSON as without a server; only SQL went over the socket.
      expect(JSON.parse(summary.stdout)).toEqual(alone);
      expect(JSON.parse(imported.stdout)).toMatchObject({ file: 'new.csv', inserted: 25, rejected: 0 });
      expect(user.stdout).toBe('created admin user ops@shop.com\n');
      expect(user.stderr).toMatch(
        new RegExp(
          `^retain: using the running server's database \\(pid ${serve.child.pid}\\) via ${sock}\\n$`,
        ),
      );
      expect(summary.stderr).toBe(''); // --json: stdout is the document, stderr quiet…
      expect(imported.stderr).toContain(
        `retain: using the running server's database (pid ${serve.child.pid})`,
      ); // …unless logging info

      const auth = { authorization: `Bearer ${adminKey}` };
      const order = await fetch(`${serve.base}/v1/orders/o1007`, { headers: auth });
      expect(order.status).toBe(200);
      expect(await order.json()).toMatchObject({ id: 'o1007', customerId: 'c8', totalMinor: 2700 });
      const users = (await (await fetch(`${serve.base}/v1/users`, { headers: auth })).json()) as {
        data: { email: string }[];
      };
      expect(users.data.map((u) => u.email)).toEqual(['ops@shop.com']);
      const login = await fetch(`${serve.base}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@shop.com', password: 'a long enough secret' }),
      });
      expect(login.status).toBe(200);

      // A second server on the same file is refused, naming the one that holds it.
      const second = await retain(['serve', '--port', '0']);
      expect(second.code).toBe(3);
      expect(second.stderr).toBe(
        `retain: DuckDB file ${store} is already held by a retain server (pid ${serve.child.pid}, socket ${sock}): ` +
          `one 'retain serve' or 'retain worker' per DuckDB file; run commands beside it, or stop it first\n`,
      );
    } finally {
      expect(await stop(serve.child)).toBe(0);
    }
    expect(existsSync(sock)).toBe(false);
    // And alone again, the same summary.
    const after = await retain(['report', 'summary', '--as-of', AS_OF, '--json']);
    expect(JSON.parse(after.stdout)).toEqual(alone);
  }, 180_000);

  it('a CLI import through the server killed with -9 mid-load leaves nothing written; the server carries on', async () => {
    const spool = join(dir, 'server-tmp');
    mkdirSync(spool, { recursive: true });
    const serve = await startServe({ TMPDIR: spool });
    const ordersBefore = await countOver(serve.base);
    expect(ordersBefore).toHaveLength(325);
    try {
      const child = spawn(
        process.execPath,
        [
          cli,
          '--db',
          store,
          'import',
          'orders',
          join(REPO_ROOT, 'data/online_retail.csv.gz'),
          '--preset',
          'online-retail',
          '--json',
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_c, s) => resolve(s)),
      );
      // Mid-load: the server has begun spooling this import's rows for its COPY.
      const spooling = () =>
        readdirSync(spool)
          .filter((d) => d.startsWith('retain-copy-'))
          .some((d) => readdirSync(join(spool, d)).some((f) => statSync(join(spool, d, f)).size > 0));
      const deadline = Date.now() + 60_000;
      while (!spooling() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(spooling()).toBe(true);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      // The server rolls the transaction back and removes the abandoned load's files.
      const gone = Date.now() + 30_000;
      while (readdirSync(spool).some((d) => d.startsWith('retain-copy-')) && Date.now() < gone)
        await new Promise((r) => setTimeout(r, 20));
      expect(readdirSync(spool).filter((d) => d.startsWith('retain-copy-'))).toEqual([]);
      expect((await fetch(`${serve.base}/ready`)).status).toBe(200);
      expect(await countOver(serve.base)).toEqual(ordersBefore);
      // The next command through the server works.
      const summary = await retain(['report', 'summary', '--as-of', AS_OF, '--json']);
      expect(JSON.parse(summary.stdout)).toEqual(alone);
    } finally {
      expect(await stop(serve.child)).toBe(0);
    }
    const db = await openStore({ db: store });
    try {
      expect(await db.query(`SELECT file FROM import_runs ORDER BY file`)).toEqual([
        { file: 'base.csv' },
        { file: 'new.csv' },
      ]);
    } finally {
      await db.close();
    }
  }, 180_000);

  it('a file held by a process that is not a retain server: one message naming it, exit code 3', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const i = await DuckDBInstance.create(${JSON.stringify(store)});
         await i.connect();
         process.stdout.write('holding\\n');
         setInterval(() => {}, 1000);`,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) =>
        createInterface({ input: holder.stdout! }).on('line', (l) => l === 'holding' && resolve()),
      );
      const r = await retain(['report', 'summary', '--json']);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `retain: DuckDB file ${store} is in use by another process (${process.execPath} PID ${holder.pid}) ` +
          `and no retain server answers on ${store}.sock: stop that process, or let 'retain serve' hold the file ` +
          `(commands then run through it)\n`,
      );
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);
});

/** The ids of every stored order, as the server lists them over HTTP. */
async function countOver(base: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '';
  for (;;) {
    const r = await fetch(`${base}/v1/orders?limit=500${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const page = (await r.json()) as { data: { id: string }[]; nextCursor: string | null };
    ids.push(...page.data.map((o) => o.id));
    if (!page.nextCursor) return ids.sort();
    cursor = page.nextCursor;
  }
}
