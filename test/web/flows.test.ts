import { it } from 'vitest';
import { DAY_MS } from '../../src/shared/time.js';
import { browserSuite, en, expect } from '../support/browser.js';
import { idOf, seedContacts } from '../support/contacts.js';

/**
 * Issue 26, the Flows pages in Chromium: 200 seeded contacts, two templates, 40 of the contacts buying in
 * the last weeks. As an admin: the list is empty; New flow refuses text that is not JSON, then shows the
 * API's refusals beside the paths its `details` name (an unknown template, a holdout over 50 %) with
 * their lines, then saves a draft; its page says the definition in words (trigger, each step, goal,
 * re-entry, holdout) and who would enter it over 30 days as GET …/simulate; activated after a
 * confirmation, 40 new buyers enter (half in the holdout) and within a month some buy again: the report's
 * cards, tables, incremental revenue with its interval, chart and verdict equal GET …/report. A 409 (a
 * flow archived behind the page's back) is shown as the API words it; an edit saves version 2 and a name
 * change is refused; a definition with kinds the page does not know is shown as keys and values, a
 * survey step in words with a link to its survey. In Ukrainian the labels are translated; axe-clean
 * throughout; an analyst reads everything and is offered no action nor editor. Screenshots flows, flow-new-errors, flow, flow-report, flow-uk.
 */

const N = 200;
const ZONE = 'Europe/Kyiv';
const ANALYST = { email: 'ana@shop.test', password: 'analyst password 1' };
const body = (text: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}. ${text}</mj-text>` +
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
const pOf = (x: number) => new Intl.NumberFormat('en', { maximumSignificantDigits: 2 }).format(x);
const relPct = (x: number) =>
  new Intl.NumberFormat('en', {
    style: 'percent',
    maximumFractionDigits: 1,
    signDisplay: 'exceptZero',
  }).format(x);
const when = (iso: string) =>
  new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: ZONE });

/** The flow saved through the page. */
const THANKS = {
  name: 'thanks',
  description: 'Thank new buyers, then a tip',
  trigger: { event: 'order.placed' },
  goal: { event: 'order.placed' },
  reentry: { kind: 'once' },
  holdoutShare: 0.5,
  steps: [
    { id: 'hello', send: { template: 'thanks-1' } },
    { id: 'later', wait: { days: 2, hours: 3 } },
    { id: 'morning', waitUntil: { localTime: '10:00' } },
    {
      id: 'consented',
      branch: {
        if: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
        then: 'tip',
        else: 'exit',
      },
    },
    { id: 'tip', send: { template: 'thanks-2' } },
  ],
};

interface Flow {
  name: string;
  status: string;
  version: number;
  updatedAt: string;
  runs: { active: number; holdout: number; goal: number; completed: number };
  versions: { version: number; createdAt: string; createdBy: string | null }[];
}
interface Simulation {
  version: number;
  days: number;
  events: number;
  customers: number;
  wouldEnter: number;
  holdout: number;
  excluded: { inFlight: number; reentry: number };
  sample: string[];
}
interface Interval {
  estimate: number;
  low: number;
  high: number;
}
interface Arm {
  n: number;
  mean: number;
  standardError: number;
}
interface Report {
  days: number;
  entered: { treated: number; holdout: number };
  runs: Record<string, number>;
  messages: { step: string; status: string; n: number }[];
  conversions: { treated: number; holdout: number; treatedRate: number | null; holdoutRate: number | null };
  revenue: {
    runs: { treated: number; holdout: number };
    perEntrantMinor: { treated: number | null; holdout: number | null };
    incremental: {
      alpha: number;
      control: Arm;
      variant: Arm;
      difference: Interval & {
        alpha: number;
        standardError: number;
        pValue: number;
        intervalMethod?: string;
      };
      relative: Interval | null;
      relativeUnavailable: string | null;
    } | null;
    verdict: string | null;
  };
  notes: string[];
}

browserSuite('flows pages in Chromium', { data: 'empty' }, (s) => {
  const text = async (selector: string) =>
    ((await s.page.locator(selector).first().textContent()) ?? '').trim();
  const cells = (row: string) => s.page.locator(row).locator('th, td').allTextContents();
  const ok = async (r: Promise<{ status: number; json: unknown }>, status = 200) => {
    const x = await r;
    expect(x.status, JSON.stringify(x.json)).toBe(status);
    return x;
  };
  const order = (id: string, customer: string, at: Date, euros: number) =>
    s.send('POST', '/v1/orders', {
      order_id: id,
      customer_id: customer,
      ordered_at: at.toISOString(),
      currency: 'EUR',
      status: 'paid',
      lines: [{ sku: 'SKU-1', quantity: 1, unit_price: euros.toFixed(2) }],
    });
  const editor = () => s.page.getByLabel('Definition (JSON)');
  const save = async (name: string, button: string) => {
    const [response] = await Promise.all([
      s.page.waitForResponse((r) => r.url().endsWith(`/v1/flows/${name}`) && r.request().method() === 'PUT'),
      s.page.getByRole('button', { name: button, exact: true }).click(),
    ]);
    return {
      status: response.status(),
      json: (await response.json()) as {
        version?: number;
        error?: {
          message: string;
          details?: { field?: string; issues?: { path: string; message: string }[] };
        };
      },
    };
  };

  it('seeds the store; New flow refuses what is not JSON and shows the API’s refusals at their paths; saves a draft', async () => {
    await seedContacts(s.db, { n: N, now: new Date() });
    await ok(s.send('PATCH', '/v1/store', { currency: 'EUR', timeZone: ZONE }));
    await ok(
      s.send('PUT', '/v1/messaging/policy', { publicUrl: s.base, frequencyCap: null, quietHours: null }),
    );
    await ok(s.send('PUT', '/v1/templates/thanks-1', template('Thank you', 'Thanks for your order.')), 201);
    await ok(s.send('PUT', '/v1/templates/thanks-2', template('A tip', 'A tip for you.')), 201);
    await ok(s.send('POST', '/v1/users', { ...ANALYST, role: 'analyst' }), 201);
    // 40 contacts bought in the last three weeks: the trigger's history the simulation replays.
    const history: Promise<{ status: number; json: unknown }>[] = [];
    for (let i = 25; i < 65; i++)
      history.push(order(`H${i}`, idOf(i), new Date(Date.now() - (1 + (i % 20)) * DAY_MS), 20 + (i % 30)));
    for (const r of await Promise.all(history)) expect(r.status, JSON.stringify(r.json)).toBe(201);

    await s.page.getByRole('link', { name: 'Flows', exact: true }).click();
    await s.page.getByRole('heading', { name: 'Flows', exact: true }).waitFor();
    await s.page.getByTestId('no-flows').waitFor();
    expect((await s.get<{ data: unknown[] }>('/v1/flows')).data).toEqual([]);
    expect(await s.violations()).toEqual([]);
    await s.page.getByRole('link', { name: 'New flow' }).click();
    await s.page.waitForURL(/\/flows\/new$/);
    await s.page.getByRole('heading', { name: 'New flow' }).waitFor();
    // The starter: docs/flows.md's welcome series, sending the store's first template.
    const starter = JSON.parse(await editor().inputValue()) as typeof THANKS;
    expect(starter).toMatchObject({ name: 'welcome', trigger: { event: 'customer.created' } });
    expect(starter.steps[0]).toEqual({ id: 'hello', send: { template: 'thanks-1' } });
    expect(await s.violations()).toEqual([]);

    // Not JSON: refused before sending, the parser's message shown.
    await editor().fill('{ "name": "thanks", ');
    await s.page.getByRole('button', { name: 'Save draft', exact: true }).click();
    await expect.poll(() => text('[data-testid="flow-errors"] li')).toMatch(/^This is not JSON: .+/);

    // An unknown template: the API's `details.field`, beside its path with its line.
    const unknown = {
      ...THANKS,
      steps: [{ id: 'hello', send: { template: 'nope' } }, ...THANKS.steps.slice(1)],
    };
    const typed = JSON.stringify(unknown, null, 2);
    await editor().fill(typed);
    const refused = await save('thanks', 'Save draft');
    expect(refused.status).toBe(400);
    expect(refused.json.error!.details!.field).toBe('steps.0.send.template');
    const line = typed.split('\n').findIndex((l) => l.includes('"template": "nope"')) + 1;
    await expect
      .poll(() => text('[data-error-for="steps.0.send.template"]'))
      .toBe(
        `steps.0.send.template (line ${line}): ${refused.json.error!.message} Show steps.0.send.template in the editor`,
      );
    expect(await text('[data-testid="flow-save-error"] > p')).toBe(refused.json.error!.message);
    // The focus went to the editor, the refused path selected there.
    expect(
      await s.page.evaluate(() => {
        type Area = { id: string; value: string; selectionStart: number; selectionEnd: number };
        const el = (globalThis as unknown as { document: { activeElement: Area | null } }).document
          .activeElement;
        return el?.id === 'flow-json' ? el.value.slice(el.selectionStart, el.selectionEnd) : null;
      }),
    ).toBe('"template"');
    expect(await editor().getAttribute('aria-invalid')).toBe('true');

    // A holdout over 50 %: the API's `details.issues`, each at its path.
    const tooBig = JSON.stringify({ ...THANKS, holdoutShare: 0.9 }, null, 2);
    await editor().fill(tooBig);
    const big = await save('thanks', 'Save draft');
    expect(big.status).toBe(400);
    const issue = big.json.error!.details!.issues!.find((i) => i.path === 'holdoutShare')!;
    const at = tooBig.split('\n').findIndex((l) => l.includes('"holdoutShare"')) + 1;
    await expect
      .poll(() => text('[data-error-for="holdoutShare"]'))
      .toBe(`holdoutShare (line ${at}): ${issue.message} Show holdoutShare in the editor`);
    expect(await s.page.locator('[data-error-for="steps.0.send.template"]').count()).toBe(0);
    expect(await s.violations()).toEqual([]);
    await s.shot('flow-new-errors');

    await editor().fill(JSON.stringify(THANKS, null, 2));
    const saved = await save('thanks', 'Save draft');
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    await s.page.waitForURL(/\/flows\/thanks$/);
    await s.page.getByRole('heading', { name: 'Flow thanks' }).waitFor();
    const f = await s.get<Flow & { definition: unknown }>('/v1/flows/thanks');
    expect(f).toMatchObject({ status: 'draft', version: 1, definition: THANKS });

    // A name in use: New flow would save its next version, so it is refused before sending.
    await s.page.goto(`${s.base}/flows/new`);
    await editor().fill(JSON.stringify({ ...THANKS, description: 'again' }, null, 2));
    await s.page.getByRole('button', { name: 'Save draft', exact: true }).click();
    await expect
      .poll(() => text('[data-error-for="name"]'))
      .toMatch(/^name \(line 2\): There is a flow named thanks already/);
    expect((await s.get<Flow>('/v1/flows/thanks')).version).toBe(1);
  });

  it('the list and the flow page: the definition in words, versions, and who would enter as GET …/simulate', async () => {
    await s.page.goto(`${s.base}/flows`);
    await s.page.locator('[data-flow="thanks"]').waitFor();
    const f = await s.get<Flow>('/v1/flows/thanks');
    expect(await cells('[data-flow="thanks"]')).toEqual([
      'thanks',
      'Draft',
      '1',
      '0',
      '0',
      '0',
      '0',
      when(f.updatedAt),
    ]);
    await s.shot('flows');
    await s.page.getByRole('link', { name: 'thanks', exact: true }).click();
    await s.page.getByTestId('definition').waitFor();
    expect(await text('[data-fact="trigger"] dd')).toBe('When order.placed is recorded');
    expect(await text('[data-fact="goal"] dd')).toBe(
      'Leaves the flow at once on order.placed (checked again right before every send)',
    );
    expect(await text('[data-fact="reentry"] dd')).toBe('Once per customer, ever');
    expect(await text('[data-fact="holdout"] dd')).toBe(
      '50% of the entrants get nothing (the baseline of the incremental revenue)',
    );
    expect(await text('[data-fact="description"] dd')).toBe(THANKS.description);
    expect(await s.page.locator('[data-testid="steps"] > li').allTextContents()).toEqual([
      'hello Send the template thanks-1',
      'later Wait 2 days 3 hours',
      'morning Wait until 10:00 local time (the customer’s time zone, else the store’s)',
      'consented If consent[email] eq "granted" then → tip; else → exit',
      'tip Send the template thanks-2',
    ]);
    expect(await s.page.locator('[data-step="hello"] a').getAttribute('href')).toBe('/templates');
    expect(await s.page.locator('[data-step="consented"] a').getAttribute('href')).toBe('#flow-step-tip');
    expect(await cells('[data-testid="versions"] tbody tr')).toEqual([
      '1 (current)',
      when(f.versions[0]!.createdAt),
      'owner@shop.test',
    ]);
    expect(await text('[data-fact="activated"] dd')).toBe('never');
    expect(await text('[data-testid="in-flight-note"]')).toBe(
      'Customers already in the flow finish on the version they entered; only new entries take the new version.',
    );
    // No entries yet: the report says so.
    await s.page.getByTestId('report-body').waitFor();
    const r0 = await s.get<Report>('/v1/flows/thanks/report');
    expect(await s.page.getByTestId('report-notes').locator('li').allTextContents()).toEqual(r0.notes);
    expect(await text('[data-figure="entered"] [data-part="main"]')).toBe('0');

    // Who would enter over the last 30 days.
    await s.page.getByLabel('Days back (1–90)').fill('30');
    const [response] = await Promise.all([
      s.page.waitForResponse((r) => r.url().includes('/v1/flows/thanks/simulate?days=30')),
      s.page.getByRole('button', { name: 'Simulate', exact: true }).click(),
    ]);
    const sim = (await response.json()) as Simulation;
    expect(sim).toMatchObject({ days: 30, customers: 40, wouldEnter: 40 });
    expect(sim.holdout).toBeGreaterThan(5);
    await s.page.getByTestId('simulation').waitFor();
    const figure = (k: string) => text(`[data-testid="simulation"] [data-figure="${k}"] dd`);
    expect(await text('[data-testid="simulation-over"]')).toBe('Version 1, the last 30 days.');
    expect(await figure('events')).toBe(en.int(sim.events));
    expect(await figure('customers')).toBe(en.int(sim.customers));
    expect(await figure('would-enter')).toBe(en.int(sim.wouldEnter));
    expect(await figure('holdout')).toBe(en.int(sim.holdout));
    expect(await figure('in-flight')).toBe(en.int(sim.excluded.inFlight));
    expect(await figure('reentry')).toBe(en.int(sim.excluded.reentry));
    expect(await s.page.getByTestId('simulation-sample').locator('li').allTextContents()).toEqual(sim.sample);
    expect(sim).toEqual(await s.get<Simulation>('/v1/flows/thanks/simulate?days=30'));
    expect(await s.violations()).toEqual([]);
  });

  it('activate after a confirmation; buyers enter; the report equals GET …/report', async () => {
    let asked = '';
    s.page.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await s.page.getByRole('button', { name: 'Activate', exact: true }).click();
    await expect.poll(() => asked).toMatch(/^Activate thanks\? Customers enter it from now on, on version 1/);
    expect((await s.get<Flow>('/v1/flows/thanks')).status).toBe('draft');
    s.page.once('dialog', (d) => void d.accept());
    const [moved] = await Promise.all([
      s.page.waitForResponse((r) => r.url().endsWith('/v1/flows/thanks/activate')),
      s.page.getByRole('button', { name: 'Activate', exact: true }).click(),
    ]);
    expect(moved.status()).toBe(200);
    const badge = s.page.locator('.toolbar [data-status]');
    await expect.poll(() => badge.textContent()).toBe('Active');
    expect(await text('[data-testid="move-result"]')).toBe('thanks is now Active.');
    const active = await s.get<Flow & { activatedAt: string }>('/v1/flows/thanks');
    expect(active.status).toBe('active');
    await expect.poll(() => text('[data-fact="activated"] dd')).toBe(when(active.activatedAt));
    expect(await s.page.getByRole('button', { name: 'Activate', exact: true }).count()).toBe(0);
    await s.page.getByRole('button', { name: 'Pause', exact: true }).waitFor();

    // 40 new buyers enter (about half in the holdout; the others get the first message at once): their
    // orders are placed now (an order days old enters no flow). Once every first message is queued, the
    // runs and those orders are moved 40 days back: their 30 days are over. Some entrants then bought
    // again within them (the goal: those runs end), more of the treated than of the holdout.
    const firsts: Promise<{ status: number; json: unknown }>[] = [];
    const back = (days: number) => new Date(Date.now() - days * DAY_MS);
    for (let i = 125; i < 165; i++) firsts.push(order(`F${i}`, idOf(i), back(0), 25));
    for (const r of await Promise.all(firsts)) expect(r.status, JSON.stringify(r.json)).toBe(201);
    await expect
      .poll(
        async () => {
          const x = await s.get<Flow>('/v1/flows/thanks');
          return x.runs.active + x.runs.holdout + x.runs.goal + x.runs.completed;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(40);
    await expect
      .poll(
        async () => {
          const x = await s.get<Report>('/v1/flows/thanks/report');
          return x.messages.reduce((n, m) => n + m.n, 0) - x.entered.treated;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(0);
    await s.db.exec(
      `UPDATE flow_runs SET entered_at = entered_at - INTERVAL '40 days' WHERE flow_id = (SELECT flow_id FROM flows WHERE name = 'thanks')`,
    );
    await s.db.exec(
      `UPDATE orders SET ordered_at = ordered_at - INTERVAL '40 days' WHERE external_id LIKE 'F%'`,
    );
    await s.db.exec(
      `UPDATE domain_events SET occurred_at = occurred_at - INTERVAL '40 days' WHERE type = 'order.placed' AND ref LIKE 'F%'`,
    );
    const runs = await s.db.query<{ customer: string; holdout: boolean }>(
      `SELECT c.external_id AS customer, r.holdout FROM flow_runs r JOIN customers c ON c.customer_id = r.customer_id ORDER BY c.external_id`,
    );
    const again: Promise<{ status: number; json: unknown }>[] = [];
    const seen = { treated: 0, holdout: 0 };
    for (const [k, run] of runs.entries()) {
      const n = run.holdout ? seen.holdout++ : seen.treated++;
      // Half of the treated buy again for €40 and more, a quarter of the holdout for €15 and more.
      if (run.holdout ? n % 4 === 0 : n % 2 === 0)
        again.push(order(`A${k}`, run.customer, back(35), run.holdout ? 15 + (k % 5) : 40 + (k % 7)));
    }
    for (const r of await Promise.all(again)) expect(r.status, JSON.stringify(r.json)).toBe(201);
    await expect
      .poll(async () => (await s.get<Flow>('/v1/flows/thanks')).runs.goal, { timeout: 60_000, interval: 250 })
      .toBe(again.length);

    await s.page.getByRole('button', { name: 'Refresh', exact: true }).click();
    const r = await s.get<Report>('/v1/flows/thanks/report');
    expect(r.revenue.incremental).not.toBeNull();
    await expect.poll(() => text('[data-figure="goal"] [data-part="main"]')).toBe(en.int(r.runs.goal ?? 0));
    const card = (k: string, part = 'main') => text(`[data-figure="${k}"] [data-part="${part}"]`);
    expect(await card('entered')).toBe(en.int(r.entered.treated + r.entered.holdout));
    expect(await card('entered', 'sub')).toBe(
      `${en.int(r.entered.treated)} treated · ${en.int(r.entered.holdout)} holdout`,
    );
    expect(await card('in-progress')).toBe(en.int(r.runs.active ?? 0));
    expect(await card('messages')).toBe(en.int(r.messages.reduce((x, m) => x + m.n, 0)));
    expect(await card('conversions')).toBe(en.int(r.conversions.treated + r.conversions.holdout));
    expect(await card('conversions', 'sub')).toBe(
      `treated ${en.pct(r.conversions.treatedRate!)} · holdout ${en.pct(r.conversions.holdoutRate!)}`,
    );
    const words: Record<string, string> = {
      active: 'In progress',
      holdout: 'Holdout (get nothing)',
      goal: 'Reached the goal',
      completed: 'Completed every step',
      exited: 'Exited',
    };
    const order_ = ['active', 'holdout', 'goal', 'completed', 'exited'];
    expect(await s.page.locator('[data-testid="report-runs"] tbody tr').allInnerTexts()).toEqual(
      Object.keys(r.runs)
        .sort((a, b) => order_.indexOf(a) - order_.indexOf(b))
        .map((k) => `${words[k]}\t${en.int(r.runs[k]!)}`),
    );
    expect(await cells('[data-testid="report-conversions"] [data-arm="treated"]')).toEqual([
      'Treated',
      en.int(r.entered.treated),
      en.int(r.conversions.treated),
      en.pct(r.conversions.treatedRate!),
    ]);
    expect(await cells('[data-testid="report-conversions"] [data-arm="holdout"]')).toEqual([
      'Holdout',
      en.int(r.entered.holdout),
      en.int(r.conversions.holdout),
      en.pct(r.conversions.holdoutRate!),
    ]);
    const statusWord: Record<string, string> = { queued: 'Queued', sent: 'Sent', skipped: 'Skipped' };
    expect(await s.page.locator('[data-testid="report-messages"] tbody tr').allInnerTexts()).toEqual(
      r.messages.map((m) => {
        const [, v, step] = /^v(\d+):(.+)$/.exec(m.step)!;
        return `version ${v}, step ${step}\t${statusWord[m.status] ?? m.status}\t${en.int(m.n)}`;
      }),
    );
    const v = r.revenue;
    const inc = v.incremental!;
    expect(await text('[data-testid="revenue-intro"]')).toBe(
      `Net revenue per entrant in the 30 days after entering, over the runs whose 30 days are over: ${en.int(v.runs.treated)} treated, ${en.int(v.runs.holdout)} holdout.`,
    );
    expect(await text('[data-testid="per-entrant"] [data-part="treated"] dd')).toBe(
      money(v.perEntrantMinor.treated!),
    );
    expect(await text('[data-testid="per-entrant"] [data-part="holdout"] dd')).toBe(
      money(v.perEntrantMinor.holdout!),
    );
    const effect = (part: string) => text(`[data-testid="flow-effect"] [data-part="${part}"]`);
    expect(await effect('estimate')).toBe(signed(inc.difference.estimate));
    expect(await effect('interval')).toBe(
      `95 % interval: ${signed(inc.difference.low)} to ${signed(inc.difference.high)}`,
    );
    expect(await text('[data-testid="flow-effect"] [data-part="se"] dd')).toBe(
      money(inc.difference.standardError),
    );
    expect(await text('[data-testid="flow-effect"] [data-part="p"] dd')).toBe(pOf(inc.difference.pValue));
    expect(await text('[data-testid="flow-effect"] [data-part="relative"] dd')).toBe(
      inc.relative
        ? `${relPct(inc.relative.estimate)} (${relPct(inc.relative.low)} to ${relPct(inc.relative.high)})`
        : inc.relativeUnavailable!,
    );
    expect(await text('[data-testid="flow-effect"] [data-part="treated"] dd')).toBe(
      `${money(inc.variant.mean)} per entrant (± ${money(inc.variant.standardError)}), ${en.int(inc.variant.n)} entrants`,
    );
    expect(await text('[data-testid="flow-effect"] [data-part="holdout"] dd')).toBe(
      `${money(inc.control.mean)} per entrant (± ${money(inc.control.standardError)}), ${en.int(inc.control.n)} entrants`,
    );
    expect(inc.variant.n).toBe(v.runs.treated);
    expect(await effect('verdict')).toBe(v.verdict);
    expect(v.verdict).toMatch(/^The flow /);
    const chart = s.page.getByTestId('effects-chart');
    await chart.locator('svg').waitFor();
    expect(await chart.getAttribute('aria-label')).toBe(
      `Incremental revenue per entrant: ${signed(inc.difference.estimate)}, 95 % interval ${signed(inc.difference.low)} to ${signed(inc.difference.high)}.`,
    );
    expect(await s.page.getByTestId('report-notes').count()).toBe(r.notes.length ? 1 : 0);
    // The list follows.
    await s.page.goto(`${s.base}/flows`);
    await s.page.locator('[data-flow="thanks"]').waitFor();
    const f = await s.get<Flow>('/v1/flows/thanks');
    expect(await cells('[data-flow="thanks"]')).toEqual([
      'thanks',
      'Active',
      '1',
      en.int(f.runs.active),
      en.int(f.runs.holdout),
      en.int(f.runs.goal),
      en.int(f.runs.completed),
      when(f.updatedAt),
    ]);
    await s.page.goto(`${s.base}/flows/thanks`);
    await s.page.getByTestId('flow-effect').waitFor();
    expect(await s.violations()).toEqual([]);
    await s.shot('flow-report');
  });

  it('pause after a confirmation; a 409 is shown as the API words it', async () => {
    s.page.once('dialog', (d) => void d.accept());
    await s.page.getByRole('button', { name: 'Pause', exact: true }).click();
    const badge = s.page.locator('.toolbar [data-status]');
    await expect.poll(() => badge.textContent()).toBe('Paused');
    expect((await s.get<Flow>('/v1/flows/thanks')).status).toBe('paused');

    // A draft archived behind the page's back: activating it is the API's 409, shown as it words it.
    await ok(s.send('PUT', '/v1/flows/spare', { ...THANKS, name: 'spare' }));
    await s.page.goto(`${s.base}/flows/spare`);
    await s.page.getByRole('button', { name: 'Activate', exact: true }).waitFor();
    await ok(s.send('POST', '/v1/flows/spare/archive'));
    s.page.once('dialog', (d) => void d.accept());
    const [conflict] = await Promise.all([
      s.page.waitForResponse((r) => r.url().endsWith('/v1/flows/spare/activate')),
      s.page.getByRole('button', { name: 'Activate', exact: true }).click(),
    ]);
    expect(conflict.status()).toBe(409);
    const message = ((await conflict.json()) as { error: { message: string } }).error.message;
    expect(message).toMatch(/spare.*archived/);
    await expect.poll(() => text('[data-testid="action-error"]')).toBe(message);
    await expect.poll(() => text('.toolbar [data-status]')).toBe('Archived');
    expect(await s.violations()).toEqual([]);
  });

  it('the editor saves version 2 (in-flight runs stay on 1); a name change is refused', async () => {
    await s.page.goto(`${s.base}/flows/thanks`);
    await editor().waitFor();
    const current = JSON.parse(await editor().inputValue()) as typeof THANKS;
    expect(current).toEqual(THANKS);
    await editor().fill(JSON.stringify({ ...current, name: 'other' }, null, 2));
    await s.page.getByRole('button', { name: 'Save as a new version', exact: true }).click();
    await expect
      .poll(() => text('[data-error-for="name"]'))
      .toBe(
        'name (line 2): The name is thanks and stays so: to make another flow, use New flow. Show name in the editor',
      );
    await editor().fill(JSON.stringify({ ...current, description: 'Second version' }, null, 2));
    const saved = await save('thanks', 'Save as a new version');
    expect(saved.status).toBe(200);
    expect(saved.json.version).toBe(2);
    await expect.poll(() => text('[data-testid="flow-saved"]')).toBe('Saved as version 2.');
    await s.page.getByRole('heading', { name: 'Definition (version 2)' }).waitFor();
    expect(await text('[data-fact="description"] dd')).toBe('Second version');
    const f = await s.get<Flow>('/v1/flows/thanks');
    expect(await s.page.locator('[data-testid="versions"] tbody tr').allInnerTexts()).toEqual(
      [...f.versions]
        .reverse()
        .map(
          (x) => `${x.version}${x.version === 2 ? ' (current)' : ''}\t${when(x.createdAt)}\towner@shop.test`,
        ),
    );
    expect(await s.page.getByLabel('Definition (JSON)').getAttribute('aria-invalid')).toBe('false');
    await s.shot('flow');
  });

  it('a definition with kinds the page does not know is shown as keys and values', async () => {
    // The definition may grow (time triggers, tag / points / task steps): what the page has no words for
    // is shown as its keys and values rather than failing.
    await s.page.route('**/v1/flows/thanks', async (route) => {
      const response = await route.fetch();
      const json = (await response.json()) as { definition: Record<string, unknown> };
      json.definition = {
        ...json.definition,
        trigger: { time: { kind: 'pAliveBelow', threshold: 0.3 } },
        steps: [
          { id: 'mark', tag: { add: ['lapsing'] } },
          { id: 'gift', points: { points: 200, reason: 'come back' } },
          { id: 'odd', send: { template: 'thanks-1' }, wait: { days: 1 } },
        ],
        reentry: { kind: 'sometimes' },
      };
      await route.fulfill({ response, json });
    });
    try {
      await s.page.goto(`${s.base}/flows/thanks`);
      await s.page.getByTestId('definition').waitFor();
      expect(await text('[data-fact="trigger"] dd')).toBe(
        'At a time: the probability the customer is still active fell below a threshold (threshold: 0.3)',
      );
      expect(await s.page.locator('[data-testid="steps"] > li').allTextContents()).toEqual([
        'mark Step “tag”: add: ["lapsing"]',
        'gift Step “points”: points: 200, reason: come back',
        'odd A step of an unknown kind: send: {"template":"thanks-1"}, wait: {"days":1}',
      ]);
      expect(await text('[data-fact="reentry"] dd')).toBe('kind: sometimes');
      expect(await s.violations()).toEqual([]);
    } finally {
      await s.page.unroute('**/v1/flows/thanks');
    }
  });

  it('a survey step in words, linking to its survey, in English and Ukrainian', async () => {
    await s.page.route('**/v1/flows/thanks', async (route) => {
      const response = await route.fetch();
      const json = (await response.json()) as { definition: Record<string, unknown> };
      json.definition = { ...json.definition, steps: [{ id: 'ask', survey: { name: 'after-delivery' } }] };
      await route.fulfill({ response, json });
    });
    try {
      await s.page.goto(`${s.base}/flows/thanks`);
      await s.page.getByTestId('definition').waitFor();
      expect(await text('[data-step="ask"]')).toBe(
        'ask Invite to the survey after-delivery: its message with one-click score links (the survey’s throttle applies)',
      );
      expect(await s.page.locator('[data-step="ask"] a').getAttribute('href')).toBe(
        '/surveys/after-delivery',
      );
      expect(await s.violations()).toEqual([]);
      await s.page.getByLabel('Language').selectOption('uk');
      await expect
        .poll(() => text('[data-step="ask"]'))
        .toBe(
          'ask Запросити до опитування after-delivery: лист з оцінкою в один клік (діє обмеження частоти опитування)',
        );
      await s.page.getByLabel('Мова').selectOption('en');
      await s.page.getByRole('heading', { name: 'Flow thanks' }).waitFor();
    } finally {
      await s.page.unroute('**/v1/flows/thanks');
    }
  });

  it('installs a built-in flow from New flow as a draft with its messages; a second install is refused', async () => {
    await s.page.goto(`${s.base}/flows/new`);
    await s.page.getByTestId('flow-builtins').waitFor();
    expect(await s.page.locator('[data-builtin]').count()).toBe(10);
    expect(await s.violations()).toEqual([]);
    await s.page.getByLabel('Shop address for the messages’ buttons').fill('https://shop.example');
    await s.page.getByRole('button', { name: 'Install Abandoned checkout', exact: true }).click();
    await s.page.waitForURL(/\/flows\/abandoned-checkout$/);
    const f = await s.get<Flow & { definition: { trigger: unknown } }>('/v1/flows/abandoned-checkout');
    expect(f).toMatchObject({ status: 'draft', version: 1 });
    expect(f.definition.trigger).toEqual({ event: 'event.tracked', eventType: 'checkout_started' });
    const templates = await s.get<{ data: { name: string }[] }>('/v1/templates');
    expect(templates.data.map((x) => x.name)).toEqual(
      expect.arrayContaining(['abandoned-checkout-1', 'abandoned-checkout-2', 'abandoned-checkout-3']),
    );
    await s.page.goto(`${s.base}/flows/new`);
    await s.page.getByRole('button', { name: 'Install Abandoned checkout', exact: true }).click();
    await expect.poll(() => text('[data-testid="builtins-error"]')).toMatch(/exists already/);
  });

  it('in Ukrainian the list and the flow page are translated and axe-clean', async () => {
    await s.page.goto(`${s.base}/flows`);
    await s.page.getByLabel('Language').selectOption('uk');
    await s.page.getByRole('heading', { name: 'Сценарії', exact: true }).waitFor();
    expect(await text('[data-flow="thanks"] [data-status]')).toBe('Призупинено');
    expect(await text('[data-flow="spare"] [data-status]')).toBe('В архіві');
    expect(await s.page.getByRole('link', { name: 'Новий сценарій' }).count()).toBe(1);
    expect(await s.violations()).toEqual([]);
    await s.page.getByRole('link', { name: 'thanks', exact: true }).click();
    await s.page.getByRole('heading', { name: 'Сценарій thanks' }).waitFor();
    await s.page.getByTestId('flow-effect').waitFor();
    expect(await text('[data-fact="trigger"] dd')).toBe('Коли записано order.placed');
    expect(await text('[data-step="later"]')).toBe('later Чекати 2 дні 3 години');
    expect(await text('[data-fact="reentry"] dd')).toBe('Один раз на клієнта, назавжди');
    expect(await s.page.getByRole('button', { name: 'Увімкнути', exact: true }).count()).toBe(1);
    expect(await s.page.getByRole('button', { name: 'Перевірити', exact: true }).count()).toBe(1);
    const r = await s.get<Report>('/v1/flows/thanks/report');
    expect(await text('[data-figure="entered"] dt')).toBe('Увійшли');
    expect(await text('[data-figure="entered"] [data-part="main"]')).toBe(
      new Intl.NumberFormat('uk').format(r.entered.treated + r.entered.holdout),
    );
    expect(await s.violations()).toEqual([]);
    await s.shot('flow-uk');
    await s.page.getByLabel('Мова').selectOption('en');
    await s.page.getByRole('heading', { name: 'Flow thanks' }).waitFor();
  });

  it('an analyst reads the list, the flow, a simulation and the report and is offered no action nor editor', async () => {
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
      await p.getByRole('link', { name: 'Flows', exact: true }).click();
      await p.locator('[data-flow="thanks"]').waitFor();
      expect(await p.getByRole('link', { name: 'New flow' }).count()).toBe(0);
      await p.getByRole('link', { name: 'thanks', exact: true }).click();
      await p.getByTestId('flow-effect').waitFor();
      for (const name of ['Activate', 'Pause', 'Archive', 'Save as a new version'])
        expect(await p.getByRole('button', { name, exact: true }).count(), name).toBe(0);
      expect(await p.getByLabel('Definition (JSON)').count()).toBe(0);
      expect(JSON.parse((await p.getByTestId('flow-json').textContent()) ?? '')).toMatchObject({
        name: 'thanks',
        description: 'Second version',
      });
      await p.getByRole('button', { name: 'Simulate', exact: true }).click();
      await p.getByTestId('simulation').waitFor();
      await p.goto(`${s.base}/flows/new`);
      await p.getByTestId('no-rights').waitFor();
      expect(await p.getByRole('button', { name: 'Save draft' }).count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
