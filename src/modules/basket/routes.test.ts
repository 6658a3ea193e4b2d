import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluateOptions, RulesInput } from './schema.js';
import { evaluate, rules } from './service.js';
import { testContext } from '../../../test/support/context.js';
import { OrderLineInput, ProductInput, type OrderLineRow } from '../imports/schema.js';
import { mergeRows } from '../ingest/service.js';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { MAX_TOP_RULES } from './routes.js';
import { testApp } from '../../../test/support/server.js';

type Rule = { antecedent: string[]; consequent: string[] };
const withoutSeconds = ({ seconds: _, ...rest }: Record<string, unknown>) => rest;

/**
 * 24 customers: a first order MUG + SAUCER (+ a POST postage line), a second TEA + HONEY; half of them
 * come back for the pricier BIGMUG + SAUCER. So TEA ⇄ HONEY has lift 2.5 (60 baskets, 24 with both),
 * MUG → SAUCER confidence 1, and MUG → BIGMUG is an upsell made by 12 customers.
 */
async function seed(db: Database): Promise<void> {
  const catalogue = [
    ['MUG', 'Mug', 'kitchen', '10.00', '4.00'],
    ['BIGMUG', 'Big mug', 'kitchen', '25.00', '10.00'],
    ['SAUCER', 'Saucer', 'kitchen', '6.00', '2.00'],
    ['TEA', 'Tea', 'pantry', '8.00', '3.00'],
    ['HONEY', 'Honey', 'pantry', '9.00', '3.00'],
  ] as const;
  const price: Record<string, string> = Object.fromEntries(catalogue.map((p) => [p[0], p[3]]));
  const products = catalogue.map(([sku, title, category, price, unit_cost]) =>
    ProductInput.parse({ sku, title, category, price, unit_cost, currency: 'EUR' }),
  );
  await mergeRows(db, { entity: 'products', rows: products }, new Date());
  const rows: OrderLineRow[] = [];
  const order = (id: string, customer: string, day: number, skus: string[]) => {
    for (const sku of skus)
      rows.push(
        OrderLineInput.parse({
          order_id: id,
          customer_id: customer,
          ordered_at: `2024-01-${String(day).padStart(2, '0')}T10:00:00Z`,
          currency: 'EUR',
          sku,
          quantity: '1',
          unit_price: price[sku] ?? '3.95', // POST: postage, not in the catalogue
        }),
      );
  };
  for (let c = 0; c < 24; c++) {
    order(`a${c}`, `c${c}`, 1 + (c % 5), ['MUG', 'SAUCER', 'POST']);
    order(`b${c}`, `c${c}`, 10 + (c % 5), ['TEA', 'HONEY']);
    if (c < 12) order(`d${c}`, `c${c}`, 20 + (c % 5), ['BIGMUG', 'SAUCER']);
  }
  await mergeRows(db, { entity: 'orders', rows }, new Date());
}

describe.each(testEngines())('basket mining over HTTP on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db);
    await seed(db);
  });
  afterAll(() => dispose());

  it('finds ordered products by part of their name or SKU, most ordered first', async () => {
    const r = await t.call('GET', '/v1/basket/products?q=MUG', { role: 'analyst' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      products: [
        { sku: 'MUG', title: 'Mug', orders: 24 },
        { sku: 'BIGMUG', title: 'Big mug', orders: 12 },
      ],
    });
    const byName = await t.call('GET', '/v1/basket/products?q=hon&limit=5', { role: 'marketer' });
    expect(byName.json.products).toEqual([{ sku: 'HONEY', title: 'Honey', orders: 24 }]);
    // Postage is ordered under its line title only (not in the catalogue); `%` is a character, not a wildcard.
    expect((await t.call('GET', '/v1/basket/products?q=post', { role: 'analyst' })).json.products).toEqual([
      { sku: 'POST', title: null, orders: 24 },
    ]);
    expect((await t.call('GET', '/v1/basket/products?q=%25', { role: 'analyst' })).json.products).toEqual([]);
    const empty = await t.call('GET', '/v1/basket/products?q=', { role: 'analyst' });
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toContain('q');
    expect((await t.call('GET', '/v1/basket/products?q=mug', { role: 'agent' })).status).toBe(403);
  });

  it('mines rules with the CLI options and JSON; `rules` is the total, `top` the strongest', async () => {
    const r = await t.call('GET', '/v1/basket/rules?minSupport=0.1&minConfidence=0.5&top=2', {
      role: 'analyst',
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ transactions: 60, threshold: 6 });
    expect(r.json.rules).toBeGreaterThan(2);
    expect(r.json.top).toHaveLength(2);
    expect(r.json.top[0]).toMatchObject({ confidence: 1, lift: 2.5 });
    // Every SKU of the top rules is named by its catalogue title.
    for (const sku of r.json.top.flatMap((x: Rule) => [...x.antecedent, ...x.consequent]))
      expect(r.json.titles[sku]).toBe(
        { TEA: 'Tea', HONEY: 'Honey', MUG: 'Mug', SAUCER: 'Saucer' }[sku as 'TEA'],
      );
    expect(r.json.top.flatMap((x: Rule) => [...x.antecedent, ...x.consequent]).sort()).toEqual(
      expect.arrayContaining(['HONEY', 'TEA']),
    );
    // The same document as `retain basket rules --format orders … --json` (timing aside).
    const cli = await rules(
      testContext(db),
      RulesInput.parse({ minSupport: '0.1', minConfidence: '0.5', top: '2' }),
    );
    expect(withoutSeconds(r.json)).toEqual(withoutSeconds(cli as never));

    const all = await t.call('GET', '/v1/basket/rules?minSupport=0.1&minConfidence=0.5', {
      role: 'marketer',
    });
    expect(all.json.top).toHaveLength(Math.min(10, all.json.rules));
    const mentions = (rules: Rule[]) => rules.flatMap((x) => [...x.antecedent, ...x.consequent]);
    expect(mentions(all.json.top)).not.toContain('POST');
    const withPostage = await t.call(
      'GET',
      '/v1/basket/rules?minSupport=0.3&minConfidence=0.5&defaultExclusions=false&top=50',
      { role: 'admin' },
    );
    expect(mentions(withPostage.json.top)).toContain('POST');
    const bySkuList = await t.call(
      'GET',
      '/v1/basket/rules?minSupport=0.1&minConfidence=0.5&top=50&excludeSku=TEA&excludeSku=BIGMUG,SAUCER',
      { role: 'admin' },
    );
    expect(mentions(bySkuList.json.top).sort()).toEqual([]);
  });

  it('counts frequent itemsets like `retain basket itemsets --json`', async () => {
    const r = await t.call('GET', '/v1/basket/itemsets?minSupport=0.2&variant=maximal', { role: 'analyst' });
    expect(r.status).toBe(200);
    // Maximal at 12 of 60 baskets: {MUG, SAUCER}, {TEA, HONEY}, {BIGMUG, SAUCER}.
    expect(r.json).toMatchObject({ transactions: 60, itemsets: 3, bySize: { '2': 3 } });
    const bad = await t.call('GET', '/v1/basket/itemsets?minSupport=0.2&variant=some', { role: 'analyst' });
    expect(bad.json.error.details.issues[0].path).toBe('variant');
  });

  it('suggests bundles, frequently-bought-together and upsells', async () => {
    const bundles = await t.call('GET', '/v1/basket/bundles?minSupport=0.1', { role: 'analyst' });
    expect(bundles.status).toBe(200);
    expect(bundles.json.transactions).toBe(60);
    expect(bundles.json.bundles.map((b: { skus: string[] }) => [...b.skus].sort())).toContainEqual([
      'HONEY',
      'TEA',
    ]);
    const fbt = await t.call('GET', '/v1/basket/fbt?sku=MUG&n=2', { role: 'analyst' });
    expect(fbt.status).toBe(200);
    expect(fbt.json.fbt).toHaveLength(1);
    expect(fbt.json.fbt[0]).toMatchObject({ sku: 'MUG', together: [{ sku: 'SAUCER', confidence: 1 }] });
    const upsell = await t.call('GET', '/v1/basket/upsell?minCustomers=3', { role: 'analyst' });
    expect(upsell.status).toBe(200);
    expect(upsell.json.upsell).toContainEqual(
      expect.objectContaining({ fromSku: 'MUG', toSku: 'BIGMUG', customers: 12 }),
    );
    expect(upsell.json).toHaveProperty('nextProduct');
    expect(upsell.json).toMatchObject({ productsWithCategory: 5, notes: [] });
    const none = await t.call('GET', '/v1/basket/upsell?minCustomers=30', { role: 'analyst' });
    expect(none.json.upsell).toEqual([]);
    expect(none.json.notes).toEqual([expect.stringMatching(/no upsell path .* reaches 30 customers/)]);
  });

  it("leaves out the store's own non-product SKUs unless default exclusions are off", async () => {
    const { updateStore } = await import('../settings/service.js');
    const { testContext } = await import('../../../test/support/context.js');
    await updateStore(testContext(db), { nonProductSkus: ['SAUCER'] });
    try {
      const fbt = await t.call('GET', '/v1/basket/fbt?sku=MUG&n=2', { role: 'analyst' });
      expect(fbt.status).toBe(200);
      expect(JSON.stringify(fbt.json)).not.toContain('SAUCER');
      const kept = await t.call('GET', '/v1/basket/fbt?sku=MUG&n=2&defaultExclusions=false', {
        role: 'analyst',
      });
      expect(JSON.stringify(kept.json.fbt)).toContain('SAUCER');
    } finally {
      await updateStore(testContext(db), { nonProductSkus: [] });
    }
  });

  it('evaluates the recommenders like `retain recommend evaluate --json`', async () => {
    const r = await t.call('GET', '/v1/recommendations/evaluation?k=3', { role: 'analyst' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ k: 3, customers: 24 });
    expect(Object.keys(r.json.methods)).toEqual(expect.arrayContaining(['popularity', 'blend']));
    const cli = await evaluate(testContext(db), EvaluateOptions.parse({ k: '3' }));
    expect(withoutSeconds(r.json)).toEqual(withoutSeconds(cli as never));
  });

  it('answers 404 when no orders fall in the period, as reports do for an empty store', async () => {
    const r = await t.call('GET', '/v1/basket/rules?minSupport=0.1&minConfidence=0.5&since=2099-01-01', {
      role: 'analyst',
    });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('period') });
  });

  it('refuses bad and CLI-only parameters with 400 naming the parameter', async () => {
    const bad = async (path: string, field: string) => {
      const r = await t.call('GET', path, { role: 'analyst' });
      expect(r.status, path).toBe(400);
      expect(r.json.error.code).toBe('validation');
      expect(r.json.error.details.issues[0].path, path).toBe(field);
      return r.json.error.message as string;
    };
    expect(await bad('/v1/basket/rules?minSupport=0&minConfidence=0.5', 'minSupport')).toContain('(0, 1]');
    await bad('/v1/basket/rules?minSupport=1.5&minConfidence=0.5', 'minSupport');
    await bad('/v1/basket/rules?minConfidence=0.5', 'minSupport');
    expect(await bad('/v1/basket/rules?minSupport=0.1&minConfidence=1.2', 'minConfidence')).toContain(
      '[0, 1]',
    );
    await bad('/v1/basket/rules?minSupport=0.1&minConfidence=-0.1', 'minConfidence');
    await bad(`/v1/basket/rules?minSupport=0.1&minConfidence=0.5&top=${MAX_TOP_RULES + 1}`, 'top');
    await bad('/v1/basket/rules?minSupport=0.1&minConfidence=0.5&minSupport=0.2', 'minSupport');
    expect(await bad('/v1/basket/rules?minSupport=0.1&minConfidence=0.5&out=r.ndjson', 'out')).toContain(
      'CLI-only',
    );
    await bad('/v1/basket/rules?minSupport=0.1&minConfidence=0.5&input=/etc/passwd', 'input');
    await bad('/v1/basket/rules?minSupport=0.1&minConfidence=0.5&format=fimi', 'format');
    expect(await bad('/v1/basket/rules?minSupport=0.1&minConfidence=0.5&limit=5', 'limit')).toContain('top');
    await bad('/v1/basket/bundles?by=category', 'by');
    await bad('/v1/basket/bundles?maxSize=4', 'maxSize');
    await bad('/v1/basket/fbt?n=0', 'n');
    await bad('/v1/basket/upsell?defaultExclusions=no', 'defaultExclusions');
    await bad('/v1/basket/upsell?since=yesterday-ish', 'since');
    await bad('/v1/recommendations/evaluation?k=0', 'k');
  });

  it('needs a key holding reports:read (not the support desk agent)', async () => {
    for (const path of [
      '/v1/basket/itemsets?minSupport=0.1',
      '/v1/basket/rules?minSupport=0.1&minConfidence=0.5',
      '/v1/basket/bundles',
      '/v1/basket/fbt',
      '/v1/basket/upsell',
      '/v1/recommendations/evaluation',
    ]) {
      expect((await t.call('GET', path)).status, path).toBe(401);
      expect((await t.call('GET', path, { key: 'rk_nope' })).status, path).toBe(401);
      const agent = await t.call('GET', path, { role: 'agent' });
      expect(agent.status, path).toBe(403);
      expect(agent.json.error.details).toMatchObject({ required: 'reports:read' });
    }
  });
});
