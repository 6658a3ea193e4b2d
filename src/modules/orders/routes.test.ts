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

  it('takes JSON numbers when they are exact, and refuses the rest with 400 naming the path; nothing written', async () => {
    const count = async () => (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM orders'))[0]!.n;
    const ok = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('NUM-1', {
        order_id: 1001,
        shipping: 4.9,
        lines: [{ sku: 7, quantity: 3, unit_price: 0.1 }],
      }),
    });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({
      id: '1001',
      shippingMinor: 490,
      subtotalMinor: 30,
      lines: [{ sku: '7', quantity: 3, unitPriceMinor: 10, lineTotalMinor: 30 }],
    });
    const before = await count();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ shipping: 0.1 + 0.2 }, 'shipping', 'send it as a string, e.g. "90071992547409.93"'],
      [{ order_total: Number('90071992547409.93') }, 'order_total', 'send it as a string'],
      [{ lines: [{ sku: 'A', quantity: 1e21, unit_price: '1' }] }, 'lines.0.quantity', 'JSON number 1e+21'],
      [{ lines: [{ sku: 'A', quantity: 1, unit_price: 1e-7 }] }, 'lines.0.unit_price', 'JSON number 1e-7'],
      [{ order_id: Number('9007199254740993') }, 'order_id', 'send it as a string'],
      [{ channel: true }, 'channel', 'expected text, got true'],
      [{ lines: [{ sku: { a: 1 }, quantity: 1, unit_price: '1' }] }, 'lines.0.sku', 'got an object'],
      [{ source: ['web'] }, 'source', 'got an array'],
      [
        { lines: [{ sku: 'A', quantity: 1, unit_price: '1', colour: 'red' }] },
        'lines.0.colour',
        'not a line field',
      ],
      [
        { lines: [{ sku: 'A', quantity: 1, unit_price: '1', currency: 'EUR' }] },
        'lines.0.currency',
        'order field',
      ],
      [{ channel: 'web\u0000' }, 'channel', 'NUL'],
      [{ channel: 'web\ud800' }, 'channel', 'lone UTF-16 surrogate'],
    ];
    for (const [extra, path, message] of cases) {
      const body = JSON.stringify(order('NUM-2', extra)).replace(/\\\\u/g, '\\u');
      const r = await t.call('POST', '/v1/orders', { role: 'admin', body });
      expect(r.status, body).toBe(400);
      const issue = (r.json.error.details.issues as { path: string; message: string }[]).find(
        (i) => i.path === path,
      );
      expect(issue?.message, body).toContain(message);
    }
    expect(await count()).toBe(before);
  });

  it('refuses a line_total that is not quantity × unit_price and an order_total that does not add up, naming the parts', async () => {
    const line = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('TOT-1', {
        lines: [{ sku: 'MUG', quantity: 2, unit_price: '12.50', line_total: '20.00' }],
      }),
    });
    expect(line.status).toBe(400);
    expect(line.json.error.message).toBe(
      "invalid order: lines.0.line_total: 20.00 is not quantity × unit_price (2 × 12.50 = 25.00); send prices before discounts and the discount as the order's discount",
    );
    // Rounded once or per unit: both are how stores compute a line (3 × 0.125 = 0.375 → 0.38; 3 × 0.13 = 0.39).
    for (const [id, lt] of [
      ['TOT-2', '0.38'],
      ['TOT-3', '0.39'],
    ] as const) {
      const r = await t.call('POST', '/v1/orders', {
        role: 'admin',
        body: order(id, {
          shipping: undefined,
          lines: [{ sku: 'X', quantity: 3, unit_price: '0.125', line_total: lt }],
        }),
      });
      expect(r.status, id).toBe(201);
    }
    const total = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('TOT-4', { discount: '2.00', tax: '3.00', order_total: '40.00' }),
    });
    expect(total.status).toBe(400);
    expect(total.json.error.details.issues).toEqual([
      {
        path: 'order_total',
        message:
          "40.00 is neither subtotal − discount + shipping + tax (32.00 − 2.00 + 4.90 + 3.00 = 37.90) nor, tax included in the prices, subtotal − discount + shipping (34.90); the subtotal is the lines' line_total (quantity × unit_price). Put fees and other charges in shipping, or leave order_total out",
      },
    ]);
    for (const [id, t0] of [
      ['TOT-5', '37.90'],
      ['TOT-6', '34.90'],
    ] as const) {
      const r = await t.call('POST', '/v1/orders', {
        role: 'admin',
        body: order(id, { discount: '2.00', tax: '3.00', order_total: t0 }),
      });
      expect(r.status, id).toBe(201);
      expect(r.json.totalMinor).toBe(Math.round(Number(t0) * 100));
    }
    expect((await t.call('GET', '/v1/orders/TOT-4', { role: 'admin' })).status).toBe(404);
  });

  it('reads a blank text value as absent, as an empty one (fuzz seed 1: title " " was stored as "")', async () => {
    const r = await t.call('POST', '/v1/orders', {
      role: 'admin',
      body: order('BLANK-1', {
        channel: '  ',
        lines: [{ sku: 'c#l', title: ' ', quantity: '20', unit_price: '1.00' }],
      }),
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ channel: null, lines: [{ sku: 'c#l', title: null }] });
  });
});
