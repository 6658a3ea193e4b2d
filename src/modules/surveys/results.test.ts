import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import { mulberry32 } from '../../shared/random.js';
import type { Database } from '../../storage/port.js';
import { mergeCustomers, upsertCustomer } from '../customers/service.js';
import { linkSecretOf } from '../messaging/links.js';
import { upsertOrder } from '../orders/service.js';
import { saveSegment, snapshotSegment } from '../segments/service.js';
import { updateStore } from '../settings/service.js';
import { updateTask } from '../tasks/service.js';
import { createUser } from '../users/service.js';
import type { SurveyResults } from './schema.js';
import { answerScore } from './service.js';
import { scoreToken } from './tokens.js';

/**
 * Issue 27, results in context: a seeded store of 120 answering customers (what it models: email-acquired
 * customers mostly promoters, ad-acquired mostly detractors; two first-order months; two products; half
 * the low scores' call tasks done, and those customers buying again more often) — the score by segment,
 * channel, product and cohort; NPS next to CLV; resolved against unresolved low scores; answers in pages.
 */
describe.each(testEngines())('survey results on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-01-01T09:00:00Z');
  const N = 120;
  const ctx = () => ({ ...t.deps, clock });
  const order = (id: string, customer: string, at: string, sku: string, price: string) =>
    upsertOrder(ctx(), {
      body: {
        order_id: id,
        customer_id: customer,
        ordered_at: at,
        currency: 'USD',
        lines: [{ sku, quantity: 1, unit_price: price }],
      },
    });
  const rand = mulberry32(27);
  const scoreOf = (i: number) =>
    i % 2 === 0 ? (i % 10 === 0 ? 3 : 9 + (i % 4 === 0 ? 1 : 0)) : i % 5 === 0 ? 8 : Math.floor(rand() * 7);
  const lowResolved = (i: number) => i % 4 < 2;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    await updateStore(ctx(), { currency: 'USD', timeZone: 'Europe/Kyiv' });
    await db.exec(
      `INSERT INTO products (sku, title, category, updated_at) VALUES ('TEA', 'Green tea', 'tea', now()), ('MUG', 'Blue mug', 'ware', now())`,
    );
    for (let i = 0; i < N; i++) {
      await upsertCustomer(ctx(), {
        body: {
          customer_id: `c${i}`,
          email: `c${i}@example.com`,
          acquisition_channel: i % 2 === 0 ? 'email' : 'ads',
          email_consent: 'granted',
        },
      });
      await order(
        `o${i}`,
        `c${i}`,
        i < 60 ? '2026-01-10T10:00:00Z' : '2026-02-10T10:00:00Z',
        i % 3 === 0 ? 'TEA' : 'MUG',
        '20.00',
      );
    }
    await createUser(ctx(), { email: 'mia@shop.com', role: 'agent', password: 'correct horse battery' });
    expect(
      (
        await t.call('PUT', '/v1/messaging/policy', {
          role: 'admin',
          body: { publicUrl: 'https://shop.test', quietHours: null },
        })
      ).status,
    ).toBe(200);
    await saveSegment(ctx(), {
      by: 'test',
      body: { name: 'from-email', rule: { field: 'acquisition_channel', op: 'eq', value: 'email' } },
    });
    clock.set('2026-03-01T09:00:00Z');
    await snapshotSegment(ctx(), { name: 'from-email' });
    // The latest CLV run: promoters are predicted to be worth more.
    for (let i = 0; i < N; i++)
      await db.exec(
        `INSERT INTO clv_predictions (customer_id, model_version, as_of, horizon, time_unit, expected_purchases, p_alive,
           clv_minor, currency, created_at)
         SELECT customer_id, 'test', TIMESTAMP '2026-02-28 00:00:00', 12, 'month', 1, 0.5, $2, 'USD', TIMESTAMP '2026-02-28 00:00:00'
         FROM customers WHERE external_id = $1`,
        [`c${i}`, (scoreOf(i) >= 9 ? 20_000 : 5_000) + ((i * 37) % 1000)],
      );
  }, 120_000);
  afterAll(async () => dispose?.());

  it('cuts the score by segment, channel, product and cohort; puts it next to CLV; measures resolved low scores', async () => {
    const put = await t.call('PUT', '/v1/surveys', {
      role: 'marketer',
      body: {
        name: 'spring',
        kind: 'nps',
        throttleDays: 0,
        lowScore: { atMost: 6, assignees: ['mia@shop.com'], slaHours: 24 },
      },
    });
    expect(put.status).toBe(200);
    const inv = await t.call('POST', '/v1/surveys/spring/invitations', {
      role: 'marketer',
      body: { customers: Array.from({ length: N }, (_, i) => `c${i}`), occurrence: 'spring-2026' },
    });
    expect(inv.json).toMatchObject({ invited: N });
    const secret = await linkSecretOf(ctx());
    const invitations = await db.query<{ invitation_id: string; external_id: string }>(
      `SELECT i.invitation_id, c.external_id FROM survey_invitations i JOIN customers c ON c.customer_id = i.customer_id`,
    );
    clock.set('2026-03-02T08:00:00Z');
    const scores = new Map<string, number>();
    for (const row of invitations) {
      const i = Number(row.external_id.slice(1));
      clock.advance(60_000);
      scores.set(row.external_id, scoreOf(i));
      await answerScore(ctx(), { token: scoreToken(secret, row.invitation_id, scoreOf(i)), lang: 'en' });
    }
    // Half the low scores' tasks are done; those customers all buy again, a fifth of the others do.
    clock.set('2026-03-05T09:00:00Z');
    const tasks = await db.query<{ task_id: number; external_id: string }>(
      `SELECT t.task_id, c.external_id FROM tasks t JOIN customers c ON c.customer_id = t.customer_id`,
    );
    const low = [...scores].filter(([, s]) => s <= 6).map(([c]) => c);
    expect(tasks.length).toBe(low.length);
    let resolved = 0;
    for (const task of tasks) {
      const i = Number(task.external_id.slice(1));
      if (!lowResolved(i)) continue;
      resolved++;
      await updateTask(ctx(), {
        id: task.task_id,
        body: { status: 'done', outcome: 'called; sent a replacement' },
        by: 'mia@shop.com',
      });
    }
    for (let i = 0; i < N; i++) {
      const s = scoreOf(i);
      const again = s <= 6 ? lowResolved(i) || i % 5 === 1 : s >= 9 ? i % 10 < 6 : false;
      if (again) await order(`r${i}`, `c${i}`, '2026-03-20T10:00:00Z', 'TEA', '35.00');
    }
    // A purchase after the 90-day window does not count.
    await order('late', 'c1', '2026-06-10T10:00:00Z', 'TEA', '500.00');
    clock.set('2026-06-15T09:00:00Z');

    const res = await t.call('GET', '/v1/surveys/spring/results?window=90', { role: 'marketer' });
    expect(res.status).toBe(200);
    const r = res.json as SurveyResults;
    expect(r.answered).toBe(N);

    const channel = new Map(r.by.channel.groups.map((g) => [g.key, g]));
    expect(channel.get('email')!.answered).toBe(60);
    expect(channel.get('ads')!.answered).toBe(60);
    expect(channel.get('email')!.score).toBeGreaterThan(channel.get('ads')!.score + 50);
    expect(channel.get('email')!.few).toBe(false);
    const product = new Map(r.by.product.groups.map((g) => [g.key, g]));
    // The product of each answer: the customer's latest order before it (their only order then).
    expect(product.get('TEA')).toMatchObject({ label: 'Green tea', answered: 40 });
    expect(product.get('MUG')).toMatchObject({ label: 'Blue mug', answered: 80 });
    expect(r.by.cohort.groups.map((g) => [g.key, g.answered])).toEqual([
      ['2026-02', 60],
      ['2026-01', 60],
    ]);
    expect(r.by.segment.groups.map((g) => [g.key, g.answered])).toEqual([['from-email', 60]]);
    const nps = (list: number[]) =>
      Math.round(
        (10_000 * (list.filter((x) => x >= 9).length - list.filter((x) => x <= 6).length)) / list.length,
      ) / 100;
    expect(channel.get('email')!.score).toBe(
      nps([...scores].filter(([c]) => Number(c.slice(1)) % 2 === 0).map(([, s]) => s)),
    );

    // NPS next to CLV: promoters are worth more, predicted and bought.
    const bands = new Map(r.value!.bands.map((b) => [b.band, b]));
    expect(bands.get('promoter')!.meanClvMinor).toBeGreaterThan(20_000);
    expect(bands.get('detractor')!.meanClvMinor).toBeLessThan(6_000);
    expect(r.value!.clv).toMatchObject({ horizon: 12, timeUnit: 'month', currency: 'USD' });
    expect(r.value!.topVsBottom.clvMinor!.low).toBeGreaterThan(10_000);
    expect(bands.get('promoter')!.meanNetToDateMinor).toBeGreaterThan(2_000);
    expect(r.value!.verdict).toMatch(
      /^Promoters against detractors: predicted CLV: \+150\.\d\d USD \(95% CI/,
    );

    // The effect: every resolved low score bought again within 90 days (the late order is outside).
    const e = r.effect!;
    expect(e.lowScoreAtMost).toBe(6);
    expect(e.resolved).toMatchObject({
      lowScores: resolved,
      matured: resolved,
      repeatRate: 1,
      revenueAfterMinor: 3500,
    });
    const unresolvedIds = low.filter((c) => !lowResolved(Number(c.slice(1))));
    expect(e.unresolved.lowScores).toBe(unresolvedIds.length);
    const boughtAgain = unresolvedIds.filter((c) => Number(c.slice(1)) % 5 === 1).length;
    expect(e.unresolved.repeatRate).toBeCloseTo(boughtAgain / unresolvedIds.length, 4);
    expect(e.resolved.boughtBefore).toBe(1);
    expect(e.difference.repeatRate!.low).toBeGreaterThan(0);
    expect(e.verdict).toContain('association, not proof');

    console.log(
      `[survey results] ${engine}: NPS email ${channel.get('email')!.score} [${channel.get('email')!.interval95.join(', ')}], ads ${channel.get('ads')!.score} [${channel.get('ads')!.interval95.join(', ')}]; ` +
        `${r.value!.verdict} | effect: resolved ${e.resolved.repeatRate} (n=${e.resolved.matured}) vs unresolved ${e.unresolved.repeatRate} (n=${e.unresolved.matured}), ` +
        `difference ${JSON.stringify(e.difference)}`,
    );
    // A window the query refuses, naming it.
    const bad = await t.call('GET', '/v1/surveys/spring/results?window=3', { role: 'marketer' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('window');
  });

  it('pages the answers newest first, each once; one band; a bad cursor or band is refused', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const p = await t.call('GET', `/v1/surveys/spring/answers?limit=50${q}`, { role: 'marketer' });
      expect(p.status).toBe(200);
      const body = p.json as { data: { customer: string; answeredAt: string }[]; nextCursor: string | null };
      for (let k = 1; k < body.data.length; k++)
        expect(body.data[k - 1]!.answeredAt >= body.data[k]!.answeredAt).toBe(true);
      seen.push(...body.data.map((a) => a.customer));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.length).toBe(N);
    expect(new Set(seen).size).toBe(N);
    const det = await t.call('GET', '/v1/surveys/spring/answers?band=detractor&limit=500', {
      role: 'marketer',
    });
    const list = (det.json as { data: { score: number; band: string }[] }).data;
    expect(list.length).toBeGreaterThan(20);
    expect(list.every((a) => a.score <= 6 && a.band === 'detractor')).toBe(true);
    for (const [q, field] of [
      ['band=happy', 'band'],
      ['cursor=nonsense', 'cursor'],
      ['limit=0', 'limit'],
    ] as const) {
      const r = await t.call('GET', `/v1/surveys/spring/answers?${q}`, { role: 'marketer' });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.json)).toContain(field);
    }
  });

  it('invites by a merged id (the survivor), and with the order asked about', async () => {
    await upsertCustomer(ctx(), {
      body: { customer_id: 'dup', email: 'dup@example.com', email_consent: 'granted' },
    });
    await mergeCustomers(ctx(), { id: 'c3', body: { from: ['dup'] } });
    const put = await t.call('PUT', '/v1/surveys', {
      role: 'marketer',
      body: { name: 'orders', kind: 'csat', throttleDays: 0 },
    });
    expect(put.status).toBe(200);
    const byAlias = await t.call('POST', '/v1/surveys/orders/invitations', {
      role: 'marketer',
      body: { customers: ['dup'], occurrence: 'alias' },
    });
    expect(byAlias.json).toMatchObject({ invited: 1 });
    const [who] = await db.query<{ external_id: string }>(
      `SELECT c.external_id FROM survey_invitations i JOIN customers c ON c.customer_id = i.customer_id
       WHERE i.occurrence = 'alias'`,
    );
    expect(who!.external_id).toBe('c3');

    const withOrder = await t.call('POST', '/v1/surveys/orders/invitations', {
      role: 'marketer',
      body: { customers: ['c5'], occurrence: 'o5', order: 'o5' },
    });
    expect(withOrder.json).toMatchObject({ invited: 1 });
    const [row] = await db.query<{ mine: boolean }>(
      `SELECT i.order_id = o.order_id AS mine FROM survey_invitations i JOIN orders o ON o.external_id = 'o5'
       WHERE i.occurrence = 'o5'`,
    );
    expect(row!.mine).toBe(true);
    for (const [body, field] of [
      [{ customers: ['c5'], occurrence: 'x', order: 'o6' }, 'order'],
      [{ customers: ['c5'], occurrence: 'x', order: 'nope' }, 'order'],
      [{ customers: ['c5', 'c6'], occurrence: 'x', order: 'o5' }, 'order'],
    ] as const) {
      const r = await t.call('POST', '/v1/surveys/orders/invitations', { role: 'marketer', body });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.json)).toContain(field);
    }
    const [n] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM survey_invitations WHERE occurrence = 'x'`,
    );
    expect(n!.n).toBe(0);
  });
});
