import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatOf,
  contactGroups,
  groupOf,
  idOf,
  phoneOf,
  seedContacts,
} from '../../../test/support/contacts.js';
import {
  startBotApi,
  startSmsGateway,
  type BotApi,
  type SmsGateway,
} from '../../../test/support/httpGateway.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { openChannels, parseChannelConfig } from './channels/config.js';
import type { Channel, ChannelKind } from './channels/port.js';
import { deliverDue } from './service.js';

const N = 100;
const TOKEN = '123456:test-token';

describe.each(testEngines())('SMS and messenger on %s: 100 contacts through local gateways', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sms: SmsGateway;
  let bot: BotApi;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const g = contactGroups(N);
  const everyone = Array.from({ length: N }, (_, i) => idOf(i + 1));

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sms = await startSmsGateway();
    bot = await startBotApi({ token: TOKEN });
    t = await testApp(db, { clock });
    await seedContacts(db, { n: N, now: clock.now() });
    const config = {
      sms: { url: `${sms.url}/send`, payload: { to: '{{to}}', text: '{{text}}', ref: '{{key}}' } },
      messenger: { apiBase: bot.url, token: TOKEN },
    };
    channels = openChannels(parseChannelConfig(config, 'test'));
    const admin = (method: string, path: string, body?: unknown) =>
      t.call(method, path, { role: 'admin', body });
    expect((await admin('PUT', '/v1/messaging/channels', config)).json).toEqual({
      channels: ['sms', 'messenger'],
    });
    expect((await admin('PUT', '/v1/messaging/policy', { publicUrl: 'https://shop.test' })).status).toBe(200);
    for (const [name, channel] of [
      ['sms-news', 'sms'],
      ['bot-news', 'messenger'],
    ])
      expect(
        (
          await admin('PUT', `/v1/templates/${name}`, {
            channel,
            kind: 'marketing',
            variants: [
              { locale: 'uk', body: '{{ customer.first_name }}, знижка {{ discount_code }}. Відписка: STOP' },
              { locale: 'ru', body: '{{ customer.first_name }}, скидка {{ discount_code }}. Отписка: STOP' },
              {
                locale: 'en',
                body: '{{ customer.first_name }}, {{ discount_code }} off. Reply STOP to opt out',
              },
            ],
          })
        ).status,
      ).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sms?.close();
    await bot?.close();
    await dispose();
  });
  const ctx = () => ({ ...t.deps, clock });
  const queue = (template: string, occurrence: string) =>
    t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: { template, customers: everyone, occurrence, variables: { discount_code: 'SMS5' } },
    });

  it('sends each consented contact one SMS and one messenger message, in their language', async () => {
    expect((await queue('sms-news', '1')).json).toMatchObject({ queued: N });
    expect((await queue('bot-news', '1')).json).toMatchObject({ queued: N });
    const counts = await deliverDue(ctx(), { channels });
    // The cap counts both channels: near-cap contacts (2 earlier) get one of the two, then are at 3.
    const nearCap = g['near-cap'];
    expect(counts).toMatchObject({
      sent: 2 * g.granted + nearCap,
      rejected: 0,
      unknown: 0,
      deferred: 2 * g.night,
    });
    const smsTo = new Map<string, number>();
    for (const d of sms.delivered) {
      const to = (d.json as { to: string }).to;
      smsTo.set(to, (smsTo.get(to) ?? 0) + 1);
    }
    const chats = new Map<string, number>();
    for (const m of bot.sent) chats.set(String(m.chat_id), (chats.get(String(m.chat_id)) ?? 0) + 1);
    for (let i = 1; i <= N; i++) {
      const grp = groupOf(i);
      const both = (smsTo.get(phoneOf(i)) ?? 0) + (chats.get(chatOf(i)) ?? 0);
      expect(both, `${idOf(i)} (${grp})`).toBe(grp === 'granted' ? 2 : grp === 'near-cap' ? 1 : 0);
      expect(smsTo.get(phoneOf(i)) ?? 0).toBeLessThanOrEqual(1);
    }
    const first = sms.delivered.find((d) => (d.json as { to: string }).to === phoneOf(30))!;
    expect((first.json as { text: string }).text).toBe('First30, скидка SMS5. Отписка: STOP');
    // The key went as the gateway's idempotency key and in the payload.
    expect(first.key).toMatch(/^manual\/sms-news\/\d+\/1$/);
    expect((first.json as { ref: string }).ref).toBe(first.key);
  });

  it('a STOP reply by SMS and /stop in the bot withdraw those consents before the next batch', async () => {
    const hooks = (await t.call('GET', '/v1/messaging/hooks', { role: 'admin' })).json as Record<
      string,
      string
    >;
    const path = (url: string) => new URL(url).pathname;
    const stop = await t.call('POST', path(hooks.smsInbound!), {
      body: `from=${encodeURIComponent(phoneOf(30))}&text=${encodeURIComponent(' Стоп ')}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(stop.status).toBe(200);
    expect(stop.json).toEqual({ from: phoneOf(30), stop: true, unsubscribed: [idOf(30)] });
    const chatStop = await t.call('POST', path(hooks.telegram!), {
      body: {
        update_id: 1,
        message: { message_id: 5, chat: { id: Number(chatOf(31)) }, from: { id: 7 }, text: '/stop' },
      },
    });
    expect(chatStop.json).toEqual({ handled: true, unsubscribed: [idOf(31)] });
    const wrong = await t.call('POST', '/hooks/sms-inbound/not-the-token', {
      body: { from: phoneOf(32), text: 'STOP' },
    });
    expect(wrong.status).toBe(404);
    const history = await t.call('GET', `/v1/customers/${idOf(30)}/consents/history?channel=sms`, {
      role: 'agent',
    });
    expect(history.json.data.at(-1)).toMatchObject({
      status: 'unsubscribed',
      source: 'STOP reply',
      formText: ' Стоп ',
    });

    const smsBefore = sms.delivered.length;
    const botBefore = bot.sent.length;
    clock.advance(8 * 86_400_000); // a week on: the cap window has passed
    await queue('sms-news', '2');
    await queue('bot-news', '2');
    await deliverDue(ctx(), { channels });
    const newSms = sms.delivered.slice(smsBefore).map((d) => (d.json as { to: string }).to);
    const newChats = bot.sent.slice(botBefore).map((m) => String(m.chat_id));
    expect(newSms).not.toContain(phoneOf(30));
    expect(newChats).toContain(chatOf(30));
    expect(newChats).not.toContain(chatOf(31));
    expect(newSms).toContain(phoneOf(31));
  });

  it('connects a chat by a signed /start link and records the messenger consent', async () => {
    // Change the last character to a different one (replacing it with a fixed letter is no forgery
    // when the signature already ends in that letter: one payload in 64).
    const forge = (payload: string): string => payload.slice(0, -1) + (payload.endsWith('x') ? 'y' : 'x');
    const link = await t.call('GET', `/v1/messaging/messenger-links/${idOf(5)}`, { role: 'marketer' });
    const hooks = (await t.call('GET', '/v1/messaging/hooks', { role: 'admin' })).json as Record<
      string,
      string
    >;
    const start = await t.call('POST', new URL(hooks.telegram!).pathname, {
      body: {
        update_id: 2,
        message: { message_id: 6, chat: { id: 424242 }, text: `/start ${link.json.startPayload}` },
      },
    });
    expect(start.json).toEqual({ handled: true, connected: idOf(5) });
    const customer = await t.call('GET', `/v1/customers/${idOf(5)}`, { role: 'agent' });
    expect(customer.json.consent.messenger).toMatchObject({ status: 'granted', source: 'telegram /start' });
    const forged = await t.call('POST', new URL(hooks.telegram!).pathname, {
      body: {
        update_id: 3,
        message: { message_id: 7, chat: { id: 1 }, text: `/start ${forge(link.json.startPayload)}` },
      },
    });
    expect(forged.status).toBe(400);
  });

  it('records delivery reports and suppresses a number the gateway calls invalid', async () => {
    const hooks = (await t.call('GET', '/v1/messaging/hooks', { role: 'admin' })).json as Record<
      string,
      string
    >;
    const [row] = await db.query<{ send_key: string; provider_id: string; address: string }>(
      `SELECT send_key, provider_id, address FROM message_sends WHERE channel = 'sms' AND status = 'sent' ORDER BY send_key LIMIT 1`,
    );
    const ok = await t.call('POST', new URL(hooks.smsStatus!).pathname, {
      body: { id: row!.provider_id, status: 'DELIVRD' },
    });
    expect(ok.json).toEqual({ key: row!.send_key, delivery: 'delivered', suppressed: false });
    const bad = await t.call('POST', new URL(hooks.smsStatus!).pathname, {
      body: { id: 'sms-unknown', error: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('status');
  });
});
