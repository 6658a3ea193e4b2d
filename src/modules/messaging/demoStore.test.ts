/**
 * Issue 21's end-to-end check on the demo store: `retain demo` imports the shipped Online Retail file and
 * gives its customers invented contacts (customers/demoContacts.ts); then, through the CLI as a shop
 * owner would, a template in uk/ru/en goes to 1,000 of them via a local SMTP server. Erased, bounced
 * (a DSN fed to `retain send feedback`), unsubscribed and over-cap contacts get nothing; a one-click
 * POST to a message's List-Unsubscribe URL changes consent before the next batch.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import type { Database } from '../../storage/port.js';
import { openStore } from '../store.js';
import { jsonCli } from '../../../test/support/cli.js';

const N = 1000;
const section = (text: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>${text}</mj-text><mj-text><a href="{{ unsubscribe_url }}">x</a></mj-text></mj-column></mj-section></mj-body></mjml>`;
const TEMPLATE = {
  name: 'winter',
  channel: 'email',
  kind: 'marketing',
  variants: [
    { locale: 'uk', subject: 'Зимовий розпродаж [uk]', body: section('Вітаємо, {{ customer.first_name }}!') },
    {
      locale: 'ru',
      subject: 'Зимняя распродажа [ru]',
      body: section('Здравствуйте, {{ customer.first_name }}!'),
    },
    { locale: 'en', subject: 'Winter sale [en]', body: section('Hello, {{ customer.first_name }}!') },
  ],
};
const WARMUP = { ...TEMPLATE, name: 'warmup', variants: [{ ...TEMPLATE.variants[2], subject: 'Warm-up' }] };

interface Contact {
  customer_id: number;
  external_id: string;
  email: string;
  locale: string;
  consent: string | null;
}

describe('the demo store: 1,000 of its contacts through a local SMTP server (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-demo-send-'));
  const dbFile = join(dir, 'demo.duckdb');
  let sink: SmtpSink;
  let contacts: Contact[] = [];
  const saved = process.env.RETAIN_CHANNELS;

  const run = jsonCli(dbFile, { quiet: true });
  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const db = await openStore({ db: dbFile });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const received = () => {
    const m = new Map<string, typeof sink.messages>();
    for (const msg of sink.messages) for (const to of msg.envelope.to) m.set(to, [...(m.get(to) ?? []), msg]);
    return m;
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    process.env.RETAIN_CHANNELS = JSON.stringify({
      email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 },
    });
    const demo = await run('demo', '--demo-db', dbFile);
    expect(demo.contacts).toBe(4371); // every customer the demo import knows
    // A second run generates nothing (and so never re-grants an unsubscribed contact).
    expect((await run('demo', '--demo-db', dbFile)).contacts).toBe(0);
    contacts = await withDb((db) =>
      db.query<Contact & Record<string, unknown>>(
        `SELECT c.customer_id, c.external_id, c.email, c.locale, k.status AS consent
         FROM customers c LEFT JOIN customer_consents k ON k.customer_id = c.customer_id AND k.channel = 'email'
         ORDER BY c.customer_id LIMIT ${N}`,
      ),
    );
  }, 300_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.RETAIN_CHANNELS;
    else process.env.RETAIN_CHANNELS = saved;
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each consented contact gets exactly one message in their locale; the others none', async () => {
    expect(contacts).toHaveLength(N);
    const locales = new Set(contacts.map((c) => c.locale));
    for (const l of ['en', 'uk', 'ru']) expect(locales).toContain(l);
    const granted = contacts.filter((c) => c.consent === 'granted');
    expect(granted.length).toBeGreaterThan(500);
    expect(contacts.some((c) => c.consent === 'unsubscribed')).toBe(true);

    await run('messaging', '--public-url', 'https://shop.test/r', '--cap', '3/7', '--quiet', 'off');
    await run('templates', 'save', file('winter.json', JSON.stringify(TEMPLATE)));
    await run('templates', 'save', file('warmup.json', JSON.stringify(WARMUP)));

    // Three marketing messages this week already for 20 granted contacts: the winter one is over the cap.
    const capped = granted.slice(0, 20);
    const cappedIds = file('capped.txt', capped.map((c) => c.external_id).join('\n') + '\n');
    for (const week of ['w1', 'w2', 'w3'])
      await run('send', 'queue', 'warmup', '--customers', cappedIds, '--occurrence', week);
    expect((await run('send', 'deliver')).sent).toBe(60);
    // Erased: 5 granted contacts. Bounced: a DSN for 5 more, fed as the mailbox would.
    const erased = granted.slice(20, 25);
    for (const c of erased) await run('contacts', 'erase', c.external_id, '--yes');
    const bounced = granted.slice(25, 30);
    const dsn = readFileSync(join(import.meta.dirname, 'fixtures/postfix-dsn.eml'), 'utf8');
    const feedback = await run(
      'send',
      'feedback',
      ...bounced.map((c, i) =>
        file(`bounce-${i}.eml`, dsn.replaceAll('{{RECIPIENT}}', c.email).replaceAll('{{KEY}}', 'none')),
      ),
    );
    expect(JSON.stringify(feedback)).toContain(bounced[0]!.email);

    const start = sink.messages.length;
    // Everyone of the 1,000 (the erased by their new id) is asked for; the checks decide at send time.
    const ids = await withDb((db) =>
      db.query<{ external_id: string }>(
        `SELECT external_id FROM customers WHERE customer_id IN (${contacts.map((c) => c.customer_id).join(', ')})`,
      ),
    );
    const all = file('all.txt', ids.map((r) => r.external_id).join('\n') + '\n');
    expect((await run('send', 'queue', 'winter', '--customers', all, '--occurrence', 'dec-1')).queued).toBe(
      N,
    );
    const first = await run('send', 'deliver');
    const eligible = granted.length - capped.length - erased.length - bounced.length;
    expect(first.sent).toBe(eligible);
    const got = received();
    const winter = sink.messages.slice(start);
    expect(winter).toHaveLength(eligible);
    const excluded = new Set([...capped, ...erased, ...bounced].map((c) => c.email));
    for (const c of contacts) {
      const mine = (got.get(c.email) ?? []).filter((m) => m.parsed.subject?.includes('['));
      if (c.consent === 'granted' && !excluded.has(c.email)) {
        expect(mine, c.external_id).toHaveLength(1);
        const want = ['uk', 'ru'].includes(c.locale) ? c.locale : 'en';
        expect(mine[0]!.parsed.subject).toContain(`[${want}]`);
      } else expect(mine, c.external_id).toHaveLength(0);
    }
    const by = (l: string) => winter.filter((m) => m.parsed.subject?.includes(`[${l}]`)).length;
    console.log(
      `demo store: ${N} asked, ${granted.length} granted, ${eligible} sent (uk ${by('uk')}, ru ${by('ru')}, en ${by('en')}); none to ${capped.length} over the cap, ${erased.length} erased, ${bounced.length} bounced, ${N - granted.length} without consent`,
    );
    const summary = await run('send', 'summary');
    expect(JSON.stringify(summary)).toMatch(/skipped/);
  }, 300_000);

  it('a one-click POST to the List-Unsubscribe URL changes consent before the next batch', async () => {
    const msg = sink.messages.find((m) => m.parsed.subject?.includes('[uk]'))!;
    const to = msg.envelope.to[0]!;
    const url = /<([^>]+)>/.exec(msg.header('list-unsubscribe') ?? '')![1]!;
    expect(msg.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    await withDb(async (db) => {
      const t = await testApp(db);
      const res = await t.app.request(new URL(url).pathname.replace(/^\/r/, ''), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.status).toBe(200);
    });
    const before = sink.messages.length;
    const granted = contacts.filter((c) => c.consent === 'granted').map((c) => c.external_id);
    const ids = file(
      'second.txt',
      granted
        .slice(40, 400)
        .concat(contacts.find((c) => c.email === to)!.external_id)
        .join('\n'),
    );
    await run('send', 'queue', 'winter', '--customers', ids, '--occurrence', 'dec-2');
    const second = await run('send', 'deliver');
    const sent = sink.messages.slice(before);
    expect(sent.length).toBe(second.sent);
    expect(sent.length).toBeGreaterThan(300);
    expect(sent.some((m) => m.envelope.to.includes(to))).toBe(false);
    const history = await run('consent', 'history', contacts.find((c) => c.email === to)!.external_id);
    expect(JSON.stringify(history)).toContain('unsubscribe link');
  }, 120_000);
});
