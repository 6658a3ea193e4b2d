import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { customerHooks } from '../../kit/customerHooks.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { importFile } from '../imports/service.js';
import { OWN_CUSTOMER_TABLES } from './repository.js';
import { jsonCli } from '../../../test/support/cli.js';

/** Every table of the store with a `customer_id` column (the catalog, on either engine). */
async function customerTables(db: Database): Promise<string[]> {
  const rows = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns
     WHERE column_name = 'customer_id' AND table_schema = current_schema() ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** Row counts of every table that has a customer_id (what a refused merge must leave as it was). */
async function snapshot(db: Database): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of await customerTables(db))
    out[t] = await db.query(
      `SELECT customer_id, COUNT(*) AS n FROM ${t} GROUP BY customer_id ORDER BY customer_id`,
    );
  out.aliases = await db.query(`SELECT * FROM customer_aliases ORDER BY external_id`);
  return out;
}

describe.each(testEngines())('merging duplicate customers on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2024-06-01T12:00:00Z');
  const dir = mkdtempSync(join(tmpdir(), 'retain-merge-'));
  const admin = (method: string, path: string, body?: unknown) =>
    t.call(method, path, { role: 'admin', body });
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    const customer = async (body: Record<string, unknown>) =>
      expect((await admin('POST', '/v1/customers', body)).status).toBe(201);
    await customer({
      customer_id: 'ann',
      email: 'ann@example.com',
      country: 'UA',
      created_at: '2023-01-01T00:00:00Z',
    });
    await customer({
      customer_id: 'ann-old',
      email: ' Ann@Example.com',
      phone: '+380 50 111 2233',
      first_name: 'Ann',
      country: 'PL',
      created_at: '2022-05-01T00:00:00Z',
    });
    await customer({ customer_id: 'ann-shop', email: 'ANN@example.com', last_name: 'Lee' });
    await customer({ customer_id: 'bob', email: 'bob@example.com', phone: '+380501112233' });
    await customer({ customer_id: 'cy', email: 'cy@example.com' });
    for (const r of await db.query<{ external_id: string; customer_id: number }>(
      `SELECT external_id, customer_id FROM customers`,
    ))
      ids[r.external_id] = r.customer_id;
    // Consents: ann granted email in 2024-03; ann-old unsubscribed later (2024-04), granted sms.
    const consent = (id: string, channel: string, status: string, changedAt: string) =>
      admin('PUT', `/v1/customers/${id}/consents/${channel}`, { status, changedAt, source: 'checkout' });
    await consent('ann', 'email', 'granted', '2024-03-01T00:00:00Z');
    await consent('ann-old', 'email', 'unsubscribed', '2024-04-01T00:00:00Z');
    await consent('ann-old', 'sms', 'granted', '2024-02-01T00:00:00Z');
    await consent('ann-shop', 'email', 'granted', '2024-01-01T00:00:00Z');
    // ann-old's orders, a refund and events (one linking an anonymous id).
    const order = (id: string, customer: string) =>
      admin('POST', '/v1/orders', {
        order_id: id,
        customer_id: customer,
        ordered_at: '2024-05-01T10:00:00Z',
        currency: 'EUR',
        lines: [{ sku: 'S1', quantity: '1', unit_price: '10.00' }],
      });
    expect((await order('O-1', 'ann-old')).status).toBe(201);
    expect((await order('O-2', 'ann')).status).toBe(201);
    expect((await order('O-3', 'ann-shop')).status).toBe(201);
    expect(
      (
        await admin('POST', '/v1/refunds', {
          refund_id: 'R-1',
          order_id: 'O-1',
          customer_id: 'ann-old',
          amount: '5.00',
          currency: 'EUR',
          refunded_at: '2024-05-02T10:00:00Z',
        })
      ).json,
    ).toMatchObject({ refundId: 'R-1', inserted: 1 });
    await admin('POST', '/v1/events', {
      events: [
        {
          event_id: 'e-1',
          type: 'login',
          customer_id: 'ann-old',
          anonymous_id: 'anon-1',
          occurred_at: '2024-05-01T09:00:00Z',
        },
        { event_id: 'e-2', type: 'page_view', anonymous_id: 'anon-1', occurred_at: '2024-05-01T09:30:00Z' },
      ],
    });
    // Other modules' rows: a message, a messenger chat, a prediction, a kept order history.
    const old = ids['ann-old']!;
    await db.exec(
      `INSERT INTO message_sends (send_key, customer_id, channel, kind, source, step, occurrence, template,
         template_version, status, address, not_before, created_at, updated_at)
       VALUES ('manual/welcome/${old}/1', $1, 'email', 'marketing', 'manual', 'welcome', '1', 'welcome', 1, 'sent',
         'ann@example.com', $2::timestamp, $2::timestamp, $2::timestamp)`,
      [old, clock.now()],
    );
    await db.exec(
      `INSERT INTO messenger_chats (customer_id, chat_id, linked_at) VALUES ($1, 'chat-9', $2::timestamp)`,
      [old, clock.now()],
    );
    await db.exec(
      `INSERT INTO clv_predictions (customer_id, model_version, as_of, horizon, time_unit, expected_purchases, p_alive,
         currency, created_at)
       VALUES ($1, 'm1', $2::timestamp, 12, 'month', 1.5, 0.8, 'EUR', $2::timestamp),
              ($3, 'm1', $2::timestamp, 12, 'month', 0.5, 0.4, 'EUR', $2::timestamp)`,
      [old, clock.now(), ids.ann!],
    );
    await db.exec(
      `INSERT INTO reco_histories (model_id, customer_id, orders, history) VALUES (1, $1, 1, '1'), (1, $2, 1, '1')`,
      [old, ids.ann!],
    );
  });
  afterAll(async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every table with a customer_id is handled by the customers service or a module’s hook', async () => {
    const handled = new Set([...OWN_CUSTOMER_TABLES, ...customerHooks().flatMap((h) => h.tables)]);
    const missing = (await customerTables(db)).filter((tb) => !handled.has(tb));
    expect(missing, 'tables with customer_id that no erase/merge hook claims').toEqual([]);
  });

  it('lists duplicates by canonical email and, separately, by phone', async () => {
    const r = await admin('GET', '/v1/customers/duplicates');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      email: {
        groups: 1,
        customers: 3,
        data: [{ key: 'ann@example.com', count: 3, customers: ['ann', 'ann-old', 'ann-shop'] }],
      },
      phone: {
        groups: 1,
        customers: 2,
        data: [{ key: '+380501112233', count: 2, customers: ['ann-old', 'bob'] }],
      },
    });
    expect((await admin('GET', '/v1/customers/duplicates?limit=0')).status).toBe(400);
  });

  it('refuses bad merges with a clear error naming the id, writing nothing', async () => {
    const before = await snapshot(db);
    const merge = (into: string, body: unknown, role: 'admin' | 'analyst' = 'admin') =>
      t.call('POST', `/v1/customers/${into}/merge`, { role, body });
    const cases: [string, unknown, number, RegExp, string?][] = [
      ['ann', { from: ['ann'] }, 400, /from\[0\]: cannot merge customer ann into itself/, 'from[0]'],
      ['nobody', { from: ['ann-old'] }, 404, /no customer with id nobody/, 'id'],
      ['ann', { from: ['ann-old', 'ghost'] }, 404, /no customer with id ghost/, 'from[1]'],
      ['ann', { from: ['ann-old', 'ann-old'] }, 400, /from\[1\]: ann-old is named twice/, 'from[1]'],
      ['ann', { from: [] }, 400, /at least one/],
      ['ann', { from: 'ann-old' }, 400, /from/],
      ['ann', { from: ['ann-old'], extra: 1 }, 400, /extra/],
    ];
    for (const [into, body, status, message, field] of cases) {
      const r = await merge(into, body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error.message).toMatch(message);
      if (field) expect(r.json.error.details).toMatchObject({ field });
    }
    expect((await merge('ann', { from: ['ann-old'] }, 'analyst')).status).toBe(403);
    // An erased customer cannot take part.
    expect((await admin('POST', '/v1/customers/cy/erase')).status).toBe(200);
    const erased = `erased-${ids.cy}`;
    const intoErased = await merge(erased, { from: ['ann-old'] });
    expect(intoErased.status).toBe(409);
    expect(intoErased.json.error.message).toMatch(new RegExp(`customer ${erased} is erased`));
    const fromErased = await merge('ann', { from: ['ann-old', erased] });
    expect(fromErased.status).toBe(409);
    expect(fromErased.json.error.details).toMatchObject({ field: 'from[1]' });
    const after = await snapshot(db);
    // The erasure itself wrote (cy's outbox event); the merges nothing.
    expect({ ...after, domain_events: null }).toEqual({ ...before, domain_events: null });
  });

  it('moves everything to the survivor in one transaction and keeps the merged ids as aliases', async () => {
    const r = await admin('POST', '/v1/customers/ann/merge', { from: ['ann-old', 'ann-shop'] });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      into: 'ann',
      merged: ['ann-old', 'ann-shop'],
      consentsChanged: ['email', 'sms'],
      filled: ['phone', 'first_name', 'last_name'],
      customer: {
        id: 'ann',
        email: 'ann@example.com',
        phone: '+380 50 111 2233',
        firstName: 'Ann',
        lastName: 'Lee',
        country: 'UA', // the survivor's own value stays
        createdAt: '2022-05-01T00:00:00.000Z', // the earliest
        consent: {
          email: { status: 'unsubscribed', source: 'merge', changedAt: '2024-04-01T00:00:00.000Z' },
          sms: { status: 'granted', source: 'merge' },
        },
      },
    });
    const ann = ids.ann!;
    const gone = [ids['ann-old']!, ids['ann-shop']!];
    // No row of any customer-owned table names a merged customer (the outbox keeps its history).
    for (const tb of await customerTables(db)) {
      if (tb === 'domain_events') continue;
      const [n] = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM ${tb} WHERE customer_id IN (${gone.join(', ')})`,
      );
      expect(n, tb).toEqual({ n: 0 });
    }
    const count = (sql: string) => db.query<{ n: number }>(sql, [ann]).then((x) => x[0]?.n);
    expect(await count(`SELECT COUNT(*) AS n FROM orders WHERE customer_id = $1`)).toBe(3);
    expect(await count(`SELECT COUNT(*) AS n FROM order_lines WHERE customer_id = $1`)).toBe(3);
    expect(await count(`SELECT COUNT(*) AS n FROM refunds WHERE customer_id = $1`)).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM events WHERE customer_id = $1`)).toBe(2);
    expect(await count(`SELECT COUNT(*) AS n FROM identity_links WHERE customer_id = $1`)).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM message_sends WHERE customer_id = $1`)).toBe(1);
    expect(await db.query(`SELECT customer_id, chat_id FROM messenger_chats`)).toEqual([
      { customer_id: ann, chat_id: 'chat-9' },
    ]);
    // Derived data: the merged ones' rows dropped, the survivor's kept until recomputed.
    expect(await db.query(`SELECT customer_id FROM clv_predictions`)).toEqual([{ customer_id: ann }]);
    expect(await db.query(`SELECT customer_id FROM reco_histories`)).toEqual([{ customer_id: ann }]);
    // The ledgers joined (entries kept, re-pointed) plus the merge's entries.
    const history = await admin('GET', '/v1/customers/ann/consents/history?channel=email');
    expect(
      history.json.data.map((e: { status: string; source: string }) => `${e.status}/${e.source}`),
    ).toEqual(['granted/checkout', 'unsubscribed/checkout', 'granted/checkout', 'unsubscribed/merge']);
    expect(
      await db.query(`SELECT customer_id, external_id FROM customer_aliases ORDER BY external_id`),
    ).toEqual([
      { customer_id: ann, external_id: 'ann-old' },
      { customer_id: ann, external_id: 'ann-shop' },
    ]);
    expect(
      await db.query(`SELECT COUNT(*) AS n FROM customers WHERE external_id IN ('ann-old', 'ann-shop')`),
    ).toEqual([{ n: 0 }]);
    // The outbox: one customer.merged per merged customer, and the email consent's change.
    const events = await admin('GET', '/v1/domain-events?type=customer.merged,consent.changed&limit=100');
    const merged = events.json.data.filter((e: { type: string }) => e.type === 'customer.merged');
    expect(merged.map((e: { customer_id: number; payload: unknown }) => [e.customer_id, e.payload])).toEqual([
      [ann, { external_id: 'ann', merged_customer_id: gone[0], merged_external_id: 'ann-old' }],
      [ann, { external_id: 'ann', merged_customer_id: gone[1], merged_external_id: 'ann-shop' }],
    ]);
    const changes = events.json.data.filter(
      (e: { type: string; customer_id: number }) => e.type === 'consent.changed' && e.customer_id === ann,
    );
    expect(changes.at(-1).payload).toMatchObject({ channel: 'sms', from: null, to: 'granted' });
    expect(changes.at(-2).payload).toMatchObject({ channel: 'email', from: 'granted', to: 'unsubscribed' });
  });

  it('a merged id then resolves to the survivor: orders, events, customers files and the routes', async () => {
    const customers = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM customers`);
    const order = await admin('POST', '/v1/orders', {
      order_id: 'O-9',
      customer_id: 'ann-old',
      ordered_at: '2024-06-01T10:00:00Z',
      currency: 'EUR',
      lines: [{ sku: 'S1', quantity: '1', unit_price: '10.00' }],
    });
    expect(order.status).toBe(201);
    const [o] = await db.query(`SELECT customer_id FROM orders WHERE external_id = 'O-9'`);
    expect(o).toEqual({ customer_id: ids.ann });
    await admin('POST', '/v1/events', {
      events: [
        { event_id: 'e-9', type: 'page_view', customer_id: 'ann-shop', occurred_at: '2024-06-01T10:00:00Z' },
      ],
    });
    expect(await db.query(`SELECT customer_id FROM events WHERE event_id = 'e-9'`)).toEqual([
      { customer_id: ids.ann },
    ]);
    // A customers file: ann-old's row updates ann; with ann's own row in the file, ann's wins.
    const f = join(dir, 'customers.csv');
    writeFileSync(f, 'customer_id,last_name,locale\nann-old,Lee-Old,uk\n');
    const ctx = testContext(db, clock);
    expect(await importFile(ctx, { entity: 'customers', file: f })).toMatchObject({
      inserted: 0,
      updated: 1,
    });
    writeFileSync(f, 'customer_id,last_name\nann,Lee\nann-shop,Shop\n');
    expect(await importFile(ctx, { entity: 'customers', file: f })).toMatchObject({
      inserted: 0,
      updated: 1,
    });
    expect(await db.query(`SELECT COUNT(*) AS n FROM customers`)).toEqual(customers);
    const listed = await admin('GET', '/v1/orders?customerId=ann-shop&limit=10');
    expect(listed.json.data.map((x: { id: string }) => x.id)).toEqual(['O-1', 'O-2', 'O-3', 'O-9']);
    const got = await admin('GET', '/v1/customers/ann-old');
    expect(got.json).toMatchObject({ id: 'ann', lastName: 'Lee', locale: 'uk' });
    // A template preview for the old id renders the survivor.
    const saved = await admin('PUT', '/v1/templates/hello', {
      channel: 'email',
      kind: 'transactional',
      variants: [
        {
          locale: 'en',
          subject: 'Hi',
          body: '<mjml><mj-body><mj-section><mj-column><mj-text>id {{ customer.external_id }}</mj-text></mj-column></mj-section></mj-body></mjml>',
        },
      ],
    });
    expect(saved.status).toBe(201);
    const preview = await admin('POST', '/v1/templates/hello/preview', { customer: 'ann-old' });
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect(preview.json.text).toContain('id ann');
    const exported = await admin('GET', '/v1/customers/ann/export');
    expect(exported.json.mergedIds.map((m: { external_id: string }) => m.external_id)).toEqual([
      'ann-old',
      'ann-shop',
    ]);
    // Merging an id that is already an alias of the survivor is refused, naming where it went.
    const again = await admin('POST', '/v1/customers/ann/merge', { from: ['ann-old'] });
    expect(again.status).toBe(400);
    expect(again.json.error.message).toMatch(/ann-old was already merged into ann/);
  });

  it('retain contacts duplicates and merge (which asks for --yes)', async () => {
    // The CLI on a DuckDB file of its own (the command opens the store named by --db).
    const file = join(dir, `cli-${engine}.duckdb`);
    const run = jsonCli(file);
    const f = join(dir, 'cli-customers.csv');
    writeFileSync(f, 'customer_id,email\nx1,x@example.com\nx2,X@example.com\n');
    await run('import', 'customers', f);
    expect(await run('contacts', 'duplicates')).toMatchObject({
      email: { groups: 1, data: [{ key: 'x@example.com', customers: ['x1', 'x2'] }] },
    });
    await expect(run('contacts', 'merge', 'x1', 'x2')).rejects.toThrow(/add --yes/);
    expect(await run('contacts', 'merge', 'x1', 'x2', '--yes')).toMatchObject({ into: 'x1', merged: ['x2'] });
    expect(await run('contacts', 'duplicates')).toMatchObject({ email: { groups: 0, data: [] } });
  });
});
