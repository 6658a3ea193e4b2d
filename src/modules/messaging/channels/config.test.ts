import { afterEach, describe, expect, it } from 'vitest';
import { startBotApi, startSmsGateway } from '../../../../test/support/httpGateway.js';
import { startSmtpSink } from '../../../../test/support/smtpSink.js';
import { AppError } from '../../../shared/errors.js';
import { openChannels, parseChannelConfig } from './config.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an error');
}

const TOKEN = '123:abc';

describe('channel config', () => {
  it('parses the documented example and opens one adapter per configured channel', async () => {
    const smtp = await startSmtpSink();
    const gw = await startSmsGateway({ authorization: 'Bearer sms-secret' });
    const bot = await startBotApi({ token: TOKEN });
    open.push(smtp, gw, bot);
    const json = JSON.stringify({
      email: {
        host: '127.0.0.1',
        port: smtp.port,
        from: 'Shop <news@shop.test>',
        auth: undefined,
        pool: { maxConnections: 2 },
      },
      sms: {
        url: `${gw.url}/send`,
        auth: { type: 'bearer', token: { env: 'SMS_TOKEN' } },
        sender: 'Shop',
        payload: { to: '{{to}}', text: '{{text}}', from: '{{sender}}' },
      },
      messenger: { apiBase: bot.url, token: { env: 'TELEGRAM_BOT_TOKEN' } },
    });
    const config = parseChannelConfig(json, 'RETAIN_CHANNELS');
    expect(config.email?.pool).toEqual({ maxConnections: 2, maxMessages: 100 });
    expect(config.sms?.idempotencyHeader).toBe('Idempotency-Key');
    const channels = openChannels(config, { SMS_TOKEN: 'sms-secret', TELEGRAM_BOT_TOKEN: TOKEN });
    open.push(...Object.values(channels).filter((c) => c !== undefined));
    const base = { key: 'k1', text: 'hi' };
    expect(await channels.email!.send({ ...base, to: 'a@example.test', subject: 's' })).toMatchObject({
      status: 'sent',
    });
    expect(await channels.sms!.send({ ...base, to: '+380671234567' })).toEqual({
      status: 'sent',
      providerId: 'sms-1',
    });
    expect(await channels.messenger!.send({ ...base, to: '42' })).toEqual({
      status: 'sent',
      providerId: '101',
    });
    expect(gw.requests[0]!.json).toEqual({ to: '+380671234567', text: 'hi', from: 'Shop' });
    expect(parseChannelConfig({}, 'settings')).toEqual({});
    expect(openChannels({})).toEqual({ email: undefined, sms: undefined, messenger: undefined });
  });

  it('names the source and the JSON path of every problem', () => {
    const e = thrown(() =>
      parseChannelConfig(
        { sms: { url: 'https://gw.test', payload: { to: '{{to}}', text: '{{txt}}' } } },
        'RETAIN_CHANNELS',
      ),
    );
    expect(e.message).toBe(
      'invalid channel config in RETAIN_CHANNELS: sms.payload.text: unknown placeholder {{txt}}; expected one of {{to}} {{text}} {{key}} {{sender}}',
    );
    expect(e.where?.field).toBe('sms.payload.text');
    expect(thrown(() => parseChannelConfig({ emial: {} }, 'RETAIN_CHANNELS')).message).toMatch(/emial/);
    expect(
      thrown(() => parseChannelConfig({ messenger: { token: { env: 'lower-case!' } } }, 'x')).where?.field,
    ).toBe('messenger.token.env');
    expect(thrown(() => parseChannelConfig('{"email": ', 'RETAIN_CHANNELS')).message).toMatch(
      /^invalid channel config in RETAIN_CHANNELS: not JSON/,
    );
    const details = thrown(() => parseChannelConfig({ email: { host: '' }, sms: {} }, 'settings'))
      .details as {
      issues: { path: string }[];
    };
    expect(details.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['email.host', 'email.from', 'sms.url']),
    );
  });

  it('an unset environment secret is an error naming the field and the variable', () => {
    const config = parseChannelConfig(
      { messenger: { token: { env: 'TELEGRAM_BOT_TOKEN' } } },
      'RETAIN_CHANNELS',
    );
    const e = thrown(() => openChannels(config, {}));
    expect(e.message).toBe('environment variable TELEGRAM_BOT_TOKEN (named by messenger.token) is not set');
    expect(e.where?.field).toBe('messenger.token');
  });
});
