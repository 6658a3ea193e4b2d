import type { Page } from 'playwright-core';
import { it } from 'vitest';
import { ManualClock } from '../../src/kit/clock.js';
import type { SubscriptionReport } from '../../src/modules/subscriptions/reports.js';
import { renewSubscriptions } from '../../src/modules/subscriptions/service.js';
import { browserSuite, en, expect } from '../support/browser.js';
import {
  generateSubscriptionHistory,
  HISTORY_ZONE,
  type WrittenHistory,
} from '../support/subscriptionHistory.js';

/**
 * Issue 28, the Subscriptions page's Report tab in Chromium, on the seeded history of
 * test/support/subscriptionHistory.ts (~590 subscribers over the 30 months before the current one,
 * Europe/Kyiv, USD; churn by the sBG process; one-off buyers of the same products), its renewals then
 * caught up to now. Every figure shown equals GET /v1/subscriptions/report with the same settings,
 * formatted as the page formats it in English: the headline cards, the MRR movements by month (and the
 * chart's text alternative), the cohorts' survival (retention and subscriptions left too) with the sBG
 * per cohort and pooled, the forecast vs actual table with its fitted months, the cancel reasons, the
 * subscribers vs one-off buyers comparison with the API's verdict, and the notes. The plan and the
 * months fitted change the figures through the form and through the address; a bad setting is refused
 * at its field. axe-clean in English and Ukrainian. Screenshots subscriptions-report,
 * subscriptions-report-uk.
 */

/** What a row's cells read (the test's tsconfig has no DOM types). */
interface Cells {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

/** A month `YYYY-MM` of an instant in the store zone. */
const monthIn = (ms: number) => {
  const p = new Intl.DateTimeFormat('en-CA', { timeZone: HISTORY_ZONE, year: 'numeric', month: '2-digit' })
    .formatToParts(new Date(ms))
    .reduce<Record<string, string>>((o, x) => ({ ...o, [x.type]: x.value }), {});
  return `${p.year}-${p.month}`;
};
const plusMonths = (label: string, n: number) => {
  const [y, m] = label.split('-').map(Number) as [number, number];
  const i = y * 12 + m - 1 + n;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
};

// As the page formats in English.
const usd = (minor: number | null) => (minor === null ? '—' : en.money(minor / 100, 'USD'));
const signed = (minor: number) => (Math.round(minor) > 0 ? `+${usd(minor)}` : usd(minor));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : en.pct(x));
const share = (x: number) =>
  new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(x);
const points = (x: number, sign: boolean) =>
  `${new Intl.NumberFormat('en', {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
    signDisplay: sign ? 'exceptZero' : 'auto',
  }).format(x * 100)} pp`;
const month = (label: string, lang = 'en') =>
  new Date(`${label}-01T00:00:00Z`).toLocaleDateString(lang, {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
const REASON: Record<string, string> = {
  too_expensive: 'Too expensive',
  too_much_product: 'Too much product',
  not_needed: 'No longer needed',
  quality: 'Quality',
  delivery: 'Delivery problems',
  switching: 'Switching to another product or shop',
  moving: 'Moving',
  other: 'Other',
  payment_failed: 'Payment failed',
};

browserSuite('subscription report in Chromium', { data: 'empty' }, (s) => {
  // The history: the 30 months before the current one (store zone); `last` is its last, complete, month.
  const current = monthIn(Date.now());
  const start = plusMonths(current, -30);
  const last = plusMonths(current, -1);
  let history: WrittenHistory;

  const text = async (selector: string, page: Page = s.page) =>
    ((await page.locator(selector).first().textContent()) ?? '').trim();
  const table = (testId: string, part = 'tbody') =>
    s.page
      .locator(`[data-testid="${testId}"] ${part} tr`)
      .evaluateAll((trs) =>
        (trs as unknown as Cells[]).map((r) =>
          Array.from(r.querySelectorAll('th, td')).map((c) => c.textContent?.trim() ?? ''),
        ),
      );
  const report = (query: string) => s.get<SubscriptionReport>(`/v1/subscriptions/report?${query}`);
  /** Opens the report tab at `query` and waits for its figures. */
  const open = async (query: string) => {
    await s.page.goto(`${s.base}/subscriptions/report?${query}`);
    await s.page.locator('[data-testid="report-figures"]').waitFor();
  };
  const card = (id: string) =>
    Promise.all([
      text(`[data-figure="${id}"] dt`),
      text(`[data-figure="${id}"] [data-part="main"]`),
      text(`[data-figure="${id}"] [data-part="sub"]`),
    ]);

  it('seeds the generated history and catches its renewals up to now', async () => {
    const started = performance.now();
    const clock = new ManualClock(new Date(Date.now() - 1000 * 86_400_000));
    history = await generateSubscriptionHistory({ ...s.deps, clock }, { seed: 28, start });
    const written = performance.now();
    const renewed = await renewSubscriptions(s.deps);
    console.log(
      `${history.plan.subscribers.length} subscribers from ${start} written in ${Math.round(written - started)} ms; ` +
        `renewals to now (${renewed.orders} orders, ${renewed.resumed} resumed) in ${Math.round(performance.now() - written)} ms`,
    );
    expect(history.plan.subscribers.length).toBeGreaterThan(550);
    // It ends at the start of the current month.
    expect([monthIn(history.plan.endMs - 1), monthIn(history.plan.endMs)]).toEqual([last, current]);
  }, 300_000);

  it('opens the Report tab: the month in progress is the headline, every month is in the table', async () => {
    await s.page.goto(`${s.base}/subscriptions`);
    await s.page
      .getByRole('navigation', { name: 'Subscriptions, plans and report' })
      .getByRole('link', { name: 'Report', exact: true })
      .click();
    await s.page.waitForURL((u) => u.pathname === '/subscriptions/report');
    await s.page.getByRole('heading', { name: 'Report', level: 2 }).waitFor();
    await s.page.locator('[data-testid="report-figures"]').waitFor();
    const r = await s.get<SubscriptionReport>('/v1/subscriptions/report');
    const now = r.months.at(-1)!;
    expect([r.from, r.to, now.month, now.complete]).toEqual([start, current, current, false]);
    expect(await card('mrr')).toEqual([
      'MRR',
      usd(now.endMrrMinor),
      `now (${month(current)} so far), ${signed(now.endMrrMinor - now.startMrrMinor)} this month`,
    ]);
    expect(await card('active')).toEqual(['Active subscriptions', en.int(now.activeAtEnd), 'paying now']);
    const rows = await table('mrr-table');
    expect(rows.map((c) => c[0])).toEqual(
      r.months.map((m) => (m.complete ? month(m.month) : `${month(m.month)} (so far)`)),
    );
    expect(await text('[data-testid="report-scope"]')).toContain(
      `${month(start)} to ${month(current)} (Europe/Kyiv), USD, all plans: ${en.int(r.subscriptions.inScope)} subscriptions`,
    );
    expect(await text('[data-testid="other-currencies"]')).toBe('Left out, in another currency: 2 in GBP.');
  });

  it('to the last complete month: every figure is the API’s', async () => {
    const query = `to=${last}`;
    await open(query);
    const r = await report(query);
    expect(r.to).toBe(last);
    const m = r.months.at(-1)!;
    expect(m.complete).toBe(true);

    // Headline.
    const p = r.cohorts.pooled;
    const f = r.forecastVsActual;
    const forecastMonths = f.months.filter((x) => x.part === 'forecast');
    const d = r.ltv.difference!;
    const top = r.cancelReasons.reasons[0]!;
    expect(await card('mrr')).toEqual([
      'MRR',
      usd(m.endMrrMinor),
      `at the end of ${month(last)}, ${signed(m.endMrrMinor - m.startMrrMinor)} that month`,
    ]);
    expect(await card('active')).toEqual([
      'Active subscriptions',
      en.int(m.activeAtEnd),
      `paying at the end of ${month(last)}`,
    ]);
    expect(await card('churned')).toEqual([
      `Churned MRR, ${month(last)}`,
      usd(m.churnedMinor),
      `${en.int(m.churnedCount)} subscriptions stopped; ${pct(m.churnedMinor / m.startMrrMinor)} of the MRR at the month’s start`,
    ]);
    expect(await card('net')).toEqual([
      `Net new MRR, ${month(last)}`,
      signed(m.endMrrMinor - m.startMrrMinor),
      `${en.int(m.newCount)} new, ${en.int(m.reactivatedCount)} reactivated subscriptions`,
    ]);
    expect(await card('survival')).toEqual([
      'Still subscribed after 12 months',
      pct(p.survival[12]),
      `all cohorts pooled, ${en.int(p.subscribers)} subscriptions`,
    ]);
    expect(await card('forecast')).toEqual([
      'sBG forecast error',
      points(f.meanAbsoluteError!, false),
      `mean over months 13–${forecastMonths.at(-1)!.month}; largest ${points(f.maxAbsoluteError!, false)}`,
    ]);
    expect(await card('ltv')).toEqual([
      'Subscribers − one-off buyers, 12 months',
      signed(d.estimateMinor),
      `95% CI ${signed(d.lowMinor)} to ${signed(d.highMinor)}`,
    ]);
    expect(await card('cancels')).toEqual([
      'Cancellations',
      en.int(r.cancelReasons.total),
      `most often: ${REASON[top.reason]} (${share(top.share)})`,
    ]);

    // MRR by month: the table, its whole-period row, the chart's text alternative.
    const moves = (x: (typeof r.months)[number]) => [
      usd(x.startMrrMinor),
      usd(x.newMinor),
      usd(x.expansionMinor),
      usd(x.reactivatedMinor),
      usd(x.contractionMinor),
      usd(x.churnedMinor),
      usd(x.endMrrMinor),
      en.int(x.activeAtEnd),
      en.int(x.newCount),
      en.int(x.churnedCount),
      en.int(x.reactivatedCount),
    ];
    expect(await table('mrr-table')).toEqual(r.months.map((x) => [month(x.month), ...moves(x)]));
    const sum = (get: (x: (typeof r.months)[number]) => number) => r.months.reduce((a, x) => a + get(x), 0);
    expect(await table('mrr-table', 'tfoot')).toEqual([
      [
        'Whole period',
        ...moves({
          ...m,
          startMrrMinor: r.months[0]!.startMrrMinor,
          newMinor: sum((x) => x.newMinor),
          expansionMinor: sum((x) => x.expansionMinor),
          reactivatedMinor: sum((x) => x.reactivatedMinor),
          contractionMinor: sum((x) => x.contractionMinor),
          churnedMinor: sum((x) => x.churnedMinor),
          newCount: sum((x) => x.newCount),
          churnedCount: sum((x) => x.churnedCount),
          reactivatedCount: sum((x) => x.reactivatedCount),
        }),
      ],
    ]);
    const chart = (await s.page.locator('[data-testid="mrr-chart"]').getAttribute('aria-label')) ?? '';
    expect(chart).toMatch(/^MRR at each month’s end, and the month’s net change: /);
    for (const x of r.months)
      expect(chart).toContain(
        `${month(x.month)} ${usd(x.endMrrMinor)} (${signed(x.endMrrMinor - x.startMrrMinor)})`,
      );
    await s.page.locator('[data-testid="mrr-chart"] svg').waitFor();

    // Cohorts: survival by month since the start, the sBG per cohort and pooled.
    const width = Math.max(...r.cohorts.rows.map((c) => c.observedMonths), p.survival.length - 1);
    const ks = Array.from({ length: width }, (_, i) => i + 1);
    const fitCells = (
      fit: { alpha: number; beta: number; forecast: { month: number; survival: number }[] } | null,
    ) =>
      fit
        ? [
            en.dec(fit.alpha, 3),
            en.dec(fit.beta, 3),
            `${pct(fit.forecast.at(-1)!.survival)} at M${fit.forecast.at(-1)!.month}`,
          ]
        : ['—', '—', '—'];
    const cohortCells = (cell: (c: (typeof r.cohorts.rows)[number], k: number) => string) =>
      r.cohorts.rows.map((c) => [
        month(c.cohort),
        en.int(c.size),
        en.int(c.observedMonths),
        ...ks.map((k) => (k < c.alive.length ? cell(c, k) : '')),
        ...fitCells(c.sbg),
      ]);
    expect(r.cohorts.rows).toHaveLength(30);
    expect(await table('cohort-table')).toEqual(cohortCells((c, k) => pct(c.survival[k])));
    expect(await table('cohort-table', 'tfoot')).toEqual([
      [
        'All cohorts (pooled)',
        en.int(p.subscribers),
        en.int(p.survival.length - 1),
        ...ks.map((k) => (k < p.survival.length ? pct(p.survival[k]) : '')),
        ...fitCells(p.sbg),
      ],
    ]);
    expect(await text('[data-testid="pooled-fit"] [data-part="alpha"]')).toBe(en.dec(p.sbg!.alpha, 3));
    expect(await text('[data-testid="pooled-fit"] [data-part="beta"]')).toBe(en.dec(p.sbg!.beta, 3));
    await s.page.getByLabel('Cells show').selectOption('retention');
    await expect.poll(() => s.page.url()).toContain('cells=retention');
    await expect.poll(() => table('cohort-table')).toEqual(cohortCells((c, k) => pct(c.retention[k])));
    await s.page.getByLabel('Cells show').selectOption('alive');
    await expect.poll(() => table('cohort-table')).toEqual(cohortCells((c, k) => en.int(c.alive[k]!)));
    await s.page.getByLabel('Cells show').selectOption('survival');
    await expect.poll(() => s.page.url()).not.toContain('cells=');

    // Forecast vs actual: months 1–12 fitted, the months after forecast; each cohort's own fit.
    expect(f.train).toBe(12);
    expect(forecastMonths[0]!.month).toBe(13);
    expect(await text('[data-testid="forecast-fit"]')).toBe(
      `Fitted on months 1–12: α = ${en.dec(f.fit!.alpha, 3)}, β = ${en.dec(f.fit!.beta, 3)}. ` +
        `Over the forecast months the mean |error| is ${points(f.meanAbsoluteError!, false)}, the largest ${points(f.maxAbsoluteError!, false)}.`,
    );
    expect(await table('forecast-table')).toEqual(
      f.months.map((x) => [
        `M${x.month}`,
        x.part === 'train' ? 'Fitted' : 'Forecast',
        en.int(x.cohorts),
        en.int(x.subscribers),
        en.int(x.actualAlive),
        en.dec(x.forecastAlive, 1),
        pct(x.actualSurvival),
        pct(x.forecastSurvival),
        points(x.error, true),
      ]),
    );
    expect(await s.page.locator('[data-testid="forecast-table"] tr[data-part="train"]').count()).toBe(12);
    expect(await text('[data-testid="forecast-table"] caption')).toBe(
      'Forecast vs actual by month since the start (cohorts pooled; months 1–12 fitted)',
    );
    const survival =
      (await s.page.locator('[data-testid="survival-chart"]').getAttribute('aria-label')) ?? '';
    for (const x of f.months)
      expect(survival).toContain(`M${x.month} ${pct(x.actualSurvival)} vs ${pct(x.forecastSurvival)}`);
    expect(await table('forecast-cohorts')).toEqual(
      f.byCohort.map((c) => [
        month(c.cohort),
        en.int(c.size),
        c.fit ? en.dec(c.fit.alpha, 3) : '—',
        c.fit ? en.dec(c.fit.beta, 3) : '—',
        c.meanAbsoluteError === null ? 'no fit' : points(c.meanAbsoluteError, false),
      ]),
    );

    // Cancel reasons, the LTV comparison with the API's verdict, the notes.
    expect(await table('reasons-table')).toEqual(
      r.cancelReasons.reasons.map((x) => [
        REASON[x.reason],
        en.int(x.count),
        share(x.share),
        x.notes.map((n) => `“${n.note}”`).join('; ') || '—',
      ]),
    );
    expect(await table('reasons-table', 'tfoot')).toEqual([
      ['Total', en.int(r.cancelReasons.total), '100%', ''],
    ]);
    const l = r.ltv;
    expect(await table('ltv-table')).toEqual(
      (
        [
          ['Subscribers', l.subscribers],
          ['One-off buyers', l.oneOff],
        ] as const
      ).map(([name, g]) => [
        name,
        en.int(g.customers),
        en.int(g.tooRecent),
        usd(g.meanMinor),
        usd(g.medianMinor),
      ]),
    );
    expect(await text('[data-testid="ltv-difference"] [data-part="difference"]')).toBe(
      `${signed(d.estimateMinor)} (95% CI ${signed(d.lowMinor)} to ${signed(d.highMinor)})`,
    );
    expect(await text('[data-testid="ltv-difference"] [data-fact="p"] dd')).toBe(
      d.pValue < 0.0001
        ? '< 0.0001'
        : new Intl.NumberFormat('en', { maximumSignificantDigits: 2 }).format(d.pValue),
    );
    expect(await text('[data-testid="ltv-difference"] [data-fact="method"] dd')).toBe(
      d.method === 'normal' ? 'Welch, normal' : 'Welch, with Hall’s skewness correction',
    );
    expect(await text('[data-testid="ltv-verdict"] [data-part="verdict"]')).toBe(l.verdict);
    expect(l.verdict).toMatch(/not what subscribing causes/);
    expect(
      await s.page
        .locator('[data-testid="report-notes"] li')
        .evaluateAll((li) => li.map((x) => x.textContent)),
    ).toEqual(r.notes);

    expect(await s.violations()).toEqual([]);
    await s.shot('subscriptions-report');
  });

  it('the plan and the months fitted change the figures, through the form and the address', async () => {
    await open(`to=${last}`);
    const all = await report(`to=${last}`);
    await s.page.getByLabel('Plan', { exact: true }).selectOption('tea-fortnightly');
    await s.page.getByLabel('Months fitted').fill('6');
    await s.page.getByRole('button', { name: 'Show report' }).click();
    await expect.poll(() => new URL(s.page.url()).search).toBe(`?to=${last}&plan=tea-fortnightly&train=6`);
    const tea = await report(`to=${last}&plan=tea-fortnightly&train=6`);
    expect(tea.plan).toBe('tea-fortnightly');
    expect(tea.months.at(-1)!.endMrrMinor).toBeLessThan(all.months.at(-1)!.endMrrMinor);
    await expect
      .poll(() => text('[data-figure="mrr"] [data-part="main"]'))
      .toBe(usd(tea.months.at(-1)!.endMrrMinor));
    expect(await text('[data-figure="active"] [data-part="main"]')).toBe(
      en.int(tea.months.at(-1)!.activeAtEnd),
    );
    expect(await text('[data-testid="report-scope"]')).toContain(
      `plan tea-fortnightly: ${en.int(tea.subscriptions.inScope)} subscriptions`,
    );
    const forecastRows = (r: SubscriptionReport) =>
      r.forecastVsActual.months.map((x) => [
        `M${x.month}`,
        x.part === 'train' ? 'Fitted' : 'Forecast',
        en.int(x.cohorts),
        en.int(x.subscribers),
        en.int(x.actualAlive),
        en.dec(x.forecastAlive, 1),
        pct(x.actualSurvival),
        pct(x.forecastSurvival),
        points(x.error, true),
      ]);
    expect(tea.forecastVsActual.train).toBe(6);
    expect(await table('forecast-table')).toEqual(forecastRows(tea));
    expect(await s.page.locator('[data-testid="forecast-table"] tr[data-part="train"]').count()).toBe(6);
    expect(await table('mrr-table')).toHaveLength(tea.months.length);
    expect((await table('mrr-table')).at(-1)![7]).toBe(usd(tea.months.at(-1)!.endMrrMinor));

    // Straight from the address: the other plan, 9 months fitted, from a later month.
    const from = plusMonths(start, 6);
    const query = `from=${from}&to=${last}&plan=coffee-monthly&train=9`;
    await open(query);
    const coffee = await report(query);
    expect([coffee.from, coffee.plan, coffee.forecastVsActual.train]).toEqual([from, 'coffee-monthly', 9]);
    expect(await s.page.getByLabel('From').inputValue()).toBe(from);
    expect(await s.page.getByLabel('Plan', { exact: true }).inputValue()).toBe('coffee-monthly');
    expect(await s.page.getByLabel('Months fitted').inputValue()).toBe('9');
    expect(await text('[data-figure="mrr"] [data-part="main"]')).toBe(usd(coffee.months.at(-1)!.endMrrMinor));
    expect(await table('forecast-table')).toEqual(forecastRows(coffee));
    expect(await s.page.locator('[data-testid="forecast-table"] tr[data-part="train"]').count()).toBe(9);
    expect((await table('cohort-table')).map((c) => c[0])).toEqual(
      coffee.cohorts.rows.map((c) => month(c.cohort)),
    );
    expect(coffee.cohorts.rows[0]!.cohort).toBe(from);
    expect(await text('[data-figure="cancels"] [data-part="main"]')).toBe(en.int(coffee.cancelReasons.total));

    // A setting the API refuses: its message at its field.
    await s.page.goto(`${s.base}/subscriptions/report?to=${last}&train=2`);
    await s.page.locator('[data-error-for="train"]').waitFor();
    const refused = await s.send<{ error: { details: { issues: { path: string; message: string }[] } } }>(
      'GET',
      `/v1/subscriptions/report?to=${last}&train=2`,
    );
    expect(refused.status).toBe(400);
    expect(await text('[data-error-for="train"]')).toBe(refused.json.error.details.issues[0]!.message);
    expect(await s.page.getByLabel('Months fitted').getAttribute('aria-invalid')).toBe('true');
    expect(await s.page.locator('[data-testid="report-figures"]').count()).toBe(0);
    expect(await s.violations()).toEqual([]);
    // "Defaults" clears the settings.
    await s.page.getByRole('button', { name: 'Defaults' }).click();
    await expect.poll(() => new URL(s.page.url()).search).toBe('');
    await s.page.locator('[data-testid="report-figures"]').waitFor();
  });

  it('in Ukrainian: the figures in Ukrainian formats, the verdict and notes marked English, axe-clean', async () => {
    const query = `to=${last}`;
    await open(query);
    const r = await report(query);
    await s.page.getByLabel('Language').selectOption('uk');
    try {
      await s.page.getByRole('heading', { name: 'Звіт', level: 2 }).waitFor();
      const m = r.months.at(-1)!;
      const uah = (minor: number) =>
        new Intl.NumberFormat('uk', { style: 'currency', currency: 'USD' }).format(minor / 100);
      expect(await text('[data-figure="mrr"] [data-part="main"]')).toBe(uah(m.endMrrMinor));
      expect(await text('[data-figure="churned"] dt')).toBe(`Втрачений MRR, ${month(last, 'uk')}`);
      expect(await text('[data-testid="forecast-table"] tbody tr th')).toBe('М1');
      expect(await text('[data-testid="forecast-table"] tbody tr [data-col="part"]')).toBe('Підгонка');
      expect(await s.page.locator('[data-testid="ltv-verdict"] [lang="en"]').count()).toBe(1);
      expect(await text('[data-testid="ltv-verdict"] .notes')).toBe('Висновок надає API, англійською.');
      expect(await s.page.locator('[data-testid="report-notes"][lang="en"]').count()).toBe(1);
      expect(await s.violations()).toEqual([]);
      await s.shot('subscriptions-report-uk');
    } finally {
      await s.page.getByLabel('Мова').selectOption('en');
    }
  });
});
