import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { openDatabase } from '../../storage/open.js';
import type { Database } from '../../storage/port.js';
import { allMigrations } from '../store.js';

describe.each(testEngines())('the consent ledger on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let now = new Date('2024-06-01T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock: { now: () => now } });
  });
  afterAll(() => dispose());

  const history = async (id: string, q = '') =>
    (await t.call('GET', `/v1/customers/${id}/consents/history${q}`, { role: 'analyst' })).json as {
      data: Record<string, unknown>[];
    };

  it('keeps every decision with its source, time and proof; the current state is the latest', async () => {
    const created = await t.call('POST', '/v1/customers', {
      role: 'admin',
      body: {
        customer_id: 'c-1',
        email: 'ann@example.com',
        email_consent: 'yes',
        email_consent_at: '2024-01-01T00:00:00Z',
      },
    });
    expect(created.status).toBe(201);
    now = new Date('2024-06-02T08:00:00Z');
    const put = await t.call('PUT', '/v1/customers/c-1/consents/email', {
      role: 'agent',
      body: {
        status: 'unsubscribed',
        source: 'preference page',
        proof: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0', formText: 'Send me no more emails' },
      },
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      consent: { email: { status: 'unsubscribed', source: 'preference page' } },
    });
    const ads = await t.call('PUT', '/v1/customers/c-1/consents/ads', {
      role: 'agent',
      body: { status: 'granted', source: 'cookie banner', changedAt: '2024-06-02T07:59:00Z' },
    });
    expect(ads.status).toBe(200);
    expect(ads.json).toMatchObject({ consent: { ads: { status: 'granted', source: 'cookie banner' } } });

    const h = await history('c-1');
    expect(h.data).toEqual([
      {
        channel: 'email',
        status: 'granted',
        source: 'import',
        occurredAt: '2024-01-01T00:00:00.000Z',
        recordedAt: '2024-06-01T12:00:00.000Z',
        ip: null,
        userAgent: null,
        formText: null,
      },
      {
        channel: 'email',
        status: 'unsubscribed',
        source: 'preference page',
        occurredAt: '2024-06-02T08:00:00.000Z',
        recordedAt: '2024-06-02T08:00:00.000Z',
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0',
        formText: 'Send me no more emails',
      },
      {
        channel: 'ads',
        status: 'granted',
        source: 'cookie banner',
        occurredAt: '2024-06-02T07:59:00.000Z',
        recordedAt: '2024-06-02T08:00:00.000Z',
        ip: null,
        userAgent: null,
        formText: null,
      },
    ]);
    expect((await history('c-1', '?channel=ads')).data).toHaveLength(1);
  });

  it('adds nothing when the same customer file is imported again, and one entry when it changes', async () => {
    const body = {
      customer_id: 'c-2',
      email: 'bo@example.com',
      sms_consent: 'no',
      sms_consent_at: '2024-02-01T00:00:00Z',
    };
    expect((await t.call('POST', '/v1/customers', { role: 'admin', body })).status).toBe(201);
    expect((await t.call('POST', '/v1/customers', { role: 'admin', body })).status).toBe(200);
    expect((await history('c-2')).data).toHaveLength(1);
    await t.call('POST', '/v1/customers', {
      role: 'admin',
      body: { ...body, sms_consent: 'yes', sms_consent_at: '2024-03-01T00:00:00Z' },
    });
    expect((await history('c-2')).data.map((e) => [e.channel, e.status])).toEqual([
      ['sms', 'denied'],
      ['sms', 'granted'],
    ]);
  });

  it('writes nothing on a bad decision: unknown channel, unknown field in the proof', async () => {
    const bad = await t.call('PUT', '/v1/customers/c-1/consents/fax', {
      role: 'admin',
      body: { status: 'granted' },
    });
    expect(bad.status).toBe(400);
    const proof = await t.call('PUT', '/v1/customers/c-1/consents/sms', {
      role: 'admin',
      body: { status: 'granted', proof: { ip: '1.2.3.4', signature: 'x' } },
    });
    expect(proof.status).toBe(400);
    expect(JSON.stringify(proof.json)).toContain('signature');
    expect((await history('c-1')).data).toHaveLength(3);
  });

  it('keeps a contact locale and time zone from the API (canonical forms), refusing bad ones by field', async () => {
    const ok = await t.call('POST', '/v1/customers', {
      role: 'admin',
      body: { customer_id: 'c-3', locale: 'uk_ua', time_zone: 'europe/kyiv' },
    });
    expect(ok.json).toMatchObject({ locale: 'uk-UA', timeZone: 'Europe/Kyiv' });
    const bad = await t.call('POST', '/v1/customers', {
      role: 'admin',
      body: { customer_id: 'c-4', locale: 'ukrainian', time_zone: 'Mars/Base' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/locale|time_zone/);
    expect((await t.call('GET', '/v1/customers/c-4', { role: 'admin' })).status).toBe(404);
  });

  it('lets an analyst read the ledger but not write it', async () => {
    const put = await t.call('PUT', '/v1/customers/c-1/consents/sms', {
      role: 'analyst',
      body: { status: 'granted' },
    });
    expect(put.status).toBe(403);
  });
});

describe('migration 11 on a store that had consents before the ledger (DuckDB)', () => {
  it('carries each current consent into the ledger and accepts the ads channel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retain-ledger-'));
    const file = join(dir, 'old.duckdb');
    try {
      const old = await openDatabase({
        db: file,
        migrations: allMigrations().filter((m) => m.version <= 10),
      });
      await old.exec(
        `INSERT INTO customers (external_id, updated_at) VALUES ('old-1', TIMESTAMP '2024-01-01 00:00:00')`,
      );
      await old.exec(
        `INSERT INTO customer_consents (customer_id, channel, status, changed_at, source)
         SELECT customer_id, 'email', 'granted', TIMESTAMP '2023-05-01 10:00:00', 'checkout' FROM customers`,
      );
      await old.close();
      const db = await openDatabase({ db: file, migrations: allMigrations() });
      const ledger = await db.query(
        `SELECT channel, status, source, occurred_at, recorded_at FROM consent_ledger`,
      );
      expect(ledger).toEqual([
        {
          channel: 'email',
          status: 'granted',
          source: 'checkout',
          occurred_at: new Date('2023-05-01T10:00:00Z'),
          recorded_at: null,
        },
      ]);
      await db.exec(
        `INSERT INTO customer_consents (customer_id, channel, status) SELECT customer_id, 'ads', 'denied' FROM customers`,
      );
      expect(await db.query(`SELECT COUNT(*) AS n FROM customer_consents`)).toEqual([{ n: 2 }]);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
