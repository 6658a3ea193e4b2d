import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOf, groupOf, seedContacts } from '../../../test/support/contacts.js';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { openChannels, parseChannelConfig } from '../messaging/channels/config.js';
import type { Channel, ChannelKind } from '../messaging/channels/port.js';
import { deliverDue } from '../messaging/service.js';
import { armOf } from './assign.js';

const N = 600;
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

/**
 * Issue 25, first slice: an A/B campaign to the email-consented contacts through a local SMTP server —
 * each consented contact assigned to one arm by a stable hash, exactly one message of their variant,
 * the holdout none, the unsubscribed and denied none (not in the audience); a relaunch sends nothing more.
 */
describe.each(testEngines())('campaigns on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    await seedContacts(db, { n: N, now: clock.now() });
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
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
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(channels ?? {}).map((c) => c?.close()));
    await sink?.close();
    await dispose();
  });

  const campaign = {
    name: 'spring',
    rule: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
    variants: [
      { key: 'A', template: 'spring-a', share: 0.45 },
      { key: 'B', template: 'spring-b', share: 0.45 },
    ],
  };

  it('refuses a bad campaign naming the field, writing nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [
        { ...campaign, variants: [{ key: 'A', template: 'spring-a', share: 0.5 }] },
        /add up to 1, they add up to 0\.6/,
      ],
      [{ ...campaign, variants: [{ key: 'A', template: 'nope', share: 0.9 }] }, /no template named 'nope'/],
      [{ ...campaign, rule: { field: 'colour', op: 'eq', value: 'red' } }, /colour/],
      [{ ...campaign, segment: 'vip' }, /either segment or rule/],
      [{ ...campaign, holdoutShare: 0 }, /holdout/],
    ];
    for (const [body, message] of cases) {
      const r = await t.call('POST', '/v1/campaigns', { role: 'marketer', body });
      expect([r.status, r.text]).toEqual([400, expect.stringMatching(message)]);
    }
    expect((await t.call('POST', '/v1/campaigns', { role: 'analyst', body: campaign })).status).toBe(403);
    expect((await t.call('GET', '/v1/campaigns', { role: 'analyst' })).json.data).toEqual([]);
  });

  it('each consented contact gets exactly one message of their variant; the holdout and the others none', async () => {
    const created = await t.call('POST', '/v1/campaigns', { role: 'marketer', body: campaign });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      status: 'draft',
      holdoutShare: 0.1,
      windowDays: 30,
      channel: 'email',
    });
    expect((await t.call('POST', '/v1/campaigns', { role: 'marketer', body: campaign })).status).toBe(409);
    const launch = await t.call('POST', '/v1/campaigns/spring/launch', { role: 'marketer' });
    expect(launch.status).toBe(200);
    const { arms, recipients, queued } = launch.json as {
      arms: Record<string, number>;
      recipients: number;
      queued: number;
    };
    expect(arms.holdout! + arms.A! + arms.B!).toBe(recipients);
    expect(queued).toBe(arms.A! + arms.B!);
    // The assignment is the stable hash's.
    const rows = await db.query<{ customer_id: number; arm: string }>(
      `SELECT customer_id, arm FROM campaign_recipients`,
    );
    const id = created.json.id as number;
    for (const r of rows) expect(r.arm).toBe(armOf(id, r.customer_id, 0.1, campaign.variants));
    // Roughly the shares (a 10 % holdout of ~450: within 4 standard deviations).
    const sd = Math.sqrt(recipients * 0.1 * 0.9);
    expect(Math.abs(arms.holdout! - recipients * 0.1)).toBeLessThan(4 * sd);

    await deliverDue({ ...t.deps, clock }, { channels, staleMs: 0 });
    const sent = new Map<string, string[]>();
    for (const m of sink.messages)
      for (const to of m.envelope.to) sent.set(to, [...(sent.get(to) ?? []), m.parsed.subject ?? '']);
    const contacts = await db.query<{ external_id: string; arm: string | null }>(
      `SELECT c.external_id, r.arm FROM customers c LEFT JOIN campaign_recipients r ON r.customer_id = c.customer_id`,
    );
    let messaged = 0;
    for (const c of contacts) {
      const i = Number(c.external_id.replace(/^ct-/, ''));
      const got = sent.get(emailOf(i)) ?? [];
      const group = groupOf(i);
      expect(got.length, c.external_id).toBeLessThanOrEqual(1);
      if (c.arm === null || c.arm === 'holdout')
        expect(got, `${c.external_id} (${group}, ${c.arm})`).toEqual([]);
      else if (group === 'granted') {
        expect(got, c.external_id).toEqual([`Spring ${c.arm}`]);
        messaged++;
      }
      // The unsubscribed, denied and erased are not in the audience at all.
      if (group === 'unsubscribed' || group === 'denied' || group === 'erased') expect(c.arm).toBeNull();
    }
    expect(messaged).toBeGreaterThan(300);

    // A relaunch (after a crash, or twice by hand) assigns and sends nothing more.
    const again = await t.call('POST', '/v1/campaigns/spring/launch', { role: 'marketer' });
    expect(again.json).toMatchObject({ recipients, queued: 0, alreadyQueued: queued });
    const before = sink.messages.length;
    await deliverDue({ ...t.deps, clock }, { channels, staleMs: 0 });
    expect(sink.messages.length).toBe(before);
    expect((await t.call('GET', '/v1/campaigns/spring', { role: 'analyst' })).json).toMatchObject({
      status: 'sending',
    });
  });
  it('reports revenue per arm and the incremental revenue of each variant over the holdout', async () => {
    const assigned = await db.query<{ external_id: string; arm: string }>(
      `SELECT c.external_id, r.arm FROM campaign_recipients r JOIN customers c ON c.customer_id = r.customer_id
       ORDER BY c.external_id`,
    );
    // After the launch, every third recipient buys: 20.00 in the holdout and A, 30.00 in B; before it,
    // every fifth bought 10.00 (the CUPED covariate).
    const revenue: Record<string, number[]> = { holdout: [], A: [], B: [] };
    const order = (id: string, customer: string, at: string, minor: number) =>
      t.call('POST', '/v1/orders', {
        role: 'admin',
        body: {
          order_id: id,
          customer_id: customer,
          ordered_at: at,
          currency: 'EUR',
          lines: [{ sku: 'X', quantity: 1, unit_price: (minor / 100).toFixed(2) }],
        },
      });
    for (const [i, r] of assigned.entries()) {
      const after = i % 3 === 0 ? (r.arm === 'B' ? 3000 : 2000) : 0;
      revenue[r.arm]!.push(after);
      if (after)
        expect((await order(`after-${i}`, r.external_id, '2026-03-15T10:00:00Z', after)).status).toBe(201);
      if (i % 5 === 0) await order(`before-${i}`, r.external_id, '2026-02-20T10:00:00Z', 1000);
    }
    // Planning: the audience now and what it can detect, from the last 30 days' revenue per member.
    clock.set(new Date('2026-04-10T00:00:00Z'));
    const plan = await t.call('GET', '/v1/campaigns/spring/plan', { role: 'analyst' });
    expect(plan.status).toBe(200);
    expect(plan.json.audience).toBe(assigned.length);
    expect(plan.json.minimumDetectableEffectMinor).toBeGreaterThan(0);
    expect(plan.json.summary).toMatch(/can detect a difference of [\d.,]+ EUR per recipient/);
    clock.set(new Date('2026-04-20T00:00:00Z'));
    const r = await t.call('GET', '/v1/campaigns/spring/report', { role: 'analyst' });
    expect(r.status).toBe(200);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    for (const arm of ['holdout', 'A', 'B'])
      expect(r.json.arms.find((a: { arm: string }) => a.arm === arm)).toMatchObject({
        recipients: revenue[arm]!.length,
        revenueMinor: revenue[arm]!.reduce((s, x) => s + x, 0),
      });
    const effect = (v: string) => r.json.effects.find((e: { variant: string }) => e.variant === v);
    expect(effect('B').incremental.difference.estimate).toBeCloseTo(
      mean(revenue.B!) - mean(revenue.holdout!),
      9,
    );
    expect(effect('A').incremental.difference.estimate).toBeCloseTo(
      mean(revenue.A!) - mean(revenue.holdout!),
      9,
    );
    expect(effect('B').verdict).toMatch(/^Variant B /);
    expect(effect('A').cuped.varianceReduction).toBeGreaterThanOrEqual(0);
    expect(r.json.window).toMatchObject({ days: 30, complete: true });
    expect(r.json.sampleRatio.mismatch).toBe(false);
    expect(r.json.minimumDetectableEffectMinor).toBeGreaterThan(0);
  });
});
