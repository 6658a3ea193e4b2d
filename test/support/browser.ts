import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import axe from 'axe-core';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { background } from '../../src/cli/background.js';
import { ManualClock, type Clock } from '../../src/kit/clock.js';
import type { ServerDeps } from '../../src/kit/http/context.js';
import { addDemoContacts } from '../../src/modules/customers/service.js';
import { importFile } from '../../src/modules/imports/service.js';
import { createUser } from '../../src/modules/users/service.js';
import { createApp } from '../../src/server/app.js';
import type { Database } from '../../src/storage/port.js';
import { REPO_ROOT } from './bundle.js';
import { ONLINE_RETAIL } from './onlineRetailImport.js';
import { generate, load, NOW } from './segmentStore.js';
import { freshDatabase } from './storage.js';

/**
 * The dashboard's browser tests (issue 23) share this: a fresh DuckDB store with some data, the app with
 * its job runner (imports, fits and mining run as they do under `retain serve`), Debian's Chromium driven
 * by playwright-core at 1280×800, a signed-in admin, axe-core, and screenshots in test-output/
 * (git-ignored). Outside CI the suite skips with a notice when Chromium or dist/web is missing; under
 * CI=true that is an error.
 */
export const CHROMIUM = '/usr/bin/chromium';
const WEB = join(REPO_ROOT, 'dist', 'web', 'index.html');
export const OUT = join(REPO_ROOT, 'test-output');
export const EMAIL = 'owner@shop.test';
export const PASSWORD = 'correct horse battery';

const missing = !existsSync(CHROMIUM)
  ? `${CHROMIUM} (apt-get install -y chromium)`
  : !existsSync(WEB)
    ? 'dist/web (npm run build)'
    : null;
if (missing && process.env.CI === 'true') throw new Error(`browser tests need ${missing}`);

/**
 * What the store holds when the browser opens:
 * - `empty`: nothing (first-hour pages, imports through the page);
 * - `generated`: test/support/segmentStore.ts (90 customers, consents, tags, events, CLV runs), clock
 *   at its NOW;
 * - `online-retail`: data/online_retail.csv.gz imported with its preset plus the demo contacts, as
 *   `retain demo` leaves it.
 */
export type BrowserData = 'empty' | 'generated' | 'online-retail';

export interface BrowserSession {
  base: string;
  page: Page;
  db: Database;
  deps: ServerDeps;
  clock: Clock;
  /** Serious and critical axe-core violations on the current page, as `id: help`. */
  violations(): Promise<string[]>;
  /** The API's JSON for a GET, fetched by the signed-in page (its cookie). */
  get<T = Record<string, unknown>>(path: string): Promise<T>;
  /** A JSON POST/PUT/PATCH/DELETE by the signed-in page (cookie + CSRF token); answers status and JSON. */
  send<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }>;
  /** Saves test-output/<name>.png (full page). */
  shot(name: string): Promise<void>;
  /** Logs in through the login page (the tests start signed in; this is for after a log-out). */
  logIn(email?: string, password?: string): Promise<void>;
}

/**
 * A describe block with a signed-in browser on a store holding `data`. `body` gets the session (its
 * fields are filled in before the first test runs).
 */
export function browserSuite(
  name: string,
  opts: { data: BrowserData; signedIn?: boolean },
  body: (s: BrowserSession) => void,
): void {
  if (missing) console.warn(`[${name}] skipped: ${missing} is missing`);
  describe.skipIf(missing !== null)(name, () => {
    let dispose: () => Promise<void>;
    let server: ServerType;
    let browser: Browser;
    let stopBackground: () => Promise<void> = async () => undefined;
    const s = {} as BrowserSession;

    beforeAll(async () => {
      const { db, dispose: drop } = await freshDatabase('duckdb');
      dispose = drop;
      const clock = opts.data === 'generated' ? new ManualClock(NOW) : undefined;
      const logger = pino({ level: 'silent' });
      const { app, deps } = await createApp({ db, logger, ...(clock ? { clock } : {}) });
      if (opts.data === 'generated') await load(db, generate(5));
      if (opts.data === 'online-retail') {
        await importFile(deps, { entity: 'orders', file: ONLINE_RETAIL, preset: 'online-retail' });
        await addDemoContacts(deps);
      }
      await createUser(deps, { email: EMAIL, password: PASSWORD, role: 'admin' });
      const bg = await background({ db, jobs: deps.jobs, logger, concurrency: 2 });
      bg.runner.start();
      bg.dispatcher.start();
      stopBackground = async () => {
        await bg.runner.stop();
        await bg.dispatcher.stop();
      };
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
      await new Promise((r) => server.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
      mkdirSync(OUT, { recursive: true });
      Object.assign(s, {
        base,
        page,
        db,
        deps,
        clock: deps.clock,
        violations: async () => {
          await page.addScriptTag({ content: axe.source });
          const r = await page.evaluate(async () => (globalThis as unknown as { axe: typeof axe }).axe.run());
          return r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
        },
        get: (async (path: string) =>
          page.evaluate(async (p) => {
            const r = await fetch(p, { headers: { accept: 'application/json' } });
            if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
            return r.json();
          }, path)) as BrowserSession['get'],
        send: (async (method: string, path: string, payload?: unknown) =>
          page.evaluate(
            async ({ method, path, payload }) => {
              const csrf =
                (
                  globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
                ).sessionStorage.getItem('retain.csrf') ?? '';
              const r = await fetch(path, {
                method,
                headers: {
                  accept: 'application/json',
                  'x-csrf-token': csrf,
                  ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
                },
                ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
              });
              const text = await r.text();
              return { status: r.status, json: text ? JSON.parse(text) : undefined };
            },
            { method, path, payload },
          )) as BrowserSession['send'],
        shot: async (n: string) => {
          await page.screenshot({ path: join(OUT, `${n}.png`), fullPage: true });
        },
        logIn: async (email = EMAIL, password = PASSWORD) => {
          await page.goto(`${base}/login`);
          await page.getByLabel('Email').fill(email);
          await page.getByLabel('Password').fill(password);
          await page.getByRole('button', { name: 'Log in' }).click();
          await page.waitForURL((u) => !u.pathname.startsWith('/login'));
        },
      } satisfies BrowserSession);
      if (opts.signedIn !== false) {
        await s.logIn();
        await page.getByRole('navigation', { name: 'main' }).waitFor();
      }
    }, 300_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => server?.close(r));
      await stopBackground();
      await dispose?.();
    });

    body(s);
  });
}

/** Formats as the dashboard does for `en` (the tests' browser locale). */
export const en = {
  int: (n: number) => new Intl.NumberFormat('en').format(n),
  money: (n: number, currency: string) =>
    new Intl.NumberFormat('en', { style: 'currency', currency }).format(n),
  pct: (n: number) =>
    new Intl.NumberFormat('en', {
      style: 'percent',
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
    }).format(n),
  dec: (n: number, digits = 2) =>
    new Intl.NumberFormat('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n),
};

export { expect };
