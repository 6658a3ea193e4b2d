import { join } from 'node:path';
import { browserSuite, EMAIL, en, expect, OUT, PASSWORD } from '../support/browser.js';
import { it } from 'vitest';

/**
 * Issue 23: the dashboard in real Chromium (Debian's, driven by playwright-core): log in, the Overview's
 * figures equal the API's JSON, the RFM chart draws, the segment builder's live count equals the API,
 * the language switches, and axe-core finds no serious or critical violation. Screenshots go to
 * test-output/ (git-ignored).
 */
browserSuite('dashboard in Chromium', { data: 'generated', signedIn: false }, (s) => {
  const email = EMAIL;
  const password = PASSWORD;

  it('sends a visitor to the login page, refuses a wrong password, logs in', async () => {
    await s.page.goto(`${s.base}/`);
    await s.page.waitForURL(`${s.base}/login`);
    expect(await s.violations()).toEqual([]);
    await s.page.screenshot({ path: join(OUT, 'login.png') });
    await s.page.getByLabel('Email').fill(email);
    await s.page.getByLabel('Password').fill('wrong');
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => s.page.getByRole('alert').textContent()).toMatch(/Log-in failed/);
    await s.page.getByLabel('Password').fill(password);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await s.page.waitForURL(`${s.base}/`);
    await s.page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  it("shows the Overview's figures exactly as the API gives them, and the RFM chart", async () => {
    const api = (await s.page.evaluate(async () => (await fetch('/v1/reports/summary')).json())) as Record<
      string,
      number
    > & { currency: string };
    const shown = async (key: string) =>
      (await s.page.locator(`[data-figure="${key}"] dd`).textContent())?.trim();
    const en = (opts: Intl.NumberFormatOptions) => new Intl.NumberFormat('en', opts);
    expect(await shown('customers')).toBe(en({}).format(api.customers!));
    expect(await shown('orders')).toBe(en({}).format(api.orders!));
    expect(await shown('netRevenue')).toBe(
      en({ style: 'currency', currency: api.currency }).format(api.netRevenue!),
    );
    expect(await shown('aov')).toBe(en({ style: 'currency', currency: api.currency }).format(api.aov!));
    expect(await shown('repeatCustomerRate')).toBe(
      en({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
        api.repeatCustomerRate!,
      ),
    );
    expect(api.customers).toBeGreaterThan(10);
    await s.page.locator('.chart svg').waitFor();
    const bars = await s.page.locator('.chart svg path').count();
    expect(bars).toBeGreaterThan(5);
    // Every figure carries its definition.
    expect(
      await s.page.locator('[data-figure="repeatCustomerRate"] [role="note"]').getAttribute('aria-label'),
    ).toContain('two or more orders');
    expect(await s.violations()).toEqual([]);
    await s.page.screenshot({ path: join(OUT, 'overview.png'), fullPage: true });
  });

  it('shows the period figures with their change and sparkline as GET /v1/reports/overview, and follows the date range', async () => {
    type Fig = { value: number | null; change: number | null; changeKind: string; series: (number | null)[] };
    type Report = { currency: string; period: { from: string; to: string }; figures: Record<string, Fig> };
    const check = async (o: Report) => {
      const money = new Set(['netRevenue', 'aov', 'sixMonthLtv']);
      const rates = new Set(['repeatCustomerRate', 'retention', 'churn']);
      for (const [key, f] of Object.entries(o.figures)) {
        const want =
          f.value === null
            ? '—'
            : money.has(key)
              ? en.money(f.value, o.currency)
              : rates.has(key)
                ? en.pct(f.value)
                : key === 'ltvToCac'
                  ? en.dec(f.value)
                  : en.int(f.value);
        await expect
          .poll(() => s.page.locator(`[data-period-figure="${key}"] .value`).textContent())
          .toBe(want);
        const change = s.page.locator(`[data-period-figure="${key}"] [data-change]`);
        if (f.change === null) expect(await change.count()).toBe(0);
        else {
          const size =
            f.changeKind === 'points'
              ? `${en.dec(Math.abs(f.change) * 100, 1)} pp`
              : en.pct(Math.abs(f.change));
          expect(await change.textContent()).toBe(`${f.change > 0 ? '+' : f.change < 0 ? '−' : '±'}${size}`);
        }
        const drawn = f.series.filter((v) => v !== null).length >= 2;
        expect(await s.page.locator(`[data-period-figure="${key}"] svg.sparkline`).count()).toBe(
          drawn ? 1 : 0,
        );
      }
    };
    const whole = await s.get<Report>('/v1/reports/overview');
    await check(whole);
    expect(whole.figures.customers!.series).toHaveLength(12);
    await s.page.getByRole('button', { name: 'Last 90 days' }).click();
    await s.page.waitForURL(/from=/);
    const url = new URL(s.page.url());
    const ninety = await s.get<Report>(`/v1/reports/overview?${url.searchParams.toString()}`);
    expect(ninety.period.to).toBe(whole.period.to);
    expect(ninety.figures.customers!.value).not.toBe(whole.figures.customers!.value);
    await check(ninety);
    // A typed range is kept in the address, so a reload shows the same period.
    await s.page.getByLabel('From', { exact: true }).fill('2026-01-01');
    await s.page.waitForURL(/from=2026-01-01/);
    await s.page.reload();
    await check(await s.get<Report>(`/v1/reports/overview?from=2026-01-01&to=${ninety.period.to}`));
    expect(await s.violations()).toEqual([]);
    await s.shot('overview-period');
    await s.page.goto(`${s.base}/`);
  });

  it('builds a segment with a live count equal to the API, shows errors, saves it', async () => {
    await s.page.getByRole('link', { name: 'Segments' }).click();
    await s.page.getByRole('heading', { name: 'Segments', exact: true }).waitFor();
    // The default rule: orders ≥ 2.
    const count = async (rule: unknown) =>
      (await s.page.evaluate(
        async (body) => {
          const store = (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } })
            .sessionStorage;
          const csrf = store.getItem('retain.csrf') ?? '';
          const r = await fetch('/v1/segments/count', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
            body: JSON.stringify(body),
          });
          return ((await r.json()) as { count: number }).count;
        },
        { rule },
      )) as number;
    const live = s.page.getByTestId('live-count');
    const regulars = await count({ all: [{ field: 'orders', op: 'gte', value: 2 }] });
    await expect
      .poll(async () => live.textContent())
      .toMatch(new RegExp(`^${new Intl.NumberFormat('en').format(regulars)} customers? of`));
    // A second condition narrows it as the API says.
    await s.page.getByRole('button', { name: 'Add a condition' }).click();
    await s.page.getByLabel('Value 2').fill('US');
    const us = await count({
      all: [
        { field: 'orders', op: 'gte', value: 2 },
        { field: 'country', op: 'eq', value: 'US' },
      ],
    });
    await expect.poll(async () => live.textContent()).toMatch(new RegExp(`^${us} customers? of`));
    expect(us).toBeLessThan(regulars);
    // A bad value is reported with its path, not a blank s.page.
    await s.page.getByLabel('Value 1').fill('two');
    await expect
      .poll(async () => s.page.locator('.preview [role="alert"]').textContent())
      .toMatch(/rule\.all\[0\]\.value/);
    await s.page.getByLabel('Value 1').fill('2');
    await expect.poll(async () => live.textContent()).toMatch(new RegExp(`^${us} customers? of`));
    expect(await s.violations()).toEqual([]);
    await s.page.screenshot({ path: join(OUT, 'segments.png'), fullPage: true });
    await s.page.getByLabel('Name').fill('us-regulars');
    await s.page.getByRole('button', { name: 'Save segment' }).click();
    await s.page.getByText('us-regulars').waitFor();
    expect(
      await count({
        all: [
          { field: 'orders', op: 'gte', value: 2 },
          { field: 'country', op: 'eq', value: 'US' },
        ],
      }),
    ).toBe(us);
    await s.page.getByRole('link', { name: 'Overview' }).click();
    await s.page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  it('switches to Ukrainian and keeps it after a reload', async () => {
    await s.page.getByLabel('Language').selectOption('uk');
    await s.page.getByRole('heading', { name: 'Огляд' }).waitFor();
    await s.page.reload();
    await s.page.getByRole('heading', { name: 'Огляд' }).waitFor();
    expect(
      await s.page.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { lang: string } } }).document
            .documentElement.lang,
      ),
    ).toBe('uk');
    await s.page.screenshot({ path: join(OUT, 'overview-uk.png'), fullPage: true });
  });

  it('serves the API and the app side by side: JSON 404 for unknown API paths, the app for its own', async () => {
    const api = await fetch(`${s.base}/v1/nope`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: 'not_found' } });
    const deep = await fetch(`${s.base}/customers/42`, { headers: { accept: 'text/html' } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    const html = await (await fetch(`${s.base}/`, { headers: { accept: 'text/html' } })).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${s.base}${asset}`);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${s.base}/assets/../package.json`)).status).toBe(404);
  });
});
