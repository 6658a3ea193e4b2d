import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeWithData } from '../../../test/support/externalData.js';
import { loadOnlineRetail, onlineRetailPath } from '../../../test/support/onlineRetailBaskets.js';
import { AppError } from '../../shared/errors.js';
import { readFimi } from './fimiFile.js';
import { NdjsonWriter } from './ndjson.js';
import {
  BundlesOptions,
  EvaluateOptions,
  FbtOptions,
  ItemsetsOptions,
  RecommendOptions,
  RulesOptions,
  UpsellOptions,
  parseOptions,
} from './schema.js';
import {
  bundlesOf,
  evaluateOf,
  fbtOf,
  itemsetsOf,
  orderTransactions,
  recommendOf,
  rulesOf,
  upsellOf,
  type OrderData,
} from './service.js';

/** What `retain basket itemsets --input FILE [--out FILE]` does: read the file, mine, write NDJSON. */
async function runItemsets(o: ItemsetsOptions) {
  const { db } = await readFimi(o.input!);
  const writer = o.out ? new NdjsonWriter(o.out) : undefined;
  try {
    return itemsetsOf(
      db,
      o,
      writer
        ? (items, count, support) => writer.writeRaw(JSON.stringify({ items, count, support }))
        : undefined,
    );
  } finally {
    writer?.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'retain-basket-'));

describe('options', () => {
  it('name the flag in validation errors', () => {
    const err = (() => {
      try {
        parseOptions(ItemsetsOptions, { minSupport: '0', input: 'x' });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect(err!.where).toEqual({ field: '--min-support' });
    expect(() => parseOptions(RulesOptions, { minSupport: '0.1', minConfidence: '1.5' })).toThrow(
      /confidence must be in \[0, 1\]/,
    );
    expect(() => parseOptions(RulesOptions, { minSupport: '2', minConfidence: '0.5' })).toThrow(/\(0, 1\]/);
  });
});

describe('itemsets and rules from a FIMI file', () => {
  const file = join(dir, 'tiny.dat');
  writeFileSync(file, '1 2 3 \n2 3 5 \n1 2 3 5 \n2 5 \n1 2 3 5 \n');

  it('returns the itemsets contract and writes NDJSON', async () => {
    const out = join(dir, 'itemsets.ndjson');
    const r = await runItemsets(
      parseOptions(ItemsetsOptions, { format: 'fimi', input: file, minSupport: '0.4', out }),
    );
    expect(Object.keys(r)).toEqual(['transactions', 'items', 'itemsets', 'bySize', 'seconds']);
    expect(r).toMatchObject({
      transactions: 5,
      items: 4,
      itemsets: 15,
      bySize: { '1': 4, '2': 6, '3': 4, '4': 1 },
    });
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(15);
    expect(lines).toContainEqual({ items: expect.arrayContaining([1, 2, 3, 5]), count: 2, support: 0.4 });
    const closed = await runItemsets(
      parseOptions(ItemsetsOptions, { input: file, minSupport: '0.4', variant: 'maximal' }),
    );
    expect(closed.itemsets).toBe(1);
  });

  it('returns rules', async () => {
    const o = parseOptions(RulesOptions, { input: file, minSupport: '0.4', minConfidence: '1', top: '2' });
    const r = rulesOf((await readFimi(o.input!)).db, o);
    expect(r.rules).toBeGreaterThan(0);
    expect(r.top).toHaveLength(2);
    for (const rule of r.top) expect(rule.confidence).toBe(1);
  });
});

const describeOnlineRetail = describeWithData(onlineRetailPath());

// End to end over the shipped Online Retail file's orders in memory (the services load them from the store).
describeOnlineRetail('orders in memory (Online Retail)', () => {
  const data = (): OrderData => loadOnlineRetail();
  const runItemsets = async (o: ItemsetsOptions) => itemsetsOf(orderTransactions(data(), o), o);

  it('mines itemsets by SKU and by category without non-product lines', async () => {
    const bySku = await runItemsets(parseOptions(ItemsetsOptions, { minSupport: '0.02' }));
    expect(bySku.transactions).toBe(18402); // 18,532 invoices minus 130 made only of POST/fees
    const byCategory = await runItemsets(
      parseOptions(ItemsetsOptions, { minSupport: '0.05', by: 'category' }),
    );
    expect(byCategory.items).toBeLessThan(bySku.items);
  });

  it('lists bundles, fbt, upsell, recommendations and the evaluation', async () => {
    const bundles = bundlesOf(data(), parseOptions(BundlesOptions, { costRatio: '0.6' }));
    expect(bundles.bundles.length).toBeGreaterThan(0);
    expect(bundles.bundles[0]!.lift).toBeGreaterThanOrEqual(2);
    expect(bundles.bundles.every((b) => !b.skus.includes('POST'))).toBe(true);
    const fbt = fbtOf(data(), parseOptions(FbtOptions, { sku: '85123A' }));
    expect(fbt.fbt[0]!.together).toHaveLength(5);
    const upsell = upsellOf(data(), parseOptions(UpsellOptions, {}));
    expect(upsell.upsell.length).toBeGreaterThan(0);
    expect(upsell.nextProduct.length).toBeGreaterThan(0);
    const rec = recommendOf(data(), parseOptions(RecommendOptions, { customer: '12347', n: '10' }));
    expect(rec.recommendations).toHaveLength(10);
    expect(rec.recommendations.every((r) => r.reasons.length > 0)).toBe(true);
    expect(() => recommendOf(data(), parseOptions(RecommendOptions, { customer: 'nobody' }))).toThrow(
      /no orders/,
    );
    const ev = evaluateOf(data(), parseOptions(EvaluateOptions, {}));
    expect(ev.customers).toBeGreaterThan(2500);
    // The repeat-aware baselines must beat global popularity on this wholesale data.
    expect(ev.methods.personal.recall).toBeGreaterThan(ev.methods.popularity.recall);
    expect(ev.methods.blend.ndcg).toBeGreaterThan(ev.methods.popularity.ndcg);
  });
});
