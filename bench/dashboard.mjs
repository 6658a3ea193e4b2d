// The dashboard's first load (issue 23): the demo store (`retain demo`: Online Retail), `retain serve` in
// its own process, and Debian's Chromium (playwright-core) opening the Overview with an empty cache after
// logging in. Reports the browser's navigation timing (DOMContentLoaded, load), when the figures and the
// chart are on screen, and the JS and CSS sizes gzipped. The floor, in the same run: the Overview's data
// request alone (GET /v1/reports/summary from the same browser) — the page cannot show its figures
// sooner. Goal: first load of the Overview ≤ 1.5 s by the navigation timing. Runs BENCH_DASHBOARD_RUNS
// (default 5) cold loads and prints the median.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, fmt, retain, startServer, table } from './lib.mjs';

const CHROMIUM = '/usr/bin/chromium';
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 5);
const web = join(ROOT, 'dist', 'web', 'assets');
if (!existsSync(CHROMIUM) || !existsSync(web)) {
  console.error(
    `dashboard bench skipped: needs ${CHROMIUM} (apt-get install -y chromium) and dist/web (npm run build)`,
  );
  process.exit(0);
}
const { chromium } = await import('playwright-core');

const dir = mkdtempSync(join(tmpdir(), 'retain-bench-web-'));
const db = join(dir, 'demo.duckdb');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const demo = await retain(['demo', '--demo-db', db, '--json']);
  if (demo.code !== 0) throw new Error(`retain demo: ${demo.stderr}`);
  const password = 'bench-password-1';
  const user = await retain(
    ['--db', db, 'users', 'create', '--email', 'bench@shop.test', '--role', 'admin'],
    {
      env: { RETAIN_USER_PASSWORD: password },
    },
  );
  if (user.code !== 0) throw new Error(`users create: ${user.stderr}`);
  const { server, base } = await startServer(['--db', db]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  const runs = [];
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      // A new context each time: no cache, a fresh session cookie.
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
      const login = await context.request.post(`${base}/v1/session`, {
        data: { email: 'bench@shop.test', password },
      });
      if (!login.ok()) throw new Error(`login: ${login.status()}`);
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.locator('[data-figure="customers"] dd').waitFor();
      const figures = await page.evaluate(() => performance.now());
      await page.locator('[data-period-figure="customers"] .value').waitFor();
      const period = await page.evaluate(() => performance.now());
      await page.locator('.chart svg').waitFor();
      const chart = await page.evaluate(() => performance.now());
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0];
        return { dom: n.domContentLoadedEventEnd, load: n.loadEventEnd };
      });
      const api = await page.evaluate(async () => {
        const t = performance.now();
        await (await fetch('/v1/reports/summary')).json();
        return performance.now() - t;
      });
      const periodApi = await page.evaluate(async () => {
        const t = performance.now();
        await (await fetch('/v1/reports/overview')).json();
        return performance.now() - t;
      });
      if (i > 0) runs.push({ ...nav, figures, period, chart, api, periodApi }); // the first warms the server
      await context.close();
    }
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
  }
  const m = (k) => median(runs.map((r) => r[k])) / 1000;
  const size = (ext) =>
    readdirSync(web)
      .filter((f) => f.endsWith(ext))
      .map((f) => ({ f, gz: gzipSync(readFileSync(join(web, f))).length }));
  const js = size('.js');
  // The entry chunk (index-*.js) loads first; every other chunk (pages' charts) loads when shown.
  const entry = js.filter((x) => /^index-/.test(x.f));
  const lazy = js.filter((x) => !/^index-/.test(x.f)).sort((a, b) => b.gz - a.gz);
  const css = size('.css');
  console.log(`\nOverview of the Online Retail demo store, ${RUNS} cold loads (median), Chromium headless`);
  console.log(
    table(
      ['measure', 'seconds', 'ratio to floor'],
      [
        ['navigation: DOMContentLoaded', fmt(m('dom'), 3), ''],
        ['navigation: load event (goal ≤ 1.5 s)', fmt(m('load'), 3), ''],
        ['all-time figures on screen', fmt(m('figures'), 3), fmt(m('figures') / m('api'), 1)],
        [
          'period figures on screen (changes, sparklines)',
          fmt(m('period'), 3),
          fmt(m('period') / m('periodApi'), 1),
        ],
        ['RFM chart drawn (lazy chunk)', fmt(m('chart'), 3), ''],
        ['floor: GET /v1/reports/summary alone', fmt(m('api'), 3), '1.0'],
        ['floor: GET /v1/reports/overview alone', fmt(m('periodApi'), 3), '1.0'],
      ],
    ),
  );
  console.log(
    `goal — first load ${m('load') <= 1.5 ? 'met' : 'not met'} (${fmt(m('load'), 3)} s ≤ 1.5 s)\n` +
      `gzipped: entry ${entry.map((x) => `${x.f} ${fmt(x.gz / 1024, 1)} kB`).join(', ')}; ` +
      `${lazy.length} lazy chunks, largest ${lazy
        .slice(0, 2)
        .map((x) => `${x.f} ${fmt(x.gz / 1024, 1)} kB`)
        .join(', ')}; ` +
      `CSS ${fmt(css.reduce((a, x) => a + x.gz, 0) / 1024, 1)} kB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
