import type { Page } from 'playwright-core';
import { it } from 'vitest';
import { ManualClock } from '../../src/kit/clock.js';
import { upsertCustomer } from '../../src/modules/customers/service.js';
import { linkSecretOf } from '../../src/modules/messaging/links.js';
import { upsertOrder } from '../../src/modules/orders/service.js';
import { saveSegment, snapshotSegment } from '../../src/modules/segments/service.js';
import { updateStore } from '../../src/modules/settings/service.js';
import type { SurveyResults } from '../../src/modules/surveys/schema.js';
import { answerScore, answerWhy, inviteToSurvey } from '../../src/modules/surveys/service.js';
import { scoreToken, whyToken } from '../../src/modules/surveys/tokens.js';
import { updateTask } from '../../src/modules/tasks/service.js';
import { createUser } from '../../src/modules/users/service.js';
import { browserSuite, en, expect } from '../support/browser.js';

/**
 * Issue 27, a survey's results in context in Chromium: a store of 120 answering customers (as
 * src/modules/surveys/results.test.ts models it: email-acquired customers mostly promoters, ad-acquired
 * mostly detractors, ten of unknown channel; two first-order months; two products; half the low
 * scores' call tasks done, those customers buying again), answered months ago so every window is over.
 * The survey page shows the headline's interval; the breakdown switches between segment, channel
 * (the small group marked "few answers"), product and cohort, each as the API has it; NPS next to CLV
 * and the effect of calls with the API's verdicts; the "why" themes per band; the window (in the
 * address) changes them; the answers come 50 at a time ("Show more") and filter by band (in the
 * address). axe-clean in English and Ukrainian. Screenshots survey-results, survey-results-uk.
 */

const DAY = 86_400_000;
const N = 120;
const ZONE = 'Europe/Kyiv';
const ago = (days: number) => new Date(Date.now() - days * DAY);
const scoreOf = (i: number) =>
  i % 2 === 0 ? (i % 10 === 0 ? 3 : 9 + (i % 4 === 0 ? 1 : 0)) : i % 5 === 0 ? 8 : (i * 3) % 7;
const lowResolved = (i: number) => i % 4 < 2;
const channelOf = (i: number) => (i < 10 ? undefined : i % 2 === 0 ? 'email' : 'ads');
const whyOf = (s: number) =>
  s <= 6
    ? 'The delivery was late and the parcel arrived damaged.'
    : s <= 8
      ? 'Good tea, but the price is high.'
      : 'Great tea and fast delivery, thank you!';

const nps = (x: number, lang = 'en') =>
  new Intl.NumberFormat(lang, { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(x);
const month = (m: string, lang = 'en') =>
  new Date(`${m}-01T00:00:00Z`).toLocaleDateString(lang, {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
const usd = (minor: number | null) => (minor === null ? '—' : en.money(minor / 100, 'USD'));
const signed = (minor: number) => (Math.round(minor) > 0 ? `+${usd(minor)}` : usd(minor));
const pct = (x: number | null) => (x === null ? '—' : en.pct(x));
const pp = (x: number) =>
  `${new Intl.NumberFormat('en', {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
    signDisplay: 'exceptZero',
  }).format(x * 100)} pp`;

browserSuite('a survey’s results in context in Chromium', { data: 'empty' }, (s) => {
  const rows = (selector: string, page: Page = s.page) => page.locator(selector).allInnerTexts();
  const text = async (selector: string, page: Page = s.page) =>
    ((await page.locator(selector).first().textContent()) ?? '').trim();
  const results = (window = 90) => s.get<SurveyResults>(`/v1/surveys/spring/results?window=${window}`);

  it('seeds 120 answers with orders, segments, CLV and done call tasks', async () => {
    const clock = new ManualClock(ago(260));
    const ctx = () => ({ ...s.deps, clock });
    await updateStore(ctx(), { currency: 'USD', timeZone: ZONE });
    const policy = await s.send('PUT', '/v1/messaging/policy', {
      publicUrl: 'https://shop.test',
      quietHours: null,
    });
    expect(policy.status, JSON.stringify(policy.json)).toBe(200);
    await s.db.exec(
      `INSERT INTO products (sku, title, category, updated_at) VALUES ('TEA', 'Green tea', 'tea', now()), ('MUG', 'Blue mug', 'ware', now())`,
    );
    const order = (id: string, customer: string, at: Date, sku: string, price: string) =>
      upsertOrder(ctx(), {
        body: {
          order_id: id,
          customer_id: customer,
          ordered_at: at.toISOString(),
          currency: 'USD',
          lines: [{ sku, quantity: 1, unit_price: price }],
        },
      });
    for (let i = 0; i < N; i++) {
      const channel = channelOf(i);
      await upsertCustomer(ctx(), {
        body: {
          customer_id: `c${i}`,
          email: `c${i}@example.com`,
          email_consent: 'granted',
          ...(channel ? { acquisition_channel: channel } : {}),
        },
      });
      await order(`o${i}`, `c${i}`, ago(i < 60 ? 250 : 215), i % 3 === 0 ? 'TEA' : 'MUG', '20.00');
    }
    await createUser(ctx(), { email: 'mia@shop.test', role: 'agent', password: 'correct horse battery' });
    await saveSegment(ctx(), {
      by: 'test',
      body: { name: 'from-email', rule: { field: 'acquisition_channel', op: 'eq', value: 'email' } },
    });
    await snapshotSegment(s.deps, { name: 'from-email' });
    for (let i = 0; i < N; i++)
      await s.db.exec(
        `INSERT INTO clv_predictions (customer_id, model_version, as_of, horizon, time_unit, expected_purchases, p_alive,
           clv_minor, currency, created_at)
         SELECT customer_id, 'test', $3::TIMESTAMP, 12, 'week', 1, 0.5, $2, 'USD', $3::TIMESTAMP
         FROM customers WHERE external_id = $1`,
        [`c${i}`, (scoreOf(i) >= 9 ? 20_000 : 5_000) + ((i * 37) % 1000), ago(10).toISOString().slice(0, 19)],
      );

    const put = await s.send('PUT', '/v1/surveys', {
      name: 'spring',
      kind: 'nps',
      throttleDays: 0,
      lowScore: { atMost: 6, assignees: ['mia@shop.test'], slaHours: 24 },
    });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    clock.set(ago(200));
    const invited = await inviteToSurvey(ctx(), {
      name: 'spring',
      body: { customers: Array.from({ length: N }, (_, i) => `c${i}`), occurrence: 'spring' },
    });
    expect(invited.invited).toBe(N);
    const secret = await linkSecretOf(ctx());
    const invitations = await s.db.query<{ invitation_id: string; external_id: string }>(
      `SELECT i.invitation_id, c.external_id FROM survey_invitations i JOIN customers c ON c.customer_id = i.customer_id
       ORDER BY c.external_id`,
    );
    clock.set(ago(199));
    for (const row of invitations) {
      const i = Number(row.external_id.slice(1));
      clock.advance(60_000);
      await answerScore(ctx(), { token: scoreToken(secret, row.invitation_id, scoreOf(i)), lang: 'en' });
      if (i % 3 !== 2)
        await answerWhy(ctx(), {
          token: whyToken(secret, row.invitation_id),
          why: whyOf(scoreOf(i)),
          lang: 'en',
        });
    }
    clock.set(ago(197));
    const tasks = await s.db.query<{ task_id: number; external_id: string }>(
      `SELECT t.task_id, c.external_id FROM tasks t JOIN customers c ON c.customer_id = t.customer_id`,
    );
    for (const task of tasks)
      if (lowResolved(Number(task.external_id.slice(1))))
        await updateTask(ctx(), {
          id: task.task_id,
          body: { status: 'done', outcome: 'called; sent a replacement' },
          by: 'mia@shop.test',
        });
    for (let i = 0; i < N; i++) {
      const score = scoreOf(i);
      const again = score <= 6 ? lowResolved(i) || i % 5 === 1 : score >= 9 ? i % 10 < 6 : false;
      if (again) await order(`r${i}`, `c${i}`, ago(180), 'TEA', '35.00');
    }
    const r = await results();
    expect(r.answered).toBe(N);
    expect(r.value).not.toBeNull();
    expect(r.effect).not.toBeNull();
  });

  it('shows the interval, the breakdowns, NPS next to CLV, the effect of calls and the themes as the API has them', async () => {
    await s.page.goto(`${s.base}/surveys/spring`);
    await s.page.getByTestId('breakdown').waitFor();
    const r = await results();
    expect(await text('[data-figure="headline"] [data-part="main"]')).toBe(nps(r.nps!));
    expect(await text('[data-figure="headline"] [data-part="interval"]')).toBe(
      `95% interval: ${nps(r.interval95![0]!)} to ${nps(r.interval95![1]!)}`,
    );
    const groupRow = (g: SurveyResults['by']['channel']['groups'][number], name: string) =>
      `${name}\t${en.int(g.answered)}\t${nps(g.score)}\t${nps(g.interval95[0]!)} to ${nps(g.interval95[1]!)}\t${g.few ? 'few answers' : ''}`;
    const table = () => rows('[data-testid="breakdown"] tbody tr');

    // By segment (the default), then channel, product and cohort: the select keeps it in the address.
    expect(await s.page.getByTestId('breakdown').getAttribute('data-by')).toBe('segment');
    expect(await table()).toEqual(r.by.segment.groups.map((g) => groupRow(g, g.key)));
    expect(r.by.segment.groups.map((g) => g.key)).toEqual(['from-email']);
    const by = s.page.getByLabel('Break down by');
    await by.selectOption({ label: 'Acquisition channel' });
    await expect.poll(() => s.page.getByTestId('breakdown').getAttribute('data-by')).toBe('channel');
    expect(new URL(s.page.url()).searchParams.get('by')).toBe('channel');
    expect(await table()).toEqual(
      r.by.channel.groups.map((g) => groupRow(g, g.key === '(unknown)' ? 'Unknown channel' : g.key)),
    );
    expect(r.by.channel.groups.map((g) => [g.key, g.answered, g.few])).toEqual([
      ['ads', 55, false],
      ['email', 55, false],
      ['(unknown)', 10, true],
    ]);
    expect(await text('[data-group="(unknown)"] [data-few]')).toBe('few answers');
    expect(await s.page.locator('[data-group="email"] [data-few]').count()).toBe(0);
    await by.selectOption({ label: 'Product' });
    await expect.poll(() => s.page.getByTestId('breakdown').getAttribute('data-by')).toBe('product');
    expect(await table()).toEqual(r.by.product.groups.map((g) => groupRow(g, `${g.label}\n${g.key}\n`)));
    expect(r.by.product.groups.map((g) => [g.key, g.label])).toEqual([
      ['MUG', 'Blue mug'],
      ['TEA', 'Green tea'],
    ]);
    await by.selectOption({ label: 'First-order month' });
    await expect.poll(() => s.page.getByTestId('breakdown').getAttribute('data-by')).toBe('cohort');
    expect(await table()).toEqual(r.by.cohort.groups.map((g) => groupRow(g, month(g.key))));
    expect(r.by.cohort.groups.map((g) => g.answered)).toEqual([60, 60]);
    expect(r.by.cohort.groups[0]!.key > r.by.cohort.groups[1]!.key).toBe(true);

    // NPS next to CLV: per band, and promoters against detractors, with the API's verdict.
    const v = r.value!;
    expect(await rows('[data-testid="value"] tbody tr')).toEqual(
      v.bands.map(
        (b) =>
          `${{ detractor: 'Detractors (0–6)', passive: 'Passives (7–8)', promoter: 'Promoters (9–10)' }[b.band]}\t${en.int(b.customers)}\t${en.int(b.withClv)}\t${usd(b.meanClvMinor)}\t${usd(b.meanNetToDateMinor)}\t${en.int(b.matured)}\t${pct(b.repeatRate)}\t${usd(b.revenueAfterMinor)}`,
      ),
    );
    const diff = (d: { estimate: number; low: number; high: number } | null, f: (x: number) => string) =>
      d ? `${f(d.estimate)}\t${f(d.low)} to ${f(d.high)}` : '—\ttoo few to compare';
    expect(await rows('[data-testid="top-vs-bottom"] tbody tr')).toEqual([
      `Mean predicted CLV\t${diff(v.topVsBottom.clvMinor, signed)}`,
      `Bought again within 90 days\t${diff(v.topVsBottom.repeatRate, pp)}`,
      `Mean net sales in the 90 days after\t${diff(v.topVsBottom.revenueAfterMinor, signed)}`,
    ]);
    expect(v.topVsBottom.clvMinor!.low).toBeGreaterThan(10_000);
    expect(await text('[data-testid="value-verdict"] [data-part="verdict"]')).toBe(v.verdict);
    expect(v.verdict).toMatch(/^Promoters against detractors: predicted CLV: \+/);
    expect(await text('[data-testid="clv-run"]')).toMatch(
      /^Predicted CLV from the latest prediction run, as of /,
    );

    // The effect of calls: done against the others, after and before, with the API's verdict.
    const e = r.effect!;
    const g = (k: keyof typeof e.resolved, f: (x: number) => string) =>
      `${f(e.resolved[k] as number)}\t${f(e.unresolved[k] as number)}`;
    expect(await rows('[data-testid="effect"] tbody tr')).toEqual([
      `Low scores\t${g('lowScores', en.int)}\t\t`,
      `Answered at least 90 days ago\t${g('matured', en.int)}\t\t`,
      `Bought again within 90 days\t${g('repeatRate', pct)}\t${diff(e.difference.repeatRate, pp)}`,
      `Mean net sales in the 90 days after\t${g('revenueAfterMinor', usd)}\t${diff(e.difference.revenueAfterMinor, signed)}`,
      `Bought in the 90 days before\t${g('boughtBefore', pct)}\t\t`,
      `Mean net sales in the 90 days before\t${g('revenueBeforeMinor', usd)}\t\t`,
    ]);
    expect(e.resolved.repeatRate).toBe(1);
    expect(await text('[data-testid="effect-verdict"] [data-part="verdict"]')).toBe(e.verdict);
    expect(await s.page.locator('[data-testid="results-notes"] li').allTextContents()).toEqual(r.notes);

    // The themes: per band, the top words with their counts and an example.
    const detractor = r.themes.find((b) => b.band === 'detractor')!;
    expect(detractor.terms.length).toBeGreaterThan(0);
    const top = detractor.terms[0]!;
    const first = s.page.locator(`[data-theme-band="detractor"] [data-kind="term"] li`).first();
    expect(await first.locator('strong').textContent()).toBe(top.label);
    expect(await first.locator('[data-part="count"]').textContent()).toBe(
      `answers: ${en.int(top.count)} (${new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(top.share)})`,
    );
    expect(await first.locator('[data-part="example"]').textContent()).toBe(`“${top.examples[0]}”`);
    expect(await s.page.locator('[data-theme-band]').count()).toBe(3);
    expect(await s.violations()).toEqual([]);
    await s.shot('survey-results');

    // Another window: the address keeps it, the figures are the API's for it.
    await s.page.getByLabel('Purchases within').selectOption({ label: '30 days' });
    await expect.poll(() => s.page.getByTestId('results').getAttribute('data-window')).toBe('30');
    expect(new URL(s.page.url()).searchParams.get('window')).toBe('30');
    const r30 = await results(30);
    await expect
      .poll(() => text('[data-testid="effect-verdict"] [data-part="verdict"]'))
      .toBe(r30.effect!.verdict);
    expect(await text('[data-testid="value-verdict"] [data-part="verdict"]')).toBe(r30.value!.verdict);
    expect(await text('[data-testid="effect"] [data-row="repeat"] th')).toBe('Bought again within 30 days');
    // Reloaded, the page reads the window and the breakdown from the address.
    await s.page.reload();
    await s.page.getByTestId('breakdown').waitFor();
    expect(await s.page.getByTestId('breakdown').getAttribute('data-by')).toBe('cohort');
    expect(await s.page.getByLabel('Purchases within').inputValue()).toBe('30');
  });

  it('answers: 50 a page with "Show more", and a band filter kept in the address', async () => {
    await s.page.goto(`${s.base}/surveys/spring`);
    await s.page.getByTestId('answers').waitFor();
    const answers = () => s.page.locator('[data-testid="answers"] tbody tr');
    expect(await answers().count()).toBe(50);
    const first = await s.get<{ data: { customer: string }[]; nextCursor: string }>(
      '/v1/surveys/spring/answers?limit=50',
    );
    const second = await s.get<{ data: { customer: string }[]; nextCursor: string | null }>(
      `/v1/surveys/spring/answers?limit=50&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    await s.page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => answers().count()).toBe(100);
    expect(await answers().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-answer')))).toEqual(
      [...first.data, ...second.data].map((a) => a.customer),
    );
    expect(await text('[data-testid="answers-shown"]')).toBe('Shown: 100');
    await s.page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => answers().count()).toBe(N);
    expect(await s.page.getByRole('button', { name: 'Show more' }).count()).toBe(0);

    const detractors = await s.get<{ data: { customer: string; band: string }[] }>(
      '/v1/surveys/spring/answers?limit=500&band=detractor',
    );
    await s.page.getByLabel('Band', { exact: true }).selectOption({ label: 'Detractors (0–6)' });
    await expect.poll(() => s.page.getByTestId('answers').getAttribute('data-band')).toBe('detractor');
    expect(new URL(s.page.url()).searchParams.get('band')).toBe('detractor');
    await expect.poll(() => answers().count()).toBe(Math.min(50, detractors.data.length));
    const bands = await answers().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-answer-band')));
    expect(new Set(bands)).toEqual(new Set(['detractor']));
    expect(await answers().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-answer')))).toEqual(
      detractors.data.slice(0, 50).map((a) => a.customer),
    );
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Band', { exact: true }).selectOption({ label: 'All bands' });
    // Every band again (the pages already loaded stay in the cache).
    await expect
      .poll(
        async () => new Set(await answers().evaluateAll((trs) => trs.map((tr) => tr.dataset['answerBand']))),
      )
      .toEqual(new Set(['detractor', 'passive', 'promoter']));
    expect(new URL(s.page.url()).searchParams.has('band')).toBe(false);
  });

  it('in Ukrainian: the headings, the breakdown and the few-answers mark translated; axe-clean', async () => {
    await s.page.goto(`${s.base}/surveys/spring?by=channel&band=promoter`);
    await s.page.getByTestId('breakdown').waitFor();
    await s.page.getByLabel('Language').selectOption('uk');
    try {
      await s.page.getByRole('heading', { name: 'Опитування spring' }).waitFor();
      const r = await results();
      expect(await text('#breakdown-title')).toBe('У розрізі');
      expect(await text('#breakdown-caption')).toBe('NPS за каналами залучення');
      expect(await text('[data-group="(unknown)"] th')).toBe('Невідомий канал');
      expect(await text('[data-group="(unknown)"] [data-few]')).toBe('мало відповідей');
      expect(await text('#value-title')).toBe('Поруч із CLV: чи промоутери витрачають більше?');
      expect(await text('#effect-title')).toBe('Ефект дзвінків');
      expect(await text('[data-testid="effect"] [data-row="repeat"] th')).toBe(
        'Купили знову протягом 90 дн.',
      );
      expect(await text('[data-figure="headline"] [data-part="interval"]')).toBe(
        `95% інтервал: від ${nps(r.interval95![0]!, 'uk')} до ${nps(r.interval95![1]!, 'uk')}`,
      );
      expect(await text('[data-testid="value-verdict"] [data-part="verdict"]')).toBe(r.value!.verdict);
      expect(await s.page.locator('[data-testid="value-verdict"] [lang="en"]').count()).toBe(1);
      expect(await s.page.getByLabel('Група', { exact: true }).inputValue()).toBe('promoter');
      const bands = await s.page
        .locator('[data-testid="answers"] tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-answer-band')));
      expect(new Set(bands)).toEqual(new Set(['promoter']));
      expect(await s.violations()).toEqual([]);
      await s.shot('survey-results-uk');
    } finally {
      await s.page.getByLabel('Мова').selectOption('en');
    }
  });
});
