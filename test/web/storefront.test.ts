import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureSnippet } from '../../src/modules/storefront/asset.js';
import { createSiteKey } from '../../src/modules/storefront/service.js';
import { createApp } from '../../src/server/app.js';
import type { Database } from '../../src/storage/port.js';
import { REPO_ROOT } from '../support/bundle.js';
import { freshDatabase, testEngines } from '../support/storage.js';

/**
 * Issue 26: the tracking snippet in real Chromium. A sample shop page is served by its own HTTP server
 * on 127.0.0.1 (another port: another origin than retain serve) and includes the snippet tag with a
 * site key for its origin. retain.js is a fresh build (scripts/snippet.mjs, which prints its gzipped
 * size). The browser views a product, adds it to the cart, identifies by email and leaves the page;
 * the beacon flushes; the stored events are then checked. Also: a failed batch is retried, and a store
 * that requires consent gets nothing (and sets no cookie) before the visitor accepts.
 */
const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} (apt-get install -y chromium)`;
if (missing && process.env.CI === 'true') throw new Error(`browser tests need ${missing}`);
if (missing) console.warn(`[storefront snippet] skipped: ${missing} is missing`);

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'storefront');

/** What the page's global scope has that the tests use (page.evaluate runs in the browser). */
type Win = {
  retain: ((...args: unknown[]) => void) & { loaded?: boolean };
  localStorage: { getItem(key: string): string | null };
};

interface Seen {
  path: string;
  mode: string | undefined;
  origin: string | undefined;
  type: string | undefined;
  status: number;
}

describe.skipIf(missing !== null).each(testEngines())(
  'the storefront snippet in Chromium on %s',
  (engine) => {
    let db: Database;
    let dispose: () => Promise<void>;
    let retain: ServerType;
    let shop: Server;
    let browser: Browser;
    let retainBase: string;
    let shopBase: string;
    let key: string;
    let consentKey: string;
    let buildLine: string;
    const dir = mkdtempSync(join(tmpdir(), 'retain-snippet-'));
    /** Requests retain serve received for /t/collect, with how the browser sent them. */
    const seen: Seen[] = [];
    /** Collect requests still to answer 503 (as a failing server would). */
    let failNext = 0;

    beforeAll(async () => {
      // A fresh build of retain.js: the build's own size check and the line it prints.
      buildLine = execFileSync(
        process.execPath,
        [join(REPO_ROOT, 'scripts', 'snippet.mjs'), '--out-dir', dir],
        {
          encoding: 'utf8',
        },
      ).trim();
      configureSnippet({ file: join(dir, 'retain.js') });

      ({ db, dispose } = await freshDatabase(engine));
      const { app, deps } = await createApp({ db, logger: pino({ level: 'silent' }) });
      retain = serve({
        fetch: async (req, env) => {
          const url = new URL(req.url);
          if (url.pathname !== '/t/collect' || req.method !== 'POST') return app.fetch(req, env);
          const entry: Seen = {
            path: url.pathname,
            mode: req.headers.get('sec-fetch-mode') ?? undefined,
            origin: req.headers.get('origin') ?? undefined,
            type: req.headers.get('content-type') ?? undefined,
            status: 0,
          };
          seen.push(entry);
          if (failNext > 0) {
            failNext--;
            entry.status = 503;
            return new Response('{"error":{"code":"unavailable","message":"down for a moment"}}', {
              status: 503,
              headers: { 'access-control-allow-origin': req.headers.get('origin') ?? '*' },
            });
          }
          const res = await app.fetch(req, env);
          entry.status = res.status;
          return res;
        },
        port: 0,
        hostname: '127.0.0.1',
      });
      await new Promise((r) => retain.once('listening', r));
      retainBase = `http://127.0.0.1:${(retain.address() as AddressInfo).port}`;

      // The shop: its pages, with the snippet tag as `retain storefront snippet` prints it.
      const page = readFileSync(join(FIXTURES, 'product.html'), 'utf8');
      shop = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://shop');
        if (url.pathname === '/thanks.html') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(readFileSync(join(FIXTURES, 'thanks.html')));
          return;
        }
        if (url.pathname !== '/product.html') {
          res.writeHead(404).end();
          return;
        }
        const consent = url.searchParams.get('consent') === '1';
        const attributes = [
          consent ? 'data-require-consent' : '',
          `data-flush-interval="${url.searchParams.get('flush') ?? '60000'}"`,
        ].join(' ');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          page
            .replace('{{RETAIN}}', retainBase)
            .replace('{{KEY}}', consent ? consentKey : key)
            .replace('{{ATTRIBUTES}}', attributes),
        );
      });
      await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
      shopBase = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
      key = (await createSiteKey(deps, { origins: [shopBase] })).key;
      consentKey = (await createSiteKey(deps, { origins: [shopBase], requireConsent: true })).key;

      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => shop?.close(r));
      await new Promise((r) => retain?.close(r));
      configureSnippet({ file: undefined });
      await dispose?.();
      rmSync(dir, { recursive: true, force: true });
    });

    const events = (anonymousId: string) =>
      db.query<{ event_id: string; type: string; owner: string | null; props: string }>(
        `SELECT e.event_id, e.type, c.external_id AS owner, CAST(e.properties AS TEXT) AS props
       FROM events e LEFT JOIN customers c ON c.customer_id = e.customer_id
       WHERE e.anonymous_id = $1 ORDER BY e.occurred_at, e.event_id`,
        [anonymousId],
      );
    /** Polls until `check` passes (the beacon is sent after the page is gone). */
    const eventually = async <T>(
      read: () => Promise<T>,
      check: (v: T) => boolean,
      ms = 10_000,
    ): Promise<T> => {
      const until = Date.now() + ms;
      for (;;) {
        const v = await read();
        if (check(v) || Date.now() > until) return v;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const open = async (query = ''): Promise<{ context: BrowserContext; page: Page }> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${shopBase}/product.html${query}`);
      await page.waitForFunction(() => (globalThis as unknown as Win).retain.loaded);
      return { context, page };
    };
    const cookieOf = async (context: BrowserContext) =>
      (await context.cookies(shopBase)).find((c) => c.name === '_retain_aid');

    it('builds retain.js under 5 kB gzipped and prints the size', () => {
      const m = /^retain\.js: (\d+\.\d) kB gzipped \((\d+) bytes, limit 5000\); .* minified/.exec(buildLine);
      expect(m, buildLine).not.toBeNull();
      expect(Number(m?.[2])).toBeLessThan(5000);
      console.log(buildLine);
    });

    it('views a product, adds it to the cart, identifies by email, leaves: the beacon delivers, history stitched', async () => {
      const { context, page } = await open();
      const cookie = await cookieOf(context);
      expect(cookie).toMatchObject({ path: '/', sameSite: 'Lax', secure: false, httpOnly: false });
      expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const days = ((cookie?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(364.9);
      expect(days).toBeLessThan(365.1);
      const aid = cookie?.value as string;

      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.getByLabel('Email').fill('Shopper@Example.com');
      await page.getByRole('button', { name: 'Sign up for news' }).click();
      // Nothing sent while on the page (the page sends every 60 s): the events wait in localStorage.
      const queued = await page.evaluate(
        () => JSON.parse((globalThis as unknown as Win).localStorage.getItem('_retain_q') ?? '[]').length,
      );
      expect(queued).toBe(3);
      expect(seen).toHaveLength(0);

      await page.getByRole('link', { name: 'Continue shopping' }).click();
      await page.waitForURL(`${shopBase}/thanks.html`);
      const rows = await eventually(
        () => events(aid),
        (r) => r.length === 3,
      );
      expect(rows.map((e) => [e.type, e.owner])).toEqual([
        ['view', 'shopper@example.com'],
        ['add_to_cart', 'shopper@example.com'],
        ['identify', 'shopper@example.com'],
      ]);
      expect(JSON.parse(rows[0]?.props as string)).toEqual({
        url: `${shopBase}/product.html`,
        title: 'Blue Mug — Test Shop',
        referrer: '',
        sku: 'MUG-BLUE',
        price: '12.50',
        currency: 'EUR',
      });
      expect(JSON.parse(rows[1]?.props as string)).toEqual({ sku: 'MUG-BLUE', quantity: 1, price: '12.50' });
      expect(JSON.parse(rows[2]?.props as string)).toEqual({ by: 'email' });
      expect(rows.every((e) => /^web-[A-Za-z0-9_-]{22}$/.test(e.event_id))).toBe(true);
      // One request, by sendBeacon (text/plain, no-cors: no preflight), from the shop's origin.
      expect(seen).toEqual([
        {
          path: '/t/collect',
          mode: 'no-cors',
          origin: shopBase,
          type: 'text/plain;charset=UTF-8',
          status: 200,
        },
      ]);
      // The customer is new: named by the email, as an order import would.
      const [customer] = await db.query<{ external_id: string; email: string }>(
        `SELECT external_id, email FROM customers WHERE external_id = 'shopper@example.com'`,
      );
      expect(customer).toEqual({ external_id: 'shopper@example.com', email: 'shopper@example.com' });
      // The next page view of this browser (anonymous-only) is stored as the customer's.
      await page.goto(`${shopBase}/product.html`);
      await page.waitForFunction(() => (globalThis as unknown as Win).retain.loaded);
      await page.evaluate(() => (globalThis as unknown as Win).retain('flush'));
      const after = await eventually(
        () => events(aid),
        (r) => r.length === 4,
      );
      expect(after.map((e) => [e.type, e.owner])[3]).toEqual(['view', 'shopper@example.com']);
      expect(seen.at(-1)).toMatchObject({ mode: 'cors', status: 200 });
      await context.close();
    });

    it('retries a batch the server failed, with backoff, and stores it once', async () => {
      seen.length = 0;
      failNext = 1;
      const { context, page } = await open('?flush=1000');
      const aid = (await cookieOf(context))?.value as string;
      await page.getByRole('button', { name: 'Add to cart' }).click();
      const rows = await eventually(
        () => events(aid),
        (r) => r.length === 2,
        15_000,
      );
      expect(rows.map((e) => e.type)).toEqual(['view', 'add_to_cart']);
      expect(seen[0]).toMatchObject({ mode: 'cors', status: 503 });
      expect(seen.some((s) => s.status === 200)).toBe(true);
      // The queue is empty once delivered.
      await eventually(
        () => page.evaluate(() => (globalThis as unknown as Win).localStorage.getItem('_retain_q')),
        (q) => q === null,
      );
      await context.close();
    });

    it('with consent required: no cookie, nothing sent or kept until the visitor accepts', async () => {
      seen.length = 0;
      const { context, page } = await open('?consent=1&flush=1000');
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.waitForTimeout(1500);
      expect(await cookieOf(context)).toBeUndefined();
      expect(
        await page.evaluate(() => (globalThis as unknown as Win).localStorage.getItem('_retain_q')),
      ).toBeNull();
      expect(seen).toHaveLength(0);
      await page.getByRole('button', { name: 'Accept cookies' }).click();
      const aid = (
        await eventually(
          () => cookieOf(context),
          (c) => c !== undefined,
        )
      )?.value as string;
      // The events of this page view, kept in memory until then, go out once consent is given.
      const rows = await eventually(
        () => events(aid),
        (r) => r.length === 2,
      );
      expect(rows.map((e) => e.type)).toEqual(['view', 'add_to_cart']);
      // Withdrawn: the cookie is removed and nothing more is sent.
      await page.evaluate(() => (globalThis as unknown as Win).retain('consent', false));
      expect(await cookieOf(context)).toBeUndefined();
      const sent = seen.length;
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.getByRole('link', { name: 'Continue shopping' }).click();
      await page.waitForURL(`${shopBase}/thanks.html`);
      await page.waitForTimeout(500);
      expect(seen).toHaveLength(sent);
      expect((await events(aid)).length).toBe(2);
      await context.close();
    });
  },
);
