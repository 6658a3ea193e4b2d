import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { it } from 'vitest';
import { ManualClock } from '../../src/kit/clock.js';
import { upsertCustomer } from '../../src/modules/customers/service.js';
import { setPolicy } from '../../src/modules/messaging/service.js';
import { upsertProduct } from '../../src/modules/products/service.js';
import { updateStore } from '../../src/modules/settings/service.js';
import type { Payment, SubscriptionDetail } from '../../src/modules/subscriptions/schema.js';
import {
  actOnSubscription,
  createSubscription,
  recordPayment,
  renewSubscriptions,
  savePlan,
} from '../../src/modules/subscriptions/service.js';
import { browserSuite, en, expect, OUT } from '../support/browser.js';

/**
 * Issue 28, the subscriptions pages in Chromium. A store (EUR, Europe/Kyiv) with three products, two
 * plans and 27 subscriptions seeded through the service: ann's (New York) made its first order on a
 * test clock, its payment failed ("card declined") and then succeeded; one cancelled. The list pages
 * by keyset ("Show more"), filters by status, plan and customer in the address (an unknown customer
 * refused at the field); the plans tab shows interval, discount, products and subscribers. The detail
 * shows the terms (unit price against the one-off price), the next deliveries, the orders, the payments
 * and the history; the customer's page lists their subscriptions. New subscription shows a refusal at
 * its field and opens the new one. An agent skips the next delivery (the next date moves to the one
 * after), is refused a pause until a past date at the field, is refused a skip with a 409 on top after
 * someone else paused it (the page then offers resume, which it does), and cancels with a reason
 * (refused first without one). An analyst sees no action, no editor, no New subscription. A marketer
 * edits a plan in the JSON editor (a refusal at its path), saves a new one and archives it. axe-clean
 * in English and Ukrainian. Screenshots subscriptions, subscription, subscription-plans,
 * subscriptions-uk.
 */

const ZONE = 'Europe/Kyiv';
const AGENT = { email: 'agent@shop.test', password: 'agent password 1' };
const ANALYST = { email: 'ana@shop.test', password: 'analyst password 1' };
const MARKETER = { email: 'mark@shop.test', password: 'marketer password 1' };
const FILLERS = 24;
const DAY = 86_400_000;

/** Today's local date in a zone, `YYYY-MM-DD`. */
const todayIn = (zone: string, at = new Date()) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
const plusDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
/** A local date as the pages show it (en). */
const day = (date: string, lang = 'en') =>
  new Date(`${date}T00:00:00Z`).toLocaleDateString(lang, { dateStyle: 'medium', timeZone: 'UTC' });
const eur = (minor: number) => en.money(minor / 100, 'EUR');

browserSuite('subscriptions pages in Chromium', { data: 'empty' }, (s) => {
  const text = async (selector: string, page: Page = s.page) =>
    ((await page.locator(selector).first().textContent()) ?? '').trim();
  const cells = (row: string, page: Page = s.page) => page.locator(row).locator('th, td').allTextContents();
  const rows = (page: Page = s.page) => page.locator('[data-testid="subscriptions"] tbody tr');
  const ok = async <T>(r: Promise<{ status: number; json: T }>, status = 200) => {
    const x = await r;
    expect(x.status, JSON.stringify(x.json)).toBe(status);
    return x;
  };
  const detail = (id: string) => s.get<SubscriptionDetail>(`/v1/subscriptions/${id}`);
  /** A browser of its own, signed in as `who`. */
  const signedIn = async (who: { email: string; password: string }) => {
    const context = await s.page
      .context()
      .browser()!
      .newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${s.base}/login`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.getByRole('navigation', { name: 'main' }).waitFor();
    return { context, page };
  };
  /** Violations of another page (as the suite's `violations`). */
  const violationsOf = async (page: Page) => {
    const axe = (await import('axe-core')).default;
    await page.addScriptTag({ content: axe.source });
    const r = await page.evaluate(async () => (globalThis as unknown as { axe: typeof axe }).axe.run());
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
  };
  const ids: Record<string, string> = {};

  it('seeds the store through the service: products, customers, plans, subscriptions, an order and its payments', async () => {
    const ctx = s.deps;
    await updateStore(ctx, { currency: 'EUR', timeZone: ZONE });
    await setPolicy(ctx, { publicUrl: s.base, frequencyCap: null, quietHours: null });
    for (const [sku, title, price] of [
      ['COFFEE', 'House coffee 1 kg', '15.00'],
      ['TEA', 'Green tea', '10.00'],
      ['FILTER', 'Paper filters', '5.00'],
    ] as const)
      await upsertProduct(ctx, { sku, body: { title, price, currency: 'EUR' } });
    const customers: [string, string | null][] = [
      ['ann', 'America/New_York'],
      ['bob', ZONE],
      ['cat', null],
      ...Array.from(
        { length: FILLERS + 2 },
        (_, i) => [`c${String(i + 1).padStart(2, '0')}`, null] as [string, null],
      ),
    ];
    for (const [id, zone] of customers)
      await upsertCustomer(ctx, {
        body: { customer_id: id, email: `${id}@example.com`, ...(zone ? { time_zone: zone } : {}) },
      });
    await savePlan(ctx, {
      body: {
        name: 'coffee-monthly',
        title: 'Coffee every month',
        interval: { every: 1, unit: 'month' },
        discountPercent: 10,
        products: ['COFFEE', 'TEA'],
        reminderDays: 0,
      },
    });
    await savePlan(ctx, {
      body: {
        name: 'filters',
        title: 'Filters every two weeks',
        interval: { every: 2, unit: 'week' },
        reminderDays: 0,
      },
    });
    const create = async (key: string, body: Record<string, unknown>) => {
      ids[key] = (await createSubscription(ctx, { body, by: 'test' })).id;
    };
    // Ann's first delivery is today on her calendar (New York), at 09:00: at most 9 hours from now.
    await create('ann', {
      customer: 'ann',
      plan: 'coffee-monthly',
      sku: 'COFFEE',
      quantity: 2,
      firstDelivery: todayIn('America/New_York'),
    });
    await create('bob', {
      customer: 'bob',
      plan: 'coffee-monthly',
      sku: 'TEA',
      firstDelivery: plusDays(todayIn(ZONE), 5),
    });
    await create('cat', { customer: 'cat', plan: 'coffee-monthly', sku: 'COFFEE' });
    for (let i = 1; i <= FILLERS; i++)
      await create(`c${i}`, {
        customer: `c${String(i).padStart(2, '0')}`,
        plan: 'filters',
        sku: 'FILTER',
        firstDelivery: plusDays(todayIn(ZONE), 3),
      });
    await actOnSubscription(ctx, {
      id: ids.c1!,
      body: { action: 'cancel', reason: 'moving', note: 'to Lviv' },
      by: 'test',
    });
    // Ann's order, made by the job on a clock 10 hours on; its payment fails, then succeeds.
    const later = new ManualClock(new Date(Date.now() + 10 * 3_600_000).toISOString());
    expect((await renewSubscriptions({ ...ctx, clock: later })).orders).toBe(1);
    await recordPayment(ctx, {
      body: { key: `sub-${ids.ann}-1-1`, result: 'failed', reason: 'card declined' },
      by: 'test',
    });
    await recordPayment(ctx, { body: { key: `sub-${ids.ann}-1-2`, result: 'succeeded' }, by: 'test' });
    for (const [who, role] of [
      [AGENT, 'agent'],
      [ANALYST, 'analyst'],
      [MARKETER, 'marketer'],
    ] as const)
      await ok(s.send('POST', '/v1/users', { ...who, role }), 201);
  });

  it('lists the subscriptions a page at a time; the filters live in the address; the plans tab', async () => {
    await s.page.getByRole('link', { name: 'Subscriptions', exact: true }).click();
    await s.page.getByRole('heading', { name: 'Subscriptions', exact: true }).waitFor();
    await rows().first().waitFor();
    expect(await rows().count()).toBe(25);
    await s.page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => rows().count()).toBe(FILLERS + 3);
    expect(await s.page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
    const ann = await detail(ids.ann!);
    expect(ann).toMatchObject({ status: 'active', quantity: 2, unitPriceMinor: 1350, mrrMinor: 2700 });
    expect(await cells(`[data-subscription="${ids.ann}"]`)).toEqual([
      `#${ids.ann}`,
      'ann',
      'coffee-monthly',
      'House coffee 1 kg COFFEE',
      '2',
      'Active',
      day(ann.nextDeliveryLocal!),
      eur(2700),
    ]);
    const c1 = await detail(ids.c1!);
    expect(await cells(`[data-subscription="${ids.c1}"]`)).toEqual([
      `#${ids.c1}`,
      'c01',
      'filters',
      'Paper filters FILTER',
      '1',
      'Cancelled',
      '—',
      eur(0),
    ]);
    expect(c1.status).toBe('cancelled');
    expect(await s.violations()).toEqual([]);
    await s.shot('subscriptions');

    // Status: the cancelled one.
    await s.page.getByRole('combobox', { name: /^Status/ }).selectOption('cancelled');
    await s.page.waitForURL(/[?&]status=cancelled/);
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().getAttribute('data-subscription')).toBe(ids.c1);
    // Plan (status any): ann's, bob's and cat's.
    await s.page.getByRole('combobox', { name: /^Status/ }).selectOption('');
    await s.page.getByRole('combobox', { name: /^Plan/ }).selectOption('coffee-monthly');
    await s.page.waitForURL(
      (u) => u.searchParams.get('plan') === 'coffee-monthly' && !u.searchParams.has('status'),
    );
    await expect
      .poll(async () => rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-subscription'))))
      .toEqual([ids.ann, ids.bob, ids.cat]);
    // Customer: an unknown id is the API's 400 at the field; a known one filters.
    await s.page.getByLabel('Customer id').fill('nobody');
    await s.page.getByRole('button', { name: 'Apply' }).click();
    await s.page.waitForURL(/[?&]customer=nobody/);
    await expect.poll(() => text('[data-error-for="customer"]')).toBe("no customer with id 'nobody'");
    expect(await s.page.getByLabel('Customer id').getAttribute('aria-invalid')).toBe('true');
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Customer id').fill('ann');
    await s.page.getByRole('button', { name: 'Apply' }).click();
    await s.page.waitForURL(/[?&]customer=ann/);
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().getAttribute('data-subscription')).toBe(ids.ann);
    // The address restores the filters.
    await s.page.goto(`${s.base}/subscriptions?plan=filters&status=active`);
    await expect.poll(() => rows().count()).toBe(FILLERS - 1);
    expect(await s.page.getByRole('combobox', { name: /^Plan/ }).inputValue()).toBe('filters');
    expect(await s.page.getByRole('combobox', { name: /^Status/ }).inputValue()).toBe('active');

    // The plans tab.
    await s.page.getByRole('link', { name: 'Plans', exact: true }).click();
    await s.page.waitForURL(/\/subscriptions\/plans$/);
    await s.page.locator('[data-plan="coffee-monthly"]').waitFor();
    expect(await cells('[data-plan="coffee-monthly"]').then((c) => c.slice(0, 10))).toEqual([
      'Coffee every month coffee-monthly',
      'Active',
      'every month',
      '10%',
      'COFFEE, TEA',
      '09:00',
      'none',
      '3',
      '0',
      '0',
    ]);
    expect(await text('[data-plan="filters"] [data-part="interval"]')).toBe('every 2 weeks');
    expect(await text('[data-plan="filters"] [data-part="products"]')).toBe('any product with a price');
    expect(await text('[data-plan="filters"] [data-part="active"]')).toBe(String(FILLERS - 1));
    expect(await s.violations()).toEqual([]);
  });

  it('shows a subscription: terms, next deliveries, orders, payments, history; the customer’s page lists it', async () => {
    await s.page.goto(`${s.base}/subscriptions?customer=ann`);
    await s.page.getByRole('link', { name: `#${ids.ann}`, exact: true }).click();
    await s.page.getByRole('heading', { name: `Subscription #${ids.ann}` }).waitFor();
    const x = await detail(ids.ann!);
    const fact = (k: string) => text(`[data-fact="${k}"] dd`);
    expect(await fact('customer')).toBe('ann');
    expect(await fact('status')).toBe('Active');
    expect(await fact('product')).toBe('House coffee 1 kg COFFEE');
    expect(await fact('quantity')).toBe('2');
    expect(await fact('price')).toBe(`${eur(1350)} (one-off price ${eur(1500)}: 10% off)`);
    expect(await fact('delivery-total')).toBe(eur(2700));
    expect(await fact('interval')).toBe('every month');
    expect(await fact('time')).toBe('09:00 on the customer’s clock (America/New_York)');
    expect(await fact('next')).toBe(`${day(x.nextDeliveryLocal!)}, 09:00`);
    expect(await fact('mrr')).toBe(eur(2700));
    // The next six deliveries, from the second cycle (the first was ordered).
    expect(x.upcoming.map((u) => u.cycle)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(await s.page.locator('[data-testid="upcoming"] [data-part="date"]').allTextContents()).toEqual(
      x.upcoming.map((u) => day(u.localDate)),
    );
    // The order, as text (the dashboard has no orders page).
    expect(x.orders.map((o) => o.order)).toEqual([`sub-${ids.ann}-1`]);
    const order = await cells(`[data-order="sub-${ids.ann}-1"]`);
    expect([order[0], order[1], order[3]]).toEqual([`sub-${ids.ann}-1`, '1', eur(2700)]);
    // The payments: the first attempt failed, the retry succeeded.
    const payments = await s.get<{ data: Payment[] }>(`/v1/subscription-payments?subscription=${ids.ann}`);
    expect(payments.data.map((p) => [p.attempt, p.status, p.reason])).toEqual([
      [1, 'failed', 'card declined'],
      [2, 'succeeded', null],
    ]);
    await s.page.locator(`[data-payment="sub-${ids.ann}-1-2"]`).waitFor();
    const first = await cells(`[data-payment="sub-${ids.ann}-1-1"]`);
    expect([first[0], first[1], first[3], first[4], first[5]]).toEqual([
      `sub-${ids.ann}-1-1`,
      '1',
      eur(2700),
      'Failed',
      'card declined',
    ]);
    expect(await text(`[data-payment="sub-${ids.ann}-1-2"] [data-part="status"]`)).toBe('Succeeded');
    // The history: created, the order, the payments.
    const types = await s.page
      .locator('[data-testid="history"] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-type')));
    expect(types).toEqual(x.history.map((h) => h.type));
    // (The order was made on a clock 10 hours ahead: it sorts after the payments answered since.)
    expect([...types].sort()).toEqual(['created', 'order', 'payment_failed', 'payment_succeeded']);
    const created = await cells('[data-testid="history"] tr[data-type="created"]');
    expect(created.slice(1)).toEqual([
      'Created',
      '1',
      `coffee-monthly: 2 × COFFEE, first delivery ${day(todayIn('America/New_York'))}`,
      'test',
    ]);
    const failed = await cells('[data-testid="history"] tr[data-type="payment_failed"]');
    const retryAt = new Date(payments.data[1]!.dueAt).toLocaleString('en', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'America/New_York',
    });
    expect(failed.slice(1)).toEqual([
      'Payment failed',
      '1',
      `attempt 1 (sub-${ids.ann}-1-1); card declined; next attempt ${retryAt}`,
      'test',
    ]);
    const ordered = await cells('[data-testid="history"] tr[data-type="order"]');
    expect(ordered.slice(1)).toEqual(['Order', '1', `sub-${ids.ann}-1, ${eur(2700)}`, 'the schedule']);
    // The admin may act: the forms that fit an active subscription.
    expect(
      await s.page
        .locator('form[data-action]')
        .evaluateAll((fs) => fs.map((f) => f.getAttribute('data-action'))),
    ).toEqual(['skip', 'reschedule', 'pause', 'quantity', 'swap', 'cancel']);
    expect(await s.violations()).toEqual([]);
    await s.shot('subscription');

    // The customer's page: their subscriptions, linking here.
    await s.page.getByRole('link', { name: 'ann', exact: true }).click();
    await s.page.waitForURL(/\/customers\/ann$/);
    await s.page.locator(`[data-testid="customer-subscriptions"] [data-subscription="${ids.ann}"]`).waitFor();
    expect(await s.page.locator('[data-testid="customer-subscriptions"] tbody tr').count()).toBe(1);
  });

  it('New subscription: a refusal at its field, then the new subscription’s page', async () => {
    await s.page.goto(`${s.base}/subscriptions`);
    await s.page.getByRole('link', { name: 'New subscription' }).click();
    await s.page.waitForURL(/\/subscriptions\/new$/);
    await s.page.getByLabel('Customer id').waitFor();
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Customer id').fill('c25');
    await s.page.getByLabel('Plan', { exact: true }).selectOption('filters');
    // The plan lists no products: any sku, typed.
    await s.page.getByLabel('Product (sku)').fill('GHOST');
    await s.page.getByLabel('Quantity', { exact: true }).fill('3');
    const first = plusDays(todayIn(ZONE), 2);
    await s.page.getByLabel('First delivery (optional)').fill(first);
    const submit = async () => {
      const [r] = await Promise.all([
        s.page.waitForResponse(
          (r) => r.url().endsWith('/v1/subscriptions') && r.request().method() === 'POST',
        ),
        s.page.getByRole('button', { name: 'Subscribe', exact: true }).click(),
      ]);
      return { status: r.status(), json: (await r.json()) as { id?: string; error?: { message: string } } };
    };
    const refused = await submit();
    expect(refused.status).toBe(400);
    await expect.poll(() => text('[data-error-for="sku"]')).toBe(refused.json.error!.message);
    expect(refused.json.error!.message).toBe("no product with sku 'GHOST'");
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Product (sku)').fill('FILTER');
    const made = await submit();
    expect(made.status).toBe(201);
    ids.c25 = made.json.id!;
    await s.page.waitForURL(new RegExp(`/subscriptions/${ids.c25}$`));
    await s.page.getByRole('heading', { name: `Subscription #${ids.c25}` }).waitFor();
    expect(await text('[data-fact="quantity"] dd')).toBe('3');
    expect(await text('[data-fact="next"] dd')).toBe(`${day(first)}, 09:00`);
    expect(await text('[data-fact="price"] dd')).toBe(`${eur(500)} (one-off price ${eur(500)})`);
  });

  it('an agent skips the next delivery, is refused a pause until a past date at the field, sees a 409 on top, resumes, and cancels with a reason', async () => {
    const { context, page } = await signedIn(AGENT);
    try {
      const before = await detail(ids.bob!);
      await page.getByRole('link', { name: 'Subscriptions', exact: true }).click();
      await page.getByLabel('Customer id').fill('bob');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByRole('link', { name: `#${ids.bob}`, exact: true }).click();
      await page.getByRole('heading', { name: `Subscription #${ids.bob}` }).waitFor();
      expect(await text('[data-fact="next"] dd', page)).toBe(`${day(before.upcoming[0]!.localDate)}, 09:00`);
      expect(await violationsOf(page)).toEqual([]);

      await page.getByRole('button', { name: 'Skip next' }).click();
      await expect
        .poll(() => text('[data-testid="action-result"]', page))
        .toBe(`Skipped. The next delivery is on ${day(before.upcoming[1]!.localDate)}.`);
      expect(await text('[data-fact="next"] dd', page)).toBe(`${day(before.upcoming[1]!.localDate)}, 09:00`);
      const after = await detail(ids.bob!);
      expect(after.nextDeliveryLocal).toBe(before.upcoming[1]!.localDate);
      expect(after.upcoming[0]!.cycle).toBe(2);
      await expect
        .poll(() => text('[data-testid="history"] tr[data-type="skipped"] td:nth-child(4)', page))
        .toBe(`${day(before.upcoming[0]!.localDate)} skipped; next ${day(before.upcoming[1]!.localDate)}`);
      expect(await text('[data-testid="history"] tr[data-type="skipped"] td:nth-child(5)', page)).toBe(
        AGENT.email,
      );

      // Pause until a past date: the API's 400 naming `until`, beside the field; nothing changes.
      const pause = page.locator('form[data-action="pause"]');
      await pause.getByLabel('Pause until').fill('2020-01-01');
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/v1/subscriptions/${ids.bob}/actions`)),
        pause.getByRole('button', { name: 'Pause' }).click(),
      ]);
      expect(refused.status()).toBe(400);
      const body = (await refused.json()) as { error: { message: string; details: { field: string } } };
      expect(body.error.details.field).toBe('until');
      expect(body.error.message).toContain('is in the past');
      await expect
        .poll(() => text('form[data-action="pause"] [data-error-for="until"]', page))
        .toBe(body.error.message);
      expect(await pause.getByLabel('Pause until').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByTestId('action-error').count()).toBe(0);
      expect((await detail(ids.bob!)).status).toBe('active');
      expect(await violationsOf(page)).toEqual([]);

      // Changed meanwhile (paused by someone else): the skip is the API's 409, on top; the page then
      // shows where the subscription is, and resumes it (no date: today).
      const until = plusDays(todayIn(ZONE), 10);
      await ok(s.send('POST', `/v1/subscriptions/${ids.bob}/actions`, { action: 'pause', until }));
      const [conflict] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/v1/subscriptions/${ids.bob}/actions`)),
        page.getByRole('button', { name: 'Skip next' }).click(),
      ]);
      expect(conflict.status()).toBe(409);
      const conflictJson = (await conflict.json()) as { error: { message: string } };
      await expect.poll(() => text('[data-testid="action-error"]', page)).toBe(conflictJson.error.message);
      await expect.poll(() => text('[data-fact="status"] dd', page)).toBe('Paused');
      expect(await text('[data-fact="next"] dt', page)).toBe('Resumes');
      expect(await text('[data-fact="next"] dd', page)).toBe(`${day(until)}, 09:00`);
      expect(
        await page
          .locator('form[data-action]')
          .evaluateAll((fs) => fs.map((f) => f.getAttribute('data-action'))),
      ).toEqual(['resume', 'quantity', 'swap', 'cancel']);
      expect(await violationsOf(page)).toEqual([]);
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await expect.poll(() => text('[data-fact="status"] dd', page)).toBe('Active');
      expect(await page.getByTestId('action-error').count()).toBe(0);
      expect((await detail(ids.bob!)).upcoming[0]!.localDate).toBe(todayIn(ZONE));

      // Cancel cat's: without a reason the API names `reason`; with one the subscription is cancelled.
      await page.goto(`${s.base}/subscriptions/${ids.cat}`);
      const cancel = page.locator('form[data-action="cancel"]');
      await cancel.waitFor();
      page.on('dialog', (d) => void d.accept());
      await cancel.getByRole('button', { name: 'Cancel subscription' }).click();
      await expect
        .poll(() => text('form[data-action="cancel"] [data-error-for="reason"]', page))
        .not.toBe('');
      await cancel.getByLabel('Reason').selectOption({ label: 'Quality' });
      await cancel.getByLabel('Note (optional)').fill('The beans were stale.');
      await cancel.getByRole('button', { name: 'Cancel subscription' }).click();
      await expect.poll(() => text('[data-fact="status"] dd', page)).toBe('Cancelled');
      expect(await text('[data-testid="action-result"]', page)).toBe('Cancelled.');
      expect(await text('[data-fact="reason"] dd', page)).toBe('Quality — The beans were stale.');
      expect(await page.getByTestId('no-upcoming').textContent()).toBe('No deliveries are scheduled.');
      // A cancelled one offers only reactivation.
      expect(
        await page
          .locator('form[data-action]')
          .evaluateAll((fs) => fs.map((f) => f.getAttribute('data-action'))),
      ).toEqual(['reactivate']);
      expect(await detail(ids.cat!)).toMatchObject({
        status: 'cancelled',
        cancelReason: 'quality',
        cancelNote: 'The beans were stale.',
      });
      expect(await violationsOf(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('an analyst reads but is offered no action, no editor and no New subscription', async () => {
    const { context, page } = await signedIn(ANALYST);
    try {
      await page.getByRole('link', { name: 'Subscriptions', exact: true }).click();
      await page.locator('[data-testid="subscriptions"]').waitFor();
      expect(await page.getByRole('link', { name: 'New subscription' }).count()).toBe(0);
      await page.goto(`${s.base}/subscriptions/${ids.ann}`);
      await page.locator('[data-testid="history"]').waitFor();
      await page.locator('[data-testid="payments"]').waitFor();
      expect(await page.locator('form[data-action]').count()).toBe(0);
      expect(await page.getByRole('heading', { name: 'Change this subscription' }).count()).toBe(0);
      await page.goto(`${s.base}/subscriptions/plans`);
      await page.locator('[data-plan="coffee-monthly"]').waitFor();
      expect(await page.getByRole('button', { name: /Edit|Archive/ }).count()).toBe(0);
      expect(await page.getByLabel('Plan definition (JSON)').count()).toBe(0);
      await page.goto(`${s.base}/subscriptions/new`);
      await page.getByTestId('no-rights').waitFor();
      expect(await page.getByLabel('Customer id').count()).toBe(0);
      expect(await violationsOf(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a marketer edits a plan in the JSON editor (a refusal at its path), saves a new plan and archives it', async () => {
    const { context, page } = await signedIn(MARKETER);
    try {
      await page.goto(`${s.base}/subscriptions/plans`);
      await page.getByRole('button', { name: 'Edit plan coffee-monthly' }).click();
      await page.getByRole('heading', { name: 'Edit plan coffee-monthly' }).waitFor();
      const editor = page.getByLabel('Plan definition (JSON)');
      const loaded = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
      expect(loaded).toMatchObject({
        name: 'coffee-monthly',
        discountPercent: 10,
        products: ['COFFEE', 'TEA'],
      });

      const save = async () => {
        const [r] = await Promise.all([
          page.waitForResponse(
            (r) => r.url().endsWith('/v1/subscription-plans') && r.request().method() === 'PUT',
          ),
          page.getByRole('button', { name: 'Save plan' }).click(),
        ]);
        return {
          status: r.status(),
          json: (await r.json()) as {
            error?: {
              message: string;
              details?: { issues?: { path: string; message: string }[]; field?: string };
            };
          },
        };
      };
      // A discount over 90 and an unknown product: the API's issues at their paths and lines.
      const bad = JSON.stringify({ ...loaded, discountPercent: 95 }, null, 2);
      await editor.fill(bad);
      const refused = await save();
      expect(refused.status).toBe(400);
      const issue = refused.json.error!.details!.issues!.find((i) => i.path === 'discountPercent')!;
      const line = bad.split('\n').findIndex((l) => l.includes('"discountPercent"')) + 1;
      await expect
        .poll(() => text('[data-error-for="discountPercent"]', page))
        .toBe(`discountPercent (line ${line}): ${issue.message} Show discountPercent in the editor`);
      expect(await violationsOf(page)).toEqual([]);
      const ghost = JSON.stringify({ ...loaded, products: ['COFFEE', 'GHOST'] }, null, 2);
      await editor.fill(ghost);
      const unknown = await save();
      expect(unknown.json.error!.details!.field).toBe('products[1]');
      const ghostLine = ghost.split('\n').findIndex((l) => l.includes('"GHOST"')) + 1;
      await expect
        .poll(() => text('[data-error-for="products[1]"]', page))
        .toBe(`products[1] (line ${ghostLine}): no product with sku 'GHOST' Show products[1] in the editor`);

      // Saved: 15 % off, filters sold too.
      await editor.fill(
        JSON.stringify({ ...loaded, discountPercent: 15, products: ['COFFEE', 'TEA', 'FILTER'] }, null, 2),
      );
      expect((await save()).status).toBe(200);
      await expect.poll(() => text('[data-testid="plan-saved"]', page)).toBe('Plan coffee-monthly is saved.');
      await expect.poll(() => text('[data-plan="coffee-monthly"] [data-part="discount"]', page)).toBe('15%');
      expect(await text('[data-plan="coffee-monthly"] [data-part="products"]', page)).toBe(
        'COFFEE, TEA, FILTER',
      );

      // A new plan, then archived after a confirmation.
      await page.getByRole('button', { name: 'Start a new plan' }).click();
      await page.getByRole('heading', { name: 'New plan', exact: true }).waitFor();
      expect(JSON.parse(await editor.inputValue())).toMatchObject({
        name: 'coffee-monthly',
        reminderDays: 0,
      });
      await editor.fill(
        JSON.stringify(
          {
            name: 'tea-weekly',
            title: 'Tea every week',
            interval: { every: 1, unit: 'week' },
            products: ['TEA'],
            reminderDays: 0,
          },
          null,
          2,
        ),
      );
      expect((await save()).status).toBe(200);
      await page.locator('[data-plan="tea-weekly"]').waitFor();
      expect(await text('[data-plan="tea-weekly"] [data-part="interval"]', page)).toBe('every week');
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Archive plan tea-weekly' }).click();
      await expect
        .poll(() => text('[data-testid="archive-result"]', page))
        .toBe('Plan tea-weekly is archived.');
      await expect.poll(() => text('[data-plan="tea-weekly"] td', page)).toBe('Archived');
      expect(await page.getByRole('button', { name: 'Archive plan tea-weekly' }).count()).toBe(0);
      const plans = await s.get<{
        data: { name: string; status: string; definition: { discountPercent: number } }[];
      }>('/v1/subscription-plans');
      expect(plans.data.map((p) => [p.name, p.status, p.definition.discountPercent])).toEqual([
        ['coffee-monthly', 'active', 15],
        ['filters', 'active', 0],
        ['tea-weekly', 'archived', 0],
      ]);
      expect(await violationsOf(page)).toEqual([]);
      await page.screenshot({ path: join(OUT, 'subscription-plans.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('in Ukrainian: the list and a subscription, axe-clean', async () => {
    await s.page.goto(`${s.base}/subscriptions`);
    await rows().first().waitFor();
    await s.page.getByLabel('Language').selectOption('uk');
    await s.page.getByRole('heading', { name: 'Підписки', exact: true }).waitFor();
    expect(await text(`[data-subscription="${ids.ann}"] td:nth-child(6)`)).toBe('Активна');
    expect(await s.violations()).toEqual([]);
    await s.shot('subscriptions-uk');
    await s.page.goto(`${s.base}/subscriptions/${ids.ann}`);
    await s.page.getByRole('heading', { name: `Підписка №${ids.ann}` }).waitFor();
    await s.page.locator('[data-testid="payments"]').waitFor();
    expect(await text('[data-fact="interval"] dd')).toBe('щомісяця');
    expect(await text('[data-fact="next"] dd')).toBe(
      `${day((await detail(ids.ann!)).nextDeliveryLocal!, 'uk')}, 09:00`,
    );
    expect(await s.page.getByRole('heading', { name: 'Змінити підписку' }).count()).toBe(1);
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Мова').selectOption('en');
  });
});
