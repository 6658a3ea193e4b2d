import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { importFile } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-import-'));
function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const ORDERS = `order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price,channel
A1,c1,2024-01-05 10:00:00,EUR,SKU1,"Mug, blue",2,4.50,email
A1,c1,2024-01-05 10:00:00,EUR,SKU2,Tea,1,3.20,email
A2,c2,2024-01-06T09:00:00Z,EUR,SKU1,"Mug, blue",1,4.50,ads
A3,,2024-01-07,EUR,SKU3,Gift card,1,25,
`;

describe.each(testEngines())('importer on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it('imports generic orders: lines grouped into orders, guests kept apart, money in minor units', async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('orders.csv', ORDERS),
    });
    expect(r).toMatchObject({
      preset: 'generic',
      rows: 4,
      inserted: 3,
      updated: 0,
      unchanged: 0,
      rejected: 0,
      guestOrders: 1,
      customersCreated: 2,
    });
    const orders = await db.query(
      `SELECT o.external_id, c.external_id AS customer, o.subtotal_minor, o.total_minor, o.line_count, o.channel
       FROM orders o LEFT JOIN customers c USING (customer_id) ORDER BY o.external_id`,
    );
    expect(orders).toEqual([
      {
        external_id: 'A1',
        customer: 'c1',
        subtotal_minor: 1220,
        total_minor: 1220,
        line_count: 2,
        channel: 'email',
      },
      {
        external_id: 'A2',
        customer: 'c2',
        subtotal_minor: 450,
        total_minor: 450,
        line_count: 1,
        channel: 'ads',
      },
      {
        external_id: 'A3',
        customer: null,
        subtotal_minor: 2500,
        total_minor: 2500,
        line_count: 1,
        channel: null,
      },
    ]);
    const lines = await db.query(
      `SELECT line_no, sku, title, quantity, unit_price_minor, line_total_minor FROM order_lines l JOIN orders o USING (order_id) WHERE o.external_id = 'A1' ORDER BY line_no`,
    );
    expect(lines).toEqual([
      {
        line_no: 1,
        sku: 'SKU1',
        title: 'Mug, blue',
        quantity: 2,
        unit_price_minor: 450,
        line_total_minor: 900,
      },
      { line_no: 2, sku: 'SKU2', title: 'Tea', quantity: 1, unit_price_minor: 320, line_total_minor: 320 },
    ]);
  });

  it('re-importing the same file inserts nothing; a changed order is updated with its lines', async () => {
    const again = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('orders.csv', ORDERS),
    });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3, customersCreated: 0 });
    const changed = ORDERS.replace('SKU2,Tea,1,3.20', 'SKU2,Tea,3,3.20');
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('orders2.csv', changed),
    });
    expect(r).toMatchObject({ inserted: 0, updated: 1, unchanged: 2 });
    const [a1] = await db.query(`SELECT subtotal_minor, line_count FROM orders WHERE external_id = 'A1'`);
    expect(a1).toEqual({ subtotal_minor: 1860, line_count: 2 });
    const [n] = await db.query(`SELECT COUNT(*) AS n FROM order_lines`);
    expect(n).toEqual({ n: 4 });
  });

  it('rejects bad rows with line numbers and reasons, and imports every valid row', async () => {
    const bad = `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price
B1,c9,2024-02-01,EUR,S1,1,2.00
B2,c9,2024-02-30,EUR,S1,1,2.00
B3,c9,2024-02-02,EUR,S1,two,2.00
,c9,2024-02-02,EUR,S1,1,2.00
B5,c9,2024-02-02,EUR,S1,1,2,00
B6,c9,2024-02-02,EURO,S1,1,2.00
B7,c9,2024-02-03,EUR,S1,-1,2.00
B8,c8,2024-02-03,EUR,S1,1,abc
B9,c9,2024-02-04,EUR,S1,1,3.00
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('bad.csv', bad),
    });
    expect(r.inserted).toBe(2);
    expect(r.rejected).toBe(7);
    expect(r.errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(r.errors[0]?.reason).toMatch(/field ordered_at: expected a date-time/);
    expect(r.errors[1]?.reason).toMatch(/field quantity: expected a whole number, got 'two'/);
    expect(r.errors[2]?.reason).toMatch(/field order_id: is required/);
    expect(r.errors[3]?.reason).toMatch(/8 fields but the header has 7/);
    expect(r.errors[4]?.reason).toMatch(/field currency: expected an ISO 4217 code/);
    expect(r.errors[5]?.reason).toMatch(/field quantity: must be positive/);
    expect(r.errors[6]?.reason).toMatch(/field unit_price: expected an amount/);
  });

  it('rejects an order whose rows disagree on the customer, keeping the others', async () => {
    const text = `order_id,customer_id,ordered_at,currency,sku,quantity,unit_price
X1,c1,2024-03-01,EUR,S1,1,1.00
X1,c2,2024-03-01,EUR,S2,1,1.00
X2,c1,2024-03-01,EUR,S1,1,1.00
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('conflict.csv', text),
    });
    expect(r).toMatchObject({ inserted: 1, rejected: 2 });
    expect(r.errors).toEqual([
      { line: 2, reason: expect.stringMatching(/order X1: its 2 rows disagree on customer_id/) },
    ]);
  });

  it('reads NDJSON and gzip, and caps the error list with a count of the rest', async () => {
    const rows = [
      {
        order_id: 'N1',
        customer_id: 'c1',
        ordered_at: '2024-04-01T10:00:00Z',
        currency: 'EUR',
        order_total: 19.99,
      },
      { order_id: 'N2', customer_id: 'c1', ordered_at: 'nope', currency: 'EUR', order_total: 5 },
    ];
    const nd = rows.map((r) => JSON.stringify(r)).join('\n') + '\n{broken\n';
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('o.ndjson.gz', gzipSync(nd)),
      maxErrors: 1,
    });
    expect(r).toMatchObject({
      format: { type: 'ndjson', delimiter: null },
      inserted: 1,
      rejected: 2,
      errorsOmitted: 1,
    });
    expect(r.errors).toHaveLength(1);
    const [n1] = await db.query(`SELECT total_minor, line_count FROM orders WHERE external_id = 'N1'`);
    expect(n1).toEqual({ total_minor: 1999, line_count: 0 });
  });

  it('fails a file whose header matches no preset, listing the expected columns', async () => {
    await expect(
      importFile(testContext(db, systemClock), {
        entity: 'orders',
        file: file('weird.csv', 'foo,bar\n1,2\n'),
      }),
    ).rejects.toThrow(
      /matches no preset for orders.*online-retail: InvoiceNo.*generic: order_id, ordered_at/,
    );
    await expect(
      importFile(testContext(db, systemClock), { entity: 'orders', file: file('empty.csv', '') }),
    ).rejects.toThrow(/empty/);
  });

  it('adapts other headers with --map', async () => {
    const text = `Order Number,Buyer,Date,Amount,Cur\nM1,c5,2024-05-01,10.00,EUR\n`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('mapped.csv', text),
      map: {
        'Order Number': 'order_id',
        Buyer: 'customer_id',
        Date: 'ordered_at',
        Amount: 'order_total',
        Cur: 'currency',
      },
    });
    expect(r).toMatchObject({ preset: 'generic', inserted: 1, rejected: 0 });
  });

  it('imports customers with per-channel consent, idempotently', async () => {
    const text = `customer_id,email,first_name,birthday,country,acquisition_channel,email_consent,email_consent_at,email_consent_source,sms_consent
c1,Ann@Example.com,Ann,1990-04-02,DE,Email,yes,2024-01-01T00:00:00Z,checkout,no
c3,bob@example.com,Bob,,FR,ads,,,,
c4,not-an-email,Cy,,FR,ads,,,,
`;
    const f = file('customers.csv', text);
    const r = await importFile(testContext(db, systemClock), { entity: 'customers', file: f });
    // c1 existed (created by an order import) → updated; c3 new; c4 new without its invalid email (a warning).
    expect(r).toMatchObject({ inserted: 2, updated: 1, rejected: 0 });
    expect(r.warnings).toEqual([
      {
        line: 4,
        reason: 'field email: expected an email address — left out; the rest of the row was imported',
      },
    ]);
    expect(await importFile(testContext(db, systemClock), { entity: 'customers', file: f })).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 3,
    });
    const consents = await db.query(
      `SELECT k.channel, k.status, k.source FROM customer_consents k JOIN customers c USING (customer_id) WHERE c.external_id = 'c1' ORDER BY k.channel`,
    );
    expect(consents).toEqual([
      { channel: 'email', status: 'granted', source: 'checkout' },
      { channel: 'sms', status: 'denied', source: null },
    ]);
    const [c1] = await db.query(
      `SELECT email, birthday, acquisition_channel FROM customers WHERE external_id = 'c1'`,
    );
    expect(c1).toEqual({
      email: 'ann@example.com',
      birthday: new Date('1990-04-02T00:00:00Z'),
      acquisition_channel: 'email',
    });
    const withdrawn = text.replace(
      'c1,Ann@Example.com,Ann,1990-04-02,DE,Email,yes',
      'c1,Ann@Example.com,Ann,1990-04-02,DE,Email,unsubscribed',
    );
    expect(
      await importFile(testContext(db, systemClock), {
        entity: 'customers',
        file: file('customers2.csv', withdrawn),
      }),
    ).toMatchObject({ updated: 1, unchanged: 2 });
  });

  it('imports products, spend and events; duplicates in one file: the last row wins', async () => {
    const products = `sku,title,category,price,unit_cost,currency\nSKU1,Mug,Kitchen,4.50,1.20,EUR\nSKU9,Pot,Kitchen,12.00,,EUR\nSKU9,Pot XL,Kitchen,14.00,5.00,EUR\n`;
    const p = await importFile(testContext(db, systemClock), {
      entity: 'products',
      file: file('products.csv', products),
    });
    expect(p).toMatchObject({ inserted: 1, updated: 1, duplicates: 1 });
    const [pot] = await db.query(
      `SELECT title, price_minor, unit_cost_minor FROM products WHERE sku = 'SKU9'`,
    );
    expect(pot).toEqual({ title: 'Pot XL', price_minor: 1400, unit_cost_minor: 500 });

    const spend = `date,channel,amount,currency\n2024-01-01,ads,100.00,EUR\n2024-01-02,ads,80.5,EUR\n2024-01-02,email,bad,EUR\n`;
    const s = await importFile(testContext(db, systemClock), {
      entity: 'spend',
      file: file('spend.csv', spend),
    });
    expect(s).toMatchObject({ inserted: 2, rejected: 1 });

    const events = [
      {
        event_id: 'e1',
        customer_id: 'c1',
        type: 'add_to_cart',
        occurred_at: '2024-01-01T10:00:00Z',
        properties: { sku: 'SKU1', qty: 1 },
      },
      {
        event_id: 'e2',
        anonymous_id: 'anon-7',
        type: 'checkout_started',
        occurred_at: '2024-01-01T10:05:00Z',
      },
      { event_id: 'e3', type: 'view', occurred_at: '2024-01-01T10:05:00Z' },
      { event_id: 'e4', customer_id: 'c1', type: 'Add To Cart', occurred_at: '2024-01-01T10:05:00Z' },
    ];
    const f = file('events.ndjson', events.map((e) => JSON.stringify(e)).join('\n'));
    const e = await importFile(testContext(db, systemClock), { entity: 'events', file: f });
    expect(e).toMatchObject({ inserted: 2, rejected: 2 });
    expect(e.errors.map((x) => x.line)).toEqual([3, 4]);
    expect(await importFile(testContext(db, systemClock), { entity: 'events', file: f })).toMatchObject({
      inserted: 0,
      unchanged: 2,
    });
  });

  it('a partial customers file changes only the columns it has: the rest stay as stored', async () => {
    const ctx = testContext(db, systemClock);
    await importFile(ctx, {
      entity: 'orders',
      file: file(
        'p-orders.csv',
        'order_id,customer_id,email,country,ordered_at,currency,order_total\nP1,pc1,pc1@shop.com,FR,2024-04-01,EUR,10\n',
      ),
    });
    await importFile(ctx, {
      entity: 'customers',
      file: file('p-names.csv', 'customer_id,first_name\npc1,Paule\n'),
    });
    await importFile(ctx, {
      entity: 'customers',
      file: file('p-blank.csv', 'customer_id,first_name,country,phone\npc1,,,+33 1 23\n'),
    });
    const [c] = await db.query(
      `SELECT email, country, first_name, phone FROM customers WHERE external_id = 'pc1'`,
    );
    expect(c).toEqual({ email: 'pc1@shop.com', country: 'FR', first_name: 'Paule', phone: '+33 1 23' });
  });

  it('leaves out an invalid optional field with a warning instead of rejecting the row', async () => {
    const r = await importFile(testContext(db, systemClock), {
      entity: 'customers',
      file: file(
        'w-customers.csv',
        'customer_id,first_name,birthday,email\nw1,Olena,15/03/1985,olena@shop.ua\nw2,Taras,1990-02-30,not-an-email\n,Nobody,,\n',
      ),
    });
    expect(r).toMatchObject({
      inserted: 2,
      rejected: 1,
      errors: [{ line: 4, reason: 'field customer_id: is required' }],
    });
    expect(r.warnings).toEqual([
      {
        line: 2,
        reason: expect.stringMatching(
          /^field birthday: ambiguous date 15\/03\/1985: pass --date-format .* — left out; the rest of the row was imported$/,
        ),
      },
      {
        line: 3,
        reason: expect.stringMatching(
          /^field email: expected an email address; field birthday: .* — left out/,
        ),
      },
    ]);
    const rows = await db.query(
      `SELECT external_id, first_name, birthday, email FROM customers WHERE external_id IN ('w1', 'w2') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { external_id: 'w1', first_name: 'Olena', birthday: null, email: 'olena@shop.ua' },
      { external_id: 'w2', first_name: 'Taras', birthday: null, email: null },
    ]);
  });

  it('reads a hand-made header regardless of case and spacing, and reports the columns it ignored', async () => {
    const csv = `Order ID,Customer ID,Ordered At,Currency,SKU,Title,Quantity,Unit Price,Colour,emial
H1,Hand@Made.com,2024-02-01,EUR,MUG,Mug,2,4.50,blue,x
H1,hand@made.com,2024-02-01,EUR,TEA,Tea,1,3.20,,
`;
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: file('hand.csv', csv),
    });
    expect(r).toMatchObject({ preset: 'generic', rows: 2, inserted: 1, rejected: 0 });
    expect(r.columns).toEqual({
      renamed: {
        'Order ID': 'order_id',
        'Customer ID': 'customer_id',
        'Ordered At': 'ordered_at',
        Currency: 'currency',
        SKU: 'sku',
        Title: 'title',
        Quantity: 'quantity',
        'Unit Price': 'unit_price',
      },
      ignored: [{ column: 'Colour' }, { column: 'emial', didYouMean: 'email' }],
    });
    const [o] = await db.query(
      `SELECT c.external_id AS customer, o.line_count, o.total_minor FROM orders o JOIN customers c USING (customer_id)
       WHERE o.external_id = 'H1'`,
    );
    expect(o).toEqual({ customer: 'hand@made.com', line_count: 2, total_minor: 1220 });
    // A required column missing: the error names it, and the near miss that was probably meant.
    await expect(
      importFile(testContext(db, systemClock), {
        entity: 'orders',
        file: file('typo.csv', 'Order ID,Orderd At,Currency\nT1,2024-02-01,EUR\n'),
      }),
    ).rejects.toThrow(
      /matches no preset for orders .*ignored column \(not a field; --map col=field reads one\): Orderd At \(did you mean ordered_at\?\)/,
    );
  });
});
