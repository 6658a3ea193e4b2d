/**
 * The channel port: every way Retain talks to a contact (email over SMTP, SMS through an HTTP gateway,
 * a Telegram-Bot-API-compatible messenger) is one adapter behind this interface. The send path
 * (messaging/service.ts) owns consent, caps, quiet hours and the send ledger; an adapter only delivers
 * one rendered message and says what the provider answered.
 */

export type ChannelKind = 'email' | 'sms' | 'messenger';

/** One rendered message for one contact. */
export interface OutboundMessage {
  /** The send ledger's unique key (source × step × customer × occurrence): passed to providers that take
   *  an idempotency key (an HTTP header), used to derive the email Message-ID. */
  key: string;
  /** Email address, E.164 phone number, or messenger chat id. */
  to: string;
  /** Email only. */
  subject?: string;
  /** Email: the HTML part; unused by text-only channels. */
  html?: string;
  /** Plain text: the email's text part, the SMS or messenger body. */
  text: string;
  /** Email: RFC 8058 one-click unsubscribe URL (List-Unsubscribe + List-Unsubscribe-Post headers). */
  unsubscribeUrl?: string;
  /** Extra headers (email) — e.g. X-Retain-Key is always added by the adapter. */
  headers?: Record<string, string>;
  /**
   * The send path's commit point: an adapter awaits it right before the point after which the provider
   * may have the message — SMTP: with the whole message written, before the end of DATA; HTTP: before
   * the request. Until then a crash loses nothing (the send ledger queues the message again); after it
   * the message counts as handed over. If it rejects, the adapter must not let the message go (the
   * ledger gave it to another sender) and may reject or report a retry.
   */
  handOver?: () => Promise<void>;
}

/** What the provider answered for one message. */
export type SendOutcome =
  /** Accepted by the provider (SMTP 250, HTTP 2xx). */
  | { status: 'sent'; providerId: string | null }
  /** Refused for good (SMTP 5xx on the recipient, HTTP 4xx naming the recipient): the address is
   *  suppressed when `suppress` is true (hard bounce, invalid number, blocked bot). */
  | { status: 'rejected'; reason: string; suppress: boolean }
  /** Not accepted this time (connection refused, SMTP 4xx, HTTP 5xx/429, timeout): retried later. The
   *  provider did not take the message, so a retry cannot double it — unless `ambiguous` is true: the
   *  connection broke or timed out after the message may have been handed over (SMTP: a session lost
   *  mid-transaction; HTTP: no answer to a request that was sent), so the provider may have taken it.
   *  For a channel that is not `idempotent` the send path treats that like a crash mid-send. */
  | { status: 'retry'; reason: string; retryAfterMs?: number; ambiguous?: boolean };

export interface Channel {
  readonly kind: ChannelKind;
  /** Whether the provider deduplicates by `OutboundMessage.key` (then an ambiguous send after a crash
   *  may be retried safely). */
  readonly idempotent: boolean;
  send(message: OutboundMessage): Promise<SendOutcome>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
