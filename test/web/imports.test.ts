import { it } from 'vitest';
import { browserSuite, en, expect } from '../support/browser.js';
import { ONLINE_RETAIL, ONLINE_RETAIL_REPORT } from '../support/onlineRetailImport.js';

interface Report {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  duplicates: number;
  guestOrders?: number;
  customersCreated?: number;
  skipped: Record<string, number>;
  errors: { line: number; reason: string }[];
}
interface ImportStatus {
  importId: number;
  status: string;
  report: Report | null;
}
interface PreviewJson {
  preset: string | null;
  columns: { column: string; field: string | null }[];
  sample: { line: number; outcome: string; reason: string | null }[];
  counts: { imported: number; rejected: number; skipped: number };
}

/** Orders in Retain's own columns: line 3 has a date that is none, line 5 a quantity that is no number. */
const BAD_CSV = [
  'order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price',
  'BAD-1,bad1@shop.test,2024-03-01,GBP,85123A,Heart holder,2,2.55',
  'BAD-2,bad2@shop.test,the first of March,GBP,85123A,Heart holder,1,2.55',
  'BAD-3,bad3@shop.test,2024-03-02,GBP,22423,Cake stand,1,12.75',
  'BAD-4,bad4@shop.test,2024-03-03,GBP,22423,Cake stand,two,12.75',
].join('\n');

/** A table row as the page's script sees it (the tests compile without the DOM types). */
interface Cells {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

/**
 * The Imports page on an empty store: the Online Retail export uploaded through the page (the file input),
 * its column preview before confirming, the progress, the report equal to GET /v1/imports/{id}, then the
 * Overview's figures; and a small bad CSV whose rejected rows are listed with their lines as the API has them.
 */
browserSuite('Imports page in Chromium', { data: 'empty' }, (s) => {
  /** The page's preview of its chosen file, asked of the API by the page itself (same bytes). */
  const apiPreview = () =>
    s.page.evaluate(async () => {
      const page = globalThis as unknown as {
        document: {
          querySelector(s: string): {
            files: { name: string; size: number; slice(a: number, b: number): Blob }[];
          };
        };
        sessionStorage: { getItem(k: string): string | null };
      };
      const file = page.document.querySelector('input[type=file]').files[0]!;
      const head = 64 << 10;
      const q = new URLSearchParams({ filename: file.name });
      if (file.size <= head) q.set('complete', 'true');
      const r = await fetch(`/v1/imports/orders/preview?${q.toString()}`, {
        method: 'POST',
        headers: { 'x-csrf-token': page.sessionStorage.getItem('retain.csrf') ?? '' },
        body: file.slice(0, head),
      });
      return (await r.json()) as PreviewJson;
    });
  const figure = async (key: string) =>
    (await s.page.locator(`[data-testid=import-report] [data-figure="${key}"] dd`).textContent())?.trim();
  const tableRows = (testId: string) =>
    s.page
      .locator(`[data-testid=${testId}] tbody tr`)
      .evaluateAll((trs) =>
        (trs as unknown as Cells[]).map((r) =>
          Array.from(r.querySelectorAll('th, td')).map((c) => c.textContent?.trim() ?? ''),
        ),
      );

  it('uploads the Online Retail export through the page: preview, progress, the report as the API gives it', async () => {
    await s.page.goto(`${s.base}/imports`);
    await s.page.getByRole('heading', { name: 'Imports', level: 1 }).waitFor();
    await s.page.getByText('No uploads yet').waitFor();
    expect(await s.violations()).toEqual([]);

    await s.page.getByLabel('File (CSV or NDJSON, gzip allowed)').setInputFiles(ONLINE_RETAIL);
    // The column mapping is shown before anything is imported.
    await s.page.locator('[data-testid=preview-columns]').waitFor();
    const preview = await apiPreview();
    expect(preview.preset).toBe('online-retail');
    expect((await s.page.locator('[data-testid=preview-preset]').textContent())?.trim()).toBe(
      'online-retail',
    );
    const columns = await tableRows('preview-columns');
    expect(columns.map((c) => c[0])).toEqual(preview.columns.map((c) => c.column));
    for (const [i, c] of preview.columns.entries()) expect(columns[i]![3]).toContain(`→ ${c.field}`);
    expect(columns[0]![3]).toBe('by the preset → order_id');
    expect((await s.page.locator('[data-testid=preview-counts]').textContent())?.trim()).toBe(
      `${en.int(preview.counts.imported)} imported, ${en.int(preview.counts.rejected)} rejected, ${en.int(preview.counts.skipped)} skipped`,
    );
    const sample = await tableRows('preview-sample');
    expect(sample.map((r) => [r[0], r[1]])).toEqual(preview.sample.map((r) => [en.int(r.line), r.outcome]));
    expect(await s.violations()).toEqual([]);
    expect(await s.get('/v1/imports')).toEqual({ imports: [] });

    await s.page.getByRole('button', { name: 'Import the file' }).click();
    // Progress: the bar, with the rows read so far (or the merge once they are all read).
    const bar = s.page.locator('[data-testid=import-progress]');
    await bar.locator('progress').waitFor({ timeout: 60_000 });
    await expect
      .poll(async () => (await bar.textContent().catch(() => '')) ?? '', {
        timeout: 120_000,
        interval: 200,
      })
      .toMatch(/Read [\d,]+ rows|Saving [\d,]+ rows/);
    await s.page.locator('[data-testid=import-report]').waitFor({ timeout: 240_000 });

    const { imports } = await s.get<{ imports: ImportStatus[] }>('/v1/imports');
    expect(imports).toHaveLength(1);
    const job = await s.get<ImportStatus>(`/v1/imports/${imports[0]!.importId}`);
    expect(job.status).toBe('done');
    const report = job.report!;
    expect(report).toMatchObject(ONLINE_RETAIL_REPORT);
    for (const key of [
      'rows',
      'inserted',
      'updated',
      'unchanged',
      'rejected',
      'duplicates',
      'guestOrders',
      'customersCreated',
    ] as const)
      expect(await figure(key), key).toBe(en.int(report[key]!));
    expect(await figure('rows')).toBe('541,909');
    expect(await figure('inserted')).toBe('19,959');
    expect(await figure('rejected')).toBe('0');
    expect(await tableRows('import-skipped')).toEqual(
      Object.entries(report.skipped).map(([reason, n]) => [reason, en.int(n)]),
    );
    await s.page.getByText('No rows were rejected.').waitFor();
    // The recent uploads list has it with the same figures.
    const recent = await tableRows('recent-imports');
    expect(recent[0]!.slice(0, 7)).toEqual([
      'online_retail.csv.gz',
      'Orders',
      expect.any(String),
      'done',
      en.int(report.rows),
      en.int(report.inserted),
      en.int(report.rejected),
    ]);
    expect(await s.violations()).toEqual([]);
    await s.shot('imports');

    // The Overview now shows the store the import made.
    await s.page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Overview' }).click();
    await s.page.locator('[data-figure="customers"] dd').waitFor();
    const summary = await s.get<{ customers: number; orders: number; netRevenue: number; currency: string }>(
      '/v1/reports/summary',
    );
    expect(summary.customers).toBe(4338);
    const shown = async (key: string) =>
      (await s.page.locator(`[data-figure="${key}"] dd`).textContent())?.trim();
    expect(await shown('customers')).toBe(en.int(summary.customers));
    expect(await shown('customers')).toBe('4,338');
    expect(await shown('orders')).toBe(en.int(summary.orders));
    expect(await shown('netRevenue')).toBe(en.money(summary.netRevenue, summary.currency));
  }, 400_000);

  it('lists the rejected rows of a bad file with their lines and messages, as the API has them', async () => {
    await s.page.goto(`${s.base}/imports`);
    await s.page.getByLabel('File (CSV or NDJSON, gzip allowed)').setInputFiles({
      name: 'bad-orders.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(BAD_CSV),
    });
    await s.page.locator('[data-testid=preview-sample]').waitFor();
    const preview = await apiPreview();
    expect(preview.preset).toBe('generic');
    expect(preview.counts).toEqual({ imported: 2, rejected: 2, skipped: 0 });
    // The preview already shows which rows will be rejected, and why.
    const sample = await tableRows('preview-sample');
    expect(sample.filter((r) => r[1] === 'rejected').map((r) => [r[0], r[2]])).toEqual(
      preview.sample.filter((r) => r.outcome === 'rejected').map((r) => [en.int(r.line), r.reason]),
    );
    await s.page.getByRole('button', { name: 'Import the file' }).click();
    await s.page.locator('[data-testid=import-rejected]').waitFor({ timeout: 60_000 });
    const { imports } = await s.get<{ imports: ImportStatus[] }>('/v1/imports');
    const job = await s.get<ImportStatus>(`/v1/imports/${imports[0]!.importId}`);
    expect(job.report).toMatchObject({ rows: 4, inserted: 2, rejected: 2 });
    const rejected = await tableRows('import-rejected');
    expect(rejected).toEqual(job.report!.errors.map((e) => [en.int(e.line), e.reason]));
    expect(rejected.map((r) => r[0])).toEqual(['3', '5']);
    expect(rejected[0]![1]).toContain('ordered_at');
    expect(rejected[1]![1]).toContain('quantity');
    expect(await figure('rejected')).toBe('2');
    expect(await s.violations()).toEqual([]);
    await s.shot('import-rejected');
  }, 120_000);
});
