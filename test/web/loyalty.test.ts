import { it } from 'vitest';
import { ManualClock } from '../../src/kit/clock.js';
import { DAY_MS } from '../../src/shared/time.js';
import { browserSuite, en, expect } from '../support/browser.js';

/**
 * The Loyalty pages in Chromium: before a programme, the explanation and the editor (a 400 shown as the
 * API words it, then version 1 saved); with orders placed through POST /v1/orders and earned through
 * the event dispatcher, the figures, liability, flows, members vs non-members and the members table
 * equal GET /v1/loyalty/report and /members; a member's panel equals GET /v1/loyalty/members/{id} and
 * its ledger, a redemption through the form (double-clicked, and submitted twice in one go) spends once,
 * reverse and adjust change the balance as the API says, the card link is the API's; the programme
 * editor shows the current version and the API's 400. axe-clean; screenshots loyalty.png,
 * loyalty-member.png, loyalty-program.png.
 */

interface Report {
  generatedAt: string;
  timeZone: string;
  from: string;
  to: string;
  currency: string;
  minorDigits: number;
  programVersion: number;
  pointValue: { points: number; minor: number };
  liability: {
    asOf: string;
    debtPoints: number;
    outstandingPoints: number;
    outstandingValueMinor: number;
    pendingPoints: number;
    pendingValueMinor: number;
    totalPoints: number;
    totalValueMinor: number;
    byExpiryMonth: {
      month: string;
      availablePoints: number;
      pendingPoints: number;
      points: number;
      valueMinor: number;
    }[];
  };
  flows: {
    months: (Record<string, number> & { month: string })[];
    totals: Record<string, number>;
    burnRate: number | null;
    expiryRate: number | null;
  };
  redemption: { members: number; membersRedeemed: number; shareOfMembers: number | null };
  members: { total: number; enrolledInPeriod: number; byTier: { tier: string | null; members: number }[] };
  membersVsNonMembers: {
    windowDays: number;
    verdict: string;
    method: string;
    notes: string[];
    counts: Record<string, number>;
    raw: Record<string, Outcome>;
    matched: Record<string, Outcome>;
  };
}
interface Outcome {
  members: number | null;
  controls: number | null;
  difference: number | null;
  ci95?: { low: number; high: number } | null;
}
interface MemberRow {
  customer: string;
  cardNumber: string;
  tier: string | null;
  available: number;
  pending: number;
  debt: number;
}
interface Member extends MemberRow {
  valueMinor: number;
  currency: string;
  tierSince: string | null;
  downgradeAt: string | null;
  expiringSoon: { points: number; expiresAt: string }[];
  tierBasisValue: number;
  nextTier: { name: string; threshold: number; missing: number } | null;
}
interface Redemption {
  id: number;
  points: number;
  status: string;
  code: string | null;
}
interface Entry {
  id: number;
  type: string;
  points: number;
  pendingDelta: number;
  availableDelta: number;
}

/** The programme the tests run: €1 earns 1 point, 100 points = €1, a 14-day return window. */
const PROGRAM = {
  name: 'Test Rewards',
  earn: { rate: { type: 'per-unit', points: 1, perMinor: 100 } },
  pointValue: { points: 100, minor: 100 },
  pendingDays: 14,
  expiryDays: 365,
  welcomeBonus: { points: 50, expiryDays: 30 },
  redemption: { minPoints: 100, maxPoints: 5000 },
  tiers: {
    basis: 'spend',
    windowMonths: 12,
    levels: [
      { name: 'Silver', threshold: 20000, multiplier: 1.25 },
      { name: 'Gold', threshold: 60000, multiplier: 1.5 },
    ],
  },
};

const FLOWS = ['earned', 'released', 'redeemed', 'reversed', 'expired', 'clawedBack', 'adjusted'];
const signed = (digits: number) =>
  new Intl.NumberFormat('en', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: 'exceptZero',
  });
const month = (label: string) =>
  new Date(`${label}-01T00:00:00Z`).toLocaleDateString('en', {
    timeZone: 'UTC',
    month: 'short',
    year: 'numeric',
  });
const money = (minor: number, currency = 'EUR', digits = 2) => en.money(minor / 10 ** digits, currency);
const signedMoney = (minor: number, currency = 'EUR', digits = 2) =>
  new Intl.NumberFormat('en', { style: 'currency', currency, signDisplay: 'exceptZero' }).format(
    minor / 10 ** digits,
  );
const pct = (x: number | null) => (x === null ? '—' : en.pct(x));

browserSuite('loyalty pages in Chromium', { data: 'generated' }, (s) => {
  const text = async (selector: string) => ((await s.page.locator(selector).textContent()) ?? '').trim();
  const cells = (row: string) => s.page.locator(row).locator('th, td').allTextContents();
  // The generated store's customers but its erased ones; the first 60 become members.
  const erased = new Set(['c8', 'c15', 'c21', 'c32', 'c77']);
  const people = Array.from({ length: 90 }, (_, i) => `c${i + 1}`).filter((c) => !erased.has(c));
  const at = (daysAgo: number) => new Date(s.clock.now().getTime() - daysAgo * DAY_MS).toISOString();
  const order = (id: string, customer: string, daysAgo: number, euros: number) =>
    s.send('POST', '/v1/orders', {
      order_id: id,
      customer_id: customer,
      ordered_at: at(daysAgo),
      currency: 'EUR',
      status: 'paid',
      lines: [{ sku: 'SKU-1', quantity: 1, unit_price: euros.toFixed(2) }],
    });

  it('before a programme: the explanation, the editor with an example, the API’s 400, then version 1', async () => {
    // The generated store's clock stands at its NOW while the event dispatcher (which earns the points)
    // runs on the wall clock: one time for both. The session signed in at NOW has expired by then.
    (s.clock as ManualClock).set(new Date());
    await s.logIn();
    // History placed before there is a programme earns nothing and enrols nobody: a year of orders for
    // everyone, and for the 25 who will not join, purchases in the months the others join (and a
    // repeat for some), so that members can be matched with comparable non-members.
    const history: Promise<{ status: number }>[] = [];
    for (const [n, c] of people.entries()) {
      history.push(order(`H${n}a`, c, 420 - (n % 30), 30 + ((n * 7) % 90)));
      if (n % 2 === 0) history.push(order(`H${n}b`, c, 300 - (n % 40), 20 + ((n * 11) % 70)));
      if (n >= 60) {
        history.push(order(`H${n}c`, c, 200 + Math.round((n - 59) * 1.5), 50 + ((n * 5) % 60)));
        if (n % 3 === 0) history.push(order(`H${n}d`, c, 120 + (n - 59), 40 + (n % 20)));
      }
    }
    for (const r of await Promise.all(history)) expect(r.status).toBe(201);
    await expect
      .poll(
        async () => {
          const [sub] = await s.db.query<{ n: number }>(
            `SELECT last_event_id AS n FROM event_subscriptions WHERE name = 'loyalty-orders'`,
          );
          const [end] = await s.db.query<{ n: number }>(`SELECT MAX(event_id) AS n FROM domain_events`);
          return sub!.n >= end!.n;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await s.page.getByRole('link', { name: 'Loyalty', exact: true }).click();
    await s.page.getByRole('heading', { name: 'Loyalty', exact: true }).waitFor();
    await s.page.getByTestId('no-program').waitFor();
    expect((await s.send('GET', '/v1/loyalty/program')).status).toBe(404);
    const editor = s.page.getByLabel('Programme (JSON)');
    const example = JSON.parse(await editor.inputValue()) as { startsAt: string; earn: unknown };
    expect(example.startsAt).toBe(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    expect(example.earn).toMatchObject({ rate: { type: 'per-unit', points: 1, perMinor: 100 } });
    // The example is valid as it stands (the API accepts it; nothing saved by a dry look — a bad copy is).
    const bad = {
      ...PROGRAM,
      earn: { rate: { type: 'per-unit', points: 0, perMinor: 100 } },
      pendingDays: -1,
      colour: 'red',
    };
    await editor.fill(JSON.stringify(bad, null, 2));
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    const refused = await s.send<{
      error: { message: string; details: { issues: { path: string; message: string }[] } };
    }>('PUT', '/v1/loyalty/program', bad);
    expect(refused.status).toBe(400);
    await expect.poll(() => text('[data-testid="program-error"]')).toBe(refused.json.error.message);
    expect(refused.json.error.message).toMatch(/earn\.rate\.points|pendingDays|colour/);
    const issues = refused.json.error.details.issues;
    expect(issues.length).toBeGreaterThan(1);
    expect(await s.page.locator('[data-testid="program-issues"] li').allTextContents()).toEqual(
      issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)),
    );
    expect(await s.violations()).toEqual([]);
    // Not JSON: said so, nothing sent.
    await editor.fill('{ "name": ');
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    await s.page.getByRole('alert').filter({ hasText: 'This is not JSON' }).waitFor();
    expect((await s.send('GET', '/v1/loyalty/program')).status).toBe(404);

    await editor.fill(JSON.stringify(PROGRAM, null, 2));
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    await s.page.getByTestId('program-line').filter({ hasText: 'Test Rewards, version 1' }).waitFor();
    const saved = await s.get<{ version: number; config: { name: string; currency: string } }>(
      '/v1/loyalty/program',
    );
    expect(saved).toMatchObject({ version: 1, config: { name: 'Test Rewards' } });
  });

  it('with members: the figures, liability, flows and comparison equal GET /v1/loyalty/report', async () => {
    // 40 members who joined at a purchase 200–240 days ago (a third bought again), 10 in the return
    // window, 10 between.
    const placed: Promise<{ status: number }>[] = [];
    for (const [n, c] of people.slice(0, 60).entries()) {
      const i = n + 1;
      if (i <= 40) {
        placed.push(order(`L${i}`, c, 200 + i, i === 1 ? 700 : 50 + 3 * i));
        if (i % 3 === 0) placed.push(order(`L${i}b`, c, 120 + i, 40 + i));
      } else if (i <= 50) placed.push(order(`L${i}`, c, i - 40, 30 + i));
      else placed.push(order(`L${i}`, c, 2 * i - 80, 20 + i));
    }
    for (const r of await Promise.all(placed)) expect(r.status).toBe(201);
    await expect
      .poll(async () => (await s.get<{ data: unknown[] }>('/v1/loyalty/members?limit=500')).data.length, {
        timeout: 30_000,
      })
      .toBe(60);
    // A refund claws back; redemptions and one reversal give the rates something to count.
    const refund = await s.send('POST', '/v1/refunds', {
      refund_id: 'R2',
      order_id: 'L2',
      customer_id: 'c2',
      amount: '56.00',
      currency: 'EUR',
      refunded_at: at(100),
    });
    expect(refund.status).toBe(200);
    await expect
      .poll(
        async () =>
          (await s.get<{ data: Entry[] }>('/v1/loyalty/members/c2/ledger?limit=50')).data.some(
            (e) => e.type === 'clawback',
          ),
        { timeout: 30_000 },
      )
      .toBe(true);
    // The dispatcher recorded the clawback at its (wall-clock) now: the store's clock catches up.
    (s.clock as ManualClock).set(new Date());
    // Four of the biggest spenders redeem 100 points each; the last one's is reversed.
    const redeemers = people.slice(36, 40);
    for (const c of redeemers) {
      const r = await s.send('POST', '/v1/loyalty/redemptions', {
        customer: c,
        points: 100,
        idempotencyKey: `test-${c}`,
      });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
    }
    const six = await s.get<{ data: Redemption[] }>(`/v1/loyalty/members/${redeemers[3]}/redemptions`);
    expect(
      (await s.send('POST', `/v1/loyalty/redemptions/${six.data[0]!.id}/reverse`, { reason: 'test' })).status,
    ).toBe(200);
    // The report's period ends at its now, exclusive: what was done at this (stopped) instant is in it
    // once the clock has moved on.
    (s.clock as ManualClock).advance(1000);
    expect((await s.send('POST', '/v1/loyalty/sweep')).status).toBe(200);

    await s.page.goto(`${s.base}/loyalty`);
    await s.page.getByTestId('loyalty-figures').waitFor();
    const r = await s.get<Report>('/v1/loyalty/report');
    const m = (minor: number) => money(minor, r.currency, r.minorDigits);
    expect(r.liability.byExpiryMonth.length).toBeGreaterThan(0);
    expect(r.liability.pendingPoints).toBeGreaterThan(0);
    expect(r.flows.totals.expired).toBeGreaterThan(0);
    expect(r.flows.totals.clawedBack).toBeGreaterThan(0);

    const card = (k: string, part: string) => text(`[data-figure="${k}"] [data-part="${part}"]`);
    expect(await card('members', 'main')).toBe(en.int(r.members.total));
    expect(r.members.total).toBe(60);
    expect(await card('members', 'sub')).toBe(`${en.int(r.members.enrolledInPeriod)} enrolled in the period`);
    expect(await card('outstanding', 'main')).toBe(en.int(r.liability.outstandingPoints));
    expect(await card('outstanding', 'sub')).toBe(`worth ${m(r.liability.outstandingValueMinor)}`);
    expect(await card('pending', 'main')).toBe(en.int(r.liability.pendingPoints));
    expect(await card('pending', 'sub')).toBe(`worth ${m(r.liability.pendingValueMinor)}`);
    expect(await card('redemption-rate', 'main')).toBe(pct(r.redemption.shareOfMembers));
    expect(await card('redemption-rate', 'sub')).toBe(
      `${en.int(r.redemption.membersRedeemed)} of ${en.int(r.redemption.members)} members redeemed`,
    );
    expect(r.redemption.membersRedeemed).toBe(3);
    expect(await card('burn-rate', 'main')).toBe(pct(r.flows.burnRate));
    expect(await card('burn-rate', 'sub')).toBe(`expiry rate ${pct(r.flows.expiryRate)}`);
    expect(await text('[data-testid="program-line"]')).toBe(
      `Test Rewards, version 1 · ${en.int(r.pointValue.points)} points = ${m(r.pointValue.minor)}`,
    );

    // Liability by expiry month: the chart draws, the table is the report's.
    await s.page.locator('[data-testid="liability-chart"] svg').waitFor();
    const liability = s.page.locator('[data-testid="liability"] tbody tr');
    expect(await liability.count()).toBe(r.liability.byExpiryMonth.length);
    for (const [i, x] of r.liability.byExpiryMonth.entries())
      expect(await cells(`[data-testid="liability"] tbody tr >> nth=${i}`)).toEqual([
        month(x.month),
        en.int(x.availablePoints),
        en.int(x.pendingPoints),
        en.int(x.points),
        m(x.valueMinor),
      ]);
    const l = r.liability;
    expect(await text('[data-testid="liability-summary"]')).toBe(
      `Outstanding ${en.int(l.outstandingPoints)} points = ${m(l.outstandingValueMinor)}; pending ` +
        `${en.int(l.pendingPoints)} points = ${m(l.pendingValueMinor)}; total ${en.int(l.totalPoints)} points = ` +
        `${m(l.totalValueMinor)}.` +
        (l.debtPoints > 0
          ? ` Members owe ${en.int(l.debtPoints)} points after refunds; the debt is deducted from the outstanding total, not from a month.`
          : ''),
    );

    // Flows by month, and the period's totals.
    expect(await s.page.locator('[data-testid="flows"] tbody tr').count()).toBe(r.flows.months.length);
    for (const [i, x] of r.flows.months.entries())
      expect(await cells(`[data-testid="flows"] tbody tr >> nth=${i}`)).toEqual([
        month(x.month),
        ...FLOWS.map((k) => en.int(x[k]!)),
      ]);
    expect(await cells('[data-testid="flows"] tfoot tr')).toEqual([
      'Total',
      ...FLOWS.map((k) => en.int(r.flows.totals[k]!)),
    ]);

    // Members vs comparable non-members: the verdict, raw and matched with the CI, counts, the method.
    const v = r.membersVsNonMembers;
    expect(await text('[data-testid="verdict"]')).toBe(v.verdict);
    const pp = (x: number | null) => (x === null ? '—' : `${signed(1).format(x * 100)} pp`);
    const cash = (x: number | null) => (x === null ? '—' : m(x));
    const sCash = (x: number | null) => (x === null ? '—' : signedMoney(x, r.currency, r.minorDigits));
    const ci = (o: Outcome, f: (x: number) => string) =>
      o.ci95 ? `${f(o.ci95.low)} to ${f(o.ci95.high)}` : '—';
    expect(await cells('[data-row="repeatMatched"]')).toEqual([
      'Repeat rate, matched',
      pct(v.matched.repeatRate!.members),
      pct(v.matched.repeatRate!.controls),
      pp(v.matched.repeatRate!.difference),
      ci(v.matched.repeatRate!, (x) => pp(x)),
    ]);
    expect(await cells('[data-row="repeatRaw"]')).toEqual([
      'Repeat rate, raw',
      pct(v.raw.repeatRate!.members),
      pct(v.raw.repeatRate!.controls),
      pp(v.raw.repeatRate!.difference),
      '—',
    ]);
    expect(await cells('[data-row="revenueMatched"]')).toEqual([
      'Revenue per customer, matched',
      cash(v.matched.revenuePerCustomerMinor!.members),
      cash(v.matched.revenuePerCustomerMinor!.controls),
      sCash(v.matched.revenuePerCustomerMinor!.difference),
      ci(v.matched.revenuePerCustomerMinor!, (x) => sCash(x)),
    ]);
    expect(await cells('[data-row="revenueRaw"]')).toEqual([
      'Revenue per customer, raw',
      cash(v.raw.revenuePerCustomerMinor!.members),
      cash(v.raw.revenuePerCustomerMinor!.controls),
      sCash(v.raw.revenuePerCustomerMinor!.difference),
      '—',
    ]);
    for (const k of [
      'members',
      'eligible',
      'matched',
      'unmatched',
      'joinedAtFirstPurchase',
      'windowIncomplete',
    ])
      expect(await text(`[data-count="${k}"] dd`)).toBe(en.int(v.counts[k]!));
    expect(v.counts.members).toBe(60);
    expect(v.counts.matched).toBeGreaterThan(0);
    expect(v.matched.repeatRate!.ci95).not.toBeNull();
    expect(await s.page.locator('[data-testid="method"] [data-part="method"]').isVisible()).toBe(false);
    await s.page.getByText('How this is computed').click();
    expect(
      (await s.page.locator('[data-testid="method"] [data-part="method"] p').allTextContents()).join('\n\n'),
    ).toBe(v.method);
    expect(await s.violations()).toEqual([]);
    await s.shot('loyalty');
    console.log(
      `[loyalty] ${r.members.total} members, outstanding ${l.outstandingPoints} (${m(l.outstandingValueMinor)}), ` +
        `pending ${l.pendingPoints}, matched ${v.counts.matched}: ${v.verdict}`,
    );
  });

  it('the members table pages with nextCursor and filters by tier as GET /v1/loyalty/members does', async () => {
    const rows = s.page.locator('[data-testid="members"] tbody tr');
    const shown = async () =>
      Promise.all(
        (await rows.all()).map(async (row) => (await row.locator('td').allTextContents()).slice(0, 6)),
      );
    const expected = (data: MemberRow[]) =>
      data.map((x) => [
        x.customer,
        x.cardNumber,
        x.tier ?? 'No tier',
        en.int(x.available),
        en.int(x.pending),
        en.int(x.debt),
      ]);
    const first = await s.get<{ data: MemberRow[]; nextCursor: string | null }>(
      '/v1/loyalty/members?limit=25',
    );
    await expect.poll(shown).toEqual(expected(first.data));
    expect(first.nextCursor).not.toBeNull();
    await s.page.getByRole('button', { name: 'Next' }).click();
    const second = await s.get<{ data: MemberRow[]; nextCursor: string | null }>(
      `/v1/loyalty/members?limit=25&cursor=${first.nextCursor}`,
    );
    await expect.poll(shown).toEqual(expected(second.data));
    expect(await text('.pager span')).toBe('Page 2');
    await s.page.getByRole('button', { name: 'Previous' }).click();
    await expect.poll(shown).toEqual(expected(first.data));

    const silver = await s.get<{ data: MemberRow[] }>('/v1/loyalty/members?limit=25&tier=Silver');
    expect(silver.data.length).toBeGreaterThan(0);
    await s.page.getByLabel('Tier', { exact: true }).selectOption('Silver');
    await expect.poll(shown).toEqual(expected(silver.data));
    await s.page.getByLabel('Tier', { exact: true }).selectOption('');
    await expect.poll(shown).toEqual(expected(first.data));
  });

  it('a member’s panel equals the API; a redemption spends once however often it is sent; reverse, adjust, card link', async () => {
    await s.page.getByRole('link', { name: 'c1', exact: true }).click();
    await s.page.waitForURL(/\/loyalty\/members\/c1$/);
    await s.page.getByTestId('member-figures').waitFor();
    const get = () => s.get<Member>('/v1/loyalty/members/c1');
    let m = await get();
    const card = (k: string, part: string) => text(`[data-figure="${k}"] [data-part="${part}"]`);
    const figures = async (x: Member) => {
      await expect.poll(() => card('available', 'main')).toBe(en.int(x.available));
      expect(await card('available', 'sub')).toBe(`worth ${money(x.valueMinor, x.currency)}`);
      expect(await card('pending', 'main')).toBe(en.int(x.pending));
      expect(await card('debt', 'main')).toBe(en.int(x.debt));
    };
    await figures(m);
    expect(m.tier).toBe('Gold');
    expect(await card('tier', 'main')).toBe(m.tier);
    expect(await text('[data-testid="member-card"]')).toContain(m.cardNumber);
    expect(await text('[data-testid="tier-basis"]')).toBe(
      `Net spend in the window: ${money(m.tierBasisValue, m.currency)}`,
    );
    if (m.nextTier) {
      expect(await card('next-tier', 'main')).toBe(m.nextTier.name);
      expect(await card('next-tier', 'sub')).toBe(
        `${money(m.nextTier.missing, m.currency)} to ${m.nextTier.name}`,
      );
    } else expect(await card('next-tier', 'main')).toBe('Top tier reached');
    const ledger = async () => {
      const api = await s.get<{ data: Entry[] }>('/v1/loyalty/members/c1/ledger?limit=20');
      const rows = s.page.locator('[data-testid="ledger"] tbody tr');
      await expect
        .poll(async () => Promise.all((await rows.all()).map((row) => row.getAttribute('data-entry'))))
        .toEqual(api.data.map((e) => String(e.id)));
      for (const [i, e] of api.data.entries())
        expect((await rows.nth(i).locator('td').allTextContents()).slice(2, 5)).toEqual([
          en.int(e.points),
          signed(0).format(e.pendingDelta),
          signed(0).format(e.availableDelta),
        ]);
    };
    await ledger();
    expect(await s.page.locator('[data-testid="expiring"] tbody tr').count()).toBe(m.expiringSoon.length);
    const tiers = await s.get<{ data: unknown[] }>('/v1/loyalty/members/c1/tiers');
    expect(tiers.data.length).toBeGreaterThan(0);
    expect(await s.page.locator('[data-testid="tiers"] tbody tr').count()).toBe(tiers.data.length);

    // Redeem 100 points with a double click: one redemption, 100 points less.
    const redemptions = () => s.get<{ data: Redemption[] }>('/v1/loyalty/members/c1/redemptions');
    const before = m.available;
    const points = s.page.getByLabel('Points to redeem');
    await points.fill('100');
    await s.page.getByRole('button', { name: 'Redeem', exact: true }).dblclick();
    await s.page.getByTestId('redeem-result').waitFor();
    await expect.poll(async () => (await get()).available).toBe(before - 100);
    expect((await redemptions()).data).toHaveLength(1);
    // Sent twice in one go (the button cannot disable itself in between): still one more redemption.
    await points.fill('150');
    await s.page.getByTestId('redeem-form').evaluate((form) => {
      // No DOM types in the tests' compilation: the form as what it is used for.
      const f = form as unknown as { requestSubmit(): void };
      f.requestSubmit();
      f.requestSubmit();
    });
    await expect.poll(async () => (await redemptions()).data.length).toBe(2);
    await expect.poll(async () => (await get()).available).toBe(before - 250);
    // And the same form a third time: the same key, answered with the same redemption.
    await s.page.getByRole('button', { name: 'Redeem', exact: true }).click();
    await s.page.getByTestId('redeem-result').filter({ hasText: 'already sent' }).waitFor();
    expect((await redemptions()).data).toHaveLength(2);
    m = await get();
    expect(m.available).toBe(before - 250);
    await figures(m);
    const list = (await redemptions()).data;
    expect(await s.page.locator('[data-testid="redemptions"] tbody tr').count()).toBe(list.length);
    expect(await text('[data-testid="redeem-result"]')).toContain(list[0]!.code!);

    // More than the balance: the API's 409, nothing spent.
    await points.fill(String(Math.min(5000, m.available + 1)));
    await s.page.getByRole('button', { name: 'Redeem', exact: true }).click();
    const refused = await s.send<{ error: { message: string } }>('POST', '/v1/loyalty/redemptions', {
      customer: 'c1',
      points: Math.min(5000, m.available + 1),
      idempotencyKey: 'test-too-much',
    });
    expect(refused.status).toBe(409);
    await expect.poll(() => text('[data-testid="redeem-error"]')).toBe(refused.json.error.message);

    // Reverse the 150: the points come back.
    s.page.once('dialog', (d) => void d.accept());
    await s.page.getByRole('button', { name: `Reverse redemption ${list[0]!.id}` }).click();
    await expect.poll(async () => (await get()).available).toBe(before - 100);
    await expect
      .poll(() => s.page.locator(`[data-redemption="${list[0]!.id}"]`).getAttribute('data-status'))
      .toBe('reversed');

    // Adjust +25 with a reason.
    await s.page.getByLabel('Points (+ to add, − to take away)').fill('25');
    await s.page.getByLabel('Reason', { exact: true }).fill('goodwill');
    await s.page.getByRole('button', { name: 'Adjust', exact: true }).click();
    await expect.poll(async () => (await get()).available).toBe(before - 75);
    await expect
      .poll(() => text('[data-testid="adjust-result"]'))
      .toBe(`Done: ${en.int(before - 75)} points available now.`);
    m = await get();
    await figures(m);
    await ledger();

    // The card link is the API's.
    await s.page.getByRole('button', { name: 'Card link' }).click();
    const link = await s.get<{ url: string }>('/v1/loyalty/members/c1/card-link');
    await expect.poll(() => s.page.getByTestId('card-link').getAttribute('href')).toBe(link.url);
    expect(await s.violations()).toEqual([]);
    await s.shot('loyalty-member');

    // Someone who is not a member: the API's 404 message.
    await s.page.goto(`${s.base}/loyalty/members/c70`);
    const missing = await s.send<{ error: { message: string } }>('GET', '/v1/loyalty/members/c70');
    expect(missing.status).toBe(404);
    await expect.poll(() => text('[data-testid="member-missing"]')).toBe(missing.json.error.message);
  });

  it('the card: a phone-sized page with the QR code (its CSP admits no script), printing on one page', async () => {
    const link = await s.get<{ url: string }>('/v1/loyalty/members/c1/card-link');
    const m = await s.get<Member>('/v1/loyalty/members/c1');
    const context = await s.page
      .context()
      .browser()!
      .newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    try {
      await phone.goto(link.url);
      await phone.locator('svg').first().waitFor();
      expect(await phone.textContent('body')).toContain(m.cardNumber.replace(/(.{4})(?=.)/g, '$1 '));
      await phone.screenshot({ path: 'test-output/loyalty-card.png', fullPage: true });
      const pdf = await phone.pdf({ format: 'A4', printBackground: true });
      // Pages of the printed card: one (the card and its details below).
      expect(pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('the customer 360 shows the membership, links to the member panel, and says when someone is not a member', async () => {
    const m = await s.get<Member>('/v1/loyalty/members/c1');
    await s.page.goto(`${s.base}/customers/c1`);
    await expect
      .poll(() => text('[data-testid="customer-loyalty"]'))
      .toBe(
        `${en.int(m.available)} points to spend, ${en.int(m.pending)} pending; tier: ${m.tier ?? 'none'}. Points, ledger and redemptions`,
      );
    await s.page.goto(`${s.base}/customers/c70`);
    await s.page.getByText('Not a loyalty member.').waitFor();
    await s.page.goto(`${s.base}/customers/c1`);
    await s.page.getByRole('link', { name: 'Points, ledger and redemptions' }).click();
    await s.page.waitForURL(/\/loyalty\/members\/c1$/);
  });

  it('Edit programme: the current version, a 400 as the API words it, version 2 saved', async () => {
    await s.page.goto(`${s.base}/loyalty`);
    await s.page.getByRole('link', { name: 'Edit programme' }).click();
    await s.page.waitForURL(/\/loyalty\/program$/);
    await s.page.getByTestId('program-version').filter({ hasText: 'Version 1' }).waitFor();
    const editor = s.page.getByLabel('Programme (JSON)');
    const current = await s.get<{ config: Record<string, unknown> }>('/v1/loyalty/program');
    expect(JSON.parse(await editor.inputValue())).toEqual(current.config);
    const bad = { ...current.config, redemption: { minPoints: 500, maxPoints: 100 } };
    await editor.fill(JSON.stringify(bad));
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    const refused = await s.send<{ error: { message: string } }>('PUT', '/v1/loyalty/program', bad);
    expect(refused.status).toBe(400);
    await expect.poll(() => text('[data-testid="program-error"]')).toBe(refused.json.error.message);
    expect(refused.json.error.message).toContain('redemption.maxPoints');

    await editor.fill(JSON.stringify({ ...current.config, name: 'Test Rewards 2' }, null, 2));
    await s.page.getByRole('button', { name: 'Save as a new version' }).click();
    await s.page.getByTestId('program-version').filter({ hasText: 'Version 2' }).waitFor();
    expect(await text('[data-testid="program-saved"]')).toBe('Saved as version 2');
    const versions = await s.get<{ data: { version: number }[] }>('/v1/loyalty/program/versions');
    expect(versions.data.map((v) => v.version)).toEqual([2, 1]);
    await expect.poll(() => s.page.locator('[data-testid="program-versions"] tbody tr').count()).toBe(2);
    expect(JSON.parse(await editor.inputValue())).toMatchObject({ name: 'Test Rewards 2' });
    expect(await s.violations()).toEqual([]);
    await s.shot('loyalty-program');
  });
  it('an analyst reads the programme and the members but is offered nothing to change', async () => {
    const email = 'ana@shop.test';
    const password = 'analyst password 1';
    expect((await s.send('POST', '/v1/users', { email, role: 'analyst', password })).status).toBe(201);
    const other = await s.page
      .context()
      .browser()!
      .newContext({
        locale: 'en-US',
        viewport: { width: 1280, height: 800 },
      });
    try {
      const p = await other.newPage();
      await p.goto(`${s.base}/login`);
      await p.getByLabel('Email').fill(email);
      await p.getByLabel('Password', { exact: true }).fill(password);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.waitForURL((u) => !u.pathname.startsWith('/login'));
      await p.getByRole('link', { name: 'Loyalty', exact: true }).click();
      await p.getByTestId('loyalty-figures').waitFor();
      expect(await p.getByRole('link', { name: 'Edit programme' }).count()).toBe(0);
      await p.getByRole('link', { name: 'The programme’s rules' }).click();
      await p.getByTestId('program-version').filter({ hasText: 'Version 2' }).waitFor();
      expect(await p.getByLabel('Programme (JSON)').getAttribute('readonly')).not.toBeNull();
      expect(await p.getByRole('button', { name: 'Save as a new version' }).isVisible()).toBe(false);
      await p.goto(`${s.base}/loyalty/members/c1`);
      await p.getByTestId('member-figures').waitFor();
      await p.getByTestId('ledger').waitFor();
      for (const name of ['Redeem', 'Adjust', 'Card link'])
        expect(await p.getByRole('button', { name, exact: true }).count()).toBe(0);
      expect(await p.getByRole('button', { name: /^Reverse redemption/ }).count()).toBe(0);
      // In Ukrainian: the page's words and the API's figures in Ukrainian number format.
      await p.getByLabel('Language').selectOption('uk');
      await p.getByRole('heading', { name: 'Учасник c1' }).waitFor();
      const m = await s.get<Member>('/v1/loyalty/members/c1');
      expect(await p.locator('[data-figure="available"] [data-part="main"]').textContent()).toBe(
        new Intl.NumberFormat('uk').format(m.available),
      );
      expect(await p.locator('[data-figure="available"] dt').textContent()).toBe('Доступні бали');
    } finally {
      await other.close();
    }
  });
});
