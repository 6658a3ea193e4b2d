import { z } from 'zod';
import { pathSegments } from './jsonPath.js';

/**
 * The channel configs (one JSON object, `RETAIN_CHANNELS` or the store's settings): one schema per
 * adapter, composed and parsed by config.ts. Unknown keys are refused, so a misspelt option is an error
 * naming its path rather than a silent default.
 */

/** A secret: the value itself, or `{"env": "NAME"}` to read it from the environment when the channel opens. */
export const Secret = z.union([
  z.string().min(1),
  z.strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
  }),
]);
export type Secret = z.infer<typeof Secret>;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(HEADER_NAME, 'must be an HTTP header name');
const jsonPath = z
  .string()
  .refine((p) => pathSegments(p) !== null, 'must be a JSON path such as "messages.0.id" or "$.data.id"');
const timeoutMs = (fallback: number) => z.number().int().min(100).max(600_000).default(fallback);
/** `news@shop.com` or `Shop <news@shop.com>`: the address is what the Message-ID domain comes from. */
const ADDRESS = /^(?:[^<>]*<)?([^\s@<>(),;:"]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,}|\[[0-9.:a-fA-F]+\]))>?$/;
const mailbox = z
  .string()
  .trim()
  .regex(ADDRESS, 'must be an address: "news@shop.com" or "Shop <news@shop.com>"');

/** The domain of a mailbox accepted by the schema (`Shop <news@shop.com>` → `shop.com`). */
export function mailboxDomain(from: string): string {
  return ADDRESS.exec(from.trim())?.[2] ?? 'localhost';
}

export const EmailConfig = z.strictObject({
  /** SMTP relay host and port (587 submission with STARTTLS, 465 implicit TLS, 25 relay). */
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte; default: true on port 465. Otherwise STARTTLS is used when offered. */
  secure: z.boolean().optional(),
  /** Refuse to send unless the session is upgraded with STARTTLS. */
  requireTLS: z.boolean().default(false),
  /** Verify the server's certificate (false only for a relay with a self-signed one on a private network). */
  rejectUnauthorized: z.boolean().default(true),
  auth: z.strictObject({ user: z.string().min(1), pass: Secret }).optional(),
  from: mailbox,
  replyTo: mailbox.optional(),
  /** The pooled connections: at most `maxConnections` open, each closed after `maxMessages` messages. */
  pool: z
    .strictObject({
      maxConnections: z.number().int().min(1).max(100).default(5),
      maxMessages: z.number().int().min(1).max(100_000).default(100),
    })
    .prefault({}),
  /** DKIM signing (RFC 6376): the public key is published at `<selector>._domainkey.<domain>`. */
  dkim: z
    .strictObject({
      domain: z.string().regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'must be a domain name'),
      selector: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a DKIM selector'),
      /** The private key, PEM (`-----BEGIN PRIVATE KEY-----…`). */
      privateKey: Secret,
    })
    .optional(),
  /** Connection, greeting and idle-socket timeout. */
  timeoutMs: timeoutMs(30_000),
  /** The EHLO name; default: the machine's host name. */
  name: z.string().min(1).optional(),
});
export type EmailConfig = z.output<typeof EmailConfig>;

/** The placeholders of the SMS payload template. */
export const SMS_PLACEHOLDERS = ['to', 'text', 'key', 'sender'] as const;
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

const JsonTemplate: z.ZodType<unknown> = z.json();

export const SmsConfig = z
  .strictObject({
    /** The gateway's send endpoint. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    method: z.enum(['POST', 'PUT']).default('POST'),
    /** Extra request headers; values may be secrets. */
    headers: z.record(headerName, Secret).default({}),
    /** Authorization header from a token (`Bearer …`) or a user and password (`Basic …`). */
    auth: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('bearer'), token: Secret }),
        z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: Secret }),
      ])
      .optional(),
    /** The sender name or number, `{{sender}}` in the payload. */
    sender: z.string().min(1).optional(),
    /** The JSON body: any JSON value; `{{to}} {{text}} {{key}} {{sender}}` inside its strings are replaced. */
    payload: JsonTemplate.default({ to: '{{to}}', text: '{{text}}' }),
    /** The header carrying the send key, for gateways that deduplicate by it; null: none (not idempotent). */
    idempotencyHeader: headerName.nullable().default('Idempotency-Key'),
    /** Where the answer keeps the provider's message id. */
    messageIdPath: jsonPath.default('id'),
    timeoutMs: timeoutMs(10_000),
    /** Answers that refuse this message for good (the rest of 4xx, but 401/403/408/409/429, are too). */
    rejectStatuses: z.array(z.number().int().min(400).max(499)).default([400, 404, 422]),
    /** Answers meaning the number itself is invalid or unreachable: the contact is suppressed. */
    suppressStatuses: z.array(z.number().int().min(400).max(499)).default([]),
    /** The delivery-report callback's fields. */
    deliveryReport: z
      .strictObject({
        idPath: jsonPath.default('id'),
        statusPath: jsonPath.default('status'),
        errorPath: jsonPath.default('error'),
        /** Where the report echoes the send key, when the payload passed `{{key}}` as a reference. */
        keyPath: jsonPath.optional(),
        delivered: z.array(z.string()).default(['delivered', 'DELIVRD']),
        failed: z
          .array(z.string())
          .default(['failed', 'undelivered', 'rejected', 'expired', 'UNDELIV', 'REJECTD', 'EXPIRED']),
        /** Statuses (or error codes) meaning the number is invalid: the contact is suppressed. */
        suppress: z.array(z.string()).default([]),
      })
      .prefault({}),
    /** The inbound-SMS callback's fields. */
    inbound: z
      .strictObject({ fromPath: jsonPath.default('from'), textPath: jsonPath.default('text') })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const walk = (value: unknown, path: (string | number)[]) => {
      if (typeof value === 'string') {
        for (const m of value.matchAll(PLACEHOLDER)) {
          const name = m[1] as string;
          if (!(SMS_PLACEHOLDERS as readonly string[]).includes(name))
            ctx.addIssue({
              code: 'custom',
              path,
              message: `unknown placeholder {{${name}}}; expected one of ${SMS_PLACEHOLDERS.map((p) => `{{${p}}}`).join(' ')}`,
            });
          else if (name === 'sender' && config.sender === undefined)
            ctx.addIssue({ code: 'custom', path, message: '{{sender}} is used but "sender" is not set' });
        }
      } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (value !== null && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(config.payload, ['payload']);
    for (const need of ['to', 'text'])
      if (!new RegExp(`\\{\\{\\s*${need}\\s*\\}\\}`).test(JSON.stringify(config.payload)))
        ctx.addIssue({ code: 'custom', path: ['payload'], message: `must contain {{${need}}}` });
  });
export type SmsConfig = z.output<typeof SmsConfig>;

export const MessengerConfig = z.strictObject({
  /** The Bot API flavour; Telegram's is the only one. */
  provider: z.literal('telegram').default('telegram'),
  /** The Bot API's base URL (a self-hosted Bot API server, or a test double). */
  apiBase: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default('https://api.telegram.org'),
  /** The bot's token from @BotFather. */
  token: Secret,
  parseMode: z.enum(['HTML', 'MarkdownV2', 'Markdown']).optional(),
  timeoutMs: timeoutMs(10_000),
});
export type MessengerConfig = z.output<typeof MessengerConfig>;

/** The whole channel configuration: a channel left out is not available. */
export const ChannelsConfig = z.strictObject({
  email: EmailConfig.optional(),
  sms: SmsConfig.optional(),
  messenger: MessengerConfig.optional(),
});
export type ChannelsConfig = z.output<typeof ChannelsConfig>;
