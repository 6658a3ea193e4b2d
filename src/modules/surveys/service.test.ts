import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { openChannels, parseChannelConfig } from '../messaging/channels/config.js';
import { deliverDue } from '../messaging/service.js';
import { createUser } from '../users/service.js';

/**
 * Issue 27: a survey invitation through the send path to a local SMTP server; its score links answer
 * on one click, the page asks "why" in the contact's language; one answer per invitation; tampered or
 * reused links are 403 with nothing stored; throttled customers are not invited; a low score makes a
 * call task (round robin, due by the SLA), and when it is done the customer is asked again.
 */
describe.each(testEngines())('surveys on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-04-01T09:00:00Z');
  const SURVEY = {
    name: 'after-delivery',
    kind: 'nps',
    throttleDays: 30,
    lowScore: { atMost: 6, assignees: ['mia@shop.com', 'joe@shop.com'], slaHours: 24 },
  };

  const counts = async () => {
    const [r] = await db.query<{ inv: number; ans: number; tasks: number }>(
      `SELECT (SELECT CAST(COUNT(*) AS INTEGER) FROM survey_invitations) AS inv,
              (SELECT CAST(COUNT(*) AS INTEGER) FROM survey_answers) AS ans,
              (SELECT CAST(COUNT(*) AS INTEGER) FROM tasks) AS tasks`,
    );
    return r!;
  };
  const deliver = async () => {
    const channels = openChannels(
      parseChannelConfig({ email: { host: '127.0.0.1', port: sink.port, from: 'Shop <s@shop.test>' } }, 't'),
    );
    try {
      return await deliverDue({ ...t.deps, clock }, { channels, staleMs: 0 });
    } finally {
      await channels.email?.close();
    }
  };
  /** The score links of the last message to `email`, by score. */
  const linksOf = async (email: string) => {
    const m = [...sink.messages].reverse().find((x) => x.envelope.to.includes(email));
    if (!m) throw new Error(`no message to ${email}`);
    const out = new Map<number, string>();
    const html = typeof m.parsed.html === 'string' ? m.parsed.html : '';
    // The links go through click tracking (`/l/…`, a signed redirect to the survey link).
    for (const [, tracked, score] of html.matchAll(/href="https:\/\/shop\.test(\/l\/[^"]+)"[^>]*>(\d+)</g)) {
      const res = await t.app.request(tracked!);
      expect(res.status).toBe(302);
      out.set(Number(score), new URL(res.headers.get('location')!).pathname);
    }
    return out;
  };
  const page = async (method: string, path: string, body?: string) => {
    const res = await t.app.request(path, {
      method,
      ...(body !== undefined
        ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
        : {}),
    });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    t = await testApp(db, { clock });
    const ctx = { ...t.deps, clock };
    for (const [id, locale] of [
      ['ann', 'uk'],
      ['bob', 'en'],
      ['cat', 'ru'],
      ['dan', 'en'],
    ] as const)
      await upsertCustomer(ctx, {
        body: {
          customer_id: id,
          email: `${id}@example.com`,
          first_name: id,
          locale,
          email_consent: 'granted',
        },
      });
    for (const u of ['mia@shop.com', 'joe@shop.com'])
      await createUser(ctx, { email: u, role: 'agent', password: 'correct horse battery' });
    const policy = await t.call('PUT', '/v1/messaging/policy', {
      role: 'admin',
      body: { publicUrl: 'https://shop.test', quietHours: null },
    });
    expect(policy.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await sink?.close();
    await dispose?.();
  });

  it('refuses bad definitions naming the field', async () => {
    const r = await t.call('PUT', '/v1/surveys', {
      role: 'marketer',
      body: { ...SURVEY, kind: 'csat', lowScore: { atMost: 7, assignees: ['mia@shop.com'] } },
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toContain('lowScore.atMost');
    const nobody = await t.call('PUT', '/v1/surveys', {
      role: 'marketer',
      body: { ...SURVEY, lowScore: { atMost: 6, assignees: ['ghost@shop.com'] } },
    });
    expect(nobody.status).toBe(400);
    expect(JSON.stringify(nobody.json)).toContain('lowScore.assignees[0]');
    expect((await t.call('PUT', '/v1/surveys', { role: 'agent', body: SURVEY })).status).toBe(403);
  });

  it('a score is one click; "why" in the contact’s language; one answer; reuse and tampering store nothing', async () => {
    expect((await t.call('PUT', '/v1/surveys', { role: 'marketer', body: SURVEY })).status).toBe(200);
    const inv = await t.call('POST', '/v1/surveys/after-delivery/invitations', {
      role: 'marketer',
      body: { customers: ['ann', 'bob', 'cat'], occurrence: 'order-1' },
    });
    expect(inv.json).toMatchObject({ invited: 3, alreadyInvited: 0, throttled: 0 });
    // The same occurrence again: nobody twice.
    const again = await t.call('POST', '/v1/surveys/after-delivery/invitations', {
      role: 'marketer',
      body: { customers: ['ann', 'bob'], occurrence: 'order-1' },
    });
    expect(again.json).toMatchObject({ invited: 0, alreadyInvited: 2 });
    expect((await deliver()).sent).toBe(3);

    const ann = await linksOf('ann@example.com');
    expect([...ann.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Ann clicks 3: stored; the page asks why in Ukrainian.
    const three = await page('GET', ann.get(3)!);
    expect(three.status).toBe(200);
    expect(three.text).toContain('Яка головна причина вашої оцінки?');
    expect(await counts()).toMatchObject({ inv: 3, ans: 1, tasks: 1 });
    // A second click changes the score of the one answer (and makes no second task).
    expect((await page('GET', ann.get(2)!)).status).toBe(200);
    expect(await counts()).toMatchObject({ ans: 1, tasks: 1 });
    const action = /action="https:\/\/shop\.test(\/s\/[^"]+)"/.exec(three.text)![1]!;
    const form = `why=${encodeURIComponent('Доставка запізнилася на тиждень')}`;
    const thanks = await page('POST', action, form);
    expect(thanks.status).toBe(200);
    expect(thanks.text).toContain('Дякуємо!');
    // A double submission: the same answer, nothing more.
    expect((await page('POST', action, form)).status).toBe(200);
    expect(await counts()).toMatchObject({ ans: 1, tasks: 1 });
    const [row] = await db.query<{ score: number; why: string }>(`SELECT score, why FROM survey_answers`);
    expect(row).toEqual({ score: 2, why: 'Доставка запізнилася на тиждень' });
    // Reused after it was answered: 403, nothing stored.
    const before = await counts();
    const reused = await page('GET', ann.get(9)!);
    expect(reused.status).toBe(403);
    expect((await page('POST', action, 'why=changed')).status).toBe(403);
    // Tampered: 403.
    const bob = await linksOf('bob@example.com');
    const forged = bob.get(10)!.replace(/\.10\./, '.0.');
    expect((await page('GET', forged)).status).toBe(403);
    expect(
      (await page('GET', `${bob.get(10)!.slice(0, -1)}${bob.get(10)!.endsWith('A') ? 'B' : 'A'}`)).status,
    ).toBe(403);
    expect(await counts()).toEqual(before);
    const [answer] = await db.query<{ score: number }>(
      `SELECT a.score FROM survey_answers a JOIN customers c ON c.customer_id = a.customer_id WHERE c.external_id = 'ann'`,
    );
    expect(answer!.score).toBe(2);

    // The low score made a call task: the first assignee, due in 24 hours.
    const tasks = await t.call('GET', '/v1/tasks', { role: 'agent' });
    expect(tasks.json.data).toHaveLength(1);
    expect(tasks.json.data[0]).toMatchObject({
      assignee: 'mia@shop.com',
      dueAt: '2026-04-02T09:00:00.000Z',
      source: 'survey:after-delivery',
    });
    // The reason given after the score is on the task for its agent.
    const task = await t.call('GET', `/v1/tasks/${tasks.json.data[0].id}`, { role: 'agent' });
    expect(task.json.body).toContain('Reason given: Доставка запізнилася на тиждень');
    // Bob (English) gives 10 with a happy reason: no task. Cat (Russian) 8 but unhappy words: a task to joe.
    expect((await page('GET', bob.get(10)!)).text).toContain('What is the main reason for your score?');
    const cat = await linksOf('cat@example.com');
    const catPage = await page('GET', cat.get(8)!);
    expect(catPage.text).toContain('Какова главная причина вашей оценки?');
    const catAction = /action="https:\/\/shop\.test(\/s\/[^"]+)"/.exec(catPage.text)![1]!;
    await page('POST', catAction, `why=${encodeURIComponent('Товар пришёл сломанным')}`);
    const all = await t.call('GET', '/v1/tasks', { role: 'agent' });
    expect(all.json.data.map((x: { assignee: string }) => x.assignee).sort()).toEqual([
      'joe@shop.com',
      'mia@shop.com',
    ]);

    const results = await t.call('GET', '/v1/surveys/after-delivery/results', { role: 'analyst' });
    // Scores 2, 10, 8: one promoter, one detractor of three: NPS 0.
    expect(results.json).toMatchObject({
      invited: 3,
      answered: 3,
      nps: 0,
      promoters: 1,
      detractors: 1,
      tasks: 2,
    });
    // The answer on the customer's 360 timeline.
    const tl = await t.call('GET', '/v1/customers/ann/timeline?kinds=survey.answered,survey.invited', {
      role: 'agent',
    });
    expect(tl.status).toBe(200);
    // (Both at the test clock's one instant: their order is free.)
    expect(tl.json.data.map((e: { kind: string }) => e.kind).sort()).toEqual([
      'survey.answered',
      'survey.invited',
    ]);
    expect(tl.json.data.map((e: { title: string }) => e.title).join(' | ')).toContain(
      'scored 2 — Доставка запізнилася на тиждень',
    );
    // The reasons' themes per band, stemmed in each answer's language.
    expect(results.json.themes.map((b: { band: string }) => b.band)).toEqual([
      'detractor',
      'passive',
      'promoter',
    ]);
    expect(results.json.themes[0].terms.map((x: { label: string }) => x.label)).toContain('доставка');
  });

  it('throttled customers are not invited; an agent completing the task gets the customer asked again', async () => {
    clock.advance(10 * 86_400_000);
    const r = await t.call('POST', '/v1/surveys/after-delivery/invitations', {
      role: 'marketer',
      body: { customers: ['ann', 'dan'], occurrence: 'order-2' },
    });
    // Ann was invited 10 days ago (throttle 30 days); Dan never.
    expect(r.json).toMatchObject({ invited: 1, throttled: 1 });
    const [open] = (await t.call('GET', '/v1/tasks?assignee=mia@shop.com', { role: 'agent' })).json.data;
    const done = await t.call('PATCH', `/v1/tasks/${open.id}`, {
      role: 'agent',
      body: { status: 'done', outcome: 'called; sent a replacement and a code' },
    });
    expect(done.status).toBe(200);
    const { sendFollowUps } = await import('./service.js');
    expect(await sendFollowUps({ ...t.deps, clock })).toEqual({ invited: 1 });
    expect(await sendFollowUps({ ...t.deps, clock })).toEqual({ invited: 0 });
    const sent = await deliver();
    expect(sent.sent).toBe(2);
    const follow = await linksOf('ann@example.com');
    expect((await page('GET', follow.get(9)!)).status).toBe(200);
    const [n] = await db.query<{ n: number }>(
      `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM survey_invitations i JOIN customers c ON c.customer_id = i.customer_id
       WHERE c.external_id = 'ann'`,
    );
    expect(n!.n).toBe(2);
  });
});
