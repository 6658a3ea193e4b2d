import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';

describe.each(testEngines())('orders and refunds over HTTP on %s', (engine) => {
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
    customer_id: 'cust-1',
    email: 'Ann@Example.com',
    ordered_at: '2024-02-01T10:00:00Z',
    currency: 'EUR',
    shipping: '4.90',
    lines: [
      { sku: 'MUG', title: 'Mug', quantity: 2, unit_price: '12.50' },
      { sku: 'TEA', quantity: 1, unit_price: '7.00' },
    ],
    ...extra,
  });

  it('upserts an order by external id through the import merge; a replay changes nothing', async () => {
    const created = await t.call('POST', '/v1/orders', { role: 'admin', body: order('A-1') });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: 'A-1',
      customerId: 'cust-1',
      currency: 'EUR',
      subtotalMinor: 3200,
      shippingMinor: 490,
      totalMinor: 3690,
      status: 'paid',
      lineCount: 2,
      lines: [
        { lineNo: 1, sku: 'MUG', quantity: 2, unitPriceMinor: 1250, lineTotalMinor: 2500 },
        { lineNo: 2, sku: 'TEA', quantity: 1, unitPriceMinor: 700, lineTotalMinor: 700 },
      ],
    });
    const replay = await t.call('POST', '/v1/orders', { role: 'admin', body: order('A-1') });
    expect(replay.status).toBe(200);
    const [n] = await db.query<{ orders: number; lines: number }>(
      `SELECT (SELECT COUNT(*) FROM orders) AS orders, (SELECT COUNT(*) FROM order_lines) AS lines`,
    );
    expect(n).toEqual({ orders: 1, lines: 2 });
    const changed = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('A-1', { status: 'cancelled', lines: [{ sku: 'MUG', quantity: 1, unit_price: '12.50' }] }),
    });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ status: 'cancelled', lineCount: 1, subtotalMinor: 1250 });
  });

  it('rejects an invalid order with every issue, lines by index', async () => {
    const r = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('A-2', {
        ordered_at: 'yesterday',
        colour: 'red',
        lines: [
          { sku: 'MUG', quantity: 'two', unit_price: '1' },
          { sku: 'X', quantity: 1, unit_price: 'three' },
        ],
      }),
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('validation');
    const paths = r.json.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['colour', 'ordered_at', 'lines.0.quantity', 'lines.1.unit_price']),
    );
    expect((await t.call('GET', '/v1/orders/A-2', { role: 'admin' })).status).toBe(404);
  });

  it('lists orders with filters and cursor pagination; shows refunds on the order', async () => {
    for (let i = 0; i < 5; i++)
      await t.call('POST', '/v1/orders', {
        role: 'admin',
        body: order(`P-${i}`, {
          customer_id: i % 2 ? 'cust-odd' : 'cust-even',
          ordered_at: `2024-03-0${i + 1}T00:00:00Z`,
        }),
      });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/orders?limit=2&customerId=cust-even${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await t.call('GET', q, { role: 'analyst' });
      expect(r.status).toBe(200);
      expect(r.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.data.map((o: { id: string }) => o.id));
      cursor = r.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['P-0', 'P-2', 'P-4']);
    const ranged = await t.call('GET', '/v1/orders?from=2024-03-02T00:00:00Z&to=2024-03-04T00:00:00Z', {
      role: 'agent',
    });
    expect(ranged.json.data.map((o: { id: string }) => o.id)).toEqual(['P-1', 'P-2']);
    expect((await t.call('GET', '/v1/orders?limit=0', { role: 'admin' })).status).toBe(400);
    expect((await t.call('GET', '/v1/orders?cursor=garbage', { role: 'admin' })).status).toBe(400);

    const refund = {
      refund_id: 'R-1',
      order_id: 'P-0',
      amount: '5.00',
      currency: 'EUR',
      refunded_at: '2024-03-05T00:00:00Z',
      reason: 'broken',
    };
    const r1 = await t.call('POST', '/v1/refunds', { role: 'admin', body: refund });
    expect(r1.json).toMatchObject({ refundId: 'R-1', inserted: 1 });
    const r2 = await t.call('POST', '/v1/refunds', { role: 'admin', body: refund });
    expect(r2.json).toMatchObject({ inserted: 0, unchanged: 1 });
    const detail = await t.call('GET', '/v1/orders/P-0', { role: 'agent' });
    expect(detail.json.refunds).toEqual([
      {
        id: 'R-1',
        amountMinor: 500,
        currency: 'EUR',
        refundedAt: '2024-03-05T00:00:00.000Z',
        reason: 'broken',
      },
    ]);
    expect((await t.call('POST', '/v1/refunds', { role: 'admin', body: { refund_id: 'R-2' } })).status).toBe(
      400,
    );
    // No currency: the store's, as an import would assume.
    const { currency: _, ...noCurrency } = { ...refund, refund_id: 'R-3', amount: '1.25' };
    const r3 = await t.call('POST', '/v1/refunds', { role: 'admin', body: noCurrency });
    expect(r3.status).toBe(200);
    const again = await t.call('GET', '/v1/orders/P-0', { role: 'agent' });
    expect(again.json.refunds).toContainEqual(
      expect.objectContaining({ id: 'R-3', amountMinor: 125, currency: 'EUR' }),
    );
  });

  it('lets readers read and only admins write', async () => {
    expect((await t.call('POST', '/v1/orders', { role: 'analyst', body: order('Z') })).status).toBe(403);
    expect((await t.call('POST', '/v1/orders', { role: 'marketer', body: order('Z') })).status).toBe(403);
    expect((await t.call('POST', '/v1/refunds', { role: 'agent', body: {} })).status).toBe(403);
    expect((await t.call('GET', '/v1/orders')).status).toBe(401);
    for (const role of ['admin', 'analyst', 'marketer', 'agent'] as const)
      expect((await t.call('GET', '/v1/orders/A-1', { role })).status).toBe(200);
  });
  it('refuses amounts it cannot store exactly, and negative discounts, with 400 naming the field; nothing written', async () => {
    const count = async () => (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM orders'))[0]!.n;
    const before = await count();
    const cases: [Record<string, unknown>, string][] = [
      [{ order_total: '92233720368547758.08', lines: [] }, 'order_total'],
      [{ order_total: '99999999999999999999999', lines: [] }, 'order_total'],
      [{ order_total: '90071992547409.93', lines: [] }, 'order_total'],
      [{ shipping: '92233720368547758.08' }, 'shipping'],
      [
        {
          lines: [
            { sku: 'A', quantity: 1, unit_price: '90071992547409.91' },
            { sku: 'B', quantity: 1, unit_price: '90071992547409.91' },
          ],
        },
        'unit_price',
      ],
      [{ lines: [{ sku: 'A', quantity: 1, unit_price: '9223372036854775808' }] }, 'unit_price'],
      [{ lines: [{ sku: 'A', quantity: 2147483647, unit_price: '99999999999' }] }, 'quantity'],
      [{ lines: [{ sku: 'A', quantity: 5000, unit_price: '99999999999' }] }, 'unit_price'],
      [{ discount: '-100' }, 'discount'],
    ];
    for (const [extra, field] of cases) {
      const r = await t.call('POST', '/v1/orders', { role: 'admin', body: order('BIG-1', extra) });
      expect(r.status, JSON.stringify(extra)).toBe(400);
      expect(JSON.stringify(r.json), JSON.stringify(extra)).toContain(field);
    }
    expect(await count()).toBe(before);
    // The largest amount stored is stored exactly and reads back the same.
    const max = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('BIG-2', { order_total: '10000000000.00', shipping: undefined, lines: [] }),
    });
    expect(max.status).toBe(201);
    const back = await t.call('GET', '/v1/orders/BIG-2', { role: 'admin' });
    expect(back.json).toMatchObject({ totalMinor: 1_000_000_000_000 });
  });
});
