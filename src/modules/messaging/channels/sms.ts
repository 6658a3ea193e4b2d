import type { z } from 'zod';
import { invalid } from '../../../shared/errors.js';
import { openConfig } from './configParse.js';
import { clip, exchange, retryAfterMs, type HttpAnswer } from './http.js';
import { textAt } from './jsonPath.js';
import type { Channel, OutboundMessage, SendOutcome } from './port.js';
import { SmsConfig } from './schema.js';
import { resolveSecret, type Env } from './secrets.js';
import { isStopText } from './stopWords.js';

/**
 * SMS through a configurable HTTP gateway: one JSON request per message, built from the config's payload
 * template, with the send key in an idempotency header (so the gateway's dedup makes a retry safe).
 */

/** E.164: `+`, a country code that does not start with 0, 8–15 digits in all. */
export const E164 = /^\+[1-9]\d{7,14}$/;

/** The number in E.164 without the spaces, dashes, dots and brackets people write (`+380 (67) 123-45-67`). */
export function normalizePhone(raw: string): string | null {
  const n = raw.replace(/[\s\-.()]/g, '');
  return E164.test(n) ? n : null;
}

/** A send key as an HTTP header value: visible ASCII, at most 255 characters. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** Answers worth another try: the service is briefly unavailable or slow. */
const RETRY_4XX = new Set([401, 403, 408, 409, 425, 429]);
/** 5xx answers after which the gateway may still have sent the message (a proxy gave up waiting). */
const AMBIGUOUS_5XX = new Set([500, 502, 504]);

const PLACEHOLDER = /\{\{\s*(to|text|key|sender)\s*\}\}/g;

/** The payload template with its placeholders replaced inside its strings: values never touch JSON syntax. */
export function renderPayload(
  template: unknown,
  values: Record<'to' | 'text' | 'key' | 'sender', string>,
): unknown {
  if (typeof template === 'string')
    return template.replace(PLACEHOLDER, (_, name: keyof typeof values) => values[name]);
  if (Array.isArray(template)) return template.map((v) => renderPayload(v, values));
  if (template !== null && typeof template === 'object')
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderPayload(v, values)]));
  return template;
}

export function smsChannel(input: z.input<typeof SmsConfig>, env: Env = process.env): Channel {
  const config = openConfig(SmsConfig, input, 'sms');
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [name, value] of Object.entries(config.headers))
    headers[name.toLowerCase()] = resolveSecret(value, `sms.headers.${name}`, env);
  const auth = config.auth;
  if (auth?.type === 'bearer')
    headers.authorization = `Bearer ${resolveSecret(auth.token, 'sms.auth.token', env)}`;
  if (auth?.type === 'basic') {
    const password = resolveSecret(auth.password, 'sms.auth.password', env);
    headers.authorization = `Basic ${Buffer.from(`${auth.username}:${password}`).toString('base64')}`;
  }

  return {
    kind: 'sms',
    idempotent: config.idempotencyHeader !== null,
    async send(message: OutboundMessage): Promise<SendOutcome> {
      if (!KEY.test(message.key))
        throw new Error(
          `sms: the send key must be 1–255 visible ASCII characters, got ${JSON.stringify(message.key)}`,
        );
      const to = normalizePhone(message.to);
      if (!to)
        return {
          status: 'rejected',
          reason: `not a phone number in E.164 form (+ and 8–15 digits): ${JSON.stringify(clip(message.to, 40))}`,
          suppress: true,
        };
      if (message.text.trim() === '')
        return { status: 'rejected', reason: 'the SMS text is empty', suppress: false };
      const body = JSON.stringify(
        renderPayload(config.payload, {
          to,
          text: message.text,
          key: message.key,
          sender: config.sender ?? '',
        }),
      );
      const h = { ...headers };
      if (config.idempotencyHeader) h[config.idempotencyHeader] = message.key;
      const r = await exchange(
        config.url,
        { method: config.method, headers: h, body },
        config.timeoutMs,
        message.handOver,
      );
      return 'failure' in r ? r.failure : outcomeOf(r.answer, config);
    },
    async close() {},
  };
}

function outcomeOf(a: HttpAnswer, config: SmsConfig): SendOutcome {
  const said = `gateway answered ${a.status}${a.text ? `: ${clip(a.text)}` : ''}`;
  if (a.status >= 200 && a.status < 300)
    return { status: 'sent', providerId: textAt(a.json, config.messageIdPath) };
  if (a.status >= 300 && a.status < 400)
    return {
      status: 'retry',
      reason: `gateway redirected to ${a.headers.get('location') ?? '?'} (${a.status}); set sms.url to the final address`,
    };
  if (config.suppressStatuses.includes(a.status)) return { status: 'rejected', reason: said, suppress: true };
  if (config.rejectStatuses.includes(a.status)) return { status: 'rejected', reason: said, suppress: false };
  if (a.status >= 500 || RETRY_4XX.has(a.status)) {
    const wait = retryAfterMs(a.headers);
    const hint = a.status === 401 || a.status === 403 ? ' (check the gateway credentials)' : '';
    return {
      status: 'retry',
      reason: said + hint,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      ...(AMBIGUOUS_5XX.has(a.status) || a.status === 409 ? { ambiguous: true } : {}),
    };
  }
  return { status: 'rejected', reason: said, suppress: false };
}

/** A gateway's delivery report for one message. */
export interface DeliveryReport {
  /** The gateway's message id (the `providerId` the send returned). */
  providerId: string;
  /** The send key, when the report echoes it (`deliveryReport.keyPath`). */
  key: string | null;
  state: 'delivered' | 'failed' | 'pending';
  /** The status as the gateway wrote it. */
  status: string;
  error: string | null;
  /** The number is invalid or unreachable for good: suppress the contact's SMS. */
  suppress: boolean;
}

function fieldsOf(body: unknown, what: string): unknown {
  if (body instanceof URLSearchParams) return Object.fromEntries(body);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid(`${what}: expected a JSON object or form fields`);
  return body;
}

function required(body: unknown, path: string, what: string, label: string, option: string): string {
  const v = textAt(body, path);
  if (v === null || v.trim() === '')
    throw invalid(`${what}: no ${label} at "${path}" (sms.${option})`, { field: path });
  return v.trim();
}

/** Reads a delivery-report callback; a body without the message id or status is a validation error naming the path. */
export function parseDeliveryReport(body: unknown, config: SmsConfig): DeliveryReport {
  const what = 'delivery report';
  const dr = config.deliveryReport;
  const fields = fieldsOf(body, what);
  const providerId = required(fields, dr.idPath, what, 'message id', 'deliveryReport.idPath');
  const status = required(fields, dr.statusPath, what, 'status', 'deliveryReport.statusPath');
  const error = textAt(fields, dr.errorPath);
  const key = dr.keyPath ? textAt(fields, dr.keyPath) : null;
  const is = (list: string[], v: string | null) =>
    v !== null && list.some((x) => x.toLowerCase() === v.toLowerCase());
  const suppress = is(dr.suppress, status) || is(dr.suppress, error);
  const state =
    suppress || is(dr.failed, status) ? 'failed' : is(dr.delivered, status) ? 'delivered' : 'pending';
  return { providerId, key, state, status, error, suppress };
}

/** An SMS a contact sent to the store's number. */
export interface InboundSms {
  /** The sender in E.164 when it is a phone number, else as the gateway wrote it (a short code). */
  from: string;
  text: string;
  /** The text is a STOP word (en/uk/ru): withdraw the contact's SMS consent. */
  isStop: boolean;
}

/** Reads an inbound-SMS callback (fields at `inbound.fromPath` and `inbound.textPath`). */
export function parseInboundSms(body: unknown, config: SmsConfig): InboundSms {
  const what = 'inbound SMS';
  const fields = fieldsOf(body, what);
  const raw = required(fields, config.inbound.fromPath, what, 'sender', 'inbound.fromPath');
  const text = textAt(fields, config.inbound.textPath);
  if (text === null)
    throw invalid(`${what}: no text at "${config.inbound.textPath}" (sms.inbound.textPath)`, {
      field: config.inbound.textPath,
    });
  return { from: normalizePhone(raw) ?? raw, text, isStop: isStopText(text) };
}
