import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { eraseCustomer, upsertCustomer } from '../customers/service.js';
import { setPolicy } from '../messaging/service.js';
import { upsertProduct } from '../products/service.js';
import { updateStore } from '../settings/service.js';
import { manageToken, manageUrl, subscriptionOfManageToken } from './links.js';
import { createSubscription, getSubscription, savePlan } from './service.js';

/**
 * Issue 28: the customer's own page of a subscription by a signed link (`/m/<token>`): in their
 * language; skip, cancel (the cancel page offers skip or pause first), reactivate through the forms,
 * each recorded as done by the customer; a form sent twice, a date in the past, a tampered link or an
 * erased customer write nothing.
 */
describe.each(testEngines())('the subscription page on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2027-03-10T08:00:00Z');
  const paths: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const page = async (
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ) => {
    const res = await t.app.request(path, {
      method,
      headers: {
        ...headers,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  /** The version the page's forms carry (what the customer would send back). */
  const versionOf = (html: string) => /name="v" value="(\d+)"/.exec(html)?.[1] ?? '';
  const state = async (who: string) => {
    const s = await getSubscription(ctx, { id: ids[who]! });
    return {
      status: s.status,
      next: s.nextDeliveryLocal,
      pausedUntil: s.pausedUntil,
      updatedAt: s.updatedAt,
      history: s.history.map((h) => `${h.type}:${h.by}`),
    };
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    ctx = { ...t.deps, clock };
    await updateStore(ctx, { currency: 'UAH', timeZone: 'Europe/Kyiv' });
    await setPolicy(ctx, { publicUrl: 'https://shop.test/r/', frequencyCap: null, quietHours: null });
    for (const [sku, title, price] of [
      ['COFFEE', 'Кава домашня 1 кг', '500.00'],
      ['TEA', 'Green tea', '300.00'],
    ] as const)
      await upsertProduct(ctx, { sku, body: { title, price, currency: 'UAH' } });
    for (const [id, locale] of [
      ['ann', 'uk'],
      ['bob', 'en'],
      ['cat', null],
      ['eve', 'en'],
    ] as const)
      await upsertCustomer(ctx, {
        body: {
          customer_id: id,
          email: `${id}@example.com`,
          time_zone: 'Europe/Kyiv',
          ...(locale ? { locale } : {}),
        },
      });
    await savePlan(ctx, {
      body: {
        name: 'monthly',
        title: 'Кава щомісяця',
        interval: { every: 1, unit: 'month' },
        discountPercent: 10,
        products: ['COFFEE', 'TEA'],
        reminderDays: 0,
      },
    });
    for (const who of ['ann', 'bob', 'cat', 'eve']) {
      const s = await createSubscription(ctx, {
        body: { customer: who, plan: 'monthly', sku: 'COFFEE', quantity: 2, firstDelivery: '2027-03-20' },
        by: 'agent',
      });
      ids[who] = s.id;
      const url = await manageUrl(ctx, Number(s.id));
      expect(url).toMatch(/^https:\/\/shop\.test\/r\/m\/[0-9a-z]+\.[A-Za-z0-9_-]{32}$/);
      paths[who] = new URL(url!).pathname.replace(/^\/r/, '');
    }
  }, 60_000);
  afterAll(async () => dispose?.());

  it('signs links per purpose: the token reads back, a changed id or mac does not', async () => {
    const secret = 'a-secret';
    expect(subscriptionOfManageToken(secret, manageToken(secret, 42))).toBe(42);
    const [id, mac] = manageToken(secret, 42).split('.') as [string, string];
    expect(subscriptionOfManageToken(secret, `${(43).toString(36)}.${mac}`)).toBeNull();
    expect(subscriptionOfManageToken(secret, `${id}.${mac.slice(0, -1)}A`)).toBeNull();
    expect(subscriptionOfManageToken('another', manageToken(secret, 42))).toBeNull();
  });

  it('shows the subscription in the customer’s language, with the page headers and no scripts', async () => {
    const uk = await page('GET', paths.ann!, undefined, { 'accept-language': 'en' });
    expect(uk.status).toBe(200);
    expect(uk.text).toContain('<html lang="uk">');
    expect(uk.text).toContain('<h1>Ваша підписка</h1>');
    expect(uk.text).toContain('Кава домашня 1 кг');
    expect(uk.text).toContain('щомісяця');
    expect(uk.text).toMatch(/20 березня 2027/);
    expect(uk.text).toContain('Активна');
    expect(uk.text).toMatch(/450,00\s*(грн|₴|UAH)/); // 500 less 10 %
    expect(uk.text).toMatch(/<option value="TEA">Green tea — 270,00/); // the other product, at its price
    expect(uk.text).not.toMatch(/<option value="COFFEE"/);
    expect(uk.text).toContain('<label for="pause-until">Призупинити до</label>');
    expect(uk.text).not.toMatch(/<script/i);
    expect(uk.headers.get('cache-control')).toBe('no-store');
    expect(uk.headers.get('x-frame-options')).toBe('DENY');
    expect(uk.headers.get('referrer-policy')).toBe('no-referrer');
    expect(uk.headers.get('content-security-policy')).toContain("default-src 'none'");

    const en = await page('GET', paths.bob!, undefined, { 'accept-language': 'uk' });
    expect(en.status).toBe(200);
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain('<h1>Your subscription</h1>');
    expect(en.text).toContain('every month');
    expect(en.text).toContain('Saturday, March 20, 2027');
    expect(en.text).toContain('<label for="reschedule-date">New date</label>');

    // No locale on the customer: the browser's language.
    const ru = await page('GET', paths.cat!, undefined, { 'accept-language': 'ru-RU,ru;q=0.9' });
    expect(ru.text).toContain('<html lang="ru">');
    expect(ru.text).toContain('Ваша подписка');
  });

  it('skips the next delivery by the customer; the same form sent twice is refused, writing nothing', async () => {
    const before = await page('GET', paths.ann!);
    const v = versionOf(before.text);
    const r = await page('POST', paths.ann!, { action: 'skip', v });
    expect(r.status).toBe(200);
    expect(r.text).toContain('role="status"');
    expect(r.text).toContain('Готово: наступну доставку пропущено');
    expect(r.text).toMatch(/20 квітня 2027/);
    const after = await state('ann');
    expect(after.next).toBe('2027-04-20');
    expect(after.history).toEqual(['created:agent', 'skipped:customer']);

    const twice = await page('POST', paths.ann!, { action: 'skip', v });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('нічого не змінено');
    expect(await state('ann')).toEqual(after);
  });

  it('the cancel page offers skip or pause before the reasons; cancel with a reason and note, then reactivate', async () => {
    const main = await page('GET', paths.bob!);
    expect(main.text).toContain('href="' + paths.bob!.slice(3) + '?view=cancel"');
    const c = await page('GET', `${paths.bob!}?view=cancel`);
    expect(c.status).toBe(200);
    expect(c.text).toContain('<h1>Cancel your subscription?</h1>');
    const skipAt = c.text.indexOf('name="action" value="skip"');
    const pauseAt = c.text.indexOf('name="action" value="pause"');
    const reasonsAt = c.text.indexOf('name="reason"');
    expect(skipAt).toBeGreaterThan(0);
    expect(pauseAt).toBeGreaterThan(skipAt);
    expect(reasonsAt).toBeGreaterThan(pauseAt);
    expect(c.text).toContain('name="until" value="2027-04-10"'); // pause 1 month from today
    expect(c.text).toContain('name="until" value="2027-06-10"');
    expect(c.text).toContain('I have too much of it');
    expect(c.text).toContain('<legend>Why are you cancelling?</legend>');
    expect(c.text).toContain('<label for="cancel-note">');

    // No reason chosen: 400 beside the form, nothing written.
    const v = versionOf(c.text);
    const none = await page('POST', paths.bob!, { action: 'cancel', note: 'hm', v });
    expect(none.status).toBe(400);
    expect(none.text).toContain('<h1>Cancel your subscription?</h1>');
    expect(none.text).toContain('Choose a reason.');
    expect(none.text).toContain('>hm</textarea>');
    expect((await state('bob')).status).toBe('active');

    const done = await page('POST', paths.bob!, {
      action: 'cancel',
      reason: 'too_much_product',
      note: 'Still have two bags',
      v,
    });
    expect(done.status).toBe(200);
    expect(done.text).toContain('Your subscription is cancelled');
    expect(done.text).toContain('name="action" value="reactivate"');
    const s = await getSubscription(ctx, { id: ids.bob! });
    expect(s).toMatchObject({
      status: 'cancelled',
      cancelReason: 'too_much_product',
      cancelNote: 'Still have two bags',
    });
    expect(s.history.at(-1)).toMatchObject({ type: 'cancelled', by: 'customer' });

    const back = await page('POST', paths.bob!, { action: 'reactivate', date: '', v: versionOf(done.text) });
    expect(back.status).toBe(200);
    expect(back.text).toContain('Welcome back!');
    const again = await state('bob');
    expect(again.status).toBe('active');
    expect(again.next).toBe('2027-03-10');
    expect(again.history.slice(-2)).toEqual(['cancelled:customer', 'reactivated:customer']);
  });

  it('a pause date in the past is a 400 with the message beside the form, nothing changed', async () => {
    const before = await state('eve');
    const v = versionOf((await page('GET', paths.eve!)).text);
    const r = await page('POST', paths.eve!, { action: 'pause', until: '2027-03-01', v });
    expect(r.status).toBe(400);
    expect(r.text).toContain(
      '<p class="error" role="alert" id="error-pause">Choose a date after March 10, 2027.</p>',
    );
    expect(r.text).toContain('value="2027-03-01" aria-invalid="true" aria-describedby="error-pause"');
    expect(await state('eve')).toEqual(before);

    // A quantity out of range and a product the plan does not sell: refused, nothing changed.
    expect((await page('POST', paths.eve!, { action: 'quantity', quantity: '0', v })).status).toBe(400);
    expect((await page('POST', paths.eve!, { action: 'swap', sku: 'NOPE', v })).status).toBe(400);
    // Not a form, or no action: 400, nothing changed.
    const bare = await t.app.request(paths.eve!, { method: 'POST', body: '{"action":"skip"}' });
    expect(bare.status).toBe(400);
    expect((await page('POST', paths.eve!, { v })).status).toBe(400);
    expect(await state('eve')).toEqual(before);

    // The valid ones go through, by the customer.
    const q = await page('POST', paths.eve!, { action: 'quantity', quantity: '3', v });
    expect(q.status).toBe(200);
    const sw = await page('POST', paths.eve!, { action: 'swap', sku: 'TEA', v: versionOf(q.text) });
    expect(sw.status).toBe(200);
    expect(sw.text).toContain('from now on you get “Green tea”');
    expect((await state('eve')).history.slice(-2)).toEqual(['quantity_changed:customer', 'swapped:customer']);
  });

  it('a tampered link is a 403 page and changes nothing; an erased customer’s subscription is gone (410)', async () => {
    const before = await state('cat');
    const [id, mac] = paths.cat!.slice(3).split('.') as [string, string];
    const v = versionOf((await page('GET', paths.cat!)).text);
    const forged = [
      `/m/${id}.${mac.slice(0, -2)}xx`,
      `/m/${(Number.parseInt(id, 36) + 1).toString(36)}.${mac}`,
      `/m/${id}`,
      `/m/${id}.${mac}.x`,
    ];
    for (const path of forged) {
      const g = await page('GET', path, undefined, { 'accept-language': 'uk' });
      expect(g.status, path).toBe(403);
      expect(g.text).toContain('Посилання недійсне');
      expect(g.headers.get('cache-control')).toBe('no-store');
      const p = await page('POST', path, { action: 'cancel', reason: 'other', v });
      expect(p.status, path).toBe(403);
    }
    expect(await state('cat')).toEqual(before);

    await eraseCustomer(ctx, { id: 'cat', by: 'test' });
    const gone = await page('GET', paths.cat!, undefined, { 'accept-language': 'en' });
    expect(gone.status).toBe(410);
    expect(gone.text).toContain('This subscription is no longer available.');
    expect(gone.text).not.toContain('Кава');
    const post = await page('POST', paths.cat!, { action: 'reactivate', v: versionOf(gone.text) });
    expect(post.status).toBe(410);
    expect((await getSubscription(ctx, { id: ids.cat! })).status).toBe('cancelled');
  });
});
