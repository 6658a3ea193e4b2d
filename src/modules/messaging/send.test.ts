import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contactGroups,
  emailOf,
  groupOf,
  idOf,
  localeOf,
  seedContacts,
} from '../../../test/support/contacts.js';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { openChannels, parseChannelConfig } from './channels/config.js';
import type { Channel, ChannelKind } from './channels/port.js';
import { deliverDue } from './service.js';

const N = 1000;
const TEMPLATE = {
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'uk',
      subject: 'Привіт, {{ customer.first_name }} [uk]',
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Вітаємо, {{ customer.first_name }}! Код: {{ discount_code }}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Відписатися</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
    {
      locale: 'ru',
      subject: 'Привет, {{ customer.first_name }} [ru]',
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Здравствуйте, {{ customer.first_name }}! Код: {{ discount_code }}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Отписаться</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
    {
      locale: 'en',
      subject: 'Hello, {{ customer.first_name }} [en]',
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hello, {{ customer.first_name }}! Code: {{ discount_code }}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
  ],
};

describe.each(testEngines())('the send path on %s: 1,000 contacts through a local SMTP server', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const groups = contactGroups(N);

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    await seedContacts(db, { n: N, now: clock.now() });
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sink?.close();
    await dispose();
  });

  const ctx = () => ({ ...t.deps, clock });
  const byRecipient = () => {
    const m = new Map<string, number>();
    for (const msg of sink.messages) for (const to of msg.envelope.to) m.set(to, (m.get(to) ?? 0) + 1);
    return m;
  };

  it('refuses bad input with the position, writing nothing', async () => {
    const liquid = await t.call('PUT', '/v1/templates/broken', {
      role: 'marketer',
      body: {
        ...TEMPLATE,
        variants: [
          {
            locale: 'en',
            subject: 'Hi',
            body: '<mjml><mj-body>\n<mj-text>{{ customer.first_name </mj-text></mj-body></mjml>',
          },
        ],
      },
    });
    expect(liquid.status).toBe(400);
    expect(liquid.json.error.message).toMatch(/line 2/);
    const locale = await t.call('PUT', '/v1/templates/broken', {
      role: 'marketer',
      body: { ...TEMPLATE, variants: [{ ...TEMPLATE.variants[0], locale: 'klingon-xx-yy' }] },
    });
    expect(locale.status).toBe(400);
    expect(JSON.stringify(locale.json)).toContain('variants[0].locale');
    expect((await t.call('GET', '/v1/templates', { role: 'analyst' })).json.data).toEqual([]);
    // No public URL yet: a marketing email could carry no unsubscribe link.
    const ok = await t.call('PUT', '/v1/templates/spring', { role: 'marketer', body: TEMPLATE });
    expect(ok.status).toBe(201);
    const noUrl = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: { template: 'spring', customers: [idOf(30)], occurrence: '2026-03' },
    });
    expect(noUrl.status).toBe(400);
    expect(noUrl.json.error.message).toMatch(/publicUrl/);
    expect(
      (
        await t.call('PUT', '/v1/messaging/policy', {
          role: 'admin',
          body: { publicUrl: 'https://shop.test/r' },
        })
      ).status,
    ).toBe(200);
    const unknown = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: { template: 'spring', customers: [idOf(30), 'nobody'], occurrence: '2026-03' },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('customers[1]');
    expect(await db.query(`SELECT COUNT(*) AS n FROM message_sends WHERE source <> 'earlier'`)).toEqual([
      { n: 0 },
    ]);
  });

  it('sends each consented contact exactly one message in their locale; the others none', async () => {
    const customers = Array.from({ length: N }, (_, i) => idOf(i + 1));
    const queued = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: {
        template: 'spring',
        customers,
        occurrence: '2026-03',
        variables: { discount_code: 'SPRING10' },
      },
    });
    expect(queued.status).toBe(202);
    expect(queued.json).toMatchObject({ queued: N, alreadyQueued: 0 });
    const counts = await deliverDue(ctx(), { channels });
    const eligible = groups.granted + groups['near-cap'];
    expect(counts).toMatchObject({ sent: eligible, rejected: 0, unknown: 0, deferred: groups.night });
    expect(counts.skipped).toBe(
      groups.denied + groups.unsubscribed + groups.erased + groups.suppressed + groups.capped,
    );
    const got = byRecipient();
    for (let i = 1; i <= N; i++) {
      const g = groupOf(i);
      const want = g === 'granted' || g === 'near-cap' ? 1 : 0;
      expect(got.get(emailOf(i)) ?? 0, `${idOf(i)} (${g})`).toBe(want);
    }
    const sample = sink.messages.find((m) => m.envelope.to[0] === emailOf(30))!;
    expect(localeOf(30)).toBe('ru');
    expect(sample.parsed.subject).toBe('Привет, First30 [ru]');
    expect(sample.parsed.text).toContain('SPRING10');
    expect(sample.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    for (const m of sink.messages) {
      const i = Number(m.envelope.to[0]!.replace(/\D/g, ''));
      expect(m.parsed.subject).toContain(`[${localeOf(i)}]`);
    }
    // One customer's sends (the customer 360 page).
    const mine = await t.call('GET', `/v1/messages?customer=${idOf(30)}`, { role: 'marketer' });
    expect(mine.status).toBe(200);
    expect(
      mine.json.data.map((r: { customer: string; template: string }) => [r.customer, r.template]),
    ).toEqual([[idOf(30), 'spring']]);
    expect((await t.call('GET', '/v1/messages?customer=nobody', { role: 'marketer' })).json.data).toEqual([]);
    const reasons = await db.query<{ reason: string; n: number }>(
      `SELECT reason, CAST(COUNT(*) AS INTEGER) AS n FROM message_sends WHERE source = 'manual' AND status = 'skipped' GROUP BY reason ORDER BY reason`,
    );
    expect(reasons).toEqual([
      { reason: 'erased', n: groups.erased },
      { reason: 'frequency cap (3 marketing messages per 7 days)', n: groups.capped },
      { reason: 'no email consent (denied)', n: groups.denied },
      { reason: 'no email consent (unsubscribed)', n: groups.unsubscribed },
      { reason: 'suppressed (550 5.1.1 mailbox unknown)', n: groups.suppressed },
    ]);
  });

  it('defers contacts in quiet hours and sends them when their morning comes', async () => {
    const before = sink.messages.length;
    clock.advance(9 * 3_600_000); // 21:00 UTC: 10:00 in Auckland (NZDT), 23:00 in Kyiv
    const counts = await deliverDue(ctx(), { channels });
    expect(counts.sent).toBe(groups.night);
    expect(sink.messages.length - before).toBe(groups.night);
  });

  it('repeating the request sends nothing twice', async () => {
    const before = sink.messages.length;
    const again = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: {
        template: 'spring',
        customers: Array.from({ length: N }, (_, i) => idOf(i + 1)),
        occurrence: '2026-03',
      },
    });
    expect(again.json).toMatchObject({ queued: 0, alreadyQueued: N });
    expect(await deliverDue(ctx(), { channels })).toMatchObject({ sent: 0 });
    expect(sink.messages.length).toBe(before);
  });

  it('a one-click POST to the List-Unsubscribe URL changes consent before the next batch', async () => {
    clock.advance(12 * 3_600_000); // next day 09:00 UTC: 11:00 in Kyiv
    const message = sink.messages.find((m) => m.envelope.to[0] === emailOf(30))!;
    const url = new URL(message.header('list-unsubscribe')!.replace(/^<|>$/g, ''));
    expect(url.href.startsWith('https://shop.test/r/u/')).toBe(true);
    const path = url.pathname.replace(/^\/r/, '');
    const page = await t.call('GET', path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post">');
    const click = await t.call('POST', path, {
      body: 'List-Unsubscribe=One-Click',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'MailClient/1.0',
        'x-forwarded-for': '198.51.100.4',
      },
    });
    expect(click.status).toBe(200);
    expect((await t.call('POST', path, { body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
    const history = await t.call('GET', `/v1/customers/${idOf(30)}/consents/history?channel=email`, {
      role: 'agent',
    });
    expect(history.json.data.at(-1)).toMatchObject({
      status: 'unsubscribed',
      source: 'unsubscribe link',
      ip: '198.51.100.4',
      userAgent: 'MailClient/1.0',
    });
    expect(history.json.data).toHaveLength(1); // the seed wrote the current state only
    const tampered = await t.call('POST', path.slice(0, -2) + (path.endsWith('xx') ? 'yy' : 'xx'), {
      body: 'List-Unsubscribe=One-Click',
    });
    expect(tampered.status).toBe(404);

    const before = byRecipient();
    const next = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: {
        template: 'spring',
        customers: Array.from({ length: N }, (_, i) => idOf(i + 1)),
        occurrence: '2026-03-b',
      },
    });
    expect(next.json.queued).toBe(N);
    // 09:00 UTC is 22:00 in Auckland: the night group waits again (deferred, not dropped).
    expect(await deliverDue(ctx(), { channels })).toMatchObject({ deferred: groups.night });
    const after = byRecipient();
    expect((after.get(emailOf(30)) ?? 0) - (before.get(emailOf(30)) ?? 0)).toBe(0);
    // near-cap contacts had 2 + 1 this week: at the cap now.
    for (let i = 1; i <= N; i++) {
      const g = groupOf(i);
      const want = g === 'granted' && i !== 30 ? 1 : 0;
      expect((after.get(emailOf(i)) ?? 0) - (before.get(emailOf(i)) ?? 0), `${idOf(i)} (${g})`).toBe(want);
    }
  });
});
