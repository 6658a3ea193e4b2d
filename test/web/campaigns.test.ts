import { readFileSync } from 'node:fs';
import { afterAll, it } from 'vitest';
import { openChannels, parseChannelConfig } from '../../src/modules/messaging/channels/config.js';
import type { Channel, ChannelKind } from '../../src/modules/messaging/channels/port.js';
import { deliverDue } from '../../src/modules/messaging/service.js';
import { DAY_MS } from '../../src/shared/time.js';
import { browserSuite, en, expect } from '../support/browser.js';
import { idOf, seedContacts } from '../support/contacts.js';
import { startSmtpSink, type SmtpSink } from '../support/smtpSink.js';

/**
 * Issue 25, the Campaigns pages in Chromium: 240 seeded contacts (most consented to email), a month of
 * orders, three templates and a saved segment. As a marketer: the form refuses what the API refuses,
 * showing its messages next to the fields (shares that do not add up, an offer whose template never
 * shows the code, a rule that is not JSON), then saves an A/B draft with offers (15 % generated codes;
 * €5 from the store's list) and two more (a rule audience at a local time; one at a store time, then
 * cancelled after a confirmation); the draft's plan equals GET …/plan; codes are imported by paste and
 * by file (a repeat refused as the API words it); launch (confirmed), pause and resume as the API says.
 * Delivered to a local SMTP server, some opened, clicked and unsubscribed, orders placed with codes,
 * after clicks and in the holdout: the report's arms table, effect cards, chart, sample-ratio line and
 * notes equal GET …/report; the codes CSV is GET …/codes. An analyst reads the list and the report and
 * is offered no action. axe-clean in English and Ukrainian at 1280×800 and 390 wide; screenshots
 * campaigns, campaign-form, campaign-draft, campaign-report, campaign-report-narrow, campaigns-uk.
 */

const N = 240;
const ZONE = 'Europe/Kyiv';
const MARKETER = { email: 'mark@shop.test', password: 'marketer password 1' };
const ANALYST = { email: 'ana@shop.test', password: 'analyst password 1' };
const body = (text: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}. ${text}</mj-text>` +
  `<mj-button href="https://shop.test/spring">Shop</mj-button>` +
  `<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;
const template = (subject: string, text: string) => ({
  channel: 'email',
  kind: 'marketing',
  variants: [{ locale: 'en', subject, body: body(text) }],
});

const money = (minor: number) => en.money(minor / 100, 'EUR');
const signed = (minor: number) => {
  const whole = Math.round(minor);
  return whole > 0 ? `+${money(minor)}` : whole === 0 ? money(0) : money(minor);
};
const pct = (x: number) => en.pct(x);
const share = (x: number) =>
  new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(x);
const rate = (n: number, of: number) => (of > 0 ? en.pct(n / of) : '—');
const when = (iso: string) =>
  new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: ZONE });
const relPct = (x: number) =>
  new Intl.NumberFormat('en', {
    style: 'percent',
    maximumFractionDigits: 1,
    signDisplay: 'exceptZero',
  }).format(x);
/** An instant's wall time in the store's zone, `YYYY-MM-DD HH:MM:SS`. */
const wallOf = (iso: string) => new Date(iso).toLocaleString('sv-SE', { timeZone: ZONE });

interface Campaign {
  name: string;
  segment: string | null;
  status: string;
  holdoutShare: number;
  pending: number;
  launchedAt: string | null;
  variants: { key: string; offer: { expiresAt?: string } | null }[];
}
interface Interval {
  estimate: number;
  low: number;
  high: number;
}
interface Arm {
  arm: string;
  template: string | null;
  share: number;
  recipients: number;
  messages: Record<string, number>;
  orders: number;
  buyers: number;
  revenueMinor: number;
  revenuePerRecipientMinor: number | null;
  engagement: Record<'sent' | 'delivered' | 'bounced' | 'opened' | 'clicked' | 'unsubscribed', number>;
  attributed: {
    byCode: { orders: number; revenueMinor: number };
    byClick: { orders: number; revenueMinor: number; clickers: number };
  };
  codes: number;
}
interface Effect {
  variant: string;
  incremental: { difference: Interval; relative: Interval | null };
  cuped: { difference: Interval; relative: Interval | null; varianceReduction: number } | null;
  probabilityToBeatHoldout: number;
  incrementalRevenueMinor: number;
  verdict: string;
  stop: {
    rule: string;
    decision: string;
    reason: string;
    alwaysValid: { low: number; high: number } | null;
  };
}
interface Report {
  launchedAt: string;
  window: { start: string; end: string; days: number; complete: boolean };
  arms: Arm[];
  effects: Effect[];
  sampleRatio: { mismatch: boolean; pValue: number } | null;
  minimumDetectableEffectMinor: number | null;
  notes: string[];
}
interface CodeRow {
  code: string;
  variant: string;
  customer: string | null;
  kind: string | null;
  value: number | null;
  expiresAt: string | null;
}

const DECISIONS: Record<string, (key: string, end: string) => string> = {
  wait: (_k, end) =>
    `wait — read the result when the window ends (${end}); stopping earlier on what the interval shows now inflates false wins.`,
  read: () => 'the window is over: the result can be read.',
  continue: () => 'keep going — no decision yet.',
  'stop-variant-better': (k) => `stop — variant ${k} earns more than the holdout.`,
  'stop-variant-worse': (k) => `stop — variant ${k} earns less than the holdout.`,
  'stop-no-difference-detectable': () => 'stop — no difference is detectable.',
};

let sink: SmtpSink | undefined;
let channels: Record<ChannelKind, Channel | undefined> | undefined;
afterAll(async () => {
  await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
  await sink?.close();
});

browserSuite('campaigns pages in Chromium', { data: 'empty' }, (s) => {
  let shopKey = '';
  const text = async (selector: string) =>
    ((await s.page.locator(selector).first().textContent()) ?? '').trim();
  const cells = (row: string) => s.page.locator(row).locator('th, td').allTextContents();
  const variant = (i: number) => s.page.locator(`form [data-variant="${i}"]`);
  const submit = async () => {
    const [response] = await Promise.all([
      s.page.waitForResponse((r) => r.url().endsWith('/v1/campaigns') && r.request().method() === 'POST'),
      s.page.getByRole('button', { name: 'Save draft' }).click(),
    ]);
    return {
      status: response.status(),
      json: (await response.json()) as {
        error?: { message: string; details?: { issues?: { path: string; message: string }[] } };
      },
    };
  };

  it('seeds the store; the list is empty; the form shows the API’s refusals at their fields and saves a draft', async () => {
    await seedContacts(s.db, { n: N, now: new Date() });
    const ok = async (r: Promise<{ status: number; json: unknown }>, status = 200) => {
      const x = await r;
      expect(x.status, JSON.stringify(x.json)).toBe(status);
    };
    await ok(s.send('PATCH', '/v1/store', { currency: 'EUR', timeZone: ZONE }));
    await ok(
      s.send('PUT', '/v1/messaging/policy', { publicUrl: s.base, frequencyCap: null, quietHours: null }),
    );
    for (const [name, subject, line] of [
      ['spring-a', 'Spring A', 'Your code {{ discount_code }}: {{ offer.value_text }} off.'],
      ['spring-b', 'Spring B', 'Use {{ offer.code }} for {{ offer.value_text }} off.'],
      ['plain', 'Plain', 'News.'],
    ] as const)
      await ok(s.send('PUT', `/v1/templates/${name}`, template(subject, line)), 201);
    await ok(
      s.send('POST', '/v1/segments', {
        name: 'email-ok',
        rule: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
      }),
      201,
    );
    // A month of orders before the launch (the plan's baseline, the report's CUPED covariate).
    const history: Promise<{ status: number; json: unknown }>[] = [];
    for (let i = 1; i <= N; i++)
      if (i % 3 !== 0)
        history.push(
          s.send('POST', '/v1/orders', {
            order_id: `H${i}`,
            customer_id: idOf(i),
            ordered_at: new Date(Date.now() - (1 + (i % 25)) * DAY_MS).toISOString(),
            currency: 'EUR',
            status: 'paid',
            lines: [{ sku: 'SKU-1', quantity: 1, unit_price: (15 + ((i * 37) % 90)).toFixed(2) }],
          }),
        );
    for (const r of await Promise.all(history)) expect(r.status, JSON.stringify(r.json)).toBe(201);
    for (const u of [
      { ...MARKETER, role: 'marketer' },
      { ...ANALYST, role: 'analyst' },
    ])
      await ok(s.send('POST', '/v1/users', u), 201);
    // Orders come from the shop (an admin key), while the browser works as a marketer.
    const key = await s.send<{ key: string }>('POST', '/v1/keys', { role: 'admin', name: 'shop' });
    expect(key.status).toBe(201);
    shopKey = key.json.key;
    await s.logIn(MARKETER.email, MARKETER.password);

    await s.page.getByRole('link', { name: 'Campaigns', exact: true }).click();
    await s.page.getByRole('heading', { name: 'Campaigns', exact: true }).waitFor();
    await s.page.getByTestId('no-campaigns').waitFor();
    expect((await s.get<{ data: unknown[] }>('/v1/campaigns')).data).toEqual([]);
    await s.page.getByRole('link', { name: 'New campaign' }).click();
    await s.page.waitForURL(/\/campaigns\/new$/);
    await s.page.getByRole('heading', { name: 'New campaign' }).waitFor();

    // The first saved segment is picked; A and B at 45 % each, a 10 % holdout.
    await s.page.getByLabel('Name', { exact: true }).fill('spring');
    expect(await s.page.getByLabel('Segment', { exact: true }).inputValue()).toBe('email-ok');
    await variant(0).getByLabel('Template').selectOption('spring-a');
    await variant(0).getByLabel('With an offer').check();
    await variant(0).getByLabel('Percent (1–100)').fill('15');
    await variant(0).getByLabel('Prefix (optional)').fill('spring-');
    await variant(0).getByLabel('Valid for (days)').fill('14');
    await variant(1).getByLabel('Template').selectOption('plain');
    await variant(1).getByLabel('Share (%)').fill('40');
    await variant(1).getByLabel('With an offer').check();
    await variant(1).getByLabel('Discount', { exact: true }).selectOption('amount');
    await variant(1).getByLabel('Amount (EUR)').fill('5');
    await variant(1).getByLabel('From the store’s list').check();
    await variant(1).getByLabel('On a date').check();
    const expiresOn = new Date(Date.now() + 60 * DAY_MS).toISOString().slice(0, 10);
    await variant(1)
      .getByLabel(/^Expires at the end of/)
      .fill(expiresOn);
    await s.page.getByLabel('Sequential').check();
    await s.page.getByLabel('Minimum recipients per arm').fill('20');
    expect(await text('[data-testid="share-total"]')).toBe(
      'The variants and the holdout add up to 95.0 %: they must add up to 100 %.',
    );

    // Shares that do not add up: the API's message beside the variants, and under the form.
    const sum = await submit();
    expect(sum.status).toBe(400);
    const issue = sum.json.error!.details!.issues!.find((i) => i.path === 'variants')!;
    expect(issue.message).toMatch(/add up to 0\.95/);
    await expect.poll(() => text('[data-error-for="variants"]')).toBe(issue.message);
    expect(await text('[data-testid="create-error"]')).toBe(sum.json.error!.message);

    // An offer whose template never shows the code: beside that variant's offer; the focus goes there.
    await variant(1).getByLabel('Share (%)').fill('45');
    const noCode = await submit();
    expect(noCode.status).toBe(400);
    expect(noCode.json.error!.message).toMatch(/never shows the code/);
    await expect.poll(() => text('[data-error-for="variants.1.offer"]')).toBe(noCode.json.error!.message);
    expect(await s.page.locator('[data-error-for="variants"]').count()).toBe(0);
    expect(await s.violations()).toEqual([]);
    await s.shot('campaign-form');

    await variant(1).getByLabel('Template').selectOption('spring-b');
    const saved = await submit();
    expect(saved.status, JSON.stringify(saved.json)).toBe(201);
    await s.page.waitForURL(/\/campaigns\/spring$/);
    const c = await s.get<Campaign & Record<string, unknown>>('/v1/campaigns/spring');
    expect(c).toMatchObject({
      segment: 'email-ok',
      rule: null,
      channel: 'email',
      holdoutShare: 0.1,
      windowDays: 30,
      clickWindowDays: 5,
      stop: { kind: 'sequential', minRecipients: 20 },
      schedule: null,
      status: 'draft',
      createdBy: expect.stringContaining('mark@shop.test'),
      variants: [
        {
          key: 'A',
          template: 'spring-a',
          share: 0.45,
          offer: { kind: 'percent', value: 15, codes: 'generate', prefix: 'SPRING-', validDays: 14 },
          schedule: null,
        },
        {
          key: 'B',
          template: 'spring-b',
          share: 0.45,
          offer: { kind: 'amount', value: 500, codes: 'list' },
          schedule: null,
        },
      ],
    });
    // Expiry: the end of the chosen day in the store's time zone.
    expect(wallOf(c.variants[1]!.offer!.expiresAt!)).toBe(`${expiresOn} 23:59:59`);
  });

  it('a draft shows what the send can detect, as GET /v1/campaigns/{name}/plan', async () => {
    await s.page.getByTestId('plan').getByTestId('plan-sentence').waitFor();
    const p = await s.get<{
      audience: number;
      holdout: number;
      treatment: number;
      baselineMeanMinor: number;
      baselineSdMinor: number;
      minimumDetectableEffectMinor: number | null;
      minimumDetectableEffectRelative: number | null;
      recipientsFor20Percent: number | null;
    }>('/v1/campaigns/spring/plan');
    expect(p.audience).toBeGreaterThan(150);
    expect(p.minimumDetectableEffectMinor).not.toBeNull();
    const figure = (k: string, part: string) => text(`[data-figure="${k}"] [data-part="${part}"]`);
    expect(await text('[data-testid="plan-sentence"]')).toBe(
      `${en.int(p.audience)} customers in the audience now; each variant against the 10% holdout can detect a difference of ${money(p.minimumDetectableEffectMinor!)} per recipient with 80 % power.`,
    );
    expect(await figure('audience', 'main')).toBe(en.int(p.audience));
    expect(await figure('audience', 'sub')).toBe(
      `holdout ${en.int(p.holdout)}, variants ${en.int(p.treatment)}`,
    );
    expect(await figure('baseline', 'main')).toBe(money(p.baselineMeanMinor));
    expect(await figure('baseline', 'sub')).toBe(`spread (SD) ${money(p.baselineSdMinor)}`);
    expect(await figure('mde', 'main')).toBe(money(p.minimumDetectableEffectMinor!));
    expect(await figure('mde', 'sub')).toBe(`${pct(p.minimumDetectableEffectRelative!)} of the baseline`);
    expect(await figure('needed', 'main')).toBe(en.int(p.recipientsFor20Percent!));
    expect(await text('[data-status]')).toBe('Draft');
    expect(await cells('[data-testid="variants"] tbody tr >> nth=0')).toEqual([
      'A',
      'spring-a',
      '45%',
      '15 % off, generated codes (SPRING-…), valid 14 days after the send',
      'As the campaign',
    ]);
    expect(await text('[data-testid="no-report"]')).toBe('The report appears after the launch.');
    expect(await s.violations()).toEqual([]);
    await s.shot('campaign-draft');
  });

  it('imports codes by paste and by file (a repeat refused as the API says), launches, pauses and resumes', async () => {
    const importB = s.page.getByTestId('import-B');
    const codes = importB.getByLabel('Codes, one a line');
    const importButton = importB.getByRole('button', { name: /^Import \d+ codes$/ });
    const post = () =>
      Promise.all([
        s.page.waitForResponse(
          (r) => r.url().endsWith('/v1/campaigns/spring/codes') && r.request().method() === 'POST',
        ),
        importButton.click(),
      ]).then(async ([r]) => ({ status: r.status(), json: (await r.json()) as Record<string, unknown> }));
    await codes.fill('GIFT-1\ngift-2\nGIFT-1');
    const refused = await post();
    expect(refused.status).toBe(400);
    const message = (refused.json.error as { message: string }).message;
    expect(message).toMatch(/GIFT-1 repeats codes\[0\]/);
    await expect.poll(() => text('[data-error-for="codes-B"]')).toBe(message);

    const pasted = Array.from({ length: 150 }, (_, i) => `GIFT-${String(i).padStart(4, '0')}`);
    await codes.fill(pasted.join('\n'));
    expect(await importButton.textContent()).toBe('Import 150 codes');
    const first = await post();
    expect(first.json).toEqual({ variant: 'B', imported: 150, available: 150 });
    await expect
      .poll(() => text('[data-testid="imported-B"]'))
      .toBe('Imported 150 codes; 150 not given out for variant B.');
    // A file with a header line and 100 more.
    const file = ['code', ...Array.from({ length: 100 }, (_, i) => `SHOP-${i}`)].join('\r\n');
    await importB
      .getByLabel('Or read them from a text file')
      .setInputFiles({ name: 'codes.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
    await expect.poll(() => importButton.textContent()).toBe('Import 100 codes');
    expect((await post()).json).toEqual({ variant: 'B', imported: 100, available: 250 });
    await expect
      .poll(() => text('[data-testid="codes-counts"] [data-variant="B"]'))
      .toBe('Variant B: 250 codes imported, 250 not given out');

    // Launch, confirmed: the answer's arms on the page, the audience assigned as the API says.
    let asked = '';
    s.page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    const [launch] = await Promise.all([
      s.page.waitForResponse((r) => r.url().endsWith('/v1/campaigns/spring/launch')),
      s.page.getByRole('button', { name: 'Launch', exact: true }).click(),
    ]);
    expect(asked).toMatch(/^Launch spring now\?/);
    const l = (await launch.json()) as {
      recipients: number;
      arms: Record<string, number>;
      queued: number;
      alreadyQueued: number;
    };
    expect(l.recipients).toBeGreaterThan(150);
    await expect
      .poll(() => text('[data-testid="launch-result"]'))
      .toBe(
        `Assigned ${en.int(l.recipients)} recipients: holdout ${en.int(l.arms.holdout!)}, A ${en.int(l.arms.A!)}, B ${en.int(l.arms.B!)}. ${en.int(l.queued + l.alreadyQueued)} messages queued.`,
      );
    const assigned = await s.db.query<{ arm: string; n: number }>(
      `SELECT arm, COUNT(*) AS n FROM campaign_recipients GROUP BY arm ORDER BY arm`,
    );
    expect(Object.fromEntries(assigned.map((r) => [r.arm, Number(r.n)]))).toEqual(l.arms);
    const badge = s.page.locator('.toolbar [data-status]');
    await expect.poll(() => badge.textContent()).toBe('Sending');
    expect((await s.get<Campaign>('/v1/campaigns/spring')).status).toBe('sending');
    // The codes list can no longer change.
    expect(await s.page.getByTestId('import-B').count()).toBe(0);

    await s.page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => badge.textContent()).toBe('Paused');
    const paused = await s.get<Campaign & { pausedAt: string }>('/v1/campaigns/spring');
    expect(paused.status).toBe('paused');
    expect(await text('[data-fact="paused"] dd')).toBe(when(paused.pausedAt));
    await s.page.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect.poll(() => badge.textContent()).toBe('Sending');
    expect((await s.get<Campaign>('/v1/campaigns/spring')).status).toBe('sending');
    expect(await s.page.getByRole('button', { name: 'Launch', exact: true }).count()).toBe(0);
  });

  it('a rule audience at a local time, and one at a store time cancelled after a confirmation', async () => {
    await s.page.goto(`${s.base}/campaigns/new`);
    await s.page.getByLabel('Name', { exact: true }).fill('local');
    await s.page.getByLabel('A rule (JSON)').check();
    const rule = s.page.getByLabel(/^Rule/);
    const example = await rule.inputValue();
    await rule.fill('{ "field": ');
    await s.page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => text('[data-error-for="rule"]')).toMatch(/^This is not JSON/);
    expect(await s.page.locator(':focus').getAttribute('id')).toBe('cf-rule');
    await rule.fill(example);
    await variant(1).getByRole('button', { name: 'Remove variant B' }).click();
    await variant(0).getByLabel('Template').selectOption('plain');
    await variant(0).getByLabel('Share (%)').fill('90');
    await s.page.getByLabel('At a local time in each customer’s time zone').check();
    await s.page.getByLabel('Date and time in each customer’s own zone').fill('2030-01-15T10:00');
    expect((await submit()).status).toBe(201);
    await s.page.waitForURL(/\/campaigns\/local$/);
    expect(await s.get('/v1/campaigns/local')).toMatchObject({
      segment: null,
      rule: JSON.parse(example),
      schedule: { localTime: '2030-01-15T10:00' },
      stop: { kind: 'fixed' },
      variants: [{ key: 'A', template: 'plain', share: 0.9, offer: null }],
    });
    expect(await text('[data-fact="schedule"] dd')).toBe(
      'Jan 15, 2030, 10:00 AM in each customer’s time zone',
    );

    await s.page.goto(`${s.base}/campaigns/new`);
    await s.page.getByLabel('Name', { exact: true }).fill('later');
    await variant(1).getByRole('button', { name: 'Remove variant B' }).click();
    await variant(0).getByLabel('Template').selectOption('plain');
    await variant(0).getByLabel('Share (%)').fill('80');
    await s.page.getByLabel('Holdout (%)').fill('20');
    await s.page.getByLabel('At a time', { exact: true }).check();
    await s.page.getByLabel(/^Date and time \(store time/).fill('2030-02-01T09:30');
    expect((await submit()).status).toBe(201);
    await s.page.waitForURL(/\/campaigns\/later$/);
    // 09:30 in Kyiv in February (UTC+2).
    expect(await s.get('/v1/campaigns/later')).toMatchObject({
      schedule: { at: '2030-02-01T07:30:00.000Z' },
      holdoutShare: 0.2,
    });
    const badge = s.page.locator('.toolbar [data-status]');
    s.page.once('dialog', (d) => void d.dismiss());
    await s.page.getByRole('button', { name: 'Cancel campaign' }).click();
    expect((await s.get<Campaign>('/v1/campaigns/later')).status).toBe('draft');
    expect(await badge.textContent()).toBe('Draft');
    s.page.once('dialog', (d) => void d.accept());
    await s.page.getByRole('button', { name: 'Cancel campaign' }).click();
    await expect.poll(() => badge.textContent()).toBe('Cancelled');
    expect((await s.get<Campaign>('/v1/campaigns/later')).status).toBe('cancelled');
    expect(await s.page.getByRole('button', { name: 'Launch', exact: true }).count()).toBe(0);

    // The list: every campaign as GET /v1/campaigns.
    await s.page.getByRole('link', { name: '← All campaigns' }).click();
    const list = await s.get<{ data: Campaign[] }>('/v1/campaigns');
    expect(list.data.map((x) => x.name)).toEqual(['later', 'local', 'spring']);
    const rows = s.page.locator('[data-testid="campaigns"] tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    for (const x of list.data) {
      const row = await cells(`[data-campaign="${x.name}"]`);
      expect(row[0]).toBe(x.name);
      expect(row[1]).toBe({ draft: 'Draft', sending: 'Sending', cancelled: 'Cancelled' }[x.status]);
      expect(row[2]).toBe(x.segment ?? 'rule');
      expect(row[4]).toBe(share(x.holdoutShare));
      expect(row[6]).toBe(x.launchedAt ? when(x.launchedAt) : '—');
      expect(row[8]).toBe(en.int(x.pending));
    }
    expect(await cells('[data-campaign="spring"]')).toContain(
      'A: spring-a (45%) · offerB: spring-b (45%) · offer',
    );
    expect(await s.violations()).toEqual([]);
    await s.shot('campaigns');
  });

  it('delivered, opened, clicked and bought from: the report equals GET /v1/campaigns/{name}/report', async () => {
    sink = await startSmtpSink();
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
    const delivered = await deliverDue(s.deps, { channels, staleMs: 0 });
    expect(delivered.sent).toBeGreaterThan(100);
    expect(sink.messages.length).toBe(delivered.sent);
    // Six recipients open, three click (a click is an open too), one unsubscribes.
    const html = sink.messages.map((m) => String(m.parsed.html));
    const url = (h: string, kind: 'o' | 'l' | 'u') =>
      new RegExp(`"(${s.base.replace(/[.]/g, '\\.')}/${kind}/[^"]+)"`).exec(h)![1]!;
    for (const h of html.slice(0, 6)) expect((await fetch(url(h, 'o'))).status).toBe(200);
    for (const h of html.slice(6, 9))
      expect((await fetch(url(h, 'l'), { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(url(html[9]!, 'u'), { method: 'POST' })).status).toBe(200);
    const emailTo = (i: number) => sink!.messages[i]!.envelope.to[0]!;

    // Orders after the launch: five of each variant with their code, the clickers without one, four of
    // the holdout, and six more recipients without a code.
    const arms = await s.db.query<{ id: string; email: string; arm: string }>(
      `SELECT c.external_id AS id, c.email, r.arm FROM campaign_recipients r
       JOIN customers c ON c.customer_id = r.customer_id ORDER BY c.external_id`,
    );
    const byEmail = new Map(arms.map((a) => [a.email, a]));
    const codes = await s.get<{ data: CodeRow[] }>('/v1/campaigns/spring/codes');
    const codeOf = new Map(codes.data.filter((x) => x.customer).map((x) => [x.customer!, x.code]));
    const orders: { id: string; customer: string; euros: number; code?: string }[] = [];
    for (const k of ['A', 'B'])
      arms
        .filter((a) => a.arm === k)
        .slice(0, 5)
        .forEach((a, i) =>
          orders.push({ id: `C${k}${i}`, customer: a.id, euros: 30 + 9 * i, code: codeOf.get(a.id)! }),
        );
    for (const i of [6, 7, 8])
      orders.push({ id: `K${i}`, customer: byEmail.get(emailTo(i))!.id, euros: 25 + i });
    arms
      .filter((a) => a.arm === 'holdout')
      .slice(0, 4)
      .forEach((a, i) => orders.push({ id: `H-after-${i}`, customer: a.id, euros: 20 + 11 * i }));
    arms
      .filter((a) => a.arm !== 'holdout')
      .slice(-6)
      .forEach((a, i) => orders.push({ id: `P${i}`, customer: a.id, euros: 18 + 5 * i }));
    for (const o of orders) {
      const r = await fetch(`${s.base}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${shopKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          order_id: o.id,
          customer_id: o.customer,
          ordered_at: new Date().toISOString(),
          currency: 'EUR',
          status: 'paid',
          ...(o.code ? { discount_codes: o.code.toLowerCase() } : {}),
          lines: [{ sku: 'SKU-1', quantity: 1, unit_price: o.euros.toFixed(2) }],
        }),
      });
      expect(r.status, await r.clone().text()).toBe(201);
    }

    await s.page.goto(`${s.base}/campaigns/spring`);
    await s.page.getByTestId('arms').waitFor();
    const r = await s.get<Report>('/v1/campaigns/spring/report');
    const arm = (k: string) => r.arms.find((a) => a.arm === k)!;
    const sum = (f: (a: Arm) => number) => r.arms.reduce((t, a) => t + f(a), 0);
    expect(sum((a) => a.engagement.sent)).toBe(delivered.sent);
    expect(sum((a) => a.engagement.opened)).toBe(9);
    expect(sum((a) => a.engagement.clicked)).toBe(3);
    expect(sum((a) => a.engagement.unsubscribed)).toBe(1);
    expect(sum((a) => a.attributed.byCode.orders)).toBe(10);
    expect(sum((a) => a.attributed.byClick.clickers)).toBe(3);
    expect(arm('holdout').orders).toBeGreaterThanOrEqual(4);
    expect(r.effects.map((e) => e.variant)).toEqual(['A', 'B']);

    // The arms table, row by row: the report's figures as the page formats them.
    expect(
      await s.page
        .locator('[data-testid="arms"] thead th[data-arm]')
        .evaluateAll((ths) => ths.map((t) => t.getAttribute('data-arm'))),
    ).toEqual(r.arms.map((a) => a.arm));
    const rows: [string, string, (a: Arm) => string][] = [
      ['share', 'Planned share', (a) => share(a.share)],
      ['recipients', 'Recipients', (a) => en.int(a.recipients)],
      ['sent', 'Sent', (a) => en.int(a.engagement.sent)],
      ['delivered', 'Delivered', (a) => en.int(a.engagement.delivered)],
      ['bounced', 'Bounced', (a) => en.int(a.engagement.bounced)],
      ['open-rate', 'Open rate', (a) => rate(a.engagement.opened, a.engagement.delivered)],
      ['click-rate', 'Click rate', (a) => rate(a.engagement.clicked, a.engagement.delivered)],
      [
        'unsubscribe-rate',
        'Unsubscribe rate',
        (a) => rate(a.engagement.unsubscribed, a.engagement.delivered),
      ],
      ['orders', 'Orders', (a) => en.int(a.orders)],
      ['buyers', 'Buyers', (a) => en.int(a.buyers)],
      ['revenue', 'Net revenue', (a) => money(a.revenueMinor)],
      [
        'revenue-per-recipient',
        'Revenue per recipient',
        (a) => (a.revenuePerRecipientMinor === null ? '—' : money(a.revenuePerRecipientMinor)),
      ],
      ['code-orders', 'Orders with a code of the campaign', (a) => en.int(a.attributed.byCode.orders)],
      ['code-revenue', 'Their revenue', (a) => money(a.attributed.byCode.revenueMinor)],
      ['click-orders', 'Orders after a click', (a) => en.int(a.attributed.byClick.orders)],
      ['click-revenue', 'Their revenue', (a) => money(a.attributed.byClick.revenueMinor)],
      ['clickers', 'Recipients who clicked', (a) => en.int(a.attributed.byClick.clickers)],
      ['codes', 'Codes given', (a) => en.int(a.codes)],
    ];
    for (const [key, label, cell] of rows)
      expect(await cells(`[data-testid="arms"] [data-row="${key}"]`), key).toEqual([
        label,
        ...r.arms.map(cell),
      ]);
    const statusName: Record<string, string> = {
      queued: 'Queued',
      sending: 'Sending',
      sent: 'Sent',
      rejected: 'Rejected',
      skipped: 'Skipped',
      unknown: 'Outcome unknown',
    };
    expect(await cells('[data-testid="arms"] [data-row="messages"]')).toEqual([
      'Messages by status',
      ...r.arms.map((a) =>
        Object.keys(a.messages).length === 0
          ? '—'
          : Object.entries(a.messages)
              .map(([k, n]) => `${statusName[k] ?? k} ${en.int(n)}`)
              .join(' · '),
      ),
    ]);
    expect(await text('[data-testid="arms"] [data-row="code-orders"]')).not.toBe('');

    // Each variant's card: the incremental revenue per recipient (CUPED when there), its interval, P,
    // the total, the verdict as the API words it, the stop rule's decision.
    const planned = new Date(new Date(r.launchedAt).getTime() + r.window.days * DAY_MS).toISOString();
    for (const e of r.effects) {
      const card = (part: string) => text(`.effect[data-variant="${e.variant}"] [data-part="${part}"]`);
      const best = e.cuped ?? e.incremental;
      expect(await card('estimate')).toBe(signed(best.difference.estimate));
      expect(await card('interval')).toBe(
        `95 % interval: ${signed(best.difference.low)} to ${signed(best.difference.high)}`,
      );
      expect(await card('method')).toBe(
        e.cuped
          ? `CUPED-adjusted: each recipient’s revenue before the launch is the covariate (variance ${pct(e.cuped.varianceReduction)} lower).`
          : 'Unadjusted difference of the means (Welch).',
      );
      if (e.cuped)
        expect(await card('unadjusted')).toBe(
          `Unadjusted: ${signed(e.incremental.difference.estimate)} (${signed(e.incremental.difference.low)} to ${signed(e.incremental.difference.high)})`,
        );
      expect(await card('relative')).toBe(
        `Relative to the holdout${
          best.relative
            ? `${relPct(best.relative.estimate)} (${relPct(best.relative.low)} to ${relPct(best.relative.high)})`
            : '—'
        }`,
      );
      expect(await card('probability')).toBe(
        `Probability to beat the holdout${pct(e.probabilityToBeatHoldout)}`,
      );
      expect(await card('total')).toBe(`Incremental revenue in total${signed(e.incrementalRevenueMinor)}`);
      expect(await card('verdict')).toBe(e.verdict);
      expect(e.stop.rule).toBe('sequential');
      expect(await card('decision')).toBe(DECISIONS[e.stop.decision]!(e.variant, when(planned)));
      expect(await card('reason')).toBe(e.stop.reason);
      if (e.stop.alwaysValid)
        expect(await card('always-valid')).toBe(
          `Always-valid 95 % interval: ${signed(e.stop.alwaysValid.low)} to ${signed(e.stop.alwaysValid.high)}`,
        );
    }
    expect(r.effects.some((e) => e.cuped)).toBe(true);
    await s.page.locator('[data-testid="effects-chart"] svg').waitFor();
    expect(await s.page.getByTestId('effects-chart').getAttribute('aria-label')).toBe(
      `Incremental revenue per recipient with 95 % intervals: ${r.effects
        .map((e) => {
          const d = (e.cuped ?? e.incremental).difference;
          return `variant ${e.variant} ${signed(d.estimate)} (${signed(d.low)} to ${signed(d.high)})`;
        })
        .join('; ')}.`,
    );
    const p = new Intl.NumberFormat('en', { maximumSignificantDigits: 2 }).format(r.sampleRatio!.pValue);
    expect(await text('[data-testid="sample-ratio"]')).toBe(
      r.sampleRatio!.mismatch
        ? `The split does not match the plan. The arms’ sizes differ from the planned shares more than chance explains (p = ${p}): check the assignment before trusting the comparison.`
        : `The arms’ sizes match the planned split (sample-ratio check p = ${p}).`,
    );
    expect(await text('[data-testid="report-mde"]')).toBe(
      r.minimumDetectableEffectMinor === null
        ? 'Too few recipients, or no spread in the holdout’s revenue, to say what this split can detect.'
        : `This split can detect a difference of ${money(r.minimumDetectableEffectMinor)} per recipient (80 % power).`,
    );
    expect(await s.page.locator('[data-testid="report-notes"] li').allTextContents()).toEqual(r.notes);
    expect(r.window.complete).toBe(false);
    expect(await text('[data-testid="report-window"]')).toBe(
      `Figures so far: ${when(r.window.start)} – ${when(r.window.end)}; the 30-day window ends ${when(planned)}.`,
    );
    expect(await s.violations()).toEqual([]);
    await s.shot('campaign-report');

    // The codes as CSV: GET …/codes, one line each.
    const [download] = await Promise.all([
      s.page.waitForEvent('download'),
      s.page.getByRole('button', { name: 'Download codes (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('spring-codes.csv');
    const all = await s.get<{ data: CodeRow[] }>('/v1/campaigns/spring/codes');
    expect(readFileSync((await download.path())!, 'utf8')).toBe(
      [
        'code,variant,customer,kind,value,expiresAt',
        ...all.data.map((x) =>
          [x.code, x.variant, x.customer ?? '', x.kind ?? '', x.value ?? '', x.expiresAt ?? ''].join(','),
        ),
      ].join('\r\n') + '\r\n',
    );
    expect(all.data.filter((x) => x.customer).length).toBe(sum((a) => a.codes));

    // A phone-sized window: the same page, nothing wider than the screen (the tables scroll in their own box).
    await s.page.setViewportSize({ width: 390, height: 844 });
    await s.page.reload();
    await s.page.getByTestId('arms').waitFor();
    await s.page.locator('[data-testid="effects-chart"] svg').waitFor();
    expect(await s.violations()).toEqual([]);
    const overflow = await s.page.locator('html').evaluate((m) => {
      const box = m as unknown as { scrollWidth: number; clientWidth: number };
      return box.scrollWidth - box.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await s.shot('campaign-report-narrow');
    await s.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('in Ukrainian the list, the form and the page are translated and axe-clean', async () => {
    await s.page.goto(`${s.base}/campaigns`);
    await s.page.getByLabel('Language').selectOption('uk');
    await s.page.getByRole('heading', { name: 'Кампанії', exact: true }).waitFor();
    // Sending, or done once the minute's sweep found nothing left to deliver.
    const spring = await s.get<Campaign>('/v1/campaigns/spring');
    expect(await text('[data-campaign="spring"] [data-status]')).toBe(
      { sending: 'Надсилається', done: 'Завершено' }[spring.status],
    );
    expect(await s.violations()).toEqual([]);
    await s.shot('campaigns-uk');
    await s.page.getByRole('link', { name: 'Нова кампанія' }).click();
    await s.page.getByRole('heading', { name: 'Нова кампанія' }).waitFor();
    await variant(0).getByLabel('З пропозицією', { exact: false }).check();
    expect(await s.violations()).toEqual([]);
    await s.page.goto(`${s.base}/campaigns/spring`);
    await s.page.getByRole('heading', { name: 'Кампанія spring' }).waitFor();
    await s.page.getByTestId('arms').waitFor();
    const r = await s.get<Report>('/v1/campaigns/spring/report');
    expect(await cells('[data-testid="arms"] [data-row="recipients"]')).toEqual([
      'Отримувачі',
      ...r.arms.map((a) => new Intl.NumberFormat('uk').format(a.recipients)),
    ]);
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Мова').selectOption('en');
    await s.page.getByRole('heading', { name: 'Campaign spring' }).waitFor();
  });

  it('an analyst reads the list and the report and is offered no action', async () => {
    const other = await s.page
      .context()
      .browser()!
      .newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    try {
      const p = await other.newPage();
      await p.goto(`${s.base}/login`);
      await p.getByLabel('Email').fill(ANALYST.email);
      await p.getByLabel('Password', { exact: true }).fill(ANALYST.password);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.waitForURL((u) => !u.pathname.startsWith('/login'));
      await p.getByRole('link', { name: 'Campaigns', exact: true }).click();
      await p.locator('[data-campaign="spring"]').waitFor();
      expect(await p.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
      await p.getByRole('link', { name: 'spring', exact: true }).click();
      await p.getByTestId('arms').waitFor();
      for (const name of ['Launch', 'Pause', 'Resume', 'Cancel campaign', 'Download codes (CSV)'])
        expect(await p.getByRole('button', { name, exact: true }).count(), name).toBe(0);
      expect(await p.getByTestId('codes').count()).toBe(0);
      const r = await s.get<Report>('/v1/campaigns/spring/report');
      expect(await p.locator('.effect[data-variant="A"] [data-part="verdict"]').textContent()).toBe(
        r.effects[0]!.verdict,
      );
      await p.goto(`${s.base}/campaigns/local`);
      await p.getByTestId('plan').getByTestId('plan-sentence').waitFor();
      expect(await p.getByRole('button', { name: 'Launch', exact: true }).count()).toBe(0);
      await p.goto(`${s.base}/campaigns/new`);
      await p.getByTestId('no-rights').waitFor();
      expect(await p.getByRole('button', { name: 'Save draft' }).count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
