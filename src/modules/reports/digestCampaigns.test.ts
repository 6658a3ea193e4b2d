import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedContacts } from '../../../test/support/contacts.js';
import { februaryDigest } from '../../../test/support/metricsKit.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import type { Database } from '../../storage/port.js';
import { campaignReport, type CampaignReport } from '../campaigns/report.js';
import { renderDigestHtml, renderDigestMarkdown } from './digestFormat.js';
import { DigestCampaign } from './schema.js';
import { digestJson, digestReport } from './service.js';

const template = (subject: string) => ({
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'en',
      subject,
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
  ],
});

/** The digest's block says what the campaign report says: arms, messages, effects, window, split check. */
function expectSameFigures(block: DigestCampaign, r: CampaignReport): void {
  expect(block.campaign).toBe(r.campaign);
  expect(block.launchedAt).toBe(r.launchedAt);
  expect(block.window).toMatchObject({
    days: r.window.days,
    figuresTo: r.window.end,
    complete: r.window.complete,
  });
  expect(block.arms).toEqual(
    r.arms.map((a) => ({
      arm: a.arm,
      template: a.template,
      recipients: a.recipients,
      messagesSent: a.messages.sent ?? 0,
      messages: a.messages,
    })),
  );
  expect(r.effects.length).toBeGreaterThan(0);
  expect(block.effects).toHaveLength(r.effects.length);
  for (const e of r.effects) {
    const got = block.effects.find((x) => x.variant === e.variant)!;
    const best = (e.cuped ?? e.incremental).difference;
    expect(got).toEqual({
      variant: e.variant,
      basis: e.cuped ? 'cuped' : 'unadjusted',
      perRecipientMinor: { estimate: best.estimate, low: best.low, high: best.high },
      probabilityToBeatHoldout: e.probabilityToBeatHoldout,
      incrementalRevenueMinor: e.incrementalRevenueMinor,
      verdict: e.verdict,
    });
  }
  expect(block.incrementalRevenueMinor).toBe(r.effects.reduce((s, e) => s + e.incrementalRevenueMinor, 0));
  expect(block.sampleRatio?.pValue).toBe(r.sampleRatio?.pValue);
  expect(block.sampleRatio?.mismatch).toBe(false);
}

/**
 * The monthly digest's campaigns section: a store in Europe/Kyiv with an A/B campaign launched at
 * 2026-02-28 23:00 UTC — 1 March 01:00 in Kyiv, so a March launch — with a 35-day window (to 5 April
 * 02:00 Kyiv), launched and not delivered, and a draft never launched.
 */
describe.each(testEngines())('digest campaigns on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2026-01-20T12:00:00Z');
  const launchAt = '2026-02-28T23:00:00.000Z';

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    ctx = { ...t.deps, clock };
    await seedContacts(db, { n: 200, now: clock.now() });
    const store = await t.call('PATCH', '/v1/store', {
      role: 'admin',
      body: { currency: 'EUR', timeZone: 'Europe/Kyiv' },
    });
    expect(store.status).toBe(200);
    await t.call('PUT', '/v1/messaging/policy', {
      role: 'admin',
      body: { publicUrl: 'https://shop.test/r', frequencyCap: null },
    });
    for (const [name, subject] of [
      ['spring-a', 'Spring A'],
      ['spring-b', 'Spring B'],
    ] as const)
      expect(
        (await t.call('PUT', `/v1/templates/${name}`, { role: 'marketer', body: template(subject) })).status,
      ).toBe(201);
    const campaign = (name: string) => ({
      name,
      rule: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
      variants: [
        { key: 'A', template: 'spring-a', share: 0.45 },
        { key: 'B', template: 'spring-b', share: 0.45 },
      ],
      windowDays: 35,
    });
    for (const name of ['spring', 'summer'])
      expect((await t.call('POST', '/v1/campaigns', { role: 'marketer', body: campaign(name) })).status).toBe(
        201,
      );
    clock.set(new Date(launchAt));
    const launched = await t.call('POST', '/v1/campaigns/spring/launch', { role: 'marketer' });
    expect(launched.status, launched.text).toBe(200);

    const order = async (id: string, customer: string, at: string, minor: number) =>
      expect(
        (
          await t.call('POST', '/v1/orders', {
            role: 'admin',
            body: {
              order_id: id,
              customer_id: customer,
              ordered_at: at,
              currency: 'EUR',
              lines: [{ sku: 'X', quantity: 1, unit_price: (minor / 100).toFixed(2) }],
            },
          })
        ).status,
      ).toBe(201);
    const assigned = await db.query<{ external_id: string; arm: string }>(
      `SELECT c.external_id, r.arm FROM campaign_recipients r JOIN customers c ON c.customer_id = r.customer_id
       ORDER BY c.external_id`,
    );
    // Before the launch every fifth recipient bought 10.00 (the CUPED covariate); in the window every
    // third buys 20.00 in the holdout and A, 30.00 in B; one order in May puts the default as-of there.
    for (const [i, r] of assigned.entries()) {
      if (i % 5 === 0) await order(`before-${i}`, r.external_id, '2026-02-10T10:00:00Z', 1000);
      if (i % 3 === 0)
        await order(`after-${i}`, r.external_id, '2026-03-15T10:00:00Z', r.arm === 'B' ? 3000 : 2000);
    }
    await order('may', assigned[1]!.external_id, '2026-05-02T10:00:00Z', 500);
    clock.set(new Date('2026-05-10T00:00:00Z'));
  }, 120_000);
  afterAll(async () => {
    await dispose();
  });

  it('the launch month shows the campaign with the figures of its report', async () => {
    const d = await digestReport(ctx, { month: '2026-03' });
    const r = await campaignReport(ctx, { name: 'spring' });
    expect(r.window.complete).toBe(true);
    expect(d.digest.campaigns.map((c) => c.campaign)).toEqual(['spring']); // not the draft
    const [block] = d.digest.campaigns;
    expect(DigestCampaign.parse(block)).toEqual(block);
    expectSameFigures(block!, r);
    expect(block).toMatchObject({
      status: 'sending',
      launchedInMonth: true,
      windowEndedInMonth: false,
      launchedAt: launchAt,
      window: { days: 35, end: '2026-04-04T23:00:00.000Z', figuresTo: '2026-04-04T23:00:00.000Z' },
      messagesSent: 0, // launched, not delivered
    });
    // Every variant message is queued, none sent; the holdout is messaged nothing.
    for (const a of block!.arms)
      expect(a.messages).toEqual(a.arm === 'holdout' ? {} : { queued: a.recipients });

    const md = renderDigestMarkdown(d.digest);
    const section = md.slice(md.indexOf('## Campaigns'));
    expect(md.indexOf('## Campaigns')).toBeGreaterThan(md.indexOf('## RFM segments'));
    expect(section).toContain('Times in Europe/Kyiv.');
    expect(section).toContain('### spring\n');
    expect(section).toContain(
      'Launched 2026-03-01 01:00; 35-day outcome window to 2026-04-05 02:00: complete. 0 messages sent.',
    );
    const arm = (k: string) => r.arms.find((a) => a.arm === k)!;
    expect(section).toContain(`| holdout | – | ${arm('holdout').recipients} | – |`);
    expect(section).toContain(
      `| A | spring-a | ${arm('A').recipients} | 0 (${arm('A').recipients} queued) |`,
    );
    for (const e of r.effects) expect(section).toContain(`- ${e.verdict}`);
    expect(section).toMatch(
      /\| B \| [\d.,]+ EUR \| −?[\d.,]+ EUR to [\d.,]+ EUR \| (CUPED|unadjusted) \| [\d.,]+ EUR \|/,
    );
    expect(section).toContain('Incremental revenue over the holdout, all variants: ');
    expect(section).not.toContain('summer');
    expect(section).not.toContain('Sample-ratio mismatch');
    expect(renderDigestHtml(d.digest)).toContain('<h3>spring</h3>');

    // The JSON (report digest --json, GET /v1/reports/digest): decimals in EUR, like the rest of the data.
    const api = await t.call('GET', '/v1/reports/digest?month=2026-03', { role: 'analyst' });
    expect(api.status).toBe(200);
    const json = digestJson(d);
    expect(api.json.markdown).toBe(json.markdown);
    const b = r.effects.find((e) => e.variant === 'B')!;
    const effectB = (api.json.data.campaigns[0].effects as { variant: string }[]).find(
      (e) => e.variant === 'B',
    );
    expect(effectB).toMatchObject({
      perRecipient: { estimate: Number(((b.cuped ?? b.incremental).difference.estimate / 100).toFixed(2)) },
      incrementalRevenue: b.incrementalRevenueMinor / 100,
      verdict: b.verdict,
    });
  });

  it('the month its outcome window ended shows it too', async () => {
    const d = await digestReport(ctx, { month: '2026-04' });
    expect(d.digest.campaigns).toHaveLength(1);
    expect(d.digest.campaigns[0]).toMatchObject({ launchedInMonth: false, windowEndedInMonth: true });
    expectSameFigures(d.digest.campaigns[0]!, await campaignReport(ctx, { name: 'spring' }));
  });

  it('an explicit --as-of cuts the campaign figures at the end of that day', async () => {
    const d = await digestReport(ctx, { month: '2026-03', asOf: '2026-03-20' });
    // The end of 20 March in Kyiv (UTC+2 until the 29th).
    const atAsOf = new ManualClock('2026-03-20T22:00:00Z');
    const r = await campaignReport({ ...ctx, clock: atAsOf }, { name: 'spring' });
    expect(r.window.complete).toBe(false);
    expectSameFigures(d.digest.campaigns[0]!, r);
    expect(renderDigestMarkdown(d.digest)).toContain(
      '35-day outcome window to 2026-04-05 02:00: not over, figures so far (to 2026-03-21 00:00).',
    );
    // Before the launch (in Kyiv's calendar) there is nothing to report.
    expect((await digestReport(ctx, { month: '2026-02', asOf: '2026-02-28' })).digest.campaigns).toEqual([]);
  });

  it('a month without campaigns has no campaigns section', async () => {
    // February in UTC holds the launch instant, but the store's February (Kyiv) does not.
    for (const month of ['2026-02', '2026-05']) {
      const d = await digestReport(ctx, { month });
      expect(d.digest.campaigns).toEqual([]);
      const md = renderDigestMarkdown(d.digest);
      expect(md).toContain('## RFM segments at month end');
      expect(md).not.toMatch(/campaign|spring/i);
      expect(renderDigestHtml(d.digest)).not.toMatch(/campaign|spring/i);
      expect(digestJson(d).data.campaigns).toEqual([]);
    }
  });
});

describe('digest campaigns rendering', () => {
  const block: DigestCampaign = {
    campaign: 'winback',
    status: 'cancelled',
    launchedInMonth: true,
    windowEndedInMonth: true,
    launchedAt: '2024-02-03T09:30:00.000Z',
    window: {
      days: 14,
      end: '2024-02-17T09:30:00.000Z',
      figuresTo: '2024-02-17T09:30:00.000Z',
      complete: true,
    },
    arms: [
      { arm: 'holdout', template: null, recipients: 40, messagesSent: 0, messages: {} },
      {
        arm: 'A',
        template: 'wb-a',
        recipients: 200,
        messagesSent: 190,
        messages: { sent: 190, skipped: 10 },
      },
      { arm: 'B', template: 'wb-b', recipients: 1, messagesSent: 1, messages: { sent: 1 } },
    ],
    messagesSent: 191,
    effects: [
      {
        variant: 'A',
        basis: 'unadjusted',
        perRecipientMinor: { estimate: -41.5, low: -120.25, high: 37.25 },
        probabilityToBeatHoldout: 0.15,
        incrementalRevenueMinor: -8300,
        verdict:
          'Variant A was not distinguishable from the holdout: 0.42 GBP less per recipient (95 % CI −1.20 GBP to 0.37 GBP); probability A beats the holdout: 15 %.',
      },
    ],
    notCompared: ['B'],
    incrementalRevenueMinor: -8300,
    sampleRatio: { pValue: 0.00001234, threshold: 0.001, mismatch: true },
  };

  it('renders the split warning, the variants not compared and negative figures', () => {
    const d = { ...februaryDigest(), campaigns: [block] };
    const md = renderDigestMarkdown(d);
    expect(md).toContain('### winback (cancelled)');
    expect(md).toContain(
      'Launched 2024-02-03 09:30; 14-day outcome window to 2024-02-17 09:30: complete. 191 messages sent.',
    );
    expect(md).toContain('| A | wb-a | 200 | 190 (10 skipped) |');
    expect(md).toContain('| A | −0.42 GBP | −1.20 GBP to 0.37 GBP | unadjusted | −83.00 GBP |');
    expect(md).toContain('- Variant B was not compared: fewer than 2 recipients in it or in the holdout.');
    expect(md).toContain('Incremental revenue over the holdout, all variants: −83.00 GBP.');
    expect(md).toContain(
      "> Sample-ratio mismatch: the arms' sizes do not match the planned split (p = 1.23e-5, below 0.001); check the assignment before trusting the comparison.",
    );
    const html = renderDigestHtml({ ...d, campaigns: [{ ...block, campaign: '<b>x</b>' }] });
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt; (cancelled)');
    expect(html).toContain('<p class="note">Sample-ratio mismatch');
    expect(html).not.toContain('<b>x</b>');
  });
});
