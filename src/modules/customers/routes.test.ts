import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';

describe.each(testEngines())('customers over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const now = new Date('2024-06-01T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock: { now: () => now } });
  });
  afterAll(() => dispose());

  it('stores a phone that looks like a date beside a birthday (DuckDB once guessed a date format from it: 500)', async () => {
    const body = { customer_id: 'fuzz-phone', phone: '4 8 31', birthday: '1990-05-17' };
    const created = await t.call('POST', '/v1/customers', { role: 'admin', body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'fuzz-phone', phone: '4 8 31', birthday: '1990-05-17' });
  });

  it('creates, updates and reads a customer with the import columns', async () => {
    const body = {
      customer_id: 'c-1',
      email: 'Ann@Example.COM',
      first_name: 'Ann',
      country: 'DE',
      acquisition_channel: 'Email',
      birthday: '1990-04-02',
      email_consent: 'yes',
      email_consent_at: '2024-01-01T00:00:00Z',
    };
    const created = await t.call('POST', '/v1/customers', { role: 'admin', body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: 'c-1',
      email: 'ann@example.com',
      firstName: 'Ann',
      birthday: '1990-04-02',
      acquisitionChannel: 'email',
      consent: {
        email: { status: 'granted', changedAt: '2024-01-01T00:00:00.000Z' },
        sms: null,
        messenger: null,
      },
    });
    const same = await t.call('PUT', '/v1/customers/c-1', {
      role: 'admin',
      body: { ...body, customer_id: undefined },
    });
    expect(same.status).toBe(200);
    // A field the body leaves out keeps its value (PUT updates; it never wipes what it was not sent).
    const updated = await t.call('PUT', '/v1/customers/c-1', {
      role: 'admin',
      body: { email: 'new@example.com' },
    });
    expect(updated.json).toMatchObject({
      email: 'new@example.com',
      firstName: 'Ann',
      birthday: '1990-04-02',
      consent: { email: { status: 'granted' } },
    });
    const mismatch = await t.call('PUT', '/v1/customers/c-1', {
      role: 'admin',
      body: { customer_id: 'c-2' },
    });
    expect(mismatch.status).toBe(400);
    const bad = await t.call('POST', '/v1/customers', {
      role: 'admin',
      body: { customer_id: 'c-3', email: 'nope', birthday: '1990-02-30' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['email', 'birthday']);
    expect((await t.call('GET', '/v1/customers/c-1', { role: 'agent' })).json.id).toBe('c-1');
    expect((await t.call('GET', '/v1/customers/missing', { role: 'agent' })).status).toBe(404);
    expect((await t.call('POST', '/v1/customers', { role: 'marketer', body })).status).toBe(403);
    expect((await t.call('PUT', '/v1/customers/c-1', { role: 'analyst', body })).status).toBe(403);
  });

  it('records consent per channel (agents and marketers may, analysts may not)', async () => {
    const r = await t.call('PUT', '/v1/customers/c-1/consents/sms', {
      role: 'agent',
      body: { status: 'unsubscribed', source: 'support call' },
    });
    expect(r.status).toBe(200);
    expect(r.json.consent.sms).toEqual({
      status: 'unsubscribed',
      changedAt: now.toISOString(),
      source: 'support call',
    });
    const again = await t.call('PUT', '/v1/customers/c-1/consents/sms', {
      role: 'marketer',
      body: { status: 'granted' },
    });
    expect(again.json.consent.sms).toMatchObject({ status: 'granted', source: 'api' });
    expect(
      (
        await t.call('PUT', '/v1/customers/c-1/consents/sms', {
          role: 'analyst',
          body: { status: 'granted' },
        })
      ).status,
    ).toBe(403);
    const bad = await t.call('PUT', '/v1/customers/c-1/consents/sms', {
      role: 'admin',
      body: { status: 'maybe' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues[0].path).toBe('status');
    expect(
      (await t.call('PUT', '/v1/customers/c-1/consents/fax', { role: 'admin', body: { status: 'granted' } }))
        .status,
    ).toBe(400);
  });

  it('lists with filters and cursor pagination', async () => {
    for (let i = 0; i < 7; i++)
      await t.call('POST', '/v1/customers', {
        role: 'admin',
        body: {
          customer_id: `p-${i}`,
          country: i % 2 ? 'FR' : 'DE',
          created_at: `2024-01-0${i + 1}T00:00:00Z`,
        },
      });
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await t.call('GET', `/v1/customers?limit=3&country=DE${cursor ? `&cursor=${cursor}` : ''}`, {
        role: 'analyst',
      });
      ids.push(...r.json.data.map((c: { id: string }) => c.id));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor);
    expect(ids).toEqual(['c-1', 'p-0', 'p-2', 'p-4', 'p-6']); // c-1 kept its country through the PUT
    expect(pages).toBe(2);
    const created = await t.call(
      'GET',
      '/v1/customers?createdFrom=2024-01-03T00:00:00Z&createdTo=2024-01-05T00:00:00Z',
      { role: 'analyst' },
    );
    expect(created.json.data.map((c: { id: string }) => c.id)).toEqual(['p-2', 'p-3']);
    const email = await t.call('GET', '/v1/customers?email=NEW@example.com', { role: 'analyst' });
    expect(email.json.data.map((c: { id: string }) => c.id)).toEqual(['c-1']);
    expect((await t.call('GET', '/v1/customers?createdFrom=yesterday', { role: 'analyst' })).status).toBe(
      400,
    );
  });

  it('shows a timeline of orders, refunds and events, newest first, paginated', async () => {
    await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: {
        order_id: 'o-1',
        customer_id: 'c-1',
        ordered_at: '2024-02-01T00:00:00Z',
        currency: 'EUR',
        order_total: '20.00',
      },
    });
    await t.call('POST', '/v1/refunds', {
      role: 'admin',
      body: {
        refund_id: 'r-1',
        order_id: 'o-1',
        amount: '5',
        currency: 'EUR',
        refunded_at: '2024-02-03T00:00:00Z',
      },
    });
    await t.call('POST', '/v1/events', {
      role: 'admin',
      body: {
        events: [
          {
            event_id: 'e-1',
            customer_id: 'c-1',
            type: 'view',
            occurred_at: '2024-02-02T00:00:00Z',
            properties: { p: 1 },
          },
          { event_id: 'e-2', customer_id: 'c-1', type: 'view', occurred_at: '2024-02-01T00:00:00Z' },
        ],
      },
    });
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await t.call(
        'GET',
        `/v1/customers/c-1/timeline?kinds=order,refund,event&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { role: 'agent' },
      );
      expect(r.status).toBe(200);
      all.push(...r.json.data.map((e: { kind: string; id: string }) => `${e.kind}:${e.id}`));
      cursor = r.json.nextCursor;
    } while (cursor);
    expect(all).toEqual(['refund:r-1', 'event:e-1', 'order:o-1', 'event:e-2']);
    const orders = await t.call('GET', '/v1/customers/c-1/timeline?kinds=order,refund', { role: 'agent' });
    expect(orders.json.data).toMatchObject([
      { kind: 'refund', amountMinor: 500, currency: 'EUR' },
      { kind: 'order', amountMinor: 2000, detail: 'paid' },
    ]);
    expect((await t.call('GET', '/v1/customers/c-1/timeline?kinds=emails', { role: 'agent' })).status).toBe(
      400,
    );
  });
});
