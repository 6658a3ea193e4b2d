import { readFile } from 'node:fs/promises';
import { it } from 'vitest';
import { browserSuite, en, expect } from '../support/browser.js';

/**
 * Issue 23: the Predictions page in Chromium on the Online Retail store. With no CLV run it says so and
 * starts one (the page's button: a clv-predict job, waited for); then the fit, the holdout validation
 * (actual vs predicted by calibration frequency), the CLV distribution and the churn-risk list equal
 * the API's JSON, and the CSV downloaded is the API's.
 */
interface Summary {
  models: string[];
  asOf: string;
  currency: string;
  customers: number;
  withClv: number;
  clvTotal: number;
  clvMedian: number;
  churnRiskMedian: number;
  timeUnit: string;
  clvHistogram: { from: number; to: number | null; customers: number }[];
  fit: {
    result: {
      model: string;
      params: Record<string, number>;
      logLikelihood: number;
      spendParams: Record<string, number>;
      spendLogLikelihood: number;
      customers: number;
      selection: {
        method: string;
        holdout: {
          calibrationEnd: string;
          holdoutEnd: string;
          weeks: number;
          customers: number;
          purchases: number;
        };
      };
    };
  } | null;
}
interface Validation {
  mae: number;
  rmse: number;
  correlation: number;
  customers: number;
  byFrequency: { frequency: string; customers: number; meanActual: number; meanPredicted: number }[];
}

const LABEL: Record<string, string> = { mbgnbd: 'MBG/NBD', 'pareto-nbd': 'Pareto/NBD', bgnbd: 'BG/NBD' };
const text = (sel: string) => (page: import('playwright-core').Page) =>
  page.$$eval(sel, (rows) =>
    rows.map((tr) =>
      [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').replace(/\s+/g, ' ').trim()),
    ),
  );

browserSuite('Predictions in Chromium', { data: 'online-retail' }, (s) => {
  let summary: Summary;

  it('says there is no CLV run and starts one from its button', async () => {
    expect((await s.send('GET', '/v1/clv/summary')).status).toBe(404);
    await s.page.getByRole('link', { name: 'Predictions' }).click();
    await s.page.getByText(/^No CLV predictions yet/).waitFor();
    // The same run from the command line, beside the button.
    await s.page
      .getByText('retain clv predict --calibration-end 2011-12-09 --horizon 12', { exact: true })
      .waitFor();
    await s.page.getByRole('button', { name: 'Run CLV predictions' }).click();
    await s.page.getByTestId('run').waitFor({ timeout: 120_000 });
    summary = await s.get<Summary>('/v1/clv/summary');
    expect(summary.asOf).toBe('2011-12-09T00:00:00.000Z');
    expect(summary.fit).not.toBeNull();
  });

  it("shows the run's figures and its fit exactly as the API gives them", async () => {
    const figure = async (k: string) =>
      (await s.page.locator(`[data-figure="${k}"] dd`).first().textContent())?.trim();
    const cur = summary.currency;
    expect(await figure('customers')).toBe(en.int(summary.customers));
    expect(await figure('withClv')).toBe(en.int(summary.withClv));
    expect(await figure('clvTotal')).toBe(en.money(summary.clvTotal, cur));
    expect(await figure('clvMedian')).toBe(en.money(summary.clvMedian, cur));
    expect(await figure('churnRiskMedian')).toBe(en.pct(summary.churnRiskMedian));
    const f = summary.fit!.result;
    expect(await figure('model')).toBe(LABEL[f.model]);
    expect(await figure('logLikelihood')).toBe(en.dec(f.logLikelihood, 2));
    expect(await figure('fitCustomers')).toBe(en.int(f.customers));
    expect(await figure('spendLogLikelihood')).toBe(en.dec(f.spendLogLikelihood, 2));
    expect(await text('[data-testid="params"] tbody tr')(s.page)).toEqual(
      Object.entries(f.params).map(([k, v]) => [k, en.dec(v, 4)]),
    );
    expect(await text('[data-testid="spend-params"] tbody tr')(s.page)).toEqual(
      Object.entries(f.spendParams).map(([k, v]) => [k, en.dec(v, 4)]),
    );
    // Chosen by holdout fit on the Online Retail history: the holdout is said as the API has it.
    expect(f.selection.method).toBe('holdout');
    const h = f.selection.holdout;
    const day = (d: string) =>
      new Date(`${d}T00:00:00Z`).toLocaleDateString('en', { timeZone: 'UTC', dateStyle: 'medium' });
    expect((await s.page.getByTestId('holdout').textContent())?.trim()).toBe(
      `Holdout: fitted up to ${day(h.calibrationEnd)}, scored on the ${h.weeks} weeks to ${day(h.holdoutEnd)}; customers: ${en.int(h.customers)}, purchases in it: ${en.int(h.purchases)}.`,
    );
  });

  it('validates on the holdout: the points shown equal POST /v1/clv/validations', async () => {
    const h = summary.fit!.result.selection.holdout;
    const r = await s.send<Validation>('POST', '/v1/clv/validations', {
      model: summary.models[0],
      calibrationEnd: h.calibrationEnd,
      holdoutEnd: h.holdoutEnd,
      timeUnit: summary.timeUnit,
    });
    expect(r.status).toBe(200);
    const v = r.json;
    await s.page.getByTestId('by-frequency').waitFor({ timeout: 60_000 });
    expect(await text('[data-testid="by-frequency"] tbody tr')(s.page)).toEqual(
      v.byFrequency.map((b) => [
        b.frequency,
        en.int(b.customers),
        en.dec(b.meanActual, 3),
        en.dec(b.meanPredicted, 3),
      ]),
    );
    const figure = async (k: string) =>
      (await s.page.locator(`[data-testid="validation"] [data-figure="${k}"] dd`).textContent())?.trim();
    expect(await figure('mae')).toBe(en.dec(v.mae, 3));
    expect(await figure('rmse')).toBe(en.dec(v.rmse, 3));
    expect(await figure('correlation')).toBe(en.dec(v.correlation, 3));
    // The chart draws its bars (actual and predicted per frequency with customers).
    await s.page.locator('[data-testid="validation-chart"] svg').waitFor();
    expect(await s.page.locator('[data-testid="validation-chart"] svg path').count()).toBeGreaterThan(
      2 * v.byFrequency.filter((b) => b.customers > 0).length,
    );
  });

  it('draws the CLV distribution and lists the highest churn risks as the API does', async () => {
    await s.page.locator('[data-testid="clv-chart"] svg').waitFor();
    expect(await s.page.getByTestId('clv-chart').getAttribute('aria-label')).toMatch(
      new RegExp(`^Customers by predicted CLV, ${summary.clvHistogram.length} bars from £0.00 to `),
    );
    await s.page.getByText('Show as a table').click();
    const bins = await text('details table tbody tr')(s.page);
    expect(bins.map((b) => b[1])).toEqual(summary.clvHistogram.map((b) => en.int(b.customers)));
    expect(bins[0]![0]).toBe(
      `${en.money(0, summary.currency)} – ${en.money(summary.clvHistogram[0]!.to!, summary.currency)}`,
    );

    const list = await s.get<{
      total: number;
      currency: string;
      data: { customerId: string; churnRisk: number; clv: number | null }[];
    }>('/v1/clv/predictions?sort=churnRisk&limit=50');
    await s.page.getByTestId('churn-list').waitFor();
    const shown = await s.page.$$eval('[data-testid="churn-list"] tbody tr', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-customer'),
        tr.querySelector('[data-col="churnRisk"]')?.textContent?.trim(),
        tr.querySelector('[data-col="clv"]')?.textContent?.trim(),
      ]),
    );
    expect(shown).toEqual(
      list.data.map((r) => [
        r.customerId,
        en.pct(r.churnRisk),
        r.clv === null ? '—' : en.money(r.clv, list.currency),
      ]),
    );
    expect(list.total).toBe(summary.customers);
    expect(await s.violations()).toEqual([]);
    await s.shot('predictions');
  });

  it("downloads the churn-risk CSV: the API's file and name", async () => {
    const [download] = await Promise.all([
      s.page.waitForEvent('download'),
      s.page.getByRole('link', { name: /^Download CSV/ }).click(),
    ]);
    const api = await s.page.evaluate(async () => {
      const r = await fetch('/v1/clv/predictions?format=csv&sort=churnRisk');
      return { body: await r.text(), disposition: r.headers.get('content-disposition') };
    });
    expect(api.disposition).toBe('attachment; filename="clv-predictions-2011-12-09-churnRisk-desc.csv"');
    expect(download.suggestedFilename()).toBe('clv-predictions-2011-12-09-churnRisk-desc.csv');
    const file = await readFile((await download.path())!, 'utf8');
    expect(file).toBe(api.body);
    const lines = file.trimEnd().split('\n');
    expect(lines).toHaveLength(summary.customers + 1);
    expect(lines[0]).toBe(
      'customer_id,email,first_name,last_name,p_alive,churn_risk,expected_purchases,clv,expected_spend,next_order_date',
    );
  });
});
