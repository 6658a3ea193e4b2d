import type { z } from 'zod';
import { invalid } from '../../../shared/errors.js';
import { openConfig } from './configParse.js';
import { clip, exchange, retryAfterMs, type HttpAnswer } from './http.js';
import { valueAt } from './jsonPath.js';
import type { Channel, OutboundMessage, SendOutcome } from './port.js';
import { MessengerConfig } from './schema.js';
import { resolveSecret, type Env } from './secrets.js';
import { isStopText } from './stopWords.js';

/**
 * The messenger channel over a Telegram-Bot-API-compatible server: `POST {apiBase}/bot{token}/sendMessage`.
 * The Bot API has no idempotency key, so the channel is not idempotent.
 */

/** A private chat, group or channel id (signed integer), or a public channel's `@username`. */
const CHAT_ID = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/;
const TOKEN = /^\d+:[A-Za-z0-9_-]+$/;
/** 400 descriptions meaning the chat does not exist for this bot: the contact's link is dead. */
const GONE =
  /chat not found|user not found|peer_id_invalid|chat_id is empty|bot was blocked|user is deactivated/i;
const AMBIGUOUS_5XX = new Set([500, 502, 504]);

interface BotAnswer {
  ok?: boolean;
  result?: { message_id?: number | string };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

export function telegramChannel(input: z.input<typeof MessengerConfig>, env: Env = process.env): Channel {
  const config = openConfig(MessengerConfig, input, 'messenger');
  const token = resolveSecret(config.token, 'messenger.token', env);
  if (!TOKEN.test(token))
    throw invalid('messenger.token: must be a bot token as @BotFather gives it ("123456789:AA…")', {
      field: 'messenger.token',
    });
  const url = `${config.apiBase.replace(/\/+$/, '')}/bot${token}/sendMessage`;
  const hide = (s: string) => s.split(token).join('<token>');

  return {
    kind: 'messenger',
    idempotent: false,
    async send(message: OutboundMessage): Promise<SendOutcome> {
      if (!CHAT_ID.test(message.to))
        return {
          status: 'rejected',
          reason: `not a Telegram chat id: ${JSON.stringify(clip(message.to, 40))}`,
          suppress: true,
        };
      if (message.text.trim() === '')
        return { status: 'rejected', reason: 'the message text is empty', suppress: false };
      const body = JSON.stringify({
        chat_id: message.to,
        text: message.text,
        ...(config.parseMode ? { parse_mode: config.parseMode } : {}),
      });
      const r = await exchange(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body },
        config.timeoutMs,
        message.handOver,
      );
      if ('failure' in r) return { ...r.failure, reason: hide(r.failure.reason) };
      return outcomeOf(r.answer);
    },
    async close() {},
  };
}

function outcomeOf(a: HttpAnswer): SendOutcome {
  const bot = (a.json ?? {}) as BotAnswer;
  const description = bot.description ?? clip(a.text);
  const said = `Bot API answered ${a.status}${description ? `: ${clip(description)}` : ''}`;
  if (a.status >= 200 && a.status < 300) {
    if (bot.ok === true) {
      const id = bot.result?.message_id;
      return { status: 'sent', providerId: id === undefined ? null : String(id) };
    }
    return {
      status: 'retry',
      reason: `Bot API answered ${a.status} without "ok": true: ${clip(a.text)}`,
      ambiguous: true,
    };
  }
  if (a.status === 429) {
    const seconds = bot.parameters?.retry_after;
    const wait = typeof seconds === 'number' && seconds >= 0 ? seconds * 1000 : retryAfterMs(a.headers);
    return { status: 'retry', reason: said, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  if (a.status === 403) return { status: 'rejected', reason: said, suppress: true };
  if (a.status === 400) return { status: 'rejected', reason: said, suppress: GONE.test(description) };
  if (a.status === 401 || a.status === 404)
    return { status: 'retry', reason: `${said} (check messenger.token and messenger.apiBase)` };
  if (a.status >= 500) {
    const wait = retryAfterMs(a.headers);
    return {
      status: 'retry',
      reason: said,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      ...(AMBIGUOUS_5XX.has(a.status) ? { ambiguous: true } : {}),
    };
  }
  return { status: 'rejected', reason: said, suppress: false };
}

/** What a bot update means for messaging. */
export interface TelegramInbound {
  /** The chat to send to (`OutboundMessage.to`). */
  chatId: string;
  /** The Telegram user who wrote, when known. */
  user: { id: string; username: string | null; firstName: string | null } | null;
  text: string;
  /** `/stop`, a STOP word (en/uk/ru), or the user blocked the bot: withdraw the messenger consent. */
  isStop: boolean;
  /** The user blocked the bot (a `my_chat_member` update to `kicked`). */
  blocked: boolean;
  /** `/start <payload>` from a deep link `t.me/<bot>?start=<payload>`: connects this chat to a contact. */
  startPayload: string | null;
}

const COMMAND = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

function text(update: unknown, path: string): string | null {
  const v = valueAt(update, path);
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
}

function chatIdAt(update: unknown, base: string): string {
  const id = text(update, `${base}.chat.id`);
  if (id === null)
    throw invalid(`Telegram update: no chat id at "${base}.chat.id"`, { field: `${base}.chat.id` });
  return id;
}

function userAt(update: unknown, base: string): TelegramInbound['user'] {
  const id = text(update, `${base}.from.id`);
  return id === null
    ? null
    : {
        id,
        username: text(update, `${base}.from.username`),
        firstName: text(update, `${base}.from.first_name`),
      };
}

/**
 * Reads a Bot API update (webhook body or one `getUpdates` result): a text message, or the user blocking
 * the bot. Other updates (edits, channel posts, photos without a caption…) give null.
 */
export function parseTelegramUpdate(update: unknown): TelegramInbound | null {
  if (update === null || typeof update !== 'object' || Array.isArray(update))
    throw invalid('Telegram update: expected a JSON object');
  const u = update as Record<string, unknown>;
  if (u.my_chat_member !== undefined) {
    const status = text(update, 'my_chat_member.new_chat_member.status');
    if (status !== 'kicked') return null;
    const chatId = chatIdAt(update, 'my_chat_member');
    return {
      chatId,
      user: userAt(update, 'my_chat_member'),
      text: '',
      isStop: true,
      blocked: true,
      startPayload: null,
    };
  }
  if (u.message === undefined) return null;
  const chatId = chatIdAt(update, 'message');
  const body = text(update, 'message.text') ?? text(update, 'message.caption');
  if (body === null) return null;
  const command = COMMAND.exec(body.trim());
  const name = command?.[1]?.toLowerCase();
  const arg = command?.[2]?.trim() || null;
  return {
    chatId,
    user: userAt(update, 'message'),
    text: body,
    isStop: name === 'stop' || name === 'unsubscribe' || isStopText(body),
    blocked: false,
    startPayload: name === 'start' ? arg : null,
  };
}
