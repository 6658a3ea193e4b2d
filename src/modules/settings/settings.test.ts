import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../cli/main.js';
import { AppError } from '../../shared/errors.js';
import type { Database } from '../../storage/port.js';
import { testApp } from '../../../test/support/server.js';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from '../imports/service.js';
import { initStore } from './commands.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ordersFile = join(dir, 'orders.csv');
writeFileSync(
  ordersFile,
  'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price\nO1,c1,2024-01-05 10:00,GBP,A,1,10.00\n',
);

describe.each(testEngines())('store settings over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock: { now: () => new Date('2024-06-01T12:00:00Z') } });
  });
  afterAll(() => dispose());

  it('answers the defaults of a new store to every role', async () => {
    for (const role of ['admin', 'analyst', 'marketer', 'agent'] as const) {
      const r = await t.call('GET', '/v1/store', { role });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        name: null,
        currency: null,
        timeZone: 'UTC',
        locale: 'en',
        defaultMargin: 1,
        defaultDiscountRate: 0.01,
        nonProductSkus: [],
        defaults: [
          'name',
          'currency',
          'timeZone',
          'locale',
          'defaultMargin',
          'defaultDiscountRate',
          'nonProductSkus',
        ],
      });
    }
    expect((await t.call('GET', '/v1/store')).status).toBe(401);
  });

  it('lets only admins change them', async () => {
    const r = await t.call('PATCH', '/v1/store', { role: 'analyst', body: { locale: 'uk' } });
    expect(r.status).toBe(403);
  });

  it('names the field of every invalid value and writes nothing', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ timeZone: 'Mars/Olympus' }, 'timeZone', /IANA time zone/],
      [{ timeZone: '+05:00' }, 'timeZone', /IANA time zone/],
      [{ currency: 'XX' }, 'currency', /ISO 4217/],
      [{ currency: 'ABC' }, 'currency', /ISO 4217/],
      [{ locale: 'de' }, 'locale', /uk, ru, en/],
      [{ locale: 'uk', tz: 'Europe/Kyiv' }, 'tz', /unknown body parameter tz/],
      [{ defaultMargin: 0 }, 'defaultMargin', /margin in \(0, 1\]/],
      [{ defaultMargin: 1.5 }, 'defaultMargin', /margin in \(0, 1\]/],
      [{ defaultMargin: '0.3' }, 'defaultMargin', /expected a number/],
      [{ defaultDiscountRate: 1 }, 'defaultDiscountRate', /discount rate in \[0, 1\)/],
      [{ nonProductSkus: 'SHIP' }, 'nonProductSkus', /list of SKUs/],
      [{ nonProductSkus: ['SHIP', ' '] }, 'nonProductSkus.1', /cannot be empty/],
      [{ name: '   ' }, 'name', /store name cannot be empty \(null clears it\)/],
      [{ name: 'x'.repeat(101) }, 'name', /at most 100 characters/],
      [{ name: 'Shop\nBcc: x@y.test' }, 'name', /line breaks or control characters/],
      [{ name: 42 }, 'name', /expected the store name as text/],
    ];
    for (const [body, path, message] of cases) {
      const r = await t.call('PATCH', '/v1/store', { role: 'admin', body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.details.issues[0].path).toBe(path);
      expect(r.json.error.message).toMatch(message);
    }
    expect((await t.call('GET', '/v1/store', { role: 'admin' })).json.defaults).toHaveLength(7);
  });

  it('keeps the store name trimmed, at most 100 characters, clears it with null, and records no event', async () => {
    let r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { name: '  Kavova Lavka  ' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'Kavova Lavka', currency: null, locale: 'en' });
    expect(r.json.defaults).not.toContain('name');
    expect((await t.call('GET', '/v1/store', { role: 'agent' })).json.name).toBe('Kavova Lavka');
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { name: 'ß'.repeat(100) } });
    expect(r.json.name).toBe('ß'.repeat(100));
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: {} }); // left out: kept
    expect(r.json.name).toBe('ß'.repeat(100));
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { name: 'Кавова лавка & Co' } });
    expect(r.json.name).toBe('Кавова лавка & Co');
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { name: null } });
    expect(r.status).toBe(200);
    expect(r.json.name).toBeNull();
    expect(r.json.defaults).toContain('name');
    expect((await t.call('GET', '/v1/store', { role: 'admin' })).json.name).toBeNull();
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { name: null } }); // already clear
    expect(r.json).toMatchObject({ name: null, locale: 'en' });
    expect(await db.query(`SELECT value FROM settings WHERE key = 'store_name'`)).toEqual([]);
    const events = await t.call('GET', '/v1/domain-events?type=store.updated', { role: 'admin' });
    expect(events.json.data).toEqual([]);
  });

  it('keeps the CLV defaults and the non-product SKUs (trimmed, without case-insensitive repeats)', async () => {
    let r = await t.call('PATCH', '/v1/store', {
      role: 'admin',
      body: {
        defaultMargin: 0.35,
        defaultDiscountRate: 0.02,
        nonProductSkus: [' SHIP', 'wrap', 'Ship', 'FEE'],
      },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      defaultMargin: 0.35,
      defaultDiscountRate: 0.02,
      nonProductSkus: ['SHIP', 'wrap', 'FEE'],
      defaults: ['name', 'currency', 'timeZone', 'locale'],
    });
    expect((await t.call('GET', '/v1/store', { role: 'analyst' })).json).toEqual(r.json);
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { nonProductSkus: [] } });
    expect(r.json).toMatchObject({ defaultMargin: 0.35, nonProductSkus: [] });
    expect(r.json.defaults).not.toContain('nonProductSkus');
    // No store.updated event for these (the next test counts the events).
    const events = await t.call('GET', '/v1/domain-events?type=store.updated', { role: 'admin' });
    expect(events.json.data).toEqual([]);
  });

  it('keeps the fields a PATCH leaves out, and records store.updated when something changed', async () => {
    let r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { timeZone: 'america/new_york' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      currency: null,
      timeZone: 'America/New_York',
      locale: 'en',
      defaults: ['name', 'currency', 'locale'],
    });
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { locale: 'uk' } });
    expect(r.json).toMatchObject({
      timeZone: 'America/New_York',
      locale: 'uk',
      defaults: ['name', 'currency'],
    });
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { locale: 'uk' } }); // no change
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: {} });
    expect(r.json).toMatchObject({ timeZone: 'America/New_York', locale: 'uk' });
    const events = await t.call('GET', '/v1/domain-events?type=store.updated', { role: 'admin' });
    expect(events.json.data.map((e: { payload: unknown }) => e.payload)).toEqual([
      { changed: ['time_zone'], currency: null, time_zone: 'America/New_York', locale: null },
      { changed: ['locale'], currency: null, time_zone: 'America/New_York', locale: 'uk' },
    ]);
  });

  it('is what the first import and the reports use, and refuses a currency other than the orders’', async () => {
    let r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { currency: 'gbp' } });
    expect(r.json.currency).toBe('GBP');
    const report = await importFile(testContext(db), { entity: 'orders', file: ordersFile });
    expect(report.inserted).toBe(1);
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { currency: 'EUR', locale: 'ru' } });
    expect(r.status).toBe(409);
    expect(r.json.error.message).toMatch(
      /cannot change the store currency to EUR: orders exist in another currency \(1 in GBP\)/,
    );
    r = await t.call('GET', '/v1/store', { role: 'admin' });
    expect(r.json).toMatchObject({ currency: 'GBP', locale: 'uk' }); // nothing written
    r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { currency: 'GBP', locale: 'ru' } });
    expect(r.json).toMatchObject({ currency: 'GBP', locale: 'ru', timeZone: 'America/New_York' });
    const summary = await t.call('GET', '/v1/reports/summary', { role: 'analyst' });
    expect(summary.json).toMatchObject({ currency: 'GBP', timeZone: 'America/New_York', asOf: '2024-01-05' });
  });
});

describe('retain store and retain init', () => {
  const db = join(dir, 'cli.duckdb');

  async function run(...args: string[]): Promise<unknown> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const tty = process.stdin.isTTY;
    process.stdin.isTTY = false;
    try {
      await buildProgram().parseAsync(['node', 'retain', '--db', db, '--json', ...args]);
    } finally {
      spy.mockRestore();
      err.mockRestore();
      process.stdin.isTTY = tty;
    }
    return JSON.parse(out);
  }

  it('init creates the database and keeps the defaults off a terminal; set changes given flags only', async () => {
    expect(await run('init')).toEqual({
      database: db,
      settings: {
        name: null,
        currency: null,
        timeZone: 'UTC',
        locale: 'en',
        defaultMargin: 1,
        defaultDiscountRate: 0.01,
        nonProductSkus: [],
        defaults: [
          'name',
          'currency',
          'timeZone',
          'locale',
          'defaultMargin',
          'defaultDiscountRate',
          'nonProductSkus',
        ],
      },
      given: [],
      asked: [],
      kept: ['name', 'currency', 'timeZone', 'locale'],
    });
    expect(
      await run('init', '--name', ' Kavova Lavka ', '--currency', 'uah', '--time-zone', 'Europe/Kyiv'),
    ).toMatchObject({
      settings: { name: 'Kavova Lavka', currency: 'UAH', timeZone: 'Europe/Kyiv', locale: 'en' },
      given: ['name', 'currency', 'timeZone'],
      kept: ['locale'],
    });
    expect(await run('store', 'set', '--name', '')).toMatchObject({ name: null, currency: 'UAH' });
    expect(await run('store', 'set', '--name', 'Lavka', '--locale', 'uk')).toEqual({
      name: 'Lavka',
      currency: 'UAH',
      timeZone: 'Europe/Kyiv',
      locale: 'uk',
      defaultMargin: 1,
      defaultDiscountRate: 0.01,
      nonProductSkus: [],
      defaults: ['defaultMargin', 'defaultDiscountRate', 'nonProductSkus'],
    });
    expect(
      await run('store', 'set', '--default-margin', '0.4', '--non-product-skus', 'SHIP, WRAP'),
    ).toMatchObject({
      defaultMargin: 0.4,
      nonProductSkus: ['SHIP', 'WRAP'],
      defaults: ['defaultDiscountRate'],
    });
    expect(await run('store')).toMatchObject({ name: 'Lavka', timeZone: 'Europe/Kyiv', locale: 'uk' });
  });

  it('names the flag of an invalid value', async () => {
    for (const [args, field, message] of [
      [['store', 'set', '--time-zone', 'Europe/Atlantis'], '--time-zone', /IANA time zone/],
      [['store', 'set', '--currency', 'pounds'], '--currency', /ISO 4217/],
      [['store', 'set', '--default-margin', 'high'], '--default-margin', /in \(0, 1\]/],
      [['store', 'set', '--name', ' '], '--name', /store name cannot be empty/],
      [['init', '--name', 'x'.repeat(101)], '--name', /at most 100 characters/],
      [['init', '--locale', 'fr'], '--locale', /uk, ru, en/],
      [['store', 'set'], '--currency', /give at least one/],
    ] as const) {
      const e = await run(...args).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).where?.field).toBe(field);
      expect((e as AppError).message).toMatch(message);
    }
  });

  it('init asks for what is missing, offering the current value or the machine zone, again on a bad answer', async () => {
    const { db: store, dispose } = await freshDatabase('duckdb');
    try {
      const questions: string[] = [];
      const answers = ['x'.repeat(101), ' Kavova Lavka ', 'eur', 'Nowhere/Town', '', 'ru'];
      const ask = async (q: string, d: string) => {
        questions.push(`${q} [${d}]`);
        const a = answers.shift()!;
        return a === '' ? d : a;
      };
      const r = await initStore(testContext(store), { locale: 'uk' }, ask);
      expect(questions).toEqual([
        'store name (as customers read it in messages) []',
        'store name (as customers read it in messages) []',
        'store currency (ISO 4217, e.g. UAH, EUR, USD) []',
        `store time zone (IANA, e.g. Europe/Kyiv) [${Intl.DateTimeFormat().resolvedOptions().timeZone}]`,
        `store time zone (IANA, e.g. Europe/Kyiv) [${Intl.DateTimeFormat().resolvedOptions().timeZone}]`,
      ]);
      expect(r).toMatchObject({
        settings: { name: 'Kavova Lavka', currency: 'EUR', locale: 'uk' },
        given: ['locale'],
        asked: ['name', 'currency', 'timeZone'],
        kept: [],
      });
    } finally {
      await dispose();
    }
  });
});
