import { it } from 'vitest';
import { browserSuite, en, expect } from '../support/browser.js';

/**
 * Issue 23, the messaging module's pages: templates (create, a save error as the API words it, a new
 * version, a preview for a real customer equal to the API's rendering) and the send ledger (counts and
 * rows as GET /v1/messages*). axe-clean; screenshots templates.png, messages.png.
 */
browserSuite('messaging pages in Chromium', { data: 'generated' }, (s) => {
  it('creates a template, shows the API’s error for a broken one, previews it for a customer', async () => {
    await s.page.goto(`${s.base}/templates`);
    await s.page.getByRole('heading', { name: 'Message templates' }).waitFor();
    await s.page.getByText('No templates yet').waitFor();
    await s.page.getByRole('button', { name: 'New template' }).click();
    await s.page.getByLabel('Name', { exact: true }).fill('welcome');
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    await s.page.getByText('Saved as version 1').waitFor();
    const list = await s.get<{ data: { name: string; version: number; channel: string }[] }>('/v1/templates');
    expect(list.data).toMatchObject([{ name: 'welcome', version: 1, channel: 'email' }]);
    await s.page.locator('[data-template="welcome"]').waitFor();
    expect(await s.page.locator('[data-template="welcome"] td').nth(3).textContent()).toBe('1');

    // A broken Liquid filter: the page shows the API's own message (variant, part, line).
    await Promise.all([
      s.page.waitForResponse(
        (r) => r.url().endsWith('/v1/templates/welcome') && r.request().method() === 'GET',
      ),
      s.page.getByRole('button', { name: 'welcome' }).click(),
    ]);
    const body = s.page.getByLabel('Body (MJML with Liquid)');
    const good = await body.inputValue();
    const bad = good.replace('<mj-text>Hello', '<mj-text>{% if %}Hello');
    await body.fill(bad);
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    const source = await s.get<{
      source: { channel: string; kind: string; variants: { locale: string; subject: string }[] };
    }>('/v1/templates/welcome');
    const refused = await s.send<{ error: { message: string } }>('PUT', '/v1/templates/welcome', {
      channel: source.source.channel,
      kind: source.source.kind,
      variants: [{ ...source.source.variants[0], body: bad }],
    });
    expect(refused.status).toBe(400);
    await expect
      .poll(() => s.page.locator('form [role="alert"].error').textContent())
      .toBe(refused.json.error.message);
    await body.fill(good.replace('Hello', 'Welcome back'));
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    await s.page.getByText('Saved as version 2').waitFor();

    // Preview for customer c3: what the API renders.
    await s.page.getByLabel('Preview for customer (shop id)').fill('c3');
    await s.page.getByRole('button', { name: 'Preview', exact: true }).click();
    const rendered = await s.send<{ subject: string; text: string }>(
      'POST',
      '/v1/templates/welcome/preview',
      {
        customer: 'c3',
      },
    );
    expect(rendered.status).toBe(200);
    await expect
      .poll(() => s.page.locator('[data-part="subject"]').textContent())
      .toBe(rendered.json.subject);
    expect(await s.page.locator('[data-part="text"]').textContent()).toBe(rendered.json.text);
    expect(rendered.json.text).toContain('Welcome back');
    expect(await s.page.frameLocator('iframe').locator('body').textContent()).toContain('Welcome back');
    expect(await s.violations()).toEqual([]);
    await s.shot('templates');
  });

  it('shows the send ledger: counts by status and rows as the API gives them', async () => {
    // Marketing email needs the address contacts reach the store's retain serve at (unsubscribe links).
    expect((await s.send('PUT', '/v1/messaging/policy', { publicUrl: s.base })).status).toBe(200);
    const queued = await s.send('POST', '/v1/messages', {
      template: 'welcome',
      customers: ['c1', 'c2', 'c3', 'c4'],
      occurrence: 'browser-test',
    });
    expect(queued.status, JSON.stringify(queued.json)).toBe(202);
    await s.page.goto(`${s.base}/messages`);
    await s.page.getByRole('heading', { name: 'Messages', exact: true }).waitFor();
    const summary = await s.get<{ counts: Record<string, number> }>('/v1/messages/summary');
    const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(4);
    for (const status of ['queued', 'sending', 'sent', 'rejected', 'skipped', 'unknown'])
      expect(await s.page.locator(`[data-status="${status}"] dd`).textContent()).toBe(
        en.int(summary.counts[status] ?? 0),
      );
    const ledger = await s.get<{ data: { key: string; customer: string; status: string }[] }>('/v1/messages');
    const rows = s.page.locator('[data-testid="sends"] tbody tr');
    await expect.poll(() => rows.count()).toBe(ledger.data.length);
    for (const [i, r] of ledger.data.entries()) {
      expect(await rows.nth(i).getAttribute('data-key')).toBe(r.key);
      expect(await rows.nth(i).locator('td').first().textContent()).toBe(r.customer);
    }
    // Filtering by a status nobody has empties the table.
    await s.page.getByLabel('Status').selectOption('unknown');
    await s.page.getByText('No sends yet').waitFor();
    await s.page.getByLabel('Status').selectOption('');
    await expect.poll(() => rows.count()).toBe(ledger.data.length);
    expect(await s.violations()).toEqual([]);
    await s.shot('messages');
    // The customer 360 lists that customer's sends.
    await s.page.getByRole('link', { name: 'c3', exact: true }).click();
    await s.page.waitForURL(/\/customers\/c3$/);
    const mine = await s.get<{ data: { key: string }[] }>('/v1/messages?customer=c3');
    expect(mine.data).toHaveLength(1);
    const row = s.page.locator('[data-testid="customer-messages"] tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.first().getAttribute('data-key')).toBe(mine.data[0]!.key);
  });
});
