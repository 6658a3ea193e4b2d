import { afterEach, describe, expect, it } from 'vitest';
import { startBotApi, type BotApi } from '../../../../test/support/httpGateway.js';
import { AppError } from '../../../shared/errors.js';
import type { Channel, OutboundMessage } from './port.js';
import { parseTelegramUpdate, telegramChannel } from './telegram.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function botApi(options: Omit<Parameters<typeof startBotApi>[0], 'token'> = {}): Promise<BotApi> {
  const api = await startBotApi({ token: TOKEN, ...options });
  open.push(api);
  return api;
}

function channel(api: { url: string }, extra: Record<string, unknown> = {}): Channel {
  return telegramChannel(
    { apiBase: api.url, token: { env: 'BOT_TOKEN' }, timeoutMs: 2000, ...extra },
    {
      BOT_TOKEN: TOKEN,
    },
  );
}

const msg = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  key: 'flow:welcome:1:cust-7:0',
  to: '987654321',
  text: 'Вітаємо! <b>-10%</b> "today"',
  ...over,
});

describe('messenger channel (Telegram Bot API)', () => {
  it('sends with sendMessage; ok:true is sent with the message_id', async () => {
    const api = await botApi();
    const c = channel(api, { parseMode: 'HTML' });
    expect(c.idempotent).toBe(false);
    expect(await c.send(msg())).toEqual({ status: 'sent', providerId: '101' });
    expect(api.requests[0]!.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(api.requests[0]!.method).toBe('POST');
    expect(api.sent).toEqual([
      { chat_id: '987654321', text: 'Вітаємо! <b>-10%</b> "today"', parse_mode: 'HTML' },
    ]);
    expect(await channel(api).send(msg({ to: '-1001234567890' }))).toEqual({
      status: 'sent',
      providerId: '102',
    });
    expect(api.sent[1]).toEqual({ chat_id: '-1001234567890', text: msg().text });
  });

  it('403 (bot blocked) and 400 "chat not found" are rejected and suppressed; another 400 is not suppressed', async () => {
    const api = await botApi({ blockedChats: ['111111'], missingChats: ['222222'] });
    const c = channel(api);
    expect(await c.send(msg({ to: '111111' }))).toEqual({
      status: 'rejected',
      reason: 'Bot API answered 403: Forbidden: bot was blocked by the user',
      suppress: true,
    });
    expect(await c.send(msg({ to: '222222' }))).toMatchObject({ status: 'rejected', suppress: true });
    api.script({
      status: 400,
      body: { ok: false, error_code: 400, description: "Bad Request: can't parse entities: unclosed tag" },
    });
    expect(await c.send(msg())).toMatchObject({ status: 'rejected', suppress: false });
    expect(await c.send(msg({ to: 'not a chat' }))).toMatchObject({ status: 'rejected', suppress: true });
    expect(api.requests).toHaveLength(3);
  });

  it('429 waits parameters.retry_after; 5xx and network failures retry; a wrong token says so', async () => {
    const api = await botApi();
    const c = channel(api);
    api.script(
      {
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: 'Too Many Requests: retry after 35',
          parameters: { retry_after: 35 },
        },
      },
      { status: 502, body: 'Bad Gateway' },
      { status: 200, drop: true },
    );
    expect(await c.send(msg())).toEqual({
      status: 'retry',
      reason: 'Bot API answered 429: Too Many Requests: retry after 35',
      retryAfterMs: 35_000,
    });
    expect(await c.send(msg())).toMatchObject({ status: 'retry', ambiguous: true });
    const dropped = await c.send(msg());
    expect(dropped).toMatchObject({ status: 'retry', ambiguous: true });
    expect(dropped.status === 'retry' && dropped.reason).not.toContain(TOKEN);
    expect(api.sent).toHaveLength(0);
    const other = telegramChannel({ apiBase: api.url, token: '42:wrong' }, {});
    expect(await other.send(msg())).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('check messenger.token'),
    });
    await api.close();
    // The first send may meet the kept-alive socket the server just closed (ambiguous: undici cannot
    // tell whether the request left); the next finds nobody listening, which is a clean retry.
    const first = await c.send(msg());
    expect(first.status).toBe('retry');
    const down = await c.send(msg());
    expect(down).toMatchObject({
      status: 'retry',
      ambiguous: false,
      reason: expect.stringContaining('ECONNREFUSED'),
    });
    for (const o of [first, down]) expect(o.status === 'retry' && o.reason).not.toContain(TOKEN);
  });

  it('refuses a token that is not a bot token, without echoing it', () => {
    let err: unknown;
    try {
      telegramChannel({ token: 'secret-but-wrong' }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).where?.field).toBe('messenger.token');
    expect((err as AppError).message).not.toContain('secret-but-wrong');
  });
});

describe('Telegram updates', () => {
  const update = (text: string) => ({
    update_id: 1,
    message: {
      message_id: 5,
      from: { id: 987654321, is_bot: false, first_name: 'Олена', username: 'olena' },
      chat: { id: 987654321, type: 'private' },
      date: 1767225600,
      text,
    },
  });

  it('/start <payload> links a chat; /stop and STOP words (en/uk/ru) withdraw consent', () => {
    expect(parseTelegramUpdate(update('/start c_42-abc'))).toEqual({
      chatId: '987654321',
      user: { id: '987654321', username: 'olena', firstName: 'Олена' },
      text: '/start c_42-abc',
      isStop: false,
      blocked: false,
      startPayload: 'c_42-abc',
    });
    expect(parseTelegramUpdate(update('/start'))!.startPayload).toBeNull();
    expect(parseTelegramUpdate(update('/start@ShopBot c_42'))!.startPayload).toBe('c_42');
    for (const t of ['/stop', '/stop@ShopBot', 'STOP', 'стоп', 'Відписатися', 'отписаться', '/unsubscribe'])
      expect(parseTelegramUpdate(update(t))!.isStop, t).toBe(true);
    for (const t of ['hello', '/help', 'stop it please'])
      expect(parseTelegramUpdate(update(t))!.isStop, t).toBe(false);
  });

  it('a user blocking the bot is a stop; other updates are null; a message without a chat is an error', () => {
    expect(
      parseTelegramUpdate({
        update_id: 2,
        my_chat_member: {
          chat: { id: 555, type: 'private' },
          from: { id: 555, first_name: 'Ivan' },
          new_chat_member: { status: 'kicked', user: { id: 1 } },
        },
      }),
    ).toMatchObject({ chatId: '555', isStop: true, blocked: true });
    expect(
      parseTelegramUpdate({
        update_id: 3,
        my_chat_member: { chat: { id: 5 }, new_chat_member: { status: 'member' } },
      }),
    ).toBeNull();
    expect(parseTelegramUpdate({ update_id: 4, edited_message: { chat: { id: 1 }, text: 'x' } })).toBeNull();
    expect(parseTelegramUpdate({ update_id: 5, message: { chat: { id: 1 }, photo: [] } })).toBeNull();
    expect(() => parseTelegramUpdate({ update_id: 6, message: { text: 'hi' } })).toThrow(
      'Telegram update: no chat id at "message.chat.id"',
    );
    expect(() => parseTelegramUpdate('nope')).toThrow(/expected a JSON object/);
  });
});
