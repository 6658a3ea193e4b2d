import { simpleParser, type Attachment } from 'mailparser';
import type { ModuleContext } from '../../kit/context.js';
import { AppError, type ErrorLocation } from '../../shared/errors.js';
import { applyConsent } from '../customers/service.js';
import * as consentRepo from './consentRepository.js';
import * as repo from './repository.js';

/**
 * The email feedback loop (issue 21): the messages a store's bounce mailbox receives — RFC 3464
 * delivery status notifications and RFC 5965 (ARF) feedback reports — read with mailparser and turned
 * into suppressions, consent and notes on the send ledger. `POST /hooks/email-feedback/<token>` takes
 * one raw message, `retain send feedback <file.eml…>` files.
 *
 * - a recipient with `Action: failed` and a `5.x.x` status is a hard bounce: the address is
 *   suppressed (source `bounce`) and the send's delivery set to `bounced <status>`;
 * - `4.x.x` (or `Action: delayed`) is noted on the send (`delayed <status>`), nothing more;
 * - `Feedback-Type: abuse` is a complaint: the address is suppressed (source `complaint`) and the
 *   contact's email consent becomes `unsubscribed` (source `complaint`); other feedback types are noted.
 *
 * The original send is found by the `X-Retain-Key` header of the returned message (or its headers), else
 * by the recipient's address (the latest email sent there).
 */

export interface FeedbackRecipient {
  address: string;
  /** `bounce` (hard), `delay` (soft, noted), `delivered`/other actions (noted), `complaint`, `feedback` (other ARF types). */
  kind: 'bounce' | 'delay' | 'delivered' | 'complaint' | 'feedback';
  status: string | null;
  detail: string | null;
}

export interface FeedbackReport {
  type: 'delivery-status' | 'feedback-report';
  key: string | null;
  recipients: FeedbackRecipient[];
}

const bad = (why: string, where?: ErrorLocation) =>
  new AppError('validation', `not a readable bounce or complaint report: ${why}`, where ? { where } : {});

/** RFC 822-style field blocks (unfolded; names lower-case), separated by blank lines. */
export function fieldBlocks(text: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  for (const chunk of text.replace(/\r\n/g, '\n').split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    for (const line of chunk.replace(/\n[ \t]+/g, ' ').split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
    }
    if (fields.size > 0) blocks.push(fields);
  }
  return blocks;
}

/** `rfc822; Ann@Example.com` or `<ann@example.com>` → `ann@example.com` (null when not an address). */
export function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.replace(/^[a-z0-9-]+\s*;\s*/i, '').trim();
  const m = /<([^<>\s]+@[^<>\s]+)>/.exec(v) ?? /([^\s<>;,"]+@[^\s<>;,"]+)/.exec(v);
  return m ? (m[1] as string).toLowerCase() : null;
}

const partOf = (atts: Attachment[], ...types: string[]) =>
  atts.find((a) => types.includes(a.contentType.toLowerCase()));

/** Parses one raw message (RFC 5322) into a report; anything else is a 400 naming why. */
export async function parseFeedback(raw: Buffer | string, where?: ErrorLocation): Promise<FeedbackReport> {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  if (text.trim() === '') throw bad('the message is empty', where);
  if (!/^[\x21-\x39\x3b-\x7e]+:/m.test(text.slice(0, 2000)))
    throw bad('it does not start with message header fields (a raw RFC 5322 message is expected)', where);
  let parsed;
  try {
    parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextLinks: true });
  } catch (err) {
    throw bad(`the MIME structure cannot be read (${(err as Error).message})`, where);
  }
  const ct = parsed.headers.get('content-type') as
    { value?: string; params?: Record<string, string> } | undefined;
  const type = ct?.value?.toLowerCase() ?? 'text/plain';
  const reportType = ct?.params?.['report-type']?.toLowerCase();
  if (type !== 'multipart/report')
    throw bad(
      `its Content-Type is ${type}, not multipart/report (an RFC 3464 delivery status notification or an RFC 5965 feedback report)`,
      where,
    );
  const atts = parsed.attachments;
  const original = partOf(atts, 'message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers');
  const originalFields = original ? (fieldBlocks(original.content.toString('utf8'))[0] ?? new Map()) : null;
  // An inline message/rfc822 part is merged into the text by mailparser: read our header from the raw.
  const key =
    (
      originalFields?.get('x-retain-key') ??
      /^X-Retain-Key:[ \t]*(\S+(?:\r?\n[ \t]+\S+)*)[ \t]*$/im.exec(text)?.[1]
    )?.replace(/\s+/g, '') ?? null;
  const originalTo = addressOf(originalFields?.get('to'));

  const dsn = partOf(atts, 'message/delivery-status', 'message/global-delivery-status');
  if (reportType === 'delivery-status' || (!reportType && dsn)) {
    if (!dsn) throw bad('the delivery-status report has no message/delivery-status part', where);
    const blocks = fieldBlocks(dsn.content.toString('utf8'));
    const perRecipient = blocks.filter((b) => b.has('final-recipient') || b.has('original-recipient'));
    if (perRecipient.length === 0)
      throw bad('the message/delivery-status part names no recipient (Final-Recipient)', where);
    return {
      type: 'delivery-status',
      key,
      recipients: perRecipient.map((b, i) => {
        const address = addressOf(b.get('final-recipient')) ?? addressOf(b.get('original-recipient'));
        if (!address)
          throw bad(
            `recipient ${i + 1}: Final-Recipient '${b.get('final-recipient') ?? ''}' is not an address`,
            where,
          );
        const action = (b.get('action') ?? '').toLowerCase();
        const status = /^([245])\.\d{1,3}\.\d{1,3}/.exec(b.get('status') ?? '')?.[0] ?? null;
        if (!action && !status) throw bad(`recipient ${address}: neither Action nor Status is given`, where);
        const kind: FeedbackRecipient['kind'] =
          status?.startsWith('5') && (action === 'failed' || action === '')
            ? 'bounce'
            : action === 'failed' || action === 'delayed' || status?.startsWith('4')
              ? 'delay'
              : 'delivered';
        return {
          address,
          kind,
          status: status ?? action,
          detail: (b.get('diagnostic-code') ?? null)?.slice(0, 500) ?? null,
        };
      }),
    };
  }
  if (reportType === 'feedback-report' || partOf(atts, 'message/feedback-report')) {
    const arf = partOf(atts, 'message/feedback-report');
    if (!arf) throw bad('the feedback report has no message/feedback-report part', where);
    const f = fieldBlocks(arf.content.toString('utf8'))[0] ?? new Map<string, string>();
    const feedbackType = f.get('feedback-type')?.toLowerCase();
    if (!feedbackType) throw bad('the message/feedback-report part has no Feedback-Type', where);
    const address = addressOf(f.get('original-rcpt-to')) ?? originalTo;
    if (!address && !key)
      throw bad(
        'the feedback report names no recipient (Original-Rcpt-To, or To of the reported message) and carries no X-Retain-Key',
        where,
      );
    return {
      type: 'feedback-report',
      key,
      recipients: [
        {
          address: address ?? '',
          kind: feedbackType === 'abuse' ? 'complaint' : 'feedback',
          status: feedbackType,
          detail: [f.get('user-agent'), f.get('source-ip')].filter(Boolean).join('; ') || null,
        },
      ],
    };
  }
  throw bad(`report-type '${reportType ?? ''}' is neither delivery-status nor feedback-report`, where);
}

export interface FeedbackOutcome {
  type: FeedbackReport['type'];
  key: string | null;
  recipients: (FeedbackRecipient & {
    send: string | null;
    customer: string | null;
    suppressed: boolean;
    unsubscribed: string[];
  })[];
}

/** Applies a parsed report in one transaction. Repeating it changes nothing more. */
export async function applyFeedback(ctx: ModuleContext, report: FeedbackReport): Promise<FeedbackOutcome> {
  const now = ctx.clock.now();
  const keyed = report.key ? await consentRepo.emailSendByKey(ctx.db, report.key) : undefined;
  const out: FeedbackOutcome = { type: report.type, key: report.key, recipients: [] };
  await ctx.db.transaction(async (tx) => {
    for (const r of report.recipients) {
      const address = r.address || keyed?.address?.toLowerCase() || '';
      const send =
        keyed && (!keyed.address || keyed.address.toLowerCase() === address || !r.address)
          ? keyed
          : address
            ? await consentRepo.latestEmailSendTo(tx, address)
            : undefined;
      let suppressed = false;
      const unsubscribed: string[] = [];
      const note =
        r.kind === 'bounce'
          ? `bounced ${r.status ?? ''}`
          : r.kind === 'delay'
            ? `delayed ${r.status ?? ''}`
            : r.kind === 'complaint'
              ? 'complaint'
              : `${r.kind === 'delivered' ? '' : 'feedback '}${r.status ?? ''}`;
      if (send) await consentRepo.noteDelivery(tx, send.send_key, note.trim().slice(0, 200), now);
      if ((r.kind === 'bounce' || r.kind === 'complaint') && address) {
        suppressed =
          (await repo.suppress(
            tx,
            [
              {
                channel: 'email',
                address,
                reason: (r.kind === 'bounce'
                  ? `${r.status ?? '5.0.0'} ${r.detail ?? 'hard bounce'}`
                  : `complaint (${r.status ?? 'abuse'} report)`
                ).slice(0, 500),
                source: r.kind,
              },
            ],
            now,
          )) > 0;
      }
      if (r.kind === 'complaint') {
        const who = send
          ? [{ customer_id: send.customer_id, external_id: send.external_id }]
          : await consentRepo.customersByEmail(tx, address);
        for (const c of who) {
          const was = await consentRepo.consentNow(tx, c.customer_id, 'email');
          if (was?.status === 'unsubscribed') continue;
          await applyConsent(
            tx,
            ctx.db.dialect,
            { customerId: c.customer_id, externalId: c.external_id },
            'email',
            {
              status: 'unsubscribed',
              source: 'complaint',
              proof: {
                formText: `Feedback-Type: ${r.status ?? 'abuse'}${r.detail ? ` (${r.detail})` : ''}`.slice(
                  0,
                  5000,
                ),
              },
            },
            now,
          );
          unsubscribed.push(c.external_id);
        }
      }
      out.recipients.push({
        ...r,
        address,
        send: send?.send_key ?? null,
        customer: send?.external_id ?? null,
        suppressed,
        unsubscribed,
      });
    }
  });
  return out;
}

/** One raw message from the store's bounce mailbox: parsed, then applied. */
export async function emailFeedback(
  ctx: ModuleContext,
  { raw, where }: { raw: Buffer | string; where?: ErrorLocation },
): Promise<FeedbackOutcome> {
  return applyFeedback(ctx, await parseFeedback(raw, where));
}
