import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest, REPO_ROOT } from '../../../../test/support/bundle.js';
import { startSmtpSink, type SmtpSink } from '../../../../test/support/smtpSink.js';
import { AppError } from '../../../shared/errors.js';
import { emailChannel, messageIdFor } from './email.js';
import type { Channel, OutboundMessage } from './port.js';
import { configureSmtpThread } from './smtpTransport.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function sink(options: Parameters<typeof startSmtpSink>[0] = {}): Promise<SmtpSink> {
  const s = await startSmtpSink(options);
  open.push(s);
  return s;
}

/** RETAIN_EMAIL_THREADS for the cases running now. */
let threadsEnv: Record<string, string> = {};

function channel(s: { port: number }, extra: Record<string, unknown> = {}, env = {}): Channel {
  const c = emailChannel(
    { host: '127.0.0.1', port: s.port, from: 'Shop <news@shop.test>', timeoutMs: 5000, ...extra },
    { ...threadsEnv, ...env },
  );
  open.push(c);
  return c;
}

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  key: 'flow:winback:step1:cust-42:2026-01',
  to: 'anna@example.test',
  subject: 'We miss you',
  text: 'Hello Anna',
  html: '<p>Hello <b>Anna</b></p>',
  ...over,
});

/**
 * Checks a DKIM-Signature (relaxed/relaxed, rsa-sha256; RFC 6376 §3.4.2, §3.4.4, §3.7) against the raw
 * message and the public key: the body hash and the header signature.
 */
function verifyDkim(raw: Buffer, publicKeyPem: string): { d: string; s: string; h: string[] } {
  const text = raw.toString('binary');
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split + 2);
  const body = text.slice(split + 4);
  const fields: string[] = head.split(/\r\n(?![ \t])/).filter(Boolean);
  const sigField = fields.find((f) => /^dkim-signature:/i.test(f));
  if (!sigField) throw new Error('no DKIM-Signature header');
  const tags = Object.fromEntries(
    sigField
      .slice(sigField.indexOf(':') + 1)
      .replace(/\s+/g, '')
      .split(';')
      .filter(Boolean)
      .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]),
  ) as Record<string, string>;
  expect(tags.a).toBe('rsa-sha256');
  expect(tags.c).toBe('relaxed/relaxed');
  let canonBody = body
    .split('\r\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '');
  if (canonBody !== '') canonBody += '\r\n';
  expect(createHash('sha256').update(canonBody, 'binary').digest('base64')).toBe(tags.bh);
  const relaxed = (f: string) => {
    const colon = f.indexOf(':');
    const value = f
      .slice(colon + 1)
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim();
    return `${f.slice(0, colon).trim().toLowerCase()}:${value}`;
  };
  const used = new Map<string, number>();
  const signed = (tags.h as string).split(':').map((name) => {
    const all = fields.filter((f) => f.slice(0, f.indexOf(':')).trim().toLowerCase() === name.toLowerCase());
    const n = used.get(name.toLowerCase()) ?? 0;
    used.set(name.toLowerCase(), n + 1);
    const f = all[all.length - 1 - n];
    return f === undefined ? '' : `${relaxed(f)}\r\n`;
  });
  const unsigned = relaxed(sigField).replace(/b=[^;]*$|b=[^;]*(?=;)/, 'b=');
  const data = Buffer.from(signed.join('') + unsigned, 'binary');
  const ok = verify('sha256', data, publicKeyPem, Buffer.from(tags.b as string, 'base64'));
  expect(ok, 'DKIM signature verifies with the public key').toBe(true);
  return { d: tags.d as string, s: tags.s as string, h: (tags.h as string).toLowerCase().split(':') };
}

const workerBundle = () =>
  bundleForTest(join(REPO_ROOT, 'src/modules/messaging/channels/smtpWorker.ts'), 'smtp-worker');

// Every case runs on the calling thread, on the worker thread the installed CLI uses, and on two.
describe.each([
  ['on the calling thread', 0],
  ['on a worker thread', 1],
  ['on two worker threads', 2],
])('email channel (SMTP) %s', (_, threads) => {
  beforeAll(async () => {
    configureSmtpThread(threads > 0 ? await workerBundle() : null);
    threadsEnv = { RETAIN_EMAIL_THREADS: String(threads) };
  });
  afterAll(() => {
    configureSmtpThread(undefined);
    threadsEnv = {};
  });

  it('delivers with the unsubscribe headers, a Message-ID from the key and X-Retain-Key', async () => {
    const s = await sink();
    const c = channel(s, { replyTo: 'help@shop.test' });
    const m = message({
      unsubscribeUrl: 'https://shop.test/u/abc?x=1',
      headers: { 'X-Campaign': 'winback' },
    });
    const outcome = await c.send(m);
    expect(outcome).toEqual({ status: 'sent', providerId: s.messages[0]?.queueId });
    expect(s.messages).toHaveLength(1);
    const got = s.messages[0]!;
    expect(got.envelope).toEqual({ from: 'news@shop.test', to: ['anna@example.test'] });
    expect(got.header('list-unsubscribe')).toBe('<https://shop.test/u/abc?x=1>');
    expect(got.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(got.header('message-id')).toBe(messageIdFor(m.key, 'shop.test'));
    expect(messageIdFor(m.key, 'shop.test')).toMatch(/^<[0-9a-f]{32}@shop\.test>$/);
    expect(got.header('x-retain-key')).toBe(m.key);
    expect(got.header('x-campaign')).toBe('winback');
    expect(got.parsed.replyTo?.text).toBe('help@shop.test');
    expect(got.parsed.subject).toBe('We miss you');
    expect(got.parsed.text?.trim()).toBe('Hello Anna');
    expect(got.parsed.html).toContain('<b>Anna</b>');
    expect(c.idempotent).toBe(false);
    // Without an unsubscribe URL there are no List-Unsubscribe headers; the same key gives the same id.
    await c.send(message({ unsubscribeUrl: undefined, headers: undefined }));
    expect(s.messages[1]!.header('list-unsubscribe')).toBeUndefined();
    expect(s.messages[1]!.header('message-id')).toBe(got.header('message-id'));
    // A long key (a campaign's) is one line as sent, never folded: a folded key does not unfold to itself.
    const long = `campaign%3Aspring-newsletter-2026/variant-B/123456/spring-newsletter-2026-${'x'.repeat(60)}`;
    await c.send(message({ key: long }));
    const raw = s.messages.at(-1)!.raw.toString('utf8');
    expect(raw.split('\r\n')).toContain(`X-Retain-Key: ${long}`);
  });

  it('signs with DKIM when configured: the signature verifies and covers the unsubscribe headers', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const s = await sink();
    const c = channel(
      s,
      { dkim: { domain: 'shop.test', selector: 's2026', privateKey: { env: 'DKIM_KEY' } } },
      { DKIM_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    );
    expect((await c.send(message({ unsubscribeUrl: 'https://shop.test/u/1' }))).status).toBe('sent');
    const sig = verifyDkim(s.messages[0]!.raw, publicKey.export({ type: 'spki', format: 'pem' }) as string);
    expect(sig.d).toBe('shop.test');
    expect(sig.s).toBe('s2026');
    expect(sig.h).toEqual(
      expect.arrayContaining(['from', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']),
    );
    // Unsigned without the option.
    const plain = channel(s);
    await plain.send(message());
    expect(s.messages[1]!.header('dkim-signature')).toBeUndefined();
  });

  it('sends 1,000 emails over the pool: each arrives once, at most maxConnections sessions at a time', async () => {
    const s = await sink();
    const c = channel(s, { pool: { maxConnections: 4, maxMessages: 100 } });
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => c.send(message({ key: `bulk:${i}`, to: `c${i}@example.test` }))),
    );
    expect(outcomes.every((o) => o.status === 'sent')).toBe(true);
    expect(s.messages).toHaveLength(1000);
    const keys = new Set(s.messages.map((m) => m.header('x-retain-key')));
    expect(keys.size).toBe(1000);
    for (const m of s.messages)
      expect(m.envelope.to).toEqual([`c${m.header('x-retain-key')!.slice(5)}@example.test`]);
    expect(new Set(outcomes.map((o) => (o.status === 'sent' ? o.providerId : null))).size).toBe(1000);
    expect(s.maxOpenSessions).toBeLessThanOrEqual(4);
    expect(s.sessions).toBeGreaterThanOrEqual(10); // a connection is replaced after 100 messages
  });

  it('maps a 5xx for the recipient to rejected + suppress (hard bounce) with the server text', async () => {
    const s = await sink({ rejectRecipients: ['gone@example.test'] });
    const c = channel(s);
    const outcome = await c.send(message({ to: 'gone@example.test' }));
    expect(outcome).toMatchObject({ status: 'rejected', suppress: true });
    expect(outcome.status === 'rejected' && outcome.reason).toContain('5.1.1');
    expect(outcome.status === 'rejected' && outcome.reason).toContain('User unknown');
    expect(s.messages).toHaveLength(0);
    // The pooled connection is still good for the next message.
    expect((await c.send(message())).status).toBe('sent');
  });

  it('a policy refusal (5.7.x) is rejected without suppressing the address', async () => {
    const s = await sink({
      beforeAccept: () => {
        throw Object.assign(new Error('5.7.1 Message rejected as spam'), { responseCode: 550 });
      },
    });
    const outcome = await channel(s).send(message());
    expect(outcome).toMatchObject({ status: 'rejected', suppress: false });
    expect(outcome.status === 'rejected' && outcome.reason).toContain('rejected as spam');
  });

  it('maps a 4xx to retry, and the retry is delivered', async () => {
    const s = await sink({ deferOnce: true });
    const c = channel(s);
    const first = await c.send(message());
    expect(first).toMatchObject({ status: 'retry' });
    expect(first.status === 'retry' && first.reason).toContain('451');
    expect(first.status === 'retry' && first.ambiguous).toBeFalsy();
    expect(s.messages).toHaveLength(0);
    expect((await c.send(message())).status).toBe('sent');
    expect(s.messages).toHaveLength(1);
  });

  it('a server that is down is a retry the provider never saw (not ambiguous)', async () => {
    const s = await startSmtpSink();
    await s.close();
    const outcome = await channel(s).send(message());
    expect(outcome).toMatchObject({ status: 'retry' });
    expect(outcome.status === 'retry' && outcome.reason).toMatch(/ECONNREFUSED/);
    expect(outcome.status === 'retry' && outcome.ambiguous).toBeFalsy();
  });

  it('a connection lost after the message was handed over is an ambiguous retry, never a silent resend', async () => {
    let drop = true;
    const s = await sink({ beforeAccept: () => (drop ? ((drop = false), 'drop') : undefined) });
    const c = channel(s);
    const outcome = await c.send(message());
    expect(outcome).toMatchObject({ status: 'retry', ambiguous: true });
    await new Promise((r) => setTimeout(r, 300)); // the pool does not requeue it behind our back
    expect(s.dropped).toHaveLength(1);
    expect(s.messages).toHaveLength(0);
    expect((await c.send(message())).status).toBe('sent');
    expect(s.messages[0]!.header('message-id')).toBe(s.dropped[0]!.header('message-id'));
  });

  it('a server that does not answer within timeoutMs is an ambiguous retry', async () => {
    const s = await sink({ beforeAccept: () => new Promise((r) => setTimeout(r, 1500)) });
    const c = channel(s, { timeoutMs: 300 });
    const outcome = await c.send(message());
    expect(outcome).toMatchObject({ status: 'retry', ambiguous: true });
    expect(outcome.status === 'retry' && outcome.reason).toMatch(/ETIMEDOUT/);
  });

  it('logs in with a password from the environment; a wrong one is a retry naming email.auth', async () => {
    const s = await sink({ auth: { user: 'shop', pass: 's3cret' } });
    const ok = channel(
      s,
      { auth: { user: 'shop', pass: { env: 'SMTP_PASSWORD' } } },
      { SMTP_PASSWORD: 's3cret' },
    );
    expect((await ok.send(message())).status).toBe('sent');
    const bad = channel(s, { auth: { user: 'shop', pass: 'nope' } });
    const outcome = await bad.send(message());
    expect(outcome).toMatchObject({ status: 'retry' });
    expect(outcome.status === 'retry' && outcome.reason).toMatch(/login failed \(check email\.auth\).*535/);
    expect(() => channel(s, { auth: { user: 'shop', pass: { env: 'UNSET_VAR' } } }, {})).toThrow(
      /UNSET_VAR \(named by email\.auth\.pass\) is not set/,
    );
  });

  it('refuses a recipient that is not one address without connecting; programmer errors throw', async () => {
    const s = await sink();
    const c = channel(s);
    for (const to of ['a@b.test, c@d.test', 'not-an-address', 'x@y.test>\r\nBcc: z@w.test'])
      expect(await c.send(message({ to }))).toMatchObject({ status: 'rejected', suppress: true });
    expect(s.sessions).toBe(0);
    await expect(c.send(message({ headers: { Bcc: 'spy@x.test' } }))).rejects.toThrow(/cannot be set/);
    await expect(c.send(message({ headers: { 'X-A': 'a\r\nBcc: b@c.test' } }))).rejects.toThrow(/line break/);
    await expect(c.send(message({ unsubscribeUrl: 'javascript:alert(1)' }))).rejects.toThrow(/not a URL/);
  });

  it('refuses a bad config with the JSON path', () => {
    const bad = (config: unknown) => () => emailChannel(config as never, {});
    expect(bad({ host: '127.0.0.1', from: 'nobody' })).toThrow(/email\.from: must be an address/);
    expect(bad({ host: '127.0.0.1', from: 'a@shop.test', port: 70000 })).toThrow(/email\.port/);
    expect(bad({ host: '127.0.0.1', from: 'a@shop.test', pool: { maxConections: 3 } })).toThrow(
      /email\.pool.*maxConections/,
    );
    const err = (() => {
      try {
        bad({ from: 'a@shop.test' })();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).where?.field).toBe('email.host');
    const ok = { host: '127.0.0.1', from: 'a@shop.test' };
    for (const threads of ['-1', '9', 'two', '1.5'])
      expect(() => emailChannel(ok, { RETAIN_EMAIL_THREADS: threads })).toThrow(
        /RETAIN_EMAIL_THREADS must be a whole number from 0 to 8/,
      );
  });
});

describe('email channel on a worker thread that dies', () => {
  afterAll(() => configureSmtpThread(undefined));

  it('fails the messages in flight as ambiguous retries, and the next send starts a new thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retain-smtp-crash-'));
    const crashing = join(dir, 'crash.mjs');
    // Stands in for a worker that is killed mid-send: it exits on the first message it is given.
    writeFileSync(
      crashing,
      "import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(7));",
    );
    configureSmtpThread(crashing);
    const s = await sink();
    const c = channel(s);
    const outcomes = await Promise.all([c.send(message()), c.send(message({ key: 'other' }))]);
    for (const o of outcomes) {
      expect(o).toMatchObject({ status: 'retry', ambiguous: true });
      expect(o.status === 'retry' && o.reason).toMatch(/email worker thread stopped \(exit code 7\)/);
    }
    // The channel's next send starts a new thread (this one dies again, and says so).
    expect(await c.send(message())).toMatchObject({ status: 'retry', ambiguous: true });
    configureSmtpThread(
      await bundleForTest(join(REPO_ROOT, 'src/modules/messaging/channels/smtpWorker.ts'), 'smtp-worker'),
    );
    const fresh = channel(s);
    expect((await fresh.send(message())).status).toBe('sent');
    rmSync(dir, { recursive: true, force: true });
  });
});
