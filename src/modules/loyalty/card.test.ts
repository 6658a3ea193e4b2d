import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { eraseCustomer } from '../customers/service.js';
import { customerOfPreferencesToken, linkSecretOf, preferencesToken } from '../messaging/links.js';
import { upsertOrder } from '../orders/service.js';
import { Dispatcher } from '../outbox/dispatcher.js';
import { CARD_TEXTS, cardLink, cardPage, cardToken, customerOfCardToken, groupCardNumber } from './card.js';
import { ordersSubscriber } from './jobs.js';
import { adjust, getMember, setProgram } from './service.js';

describe('card tokens', () => {
  const secret = 'a-link-secret-of-the-store';

  it('round-trip; altered, foreign, malformed or another secret → null', () => {
    const t = cardToken(secret, 12345);
    expect(t).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{32}$/);
    expect(customerOfCardToken(secret, t)).toBe(12345);
    expect(customerOfCardToken('another-secret', t)).toBeNull();
    const last = t.at(-1) === 'A' ? 'B' : 'A';
    expect(customerOfCardToken(secret, t.slice(0, -1) + last)).toBeNull();
    // Another customer's id with this mac.
    expect(customerOfCardToken(secret, `${(12346).toString(36)}${t.slice(t.indexOf('.'))}`)).toBeNull();
    // One spelling per customer: a leading zero is refused even though it names the same id.
    expect(customerOfCardToken(secret, `0${t}`)).toBeNull();
    for (const bad of ['', '.', 'abc', t.toUpperCase(), `${t}x`, ` ${t}`, `${t}\n`, `-1.${'a'.repeat(32)}`])
      expect(customerOfCardToken(secret, bad)).toBeNull();
    expect(() => cardToken(secret, 0)).toThrow(RangeError);
    expect(() => cardToken(secret, 1.5)).toThrow(RangeError);
  });

  it('a preference token is never a card token, nor a card token a preference token', () => {
    const pref = preferencesToken(secret, 77);
    const card = cardToken(secret, 77);
    expect(pref).not.toBe(card);
    expect(customerOfPreferencesToken(secret, pref)).toBe(77);
    expect(customerOfCardToken(secret, pref)).toBeNull();
    expect(customerOfPreferencesToken(secret, card)).toBeNull();
  });

  it('groups the card number in fours', () => {
    expect(groupCardNumber('1234567890123452')).toBe('1234 5678 9012 3452');
    expect(groupCardNumber('123456')).toBe('1234 56');
  });
});

/** The member's card page on a store with a programme, tiers and a member who ordered (issue 24). */
describe.each(testEngines())('loyalty card on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  let clock: ManualClock;
  let dispatcher: Dispatcher;
  let secret: string;

  const idOf = async (externalId: string) =>
    (
      await db.query<{ customer_id: number }>(`SELECT customer_id FROM customers WHERE external_id = $1`, [
        externalId,
      ])
    )[0]!.customer_id;
  const place = async (id: string, customer: string, at: string, amount: string) => {
    await upsertOrder(ctx, {
      body: {
        order_id: id,
        customer_id: customer,
        ordered_at: at,
        currency: 'EUR',
        lines: [{ sku: 'MUG', quantity: 1, unit_price: amount }],
      },
    });
    await dispatcher.drain();
  };
  const pageOf = async (customer: string, opts: Parameters<typeof cardPage>[2] = {}) =>
    cardPage(ctx, cardToken(secret, await idOf(customer)), opts);

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    clock = new ManualClock('2026-03-02T00:00:00Z');
    ctx = testContext(db, clock);
    dispatcher = new Dispatcher({ ctx, subscribers: [ordersSubscriber] });
    await dispatcher.register();
    await upsertOrder(ctx, {
      body: {
        order_id: 'SEED',
        customer_id: 'seed',
        ordered_at: '2026-01-01T10:00:00Z',
        currency: 'EUR',
        lines: [{ sku: 'MUG', quantity: 1, unit_price: '1.00' }],
      },
    });
    await setProgram(ctx, {
      name: 'Friends & <Co>',
      currency: 'EUR',
      startsAt: '2026-02-01T00:00:00Z',
      pointValue: { points: 100, minor: 100 },
      pendingDays: 14,
      expiryDays: 60,
      welcomeBonus: { points: 50, expiryDays: 30 },
      tiers: {
        basis: 'spend',
        levels: [
          { name: 'Silver', threshold: 5000, multiplier: 1.5, discountPercent: 5, freeShipping: true },
          { name: 'Gold', threshold: 100000, multiplier: 2 },
        ],
      },
    });
    // 60.00 → 60 points pending and Silver; the welcome bonus (50) is available until 31 March 23:30 UTC.
    await place('A1', 'ann', '2026-03-01T23:30:00Z', '60.00');
    await adjust(ctx, { customer: 'ann', points: 150, reason: 'goodwill', idempotencyKey: 'g1' });
    await place('B1', 'bob', '2026-03-01T12:00:00Z', '10.00');
    secret = await linkSecretOf(ctx);
  });
  afterAll(() => dispose());

  it('the link names the member; not a member or unknown → 404', async () => {
    const link = await cardLink(ctx, 'ann', 'https://shop.example/');
    expect(link.url).toBe(`https://shop.example/card/${link.token}`);
    expect(customerOfCardToken(secret, link.token)).toBe(await idOf('ann'));
    await expect(cardLink(ctx, 'seed', 'https://shop.example')).rejects.toMatchObject({ code: 'not_found' });
    await expect(cardLink(ctx, 'nobody', 'https://shop.example')).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it("a member's page: card number in fours, QR of it, balance and its value, tier, benefits, next tier, expiring points", async () => {
    const m = await getMember(ctx, { customer: 'ann' });
    expect(m).toMatchObject({ available: 200, pending: 60, valueMinor: 200, tier: 'Silver' });
    const { status, html } = await pageOf('ann', { locale: 'en' });
    expect(status).toBe(200);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta name="robots" content="noindex');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(html).toContain(groupCardNumber(m.cardNumber));
    expect(groupCardNumber(m.cardNumber)).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    // The QR code: an inline SVG whose size is the code's modules plus the 1-module margin.
    const size = QRCode.create(m.cardNumber, { errorCorrectionLevel: 'M' }).modules.size;
    expect(html).toMatch(new RegExp(`<svg [^>]*viewBox="0 0 ${size + 2} ${size + 2}"`));
    expect(html).toMatch(/<svg [^>]*><path [^>]*\/><path [^>]*d="M/);
    expect(html).toContain('Friends &amp; &lt;Co&gt;');
    expect(html).not.toContain('<Co>');
    expect(html).toContain('<dt>Points available</dt><dd>200<small>worth €2.00</small></dd>');
    expect(html).toContain('<dt>Pending points</dt><dd>60<small>');
    expect(html).toContain('Tier: Silver');
    expect(html).toContain('<li>Points ×1.5 on orders</li><li>5% discount</li><li>Free shipping</li>');
    expect(html).toContain('Spend €940.00 more to reach Gold');
    expect(html).toContain('<li>50 points on March 31, 2026</li>');
    expect(html).toContain('Balance on March 2, 2026');
    expect(html).toContain('@media print');
    // Nothing from elsewhere and no scripts.
    const markup = html.replace('xmlns="http://www.w3.org/2000/svg"', '');
    expect(markup).not.toMatch(/<script|<link|<img|src=|url\(|@import|https?:/i);
  });

  it("dates in the customer's time zone when set, else the store's", async () => {
    await db.exec(`UPDATE customers SET time_zone = 'Europe/Kyiv' WHERE external_id = 'ann'`);
    try {
      expect((await pageOf('ann', { locale: 'en' })).html).toContain('<li>50 points on April 1, 2026</li>');
      await db.exec(`UPDATE customers SET time_zone = 'Not/AZone' WHERE external_id = 'ann'`);
      expect((await pageOf('ann', { locale: 'en' })).html).toContain('<li>50 points on March 31, 2026</li>');
    } finally {
      await db.exec(`UPDATE customers SET time_zone = NULL WHERE external_id = 'ann'`);
    }
  });

  it('speaks uk and ru: asked, else the customer locale', async () => {
    const uk = (await pageOf('ann', { locale: 'uk' })).html;
    expect(uk).toContain('<html lang="uk">');
    expect(uk).toContain(CARD_TEXTS.uk.title);
    expect(uk).toContain('<dt>Доступно балів</dt><dd>200<small>на суму 2,00');
    expect(uk).toContain('Рівень: Silver');
    expect(uk).toContain('Безкоштовна доставка');
    expect(uk).toMatch(/<li>50 балів — 31 березня 2026/);
    expect(uk).not.toContain('Points available');

    await db.exec(`UPDATE customers SET locale = 'ru' WHERE external_id = 'bob'`);
    const ru = (await pageOf('bob')).html;
    expect(ru).toContain('<html lang="ru">');
    expect(ru).toContain(CARD_TEXTS.ru.title);
    expect(ru).toContain(CARD_TEXTS.ru.noTier);
    expect(ru).toContain('<li>50 баллов — 31 марта 2026');
    // Asked beats the customer's.
    expect((await pageOf('bob', { locale: 'en' })).html).toContain('<html lang="en">');
  });

  it('escapes the first name', async () => {
    await db.exec(
      `UPDATE customers SET first_name = '<script>alert("x")</script>' WHERE external_id = 'ann'`,
    );
    const { html } = await pageOf('ann');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    await db.exec(`UPDATE customers SET first_name = 'Ann' WHERE external_id = 'ann'`);
    expect((await pageOf('ann')).html).toContain('<div class="holder">Ann</div>');
  });

  it('an altered, foreign or preference token → 403 revealing nothing', async () => {
    const ann = await idOf('ann');
    const m = await getMember(ctx, { customer: 'ann' });
    const good = cardToken(secret, ann);
    const bad = [
      good.slice(0, -1) + (good.at(-1) === 'A' ? 'B' : 'A'),
      cardToken('another-secret', ann),
      preferencesToken(secret, ann),
      'not-a-token',
      '',
    ];
    for (const token of bad) {
      const r = await cardPage(ctx, token, { locale: 'uk' });
      expect(r.status).toBe(403);
      expect(r.html).toContain('<html lang="uk">');
      expect(r.html).toContain(CARD_TEXTS.uk.notValid[1]);
      for (const secretThing of [m.cardNumber, groupCardNumber(m.cardNumber), 'Ann', 'Friends', '<svg'])
        expect(r.html).not.toContain(secretThing);
    }
  });

  it('the live link is the page itself, only for an http(s) base', async () => {
    const token = cardToken(secret, await idOf('ann'));
    const r = await cardPage(ctx, token, { locale: 'en', baseUrl: 'https://shop.example/' });
    expect(r.html).toContain(`<a href="https://shop.example/card/${token}">`);
    const js = await cardPage(ctx, token, { locale: 'en', baseUrl: 'javascript:alert(1)//' });
    expect(js.html).not.toContain('<a ');
    expect(js.html).not.toContain('javascript');
  });

  it('a customer who is no longer a member (erased) → 404', async () => {
    const token = cardToken(secret, await idOf('bob'));
    expect((await cardPage(ctx, token)).status).toBe(200);
    await eraseCustomer(ctx, { id: 'bob', by: 'test' });
    const r = await cardPage(ctx, token, { locale: 'en' });
    expect(r.status).toBe(404);
    expect(r.html).toContain(CARD_TEXTS.en.notMember[1]);
    expect(r.html).not.toContain('<svg');
    // A customer who never was one.
    const seed = await cardPage(ctx, cardToken(secret, await idOf('seed')), { locale: 'en' });
    expect(seed.status).toBe(404);
  });
});
