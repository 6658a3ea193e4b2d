import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FitInput, ValidateInput } from './schema.js';
import { fit, fitJson, validate } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { OrderLineInput, type OrderLineRow } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import { JobRunner } from '../jobs/service.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { CLV_JOBS as JOB_HANDLERS } from './jobs.js';
import { testApp } from '../../../test/support/server.js';

describe.each(testEngines())('CLV over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
    // 300 customers with 1–6 orders over 2023 (deterministic LCG).
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const rows: OrderLineRow[] = [];
    for (let c = 0; c < 300; c++) {
      const n = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < n; k++)
        rows.push({
          orderId: `o-${c}-${k}`,
          customerId: `c-${c}`,
          orderedAt: new Date(Date.UTC(2023, 0, 1) + Math.floor(rand() * 360) * 86_400_000),
          currency: 'EUR',
          hasLine: false,
          sku: null,
          title: null,
          quantity: null,
          unitPriceMinor: null,
          lineTotalMinor: null,
          orderTotalMinor: 1000 + Math.floor(rand() * 5000),
          discountMinor: null,
          shippingMinor: null,
          taxMinor: null,
          channel: null,
          source: null,
          status: 'paid',
          country: null,
          email: null,
        } as OrderLineRow);
    }
    await mergeRows(db, { entity: 'orders', rows }, new Date());
  });
  afterAll(() => dispose());

  it('runs a prediction job and serves a customer prediction', async () => {
    const body = { calibrationEnd: '2023-12-31', horizon: 26, force: true };
    expect((await t.call('POST', '/v1/clv/predictions', { role: 'marketer', body })).status).toBe(403);
    const bad = await t.call('POST', '/v1/clv/predictions', {
      role: 'analyst',
      body: { ...body, horizon: -1 },
    });
    expect(bad.status).toBe(400);
    expect((await t.call('GET', '/v1/customers/c-1/clv', { role: 'agent' })).status).toBe(404);
    expect((await t.call('GET', '/v1/clv/summary', { role: 'analyst' })).status).toBe(404);
    expect((await t.call('GET', '/v1/clv/predictions', { role: 'analyst' })).status).toBe(404);
    const queued = await t.call('POST', '/v1/clv/predictions', { role: 'analyst', body });
    expect(queued.status).toBe(202);
    await new JobRunner({ db, handlers: JOB_HANDLERS, logger: pino({ level: 'silent' }) }).drain();
    const done = await t.call('GET', `/v1/clv/predictions/${queued.json.jobId}`, { role: 'analyst' });
    // 300 customers: too few to fit on a calibration period, so no holdout: MBG/NBD, saying why.
    expect(done.json).toMatchObject({ status: 'done', result: { customers: 300, model: 'mbgnbd' } });
    expect(done.json.result.selection).toMatchObject({ method: 'default', chosen: 'mbgnbd', candidates: [] });
    expect(done.json.result.selection.reason).toMatch(
      /^No holdout: .*too little to fit on \(only \d+ customers/,
    );
    const p = await t.call('GET', '/v1/customers/c-1/clv', { role: 'agent' });
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ customerId: 'c-1', horizon: 26, timeUnit: 'week', currency: 'EUR' });
    expect(p.json.clvMinor).toBeGreaterThan(0);
    expect(p.json.pAlive).toBeGreaterThan(0);
    expect(p.json.pAlive).toBeLessThanOrEqual(1);
    expect(p.json.churnRisk).toBeCloseTo(1 - p.json.pAlive, 12);
    expect(p.json.expectedSpendMinor).toBeGreaterThan(0);
    // c-1 buys regularly: its next order is due, after the as-of date.
    expect(typeof p.json.nextOrderAt).toBe('string');
    expect(p.json.nextOrderAt > p.json.asOf).toBe(true);
    const out = await t.call('POST', '/v1/clv/predictions', {
      role: 'analyst',
      body: { ...body, out: 'p.csv' },
    });
    expect(out.status).toBe(400);
    expect(out.json.error.details.issues).toEqual([
      { path: 'out', message: expect.stringContaining('out is a CLI-only option') },
    ]);
  });

  it("summarises the latest run with its job's fit, lists its predictions by churn risk, and as CSV", async () => {
    const summary = await t.call('GET', '/v1/clv/summary', { role: 'analyst' });
    expect(summary.status).toBe(200);
    const s = summary.json;
    expect(s).toMatchObject({
      models: ['mbgnbd', 'gamma-gamma'],
      asOf: '2023-12-31T00:00:00.000Z',
      horizon: 26,
      timeUnit: 'week',
      clvMonths: 12,
      currency: 'EUR',
      customers: 300,
      withClv: 300,
    });
    expect(s.modelVersion).toMatch(/^mbgnbd\+gamma-gamma:[0-9a-f]{12}$/);
    // The fit is the job's result: the model, its parameters and log-likelihoods.
    expect(s.fit.input).toMatchObject({ calibrationEnd: '2023-12-31', horizon: 26 });
    expect(s.fit.result).toMatchObject({ model: 'mbgnbd', customers: 300 });
    expect(Object.keys(s.fit.result.params).sort()).toEqual(['a', 'alpha', 'b', 'r']);
    expect(s.fit.result.logLikelihood).toBeLessThan(0);
    expect(typeof s.fit.result.spendLogLikelihood).toBe('number');
    // The histograms count every customer; the CLV bins are round and contiguous.
    const count = (bins: { customers: number }[]) => bins.reduce((a, b) => a + b.customers, 0);
    expect(count(s.clvHistogram)).toBe(300);
    expect(count(s.churnRiskHistogram)).toBe(300);
    expect(s.churnRiskHistogram).toHaveLength(10);
    for (let i = 1; i < s.clvHistogram.length; i++)
      expect(s.clvHistogram[i].from).toBe(s.clvHistogram[i - 1].to);
    expect(s.clvTotal).toBeGreaterThan(0);

    const list = await t.call('GET', '/v1/clv/predictions?limit=5', { role: 'agent' });
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ total: 300, sort: 'churnRisk', order: 'desc', currency: 'EUR' });
    expect(list.json.data).toHaveLength(5);
    const risks = list.json.data.map((r: { churnRisk: number }) => r.churnRisk);
    expect(risks).toEqual([...risks].sort((a, b) => b - a));
    // The same customer as GET /v1/customers/{id}/clv, in major units.
    const first = list.json.data[0];
    const one = await t.call('GET', `/v1/customers/${first.customerId}/clv`, { role: 'agent' });
    expect(first.pAlive).toBe(one.json.pAlive);
    expect(first.clv).toBe(one.json.clvMinor / 100);
    const byClv = await t.call('GET', '/v1/clv/predictions?sort=clv&limit=3', { role: 'agent' });
    const clvs = byClv.json.data.map((r: { clv: number }) => r.clv);
    expect(clvs).toEqual([...clvs].sort((a, b) => b - a));

    // The file is an export: agents read predictions, not the whole list of contacts.
    expect((await t.call('GET', '/v1/clv/predictions?format=csv', { role: 'agent' })).status).toBe(403);
    const csv = await t.call('GET', '/v1/clv/predictions?format=csv', { role: 'analyst' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(
      'attachment; filename="clv-predictions-2023-12-31-churnRisk-desc.csv"',
    );
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'customer_id,email,first_name,last_name,p_alive,churn_risk,expected_purchases,clv,expected_spend,next_order_date',
    );
    expect(lines).toHaveLength(301);
    expect(lines.slice(1, 6).map((l) => l.split(',')[0])).toEqual(
      list.json.data.map((r: { customerId: string }) => r.customerId),
    );
    const cells = lines[1]!.split(',');
    expect(Number(cells[4])).toBeCloseTo(first.pAlive, 6);
    expect(cells[7]).toBe(first.clv.toFixed(2));
    expect((await t.call('GET', '/v1/clv/predictions?sort=name', { role: 'agent' })).status).toBe(400);
    expect((await t.call('GET', '/v1/clv/summary', { role: 'marketer' })).status).toBeLessThan(500);
  });
});

/**
 * 600 customers simulated the BG/NBD way over 2022–2023 (deterministic LCG): each buys at their own
 * rate (one order per 10–90 days) and drops out after a purchase with their own probability
 * (10–50%). The models are identified on such data, so every fit converges in well under a second.
 */
function simulatedOrders(): OrderLineRow[] {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows: OrderLineRow[] = [];
  for (let c = 0; c < 600; c++) {
    const perDay = 1 / (10 + rand() * 80);
    const dropout = 0.1 + 0.4 * rand();
    const spend = 1000 + rand() * 4000;
    let day = Math.floor(rand() * 365);
    for (let k = 0; day < 730; k++) {
      rows.push(
        OrderLineInput.parse({
          order_id: `o-${c}-${k}`,
          customer_id: `c-${c}`,
          ordered_at: new Date(Date.UTC(2022, 0, 1) + Math.floor(day) * 86_400_000).toISOString(),
          currency: 'EUR',
          order_total: (Math.round(spend * (0.5 + rand())) / 100).toFixed(2),
        }),
      );
      if (rand() < dropout) break;
      day += 1 - Math.log(1 - rand()) / perDay;
    }
  }
  return rows;
}

describe.each(testEngines())('CLV fits and validations over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
    await mergeRows(db, { entity: 'orders', rows: simulatedOrders() }, new Date());
  });
  afterAll(() => dispose());

  const withoutSeconds = ({ seconds: _, ...rest }: Record<string, unknown>) => rest;

  it('fits each model on the stored orders and answers the `retain clv fit --json` document', async () => {
    for (const model of ['bgnbd', 'pareto-nbd', 'mbgnbd', 'gamma-gamma'] as const) {
      const body = { model, calibrationEnd: '2023-12-31', timeUnit: 'week' };
      const r = await t.call('POST', '/v1/clv/fits', { role: 'analyst', body });
      expect(r.status, model).toBe(200);
      expect(Object.keys(r.json)).toEqual([
        'model',
        'params',
        'logLikelihood',
        'customers',
        'seconds',
        'warnings',
      ]);
      expect(r.json.logLikelihood, model).toBeLessThan(0);
      const cli = fitJson(await fit(testContext(db), FitInput.parse(body)));
      expect(withoutSeconds(r.json), model).toEqual(withoutSeconds(cli));
    }
    const gg = await t.call('POST', '/v1/clv/fits', {
      role: 'admin',
      body: { model: 'gamma-gamma', calibrationEnd: '2023-12-31', timeUnit: 'day' },
    });
    expect(Object.keys(gg.json.params)).toEqual(['p', 'q', 'v']);
    expect(gg.json.customers).toBeLessThan(600); // repeat buyers only
  });

  it('predicts with the model chosen by holdout fit, and says which and why', async () => {
    const body = { calibrationEnd: '2023-12-31', horizon: 26 };
    const queued = await t.call('POST', '/v1/clv/predictions', { role: 'analyst', body });
    expect(queued.status, queued.text).toBe(202);
    await new JobRunner({ db, handlers: JOB_HANDLERS, logger: pino({ level: 'silent' }) }).drain();
    const done = await t.call('GET', `/v1/clv/predictions/${queued.json.jobId}`, { role: 'analyst' });
    expect(done.json.status, done.json.lastError).toBe('done');
    const r = done.json.result;
    // Two years of history (first order 2022-01-01): the last quarter, 26 weeks, is held out.
    expect(r.selection).toMatchObject({
      method: 'holdout',
      holdout: { calibrationEnd: '2023-07-02', holdoutEnd: '2023-12-31', weeks: 26 },
    });
    expect(r.selection.candidates.map((c: { model: string; role: string }) => [c.model, c.role])).toEqual([
      ['mbgnbd', 'candidate'],
      ['pareto-nbd', 'candidate'],
      ['bgnbd', 'reference'],
    ]);
    for (const c of r.selection.candidates) {
      expect(c.holdout.mae).toBeGreaterThan(0);
      expect(c.holdout.totalActual).toBe(r.selection.holdout.purchases);
    }
    expect(['mbgnbd', 'pareto-nbd']).toContain(r.model);
    expect(r.selection.chosen).toBe(r.model);
    expect(r.selection.reason).toMatch(/^Held out the last 26 weeks \(2023-07-03 … 2023-12-31\)/);
    expect(r.selection.reason).toContain('BG/NBD is scored for reference only');
    // Dropout is real in these data (most customers leave within a few orders): one-time buyers get
    // high churn risks, and different ones (the longer the silence, the higher).
    const o = r.churnRisk.oneTimeBuyers;
    expect(o.customers).toBeGreaterThan(50);
    expect(o.median).toBeGreaterThan(0.5);
    expect(o.max - o.min).toBeGreaterThan(0.01);
    // The CLI document is the job's result (without the job's `out`).
    const { out: _out, ...job } = r;
    const { predict, predictJson } = await import('./service.js');
    const { PredictInput } = await import('./schema.js');
    const cli = predictJson(await predict(testContext(db), PredictInput.parse(body)));
    expect(withoutSeconds(job)).toEqual(withoutSeconds(JSON.parse(JSON.stringify(cli))));
    // The stored prediction names the chosen model.
    const p = await t.call('GET', '/v1/customers/c-1/clv', { role: 'agent' });
    expect(p.json.modelVersion).toMatch(new RegExp(`^${r.model}\\+gamma-gamma:`));
  });

  it('with --model bgnbd, warns that one-time buyers all get P(alive) = 1', async () => {
    const { predict } = await import('./service.js');
    const { PredictInput } = await import('./schema.js');
    const r = await predict(
      testContext(db),
      PredictInput.parse({ calibrationEnd: '2023-12-31', horizon: 26, model: 'bgnbd' }),
    );
    expect(r.selection).toMatchObject({ method: 'explicit', chosen: 'bgnbd', reason: 'chosen with --model' });
    expect(r.churnRisk.oneTimeBuyers).toMatchObject({ min: 0, max: 0 });
    expect(r.warnings).toContainEqual(
      expect.stringMatching(/^bgnbd gives all \d+ one-time buyers P\(alive\) = 1 \(churn risk 0\)/),
    );
  });

  it("takes the store's margin and discount rate when the request gives none", async () => {
    const { predict } = await import('./service.js');
    const { PredictInput } = await import('./schema.js');
    const { updateStore } = await import('../settings/service.js');
    const input = { calibrationEnd: '2023-12-31', horizon: 26, model: 'pareto-nbd' };
    const given = await predict(
      testContext(db),
      PredictInput.parse({ ...input, margin: 0.4, discountRate: 0.02 }),
    );
    await updateStore(testContext(db), { defaultMargin: 0.4, defaultDiscountRate: 0.02 });
    try {
      const stored = await predict(testContext(db), PredictInput.parse(input));
      expect(stored.predictions.clvOf(0)).toBe(given.predictions.clvOf(0));
      const plain = await predict(
        testContext(db),
        PredictInput.parse({ ...input, margin: 1, discountRate: 0.02 }),
      );
      expect(stored.predictions.clvOf(0)).toBeCloseTo(0.4 * plain.predictions.clvOf(0), 9);
    } finally {
      await updateStore(testContext(db), { defaultMargin: 1, defaultDiscountRate: 0.01 });
    }
  });

  it('validates on a holdout and answers the `retain clv validate --json` report', async () => {
    const body = { model: 'pareto-nbd', calibrationEnd: '2023-06-30', holdoutEnd: '2023-12-31' };
    const r = await t.call('POST', '/v1/clv/validations', { role: 'analyst', body });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ model: 'pareto-nbd', customers: 600, holdoutDuration: 26 + 2 / 7 });
    expect(r.json.sufficiency.verdict).not.toBe('refuse');
    expect(r.json.byFrequency.length).toBeGreaterThan(0);
    const cli = await validate(testContext(db), ValidateInput.parse(body));
    expect(withoutSeconds(r.json)).toEqual(withoutSeconds(JSON.parse(JSON.stringify(cli))));
  });

  it('refuses bad, missing and CLI-only options with 400 naming the field', async () => {
    const bad = async (path: string, body: unknown, field: string) => {
      const r = await t.call('POST', path, { role: 'analyst', body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('validation');
      expect(r.json.error.details.issues[0].path, JSON.stringify(body)).toBe(field);
      return r.json.error.message as string;
    };
    const fit = { model: 'bgnbd', calibrationEnd: '2023-12-31' };
    expect(await bad('/v1/clv/fits', { ...fit, summary: 'cdnow.csv' }, 'summary')).toContain('CLI-only');
    await bad('/v1/clv/fits', { ...fit, out: 'fit.json' }, 'out');
    expect(await bad('/v1/clv/fits', { ...fit, model: 'sbg' }, 'model')).toContain('survivor');
    await bad('/v1/clv/fits', { calibrationEnd: '2023-12-31' }, 'model');
    await bad('/v1/clv/fits', { model: 'bgnbd' }, 'calibrationEnd');
    await bad('/v1/clv/fits', { ...fit, calibrationEnd: '31/12/2023' }, 'calibrationEnd');
    await bad('/v1/clv/fits', { ...fit, timeUnit: 'month' }, 'timeUnit');
    await bad('/v1/clv/fits', { ...fit, force: 'yes' }, 'force');
    const val = { calibrationEnd: '2023-06-30', holdoutEnd: '2023-12-31' };
    await bad('/v1/clv/validations', { ...val, summary: 'calib.csv' }, 'summary');
    await bad('/v1/clv/validations', { ...val, holdoutEnd: '2023-06-01' }, 'holdoutEnd');
    await bad('/v1/clv/validations', { calibrationEnd: '2023-06-30' }, 'holdoutEnd');
    await bad('/v1/clv/validations', { ...val, model: 'gamma-gamma' }, 'model');
    expect((await t.call('POST', '/v1/clv/fits', { role: 'analyst', body: [fit] })).status).toBe(400);
    expect((await t.call('POST', '/v1/clv/fits', { role: 'analyst', body: '{"model":' })).status).toBe(400);
    // Too little history: the sufficiency check refuses with its reasons unless forced.
    const early = { model: 'bgnbd', calibrationEnd: '2022-02-28' };
    const refused = await t.call('POST', '/v1/clv/fits', { role: 'analyst', body: early });
    expect(refused.status).toBe(400);
    expect(refused.json.error.details).toMatchObject({ verdict: 'refuse' });
    const forced = await t.call('POST', '/v1/clv/fits', { role: 'analyst', body: { ...early, force: true } });
    expect(forced.status).toBe(200);
  });

  it('needs a key holding models:run (admin, analyst)', async () => {
    const fit = { model: 'bgnbd', calibrationEnd: '2023-12-31' };
    const val = { calibrationEnd: '2023-06-30', holdoutEnd: '2023-12-31' };
    for (const [path, body] of [
      ['/v1/clv/fits', fit],
      ['/v1/clv/validations', val],
    ] as const) {
      expect((await t.call('POST', path, { body })).status, path).toBe(401);
      expect((await t.call('POST', path, { body, key: 'rk_nope' })).status, path).toBe(401);
      for (const role of ['marketer', 'agent'] as const) {
        const r = await t.call('POST', path, { body, role });
        expect(r.status, `${path} ${role}`).toBe(403);
        expect(r.json.error.details).toMatchObject({ required: 'models:run' });
      }
      expect((await t.call('POST', path, { body, role: 'admin' })).status, path).toBe(200);
    }
  });
});
