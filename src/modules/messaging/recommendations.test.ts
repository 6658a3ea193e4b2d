import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { CustomerInput, OrderLineInput, ProductInput, type OrderLineRow } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import { openChannels, parseChannelConfig } from './channels/config.js';
import type { Channel, ChannelKind } from './channels/port.js';
import { deliverDue } from './service.js';

/**
 * 20 customers bought MUG + SAUCER, then TEA + HONEY; `fan` bought only a MUG, so the recommender
 * offers them what MUG buyers also took. `new` has no orders: their block is empty, the message goes.
 */
async function seed(db: Database, now: Date) {
  const catalogue = [
    ['MUG', 'Mug', '10.00'],
    ['SAUCER', 'Saucer', '6.00'],
    ['TEA', 'Tea', '8.00'],
    ['HONEY', 'Honey', '1250.00'],
  ] as const;
  await mergeRows(
    db,
    {
      entity: 'products',
      rows: catalogue.map(([sku, title, price]) =>
        ProductInput.parse({ sku, title, price, currency: 'UAH' }),
      ),
    },
    now,
  );
  const price = Object.fromEntries(catalogue.map((p) => [p[0], p[2]]));
  const rows: OrderLineRow[] = [];
  const order = (id: string, customer: string, day: number, skus: string[]) => {
    for (const sku of skus)
      rows.push(
        OrderLineInput.parse({
          order_id: id,
          customer_id: customer,
          ordered_at: `2026-01-${String(day).padStart(2, '0')}T10:00:00Z`,
          currency: 'UAH',
          sku,
          quantity: '1',
          unit_price: price[sku],
        }),
      );
  };
  for (let c = 0; c < 20; c++) {
    order(`a${c}`, `c${c}`, 1 + (c % 5), ['MUG', 'SAUCER']);
    order(`b${c}`, `c${c}`, 10 + (c % 5), ['TEA', 'HONEY']);
  }
  order('f1', 'fan', 3, ['MUG']);
  await mergeRows(db, { entity: 'orders', rows }, now);
  await mergeRows(
    db,
    {
      entity: 'customers',
      rows: ['fan', 'new'].map((id) =>
        CustomerInput.parse({
          customer_id: id,
          email: `${id}@example.test`,
          first_name: id,
          locale: 'uk',
          email_consent: 'yes',
        }),
      ),
    },
    now,
  );
}

const BODY = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hi {{ customer.first_name }}</mj-text>
<mj-text><ul>{% for r in recommendations %}<li>{{ r.title }} — {{ r.price }}{% if r.because_of %} (because of {{ r.because_of }}){% endif %}</li>{% endfor %}</ul></mj-text>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

describe.each(testEngines())('recommendations in a message on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    await seed(db, clock.now());
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
    await t.call('PUT', '/v1/store', { role: 'admin', body: { currency: 'UAH' } });
    await t.call('PUT', '/v1/messaging/policy', { role: 'admin', body: { publicUrl: 'https://shop.test' } });
    const saved = await t.call('PUT', '/v1/templates/picks', {
      role: 'marketer',
      body: {
        channel: 'email',
        kind: 'marketing',
        variants: [{ locale: 'uk', subject: 'Для вас', body: BODY }],
      },
    });
    expect(saved.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sink?.close();
    await dispose();
  });

  it('shows the recommender’s products with prices in the contact’s locale; none for a new customer', async () => {
    const preview = await t.call('POST', '/v1/templates/picks/preview', {
      role: 'marketer',
      body: { customer: 'fan' },
    });
    expect(preview.status).toBe(200);
    expect(preview.json.html).toContain('Saucer');
    const queued = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: { template: 'picks', customers: ['fan', 'new'], occurrence: 'w10' },
    });
    expect(queued.status).toBe(202);
    const counts = await deliverDue({ ...t.deps, clock }, { channels });
    expect(counts).toMatchObject({ sent: 2, rejected: 0 });
    const to = (who: string) => sink.messages.find((m) => m.envelope.to.includes(`${who}@example.test`));
    const fan = to('fan')?.parsed.text ?? '';
    // What MUG buyers also took, with the price in uk formatting of UAH, and why.
    expect(fan).toMatch(/Saucer — 6,00\s₴ \(because of Mug\)/);
    expect(fan).not.toMatch(/\bMug —/);
    const fresh = to('new')?.parsed.text ?? '';
    expect(fresh).toContain('Hi new');
    expect(fresh).not.toMatch(/—/);
  });
});
