import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { openConfig } from './configParse.js';
import { clip } from './http.js';
import type { Channel, OutboundMessage, SendOutcome } from './port.js';
import { EmailConfig, mailboxDomain } from './schema.js';
import { resolveSecret, type Env } from './secrets.js';
import { openSmtp } from './smtpTransport.js';

/**
 * Email over SMTP (nodemailer's pooled transport): a relay or provider (Postmark, SES, Mailgun, a
 * Postfix) takes each message with 250 or refuses it. Messages carry a Message-ID derived from the send
 * key, `X-Retain-Key`, and RFC 8058 one-click unsubscribe headers; DKIM-signed when configured. The
 * SMTP work runs on its own thread when it can (smtpTransport.ts).
 */

/** `<first 32 hex of sha256(key)@domain>`: the same key gives the same Message-ID on every attempt. */
export function messageIdFor(key: string, domain: string): string {
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;
}

/** One mailbox, nothing that could add a second recipient or break the envelope. */
const RECIPIENT = /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+\.[^\s@<>(),;:"\\[\]]+$/;
/** Headers the adapter writes; a message may not set them itself. */
const OWN_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'reply-to',
  'message-id',
  'date',
  'x-retain-key',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'mime-version',
]);
/** Errors raised before a byte of the session is exchanged: nothing can have been delivered. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
const NOT_SENT_TIMEOUTS = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_TIMEOUT',
  'GREETING_TIMEOUT',
  'DNS_TIMEOUT',
]);

interface SmtpError extends Error {
  code?: string;
  originalCode?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  timeoutType?: string;
}

/**
 * What an SMTP failure means for the message. 5xx: refused for good (suppressing the address when the
 * refusal is about the recipient: at RCPT TO, or an enhanced status 5.1.x/5.2.1 later; not for 5.7.x
 * policy refusals); 4xx, connection loss and timeouts: retry; problems of the configuration (login,
 * TLS, the sender refused): retry, with the reason saying what to fix.
 */
export function smtpOutcome(err: SmtpError): SendOutcome {
  const server = err.response ? clip(err.response) : '';
  const code = err.responseCode;
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH')
    return { status: 'retry', reason: `SMTP login failed (check email.auth): ${server || err.message}` };
  if (err.code === 'ETLS' || err.code === 'EREQUIRETLS')
    return {
      status: 'retry',
      reason: `SMTP TLS failed (check email.secure/requireTLS): ${clip(err.message)}`,
    };
  if (code !== undefined && code >= 500) {
    const enhanced = /\b5\.(\d{1,3})\.(\d{1,3})\b/.exec(server);
    const policy = enhanced?.[1] === '7';
    if (err.command === 'MAIL FROM' && !/\b5\.3\.4\b|\b552\b/.test(server))
      return { status: 'retry', reason: `SMTP server refused the sender (check email.from): ${server}` };
    const badMailbox =
      err.command === 'RCPT TO'
        ? !policy
        : enhanced !== null && (enhanced[1] === '1' || (enhanced[1] === '2' && enhanced[2] === '1'));
    return { status: 'rejected', reason: server || clip(err.message), suppress: badMailbox };
  }
  if (code !== undefined && code >= 400) return { status: 'retry', reason: server };
  if (err.code === 'EMESSAGE' || err.code === 'EENVELOPE')
    return { status: 'rejected', reason: clip(err.message), suppress: false };
  const system = err.originalCode ?? err.code;
  const before =
    (system !== undefined && NOT_SENT.has(system)) ||
    (err.timeoutType !== undefined && NOT_SENT_TIMEOUTS.has(err.timeoutType));
  return {
    status: 'retry',
    reason: clip(`${err.code ?? 'error'}${err.originalCode ? `/${err.originalCode}` : ''}: ${err.message}`),
    ...(before ? {} : { ambiguous: true }),
  };
}

/** The provider's id for an accepted message: the queue id of `250 … queued as <id>`, else the whole reply. */
export function queueIdOf(response: string): string {
  const m =
    /queued as\s+<?([A-Za-z0-9._@-]+)>?/i.exec(response) ??
    /\bid[=:]\s*<?([A-Za-z0-9._@-]+)>?/i.exec(response);
  return m?.[1] ?? response.replace(/^250[ -]/, '').trim();
}

export function emailChannel(input: z.input<typeof EmailConfig>, env: Env = process.env): Channel {
  const config = openConfig(EmailConfig, input, 'email');
  const domain = mailboxDomain(config.from);
  const transport = openSmtp(
    {
      pool: true,
      host: config.host,
      port: config.port,
      secure: config.secure ?? config.port === 465,
      requireTLS: config.requireTLS,
      tls: { rejectUnauthorized: config.rejectUnauthorized },
      ...(config.name ? { name: config.name } : {}),
      ...(config.auth
        ? { auth: { user: config.auth.user, pass: resolveSecret(config.auth.pass, 'email.auth.pass', env) } }
        : {}),
      maxConnections: config.pool.maxConnections,
      maxMessages: config.pool.maxMessages,
      // A reused connection the server closed while idle fails before a byte is sent; one requeue covers it.
      maxRequeues: 1,
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
      ...(config.dkim
        ? {
            dkim: {
              domainName: config.dkim.domain,
              keySelector: config.dkim.selector,
              privateKey: resolveSecret(config.dkim.privateKey, 'email.dkim.privateKey', env),
            },
          }
        : {}),
      logger: false,
    },
    env,
  );

  return {
    kind: 'email',
    idempotent: false,
    async send(message: OutboundMessage): Promise<SendOutcome> {
      if (message.key === '') throw new Error('email: the send key is empty');
      const headers: Record<string, string | { prepared: true; value: string }> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        if (OWN_HEADERS.has(name.toLowerCase()) || !/^[!-9;-~]+$/.test(name))
          throw new Error(`email: header ${JSON.stringify(name)} cannot be set by a message`);
        if (/[\r\n]/.test(value)) throw new Error(`email: header ${name} holds a line break`);
        headers[name] = value;
      }
      if (message.unsubscribeUrl !== undefined) {
        if (!/^(https:|http:|mailto:)[^\s<>]+$/.test(message.unsubscribeUrl))
          throw new Error(`email: unsubscribeUrl is not a URL: ${JSON.stringify(message.unsubscribeUrl)}`);
        headers['List-Unsubscribe'] = `<${message.unsubscribeUrl}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
      }
      // Unfolded (a key has no spaces, so a folded one would not unfold back to itself; RFC 5322
      // allows 998 characters on a line): bounce reports and tools find it on one line.
      if (/[^\x21-\x7e]/.test(message.key) || message.key.length > 900)
        throw new Error(`email: the send key is not printable ASCII of at most 900 characters`);
      headers['X-Retain-Key'] = { prepared: true, value: message.key };
      const to = message.to.trim();
      if (!RECIPIENT.test(to))
        return {
          status: 'rejected',
          reason: `not an email address: ${JSON.stringify(clip(message.to, 80))}`,
          suppress: true,
        };
      try {
        const response = await transport.send(
          {
            from: config.from,
            ...(config.replyTo ? { replyTo: config.replyTo } : {}),
            to,
            subject: message.subject ?? '',
            text: message.text,
            ...(message.html !== undefined ? { html: message.html } : {}),
            messageId: messageIdFor(message.key, domain),
            headers,
            envelope: { from: config.from, to: [to] },
          },
          message.handOver,
        );
        return { status: 'sent', providerId: queueIdOf(response) || null };
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        return smtpOutcome(err as SmtpError);
      }
    },
    close: () => transport.close(),
  };
}
