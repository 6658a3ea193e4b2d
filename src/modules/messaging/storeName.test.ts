import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { CustomerInput } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import { openChannels, parseChannelConfig } from './channels/config.js';
import type { Channel, ChannelKind } from './channels/port.js';
import { deliverDue } from './service.js';

/**
 * `{{ store.name }}` is the store's name setting (PATCH /v1/store `name`) in previews and in what the
 * send path delivers: the built-in welcome message's subject ("Welcome to …") and a template's body
 * (HTML-escaped there). Without a name the variable is null, and the built-in subject stands alone.
 */
const BODY = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Thanks from {{ store.name }}</mj-text>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

describe.each(testEngines())('the store name in messages on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');

  const preview = async (template: string, customer: string) => {
    const r = await t.call('POST', `/v1/templates/${template}/preview`, {
      role: 'marketer',
      body: { customer },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json as { locale: string; subject: string; html: string; text: string };
  };
  const setName = async (name: string | null) => {
    const r = await t.call('PATCH', '/v1/store', { role: 'admin', body: { name } });
    expect(r.status).toBe(200);
    return r.json as { name: string | null };
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    await mergeRows(
      db,
      {
        entity: 'customers',
        rows: [
          ['anna', 'en'],
          ['olena', 'uk'],
        ].map(([id, locale]) =>
          CustomerInput.parse({
            customer_id: id,
            email: `${id}@example.test`,
            first_name: id,
            locale,
            email_consent: 'yes',
          }),
        ),
      },
      clock.now(),
    );
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
    const policy = await t.call('PUT', '/v1/messaging/policy', {
      role: 'admin',
      body: { publicUrl: 'https://shop.test' },
    });
    expect(policy.status).toBe(200);
    const installed = await t.call('POST', '/v1/flow-templates/welcome/install', {
      role: 'marketer',
      body: {},
    });
    expect(installed.status, JSON.stringify(installed.json)).toBe(201);
    const saved = await t.call('PUT', '/v1/templates/thanks', {
      role: 'marketer',
      body: {
        channel: 'email',
        kind: 'marketing',
        variants: [{ locale: 'en', subject: '{{ store.name }} says thanks', body: BODY }],
      },
    });
    expect(saved.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sink?.close();
    await dispose();
  });

  it('previews without a name while none is set: the built-in subject stands alone', async () => {
    expect((await t.call('GET', '/v1/store', { role: 'marketer' })).json.name).toBeNull();
    expect((await preview('welcome-1', 'anna')).subject).toBe('Welcome');
    expect((await preview('welcome-1', 'olena')).subject).toBe('Вітаємо');
  });

  it('previews and sends the name set in the store settings', async () => {
    expect(await setName('  Lavka & Co ')).toMatchObject({ name: 'Lavka & Co' });
    expect((await preview('welcome-1', 'anna')).subject).toBe('Welcome to Lavka & Co');
    expect((await preview('welcome-1', 'olena')).subject).toBe('Вітаємо в Lavka & Co');
    const thanks = await preview('thanks', 'anna');
    expect(thanks.subject).toBe('Lavka & Co says thanks');
    expect(thanks.html).toContain('Thanks from Lavka &amp; Co');
    expect(thanks.text).toContain('Thanks from Lavka & Co');

    for (const template of ['welcome-1', 'thanks']) {
      const queued = await t.call('POST', '/v1/messages', {
        role: 'marketer',
        body: { template, customers: ['anna', 'olena'], occurrence: 'store-name' },
      });
      expect(queued.status, JSON.stringify(queued.json)).toBe(202);
    }
    expect(await deliverDue({ ...t.deps, clock }, { channels })).toMatchObject({ sent: 4, rejected: 0 });
    const subjects = sink.messages
      .map((m) => `${m.envelope.to.join(',')}: ${m.parsed.subject}`)
      .sort((a, b) => a.localeCompare(b));
    expect(subjects).toEqual([
      'anna@example.test: Lavka & Co says thanks',
      'anna@example.test: Welcome to Lavka & Co',
      'olena@example.test: Lavka & Co says thanks',
      'olena@example.test: Вітаємо в Lavka & Co',
    ]);
    const sent = sink.messages.find((m) => m.parsed.subject === 'Lavka & Co says thanks')!;
    expect(sent.parsed.text).toContain('Thanks from Lavka & Co');
  });

  it('renders without the name again once it is cleared', async () => {
    expect(await setName(null)).toMatchObject({ name: null });
    expect((await preview('welcome-1', 'anna')).subject).toBe('Welcome');
    expect((await preview('thanks', 'anna')).subject).toBe('says thanks'); // null renders empty
  });
});
