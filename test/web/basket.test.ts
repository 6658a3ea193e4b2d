import { it } from 'vitest';
import { browserSuite, en, expect } from '../support/browser.js';

interface Companion {
  sku: string;
  title: string;
  orders: number;
  confidence: number;
  lift: number;
}
interface Rule {
  antecedent: string[];
  consequent: string[];
  support: number;
  supportCount: number;
  confidence: number;
  lift: number;
}

/** A table row as the page's script sees it (the tests compile without the DOM types). */
interface Cells {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

/**
 * The Basket page on the Online Retail store: a product picked by name shows its frequently-bought-
 * together companions, the bundles and the mined rules (with thresholds and a product filter) — names
 * beside SKUs, every figure equal to the basket routes' JSON; axe clean.
 */
browserSuite('Basket page in Chromium', { data: 'online-retail' }, (s) => {
  const rows = (testId: string) =>
    s.page
      .locator(`[data-testid=${testId}] tbody tr`)
      .evaluateAll((trs) =>
        (trs as unknown as Cells[]).map((r) =>
          Array.from(r.querySelectorAll('th, td')).map((c) => c.textContent?.trim() ?? ''),
        ),
      );
  /** A cell listing products: each title followed by its SKU. */
  const named = (skus: string[], title: (sku: string) => string) =>
    skus.map((sku) => `${title(sku)} ${sku}`).join('');

  it('finds a product by name and shows what is bought with it, as GET /v1/basket/fbt', async () => {
    await s.page.goto(`${s.base}/basket`);
    await s.page.getByRole('heading', { name: 'Basket analysis', level: 1 }).waitFor();
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Find a product by name or SKU').fill('heart t-light');
    await s.page.locator('[data-testid=product-matches]').waitFor();
    const found = await s.get<{ products: { sku: string; title: string | null }[] }>(
      '/v1/basket/products?q=heart%20t-light&limit=10',
    );
    expect(found.products.length).toBeGreaterThan(0);
    const items = await s.page
      .locator('[data-testid=product-matches] li')
      .evaluateAll((li) => li.map((l) => l.textContent?.trim()));
    expect(items).toEqual(found.products.map((p) => `${p.title ?? p.sku} ${p.sku}`));
    const pick = found.products[0]!;
    await s.page.getByRole('button', { name: `Show companions of ${pick.title} (${pick.sku})` }).click();
    await s.page.locator('[data-testid=fbt]').waitFor({ timeout: 120_000 });
    const fbt = await s.get<{ fbt: { sku: string; title: string; orders: number; together: Companion[] }[] }>(
      `/v1/basket/fbt?sku=${encodeURIComponent(pick.sku)}&n=10`,
    );
    const item = fbt.fbt[0]!;
    expect(item.sku).toBe(pick.sku);
    expect(item.together.length).toBeGreaterThan(0);
    expect((await s.page.locator('[data-testid=fbt] caption').textContent())?.trim()).toBe(
      `Bought with ${item.title} (${item.sku}) — in ${en.int(item.orders)} orders`,
    );
    expect(await rows('fbt')).toEqual(
      item.together.map((c) => [c.title, c.sku, en.int(c.orders), en.pct(c.confidence), en.dec(c.lift)]),
    );
    // Names, not only SKUs.
    for (const c of item.together) expect(c.title).not.toBe(c.sku);
  }, 200_000);

  it('shows the bundles as GET /v1/basket/bundles', async () => {
    await s.page.getByRole('button', { name: 'Find bundles' }).click();
    await s.page.locator('[data-testid=bundles-note]').waitFor({ timeout: 120_000 });
    const api = await s.get<{
      transactions: number;
      bundles: {
        skus: string[];
        titles: string[];
        orders: number;
        support: number;
        lift: number;
        margin: number | null;
        suggestedDiscount: number | null;
      }[];
    }>('/v1/basket/bundles');
    expect(api.bundles.length).toBeGreaterThan(0);
    expect(await rows('bundles')).toEqual(
      api.bundles.map((b) => [
        b.skus.map((sku, i) => `${b.titles[i]} ${sku}`).join(''),
        en.int(b.orders),
        en.pct(b.support),
        en.dec(b.lift),
        b.margin === null ? '—' : en.pct(b.margin),
        b.suggestedDiscount === null ? '—' : en.pct(b.suggestedDiscount),
      ]),
    );
  }, 200_000);

  it('mines rules with the chosen thresholds and filters them by product, as GET /v1/basket/rules', async () => {
    await s.page.getByLabel('Minimum support').fill('0.02');
    await s.page.getByLabel('Minimum confidence').fill('0.4');
    await s.page.getByLabel('Minimum lift').fill('2');
    await s.page.getByLabel('Strongest rules to fetch').fill('50');
    await s.page.getByRole('button', { name: 'Mine rules' }).click();
    await s.page.locator('[data-testid=rules-note]').waitFor({ timeout: 120_000 });
    const api = await s.get<{
      rules: number;
      itemsets: number;
      transactions: number;
      top: Rule[];
      titles: Record<string, string>;
    }>('/v1/basket/rules?minSupport=0.02&minConfidence=0.4&top=50&minLift=2');
    expect(api.top.length).toBeGreaterThan(0);
    const title = (sku: string) => api.titles[sku]!;
    const row = (r: Rule) => [
      named(r.antecedent, title),
      named(r.consequent, title),
      en.pct(r.support),
      en.int(r.supportCount),
      en.pct(r.confidence),
      en.dec(r.lift),
    ];
    expect(await rows('rules')).toEqual(api.top.map(row));
    expect((await s.page.locator('[data-testid=rules-note]').textContent())?.trim()).toBe(
      `${en.int(api.rules)} rules from ${en.int(api.itemsets)} itemsets in ${en.int(api.transactions)} orders; ` +
        `the ${en.int(api.top.length)} strongest by lift fetched, ${en.int(api.top.length)} shown.`,
    );
    for (const r of api.top) expect(r.lift).toBeGreaterThanOrEqual(2);
    // The product filter: by part of a name, over the rules fetched.
    const sku = api.top[0]!.consequent[0]!;
    const word = title(sku).split(' ').slice(-2).join(' ').toLowerCase();
    await s.page.getByLabel('Only rules with the product (name or SKU)').fill(word);
    const kept = api.top.filter((r) =>
      [...r.antecedent, ...r.consequent].some(
        (x) => x.toLowerCase().includes(word) || title(x).toLowerCase().includes(word),
      ),
    );
    expect(kept.length).toBeGreaterThan(0);
    await expect.poll(() => rows('rules')).toEqual(kept.map(row));
    expect(await s.violations()).toEqual([]);
    await s.shot('basket');
  }, 200_000);
});
