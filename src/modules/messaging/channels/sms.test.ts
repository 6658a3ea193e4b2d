import { afterEach, describe, expect, it } from 'vitest';
import { startSmsGateway, type SmsGateway } from '../../../../test/support/httpGateway.js';
import { AppError } from '../../../shared/errors.js';
import type { Channel, OutboundMessage } from './port.js';
import { SmsConfig } from './schema.js';
import { normalizePhone, parseDeliveryReport, parseInboundSms, smsChannel } from './sms.js';
import { isStopText, STOP_WORDS } from './stopWords.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function gateway(options: Parameters<typeof startSmsGateway>[0] = {}): Promise<SmsGateway> {
  const g = await startSmsGateway(options);
  open.push(g);
  return g;
}

function channel(g: { url: string }, extra: Record<string, unknown> = {}, env = {}): Channel {
  return smsChannel({ url: `${g.url}/send`, timeoutMs: 2000, ...extra }, env);
}

const sms = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  key: 'flow:winback:1:cust-42:2026-01',
  to: '+380671234567',
  text: 'Привіт! -10% today',
  ...over,
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

describe('SMS channel (HTTP gateway)', () => {
  it('fills the payload template JSON-safely: quotes, backslashes, newlines and braces in the text', async () => {
    const g = await gateway({ authorization: 'Bearer tok-123' });
    const c = channel(
      g,
      {
        sender: 'Shop "UA"',
        auth: { type: 'bearer', token: { env: 'SMS_TOKEN' } },
        headers: { 'X-Api-Version': '2' },
        payload: {
          messages: [{ to: '{{to}}', body: '{{text}}', ref: '{{ key }}', from: '{{sender}}' }],
          note: 'for {{to}} from {{sender}}',
          flash: false,
          ttl: 3600,
        },
      },
      { SMS_TOKEN: 'tok-123' },
    );
    const text = 'He said "hi"\nline 2\\ \u2028 {"x":1} {{key}} </script> 👋';
    const outcome = await c.send(sms({ text }));
    expect(outcome).toEqual({ status: 'sent', providerId: 'sms-1' });
    const req = g.requests[0]!;
    expect(req.jsonError).toBeNull();
    expect(req.json).toEqual({
      messages: [
        { to: '+380671234567', body: text, ref: 'flow:winback:1:cust-42:2026-01', from: 'Shop "UA"' },
      ],
      note: 'for +380671234567 from Shop "UA"',
      flash: false,
      ttl: 3600,
    });
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['idempotency-key']).toBe('flow:winback:1:cust-42:2026-01');
    expect(req.headers['x-api-version']).toBe('2');
  });

  it('deduplicates by Idempotency-Key: a resend after a crash reaches the phone once', async () => {
    const g = await gateway();
    const c = channel(g);
    expect(c.idempotent).toBe(true);
    const first = await c.send(sms());
    const again = await c.send(sms());
    expect(first).toEqual({ status: 'sent', providerId: 'sms-1' });
    expect(again).toEqual(first);
    expect(g.requests).toHaveLength(2);
    expect(g.delivered).toHaveLength(1);
    expect(g.deduplicated).toBe(1);
    await c.send(sms({ key: 'other' }));
    expect(g.delivered).toHaveLength(2);
    // Without the header the channel says it is not idempotent and sends no key.
    const plain = channel(g, { idempotencyHeader: null, messageIdPath: '$.status' });
    expect(plain.idempotent).toBe(false);
    expect(await plain.send(sms())).toEqual({ status: 'sent', providerId: 'queued' });
    expect(g.requests.at(-1)!.headers['idempotency-key']).toBeUndefined();
  });

  it('refuses numbers that are not E.164 before calling the gateway (rejected, suppressed)', async () => {
    const g = await gateway();
    const c = channel(g);
    for (const to of [
      '0671234567',
      '+0671234567',
      '+1234567',
      '+1234567890123456',
      'tel:+380671234567',
      '',
      'abc',
    ]) {
      const outcome = await c.send(sms({ to }));
      expect(outcome, to).toMatchObject({ status: 'rejected', suppress: true });
      expect(outcome.status === 'rejected' && outcome.reason).toContain('E.164');
    }
    expect(g.requests).toHaveLength(0);
    expect(normalizePhone('+380 (67) 123-45-67')).toBe('+380671234567');
    expect(normalizePhone('+12345678')).toBe('+12345678');
    await c.send(sms({ to: '+380 67 123 45 67' }));
    expect((g.requests[0]!.json as { to: string }).to).toBe('+380671234567');
    expect(await c.send(sms({ text: '  ' }))).toMatchObject({ status: 'rejected', suppress: false });
  });

  it('429 and 5xx are retries with the Retry-After wait; 4xx are rejections; 401 says check credentials', async () => {
    const g = await gateway();
    const c = channel(g, { suppressStatuses: [422] });
    g.script(
      { status: 429, body: { error: 'slow down' }, headers: { 'Retry-After': '7' } },
      {
        status: 503,
        headers: { 'Retry-After': 'Wed, 21 Oct 2026 07:28:30 GMT', Date: 'Wed, 21 Oct 2026 07:28:00 GMT' },
      },
      { status: 502, body: 'bad gateway' },
      { status: 400, body: { error: 'text too long' } },
      { status: 404, body: { error: 'unknown route' } },
      { status: 422, body: { error: 'invalid destination number' } },
      { status: 401, body: { error: 'bad key' } },
      { status: 413 },
      { status: 301, headers: { Location: 'https://elsewhere.test/send' } },
    );
    const outcomes = [];
    for (let i = 0; i < 9; i++) outcomes.push(await c.send(sms()));
    expect(outcomes[0]).toEqual({
      status: 'retry',
      reason: 'gateway answered 429: {"error":"slow down"}',
      retryAfterMs: 7000,
    });
    expect(outcomes[1]).toMatchObject({ status: 'retry', retryAfterMs: 30_000 });
    expect(outcomes[1]).not.toHaveProperty('ambiguous');
    expect(outcomes[2]).toMatchObject({ status: 'retry', ambiguous: true }); // a proxy may have passed it on
    expect(outcomes[3]).toEqual({
      status: 'rejected',
      reason: 'gateway answered 400: {"error":"text too long"}',
      suppress: false,
    });
    expect(outcomes[4]).toMatchObject({ status: 'rejected', suppress: false });
    expect(outcomes[5]).toMatchObject({ status: 'rejected', suppress: true });
    expect(outcomes[6]).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('check the gateway credentials'),
    });
    expect(outcomes[7]).toMatchObject({ status: 'rejected', suppress: false });
    expect(outcomes[8]).toMatchObject({ status: 'retry', reason: expect.stringContaining('elsewhere.test') });
    expect(g.delivered).toHaveLength(0);
  });

  it('network failures: refused is a clean retry; a dropped or late answer is an ambiguous one', async () => {
    const down = await startSmsGateway();
    await down.close();
    const refused = await channel(down).send(sms());
    expect(refused).toMatchObject({ status: 'retry', reason: expect.stringContaining('ECONNREFUSED') });
    expect(refused.status === 'retry' && refused.ambiguous).toBe(false);
    const g = await gateway();
    const c = channel(g, { timeoutMs: 200 });
    g.script({ status: 200, drop: true }, { status: 200, body: { id: 'late' }, delayMs: 600 });
    expect(await c.send(sms())).toMatchObject({ status: 'retry', ambiguous: true });
    expect(await c.send(sms())).toMatchObject({
      status: 'retry',
      ambiguous: true,
      reason: 'no answer within 200 ms',
    });
  });

  it('sends basic auth and PUT when configured', async () => {
    const g = await gateway({ authorization: `Basic ${Buffer.from('shop:pa:ss').toString('base64')}` });
    const c = channel(g, { method: 'PUT', auth: { type: 'basic', username: 'shop', password: 'pa:ss' } });
    expect((await c.send(sms())).status).toBe('sent');
    expect(g.requests[0]!.method).toBe('PUT');
  });

  it('refuses a bad config with the JSON path of the problem', () => {
    const bad = (extra: Record<string, unknown>) =>
      thrown(() => smsChannel({ url: 'http://127.0.0.1:1/send', ...extra } as never, {}));
    expect(bad({ payload: { to: '{{to}}', text: '{{body}}' } }).message).toMatch(
      /sms\.payload\.text: unknown placeholder \{\{body\}\}/,
    );
    expect(bad({ payload: { to: '{{to}}', m: ['{{text}}', '{{sender}}'] } }).where?.field).toBe(
      'sms.payload.m.1',
    );
    expect(bad({ payload: { to: '{{to}}' } }).message).toMatch(/sms\.payload: must contain \{\{text\}\}/);
    expect(bad({ url: 'ftp://x' }).where?.field).toBe('sms.url');
    expect(bad({ messageIdPath: 'a..b' }).where?.field).toBe('sms.messageIdPath');
    expect(bad({ idempotencyHeader: 'Bad Header' }).where?.field).toBe('sms.idempotencyHeader');
    expect(bad({ auth: { type: 'bearer', token: { env: 'NOPE' } } }).message).toMatch(
      /NOPE \(named by sms\.auth\.token\) is not set/,
    );
  });
});

describe('SMS callbacks', () => {
  const config = SmsConfig.parse({ url: 'https://gw.test/send' });

  it('reads delivery reports with the default and configured field paths', () => {
    expect(parseDeliveryReport({ id: 'sms-1', status: 'DELIVRD' }, config)).toEqual({
      providerId: 'sms-1',
      key: null,
      state: 'delivered',
      status: 'DELIVRD',
      error: null,
      suppress: false,
    });
    expect(parseDeliveryReport({ id: 7, status: 'Undelivered', error: 'absent' }, config)).toMatchObject({
      providerId: '7',
      state: 'failed',
      suppress: false,
    });
    expect(parseDeliveryReport({ id: 'x', status: 'accepted' }, config).state).toBe('pending');
    const custom = SmsConfig.parse({
      url: 'https://gw.test/send',
      deliveryReport: {
        idPath: 'data.message_id',
        statusPath: '$.data.state',
        errorPath: 'data.errors[0].code',
        keyPath: 'data.client_ref',
        suppress: ['invalid_number'],
      },
    });
    const report = {
      data: { message_id: 'm-9', state: 'failed', errors: [{ code: 'INVALID_NUMBER' }], client_ref: 'k-1' },
    };
    expect(parseDeliveryReport(report, custom)).toEqual({
      providerId: 'm-9',
      key: 'k-1',
      state: 'failed',
      status: 'failed',
      error: 'INVALID_NUMBER',
      suppress: true,
    });
    expect(parseDeliveryReport(new URLSearchParams('id=f-1&status=delivered'), config).state).toBe(
      'delivered',
    );
  });

  it('a callback without its fields is a validation error naming the path', () => {
    const e = thrown(() => parseDeliveryReport({ status: 'delivered' }, config));
    expect(e.message).toBe('delivery report: no message id at "id" (sms.deliveryReport.idPath)');
    expect(e.where?.field).toBe('id');
    expect(thrown(() => parseDeliveryReport([1], config)).message).toMatch(/expected a JSON object/);
    expect(thrown(() => parseInboundSms({ from: '+380671234567' }, config)).where?.field).toBe('text');
  });

  it('reads inbound SMS and recognises STOP in English, Ukrainian and Russian', () => {
    expect(parseInboundSms({ from: '+380 67 123 45 67', text: 'Стоп' }, config)).toEqual({
      from: '+380671234567',
      text: 'Стоп',
      isStop: true,
    });
    expect(parseInboundSms({ from: 'SHOP', text: 'hi' }, config)).toEqual({
      from: 'SHOP',
      text: 'hi',
      isStop: false,
    });
    const nested = SmsConfig.parse({
      url: 'https://gw.test/send',
      inbound: { fromPath: 'msg.sender', textPath: 'msg.body' },
    });
    expect(parseInboundSms({ msg: { sender: '+12025550123', body: ' unsubscribe ' } }, nested).isStop).toBe(
      true,
    );
    const stop = [
      'STOP',
      'stop',
      ' Stop. ',
      'S T O P',
      'Unsubscribe',
      'opt-out',
      'STOPALL',
      '/stop',
      'Cancel',
      'стоп',
      'СТОП!',
      'Відписатися',
      '  відписатися  ',
      'ВІДПИСКА',
      'Отписаться',
      'ОТПИСКА',
      'отписаться.',
    ];
    for (const t of stop) expect(isStopText(t), t).toBe(true);
    for (const t of ['stopped', 'please stop', 'Hello', 'не стоп', 'отписаться от всего', 'STOP 2', ''])
      expect(isStopText(t), t).toBe(false);
    expect(STOP_WORDS.uk).toContain('ВІДПИСАТИСЯ');
    expect(STOP_WORDS.ru).toContain('ОТПИСАТЬСЯ');
  });
});
