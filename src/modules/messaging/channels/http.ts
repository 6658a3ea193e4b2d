import type { SendOutcome } from './port.js';

/**
 * The HTTP exchange of the SMS and messenger adapters (Node's fetch): one request with a deadline, the
 * answer's text and JSON, and what a failure to get one means for the message.
 */

export type RetryOutcome = Extract<SendOutcome, { status: 'retry' }>;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

/** Errors that leave before the request is sent: a retry cannot double the message. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

/** At most this much of a provider's text goes into a reason. */
export function clip(text: string, max = 300): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * Sends one request, after `handOver` (the send path's commit point); never throws for the network or
 * the answer (a failure is a retry outcome).
 */
export async function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
  handOver?: () => Promise<void>,
): Promise<{ answer: HttpAnswer } | { failure: RetryOutcome }> {
  // Outside the try: a refused hand-over is not a network failure (the request is never made).
  if (handOver) await handOver();
  try {
    const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { answer: { status: res.status, headers: res.headers, text, json } };
  } catch (err) {
    return { failure: networkFailure(err, timeoutMs) };
  }
}

function networkFailure(err: unknown, timeoutMs: number): RetryOutcome {
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return { status: 'retry', reason: `no answer within ${timeoutMs} ms`, ambiguous: true };
  const code = e?.cause?.code ?? e?.code;
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return {
    status: 'retry',
    reason: clip(code ? `${code}: ${detail}` : detail),
    ambiguous: !(code !== undefined && NOT_SENT.has(code)),
  };
}

/**
 * The wait a `Retry-After` header asks for, in ms: seconds, or an HTTP date measured against the
 * answer's own `Date` header (no local clock involved); undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers): number | undefined {
  const v = headers.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  const now = Date.parse(headers.get('date') ?? '');
  return Number.isFinite(at) && Number.isFinite(now) ? Math.max(0, at - now) : undefined;
}
