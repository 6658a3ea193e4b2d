import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import type { Database } from '../../storage/port.js';

describe.each(testEngines())('GDPR export and erasure on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const now = new Date('2024-06-01T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock: { now: () => now } });
    const admin = (method: string, path: string, body?: unknown) =>
      t.call(method, path, { role: 'admin', body });
    expect(
      (
        await admin('POST', '/v1/customers', {
          customer_id: 'ann@example.com',
          email: 'ann@example.com',
          phone: '+380501112233',
          first_name: 'Ann',
          birthday: '1990-04-02',
        })
      ).status,
    ).toBe(201);
    await admin('PUT', '/v1/customers/ann@example.com/consents/email', {
      status: 'granted',
      source: 'checkout',
      proof: { ip: '203.0.113.9', userAgent: 'Firefox', formText: 'Send me news' },
    });
    expect(
      (
        await admin('POST', '/v1/orders', {
          order_id: 'O-1',
          customer_id: 'ann@example.com',
          ordered_at: '2024-05-01T10:00:00Z',
          currency: 'EUR',
          lines: [{ sku: 'S1', quantity: '2', unit_price: '10.00' }],
        })
      ).status,
    ).toBe(201);
    const events = await admin('POST', '/v1/events', {
      events: [
        {
          event_id: 'e-1',
          type: 'page_view',
          customer_id: 'ann@example.com',
          occurred_at: '2024-05-02T10:00:00Z',
          properties: { url: '/account?email=ann@example.com' },
        },
      ],
    });
    expect(events.json).toMatchObject({ inserted: 1 });
  });
  afterAll(() => dispose());

  it('exports everything kept about the customer as one JSON document', async () => {
    const forbidden = await t.call('GET', '/v1/customers/ann@example.com/export', { role: 'agent' });
    expect(forbidden.status).toBe(403);
    const r = await t.call('GET', '/v1/customers/ann@example.com/export', { role: 'analyst' });
    expect(r.status).toBe(200);
    expect(r.json.customer[0]).toMatchObject({
      email: 'ann@example.com',
      first_name: 'Ann',
      phone: '+380501112233',
    });
    expect(r.json.consentLedger).toEqual([
      expect.objectContaining({ ip: '203.0.113.9', form_text: 'Send me news' }),
    ]);
    expect(r.json.orders).toHaveLength(1);
    expect(r.json.orderLines).toHaveLength(1);
    expect(r.json.events).toEqual([expect.objectContaining({ event_id: 'e-1' })]);
    // What the other modules hold about the customer is in it too (empty here).
    for (const k of [
      'loyaltyEntries',
      'flowRuns',
      'tasks',
      'notes',
      'tagChanges',
      'surveyAnswers',
      'subscriptions',
      'messageEngagement',
    ])
      expect(r.json[k], k).toEqual([]);
  });

  it('erases personal data, keeps the order as an anonymous fact, and logs the erasure', async () => {
    const before = await db.query<{ n: number; revenue: number }>(
      `SELECT COUNT(*) AS n, SUM(total_minor) AS revenue FROM orders`,
    );
    const r = await t.call('POST', '/v1/customers/ann@example.com/erase', { role: 'admin' });
    expect(r.status).toBe(200);
    const anon = r.json.nowKnownAs as string;
    expect(anon).toMatch(/^erased-\d+$/);
    expect((await t.call('GET', '/v1/customers/ann@example.com', { role: 'admin' })).status).toBe(404);
    const [c] = await db.query(
      `SELECT email, phone, first_name, birthday, erased_at FROM customers WHERE external_id = $1`,
      [anon],
    );
    expect(c).toEqual({ email: null, phone: null, first_name: null, birthday: null, erased_at: now });
    expect(
      await db.query(
        `SELECT n, revenue FROM (SELECT COUNT(*) AS n, SUM(total_minor) AS revenue FROM orders) x`,
      ),
    ).toEqual(before);
    expect(await db.query(`SELECT ip, user_agent, form_text FROM consent_ledger`)).toEqual([
      { ip: null, user_agent: null, form_text: null },
    ]);
    expect(await db.query(`SELECT properties FROM events`)).toEqual([{ properties: null }]);
    const logged = await db.query<{ ref: string; label: string }>(
      `SELECT ref, label FROM domain_events WHERE type = 'customer.erased'`,
    );
    expect(logged).toEqual([{ ref: anon, label: expect.any(String) }]);
    expect(logged[0]!.label).not.toBe('api'); // the principal who erased
    const leaks = await db.query(`SELECT COUNT(*) AS n FROM domain_events WHERE ref = 'ann@example.com'`);
    expect(leaks).toEqual([{ n: 0 }]);
  });
});
