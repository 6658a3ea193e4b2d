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

const N = 150;
const body = (text: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}. ${text}</mj-text>` +
  `<mj-button href="https://shop.test/spring?utm_campaign=spring&amp;x=1">Shop</mj-button>` +
  `<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;
const template = (subject: string, text: string) => ({
  channel: 'email',
  kind: 'marketing',
  variants: [{ locale: 'en', subject, body: body(text) }],
});

/**
 * Issue 25: a campaign's whole life — offers with unique codes (generated, and a store's list imported),
 * a send at 10:00 in each customer's own time zone, pause and resume, tracked opens, clicks and
 * unsubscribes, orders attributed by code and by click, the stop rule, and cancel.
 */
describe.each(testEngines())('a campaign from draft to report on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let channels: Record<ChannelKind, Channel | undefined>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const deliver = () => deliverDue({ ...t.deps, clock }, { channels, staleMs: 0 });
  const zoneOf = (i: number) => (i % 3 === 0 ? 'Europe/Kyiv' : i % 3 === 1 ? 'Europe/Lisbon' : null);
  // 10:00 on 12 March: Kyiv UTC+2, Lisbon UTC+0, the store (New York) UTC−4 (DST began 8 March).
  const dueAt: Record<string, string> = {
    'Europe/Kyiv': '2026-03-12T08:00:00.000Z',
    'Europe/Lisbon': '2026-03-12T10:00:00.000Z',
    store: '2026-03-12T14:00:00.000Z',
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    await seedContacts(db, { n: N, now: clock.now() });
    for (let i = 1; i <= N; i++)
      await db.exec(`UPDATE customers SET time_zone = $1 WHERE external_id = $2`, [
        zoneOf(i),
        `ct-${String(i).padStart(4, '0')}`,
      ]);
    channels = openChannels(
      parseChannelConfig(
        { email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 } },
        'test',
      ),
    );
    expect(
      (
        await t.call('PATCH', '/v1/store', {
          role: 'admin',
          body: { currency: 'EUR', timeZone: 'America/New_York' },
        })
      ).status,
    ).toBe(200);
    await t.call('PUT', '/v1/messaging/policy', {
      role: 'admin',
      body: { publicUrl: 'https://shop.test/r', frequencyCap: null, quietHours: null },
    });
    for (const [name, subject, text] of [
      [
        'offer-a',
        'Spring A',
        'Your code {{ discount_code }}: {{ offer.value_text }} off until {{ offer.expires_on }}.',
      ],
      ['offer-b', 'Spring B', 'Use {{ offer.code }} for {{ offer.value_text }} off.'],
      ['plain', 'Plain', 'News.'],
    ] as const)
      expect(
        (await t.call('PUT', `/v1/templates/${name}`, { role: 'marketer', body: template(subject, text) }))
          .status,
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
    holdoutShare: 0.2,
    clickWindowDays: 3,
    schedule: { localTime: '2026-03-12T10:00' },
    stop: { kind: 'sequential', minRecipients: 10 },
    variants: [
      {
        key: 'A',
        template: 'offer-a',
        share: 0.4,
        offer: { kind: 'percent', value: 15, prefix: 'SPRING-', validDays: 7 },
      },
      {
        key: 'B',
        template: 'offer-b',
        share: 0.4,
        offer: { kind: 'amount', value: 500, codes: 'list', expiresAt: '2026-04-01T00:00:00Z' },
      },
    ],
  };

  it('refuses bad offers and schedules naming the field', async () => {
    const v = campaign.variants;
    const cases: [unknown, number, RegExp][] = [
      [
        { ...campaign, variants: [{ ...v[0], offer: { kind: 'percent', value: 120, validDays: 7 } }, v[1]] },
        400,
        /at most 100/,
      ],
      [
        { ...campaign, variants: [{ ...v[0], offer: { kind: 'percent', value: 10 } }, v[1]] },
        400,
        /expiresAt or validDays/,
      ],
      [{ ...campaign, variants: [{ ...v[0], template: 'plain' }, v[1]] }, 400, /never shows the code/],
      [{ ...campaign, schedule: { at: '2026-03-01T00:00:00Z' } }, 400, /has passed/],
      [{ ...campaign, schedule: { localTime: '2026-03-12 10:00' } }, 400, /YYYY-MM-DDTHH:MM/],
      [{ ...campaign, stop: { kind: 'sequential' } }, 400, /minRecipients/],
    ];
    for (const [b, status, message] of cases) {
      const r = await t.call('POST', '/v1/campaigns', { role: 'marketer', body: b });
      expect([r.status, r.text]).toEqual([status, expect.stringMatching(message)]);
    }
    expect((await t.call('GET', '/v1/campaigns', { role: 'analyst' })).json.data).toEqual([]);
  });

  it('imports a code list (refusing repeats and taken codes), schedules at 10:00 local, pauses and resumes', async () => {
    expect((await t.call('POST', '/v1/campaigns', { role: 'marketer', body: campaign })).status).toBe(201);
    // No codes for B yet: the launch is refused with what to do.
    const early = await t.call('POST', '/v1/campaigns/spring/launch', { role: 'marketer' });
    expect([early.status, early.text]).toEqual([
      409,
      expect.stringMatching(/variant B .*retain campaigns codes spring --variant B/),
    ]);
    const bad = await t.call('POST', '/v1/campaigns/spring/codes', {
      role: 'marketer',
      body: { variant: 'B', codes: ['GIFT-1', 'gift-2', 'GIFT-1'] },
    });
    expect([bad.status, bad.json.error.details]).toEqual([400, { field: 'codes[2]' }]);
    expect(bad.json.error.message).toMatch(/GIFT-1 repeats codes\[0\]/);
    const wrong = await t.call('POST', '/v1/campaigns/spring/codes', {
      role: 'marketer',
      body: { variant: 'A', codes: ['X'] },
    });
    expect([wrong.status, wrong.text]).toEqual([
      400,
      expect.stringMatching(/does not take codes from a list/),
    ]);
    const list = Array.from({ length: 200 }, (_, i) => `gift-${i}`);
    const ok = await t.call('POST', '/v1/campaigns/spring/codes', {
      role: 'marketer',
      body: { variant: 'B', codes: list },
    });
    expect(ok.json).toEqual({ variant: 'B', imported: 200, available: 200 });
    const again = await t.call('POST', '/v1/campaigns/spring/codes', {
      role: 'marketer',
      body: { variant: 'B', codes: ['NEW', 'GIFT-7'] },
    });
    expect([again.status, again.json.error.details]).toEqual([409, { field: 'codes[1]' }]);

    const launch = await t.call('POST', '/v1/campaigns/spring/launch', { role: 'marketer' });
    expect(launch.status).toBe(200);
    // Scheduled at the earliest 10:00 of the audience's zones (Kyiv); nothing assigned yet.
    expect(launch.json).toMatchObject({
      recipients: 0,
      campaign: { status: 'scheduled', sendAt: dueAt['Europe/Kyiv'] },
    });
    expect((await t.call('POST', '/v1/campaigns/spring/pause', { role: 'marketer' })).json.status).toBe(
      'paused',
    );
    clock.set(new Date('2026-03-12T08:00:00Z'));
    const { sweepCampaigns } = await import('./service.js');
    expect(await sweepCampaigns({ ...t.deps, clock })).toEqual({ started: [], paused: [], done: [] });
    expect(await db.query(`SELECT 1 FROM campaign_recipients`)).toEqual([]);
    // Resumed after its time: assigned at once; each message due at 10:00 in its recipient's zone.
    const resumed = await t.call('POST', '/v1/campaigns/spring/resume', { role: 'marketer' });
    expect(resumed.json).toMatchObject({ status: 'sending', launchedAt: '2026-03-12T08:00:00.000Z' });
    const sends = await db.query<{ external_id: string; not_before: Date; variables: string; step: string }>(
      `SELECT c.external_id, s.not_before, s.variables, s.step FROM message_sends s JOIN customers c ON c.customer_id = s.customer_id
       WHERE s.source = 'campaign:spring'`,
    );
    expect(sends.length).toBeGreaterThan(40);
    const codes = new Set<string>();
    for (const s of sends) {
      const i = Number(s.external_id.slice(3));
      expect(s.not_before.toISOString(), s.external_id).toBe(dueAt[zoneOf(i) ?? 'store']);
      const v = JSON.parse(s.variables) as {
        discount_code: string;
        offer: { code: string; expires_on: string };
      };
      expect(v.offer.code).toBe(v.discount_code);
      codes.add(v.discount_code);
      if (s.step === 'variant-A') {
        expect(v.discount_code).toMatch(/^SPRING-[A-Z2-9]{5}-[A-Z2-9]{5}$/);
        // 7 days after 10:00 local on the 12th: the 19th in the customer's zone.
        expect(v.offer.expires_on).toBe('2026-03-19');
      } else expect(v.discount_code).toMatch(/^GIFT-\d+$/);
    }
    expect(codes.size).toBe(sends.length);
    const given = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM campaign_codes WHERE assigned_at IS NOT NULL`,
    );
    expect(Number(given[0]!.n)).toBe(sends.length);

    // 08:00Z: Kyiv's messages go; then paused, Lisbon's 10:00 passes with nothing sent; resumed, they go.
    await deliver();
    const kyiv = sink.messages.length;
    expect(kyiv).toBeGreaterThan(0);
    for (const m of sink.messages) {
      const i = Number(m.envelope.to[0]!.match(/contact(\d+)@/)![1]);
      expect(zoneOf(i)).toBe('Europe/Kyiv');
    }
    expect((await t.call('POST', '/v1/campaigns/spring/pause', { role: 'marketer' })).json.status).toBe(
      'paused',
    );
    clock.set(new Date('2026-03-12T10:30:00Z'));
    await deliver();
    expect(sink.messages.length).toBe(kyiv);
    expect((await t.call('POST', '/v1/campaigns/spring/resume', { role: 'marketer' })).json.status).toBe(
      'sending',
    );
    await deliver();
    const lisbon = sink.messages.length - kyiv;
    expect(lisbon).toBeGreaterThan(0);
    clock.set(new Date('2026-03-12T14:00:00Z'));
    await deliver();
    // Everyone consented in a variant got exactly one message, with their own code in it.
    const byAddress = new Map<string, number>();
    for (const m of sink.messages)
      for (const to of m.envelope.to) byAddress.set(to, (byAddress.get(to) ?? 0) + 1);
    expect([...byAddress.values()].every((n) => n === 1)).toBe(true);
    // Reachable: consented and not suppressed (no frequency cap or quiet hours in this store).
    const reachable = sends.filter((s) => groupOf(Number(s.external_id.slice(3))) !== 'suppressed').length;
    expect(sink.messages.length).toBe(reachable);
    for (const m of sink.messages) {
      const s = sends.find((x) => emailOf(Number(x.external_id.slice(3))) === m.envelope.to[0])!;
      const code = (JSON.parse(s.variables) as { discount_code: string }).discount_code;
      expect(m.parsed.text).toContain(code);
    }
    expect((await sweepCampaigns({ ...t.deps, clock })).done).toEqual(['spring']);
    expect((await t.call('GET', '/v1/campaigns/spring', { role: 'analyst' })).json).toMatchObject({
      status: 'done',
      pending: 0,
    });
  });

  it('tracks opens, clicks and unsubscribes; attributes orders by code and by click; applies the stop rule', async () => {
    const html = (i: number) =>
      sink.messages.find((m) => m.envelope.to[0] === emailOf(i))?.parsed.html as string | undefined;
    const messaged = [...Array(N).keys()].map((i) => i + 1).filter((i) => html(i));
    const [opener, clicker, leaver, buyer] = messaged as [number, number, number, number];
    const pixel = (i: number) => /<img src="https:\/\/shop\.test\/r(\/o\/[^"]+)"/.exec(html(i)!)![1]!;
    const link = (i: number) => /href="https:\/\/shop\.test\/r(\/l\/[^"]+)"/.exec(html(i)!)![1]!;
    // The unsubscribe link is not redirected.
    expect(html(opener!)).toMatch(/href="https:\/\/shop\.test\/r\/u\//);
    const gif = await t.call('GET', pixel(opener!));
    expect([gif.status, gif.headers.get('content-type')]).toEqual([200, 'image/gif']);
    await t.call('GET', pixel(opener!));
    const click = await t.call('GET', link(clicker!));
    expect([click.status, click.headers.get('location')]).toEqual([
      302,
      'https://shop.test/spring?utm_campaign=spring&x=1',
    ]);
    // An altered link records nothing and redirects nowhere.
    const tampered = link(clicker!).replace(/\.([A-Za-z0-9_-]{32})$/, '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await t.call('GET', tampered)).status).toBe(404);
    const unsubscribe = /href="https:\/\/shop\.test\/r(\/u\/[^"]+)"/.exec(html(leaver!)!)![1]!;
    expect((await t.call('POST', unsubscribe)).status).toBe(200);
    // Orders: the buyer uses their code (in lower case); the clicker buys without one within 3 days of the
    // click, and again after; someone outside the campaign uses the clicker's… no: a friend uses the opener's code.
    const codeOf = async (i: number) =>
      (
        await db.query<{ code: string }>(
          `SELECT k.code FROM campaign_codes k JOIN customers c ON c.customer_id = k.customer_id WHERE c.external_id = $1`,
          [`ct-${String(i).padStart(4, '0')}`],
        )
      )[0]!.code;
    const order = async (id: string, who: number | string, at: string, total: string, code?: string) =>
      expect(
        (
          await t.call('POST', '/v1/orders', {
            role: 'admin',
            body: {
              order_id: id,
              customer_id: typeof who === 'number' ? `ct-${String(who).padStart(4, '0')}` : who,
              ordered_at: at,
              currency: 'EUR',
              ...(code ? { discount_codes: code.toLowerCase() } : {}),
              lines: [{ sku: 'X', quantity: 1, unit_price: total }],
            },
          })
        ).status,
      ).toBe(201);
    await order('o-buyer', buyer!, '2026-03-13T09:00:00Z', '40.00', await codeOf(buyer!));
    await order('o-click-1', clicker!, '2026-03-13T09:00:00Z', '25.00');
    await order('o-click-late', clicker!, '2026-03-20T09:00:00Z', '30.00');
    await order('o-friend', 'friend-1', '2026-03-14T09:00:00Z', '12.00', await codeOf(opener!));
    const armOf = async (i: number) =>
      (
        await db.query<{ arm: string }>(
          `SELECT r.arm FROM campaign_recipients r JOIN customers c ON c.customer_id = r.customer_id WHERE c.external_id = $1`,
          [`ct-${String(i).padStart(4, '0')}`],
        )
      )[0]!.arm;
    clock.set(new Date('2026-03-25T00:00:00Z'));
    const r = await t.call('GET', '/v1/campaigns/spring/report', { role: 'analyst' });
    expect(r.status).toBe(200);
    type Arm = {
      arm: string;
      engagement: { sent: number; opened: number; clicked: number; unsubscribed: number };
      attributed: {
        byCode: { orders: number; revenueMinor: number };
        byClick: { orders: number; revenueMinor: number; clickers: number };
      };
      codes: number;
    };
    const arm = (k: string) => (r.json.arms as Arm[]).find((a) => a.arm === k)!;
    const total = (f: (a: Arm) => number) => ['A', 'B'].reduce((s, k) => s + f(arm(k)), 0);
    expect(total((a) => a.engagement.sent)).toBe(sink.messages.length);
    expect(total((a) => a.engagement.opened)).toBe(2); // the pixel, and the click (images off)
    expect(total((a) => a.engagement.clicked)).toBe(1);
    expect(total((a) => a.engagement.unsubscribed)).toBe(1);
    expect(arm('holdout').engagement.sent).toBe(0);
    expect(arm(await armOf(clicker!)).engagement.clicked).toBe(1);
    // By code: the buyer's and the friend's orders (the code was the opener's), each once.
    expect(total((a) => a.attributed.byCode.orders)).toBe(2);
    expect(total((a) => a.attributed.byCode.revenueMinor)).toBe(5200);
    // By click: only the order within 3 days of the click.
    expect(arm(await armOf(clicker!)).attributed.byClick).toEqual({
      orders: 1,
      revenueMinor: 2500,
      clickers: 1,
    });
    expect(total((a) => a.codes)).toBe(
      (await db.query(`SELECT 1 FROM campaign_codes WHERE assigned_at IS NOT NULL`)).length,
    );
    // The sequential stop rule: an always-valid interval (wider than the fixed one) and its decision.
    for (const e of r.json.effects as {
      stop: { rule: string; decision: string; alwaysValid: { low: number; high: number } | null };
      incremental: { difference: { low: number; high: number } };
    }[]) {
      expect(e.stop.rule).toBe('sequential');
      if (e.stop.alwaysValid) {
        expect(e.stop.alwaysValid.low).toBeLessThanOrEqual(e.incremental.difference.low);
        expect(e.stop.alwaysValid.high).toBeGreaterThanOrEqual(e.incremental.difference.high);
      }
    }
    // The codes export for the shop: every code with its recipient, value and expiry.
    const exported = await t.call('GET', '/v1/campaigns/spring/codes', { role: 'marketer' });
    expect(exported.json.data.find((c: { code: string }) => c.code === 'GIFT-0')).toMatchObject({
      variant: 'B',
      kind: 'amount',
      value: 500,
      expiresAt: '2026-04-01T00:00:00.000Z',
    });
    expect((await t.call('GET', '/v1/campaigns/spring/codes', { role: 'agent' })).status).toBe(403);
  });

  it('cancel ends the queued messages; a cancelled or done campaign cannot be paused or resumed', async () => {
    const b = {
      name: 'later',
      rule: campaign.rule,
      schedule: { at: '2026-04-01T09:00:00Z' },
      variants: [{ key: 'A', template: 'plain', share: 0.9 }],
    };
    clock.set(new Date('2026-03-31T00:00:00Z'));
    expect((await t.call('POST', '/v1/campaigns', { role: 'marketer', body: b })).status).toBe(201);
    expect(
      (await t.call('POST', '/v1/campaigns/later/launch', { role: 'marketer' })).json.campaign.status,
    ).toBe('scheduled');
    clock.set(new Date('2026-04-01T09:00:30Z'));
    const { sweepCampaigns } = await import('./service.js');
    expect((await sweepCampaigns({ ...t.deps, clock })).started).toEqual(['later']);
    const cancelled = await t.call('POST', '/v1/campaigns/later/cancel', { role: 'marketer' });
    expect(cancelled.json).toMatchObject({ status: 'cancelled', pending: 0 });
    const before = sink.messages.length;
    await deliver();
    expect(sink.messages.length).toBe(before);
    const skipped = await db.query<{ reason: string }>(
      `SELECT DISTINCT reason FROM message_sends WHERE source = 'campaign:later'`,
    );
    expect(skipped).toEqual([{ reason: 'campaign cancelled' }]);
    for (const action of ['pause', 'resume'])
      expect((await t.call('POST', `/v1/campaigns/later/${action}`, { role: 'marketer' })).status).toBe(409);
    expect((await t.call('POST', '/v1/campaigns/spring/cancel', { role: 'marketer' })).status).toBe(409);
    expect((await t.call('POST', '/v1/campaigns/spring/pause', { role: 'agent' })).status).toBe(403);
  });
});
