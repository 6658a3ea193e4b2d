import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, idOf, seedContacts } from '../../../test/support/contacts.js';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { openChannels, parseChannelConfig } from './channels/config.js';
import type { Channel, ChannelKind } from './channels/port.js';
import { preferencesToken } from './links.js';
import { DELIVER_JOB, deliverDue } from './service.js';

const fixture = (name: string, recipient: string, key = '') =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .replaceAll('{{RECIPIENT}}', recipient)
    .replaceAll('{{KEY}}', key);

const NEWS = {
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'en',
      subject: 'News [{{ customer.external_id }}]',
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}</mj-text><mj-text><a href="{{ preferences_url }}">Preferences</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
  ],
};

describe.each(testEngines())('consent tools on %s: preference page, double opt-in, bounces', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const ctx = () => ({ ...t.deps, clock });
  const local = (url: string) => new URL(url).pathname.replace(/^\/r/, '');
  const to = (i: number) => sink.messages.filter((m) => m.envelope.to[0] === emailOf(i));
  const history = async (id: string, channel?: string) =>
    (
      await t.call('GET', `/v1/customers/${id}/consents/history${channel ? `?channel=${channel}` : ''}`, {
        role: 'agent',
      })
    ).json.data as Record<string, unknown>[];
  const consentOf = async (id: string) =>
    (await t.call('GET', `/v1/customers/${id}`, { role: 'agent' })).json.consent as Record<
      string,
      { status: string; source: string } | null
    >;
  const news = async (occurrence: string, ids: string[]) => {
    const r = await t.call('POST', '/v1/messages', {
      role: 'marketer',
      body: { template: 'news', customers: ids, occurrence },
    });
    expect(r.status).toBe(202);
    return deliverDue(ctx(), { channels });
  };
  const sendOf = async (id: string, occurrence: string) =>
    (
      await db.query<{ send_key: string; status: string; reason: string | null; delivery: string | null }>(
        `SELECT s.send_key, s.status, s.reason, s.delivery FROM message_sends s JOIN customers c ON c.customer_id = s.customer_id
         WHERE c.external_id = $1 AND s.occurrence = $2`,
        [id, occurrence],
      )
    )[0];

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    await seedContacts(db, { n: 40, now: clock.now() });
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
    const admin = (method: string, path: string, body?: unknown) =>
      t.call(method, path, { role: 'admin', body });
    expect(
      (await admin('PUT', '/v1/messaging/policy', { publicUrl: 'https://shop.test/r', quietHours: null }))
        .status,
    ).toBe(200);
    expect((await t.call('PUT', '/v1/templates/news', { role: 'marketer', body: NEWS })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sink?.close();
    await dispose();
  });

  it('the preference page: a signed link per contact; its POST changes consent before the next delivery', async () => {
    expect(
      (await t.call('GET', `/v1/customers/${idOf(30)}/preferences-link`, { role: 'analyst' })).status,
    ).toBe(403);
    const link = await t.call('GET', `/v1/customers/${idOf(30)}/preferences-link`, { role: 'agent' });
    expect(link.status).toBe(200);
    expect(link.json.url).toMatch(/^https:\/\/shop\.test\/r\/p\/[0-9a-z]+\.[A-Za-z0-9_-]{32}$/);
    // The same link is every message's preferences_url.
    expect(await news('n1', [idOf(30), idOf(26)])).toMatchObject({ sent: 2 });
    expect(to(30)[0]!.parsed.html).toContain(`href="${link.json.url}"`);

    const path = local(link.json.url);
    const page = await t.call('GET', path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="ru">'); // contact 30's locale
    expect(page.text).toContain('Ваши настройки рассылок');
    expect(page.text.match(/type="checkbox"/g)).toHaveLength(4);
    expect(page.text).toContain('value="email" checked');
    expect(page.text).toContain('value="ads">');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');

    const form = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Phone/1.0',
      'x-forwarded-for': '203.0.113.9',
    };
    // Not the form (a bare POST, JSON): refused, nothing written.
    expect((await t.call('POST', path, { body: 'channel=sms', headers: form })).status).toBe(400);
    expect((await t.call('POST', path, { body: { form: 'preferences' } })).status).toBe(400);
    expect(await history(idOf(30))).toEqual([]); // the seed wrote the current state only

    const saved = await t.call('POST', path, {
      body: 'form=preferences&channel=sms&channel=ads',
      headers: form,
    });
    expect(saved.status).toBe(200);
    expect(saved.text).toContain('Сохранено');
    expect(saved.text).toContain('value="ads" checked');
    const entries = await history(idOf(30));
    // email and messenger were granted and are not ticked; ads is new; sms did not change: no entry.
    expect(entries.map((e) => [e.channel, e.status])).toEqual([
      ['email', 'unsubscribed'],
      ['messenger', 'unsubscribed'],
      ['ads', 'granted'],
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ source: 'preference page', ip: '203.0.113.9', userAgent: 'Phone/1.0' });
      expect(e.formText).toContain('[x] SMS');
      expect(e.formText).toContain('[ ] Email');
    }
    const again = await t.call('POST', path, {
      body: 'form=preferences&channel=sms&channel=ads',
      headers: form,
    });
    expect(again.status).toBe(200);
    expect(await history(idOf(30))).toHaveLength(3);
    const [events] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM domain_events WHERE type = 'consent.changed' AND ref = $1`,
      [idOf(30)],
    );
    expect(events!.n).toBe(3);

    // Forged, altered, or of an erased contact (ct-0011): the same bare 404 page.
    const secret = (
      await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'link_secret'`)
    )[0]!.value;
    const [erased] = await db.query<{ customer_id: number }>(
      `SELECT customer_id FROM customers WHERE erased_at IS NOT NULL ORDER BY customer_id LIMIT 1`,
    );
    for (const bad of [
      path.slice(0, -2) + (path.endsWith('AA') ? 'BB' : 'AA'),
      '/p/1.abc',
      `/p/${preferencesToken(secret, Number(erased!.customer_id))}`,
    ]) {
      const r = await t.call('GET', bad, { headers: { 'accept-language': 'uk-UA,uk;q=0.9' } });
      expect(r.status, bad).toBe(404);
      expect(r.text).toContain('Це посилання недійсне.');
      expect((await t.call('POST', bad, { body: 'form=preferences', headers: form })).status).toBe(404);
    }

    // The next delivery honours the page: 30 is not emailed, 26 is.
    clock.advance(3_600_000);
    expect(await news('n2', [idOf(30), idOf(26)])).toMatchObject({ sent: 1, skipped: 1 });
    expect((await sendOf(idOf(30), 'n2'))!.reason).toBe('no email consent (unsubscribed)');
    expect(to(26)).toHaveLength(2);
  });

  it('double opt-in: an API grant queues a confirmation; its link grants once, with the click as proof', async () => {
    const refused = await t.call('PUT', '/v1/messaging/policy', {
      role: 'admin',
      body: { doubleOptIn: ['email'], publicUrl: null },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/doubleOptIn needs publicUrl/);
    expect(
      (await t.call('PUT', '/v1/messaging/policy', { role: 'admin', body: { doubleOptIn: ['email'] } })).json,
    ).toMatchObject({ doubleOptIn: ['email'], publicUrl: 'https://shop.test/r' });
    // A saved override must stay a transactional email linking {{ confirm_url }}.
    const wrongKind = await t.call('PUT', '/v1/templates/double-opt-in-email', {
      role: 'marketer',
      body: { ...NEWS, kind: 'marketing' },
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.json.error.message).toMatch(/must be transactional/);
    const noLink = await t.call('PUT', '/v1/templates/double-opt-in-email', {
      role: 'marketer',
      body: { ...NEWS, kind: 'transactional' },
    });
    expect(noLink.status).toBe(400);
    expect(noLink.json.error.message).toMatch(/confirm_url/);

    // ct-0003 declined at checkout; now asks for news through the shop's form (the agent's API call).
    const ask = {
      status: 'granted',
      source: 'newsletter form',
      proof: { ip: '198.51.100.7', formText: 'Yes, send me news and offers' },
    };
    const first = await t.call('PUT', `/v1/customers/${idOf(3)}/consents/email`, {
      role: 'agent',
      body: ask,
    });
    expect(first.status).toBe(202);
    expect(first.json.consent.email.status).toBe('denied');
    expect(first.json.confirmation).toMatchObject({ channel: 'email', status: 'pending', created: true });
    const second = await t.call('PUT', `/v1/customers/${idOf(3)}/consents/email`, {
      role: 'agent',
      body: ask,
    });
    expect(second.status).toBe(202);
    expect(second.json.confirmation).toMatchObject({
      requestId: first.json.confirmation.requestId,
      created: false,
    });
    const [jobs] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM jobs WHERE kind = $1 AND idempotency_key LIKE '%optin%'`,
      [DELIVER_JOB],
    );
    expect(jobs!.n).toBe(1);
    expect(await history(idOf(3), 'email')).toEqual([]); // no grant recorded yet

    // Delivered like any transactional message (no consent needed), in the contact's language.
    expect(await deliverDue(ctx(), { channels })).toMatchObject({ sent: 1 });
    const mails = to(3);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.parsed.subject).toBe('Підтвердіть підписку');
    expect(mails[0]!.header('list-unsubscribe')).toBeUndefined();
    const url = /https:\/\/shop\.test\/r\/c\/[A-Za-z0-9_.-]+/.exec(mails[0]!.parsed.text ?? '')![0];
    expect(mails[0]!.parsed.html).toContain(url);
    expect(await deliverDue(ctx(), { channels })).toMatchObject({ sent: 0 });

    // A mail scanner's GET changes nothing; the contact's button click grants.
    const shown = await t.call('GET', local(url));
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('<form method="post">');
    expect((await consentOf(idOf(3))).email!.status).toBe('denied');
    const click = await t.call('POST', local(url), {
      headers: { 'user-agent': 'Mail/2.0', 'x-forwarded-for': '192.0.2.44' },
    });
    expect(click.status).toBe(200);
    expect(click.text).toContain('Дякуємо');
    expect((await t.call('POST', local(url))).status).toBe(200); // single use: nothing more
    const entries = await history(idOf(3), 'email');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      status: 'granted',
      source: 'double opt-in',
      ip: '192.0.2.44',
      userAgent: 'Mail/2.0',
    });
    expect(entries[0]!.formText).toContain('Yes, send me news and offers');
    expect((await consentOf(idOf(3))).email).toMatchObject({ status: 'granted', source: 'double opt-in' });
    const tampered = await t.call('GET', local(url).slice(0, -3) + 'xyz');
    expect(tampered.status).toBe(404);

    // Now marketing reaches the contact.
    expect(await news('n3', [idOf(3)])).toMatchObject({ sent: 1 });

    // GDPR: the request is part of the export; erasure removes its proof, and the link then leads nowhere.
    const exported = await t.call('GET', `/v1/customers/${idOf(3)}/export`, { role: 'admin' });
    expect(exported.json.consentRequests).toMatchObject([
      { channel: 'email', source: 'newsletter form', status: 'confirmed', ip: '198.51.100.7' },
    ]);
    expect((await t.call('POST', `/v1/customers/${idOf(3)}/erase`, { role: 'admin' })).status).toBe(200);
    expect(
      await db.query(
        `SELECT ip, user_agent, form_text FROM consent_requests WHERE source = 'newsletter form'`,
      ),
    ).toEqual([{ ip: null, user_agent: null, form_text: null }]);
    expect((await t.call('GET', local(url))).status).toBe(404);

    // A channel not under double opt-in, or a withdrawal, is recorded as before.
    const sms = await t.call('PUT', `/v1/customers/${idOf(4)}/consents/sms`, {
      role: 'agent',
      body: { status: 'granted' },
    });
    expect(sms.status).toBe(200);
    expect(sms.json.consent.sms.status).toBe('granted');
  });

  it('double opt-in at a checkout: the order commits, consent waits, one confirmation per order', async () => {
    const order = {
      order_id: 'W-1',
      customer_id: 'buyer-1',
      email: 'Buyer1@Example.test',
      email_consent: 'yes',
      ordered_at: '2026-03-10T12:30:00Z',
      currency: 'UAH',
      lines: [{ sku: 'MUG', quantity: 1, unit_price: '250.00' }],
    };
    const created = await t.call('POST', '/v1/orders', { role: 'admin', body: order });
    expect(created.status).toBe(201);
    expect((await consentOf('buyer-1')).email).toBeNull();
    expect((await t.call('POST', '/v1/orders', { role: 'admin', body: order })).status).toBe(200);
    const requests = await db.query<{ request_id: string; source: string; status: string }>(
      `SELECT r.request_id, r.source, r.status FROM consent_requests r JOIN customers c ON c.customer_id = r.customer_id
       WHERE c.external_id = 'buyer-1'`,
    );
    expect(requests).toEqual([{ request_id: 'order:W-1', source: 'order W-1', status: 'pending' }]);
    expect(await deliverDue(ctx(), { channels })).toMatchObject({ sent: 1 });
    const mail = sink.messages.filter((m) => m.envelope.to[0] === 'buyer1@example.test');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.parsed.subject).toBe('Please confirm your subscription'); // no locale: the store's, else en
    const url = /https:\/\/shop\.test\/r\/c\/[A-Za-z0-9_.-]+/.exec(mail[0]!.parsed.text ?? '')![0];
    expect((await t.call('POST', local(url))).status).toBe(200);
    expect((await consentOf('buyer-1')).email).toMatchObject({ status: 'granted', source: 'double opt-in' });

    // A request nobody confirms expires after 7 days: its link then grants nothing.
    const late = await t.call('PUT', `/v1/customers/${idOf(7)}/consents/email`, {
      role: 'agent',
      body: { status: 'granted' },
    });
    expect(late.status).toBe(202);
    await deliverDue(ctx(), { channels });
    const lateUrl = /https:\/\/shop\.test\/r\/c\/[A-Za-z0-9_.-]+/.exec(to(7)[0]!.parsed.text ?? '')![0];
    clock.advance(8 * 86_400_000);
    expect((await t.call('GET', local(lateUrl))).status).toBe(410);
    expect((await t.call('POST', local(lateUrl))).status).toBe(410);
    expect((await consentOf(idOf(7))).email!.status).toBe('unsubscribed');
    // … and a new request may then be made.
    const anew = await t.call('PUT', `/v1/customers/${idOf(7)}/consents/email`, {
      role: 'agent',
      body: { status: 'granted' },
    });
    expect(anew.json.confirmation).toMatchObject({ created: true });
    expect(anew.json.confirmation.requestId).not.toBe(late.json.confirmation.requestId);
    expect(await deliverDue(ctx(), { channels })).toMatchObject({ sent: 1 });
    expect(to(7)).toHaveLength(2);
    await t.call('PUT', '/v1/messaging/policy', { role: 'admin', body: { doubleOptIn: [] } });
  });

  it('bounces and complaints from the bounce mailbox suppress the address; the next send to it is skipped', async () => {
    const hooks = await t.call('GET', '/v1/messaging/hooks', { role: 'admin' });
    const hook = local(hooks.json.emailFeedback);
    expect(hook).toMatch(/^\/hooks\/email-feedback\/[A-Za-z0-9_-]{32}$/);
    const post = (body: string, path = hook) =>
      t.call('POST', path, { body, headers: { 'content-type': 'message/rfc822' } });
    const suppressions = async () =>
      (await db.query<{ n: number }>(`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM suppressions`))[0]!.n;
    const before = await suppressions();

    // Refused with the reason, nothing written: a wrong token, garbage, a plain message.
    expect((await post('x', hook.slice(0, -3) + 'abc')).status).toBe(404);
    const garbage = await post('this is not an email');
    expect(garbage.status).toBe(400);
    expect(garbage.json.error.message).toMatch(/header fields/);
    const plain = await post('From: a@b.test\r\nSubject: hi\r\n\r\nout of office');
    expect(plain.status).toBe(400);
    expect(plain.json.error.message).toMatch(/Content-Type is text\/plain, not multipart\/report/);
    const empty = await post(
      fixture('postfix-dsn.eml', emailOf(26))
        .replace(/Final-Recipient[^\n]*\n/, '')
        .replace(/Original-Recipient[^\n]*\n/, ''),
    );
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(/names no recipient/);
    expect(await suppressions()).toBe(before);

    // A Postfix DSN, 5.1.1, for the n2 message to ct-0026: found by X-Retain-Key.
    const key = (await sendOf(idOf(26), 'n2'))!.send_key;
    const bounce = await post(fixture('postfix-dsn.eml', emailOf(26), key));
    expect(bounce.status).toBe(200);
    expect(bounce.json).toMatchObject({
      type: 'delivery-status',
      key,
      recipients: [
        {
          address: emailOf(26),
          kind: 'bounce',
          status: '5.1.1',
          send: key,
          customer: idOf(26),
          suppressed: true,
        },
      ],
    });
    expect((await sendOf(idOf(26), 'n2'))!.delivery).toBe('bounced 5.1.1');
    const [row] = await db.query<{ source: string; reason: string }>(
      `SELECT source, reason FROM suppressions WHERE channel = 'email' AND address = $1`,
      [emailOf(26)],
    );
    expect(row!.source).toBe('bounce');
    expect(row!.reason).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1/);
    // Redelivered: nothing more.
    expect((await post(fixture('postfix-dsn.eml', emailOf(26), key))).json.recipients[0].suppressed).toBe(
      false,
    );

    // A delay (4.x.x) is only noted.
    const delayKey = (await sendOf(idOf(26), 'n1'))!.send_key;
    const delayed = await post(
      fixture('postfix-dsn.eml', emailOf(26), delayKey)
        .replace('Action: failed', 'Action: delayed')
        .replace('Status: 5.1.1', 'Status: 4.4.1'),
    );
    expect(delayed.json.recipients[0]).toMatchObject({ kind: 'delay', status: '4.4.1', suppressed: false });
    expect((await sendOf(idOf(26), 'n1'))!.delivery).toBe('delayed 4.4.1');

    // A Yahoo-style ARF complaint about ct-0037's message (with our key), and a Gmail-style one
    // carrying only the reported message's headers (found by its To).
    expect(await news('n4', [idOf(37), idOf(38)])).toMatchObject({ sent: 2 });
    const k37 = (await sendOf(idOf(37), 'n4'))!.send_key;
    const yahoo = await post(fixture('yahoo-arf.eml', emailOf(37), k37));
    expect(yahoo.status).toBe(200);
    expect(yahoo.json.recipients[0]).toMatchObject({
      kind: 'complaint',
      send: k37,
      suppressed: true,
      unsubscribed: [idOf(37)],
    });
    const gmail = await post(fixture('gmail-arf-headers.eml', emailOf(38)));
    expect(gmail.json).toMatchObject({
      type: 'feedback-report',
      key: null,
      recipients: [
        { kind: 'complaint', send: (await sendOf(idOf(38), 'n4'))!.send_key, unsubscribed: [idOf(38)] },
      ],
    });
    for (const i of [37, 38]) {
      expect((await consentOf(idOf(i))).email).toMatchObject({ status: 'unsubscribed', source: 'complaint' });
      expect((await history(idOf(i), 'email')).at(-1)!.formText).toMatch(/Feedback-Type: abuse/);
    }
    expect((await sendOf(idOf(37), 'n4'))!.delivery).toBe('complaint');

    // The next send to the bounced address is skipped.
    expect(await news('n5', [idOf(26), idOf(25)])).toMatchObject({ sent: 1, skipped: 1 });
    expect((await sendOf(idOf(26), 'n5'))!.reason).toMatch(/^suppressed \(5\.1\.1/);
  });
});
