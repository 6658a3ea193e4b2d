import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import type { Database } from '../../storage/port.js';

describe.each(testEngines())('order discount codes over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
  });
  afterAll(() => dispose());

  const order = (id: string, extra: Record<string, unknown> = {}) => ({
    order_id: id,
    customer_id: 'cust-a',
    ordered_at: '2024-02-01T10:00:00Z',
    currency: 'EUR',
    discount: '2.00',
    lines: [{ sku: 'MUG', quantity: 2, unit_price: '12.50' }],
    ...extra,
  });
  const post = (body: unknown) => t.call('POST', '/v1/orders', { role: 'admin', body });
  const get = (path: string) => t.call('GET', path, { role: 'analyst' });
  /** The stored code rows, `order code customer`. */
  const stored = async () =>
    (
      await db.query<{ external_id: string; code: string; customer: string | null }>(
        `SELECT o.external_id, d.code, c.external_id AS customer
         FROM order_discount_codes d JOIN orders o ON o.order_id = d.order_id
         LEFT JOIN customers c ON c.customer_id = d.customer_id ORDER BY o.external_id, d.code`,
      )
    ).map((r) => `${r.external_id} ${r.code} ${r.customer ?? '-'}`);

  it('POST /v1/orders takes an array of codes (or one comma-separated text); the order shows them', async () => {
    const created = await post(order('D-1', { discount_codes: ['spring20', ' Vip', 'SPRING20', ''] }));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'D-1', discountMinor: 200, discountCodes: ['SPRING20', 'VIP'] });
    expect((await post(order('D-1', { discount_codes: ['VIP', 'spring20'] }))).status).toBe(200);
    expect(await stored()).toEqual(['D-1 SPRING20 cust-a', 'D-1 VIP cust-a']);

    const text = await post(order('D-2', { discount_codes: 'welcome10, welcome10 ,' }));
    expect(text.json.discountCodes).toEqual(['WELCOME10']);
    const none = await post(order('D-3'));
    expect(none.json.discountCodes).toEqual([]);

    expect((await get('/v1/orders/D-1')).json.discountCodes).toEqual(['SPRING20', 'VIP']);
    const list = await get('/v1/orders?customerId=cust-a');
    expect(
      list.json.data.map((o: { id: string; discountCodes: string[] }) => [o.id, o.discountCodes]),
    ).toEqual([
      ['D-1', ['SPRING20', 'VIP']],
      ['D-2', ['WELCOME10']],
      ['D-3', []],
    ]);

    // Sent again with other codes, or none, the order's codes are replaced.
    const changed = await post(order('D-1', { discount_codes: ['autumn5'] }));
    expect(changed.status).toBe(200);
    expect(changed.json.discountCodes).toEqual(['AUTUMN5']);
    expect((await post(order('D-2'))).json.discountCodes).toEqual([]);
    expect(await stored()).toEqual(['D-1 AUTUMN5 cust-a']);
  });

  it('refuses codes it cannot store with a 400 naming discount_codes, writing nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [['ok', 'a,b'], /discount_codes: item 1 \('a,b'\) has a comma/],
      [['ok', 5.5e-9], /discount_codes: item 1: expected text, got an inexact number/],
      [[{ code: 'x' }], /discount_codes: item 0: expected text, got an object/],
      [
        ['x'.repeat(101)],
        /discount_codes: the code 'x{40}…' has 101 characters; a code may have at most 100/i,
      ],
      [
        Array.from({ length: 21 }, (_, i) => `c${i}`),
        /discount_codes: 21 different codes; an order may have at most 20/,
      ],
      [{ code: 'x' }, /discount_codes: expected text or a number, got an object/],
    ];
    for (const [codes, message] of cases) {
      const r = await post(order('D-BAD', { discount_codes: codes }));
      expect(r.status, JSON.stringify(codes)).toBe(400);
      expect(r.json.error.message).toMatch(message);
      expect(r.json.error.details.issues[0].path).toBe('discount_codes');
    }
    const onLine = await post(
      order('D-BAD', { lines: [{ sku: 'MUG', quantity: 1, unit_price: '1', discount_codes: 'X' }] }),
    );
    expect(onLine.status).toBe(400);
    expect(onLine.json.error.message).toMatch(/lines\.0\.discount_codes: is an order field/);
    expect((await get('/v1/orders/D-BAD')).status).toBe(404);
  });

  it('merging customers moves the codes to the survivor; erasure keeps them with the anonymous order', async () => {
    await post(order('M-1', { customer_id: 'cust-b', discount_codes: ['bfcm25'] }));
    const merged = await t.call('POST', '/v1/customers/cust-a/merge', {
      role: 'admin',
      body: { from: ['cust-b'] },
    });
    expect(merged.status).toBe(200);
    expect(await stored()).toEqual(['D-1 AUTUMN5 cust-a', 'M-1 BFCM25 cust-a']);

    expect((await t.call('POST', '/v1/customers/cust-a/erase', { role: 'admin' })).status).toBe(200);
    const [{ id } = { id: 0 }] = await db.query<{ id: number }>(
      `SELECT customer_id AS id FROM customers WHERE external_id LIKE 'erased-%'`,
    );
    expect(await stored()).toEqual([`D-1 AUTUMN5 erased-${id}`, `M-1 BFCM25 erased-${id}`]);
    expect((await get('/v1/orders/M-1')).json).toMatchObject({
      customerId: `erased-${id}`,
      discountCodes: ['BFCM25'],
    });
  });

  it('documents discount_codes (text or array) and discountCodes in the OpenAPI document', async () => {
    const doc = (await t.call('GET', '/openapi.json')).json as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(doc.components.schemas.OrderUpsert?.properties.discount_codes).toMatchObject({
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    });
    expect(doc.components.schemas.Order?.properties.discountCodes).toMatchObject({
      type: 'array',
      items: { type: 'string' },
    });
  });
});
